"""The command line: a thin, scriptable client of the facade.

Payload on stdout (a summary table, or one JSON object with --json); progress and
diagnostics on stderr. Exit codes: 0 done, 1 finished with errors, 2 bad input /
usage / connection error, 3 destructive change refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

# Only light modules here (stdlib and click): building the command group and answering
# --help or --version must not load pyarrow, polars, numpy, the ADBC drivers or rich,
# which cost about a second. Each command imports the engine (arrowferry.api) as it runs.
from arrowferry import __version__, embedded
from arrowferry.cli_errors import JSON_SHAPES, handle_errors, json_failure
from arrowferry.cli_schema import diff_command, sync_command
from arrowferry.errors import EXIT_BAD_INPUT, EXIT_DIFFERENCES, EXIT_OK
from arrowferry.options import IDENTIFIER_POLICIES, MigrationOptions

if TYPE_CHECKING:
    from arrowferry.model import Schema

F = TypeVar("F", bound=Callable[..., Any])

# Options of `migrate` that shape only the command line's output; every other option
# is passed to Migration under its own name, the keyword of af.migrate()
CLI_ONLY_OPTIONS = ("as_json", "quiet", "no_progress")


def _inspect_shape() -> dict[str, Any]:
    from dataclasses import asdict

    from arrowferry.model import Schema

    return {**asdict(Schema("", ())), "success": False}


JSON_SHAPES["inspect"] = _inspect_shape


class _Group(click.Group):
    """Usage errors exit 2 (click's own code, matching EXIT_BAD_INPUT); with --json
    anywhere on the command line they also print the failure's JSON object."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:
            _usage_error_json(argv, err)
            raise
        ctx.meta["arrowferry.argv"] = argv
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            _usage_error_json(ctx.meta.get("arrowferry.argv", []), err)
            raise


def _usage_error_json(argv: list[str], err: click.UsageError) -> None:
    if "--json" in argv and not getattr(err, "arrowferry_reported", False):
        err.arrowferry_reported = True  # type: ignore[attr-defined]  # nested groups re-raise it
        command = next((a for a in argv if a in JSON_SHAPES), None)
        json_failure(command, err.format_message())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arrowferry")
def main() -> None:
    """Move whole databases between SQLite and PostgreSQL, fast and exactly."""


@main.command()
@click.argument("source", required=False)
@click.argument("target", required=False)
@click.option(
    "--config",
    metavar="FILE",
    default=None,
    help="A TOML file of settings (source, target, options, type mappings, hooks); "
    "the flags given override it.",
)
@click.option(
    "--schema-only", is_flag=True, help="Create tables, keys, indexes and views; copy no rows."
)
@click.option("--data-only", is_flag=True, help="Copy rows into tables that already exist.")
@click.option(
    "--batch-size",
    type=int,
    default=MigrationOptions.batch_size,
    show_default=True,
    help="Rows per Arrow batch.",
)
@click.option(
    "--batch-bytes",
    type=int,
    default=MigrationOptions.batch_bytes,
    show_default=True,
    help="Arrow bytes per batch, at most (wide rows make smaller batches).",
)
@click.option(
    "--workers", type=int, default=None, help="Tables loaded in parallel [default: cores, max 4]."
)
@click.option(
    "--lanes",
    type=int,
    default=None,
    help="Parallel COPY lanes for one large table, in rowid ranges [default: workers].",
)
@click.option("--drop-tables", is_flag=True, help="Drop target tables of the same names first.")
@click.option(
    "--resume",
    is_flag=True,
    help="Finish an interrupted run: keep what it completed, go on from its last committed "
    "key range.",
)
@click.option(
    "--create-db",
    is_flag=True,
    help="Create the target PostgreSQL database if it does not exist.",
)
@click.option(
    "--continue-on-error", is_flag=True, help="Keep going when a table fails (it is rolled back)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the full plan; connect read-only and write nothing."
)
@click.option(
    "--include",
    multiple=True,
    metavar="PATTERN",
    help="Only these tables (name or glob; repeatable).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Skip these tables (name or glob; repeatable).",
)
@click.option(
    "--type-map",
    multiple=True,
    metavar="KEY=TYPE",
    help="Target type by declared type or table.column, e.g. custom_type=text (repeatable).",
)
@click.option(
    "--transform",
    multiple=True,
    metavar="TABLE.COLUMN=SQL",
    help="Replace a column's values by a SQL expression over the row's columns, run by "
    "Polars on each batch, e.g. users.email=lower(email) (repeatable).",
)
@click.option(
    "--column-map",
    multiple=True,
    metavar="TABLE.SOURCE=TARGET",
    help="--data-only: the target column a source column lands in, when the names differ "
    "(repeatable).",
)
@click.option(
    "--ignore-missing-columns",
    is_flag=True,
    help="--data-only: leave out source columns the target table lacks (with a warning).",
)
@click.option(
    "--rebuild-indexes",
    is_flag=True,
    help="--data-only into PostgreSQL: drop the tables' own indexes for the load and build "
    "them again after it (faster for large loads).",
)
@click.option(
    "--strict-schema",
    is_flag=True,
    help="--data-only: stop before any row moves when a column does not land exactly.",
)
@click.option(
    "--on-bad-value",
    type=click.Choice(["reject", "null", "fail"]),
    default="reject",
    show_default=True,
    help="A value that cannot be stored exactly: send its row to the reject file, store NULL, or stop the table.",
)
@click.option(
    "--size-limits",
    type=click.Choice(["widen", "enforce"]),
    default="widen",
    show_default=True,
    help="Declared sizes SQLite never enforced (varchar(n), numeric(p,s)): widen a column "
    "to what its data needs (with a warning), or keep the size and treat what does not "
    "fit as a bad value (--on-bad-value).",
)
@click.option(
    "--reject-dir",
    default="arrowferry-rejects",
    show_default=True,
    help="Where <table>.jsonl reject files are written.",
)
@click.option("--strip-nul", is_flag=True, help="Drop NUL bytes from text instead of rejecting it.")
@click.option(
    "--replace-invalid-utf8",
    is_flag=True,
    help="Replace invalid UTF-8 in text with U+FFFD instead of rejecting it.",
)
@click.option(
    "--target-schema",
    default="public",
    show_default=True,
    help="PostgreSQL schema to create tables in (SQLite -> PostgreSQL).",
)
@click.option(
    "--source-schema",
    default="public",
    show_default=True,
    help="PostgreSQL schema to read tables from (PostgreSQL -> SQLite).",
)
@click.option("--no-views", is_flag=True, help="Do not translate and create the source's views.")
@click.option(
    "--materialize-views",
    is_flag=True,
    help="PostgreSQL -> SQLite: create each materialized view as a table holding its rows.",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Move only rows changed since the last run into its target, as upserts.",
)
@click.option(
    "--cursor",
    multiple=True,
    help="--incremental: the column marking changed rows (COLUMN, or TABLE=COLUMN; repeatable).",
)
@click.option(
    "--detect-deletes",
    is_flag=True,
    help="--incremental: remove target rows whose keys left the source.",
)
@click.option(
    "--full-refresh",
    multiple=True,
    help="--incremental: a table with neither key nor cursor to copy in full (repeatable).",
)
@click.option(
    "--full-refresh-unkeyed",
    is_flag=True,
    help="--incremental: copy in full every table with neither key nor cursor.",
)
@click.option(
    "--identifiers",
    type=click.Choice(IDENTIFIER_POLICIES),
    default="quote",
    show_default=True,
    help="Names in the target: exactly as in the source (quoted where needed), lower-cased, "
    "or snake_case (OrderDetails -> order_details); views, keys and indexes follow.",
)
@click.option(
    "--text-collation",
    metavar="NAME",
    default="C",
    show_default=True,
    help="SQLite -> PostgreSQL: collation of the text columns created; C compares bytes as "
    "SQLite does, 'default' takes the database's own.",
)
@click.option(
    "--before-sql",
    metavar="FILE",
    default=None,
    help="SQL run on the target in one transaction once it is prepared, before any table loads.",
)
@click.option(
    "--after-sql",
    metavar="FILE",
    default=None,
    help="SQL run on the target in one transaction after every table is finished.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log every SQL statement sent to either database on stderr (also with --json).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Then compare every row and value with the source (as `arrowferry verify`); "
    "a difference makes the run fail (exit 1).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--no-progress",
    is_flag=True,
    help="No progress bars (drawn on stderr when it is a terminal; never with --json).",
)
@handle_errors
def migrate(
    source: str | None,
    target: str | None,
    config: str | None,
    as_json: bool,
    quiet: bool,
    no_progress: bool,
    **options: Any,
) -> None:
    """Migrate SOURCE into TARGET: SQLite and PostgreSQL, either way or each into its own kind.

    SOURCE is a SQLite file (or sqlite:/// URL) or a postgresql:// URL; TARGET a
    postgresql:// URL or a SQLite file (either may come from --config instead). With no
    TARGET, a SQLite source goes into the embedded PostgreSQL, in a database named after
    the source file, and its URL and a ready psql command are printed. A new SQLite file is built under a temporary name and
    appears only when complete. Between two databases of one kind every definition is
    kept as the source wrote it, and every value as it is stored.
    """
    from arrowferry.api import Migration

    if config is not None:  # the file's settings, under the flags given on the command line
        ctx = click.get_current_context()
        options = {
            k: v
            for k, v in options.items()
            if ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT
        }
    # every other option is passed under its own name: the keyword of af.migrate()
    migration = Migration(source, target, config=config, **options)
    dry_run = migration.options.dry_run
    hidden = quiet or no_progress or as_json or dry_run
    migration.progress = not hidden and sys.stderr.isatty()
    if dry_run and config is not None and not as_json:
        click.echo(f"Settings ({config}, with the flags given over it)")
        for line in migration.settings.describe():
            click.echo(f"  {line.replace('[given]', '[command line]')}")
        click.echo()
    result = migration.migrate()
    if as_json:
        click.echo(json.dumps(result.to_dict(), default=str))
    elif result.dry_run:
        from arrowferry.cli_report import print_plan

        print_plan(result)
    else:
        from arrowferry.cli_report import print_summary

        print_summary(result, embedded_target=migration.settings.target is None)
        if migration.verification is not None:
            click.echo(str(migration.verification))
    sys.exit(EXIT_OK if result.success else EXIT_DIFFERENCES)


@main.command()
@click.argument("url")
@click.option("--schema", default="public", show_default=True, help="PostgreSQL schema to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the schema as JSON.")
@handle_errors
def inspect(url: str, schema: str, as_json: bool) -> None:
    """Print the neutral schema of URL (a SQLite file or a PostgreSQL database)."""
    from arrowferry.api import inspect_schema

    found = inspect_schema(url, schema=schema)
    if as_json:
        from dataclasses import asdict

        shape = {**asdict(found), "success": True, "errors": []}  # a failure's shape too
        click.echo(json.dumps(shape, default=str))
        return
    _print_schema(found)


def _print_schema(schema: Schema) -> None:
    for table in schema.tables:
        click.echo(f"table {table.name}")
        for col in table.columns:
            flags = [] if col.nullable else ["NOT NULL"]
            if col.identity:
                flags.append("identity")
            if col.default is not None:
                flags.append(f"default {col.default}")
            if col.collation:
                flags.append(f"collate {col.collation}")
            if col.ordering:
                flags.append(f"(sorts by {col.ordering})")
            click.echo(
                f"  {col.name}: {col.declared or col.type} ({col.type}) {' '.join(flags)}".rstrip()
            )
        if table.primary_key:
            click.echo(f"  primary key ({', '.join(table.primary_key.columns)})")
        for u in table.uniques:
            click.echo(f"  unique ({', '.join(u.columns)})")
        for fk in table.foreign_keys:
            click.echo(
                f"  foreign key ({', '.join(fk.columns)}) -> {fk.ref_table} ({', '.join(fk.ref_columns)})"
                f" on delete {fk.on_delete.lower()} on update {fk.on_update.lower()}"
            )
        for ix in table.indexes:
            keys = ", ".join(k.expression + (" desc" if k.descending else "") for k in ix.keys)
            click.echo(
                f"  {'unique ' if ix.unique else ''}index {ix.name} ({keys})"
                + (f" where {ix.where}" if ix.where else "")
            )
        for check in table.checks:
            click.echo(f"  check ({check.expression})")
    for view in schema.views:
        click.echo(f"view {view.name}")
    for note in schema.notes:
        click.echo(f"note: {note}")


@main.command("map-type")
@click.argument("declared")
@click.option(
    "--from",
    "source",
    help="Dialect of the declared type.",
    default="sqlite",
    show_default=True,
    type=click.Choice(["sqlite", "postgresql"]),
)
@click.option(
    "--to",
    "target",
    help="Dialect to map it into.",
    default="postgresql",
    show_default=True,
    type=click.Choice(["sqlite", "postgresql"]),
)
@handle_errors
def map_type_cmd(declared: str, source: str, target: str) -> None:
    """Print the target type for a DECLARED source type (e.g. 'NVARCHAR(40)')."""
    from arrowferry.api import map_type

    click.echo(map_type(declared, source, target))


@main.group("embedded")
def embedded_group() -> None:
    """Manage the embedded PostgreSQL (the default target)."""


@embedded_group.command("url")
@click.option("--database", default="postgres", show_default=True, help="Database to connect to.")
@handle_errors
def embedded_url(database: str) -> None:
    """Start the embedded PostgreSQL if needed and print its URL."""
    click.echo(embedded.server_url(database))


@embedded_group.command("stop")
@handle_errors
def embedded_stop() -> None:
    """Stop the embedded PostgreSQL (its data stays in ARROWFERRY_HOME)."""
    stopped = embedded.stop()
    click.echo("stopped" if stopped else "not running", err=True)


@embedded_group.command("status")
def embedded_status() -> None:
    """Say whether the embedded PostgreSQL is running, and where its data lives."""
    state = "running" if embedded.is_running() else "stopped"
    click.echo(f"{state} (data: {embedded.data_dir()})")


main.add_command(diff_command)
main.add_command(sync_command)
from arrowferry import cli_verify  # noqa: E402, F401  (registers `arrowferry verify`)

if __name__ == "__main__":  # pragma: no cover
    main()

_ = EXIT_BAD_INPUT  # exit codes are documented above; click's usage errors exit 2 too
