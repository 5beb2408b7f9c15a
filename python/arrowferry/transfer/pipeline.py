"""Run a plan: create and load tables (in parallel), then finish them in order.

Order of work, as the fastest loaders do it: each table is created and loaded in one
transaction (a failure leaves no table, never a partial one), then primary keys,
unique constraints, indexes, checks, foreign keys, identity sequences, views and
ANALYZE. A finishing statement that the data does not satisfy never fails the run
after the data is in: a foreign key or check falls back to NOT VALID with a warning.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.postgresql import defaults as pgd
from arrowferry.dialects.postgresql import dependents as pgdep
from arrowferry.errors import ArrowferryError, ReadTypeChanged, RejectedByServer, TransferError
from arrowferry.model import DataType
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan, Statement, TablePlan
from arrowferry.plan.defaults import refused_default_warning
from arrowferry.progress import Reporter
from arrowferry.result import MigrationResult, TableResult
from arrowferry.transfer.connections import Pool, PooledConnection
from arrowferry.transfer.finish import Finisher
from arrowferry.transfer.interpret import warnings_for
from arrowferry.transfer.prefetch import Prefetch
from arrowferry.transfer.reader import Chunk, batch_rows, chunks, read_table
from arrowferry.transfer.rejects import RejectedRow, RejectFile
from arrowferry.transfer.transform import Transformer
from arrowferry.transfer.writer import write_table
from arrowferry.urls import Endpoint

# No synchronous_commit=off in loading sessions: each table (or lane) commits once, so
# it saves one WAL flush per table, and until its commit record is flushed the server
# sets no hint bits on its rows, so the VACUUM that follows could not mark the pages
# all-visible (measured: none were, on a table vacuumed right after an async commit).
# Tables split into parallel COPY lanes are built here, then moved into the target schema.
STAGING_SCHEMA = "arrowferry_loading"
# A table is split when it has at least this many batches (smaller ones load in one go).
SPLIT_MIN_BATCHES = 4
PIECE_ROWS = 262_144  # rows per rowid range a lane reads (fewer when a table has few)


class Pipeline:
    def __init__(
        self,
        plan: MigrationPlan,
        source: Path,
        target: Endpoint,
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
        self.failed: set[str] = set(plan.failed)  # tables that could not be planned
        self.loaded: set[str] = set()
        self.restore: list[Statement] = []  # foreign keys suspended by a data_only run
        self.dependents: list[Statement] = []  # what drop_tables' CASCADE took, to re-create
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.staging: str | None = None  # schema for split loads, once it exists
        self.spare_lanes = threading.Semaphore(max(0, options.lane_count - 1))
        self.connections = Pool(lambda autocommit: pg.connect(target, autocommit=autocommit))

    def run(self) -> None:
        started = time.perf_counter()
        self._prepare()
        statements = self._finishing_statements()
        self.finisher = Finisher(
            self.target,
            self.options.parallelism,
            self.reporter,
            self.result.summary,
            self._warn,
            self.result.constraint_issues,
        )
        self.reporter.phase("loading tables" if not self.options.schema_only else "creating tables")
        try:
            # a table's indexes and keys start building as soon as its load commits
            self.finisher.add(statements)
            self._load_all()
        finally:
            self._drop_staging()
            self.connections.close()
            loaded = time.perf_counter()
            self.result.phases["load"] = loaded - started
            # finish what did load, even when the run stopped on an error
            self.reporter.phase("building keys, indexes and constraints")
            self.finisher.loading_done(self.failed)
            views = [s for s in statements if s.kind == "view"] if not self.stop.is_set() else []
            self.finisher.close(views + [s for s in self.dependents if s.kind == "view"])
            self.result.phases["finish"] = time.perf_counter() - loaded

    def _finishing_statements(self) -> list[Statement]:
        """What runs after the loads, largest tables first (views keep their order)."""
        if self.options.data_only:
            kinds = {"vacuum", "sequence", "analyze"}
            todo = [s for s in self.plan.finish if s.kind in kinds] + self.restore
        else:
            todo = list(self.plan.finish)
        todo += [s for s in self.dependents if s.kind == "foreign_key"]
        rows = {t.name: t.rows for t in self.plan.tables}
        todo.sort(key=lambda s: -rows.get(s.table or "", 0))  # stable sort
        return todo

    # --- phases -------------------------------------------------------------------------

    def _prepare(self) -> None:
        schema = self.options.target_schema
        with self._connection(autocommit=False) as conn:
            if schema != "public":
                pg.execute(conn, pg.create_schema_sql(schema))
            if self.options.drop_tables and not self.options.data_only:
                self._keep_dependents(conn)
                for table in self.plan.tables:
                    pg.execute(conn, pg.drop_table_sql(schema, table.name))
            if self.options.data_only:
                self._suspend_foreign_keys(conn)
            conn.commit()
        self._create_staging()

    def _keep_dependents(self, conn: Any) -> None:
        """What DROP ... CASCADE takes from the rest of the target (other tables' foreign
        keys, views) is re-created once the new rows are in, and said: a key the new rows
        violate comes back NOT VALID, a view that no longer fits is named."""
        names = [t.name for t in self.plan.tables]
        for dep in pgdep.dependents(conn, self.options.target_schema, names):
            self._warn(
                f"drop_tables: {dep.label} depends on a replaced table; it is dropped with it "
                "and re-created after the load"
            )
            name = (
                f"{dep.name} of {dep.schema}.{dep.table}" if dep.kind == "foreign_key" else dep.name
            )
            self.dependents.append(
                Statement(
                    "foreign_key" if dep.kind == "foreign_key" else "view",
                    dep.create_sql(),
                    None,  # after every table: re-created whichever tables loaded
                    name,
                    fallback_sql=dep.create_sql(valid=False) if dep.kind == "foreign_key" else None,
                    fallback_note="the new rows violate it",
                )
            )

    def _create_staging(self) -> None:
        """The schema split tables are loaded in; without it (no CREATE right) none is split."""
        if self.options.lane_count < 2 or not any(self._splittable(t) for t in self.plan.tables):
            return
        try:
            with self._connection(autocommit=True) as conn:
                pg.execute(conn, pg.create_schema_sql(STAGING_SCHEMA))
        except Exception as err:
            self.reporter.message(
                f"large tables load over one connection: schema {STAGING_SCHEMA!r} could not be "
                f"created ({pg.driver_message(err, self.target)})"
            )
            return
        self.staging = STAGING_SCHEMA

    def _splittable(self, table: TablePlan) -> bool:
        """Only a large table this run creates is split: its lanes commit separately."""
        if self.options.schema_only or self.options.data_only:
            return False
        return table.rows >= SPLIT_MIN_BATCHES * self.options.batch_size

    def _drop_staging(self) -> None:
        """Remove the staging schema when empty (a table left there would be a bug: keep it)."""
        if self.staging is None:
            return
        with contextlib.suppress(Exception), self._connection(autocommit=True) as conn:
            pg.execute(conn, pg.drop_empty_schema_sql(self.staging))

    def _suspend_foreign_keys(self, conn: Any) -> None:
        """Appending into tables with live foreign keys fails on load order (and on cycles).

        The keys touching the loaded tables are dropped in the same transaction that
        starts the run and re-created, validated, once the rows are in; one the data
        violates comes back NOT VALID with a warning.
        """
        names = [t.name for t in self.plan.tables]
        schema = self.options.target_schema
        for table, name, definition in pg.foreign_keys_touching(conn, schema, names):
            pg.execute(conn, pg.drop_constraint_sql(schema, table, name))
            self.restore.append(
                Statement(
                    "foreign_key",
                    pg.add_constraint_sql(schema, table, name, definition),
                    None,  # always restored, whichever tables loaded
                    name,
                    fallback_sql=pg.add_constraint_sql(
                        schema, table, name, definition + " NOT VALID"
                    ),
                )
            )

    def _load_all(self) -> None:
        tables = sorted(self.plan.tables, key=lambda t: -t.rows)  # longest first
        workers = min(self.options.parallelism, max(1, len(tables)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arrowferry") as pool:
            futures: dict[Future[None], TablePlan] = {
                pool.submit(self._load_one, t): t for t in tables
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    error = future.exception()
                    if error is not None:
                        raise error

    def _load_one(self, table: TablePlan) -> None:
        if self.stop.is_set():
            with self.lock:
                self.result.table_not_attempted(table.name)
            return
        start = time.perf_counter()
        try:
            loaded = self._load_with_retries(table)
        except ArrowferryError as err:
            self._table_failed(table, err.message, start)
            return
        except Exception as err:
            self._table_failed(table, pg.driver_message(err, self.target), start)
            return
        seconds = time.perf_counter() - start
        rows = loaded.rows
        with self.lock:
            self.loaded.add(table.name)
            self.result.table_loaded(
                TableResult(table.name, rows, seconds, loaded.rows_read, loaded.rows_rejected),
                created=not self.options.data_only,
            )
            self._account(loaded)
        self.reporter.table_finished(table.name, rows, seconds, True)
        self.finisher.table_loaded(table.name)

    def _account(self, loaded: Loaded) -> None:
        """Rejected, nulled and cleaned values into the result, and the table's ledger."""
        transform, table = loaded.transform, loaded.table
        if transform is None:
            return
        self.result.values_accounted(
            table.name,
            self.options.on_bad_value,
            [(col, transform.conversion_name(col.target)) for col in table.columns],
            transform.bad_counts,
            transform.cleaned,
            str(loaded.reject_file) if loaded.reject_file is not None else None,
            transform.interpreted,
        )
        said = warnings_for(table.source.name, transform.interpreted, transform.examples)
        self.result.warnings.extend(said)

    def _load_with_retries(self, table: TablePlan) -> Loaded:
        """Load a table; when the fast path meets dirty data, roll back and retry exactly.

        Each retry moves one column to its exact path (read as text, or checked
        client-side), so the loop ends after at most two retries per column.
        """
        for _ in range(2 * len(table.columns) + 1):
            self.reporter.table_started(table.name, 0 if self.options.schema_only else table.rows)
            try:
                return self._load_once(table)
            except ReadTypeChanged as err:
                col = table.columns[err.index]
                table = table.with_column(err.index, col.read_as_text())
            except RejectedByServer as err:
                table = self._after_rejection(table, err)
        raise TransferError(
            f"table {table.name!r}: gave up after repeated retries", table=table.name
        )

    def _after_rejection(self, table: TablePlan, err: RejectedByServer) -> TablePlan:
        index = table.column_index(err.column)
        col = table.columns[index]
        if (
            err.sqlstate == "22001"
            and col.type.kind == "text"
            and col.type.length
            and not col.enforce_length
        ):
            self._warn(
                f"column {table.source.name}.{col.source} is declared {col.declared} but holds longer "
                "values; it becomes text so nothing is truncated"
            )
            return table.with_column(index, replace(col, type=DataType("text")))
        if col.validate:
            raise err  # the strict path passed it and the server still refused it
        return table.with_column(index, replace(col, validate=True))

    def _load_once(self, table: TablePlan) -> Loaded:
        loaded = Loaded(table)
        if not self.options.schema_only:
            pk = table.source.primary_key
            loaded.rejects = RejectFile(
                Path(self.options.reject_dir),
                table.name,
                self.source,
                table.source.name,
                pk.columns if pk is not None else (),
            )
        try:
            if not self.options.schema_only:
                loaded.batch_rows = batch_rows(
                    self.source, table, self.options.batch_size, self.options.batch_bytes
                )
            extra = self._extra_lanes(loaded)
            try:
                pieces: list[Chunk] = self._pieces(loaded, 1 + extra) if extra else [None]
                if len(pieces) > 1:
                    self._load_in_lanes(loaded, pieces, 1 + extra)
                else:
                    self._load_in_one(loaded)
            finally:
                for _ in range(extra):
                    self.spare_lanes.release()
        except BaseException:
            if loaded.rejects is not None:
                loaded.rejects.discard()
            raise
        if loaded.rejects is not None:
            loaded.reject_file = loaded.rejects.commit()
        return loaded

    def _extra_lanes(self, loaded: Loaded) -> int:
        """Lanes beyond its own that a large table may take now, from the run's spares.

        Every table loads on at least one connection; the ``lanes - 1`` spare ones go to
        whichever large table starts while they are free (the largest table starts
        first). So the run never holds more than ``workers + lanes - 1`` streams, and its
        memory does not grow when a second table becomes large enough to split.
        Only a table this run creates is split (its lanes commit separately, so the
        table is built in the staging schema and moved into place once all are in).
        """
        if self.staging is None or not self._splittable(loaded.table):
            return 0
        extra = 0
        while extra < self.options.lane_count - 1 and self.spare_lanes.acquire(blocking=False):
            extra += 1
        return extra

    def _pieces(self, loaded: Loaded, lanes: int) -> list[Chunk]:
        """Rowid ranges for ``lanes`` parallel COPY streams, or one piece: the whole table."""
        table = loaded.table
        # Pieces of several batches: lanes append to the heap side by side, so the finer
        # the pieces, the less the heap keeps the source's order, and the slower the
        # index sorts (measured: ~1 s more on 2M rows with 25k-row pieces than 256k).
        per_piece = max(loaded.batch_rows, min(PIECE_ROWS, -(-table.rows // (2 * lanes))))
        return chunks(self.source, table, per_piece, lanes)

    def _load_in_one(self, loaded: Loaded) -> None:
        """Create and load in one transaction: a failure leaves no table, and with
        wal_level=minimal the COPY into a table created in the same transaction skips WAL."""
        table = loaded.table
        with self._connection(autocommit=False) as conn:
            try:
                if not self.options.data_only:
                    self._create(conn, table)
                if not self.options.schema_only:
                    loaded.transform = self._transformer(table)
                    loaded.rows = self._copy(conn, loaded, loaded.transform, [None], table.schema)
                conn.commit()
            except BaseException:
                _rollback(conn)
                raise

    def _load_in_lanes(self, loaded: Loaded, pieces: list[Chunk], lanes: int) -> None:
        """Load a large table over several connections at once, each COPY a lane of pieces.

        The server parses each COPY stream on one core, and the driver encodes a batch
        before it sends it, so one stream leaves the server waiting; several keep it busy.
        The table is created (committed) in the staging schema, the lanes commit one by
        one, and only when all are in is it moved into the target schema: a failure drops
        it, and a crash leaves it in the staging schema, never looking complete.
        """
        table = loaded.table
        assert self.staging is not None  # only split once the staging schema exists
        staging = replace(table, schema=self.staging)
        lanes = min(lanes, len(pieces))
        with self._connection(autocommit=True) as conn:
            pg.execute(conn, pg.drop_table_sql(staging.schema, table.name))
            self._create(conn, staging)
        transforms = [self._transformer(table) for _ in range(lanes)]
        loaded.transform = transforms[0]
        cancel = threading.Event()

        def lane(k: int) -> int:
            with self._connection(autocommit=False) as conn:
                try:
                    rows = self._copy(
                        conn, loaded, transforms[k], pieces[k::lanes], staging.schema, cancel
                    )
                    conn.commit()
                    return rows
                except BaseException:
                    cancel.set()
                    _rollback(conn)
                    raise

        try:
            with ThreadPoolExecutor(lanes, thread_name_prefix=f"arrowferry-{table.name}") as pool:
                futures = [pool.submit(lane, k) for k in range(lanes)]
                wait(futures)
            errors = [e for e in (f.exception() for f in futures) if e is not None]
            if errors:  # the lane that failed first is the one that was not cancelled
                raise next((e for e in errors if not isinstance(e, _Cancelled)), errors[0])
            read = sum(t.rows_read for t in transforms)
            if read != table.rows:  # the ranges must cover the table exactly once
                raise TransferError(
                    f"table {table.name!r}: read {read} rows in rowid ranges, but the table has "
                    f"{table.rows}; was the source changed during the run?",
                    table=table.name,
                )
            loaded.rows = sum(f.result() for f in futures)
            with self._connection(autocommit=True) as conn:
                pg.execute(conn, pg.set_schema_sql(staging.schema, table.name, table.schema))
        except BaseException:
            # the cleanup must not hide why the load failed
            with contextlib.suppress(Exception), self._connection(autocommit=True) as conn:
                pg.execute(conn, pg.drop_table_sql(staging.schema, table.name))
            raise
        finally:
            for other in transforms[1:]:
                transforms[0].absorb(other)

    def _create(self, conn: Any, table: TablePlan) -> None:
        """CREATE TABLE; a default the server refuses costs that default, not the table."""
        with self._connection(autocommit=True) as trial:
            refused = pgd.refused_defaults(trial, table.target, table.defaults)
        kept = {c: d for c, d in table.defaults.items() if c not in refused}
        pg.execute(conn, pg.create_table_sql(table.schema, table.target, kept))
        for column, message in refused.items():
            text = refused_default_warning(table, column, message)
            if text not in self.result.warnings:  # a retried load meets it again
                self._warn(text)

    def _transformer(self, table: TablePlan) -> Transformer:
        return Transformer(
            table,
            self.options.on_bad_value,
            replace_invalid_utf8=self.options.replace_invalid_utf8,
            strip_nul=self.options.strip_nul,
            source=self.source,
        )

    def _copy(
        self,
        conn: Any,
        loaded: Loaded,
        transform: Transformer,
        pieces: list[Chunk],
        schema: str,
        cancel: threading.Event | None = None,
    ) -> int:
        """COPY ``pieces`` of the table in order, read and converted on a prefetch thread."""
        table, rejects = loaded.table, loaded.rejects

        def convert(piece: Chunk) -> Iterator[tuple[pa.RecordBatch, list[RejectedRow]]]:
            for batch in read_table(self.source, table, loaded.batch_rows, piece):
                if cancel is not None and cancel.is_set():
                    raise _Cancelled(table.name)
                yield transform.convert(batch)

        def batches() -> Iterator[pa.RecordBatch]:
            for batch, rejected in Prefetch(pieces, convert):
                if rejected and rejects is not None:
                    rejects.write(rejected, table.rowid)
                yield batch

        assert transform.schema is not None  # every kernel here says what it writes
        return write_table(
            conn,
            schema,
            table.name,
            transform.schema,
            batches(),
            on_batch=lambda n: self.reporter.advance(table.name, n),
            staged=[c.target for c in table.columns if c.decimal_as_text],
        )

    def _table_failed(self, table: TablePlan, message: str, start: float) -> None:
        fatal = not self.options.continue_on_error
        with self.lock:
            self.failed.add(table.name)
            self.result.table_failed(table.name, message, fatal=fatal)
        if fatal:
            self.stop.set()
        self.reporter.table_finished(table.name, 0, time.perf_counter() - start, False)

    def _warn(self, text: str) -> None:
        with self.lock:
            self.result.warnings.append(text)
        self.reporter.message(text)

    def _connection(self, *, autocommit: bool) -> PooledConnection:
        return PooledConnection(self.connections, autocommit)


class _Cancelled(TransferError):
    """A lane stopped because another lane of the same table failed."""

    def __init__(self, table: str) -> None:
        super().__init__(f"table {table!r}: stopped, another lane failed", table=table)


def _rollback(conn: Any) -> None:
    """After a failed COPY the session may still be inside it, holding its lock (driver-traps.md C4)."""
    with contextlib.suppress(Exception):
        conn.rollback()


@dataclass
class Loaded:
    """One table's load: the plan it finally took, rows, and what was rejected."""

    table: TablePlan
    rows: int = 0
    batch_rows: int = 1
    transform: Transformer | None = None
    rejects: RejectFile | None = None
    reject_file: Path | None = None

    @property
    def rows_read(self) -> int:
        return self.transform.rows_read if self.transform else 0

    @property
    def rows_rejected(self) -> int:
        return self.rejects.count if self.rejects else 0
