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
    offset = 1 if plan.with_rowid else 0
    try:
        yield from sqlite.read_batches(path, sql, batch_size)
    except ReadTypeChanged as err:
        raise ReadTypeChanged(plan.source.name, err.index - offset, str(err)) from err


def row_ids(batch: pa.RecordBatch, plan: TablePlan) -> pa.Array | None:
    """The rowids of a batch (to name the row of a bad value), if the table has them."""
    if plan.with_rowid:
        return batch.column(0)
    return None
