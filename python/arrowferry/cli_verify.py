"""``arrowferry verify A B``: prove a copy right, from the command line.

Registered on the command group by :mod:`arrowferry.cli` (one import line there). Like
every command, it imports the engine only when it runs. Exit codes: 0 every table
matches, 1 a table differs (or cannot be compared), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from arrowferry.cli import main
from arrowferry.cli_errors import JSON_SHAPES, handle_errors
from arrowferry.errors import EXIT_DIFFERENCES, EXIT_OK
from arrowferry.options import IDENTIFIER_POLICIES


def _failed_report() -> dict[str, Any]:
    """The report's keys, empty, for a --json run that failed before comparing."""
    from arrowferry.checksum.report import VerificationReport

    return {**VerificationReport("", "").to_dict(), "ok": False, "success": False}


JSON_SHAPES["verify"] = _failed_report


@main.command("verify")
@click.argument("source")
@click.argument("target", required=False)
@click.option(
    "--tables",
    multiple=True,
    metavar="PATTERN",
    help="Only these source tables (name or glob; repeatable) [default: all].",
)
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Differing rows to show per table, with the key and both values.",
)
@click.option(
    "--source-schema", default="public", show_default=True, help="PostgreSQL schema of SOURCE."
)
@click.option(
    "--target-schema", default="public", show_default=True, help="PostgreSQL schema of TARGET."
)
@click.option(
    "--reject-dir",
    default="arrowferry-rejects",
    show_default=True,
    help="The migration's reject files: rows they hold are accounted for, not reported missing.",
)
@click.option(
    "--on-bad-value",
    type=click.Choice(["reject", "null", "fail"]),
    default="reject",
    show_default=True,
    help="What the migration did with values it could not store (null: they match a NULL).",
)
@click.option(
    "--exclude-column",
    "exclude_columns",
    multiple=True,
    metavar="TABLE.COLUMN",
    help="Leave a column out of the comparison, e.g. one a --transform changed (repeatable).",
)
@click.option(
    "--identifiers",
    type=click.Choice(IDENTIFIER_POLICIES),
    default="quote",
    show_default=True,
    help="The migration's --identifiers: how SOURCE's names are spelled in TARGET.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@handle_errors
def verify_cmd(
    source: str,
    target: str | None,
    tables: tuple[str, ...],
    examples: int,
    source_schema: str,
    target_schema: str,
    reject_dir: str,
    on_bad_value: str,
    exclude_columns: tuple[str, ...],
    identifiers: str,
    as_json: bool,
) -> None:
    """Compare every row and value of SOURCE with its copy TARGET.

    Without TARGET, a SQLite SOURCE is compared with the embedded PostgreSQL database
    `arrowferry migrate SOURCE` made.

    Per table: row counts, and a checksum of every value in a form both databases share
    (a SQLite 0/1 and the boolean it became hash alike), computed by PostgreSQL itself
    and, for SQLite, by the client. A difference names the columns that differ and shows
    example keys with both values. Exit status 0 when everything matches, 1 otherwise.
    """
    from arrowferry.verify import verify

    if target is None:  # the embedded database `arrowferry migrate SOURCE` made
        from arrowferry.embedded import default_target

        target = default_target(source)
    report = verify(
        source,
        target,
        tables or None,
        examples=examples,
        source_schema=source_schema,
        target_schema=target_schema,
        reject_dir=reject_dir,
        on_bad_value=on_bad_value,
        exclude_columns=exclude_columns,
        identifiers=identifiers,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), default=str))
    else:
        click.echo(str(report))
    sys.exit(EXIT_OK if report.ok else EXIT_DIFFERENCES)
