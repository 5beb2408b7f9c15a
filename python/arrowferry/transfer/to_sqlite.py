"""Run a PostgreSQL -> SQLite plan: read in one snapshot, convert, ingest, then finish.

SQLite takes one writer at a time, so tables load one after another, while a
prefetch thread reads and converts the next batches from PostgreSQL (several, for a
large rowid-keyed table with ``lanes``: key ranges of one exported snapshot, handed to
SQLite in key order so every insert appends to the rowid b-tree). Each table is
created and loaded in one transaction (a failure leaves no table). A new file is
built as ``<name>.arrowferry-partial`` and renamed only when the run is complete, so a
file at the target path is always whole; an existing file gets its tables one
transaction at a time. After the loads: unique constraints and indexes (built from
the loaded data, sorted once), CHECK and foreign-key violations counted (SQLite
enforced neither during the load; a key PostgreSQL validated is trusted while its parent
arrived whole), AUTOINCREMENT added back with its high-water mark, views, ANALYZE.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import Capturing
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.target import SqliteFinishing
from arrowferry.errors import ArrowferryError
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import MigrationPlan, Statement, TablePlan
from arrowferry.plan.sqlite_views import view_ledger
from arrowferry.progress import Reporter
from arrowferry.result import MigrationResult, TableResult
from arrowferry.transfer.finish import Finisher
from arrowferry.transfer.interpret import warnings_for
from arrowferry.transfer.prefetch import Prefetch
from arrowferry.transfer.rejects import RejectFile
from arrowferry.transfer.sqlite_convert import ConvertedBatch, TableConverter
from arrowferry.urls import Endpoint

KeyRange = tuple[int, int] | None  # [low, high) of the rowid key; None: the whole table
PIECE_ROWS = 262_144  # rows per key range a lane reads
SPLIT_MIN_ROWS = 2 * PIECE_ROWS  # smaller tables are read on one connection


class SqlitePipeline:
    def __init__(
        self,
        plan: MigrationPlan,
        source: Endpoint,
        target: Path,
        options: MigrationOptions,
        reporter: Reporter,
        result: MigrationResult,
    ) -> None:
        self.plan = plan
        self.source = source
        self.target = target
        self.options = options
        self.reporter = reporter
        self.result = result
        self.loaded: list[TablePlan] = []
        self.stopped = False  # a table failed and the run stops (no continue_on_error)
        self.snapshot: str | None = None  # exported for the lanes' connections
        self.lane_readers: list[Any] = []

    def run(self) -> None:
        started = time.perf_counter()
        fresh = not self.target.exists()
        path = sqlw.partial_path(self.target) if fresh else self.target
        if fresh:
            path.unlink(missing_ok=True)  # a crashed run's leftovers
        conn = sqlw.connect(path, fresh=fresh)
        try:
            src = pgread.connect_snapshot(self.source)
            try:
                self._prepare(conn)
                self.reporter.phase("loading tables")
                for table in self.plan.tables:
                    if self.stopped:
                        self.result.table_not_attempted(table.name)
                        continue
                    self._load_one(conn, src, table)
            finally:
                for reader in self.lane_readers:
                    with contextlib.suppress(Exception):
                        pgread.end_snapshot(reader)
                pgread.end_snapshot(src)
            loaded = time.perf_counter()
            self.result.phases["load"] = loaded - started
            self.reporter.phase("building indexes and checking constraints")
            self._finish(conn)
            self.result.phases["finish"] = time.perf_counter() - loaded
        except BaseException:
            conn.close()
            if fresh:
                path.unlink(missing_ok=True)
            raise
        if fresh and self.stopped:
            # a run that stopped early has not made the file it promised: none is left
            conn.close()
            path.unlink(missing_ok=True)
            self.result.warnings.append(
                f"{self.target} was not created: the run stopped at an error before every "
                "table was in (--continue-on-error keeps the tables that did load)"
            )
            return
        sqlw.finalize(conn, path if fresh else None, self.target)

    # --- load ---------------------------------------------------------------------

    def _prepare(self, conn: Any) -> None:
        if self.options.drop_tables and not self.options.data_only:
            sqlw.execute(conn, "BEGIN")
            for table in self.plan.tables:
                sqlw.execute(conn, sqlw.drop_table_sql(table.name))
            sqlw.execute(conn, "COMMIT")

    def _load_one(self, conn: Any, src: Any, table: TablePlan) -> None:
        start = time.perf_counter()
        self.reporter.table_started(table.name, 0 if self.options.schema_only else table.rows)
        rejects = RejectFile(
            Path(self.options.reject_dir), table.name, None, table.source.name, table.key
        )
        converter = TableConverter(table, self.options)
        try:
            sqlw.execute(conn, "BEGIN")
            if not self.options.data_only:
                sqlw.execute(conn, table.load_sql or table.create_sql)
            rows = 0
            if not self.options.schema_only:
                rows = self._copy(conn, src, table, converter, rejects)
            sqlw.execute(conn, "COMMIT")
        except BaseException as err:
            with contextlib.suppress(Exception):
                sqlw.execute(conn, "ROLLBACK")
            rejects.discard()
            if not isinstance(err, Exception):
                raise
            message = (
                err.message
                if isinstance(err, ArrowferryError)
                else f"table {table.name!r}: {_driver_message(err, self.source)}"
            )
            self._failed(table, message, start)
            return
        reject_file = rejects.commit()
        seconds = time.perf_counter() - start
        self.loaded.append(table)
        if not self.options.data_only:
            # the primary key is made with the table (the summary counts it as PostgreSQL's does)
            self.result.summary.constraints_applied += table.source.primary_key is not None
        self.result.table_loaded(
            TableResult(table.name, rows, seconds, converter.rows_read, rejects.count),
            created=not self.options.data_only,
        )
        self.result.values_accounted(
            table.name,
            self.options.on_bad_value,
            [(col, col.kernel or "same") for col in table.columns],
            converter.bad_counts,
            reject_file=str(reject_file) if reject_file is not None else None,
            interpreted=converter.interpreted,
        )
        self.result.warnings.extend(
            warnings_for(table.source.name, converter.interpreted, converter.examples)
        )
        self.reporter.table_finished(table.name, rows, seconds, True)

    def _copy(
        self,
        conn: Any,
        src: Any,
        table: TablePlan,
        converter: TableConverter,
        rejects: RejectFile,
    ) -> int:
        pieces = self._pieces(src, table)
        readers = self._readers(src, len(pieces))
        lanes = len(readers)

        def work_on(reader: Any) -> Callable[[KeyRange], Iterator[ConvertedBatch | None]]:
            def work(piece: KeyRange) -> Iterator[ConvertedBatch | None]:
                sql = pgread.select_sql(
                    self.options.source_schema,
                    table.source.name,
                    [c.select or c.source for c in table.columns],
                    table.order_by,
                    only=table.only,
                    key_range=piece,
                )
                for batch in pgread.read_batches(reader, sql, self.options.batch_bytes):
                    yield converter(batch)
                yield None  # the end of this piece

            return work

        fetchers = [Prefetch(pieces[k::lanes], work_on(readers[k])) for k in range(lanes)]

        def in_order() -> Iterator[ConvertedBatch]:
            """Pieces in key order, whichever lane read them, so rowids arrive ascending."""
            streams = [iter(f) for f in fetchers]
            for i in range(len(pieces)):
                for item in streams[i % lanes]:
                    if item is None:
                        break
                    yield item

        batches = in_order()
        written = 0

        def stream() -> Iterator[pa.RecordBatch]:
            nonlocal written
            for item in batches:
                if item.rejected:
                    rejects.write(item.rejected, None)
                written += item.data.num_rows
                self.reporter.advance(table.name, item.data.num_rows)
                yield item.data

        capture = Capturing(stream())
        iterator = iter(capture)
        try:
            head = next(iterator)
        except BaseException as err:
            for fetcher in fetchers:
                fetcher.close()
            if isinstance(err, StopIteration):
                return 0  # an empty table: nothing to ingest
            raise
        reader = pa.RecordBatchReader.from_batches(head.schema, _chain(head, iterator))
        try:
            sqlw.ingest(conn, table.name, reader)
        except BaseException:
            if capture.error is not None:
                raise capture.error from None
            raise
        finally:
            for fetcher in fetchers:
                fetcher.close()
        return written

    @property
    def lane_count(self) -> int:
        """Parallel PostgreSQL readers of one table: ``lanes``, else one per core but the
        one SQLite's single writer takes. (On 2 cores a second reader measured no gain:
        the writer, the reader and the server already fill both; events 2M rows 6.8 s
        with one reader and with two.)"""
        return self.options.lanes or max(1, self.options.parallelism - 1)

    def _pieces(self, src: Any, table: TablePlan) -> list[KeyRange]:
        """Key ranges of a large rowid-keyed table, read by parallel lanes (else one: all)."""
        if self.lane_count < 2 or len(table.order_by) != 1:
            return [None]
        if table.rows < SPLIT_MIN_ROWS:
            return [None]
        span = pgread.key_range(
            src, self.options.source_schema, table.source.name, table.order_by[0]
        )
        if span is None:
            return [None]
        low, high = span
        count = -(-table.rows // PIECE_ROWS)
        width = max(1, -(-(high - low + 1) // count))
        return [(start, min(start + width, high + 1)) for start in range(low, high + 1, width)]

    def _readers(self, src: Any, pieces: int) -> list[Any]:
        """The snapshot connection plus up to ``lanes - 1`` more in the same snapshot."""
        wanted = min(self.lane_count, pieces) - 1
        while len(self.lane_readers) < wanted:
            if self.snapshot is None:
                self.snapshot = pgread.export_snapshot(src)
            self.lane_readers.append(pgread.connect_snapshot(self.source, self.snapshot))
        return [src, *self.lane_readers[:wanted]]

    def _failed(self, table: TablePlan, message: str, start: float) -> None:
        fatal = not self.options.continue_on_error
        self.result.table_failed(table.name, message, fatal=fatal)
        self.stopped = fatal
        self.reporter.table_finished(table.name, 0, time.perf_counter() - start, False)

    # --- finish -------------------------------------------------------------------

    def _finish(self, conn: Any) -> None:
        """The loaded tables' finishing, through the Finisher both targets share: one
        worker on the one writer, so statements run in the order given."""
        statements = self._finishing_statements()
        views = (
            [s for s in self.plan.finish if s.kind == "view"]
            if not self.stopped and not self.options.data_only
            else []
        )
        finisher = Finisher(
            SqliteFinishing(conn, self.loaded),
            1,
            self.reporter,
            self.result.summary,
            self._warn,
            self.result.constraint_issues,
            on_view=self._view_created,
        )
        for table in self.loaded:
            finisher.table_loaded(table.name)
        finisher.add(statements)
        finisher.loading_done(set())
        finisher.close(views)

    def _finishing_statements(self) -> list[Statement]:
        """Table by table its indexes and CHECK counts, then its AUTOINCREMENT; then the
        foreign-key checks; then ANALYZE. A data_only run changes no schema: it only
        counts what its new rows break."""
        schema_changes = not self.options.data_only
        out: list[Statement] = []
        for table in self.loaded:
            out += [s for s in table.finish if schema_changes or s.kind == "check"]
            if table.sequence is not None and schema_changes:
                # the definition the table ends with (SqliteFinishing reads the rest from the plan)
                name = f"{table.name}.{table.order_by[0]}"
                out.append(Statement("sequence", table.create_sql, table.name, name))
        for table in self.loaded:
            if not table.source.foreign_keys:
                continue
            # made with the table, like its primary key: counted whether or not checked
            self.result.summary.foreign_keys_created += len(table.source.foreign_keys)
            self.result.summary.constraints_applied += len(table.source.foreign_keys)
            if self._needs_key_check(table):
                check = sqlw.foreign_key_check_sql(table.name)
                out.append(Statement("foreign_key_check", check, table.name, table.name))
        # after every table's statements (it waits for them all); the views, which have
        # no statistics, follow. A nicety, never a failure.
        out.append(Statement("analyze", "ANALYZE", None, "ANALYZE"))
        return out

    def _needs_key_check(self, table: TablePlan) -> bool:
        """Whether SQLite must check a table's foreign keys after the load.

        All tables are read in one snapshot, so a key PostgreSQL validated holds in the
        copy too, unless its referenced table lost rows on the way (rejected, or not
        loaded) or rows were appended to an older file (data_only). Checking costs a
        lookup per row (2M rows: ~1.7 s), as much as building an index.
        """
        loaded = {t.name: t for t in self.loaded}
        lost = {r["table"] for r in self.result.rejected}
        return self.options.data_only or any(
            not fk.validated or fk.ref_table in lost or fk.ref_table not in loaded
            for fk in table.source.foreign_keys
        )

    def _view_created(self, name: str) -> None:
        notes = self.plan.inexact_views.get(name)
        if notes:
            self.result.ledger.append(view_ledger(name, notes))

    def _warn(self, text: str) -> None:
        self.result.warnings.append(text)
        self.reporter.message(text)


def _chain(head: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield head
    yield from rest


def _driver_message(err: BaseException, source: Endpoint) -> str:
    text = str(err)
    if "[SQLite]" in text:
        return sqlw.driver_message(err)
    return pg.driver_message(err, source)
