"""Read a planned table from SQLite as Arrow batches with fixed, planned types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from arrowferry.dialects import sqlite
from arrowferry.errors import ReadTypeChanged
from arrowferry.plan import TablePlan


def read_table(path: Path, plan: TablePlan, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Batches of ``plan``'s table: column ``c{i}`` is the i-th planned column, as read."""
    sql = sqlite.read_sql(
        plan.source.name,
        [(c.source, c.read_as, c.cast) for c in plan.columns],
        with_rowid=plan.with_rowid,
    )
    # result position -> planned column (a numeric read takes two positions)
    positions = [-1] if plan.with_rowid else []
    for i, col in enumerate(plan.columns):
        positions += [i, i] if col.read_as == "numeric" else [i]
    try:
        yield from sqlite.read_batches(path, sql, batch_size)
    except ReadTypeChanged as err:
        raise ReadTypeChanged(plan.source.name, positions[err.index], str(err)) from err
