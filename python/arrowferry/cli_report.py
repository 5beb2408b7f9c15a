"""The command line's human output of a migration: the dry run's plan, the summary,
and the warnings (the --json payload is the result itself). Imported only when a
command runs, as it loads rich."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from arrowferry.result import MigrationError, MigrationResult
from arrowferry.wording import noun, plural


def print_plan(result: MigrationResult) -> None:
    out = Console(highlight=False, soft_wrap=True)
    plan = result.plan or {}
    out.print(
        f"[bold]Plan[/bold] (dry run: nothing was written) -> {result.target or 'the embedded PostgreSQL'}"
    )
    for table in plan.get("tables", []):
        out.print(
            f"\n[bold]{table['source']}[/bold] -> {plan['target_schema']}.{table['target']}: "
            f"{plural(table['rows'], 'row')}"
        )
        for col in table["columns"]:
            held = ", ".join(f"{n:,} {k}" for k, n in col["profile"].items()) or "nothing"
            how = f"holds {held}; " if "read_sql" not in col else ""
            out.print(
                f"  {col['name']}: {col['source_type'] or '(none)'} -> {col['target_type']}"
                f"  [dim]({how}read as {col['read_as']})[/dim]"
            )
            if col["date_forms"]:
                forms = ", ".join(
                    f"{n:,} {k.replace('_', ' ')}" for k, n in col["date_forms"].items()
                )
                out.print(f"    [dim]written as: {forms}[/dim]")
            if col.get("travels_as", "").startswith("exact decimal text"):
                out.print(f"    [dim]travels as {col['travels_as']}[/dim]")
            for note in col["lossy"]:
                out.print(f"    [yellow]may change values:[/yellow] {note}")
            misfits = col.get("misfits")
            if misfits:
                shown = "; ".join(
                    f"{_short(e['value'])}: {e['reason']}" for e in misfits["examples"]
                )
                out.print(
                    f"    [red]would not fit:[/red] {plural(misfits['count'], 'value')}"
                    + (f" (e.g. {escape(shown)})" if shown else "")
                )
        if table.get("left_behind"):
            out.print(
                f"  [yellow]left behind[/yellow] (no column in the target): "
                f"{escape(', '.join(table['left_behind']))}"
            )
        out.print(table["ddl"] + ";", markup=False)
    out.print("\n[bold]Then[/bold]")
    for stmt in plan.get("finish", []):
        out.print(stmt["sql"] + ";", markup=False)
    if plan.get("hooks"):
        from arrowferry.hooks import hooks_text

        out.print("\n[bold]Hooks[/bold]")
        for line in hooks_text(plan):
            out.print(line, markup=False)
    _print_warnings(out, result.warnings)
    for error in result.errors:  # a table that cannot be read is known before any load
        _print_error(out, error)


def _print_error(out: Any, error: MigrationError) -> None:
    where = "" if error.table is None else f" in table {escape(repr(error.table))}"
    out.print(f"[red]error[/red]{where}: {escape(error.message)}", markup=True)


def print_summary(result: MigrationResult, *, embedded_target: bool) -> None:
    out = Console(highlight=False, soft_wrap=True)
    table = Table(title="arrowferry: migration summary")
    for name in ("table", "rows", "seconds", "rows/s"):
        table.add_column(name, justify="left" if name == "table" else "right")
    for t in sorted(result.tables, key=lambda t: t.name):
        table.add_row(t.name, f"{t.rows:,}", f"{t.seconds:.2f}", f"{t.rows_per_second:,.0f}")
    out.print(table)
    s = result.summary
    out.print(
        f"{plural(result.tables_processed, 'table')}, {plural(result.rows_migrated, 'row')} in "
        f"{result.duration:.2f}s; {plural(s.tables_created, 'table')} created, "
        f"{plural(s.indexes_created, 'index')}, {plural(s.constraints_applied, 'constraint')} "
        f"({plural(s.foreign_keys_created, 'foreign key')}), {plural(s.views_created, 'view')}, "
        f"{plural(s.sequences_reset, 'sequence')} reset"
    )
    _print_warnings(out, result.warnings + _ledger_warnings(result))
    if result.rejected:
        out.print(
            f"\n[red]{plural(result.rows_rejected, 'row')} rejected[/red] "
            "(values that cannot be stored exactly):"
        )
        for item in result.rejected:
            out.print(f"  - {item['table']}.{item['column']}: {item['count']:,}", markup=False)
        for name, path in sorted(result.reject_files.items()):
            out.print(f"  {name}: {path}", markup=False)
    for error in result.errors:
        _print_error(out, error)
    if result.not_attempted:
        count = len(result.not_attempted)
        out.print(
            f"[red]{plural(count, 'table')} not attempted[/red] (the run stopped "
            f"at the error; --continue-on-error goes on): {escape(', '.join(result.not_attempted))}",
            markup=True,
        )
    if result.target:  # plain echo: a script must get the URL unwrapped
        click.echo(f"\ntarget: {result.target}")
        if embedded_target:
            click.echo(f"psql:   psql '{result.target}'")


# ledger counts the summary already says: the rejected rows' section, and the result's
# warnings for values stored as NULL or cleaned
_SAID_ELSEWHERE = {"rejected", "nulled", "cleaned"}


def _ledger_warnings(result: MigrationResult) -> list[str]:
    """The ledger in the summary: per column, the counts nothing else in the summary
    says, and a pointer to the full ledger (lossy steps that may apply) in --json / --dry-run."""
    lines = []
    possible = 0
    for entry in result.ledger:
        counts = ", ".join(
            f"{n:,} {k}" for k, n in entry["counts"].items() if n and k not in _SAID_ELSEWHERE
        )
        possible += bool(entry["lossy"])
        if counts:
            notes = "; ".join(entry["lossy"])
            lines.append(
                f"ledger {entry['table']}.{entry['column']} ({entry['source_type'] or 'untyped'} -> "
                f"{entry['target_type']}): {counts}" + (f"; {notes}" if notes else "")
            )
    if possible:
        lines.append(
            f"ledger: {plural(possible, 'column')} {noun(possible, 'has')} conversion steps that "
            "may change a value "
            f"(e.g. REAL into numeric); --dry-run and --json list {noun(possible, 'it', 'them')}"
        )
    return lines


def _print_warnings(out: Any, warnings: list[str]) -> None:
    if warnings:
        out.print(f"\n[yellow]{plural(len(warnings), 'warning')}[/yellow]")
        for text in warnings:
            out.print(f"  - {text}", markup=False)


def _short(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 5]}...{text[-2:]}"
