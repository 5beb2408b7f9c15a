"""A SQLite file as the source of a run: batch sizes, rowid ranges, typed batches.

Every read opens its own read-only connection, so any number of threads can read one
file at once; a large rowid table is read as consecutive rowid ranges (pieces).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pyarrow as pa

from arrowferry.dialects.sqlite import read
from arrowferry.dialects.sqlite.kept import Kept
from arrowferry.errors import ArrowferryError, ReadTypeChanged

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan

Piece = tuple[int, int] | None  # inclusive rowid range; None: the whole table
PIECE_ROWS = 262_144  # rows per rowid range a lane reads (fewer when a table has few)


class SqliteSource:
    """Reads planned tables of one SQLite file."""

    readers_per_writer = 1  # one prefetch thread per writer: the file read is the cheap side
    # nobody waits on the file: reading apart from converting measured no gain (2.2 M
    # rows into PostgreSQL, the data phase 3.4-3.5 s without, 3.6-4.6 s with)
    read_ahead = 0
    endpoint = None  # a file: no password to keep out of messages

    def __init__(self, path: Path, batch_size: int, batch_bytes: int) -> None:
        self.path = path
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        # connections kept between tables (``kept``): a new one parses the whole schema
        self.kept = Kept(path)

    def batch_rows(self, table: TablePlan) -> int:
        """Rows per batch: ``batch_size``, fewer when a sample of the table says its rows
        are wide enough that a batch would pass ``batch_bytes`` of Arrow memory."""
        if table.rows <= 1_000 or table.native is not None:
            return self.batch_size
        try:
            with self.kept.reader() as conn:
                size = read.bytes_per_row(self.path, _sql(table), conn=conn)
        except ArrowferryError:  # e.g. a storage-class change: the real read deals with it
            return self.batch_size
        if not size:
            return self.batch_size
        return max(1_024, min(self.batch_size, int(self.batch_bytes / size)))

    def pieces(self, table: TablePlan, lanes: int, batch_rows: int) -> list[Piece]:
        """Rowid ranges for ``lanes`` parallel streams, or one piece: the whole table.

        Ranges are cut evenly over [min rowid, max rowid]: with gaps in the rowids a range
        holds fewer rows, and with clustered rowids more, which costs balance, never
        correctness. Pieces span several batches: lanes append to the target's heap side
        by side, so the finer the pieces, the less the heap keeps the source's order, and
        the slower the index sorts (measured: ~1 s more on 2M rows with 25k-row pieces
        than 256k).
        """
        per_piece = max(batch_rows, min(PIECE_ROWS, -(-table.rows // (2 * lanes))))
        rowid = table.rowid
        if table.native is not None:
            rowid = table.native.replica.rowid if table.native.replica.seekable else None
        if lanes < 2 or rowid is None or table.rows < 2 * per_piece:
            return [None]
        with self.kept.metadata() as conn:
            span = read.rowid_span(self.path, table.source.name, rowid, conn)
        if span is None:
            return [None]
        low, high = span
        count = max(1, -(-table.rows // per_piece))
        width = max(1, -(-(high - low + 1) // count))
        return [(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]

    def batches(self, table: TablePlan, piece: Piece, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Batches of the table (or one piece): column ``c{i}`` is the i-th planned column
        (a same-dialect copy: the columns of its layout, class by class)."""
        if table.native is not None:
            sql, _layout = table.native.read_sql(piece)
            with self.kept.reader() as conn:
                yield from read.read_batches(self.path, sql, batch_rows, conn)
            return
        sql = _sql(table, piece)
        # result position -> planned column (a numeric read takes two positions)
        positions = [-1] if table.rowid is not None else []
        tracked = table.class_tracked
        for i, col in enumerate(table.columns):
            positions += [i] * (1 + (col.read_as == "numeric") + (i in tracked))
        try:
            with self.kept.reader() as conn:
                yield from read.read_batches(self.path, sql, batch_rows, conn)
        except ReadTypeChanged as err:
            raise ReadTypeChanged(table.source.name, positions[err.index], str(err)) from err

    def message(self, err: BaseException) -> str:
        return str(err)

    def close(self) -> None:
        """The connections kept between tables are closed."""
        self.kept.close()


def _sql(table: TablePlan, piece: Piece = None) -> str:
    return read.read_sql(
        table.source.name,
        [(c.source, cast(read.ReadAs, c.read_as), c.cast) for c in table.columns],
        rowid=table.rowid,
        rowids=piece,
        classes=table.class_tracked,
    )
