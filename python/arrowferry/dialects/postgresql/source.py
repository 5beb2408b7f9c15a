"""A PostgreSQL schema as the source of a run: one snapshot, key ranges, typed batches.

Every table is read in one ``REPEATABLE READ`` snapshot, exported by a session that holds
it for the run and reads nothing (``holder``); readers join it through
``pg_export_snapshot``, so they see exactly the same rows. Each read takes a connection
of the snapshot for itself and gives it back when it ends (a connection is never shared
between threads); more join the snapshot when more reads run at once. A read that ends
in an error (a terminated backend, a lost connection) or is stopped gives its connection
up: the read tried again joins the same snapshot on a new one, and sees the same rows.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.postgresql import read
from arrowferry.dialects.postgresql.connection import driver_message
from arrowferry.errors import SourceError
from arrowferry.urls import Endpoint

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan

Piece = tuple[int, int] | None  # [low, high) of the single integer key; None: the whole table
PIECE_ROWS = 262_144  # rows per key range a reader reads
SPLIT_MIN_ROWS = 2 * PIECE_ROWS  # smaller tables are read on one connection


class PostgresSource:
    """Reads planned tables of one PostgreSQL schema in one snapshot."""

    # the backend streams while the batch before is converted: PostgreSQL -> SQLite's
    # load of 2.2 M rows 4.0-4.5 s -> 3.6-3.7 s (the server was idle 30-35% of it, waiting
    # on a full socket while its one reader converted)
    read_ahead = 2

    def __init__(
        self, endpoint: Endpoint, schema: str, batch_bytes: int, readers_per_writer: int
    ) -> None:
        self.endpoint = endpoint
        self.schema = schema
        self.batch_bytes = batch_bytes
        # parallel readers feeding one writer: on 2 cores a second reader measured no gain
        # for a SQLite target (the writer, the reader and the server already fill both)
        self.readers_per_writer = max(1, readers_per_writer)
        self.holder = read.connect_snapshot(endpoint)
        self.snapshot = read.export_snapshot(self.holder)
        self.opened: list[Any] = [self.holder]
        self.idle: list[Any] = []  # the holder is never lent: a reader's loss is not the snapshot's
        self.lock = threading.Lock()

    def batch_rows(self, table: TablePlan) -> int:
        return 0  # batches are cut by bytes (batch_bytes), not rows

    def pieces(self, table: TablePlan, lanes: int, batch_rows: int) -> list[Piece]:
        """Key ranges of a large table read ordered by one integer key (else one: all)."""
        if lanes < 2 or len(table.order_by) != 1 or table.rows < SPLIT_MIN_ROWS:
            return [None]
        with self.in_snapshot() as conn:
            span = read.key_range(conn, self.schema, table.source.name, table.order_by[0])
        if span is None:
            return [None]
        low, high = span
        count = -(-table.rows // PIECE_ROWS)
        width = max(1, -(-(high - low + 1) // count))
        return [(start, min(start + width, high + 1)) for start in range(low, high + 1, width)]

    def batches(self, table: TablePlan, piece: Piece, batch_rows: int) -> Iterator[pa.RecordBatch]:
        sql = read.select_sql(
            self.schema,
            table.source.name,
            [c.select or c.source for c in table.columns],
            table.order_by,
            only=table.only,
            key_range=piece,
        )
        with self.in_snapshot() as conn:
            yield from read.read_batches(conn, sql, self.batch_bytes)

    @contextlib.contextmanager
    def in_snapshot(self) -> Iterator[Any]:
        """A connection reading in the run's snapshot, back among the idle ones after
        (readers, the incremental run's marks and key comparisons all read through it)."""
        conn = self._take()
        try:
            yield conn
        except BaseException:
            self._drop(conn)  # perhaps lost: whoever tries again gets a new one
            raise
        self._give(conn)

    def _take(self) -> Any:
        """An idle connection of the snapshot, or a new one that joins it."""
        with self.lock:
            if self.idle:
                return self.idle.pop()
        try:
            conn = read.connect_snapshot(self.endpoint, self.snapshot)
        except SourceError as err:
            if "invalid snapshot identifier" not in err.message:
                raise
            raise SourceError(
                "the snapshot this run reads the source in has ended (the session holding "
                f"it was closed), so no reader can join it: {err.message}; run the same "
                "command with --resume to finish, reading what is left in a new snapshot"
            ) from None
        with self.lock:
            self.opened.append(conn)
        return conn

    def _give(self, conn: Any) -> None:
        with self.lock:
            self.idle.append(conn)

    def _drop(self, conn: Any) -> None:
        with self.lock:
            self.opened.remove(conn)
        read.end_snapshot(conn, quietly=True)

    def message(self, err: BaseException) -> str:
        return driver_message(err, self.endpoint)

    def close(self) -> None:
        for conn in reversed(self.opened):  # the exporting connection last
            with contextlib.suppress(Exception):
                read.end_snapshot(conn)
