"""Results to look at: each outcome as polars DataFrames, one per natural table.

``to_polars()`` of a plan, a migration result, a schema comparison and a sync result
returns a ``dict`` of name -> :class:`polars.DataFrame` (a dict, so a notebook can loop
over it, pick one by name, or hand them all to ``pl.SQLContext``). Every frame has its
columns and types even when it has no rows, so a filter written today still runs on
a clean result tomorrow. The frames are built from the objects' JSON forms
(``to_dict``), which are the same for every pair of databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from arrowferry.errors import ArrowferryError

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure

    from arrowferry.checksum.report import VerificationReport
    from arrowferry.diff import SchemaComparison
    from arrowferry.result import MigrationResult
    from arrowferry.sync import SyncResult

Frames = dict[str, "pl.DataFrame"]


class MissingDependencyError(ArrowferryError, ImportError):
    """An optional feature's package is not installed; the message names the extra."""


def _frame(rows: Iterable[Mapping[str, Any]], schema: Mapping[str, Any]) -> pl.DataFrame:
    """Rows (dicts) into a frame of exactly ``schema``'s columns and types."""
    import polars as pl

    listed = [{name: row.get(name) for name in schema} for row in rows]
    return pl.DataFrame(listed, schema=dict(schema), orient="row")


def _text(value: object) -> str | None:
    """A mark as text: a cursor's value may be a number, a timestamp or text."""
    return None if value is None else str(value)


def _schemas() -> dict[str, dict[str, Any]]:
    import polars as pl

    text, count, flag, notes = pl.String, pl.Int64, pl.Boolean, pl.List(pl.String)
    return {
        "plan_tables": {
            "table": text,
            "source": text,
            "rows": count,
            "columns": count,
            "lossy_columns": count,
            "left_behind": notes,
            "error": text,
            "ddl": text,
        },
        "plan_columns": {
            "table": text,
            "column": text,
            "source_column": text,
            "source_type": text,
            "target_type": text,
            "read_as": text,
            "travels_as": text,
            "lossy": flag,
            "lossy_notes": notes,
        },
        "finish": {"kind": text, "table": text, "sql": text},
        "tables": {
            "table": text,
            "status": text,
            "rows": count,
            "seconds": pl.Float64,
            "rows_per_second": pl.Float64,
            "rows_read": count,
            "rows_rejected": count,
            "error": text,
        },
        "columns": {
            "table": text,
            "column": text,
            "source_type": text,
            "target_type": text,
            "read_as": text,
            "conversion": text,
            "lossy": flag,
            "lossy_notes": notes,
            "rejected": count,
            "nulled": count,
            "cleaned": count,
        },
        "rejects": {"table": text, "column": text, "count": count, "reject_file": text},
        "warnings": {"message": text},
        "errors": {"table": text, "message": text, "fatal": flag},
        "phases": {"phase": text, "seconds": pl.Float64},
        # an incremental run: per table how it was followed, what its upsert did, its marks
        "incremental": {
            "table": text,
            "how": text,
            "cursor": text,
            "inserted": count,
            "updated": count,
            "deleted": count,  # null: not looked for
            "unchanged": count,
            "mark": text,
            "previous_mark": text,
            "reason": text,
            "deletes_seconds": pl.Float64,  # finding and deleting the keys that left
            "merge_seconds": pl.Float64,  # the staged rows into place, and the commit
        },
        "differences": {
            "table": text,
            "kind": text,
            "name": text,
            "lossless": flag,
            "detail": text,
            "a_sql": text,
            "b_sql": text,
        },
        "statements": {
            "number": count,
            "table": text,
            "column": text,
            "sql": text,
            "destructive": flag,
            "refused": flag,
            "reason": text,
        },
    }


# --- the plan ------------------------------------------------------------------------------


def plan_frames(plan: Mapping[str, Any]) -> Frames:
    """A plan's JSON form (``MigrationPlan.to_dict()``, ``MigrationResult.plan``) as
    ``tables``, ``columns`` (source type, target type, how it is read and sent, lossy
    flags) and ``finish`` (the statements after the load)."""
    schemas = _schemas()
    tables, columns = [], []
    for t in plan.get("tables", []):
        cols = t["columns"]
        tables.append(
            {
                "table": t["target"],
                "source": t["source"],
                "rows": t["rows"],
                "columns": len(cols),
                "lossy_columns": sum(bool(c["lossy"]) for c in cols),
                "left_behind": list(t.get("left_behind", [])),
                "ddl": t["ddl"],
            }
        )
        for c in cols:
            columns.append(
                {
                    "table": t["target"],
                    "column": c["name"],
                    "source_column": c.get("source", c["name"]),
                    "source_type": c["source_type"],
                    "target_type": c["target_type"],
                    "read_as": c["read_as"],
                    "travels_as": c.get("travels_as"),
                    "lossy": bool(c["lossy"]),
                    "lossy_notes": list(c["lossy"]),
                }
            )
    tables += [
        {"table": f["table"], "source": f["table"], "error": f["message"], "left_behind": []}
        for f in plan.get("failed", [])
    ]
    return {
        "tables": _frame(tables, schemas["plan_tables"]),
        "columns": _frame(columns, schemas["plan_columns"]),
        "finish": _frame(plan.get("finish", []), schemas["finish"]),
    }


# --- a migration's result --------------------------------------------------------------------


