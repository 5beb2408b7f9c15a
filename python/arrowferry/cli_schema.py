"""The schema commands of the command line: ``sync`` (and ``diff``).

Registered on the main group in :mod:`arrowferry.cli`, one line each. Like the rest of
the command line: payload on stdout, one paragraph of error on stderr, exit codes 0
(printed or applied), 2 (bad input), 3 (a destructive change needed and not allowed).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from arrowferry.errors import EXIT_OK, EXIT_UNSAFE, ArrowferryError, UnsafeChangeError
from arrowferry.urls import mask_url


def _renames(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        old, eq, new = value.partition("=")
        if not eq or not old.strip() or not new.strip():
            raise click.BadParameter(
                f"{value!r}: give OLD=NEW, e.g. users=people or users.mail=email",
                param_hint="--rename",
            )
        out[old.strip()] = new.strip()
    return out


def _fail(err: ArrowferryError, as_json: bool) -> None:
    message = " ".join(mask_url(err.message).split())
    if as_json:
        from arrowferry.sync import SyncResult

        shape = SyncResult("", (), ()).to_dict()
        shape.update(success=False, errors=[{"message": message, "fatal": True}])
        click.echo(json.dumps(shape, default=str))
    click.echo(f"error: {message}", err=True)
    sys.exit(err.exit_code)


@click.command("sync")
@click.argument("desired")
@click.argument("target")
@click.option("--apply", "apply_", is_flag=True, help="Run the statements on TARGET.")
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Include (and with --apply run) statements that drop tables or columns, narrow "
    "a type, or set NOT NULL over NULLs.",
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OLD=NEW",
    help="A rename, never guessed: TARGET's table or table.column OLD is DESIRED's NEW "
    "(repeatable), e.g. --rename users.mail=email.",
)
@click.option(
    "--desired-schema", default=None, help="PostgreSQL schema of DESIRED [default: public]."
)
@click.option(
    "--target-schema", default=None, help="PostgreSQL schema of TARGET [default: public]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def sync(
    desired: str,
    target: str,
    apply_: bool,
    allow_destructive: bool,
    renames: tuple[str, ...],
    desired_schema: str | None,
    target_schema: str | None,
    as_json: bool,
) -> None:
    """Print (or apply) the SQL that makes TARGET's schema match DESIRED's.

    DESIRED is the model, TARGET the database changed: SQLite files or postgresql://
    URLs, in any pair. The SQL is in TARGET's dialect, each statement with why it is
    there. Exit 0 when printed or applied; 3 when a destructive change is needed and
    --allow-destructive is not given (nothing applied; the refused statements are
    listed); 2 on bad input.
    """
    from arrowferry.api import sync_schema

    given = _renames(renames)
    options: dict[str, Any] = dict(
        allow_destructive=allow_destructive,
        renames=given,
        desired_schema=desired_schema,
        target_schema=target_schema,
    )
    try:
        try:
            result = sync_schema(desired, target, apply=apply_, **options)
        except UnsafeChangeError:
            result = sync_schema(desired, target, **options)  # what was refused, to show it
    except ArrowferryError as err:
        _fail(err, as_json)
        return
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "success": result.safe, "errors": []}))
    else:
        click.echo(str(result))
    if not result.safe:
        click.echo(
            "error: destructive changes are needed and were not allowed"
            + ("; nothing was applied" if apply_ else "")
            + " (--allow-destructive includes them)",
            err=True,
        )
        sys.exit(EXIT_UNSAFE)
    sys.exit(EXIT_OK)
