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
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.errors import ArrowferryError
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import Statement
from arrowferry.plan.sqlite_model import SqlitePlan, SqliteTablePlan
from arrowferry.plan.sqlite_views import view_ledger
from arrowferry.progress import Reporter
from arrowferry.result import MigrationResult, TableResult
from arrowferry.transfer.interpret import warnings_for
from arrowferry.transfer.prefetch import Prefetch
from arrowferry.transfer.rejects import RejectFile
from arrowferry.transfer.transform import Transformed, Transformer
from arrowferry.transfer.writer import Capturing
from arrowferry.urls import Endpoint
from arrowferry.wording import noun, plural

KeyRange = tuple[int, int] | None  # [low, high) of the rowid key; None: the whole table
PIECE_ROWS = 262_144  # rows per key range a lane reads
SPLIT_MIN_ROWS = 2 * PIECE_ROWS  # smaller tables are read on one connection


class SqlitePipeline:
    def __init__(
        self,
        plan: SqlitePlan,
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
        self.loaded: list[SqliteTablePlan] = []
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

    def _load_one(self, conn: Any, src: Any, table: SqliteTablePlan) -> None:
        start = time.perf_counter()
        self.reporter.table_started(table.name, 0 if self.options.schema_only else table.rows)
        rejects = RejectFile(
            Path(self.options.reject_dir), table.name, None, table.source.name, table.key
        )
        converter = _transformer(table, self.options)
        try:
            sqlw.execute(conn, "BEGIN")
            if not self.options.data_only:
                sqlw.execute(conn, table.load_sql)
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
            [(col, col.kernel) for col in table.columns],
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
        table: SqliteTablePlan,
        converter: Transformer,
        rejects: RejectFile,
    ) -> int:
        pieces = self._pieces(src, table)
        readers = self._readers(src, len(pieces))
        lanes = len(readers)

        def work_on(reader: Any) -> Callable[[KeyRange], Iterator[Transformed | None]]:
            def work(piece: KeyRange) -> Iterator[Transformed | None]:
                sql = pgread.select_sql(
                    self.options.source_schema,
                    table.source.name,
                    [c.select for c in table.columns],
                    table.order_by,
                    only=table.only,
                    key_range=piece,
                )
                for batch in pgread.read_batches(reader, sql, self.options.batch_bytes):
                    yield converter.convert(batch)
                yield None  # the end of this piece

            return work

        fetchers = [Prefetch(pieces[k::lanes], work_on(readers[k])) for k in range(lanes)]

        def in_order() -> Iterator[Transformed]:
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
            for data, rejected in batches:
                if rejected:
                    rejects.write(rejected, None)
                written += data.num_rows
                self.reporter.advance(table.name, data.num_rows)
                yield data

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

    def _pieces(self, src: Any, table: SqliteTablePlan) -> list[KeyRange]:
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

    def _failed(self, table: SqliteTablePlan, message: str, start: float) -> None:
        fatal = not self.options.continue_on_error
        self.result.table_failed(table.name, message, fatal=fatal)
        self.stopped = fatal
        self.reporter.table_finished(table.name, 0, time.perf_counter() - start, False)

    # --- finish -------------------------------------------------------------------

    def _finish(self, conn: Any) -> None:
        schema_changes = not self.options.data_only
        for table in self.loaded:
            for stmt in table.finish:
                if stmt.kind == "check":
                    self._count_check(conn, stmt)
                elif schema_changes:
                    self._statement(conn, stmt)
            if table.sequence is not None and schema_changes:
                self._sequence(conn, table)
        self._foreign_keys(conn)
        if not self.stopped and schema_changes:
            self._views(conn, self.plan.finish)
        with contextlib.suppress(Exception):  # statistics are a nicety, never a failure
            sqlw.execute(conn, "PRAGMA analysis_limit = 1000")
            sqlw.execute(conn, "ANALYZE")

    def _statement(self, conn: Any, stmt: Statement) -> None:
        try:
            sqlw.execute(conn, stmt.sql)
        except Exception as err:
            self._warn(
                f"{stmt.kind} {stmt.name!r} on {stmt.table} not created: {sqlw.driver_message(err)}"
            )
            return
        if stmt.kind in {"index", "unique"}:
            self.result.summary.indexes_created += 1
            if stmt.kind == "unique":
                self.result.summary.constraints_applied += 1

    def _count_check(self, conn: Any, stmt: Statement) -> None:
        assert stmt.table is not None
        try:
            broken = int(sqlw.fetch(conn, stmt.sql)[0][0])
        except Exception as err:
            self._warn(
                f"CHECK ({stmt.name}) on {stmt.table} could not be verified: {sqlw.driver_message(err)}"
            )
            return
        self.result.summary.constraints_applied += 1
        if broken:
            self._warn(
                f"CHECK ({stmt.name}) on {stmt.table}: {plural(broken, 'row')} "
                f"{noun(broken, 'breaks', 'break')} its SQLite form "
                "(the expression means something else in SQLite, or the data changed); "
                "SQLite keeps the constraint and will refuse updates of those rows"
            )
            self.result.constraint_issues.append(
                {"table": stmt.table, "constraint": stmt.name, "kind": "check", "rows": broken}
            )

    def _sequence(self, conn: Any, table: SqliteTablePlan) -> None:
        key = table.order_by[0]
        top = sqlw.max_value(conn, table.name, key)
        value = max(int(top or 0), int(table.sequence or 0))
        if table.load_sql != table.create_sql:  # loaded without AUTOINCREMENT
            sqlw.adopt_autoincrement(conn, table.name, table.create_sql, value)
        else:
            sqlw.execute(conn, "BEGIN")
            for sql in sqlw.set_sequence_sql(table.name, value):
                sqlw.execute(conn, sql)
            sqlw.execute(conn, "COMMIT")
        self.result.summary.sequences_reset += 1

    def _needs_key_check(self, table: SqliteTablePlan) -> bool:
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

    def _foreign_keys(self, conn: Any) -> None:
        for table in self.loaded:
            if not table.source.foreign_keys:
                continue
            self.result.summary.foreign_keys_created += len(table.source.foreign_keys)
            self.result.summary.constraints_applied += len(table.source.foreign_keys)
            if not self._needs_key_check(table):
                continue
            try:
                quick = [
                    sqlw.count_orphans(conn, table.name, fk) for fk in table.source.foreign_keys
                ]
                if all(n == 0 for n in quick):
                    continue
                count, rowids = sqlw.foreign_key_violations(conn, table.name)
            except Exception as err:
                self._warn(
                    f"table {table.name}: its foreign keys could not be checked: "
                    f"{sqlw.driver_message(err)}"
                )
                continue
            if count:
                self._warn(
                    f"table {table.name}: {plural(count, 'row')} {noun(count, 'breaks', 'break')} "
                    f"a foreign key ({noun(len(rowids), 'rowid')} {', '.join(map(str, rowids))}"
                    f"{f' and {count - len(rowids):,} more' if count > len(rowids) else ''}); "
                    "SQLite keeps the key, and PRAGMA foreign_key_check lists them"
                )
                self.result.constraint_issues.append(
                    {"table": table.name, "kind": "foreign_key", "rows": count}
                )

    def _views(self, conn: Any, views: list[Statement]) -> None:
        """Views in dependency order: each one that fails is retried after the others."""
        todo = list(views)
        while todo:
            failed: list[tuple[Statement, str]] = []
            for stmt in todo:
                try:
                    sqlw.execute(conn, stmt.sql)
                    sqlw.probe_view(conn, stmt.name)
                except Exception as err:
                    with contextlib.suppress(Exception):
                        sqlw.execute(conn, sqlw.drop_view_sql(stmt.name))
                    failed.append((stmt, sqlw.driver_message(err)))
                    continue
                self.result.summary.views_created += 1
                notes = self.plan.inexact_views.get(stmt.name)
                if notes:
                    self.result.ledger.append(view_ledger(stmt.name, notes))
            if len(failed) == len(todo):
                for stmt, message in failed:
                    self._warn(f"view {stmt.name!r} not created: {message}")
                return
            todo = [stmt for stmt, _ in failed]

    def _warn(self, text: str) -> None:
        self.result.warnings.append(text)
        self.reporter.message(text)


def _transformer(table: SqliteTablePlan, options: MigrationOptions) -> Transformer:
    """One transformer for the table, shared by its lanes."""
    return Transformer(
        table, options.on_bad_value, writable=sqlw.WRITABLE.__contains__, target_name="SQLite"
    )


def _chain(head: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield head
    yield from rest


def _driver_message(err: BaseException, source: Endpoint) -> str:
    text = str(err)
    if "[SQLite]" in text:
        return sqlw.driver_message(err)
    return pg.driver_message(err, source)