def result_frames(result: MigrationResult) -> Frames:
    """``tables`` (every table: loaded, failed or not attempted, with rows, seconds,
    rows/s, rejects), ``columns`` (the ledger: conversion, lossy flags, counts),
    ``rejects``, ``warnings``, ``errors``, ``phases``, and the plan's ``plan_tables``,
    ``plan_columns`` and ``plan_finish``."""
    schemas = _schemas()
    rows: list[dict[str, Any]] = [
        {**t.to_dict(), "table": t.name, "status": "loaded"} for t in result.tables
    ]
    rows += [
        {"table": e.table, "status": "failed", "error": e.message}
        for e in result.errors
        if e.table is not None
    ]
    rows += [{"table": name, "status": "not attempted"} for name in result.not_attempted]
    ledger = [
        {
            **entry,
            "lossy": bool(entry["lossy"]),
            "lossy_notes": list(entry["lossy"]),
            **{k: entry["counts"].get(k) for k in ("rejected", "nulled", "cleaned")},
        }
        for entry in result.ledger
    ]
    rejects = [
        {**item, "reject_file": result.reject_files.get(item["table"])} for item in result.rejected
    ]
    frames = {
        "tables": _frame(sorted(rows, key=lambda r: r["table"] or ""), schemas["tables"]),
        "columns": _frame(sorted(ledger, key=lambda r: r["table"]), schemas["columns"]),
        "rejects": _frame(rejects, schemas["rejects"]),
        "warnings": _frame(({"message": w} for w in result.warnings), schemas["warnings"]),
        "errors": _frame((vars(e) for e in result.errors), schemas["errors"]),
        "phases": _frame(
            ({"phase": k, "seconds": v} for k, v in result.phases.items()), schemas["phases"]
        ),
        "incremental": _frame(
            (
                {
                    "table": name,
                    **done,
                    **{k: _text(done.get(k)) for k in ("mark", "previous_mark")},
                    **{f"{k}_seconds": v for k, v in done.get("seconds", {}).items()},
                }
                for name, done in sorted(result.incremental.items())
            ),
            schemas["incremental"],
        ),
    }
    plan = plan_frames(result.plan or {})
    return frames | {f"plan_{name}": frame for name, frame in plan.items()}


def plot_result(result: MigrationResult) -> Figure:
    """Seconds and rows per second of each loaded table (:mod:`arrowferry.look_plot`)."""
    try:
        from arrowferry.look_plot import draw
    except ImportError as err:
        if not (err.name or "").startswith("matplotlib"):
            raise
        raise MissingDependencyError(
            "MigrationResult.plot() draws with matplotlib, which is not installed: "
            "pip install 'arrowferry[plot]'"
        ) from None
    return draw(result)


# --- schema comparison and sync --------------------------------------------------------------


def comparison_frames(comparison: SchemaComparison) -> Frames:
    """``differences``: table, kind, name, lossless, detail and each side's SQL."""
    found = [
        {
            k: getattr(d, k)
            for k in ("table", "kind", "name", "lossless", "detail", "a_sql", "b_sql")
        }
        for d in comparison.differences
    ]
    return {"differences": _frame(found, _schemas()["differences"])}


def verification_frames(report: VerificationReport) -> Frames:
    """``tables``: per table its counts and what differs; ``examples``: one row per
    differing value (or missing/extra row), key and both values as text."""
    import json

    tables = [
        {
            "table": t.source,
            "target": t.target,
            "ok": t.ok,
            "source_rows": t.source_rows,
            "target_rows": t.target_rows,
            "rejected_rows": t.rejected_rows,
            "missing_rows": t.missing_rows,
            "extra_rows": t.extra_rows,
            "changed_rows": t.changed_rows,
            "columns": list(t.columns),
            "problem": t.problem,
            "seconds": t.seconds,
        }
        for t in report.tables
    ]

    def shown(value: Any) -> str | None:
        return None if value is None else json.dumps(value, default=str)

    examples = []
    for t in report.tables:
        for e in t.examples:
            key = json.dumps(e.key, default=str)
            if e.columns:
                examples += [
                    {
                        "table": t.source,
                        "kind": e.kind,
                        "key": key,
                        "column": c,
                        "source": shown(a),
                        "target": shown(b),
                    }
                    for c, (a, b) in e.columns.items()
                ]
            else:
                row = shown(e.row)
                examples.append(
                    {
                        "table": t.source,
                        "kind": e.kind,
                        "key": key,
                        "column": None,
                        "source": row if e.kind == "missing" else None,
                        "target": row if e.kind != "missing" else None,
                    }
                )
    text, count, flag = _types()
    return {
        "tables": _frame(
            tables,
            {
                "table": text,
                "target": text,
                "ok": flag,
                "source_rows": count,
                "target_rows": count,
                "rejected_rows": count,
                "missing_rows": count,
                "extra_rows": count,
                "changed_rows": count,
                "columns": _list_of_text(),
                "problem": text,
                "seconds": _float(),
            },
        ),
        "examples": _frame(
            examples,
            {
                "table": text,
                "kind": text,
                "key": text,
                "column": text,
                "source": text,
                "target": text,
            },
        ),
    }


def _types() -> tuple[Any, Any, Any]:
    import polars as pl

    return pl.String, pl.Int64, pl.Boolean


def _list_of_text() -> Any:
    import polars as pl

    return pl.List(pl.String)


def _float() -> Any:
    import polars as pl

    return pl.Float64


def sync_frames(result: SyncResult) -> Frames:
    """``statements``: in order, with their table, SQL, destructive flag and reason;
    the refused destructive ones last (``refused`` true, no number)."""
    rows = [_statement(i, s, refused=False) for i, s in enumerate(result.statements, 1)]
    rows += [_statement(None, s, refused=True) for s in result.refused]
    return {"statements": _frame(rows, _schemas()["statements"])}


def _statement(number: int | None, s: Any, *, refused: bool) -> dict[str, Any]:
    return {
        "number": number,
        "table": s.table,
        "column": s.column,
        "sql": s.sql,
        "destructive": s.destructive,
        "refused": refused,
        "reason": s.reason,
    }
