"""How every command of the command line ends when something goes wrong.

One paragraph on stderr (driver messages often span lines; every URL's password
masked) and the error's exit code; with ``--json``, the command's own JSON shape,
empty, with ``success`` false and the error in ``errors`` (each command registers its
shape in :data:`JSON_SHAPES`), so a script always reads one object of the keys it knows.
A bug shows its traceback, masked, and exits 1. Light to import: stdlib and click.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from arrowferry.errors import EXIT_DIFFERENCES, ArrowferryError
from arrowferry.urls import mask_url

F = TypeVar("F", bound=Callable[..., Any])


def _migration_shape() -> dict[str, Any]:
    from arrowferry.result import MigrationResult

    return MigrationResult(success=False).to_dict()


# command name -> its --json output, empty (the default: a migration's result)
JSON_SHAPES: dict[str, Callable[[], dict[str, Any]]] = {"migrate": _migration_shape}


def one_paragraph(text: str) -> str:
    return " ".join(mask_url(text).split())


def say_error(text: str) -> None:
    click.echo(f"error: {one_paragraph(text)}", err=True)


def json_failure(command: str | None, message: str, table: str | None = None) -> None:
    """The JSON a --json run prints however it ends: the keys of its normal output,
    empty, with ``success`` false and the error in ``errors``."""
    error = {"table": table, "message": one_paragraph(message), "fatal": True}
    shape = JSON_SHAPES.get(command or "", _migration_shape)()
    shape["success"] = False
    shape["errors"] = [error]
    click.echo(json.dumps(shape, default=str))


def command_name() -> str | None:
    ctx = click.get_current_context(silent=True)
    return ctx.info_name if ctx is not None else None


def handle_errors(func: F) -> F:
    """Turn every arrowferry error into one paragraph on stderr and its exit code
    (and, with --json, the failure's JSON object on stdout)."""
    return _handled(func, None)


def handle_errors_exiting(code: int) -> Callable[[F], F]:
    """:func:`handle_errors` with one exit code for every error: a command whose exit 1
    means "differences found" must not say it for a comparison that could not be made."""
    return lambda func: _handled(func, code)


def _handled(func: F, exit_code: int | None) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArrowferryError as err:
            if kwargs.get("as_json"):
                json_failure(command_name(), err.message, getattr(err, "table", None))
            say_error(err.message)
            sys.exit(err.exit_code if exit_code is None else exit_code)
        except KeyboardInterrupt:
            message = "interrupted; tables that were loading were rolled back"
            if kwargs.get("as_json"):
                json_failure(command_name(), message)
            say_error(message)
            sys.exit(130)
        except Exception as err:  # a bug: shown whole, every URL's password masked
            import traceback

            shown = mask_url("".join(traceback.format_exception(err)))
            message = (
                f"internal error ({type(err).__name__}): a bug in arrowferry; please report it"
            )
            if kwargs.get("as_json"):
                json_failure(command_name(), message)
            click.echo(shown, err=True, nl=False)
            say_error(message + " with the traceback above")
            sys.exit(EXIT_DIFFERENCES if exit_code is None else exit_code)

    return wrapper  # type: ignore[return-value]
