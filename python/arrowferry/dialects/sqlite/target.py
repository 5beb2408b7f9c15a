"""A SQLite file as the target of a run: one writer, tables one transaction each.

SQLite takes one writer at a time, so every table loads over the one connection, each
created and loaded in one transaction (a failure leaves no table). A new file is built
as ``<name>.arrowferry-partial`` and renamed only when the run is complete, so a file at
the target path is always whole; an existing file gets its tables one transaction at a
time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.base import Capturing, Statement
from arrowferry.dialects.sqlite import write as sqlw

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan

Ingest = Callable[[pa.Schema | None, Iterator[pa.RecordBatch], Callable[[int], None]], int]


class SqliteTarget:
    """Writes planned tables into one SQLite file."""

    staging = None  # tables are never split: one writer

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:
        self.final = path
        self.warn = warn
        self.fresh = not path.exists()
        self.path = sqlw.partial_path(path) if self.fresh else path
        if self.fresh:
            self.path.unlink(missing_ok=True)  # a crashed run's leftovers
        self.conn: Any = sqlw.connect(self.path, fresh=self.fresh)

    def prepare(
        self, tables: Sequence[TablePlan], *, drop: bool, data_only: bool
    ) -> list[Statement]:
        if drop and not data_only:
            sqlw.execute(self.conn, "BEGIN")
            for table in tables:
                sqlw.execute(self.conn, sqlw.drop_table_sql(table.name))
            sqlw.execute(self.conn, "COMMIT")
        return []

    def allow_lanes(self, say: Callable[[str], None]) -> bool:
        return False

    def table_load(self, table: TablePlan, lanes: int, *, create: bool) -> SqliteTableLoad:
        return SqliteTableLoad(self, table, create)

    def message(self, err: BaseException) -> str:
        return sqlw.driver_message(err)

    def close(self, *, complete: bool) -> None:
        """A fresh file is renamed into place when the run is complete, else removed
        (a run that stopped early has not made the file it promised)."""
        if not self.fresh:
            self.conn.close()
            return
        if complete:
            sqlw.finalize(self.conn, self.path, self.final)
            return
        with contextlib.suppress(Exception):
            self.conn.close()
        self.path.unlink(missing_ok=True)


class SqliteTableLoad:
    """One table's load over the file's one connection, in one transaction."""

    def __init__(self, target: SqliteTarget, table: TablePlan, create: bool) -> None:
        self.target = target
        self.table = table
        self.create = create

    @contextlib.contextmanager
    def lane(self) -> Iterator[Ingest]:
        conn = self.target.conn
        try:
            sqlw.execute(conn, "BEGIN")
            if self.create:
                sqlw.execute(conn, self.table.load_sql or self.table.create_sql)
            yield lambda schema, batches, on_batch: self._ingest(batches, on_batch)
            sqlw.execute(conn, "COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                sqlw.execute(conn, "ROLLBACK")
            raise

    def _ingest(self, batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]) -> int:
        written = 0

        def counted() -> Iterator[pa.RecordBatch]:
            nonlocal written
            for batch in batches:
                written += batch.num_rows
                on_batch(batch.num_rows)
                yield batch

        capture = Capturing(counted())
        stream = iter(capture)
        head = next(stream, None)
        if head is None:
            return 0  # an empty table: nothing to ingest
        reader = pa.RecordBatchReader.from_batches(head.schema, _chain(head, stream))
        try:
            sqlw.ingest(self.target.conn, self.table.name, reader)
        except BaseException:
            if capture.error is not None:
                raise capture.error from None
            raise
        return written

    def complete(self) -> None:
        """Committed with its lane."""

    def abort(self) -> None:
        """Rolled back with its lane."""


def _chain(head: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield head
    yield from rest
