"""What a run would do to each value, found without writing anything.

A data-only run lands values in types someone else chose, so its dry run (and every
``--strict-schema`` run, before a row moves) reads each table through the same kernels
and bad-value rules the load uses, and counts, per column, the values that would not
fit, with a few examples: the prediction is the load's own verdict, not an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from arrowferry.dialects.base import SourceSession
from arrowferry.errors import ReadTypeChanged, TransferError
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan, TablePlan
from arrowferry.result import MigrationResult
from arrowferry.transfer.rejects import encode
from arrowferry.transfer.transform import Transformer
from arrowferry.urls import Endpoint
from arrowferry.wording import plural

EXAMPLES = 3


@dataclass
class Misfits:
    """One column's values that would not fit, counted, with a few examples."""

    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)  # value, reason


def predict(
    plan: MigrationPlan,
    source: SourceSession,
    options: MigrationOptions,
    source_path: Path | None = None,
) -> dict[str, dict[str, Misfits]]:
    """Per table and target column, the values the run would not store as they are."""
    out: dict[str, dict[str, Misfits]] = {}
    for table in plan.tables:
        if table.native is None:
            out[table.name] = _table(table, source, options, source_path)
    return out


def _table(
    table: TablePlan, source: SourceSession, options: MigrationOptions, path: Path | None
) -> dict[str, Misfits]:
    # a value of a storage class the fast read did not expect: read that column exactly
    for _ in range(2 * len(table.columns) + 1):
        try:
            return _read(table, source, options, path)
        except ReadTypeChanged as err:
            table = table.with_column(err.index, table.columns[err.index].read_as_text())
    raise TransferError(f"table {table.name!r}: gave up after repeated retries", table=table.name)


def _read(
    table: TablePlan, source: SourceSession, options: MigrationOptions, path: Path | None
) -> dict[str, Misfits]:
    # every value through the strict checks: a fast path may leave one to the server's
    # COPY to refuse (JSON), which the load then retries and names, and a prediction cannot
    table = replace(table, columns=tuple(replace(c, validate=True) for c in table.columns))
    transform = Transformer(
        table,
        "reject",
        replace_invalid_utf8=options.replace_invalid_utf8,
        strip_nul=options.strip_nul,
        source=path,
    )
    found: dict[str, Misfits] = {}
    target = {c.source: c.target for c in table.columns}  # problems name source columns
    rows = source.batch_rows(table)
    for piece in source.pieces(table, 1, rows):
        for batch in source.batches(table, piece, rows):
            _, rejected = transform.convert(batch)
            for row in rejected:
                for problem in row.problems:
                    misfits = found.setdefault(target[problem.column], Misfits())
                    if len(misfits.examples) < EXAMPLES:
                        example = {"value": encode(problem.value), "reason": problem.reason}
                        if row.key:
                            example["key"] = {k: encode(v) for k, v in row.key.items()}
                        misfits.examples.append(example)
    for column, count in transform.bad_counts.items():
        found.setdefault(column, Misfits()).count = count
    return {c: m for c, m in found.items() if m.count}


def preflight(
    plan: MigrationPlan,
    source: SourceSession,
    options: MigrationOptions,
    plan_json: dict[str, Any],
    warnings: list[str],
    source_path: Path | None = None,
) -> dict[str, str]:
    """Predict a data-only run into ``plan_json`` (each column's ``misfits``) and
    ``warnings``; with ``strict_schema``, what stops each table (by source name)."""
    found = predict(plan, source, options, source_path)
    stops: dict[str, str] = {}
    for entry, table in zip(plan_json.get("tables", []), plan.tables, strict=True):
        misfits = found.get(table.name, {})
        for col in entry["columns"]:
            m = misfits.get(col["name"])
            if m is not None:
                col["misfits"] = {"count": m.count, "examples": m.examples}
        for column, m in misfits.items():
            example = m.examples[0] if m.examples else None
            shown = (
                f" (e.g. {_short(example['value'])}: {example['reason']})"
                if example is not None
                else ""
            )
            warnings.append(
                f"column {table.name}.{column}: {plural(m.count, 'value')} would not fit "
                f"{table.columns[table.column_index(column)].ddl}{shown}"
            )
        reasons = [f"{plural(m.count, 'value')} of {c} would not fit" for c, m in misfits.items()]
        left = plan.left_behind.get(table.source.name, [])
        if left:
            reasons.append(f"source column(s) {', '.join(left)} have no column to land in")
        if options.strict_schema and reasons:
            stops[table.source.name] = (
                f"--strict-schema: {'; '.join(reasons)}; nothing was written "
                "(--dry-run lists each column's conversion and examples)"
            )
    return stops


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 5]}...{text[-2:]}"


def stops_before_load(
    endpoint: Endpoint, plan: MigrationPlan, options: MigrationOptions, result: MigrationResult
) -> bool:
    """A data-only run, before any row moves: each column's values through its
    conversion (:func:`preflight`), counted where they would not fit, in ``result``;
    True when --strict-schema stops the run (the failing tables and the ones not
    attempted recorded)."""
    from arrowferry.dialects.base import dialect_for

    source = dialect_for(endpoint).open_source(endpoint, options, readers_per_writer=1)
    try:
        path = endpoint.path if endpoint.dialect == "sqlite" else None
        assert result.plan is not None
        stops = preflight(plan, source, options, result.plan, result.warnings, path)
    finally:
        source.close()
    for name, message in stops.items():
        result.table_failed(name, message, fatal=True)
    if stops and not options.dry_run:
        for table in plan.tables:
            if table.source.name not in stops:
                result.table_not_attempted(table.name)
    return bool(stops)
