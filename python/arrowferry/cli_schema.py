"""The schema commands of the command line: ``diff`` and ``sync``.

Thin clients of the facade (:func:`arrowferry.compare_schemas`,
:func:`arrowferry.sync_schema`), registered on the main group in :mod:`arrowferry.cli`.
Light to import: the engine loads when a command runs. Exit codes of ``diff``: 0 no
difference, 1 differences found, 2 bad input, usage or connection error (one paragraph
on stderr; with --json, the same keys with ``success`` false); of ``sync``: 0 printed or
applied, 2 bad input, 3 a destructive change needed and not allowed (nothing applied).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from arrowferry.cli_errors import JSON_SHAPES, handle_errors, handle_errors_exiting
from arrowferry.errors import (
    EXIT_BAD_INPUT,
    EXIT_DIFFERENCES,
    EXIT_OK,
    EXIT_UNSAFE,
    UnsafeChangeError,
)
from arrowferry.options import IDENTIFIER_POLICIES

F = TypeVar("F", bound=Callable[..., Any])

_EMPTY_COMPARISON: dict[str, Any] = {
    "a_dialect": None,
    "b_dialect": None,
    "identical": False,
    "compatible": False,
    "differences": [],
}


def _empty_comparison() -> dict[str, Any]:
    return dict(_EMPTY_COMPARISON)


def _empty_sync() -> dict[str, Any]:
    from arrowferry.sync import SyncResult

    return SyncResult("", (), ()).to_dict()


JSON_SHAPES["diff"] = _empty_comparison
JSON_SHAPES["sync"] = _empty_sync


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
_CONFIG_HELP = (
    "A migration's TOML file: its source and target are the two databases when not "
    "given, with its renames, schemas and identifiers (flags override it)."
)
_IDENTIFIERS_HELP = (
    "Compare with the first database's names as a migration with --identifiers made "
    "them (lower, snake_case) [default: quote, as they are]."
)


@click.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help=_RENAME_HELP)
@click.option("--a-schema", default=None, help="PostgreSQL schema to read on A (default public).")
@click.option("--b-schema", default=None, help="PostgreSQL schema to read on B (default public).")
@click.option("--config", metavar="FILE", default=None, help=_CONFIG_HELP)
@click.option(
    "--identifiers",
    type=click.Choice(IDENTIFIER_POLICIES),
    default=None,
    help=_IDENTIFIERS_HELP,
)
@handle_errors_exiting(EXIT_BAD_INPUT)
def diff_command(
    a: str | None,
    b: str | None,
    as_json: bool,
    renames: tuple[str, ...],
    a_schema: str | None,
    b_schema: str | None,
    config: str | None,
    identifiers: str | None,
) -> None:
    """Compare schema B with schema A (the desired state), SQLite or PostgreSQL.

    Prints a report grouped by table of each difference: a missing or extra table,
    column, index, foreign key, CHECK or view; a type, nullability, default, key or
    counter that differs.

    A and B are SQLite files or PostgreSQL URLs, in any pair (without B, a SQLite A is
    compared with the embedded database `arrowferry migrate A` made). Types are compared after
    mapping (SQLite INTEGER is PostgreSQL bigint), defaults, CHECKs and views after
    translation. A line marked ! may lose data: rows of A may not all fit in B.
    Exit code 0: no difference; 1: differences; 2: bad input or connection error.
    """
    from arrowferry.api import compare_schemas
    from arrowferry.config import schema_sides

    sides = schema_sides(
        config,
        a,
        b,
        renames=parse_renames(renames),
        a_schema=a_schema,
        b_schema=b_schema,
        identifiers=identifiers,
    )
    found = compare_schemas(
        sides.a,
        sides.b,
        renames=sides.renames,
        a_schema=sides.a_schema,
        b_schema=sides.b_schema,
        identifiers=sides.identifiers,
    )
    if as_json:
        click.echo(json.dumps({**found.to_dict(), "success": True, "errors": []}, default=str))
    else:
        click.echo(str(found))
    sys.exit(EXIT_OK if found.identical else EXIT_DIFFERENCES)


@click.command("sync")
@click.argument("desired", required=False)
@click.argument("target", required=False)
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
    help="A rename given, never guessed, as OLD=NEW with OLD named as in TARGET: a table "
    "(old_table=new_table) or a column (table.old_column=new_column). Repeatable.",
)
@click.option(
    "--desired-schema", default=None, help="PostgreSQL schema of DESIRED [default: public]."
)
@click.option(
    "--target-schema", default=None, help="PostgreSQL schema of TARGET [default: public]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--config", metavar="FILE", default=None, help=_CONFIG_HELP)
@click.option(
    "--identifiers",
    type=click.Choice(IDENTIFIER_POLICIES),
    default=None,
    help=_IDENTIFIERS_HELP,
)
@click.option(
    "--text-collation",
    default=None,
    metavar="C|default|NAME",
    help="SQLite -> PostgreSQL: the collation of text columns added or changed so they "
    "compare as SQLite's do; C (default) compares bytes, default leaves the database's own "
    "(as migrate --text-collation default made them).",
)
@handle_errors
def sync_command(
    desired: str | None,
    target: str | None,
    apply_: bool,
    allow_destructive: bool,
    renames: tuple[str, ...],
    desired_schema: str | None,
    target_schema: str | None,
    as_json: bool,
    config: str | None,
    identifiers: str | None,
    text_collation: str | None,
) -> None:
    """Print (or apply) the SQL that makes TARGET's schema match DESIRED's.

    DESIRED is the model, TARGET the database changed: SQLite files or postgresql://
    URLs, in any pair (without TARGET, a SQLite DESIRED's embedded database, as for
    migrate). The SQL is in TARGET's dialect, each statement with why it is
    there. Exit 0 when printed or applied; 3 when a destructive change is needed and
    --allow-destructive is not given (nothing applied; the refused statements are
    listed); 2 on bad input.
    """
    from arrowferry.api import sync_schema
    from arrowferry.config import schema_sides

    sides = schema_sides(
        config,
        desired,
        target,
        renames=parse_renames(renames),
        a_schema=desired_schema,
        b_schema=target_schema,
        identifiers=identifiers,
    )
    options: dict[str, Any] = dict(
        allow_destructive=allow_destructive,
        desired_schema=sides.a_schema,
        target_schema=sides.b_schema,
        renames=sides.renames,
        identifiers=sides.identifiers,
        text_collation=text_collation or sides.text_collation,
    )
    try:
        result = sync_schema(sides.a, sides.b, apply=apply_, **options)
    except UnsafeChangeError:
        result = sync_schema(sides.a, sides.b, **options)  # what was refused, to show it
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
