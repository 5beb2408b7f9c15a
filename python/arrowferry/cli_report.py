"""The command line's human output of a migration: the dry run's plan, the summary,
and the warnings (the --json payload is the result itself). Imported only when a
command runs, as it loads rich."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from arrowferry.result import MigrationResult
from arrowferry.wording import noun, plural

# Names, types, URLs and messages come from the user's databases, so none is ever read as
# rich markup: each is printed as a Text (styles attached, nothing parsed). Through markup,
# '[/x]' in a table name is a closing tag with nothing to close (MarkupError, after the data
# is written) and '[bold]x[/]' prints as 'x'; escape() would still double a trailing '\\'.
# No emoji codes either: a plain string's ':smile:' would print as an emoji.


def _line(*parts: str | tuple[str, str]) -> Text:
    """One line of plain and (text, style) parts, none of it markup."""
    return Text.assemble(*parts)


def print_plan(result: MigrationResult) -> None:
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    plan = result.plan or {}
    target = result.target or "the embedded PostgreSQL"
    out.print(_line(("Plan", "bold"), f" (dry run: nothing was written) -> {target}"))
    for table in plan.get("tables", []):
        out.print(
            _line(
                "\n",
                (table["source"], "bold"),
                f" -> {plan['target_schema']}.{table['target']}: {plural(table['rows'], 'row')}",
            )
        )
        for col in table["columns"]:
            held = ", ".join(f"{n:,} {k}" for k, n in col["profile"].items()) or "nothing"
            how = f"holds {held}; " if "read_sql" not in col else ""
            out.print(
                _line(
                    f"  {col['name']}: {col['source_type'] or '(none)'} -> {col['target_type']}  ",
                    (f"({how}read as {col['read_as']})", "dim"),
                )
            )
            if col["date_forms"]:
                forms = ", ".join(
                    f"{n:,} {k.replace('_', ' ')}" for k, n in col["date_forms"].items()
                )
                out.print(_line(("    written as: " + forms, "dim")))
            if col.get("travels_as", "").startswith("exact decimal text"):
                out.print(_line((f"    travels as {col['travels_as']}", "dim")))
            for note in col["lossy"]:
                out.print(_line("    ", ("may change values:", "yellow"), f" {note}"))
            misfits = col.get("misfits")
            if misfits:
                shown = "; ".join(
                    f"{_short(e['value'])}: {e['reason']}" for e in misfits["examples"]
                )
                out.print(
                    _line(
                        "    ",
                        ("would not fit:", "red"),
                        f" {plural(misfits['count'], 'value')}"
                        + (f" (e.g. {shown})" if shown else ""),
                    )
                )
        if table.get("left_behind"):
            out.print(
                _line(
                    "  ",
                    ("left behind", "yellow"),
                    " (no column in the target): " + ", ".join(table["left_behind"]),
                )
            )
        out.print(table["ddl"] + ";", markup=False)
    out.print(_line("\n", ("Then", "bold")))
    for stmt in plan.get("finish", []):
        out.print(stmt["sql"] + ";", markup=False)
    if plan.get("hooks"):
        from arrowferry.hooks import hooks_text

        out.print(_line("\n", ("Hooks", "bold")))
        for line in hooks_text(plan):
            out.print(line, markup=False)
    _print_warnings(out, result.warnings)
    _print_errors(out, result)  # a table that cannot be read is known before any load


def print_summary(result: MigrationResult, *, embedded_target: bool) -> None:
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    table = Table(title="arrowferry: migration summary")
    for name in ("table", "rows", "seconds", "rows/s"):
        table.add_column(name, justify="left" if name == "table" else "right")
    for t in sorted(result.tables, key=lambda t: t.name):
        table.add_row(Text(t.name), f"{t.rows:,}", f"{t.seconds:.2f}", f"{t.rows_per_second:,.0f}")
    out.print(table)
    if result.incremental:
        _print_incremental(out, result)
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
            _line(
                "\n",
                (f"{plural(result.rows_rejected, 'row')} rejected", "red"),
                " (values that cannot be stored exactly):",
            )
        )
        for item in result.rejected:
            out.print(f"  - {item['table']}.{item['column']}: {item['count']:,}", markup=False)
        for name, path in sorted(result.reject_files.items()):
            out.print(f"  {name}: {path}", markup=False)
    _print_errors(out, result)
    if result.not_attempted:
        count = len(result.not_attempted)
        out.print(
            _line(
                (f"{plural(count, 'table')} not attempted", "red"),
                " (the run stopped at the error; --continue-on-error goes on): "
                + ", ".join(result.not_attempted),
            )
        )
    if result.target:  # plain echo: a script must get the URL unwrapped
        click.echo(f"\ntarget: {result.target}")
        if embedded_target:
            click.echo(f"psql:   psql '{result.target}'")


def _print_incremental(out: Console, result: MigrationResult) -> None:
    """An incremental run: what each table's upsert did, and its new mark."""
    table = Table(title="incremental")
    for name in ("table", "by", "inserted", "updated", "deleted", "unchanged", "mark"):
        table.add_column(name, justify="right" if name not in ("table", "by", "mark") else "left")
    for name, done in sorted(result.incremental.items()):
        if done["how"] == "skipped":
            table.add_row(Text(name), "skipped", "", "", "", "", "")
            continue
        by = {"cursor": f"cursor {done['cursor']}", "key": "key", "full": "full refresh"}
        counts = [done[k] for k in ("inserted", "updated", "deleted", "unchanged")]
        table.add_row(
            Text(name),
            Text(by.get(done["how"], done["how"])),
            *("-" if n is None else f"{n:,}" for n in counts),
            Text("" if done["mark"] is None else str(done["mark"])),
        )
    out.print(table)


def _print_errors(out: Console, result: MigrationResult) -> None:
    for error in result.errors:
        where = "" if error.table is None else f" in table {error.table!r}"  # None: the run's
        out.print(_line(("error", "red"), f"{where}: {error.message}"))


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
        possible += bool(entry["lossy"]) and not entry.get("settled")
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
        out.print(_line("\n", (plural(len(warnings), "warning"), "yellow")))
        for text in warnings:
            out.print(f"  - {text}", markup=False)


def _short(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 5]}...{text[-2:]}"
