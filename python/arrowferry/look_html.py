"""Plans and results as HTML for notebooks (``_repr_html_``): the tables at a glance,
each table's columns one click away, every warning and error said in full."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from arrowferry.wording import plural

if TYPE_CHECKING:
    from arrowferry.result import MigrationResult

_LEFT = ' style="text-align:left"'


def table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    """An HTML table; the columns in ``numeric`` right-aligned, the others left."""
    align = [' style="text-align:right"' if i in numeric else _LEFT for i in range(len(head))]
    top = "".join(f"<th{a}>{escape(h)}</th>" for h, a in zip(head, align, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{a}>{cell}</td>" for cell, a in zip(r, align, strict=True)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _items(title: str, texts: Sequence[str], colour: str) -> str:
    if not texts:
        return ""
    lines = "".join(f"<li>{escape(t)}</li>" for t in texts)
    return f'<p style="color:{colour}"><b>{escape(title)}</b></p><ul>{lines}</ul>'


# --- the plan --------------------------------------------------------------------------


def plan_html(plan: Mapping[str, Any], headline: str | None = None) -> str:
    """The tables (source -> target, rows, columns, lossy columns), then each table's
    columns in a fold (source type -> target type, how read and sent, lossy notes)."""
    tables = plan.get("tables", [])
    schema = plan.get("target_schema")
    rows = sum(t["rows"] for t in tables)
    headline = headline or (
        f"Plan: {plural(len(tables), 'table')}, {plural(rows, 'row')}"
        + (f", into schema {schema}" if schema else "")
    )
    summary = table(
        ("source", "target", "rows", "columns", "lossy columns"),
        (
            (
                escape(t["source"]),
                escape(t["target"]),
                f"{t['rows']:,}",
                len(t["columns"]),
                sum(bool(c["lossy"]) for c in t["columns"]) or "",
            )
            for t in tables
        ),
        numeric={2, 3, 4},
    )
    folds = "".join(_columns_fold(t) for t in tables)
    failed = _items(
        "cannot be migrated",
        [f"{f['table']}: {f['message']}" for f in plan.get("failed", [])],
        "red",
    )
    warnings = _items("warnings", plan.get("warnings", []), "#a60")
    return f"<p><b>{escape(headline)}</b></p>{summary}{folds}{failed}{warnings}"


def _columns_fold(t: Mapping[str, Any]) -> str:
    rows = []
    for c in t["columns"]:
        travel = c.get("travels_as") or ""
        notes = "<br>".join(escape(n) for n in c["lossy"])
        rows.append(
            (
                escape(c["name"]),
                escape(c["source_type"] or "(none)"),
                escape(c["target_type"]),
                escape(c["read_as"]) + (f" &rarr; {escape(travel)}" if travel else ""),
                ("&#9888; " + notes) if notes else "",
            )
        )
    inner = table(
        ("column", "source type", "target type", "read as -> sent as", "may change values"),
        rows,
        set(),
    )
    return (
        f"<details><summary>{escape(t['target'])}: {plural(len(t['columns']), 'column')}"
        f"</summary>{inner}</details>"
    )


# --- a migration's result ----------------------------------------------------------------


def result_html(result: MigrationResult) -> str:
    """A dry run: its plan. A run: the outcome, then every table (rows, seconds, rows/s,
    rejects), the rejects, errors and warnings."""
    if result.dry_run:
        return plan_html(result.plan or {}, "Dry run (nothing was written): " + _planned(result))
    state = "done" if result.success else "finished with errors"
    colour = "green" if result.success else "red"
    headline = (
        f'<p><b style="color:{colour}">{state}</b>: {plural(result.tables_processed, "table")}, '
        f"{plural(result.rows_migrated, 'row')} in {result.duration:.2f} s"
        + (f" into {escape(result.target)}" if result.target else "")
        + "</p>"
    )
    loaded = [
        (
            escape(t.name),
            "loaded",
            f"{t.rows:,}",
            f"{t.seconds:.2f}",
            f"{t.rows_per_second:,.0f}",
            f"{t.rows_rejected:,}" if t.rows_rejected else "",
        )
        for t in sorted(result.tables, key=lambda t: t.name)
    ]
    failed = [
        (escape(e.table or ""), '<span style="color:red">failed</span>', "", "", "", "")
        for e in result.errors
        if e.table is not None
    ]
    skipped = [(escape(n), "not attempted", "", "", "", "") for n in result.not_attempted]
    tables = table(
        ("table", "status", "rows", "seconds", "rows/s", "rejected"),
        loaded + failed + skipped,
        numeric={2, 3, 4, 5},
    )
    rejects = ""
    if result.rejected:
        rejects = "<p><b>rejected values</b></p>" + table(
            ("table", "column", "count", "reject file"),
            (
                (
                    escape(r["table"]),
                    escape(r["column"]),
                    f"{r['count']:,}",
                    escape(result.reject_files.get(r["table"], "")),
                )
                for r in result.rejected
            ),
            numeric={2},
        )
    errors = _items(
        "errors", [f"{e.table or 'the run'}: {e.message}" for e in result.errors], "red"
    )
    return (
        headline
        + tables
        + _incremental(result)
        + rejects
        + errors
        + _items("warnings", result.warnings, "#a60")
    )


def _incremental(result: MigrationResult) -> str:
    """An incremental run: what each table's upsert did, and its new mark."""
    if not result.incremental:
        return ""
    by = {"cursor": "cursor {}", "key": "key", "full": "full refresh", "skipped": "skipped"}

    def count(value: object) -> str:
        return "-" if value is None else f"{value:,}"

    rows = [
        (
            escape(name),
            escape(by.get(done["how"], done["how"]).format(done.get("cursor"))),
            *(
                ("",) * 4
                if done["how"] == "skipped"
                else tuple(
                    count(done.get(k)) for k in ("inserted", "updated", "deleted", "unchanged")
                )
            ),
            escape("" if done.get("mark") is None else str(done["mark"])),
            escape(done.get("reason") or ""),
        )
        for name, done in sorted(result.incremental.items())
    ]
    return "<p><b>incremental</b></p>" + table(
        ("table", "by", "inserted", "updated", "deleted", "unchanged", "mark", "why"),
        rows,
        numeric={2, 3, 4, 5},
    )


def _planned(result: MigrationResult) -> str:
    tables = (result.plan or {}).get("tables", [])
    return f"{plural(len(tables), 'table')}, {plural(sum(t['rows'] for t in tables), 'row')}"
