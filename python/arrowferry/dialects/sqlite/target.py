"""A SQLite file as the target of a run: one writer, tables one transaction each.

SQLite takes one writer at a time, so every table loads over the one connection. A new
file is built as ``<name>.arrowferry-partial`` and renamed only when the run is
complete, so a file at the target path is always whole; inside it a large table
commits piece by piece, each piece with the state record that says so, and a run that
stops keeps the partial file for ``--resume``. An existing file gets its tables one
transaction at a time (a failure leaves no table).

The partial file has a rollback journal on disk and ``synchronous = NORMAL``, so a
killed process or a power loss leaves it as of its last commit (SQLite rolls the
journal back when the file is next opened). Only the new pages a table adds are
written: the journal holds the few pages a commit changes, and costs little.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.base import Capturing, Statement, prepended
from arrowferry.dialects.journal import Record
from arrowferry.dialects.sqlite import replica_rows
from arrowferry.dialects.sqlite import state as sqlstate
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.finishing import SqliteFinishing as SqliteFinishing
from arrowferry.dialects.sqlite.finishing import foreign_keys_of
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import TransferError

if TYPE_CHECKING:
    from arrowferry.options import MigrationOptions
    from arrowferry.plan.model import MigrationPlan, TablePlan
    from arrowferry.result import MigrationResult

Ingest = Callable[[pa.Schema | None, Iterator[pa.RecordBatch], Callable[[int], None]], int]


class SqliteTarget:
    """Writes planned tables into one SQLite file."""

    endpoint = None  # a file: no password to keep out of messages
    name = "SQLite"

    @staticmethod
    def writable(arrow_type: pa.DataType) -> bool:
        """Each of these binds as exactly one storage class."""
        return arrow_type in sqlw.WRITABLE

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:
        from arrowferry.dialects.sqlite.dialect import DIALECT

        self.capabilities = DIALECT.capabilities
        self.final = path
        self.warn = warn
        self.fresh = not path.exists()
        self.path = sqlw.partial_path(path) if self.fresh else path
        # a partial file with a state is an interrupted run this run resumes (the facade
        # refused, or discarded it, otherwise); one without is a crashed run's leftover
        if self.fresh and not sqlstate.file_has_state(self.path):
            self.path.unlink(missing_ok=True)
        self.conn: Any = sqlw.connect(self.path, fresh=self.fresh)
        if self.fresh:  # crash-safe: a run that stops is resumed from this file
            for pragma in ("PRAGMA journal_mode = DELETE", "PRAGMA synchronous = NORMAL"):
                sqlw.execute(self.conn, pragma)
        self.commits_pieces = self.fresh  # nobody sees the tables until the rename
        self.journal = False

    def prepare(
        self,
        tables: Sequence[TablePlan],
        before: Sequence[Statement],
        *,
        drop: bool,
        data_only: bool,
        rebuild_indexes: bool = False,
        state: Callable[[Sequence[Statement]], Sequence[Record]] | None = None,
        views: Collection[str] = (),
    ) -> list[Statement]:
        if self.fresh:
            for stmt in before:  # a new file's encoding and page size, before any table
                sqlw.execute(self.conn, stmt.sql)
        sqlw.execute(self.conn, "BEGIN")
        try:
            if drop and not data_only:
                for table in tables:
                    sqlw.execute(self.conn, sqlw.drop_table_sql(table.name))
            if state is not None:
                sqlstate.ensure(self.conn)
                self.journal = True
                self.record(state([]))
            sqlw.execute(self.conn, "COMMIT")
        except BaseException:
            self.journal = False
            with contextlib.suppress(Exception):
                sqlw.execute(self.conn, "ROLLBACK")
            raise
        return []

    def resume(self) -> None:
        """Continue an interrupted run: its state is in the file; nothing is dropped again."""
        self.journal = sqlstate.has_state(self.conn)

    def record(self, records: Sequence[Record]) -> None:
        """Keep ``records`` in the current transaction (when the run keeps state)."""
        if self.journal and records:
            sqlstate.put(self.conn, records)

    def allow_lanes(self, say: Callable[[str], None]) -> bool:
        return False

    def table_load(
        self, table: TablePlan, lanes: int, *, create: bool, resumed: bool = False
    ) -> SqliteTableLoad:
        return SqliteTableLoad(self, table, create, resumed)

    def rows_in(self, table: str) -> int:
        return int(sqlw.fetch(self.conn, f"SELECT count(*) FROM {quote_ident(table)}")[0][0])

    def reconnect(self) -> None:
        """The file's one connection stays: nothing to forget."""

    def owns(self, err: BaseException) -> bool:
        return "[SQLite]" in str(err)

    def message(self, err: BaseException) -> str:
        return sqlw.driver_message(err)

    # --- finishing: after every load, on the one writer ------------------------------------

    def finishing(self, loaded: Callable[[], Sequence[TablePlan]]) -> SqliteFinishing:
        return SqliteFinishing(self.conn, loaded, state=self.journal)

    def statements(
        self, plan: MigrationPlan, options: MigrationOptions, restore: Sequence[Statement]
    ) -> list[Statement]:
        return []  # the writer is busy loading: everything runs after the loads

    def statements_after(
        self,
        plan: MigrationPlan,
        loaded: Sequence[TablePlan],
        options: MigrationOptions,
        result: MigrationResult,
    ) -> list[Statement]:
        """Table by table its indexes and CHECK counts, then its AUTOINCREMENT; then the
        foreign-key checks; then ANALYZE. A data_only run changes no schema: it only
        counts what its new rows break. A copy of a SQLite file replays its source's own
        statements, in order."""
        if any(t.native is not None for t in plan.tables):
            for table in loaded:  # made with their tables, in the copied CREATE text
                result.summary.foreign_keys_created += len(table.source.foreign_keys)
                result.summary.constraints_applied += len(table.source.foreign_keys)
            return [] if options.data_only else list(plan.finish)
        schema_changes = not options.data_only
        out: list[Statement] = []
        for table in loaded:
            out += [s for s in table.finish if schema_changes or s.kind == "check"]
            if table.sequence is not None and schema_changes:
                # the definition the table ends with (SqliteFinishing reads the rest from the plan)
                name = f"{table.name}.{table.order_by[0]}"
                out.append(Statement("sequence", table.create_sql, table.name, name))
        for table in loaded:
            if not table.source.foreign_keys:
                continue
            # made with the table, like its primary key: counted whether or not checked
            result.summary.foreign_keys_created += len(table.source.foreign_keys)
            result.summary.constraints_applied += len(table.source.foreign_keys)
            if _needs_key_check(table, loaded, options, result):
                check = sqlw.foreign_key_check_sql(table.name)
                out.append(Statement("foreign_key_check", check, table.name, table.name))
        # after every table's statements (it waits for them all); the views, which have
        # no statistics, follow. A nicety, never a failure.
        out.append(Statement("analyze", "ANALYZE", None, "ANALYZE"))
        return out

    def views(
        self,
        plan: MigrationPlan,
        options: MigrationOptions,
        restore: Sequence[Statement],
        *,
        stopped: bool,
    ) -> list[Statement]:
        if stopped or options.data_only or any(t.native is not None for t in plan.tables):
            return []  # a copy's views are among its replayed statements
        return [s for s in plan.finish if s.kind == "view"]

    def run_script(self, statements: Sequence[str]) -> None:
        """On the one writer, keys and CHECKs enforced as for any application (the load
        turns both off: they are checked and counted after it)."""
        from arrowferry.dialects.script import ScriptError

        conn = self.conn
        sqlw.execute(conn, "PRAGMA foreign_keys = ON")  # not settable inside a transaction
        sqlw.execute(conn, "PRAGMA ignore_check_constraints = OFF")
        try:
            sqlw.execute(conn, "BEGIN")
            try:
                for index, sql in enumerate([*statements, "COMMIT"]):
                    try:
                        sqlw.execute(conn, sql)
                    except Exception as err:
                        raise ScriptError(index, self.message(err)) from err
            except BaseException:
                with contextlib.suppress(Exception):
                    sqlw.execute(conn, "ROLLBACK")
                raise
        finally:
            sqlw.execute(conn, "PRAGMA foreign_keys = OFF")
            sqlw.execute(conn, "PRAGMA ignore_check_constraints = ON")

    def close(self, *, complete: bool, keep: bool = True) -> str | None:
        """A fresh file is renamed into place when the run is complete, its state
        dropped first; a run that stopped keeps it for ``--resume`` (a file that holds
        no state yet is removed)."""
        if not self.fresh:
            if (complete or not keep) and self.journal:
                sqlstate.drop(self.conn)
            self.conn.close()
            return None
        if complete:
            self._writable_folder()
            if self.journal:
                sqlstate.drop(self.conn)
            try:
                sqlw.finalize(self.conn, self.path, self.final)
            except OSError as err:
                raise TransferError(
                    f"cannot put {self.final} in place ({err.strerror}): the migrated database "
                    f"is complete in {self.path}; rename it yourself",
                    table="",
                ) from None
            return None
        with contextlib.suppress(Exception):
            self.conn.close()
        if keep and self.journal:
            return (
                f"{self.final} was not created: the run stopped before every table was in; "
                f"what it did is kept in {self.path}: run the same command with --resume to "
                "finish it, or with --drop-tables to start over"
            )
        try:
            self.path.unlink(missing_ok=True)
        except OSError as err:
            return (
                f"{self.final} was not created, and {self.path} could not be removed "
                f"({err.strerror}): remove it, or run again with --drop-tables"
            )
        return (
            f"{self.final} was not created: the run stopped at an error before every "
            "table was in (--continue-on-error keeps the tables that did load)"
        )

    def _writable_folder(self) -> None:
        """Refuse before the state is dropped when the file cannot be renamed into place:
        the run can then be resumed."""
        folder = self.final.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            with contextlib.suppress(Exception):
                self.conn.close()
            raise TransferError(
                f"cannot put {self.final} in place: its folder {str(folder)!r} is not writable "
                f"(every table is in {self.path}); make it writable and run the same command "
                "with --resume",
                table="",
            )


