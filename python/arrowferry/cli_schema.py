"""The schema commands of the command line: ``diff`` (and ``sync``).

Thin clients of the facade (:func:`arrowferry.compare_schemas`), registered on the main
group in :mod:`arrowferry.cli`. Light to import: the engine loads when a command runs.
Exit codes: 0 no difference, 1 differences found, 2 bad input, usage or connection
error (one paragraph on stderr; with --json, the same keys with ``success`` false).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

from arrowferry.errors import EXIT_BAD_INPUT, EXIT_DIFFERENCES, EXIT_OK, ArrowferryError
from arrowferry.urls import mask_url

F = TypeVar("F", bound=Callable[..., Any])

_EMPTY_COMPARISON: dict[str, Any] = {
    "a_dialect": None,
    "b_dialect": None,
    "identical": False,
    "compatible": False,
    "differences": [],
}


def _one_paragraph(text: str) -> str:
    return " ".join(mask_url(text).split())


def comparison_errors(func: F) -> F:
    """An error is one paragraph on stderr and exit 2, never a traceback: a comparison
    that could not be made found no difference either (and, with --json, the
    comparison's keys, empty, with ``success`` false)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArrowferryError as err:
            message = _one_paragraph(err.message)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        if kwargs.get("as_json"):
            failure = {**_EMPTY_COMPARISON, "success": False, "errors": [{"message": message}]}
            click.echo(json.dumps(failure))
        click.echo(f"error: {message}", err=True)
        sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


def parse_renames(items: Sequence[str]) -> dict[str, str]:
    """``--rename OLD=NEW`` items as the ``renames`` mapping (OLD as named in b)."""
    from arrowferry.errors import BadInputError

    renames: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise BadInputError(
                f"--rename {item!r} is not of the form OLD=NEW (for example "
                "old_table=new_table, or table.old_column=new_column)"
            )
        renames[old.strip()] = new.strip()
    return renames


_RENAME_HELP = (
    "A rename given, never guessed, as OLD=NEW with OLD named as in B: a table "
    "(old_table=new_table) or a column (table.old_column=new_column). Repeatable."
)


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help=_RENAME_HELP)
@click.option("--a-schema", default=None, help="PostgreSQL schema to read on A (default public).")
@click.option("--b-schema", default=None, help="PostgreSQL schema to read on B (default public).")
@comparison_errors
def diff_command(
    a: str,
    b: str,
    as_json: bool,
    renames: tuple[str, ...],
    a_schema: str | None,
    b_schema: str | None,
) -> None:
    """Compare schema B with schema A (the desired state), SQLite or PostgreSQL.

    Prints a report grouped by table of each difference: a missing or extra table,
    column, index, foreign key, CHECK or view; a type, nullability, default, key or
    counter that differs.

    A and B are SQLite files or PostgreSQL URLs, in any pair. Types are compared after
    mapping (SQLite INTEGER is PostgreSQL bigint), defaults, CHECKs and views after
    translation. A line marked ! may lose data: rows of A may not all fit in B.
    Exit code 0: no difference; 1: differences; 2: bad input or connection error.
    """
    from arrowferry.api import compare_schemas

    found = compare_schemas(
        a, b, renames=parse_renames(renames), a_schema=a_schema, b_schema=b_schema
    )
    if as_json:
        click.echo(json.dumps({**found.to_dict(), "success": True, "errors": []}, default=str))
    else:
        click.echo(str(found))
    sys.exit(EXIT_OK if found.identical else EXIT_DIFFERENCES)
