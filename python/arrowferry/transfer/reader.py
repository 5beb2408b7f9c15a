"""Read a planned table from SQLite as Arrow batches with fixed, planned types.

A large rowid table is read as consecutive rowid ranges (chunks), so several threads
can read and convert it at once while the consumer keeps the rows in source order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pyarrow as pa

from arrowferry.dialects import sqlite
from arrowferry.errors import ArrowferryError, ReadTypeChanged
from arrowferry.plan import TablePlan

Chunk = tuple[int, int] | None  # inclusive rowid range; None: the whole table


def batch_rows(path: Path, plan: TablePlan, batch_size: int, batch_bytes: int) -> int:
    """Rows per batch: ``batch_size``, fewer when a sample of the table says its rows
    are wide enough that a batch would pass ``batch_bytes`` of Arrow memory."""
    if plan.rows <= 1_000:
        return batch_size
    try:
        size = sqlite.bytes_per_row(path, _sql(plan))
    except ArrowferryError:  # e.g. a storage-class change: the real read deals with it
        return batch_size
    if not size:
        return batch_size
    return max(1_024, min(batch_size, int(batch_bytes / size)))


def chunks(path: Path, plan: TablePlan, chunk_rows: int, threads: int) -> list[Chunk]:
    """Rowid ranges of about ``chunk_rows`` rows each, when splitting the read pays.

    Ranges are cut evenly over [min rowid, max rowid]: with gaps in the rowids a range
    holds fewer rows, and with clustered rowids more (read as several batches), which
    costs balance, never correctness. A table too small to split, a WITHOUT ROWID table
    or a single thread reads in one piece.
    """
    if threads < 2 or plan.rowid is None or plan.rows < 2 * chunk_rows:
        return [None]
    span = sqlite.rowid_span(path, plan.source.name, plan.rowid)
    if span is None:
        return [None]
    low, high = span
    count = max(1, -(-plan.rows // chunk_rows))
    width = max(1, -(-(high - low + 1) // count))
    return [(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]


def read_table(
    path: Path, plan: TablePlan, batch_size: int, chunk: Chunk = None
) -> Iterator[pa.RecordBatch]:
    """Batches of ``plan``'s table (or one chunk): column ``c{i}`` is the i-th planned column."""
    sql = _sql(plan, chunk)
    # result position -> planned column (a numeric read takes two positions)
    positions = [-1] if plan.with_rowid else []
    tracked = plan.class_tracked
    for i, col in enumerate(plan.columns):
        positions += [i] * (1 + (col.read_as == "numeric") + (i in tracked))
    try:
        yield from sqlite.read_batches(path, sql, batch_size)
    except ReadTypeChanged as err:
        raise ReadTypeChanged(plan.source.name, positions[err.index], str(err)) from err


def _sql(plan: TablePlan, chunk: Chunk = None) -> str:
    return sqlite.read_sql(
        plan.source.name,
        [(c.source, cast(sqlite.ReadAs, c.read_as), c.cast) for c in plan.columns],
        rowid=plan.rowid,
        rowids=chunk,
        classes=plan.class_tracked,
    )