def _needs_key_check(
    table: TablePlan,
    loaded: Sequence[TablePlan],
    options: MigrationOptions,
    result: MigrationResult,
) -> bool:
    """Whether SQLite must check a table's foreign keys after the load.

    All tables are read in one snapshot, so a key the source validated holds in the
    copy too, unless its referenced table lost rows on the way (rejected, or not
    loaded) or rows were appended to an older file (data_only). Checking costs a
    lookup per row (2M rows: ~1.7 s), as much as building an index.
    """
    names = {t.name for t in loaded}
    lost = {r["table"] for r in result.rejected}
    return options.data_only or any(
        not fk.validated or fk.ref_table in lost or fk.ref_table not in names
        for fk in foreign_keys_of(table)
    )


class SqliteTableLoad:
    """One table's load over the file's one connection: in one transaction, or (a new
    file's table) one transaction per piece, the first creating the table."""

    staged = False

    def __init__(self, target: SqliteTarget, table: TablePlan, create: bool, resumed: bool) -> None:
        self.target = target
        self.table = table
        self.create = create
        self.made = resumed  # committed transactions hold (part of) the table
        self.pending: list[Record] = []

    def start(self, record: Record) -> None:
        self.pending.append(record)

    @contextlib.contextmanager
    def lane(self) -> Iterator[_Writer]:
        conn = self.target.conn
        try:
            sqlw.execute(conn, "BEGIN")
            if self.create and not self.made:
                sqlw.execute(conn, self.table.load_sql or self.table.create_sql)
            pending, self.pending = self.pending, []
            self.target.record(pending)
            yield _Writer(self)
            sqlw.execute(conn, "COMMIT")
            self.made = self.made or self.create
        except BaseException:
            with contextlib.suppress(Exception):
                sqlw.execute(conn, "ROLLBACK")
            raise

    def rows_there(self) -> int | None:
        name = self.table.name
        if not sqlw.fetch(self.target.conn, "SELECT 1 FROM sqlite_master WHERE name = ?", (name,)):
            return None
        return self.target.rows_in(name)

    def _ingest(self, batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]) -> int:
        if self.table.native is not None:
            return self._ingest_native(batches, on_batch)
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
        reader = pa.RecordBatchReader.from_batches(head.schema, prepended(head, stream))
        try:
            sqlw.ingest(self.target.conn, self.table.name, reader)
        except BaseException:
            if capture.error is not None:
                raise capture.error from None
            raise
        return written

    def _ingest_native(
        self, batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]
    ) -> int:
        """A copy's rows, class by class, through one bound INSERT (``replica_rows``)."""
        native = self.table.native
        _sql, layout = native.read_sql()

        def counted() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                on_batch(batch.num_rows)
                yield batch

        capture = Capturing(counted())
        reader = pa.RecordBatchReader.from_batches(layout.schema, iter(capture))
        try:
            written = replica_rows.ingest(self.target.conn, native.replica, layout, reader)
        except BaseException:
            if capture.error is not None:
                raise capture.error from None
            raise
        # a table committed piece by piece is counted whole when complete
        piecewise = self.target.commits_pieces
        if native.profile is not None and written != native.profile.rows and not piecewise:
            raise TransferError(
                f"table {self.table.name!r}: wrote {written} rows, but the source had "
                f"{native.profile.rows}; was it changed during the run?",
                table=self.table.name,
            )
        return written

    def complete(self, record: Record | None = None) -> None:
        """Committed with its (last) lane; a copied table is counted (pieces hold parts)."""
        native = self.table.native
        if native is None or native.profile is None or not self.target.commits_pieces:
            return
        written = self.rows_there() or 0
        if written != native.profile.rows:
            raise TransferError(
                f"table {self.table.name!r}: wrote {written} rows, but the source had "
                f"{native.profile.rows}; was it changed during the run?",
                table=self.table.name,
            )

    def abort(self, *, keep: bool = False) -> None:
        """Remove a table whose pieces committed (a new file's), and forget it; ``keep``
        leaves it, in the partial file, for a retry or ``--resume``."""
        if keep or not self.made or not self.create:
            return
        conn = self.target.conn
        with contextlib.suppress(Exception):
            sqlw.execute(conn, "BEGIN")
            try:
                sqlw.execute(conn, sqlw.drop_table_sql(self.table.name))
                if self.target.journal:
                    sqlstate.forget(conn, self.table.name, ("load", "piece", "placed"))
                sqlw.execute(conn, "COMMIT")
            except BaseException:
                sqlw.execute(conn, "ROLLBACK")
                raise
            self.made = False


class _Writer:
    """The lane's ingest and its state records, in the lane's transaction."""

    def __init__(self, load: SqliteTableLoad) -> None:
        self.load = load

    def __call__(
        self,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        on_batch: Callable[[int], None],
    ) -> int:
        return self.load._ingest(batches, on_batch)

    def record(self, records: Sequence[Record]) -> None:
        self.load.target.record(records)
