"""A SQLite file as the target of a run: one writer, tables one transaction each.

SQLite takes one writer at a time, so every table loads over the one connection, each
created and loaded in one transaction (a failure leaves no table). A new file is built
as ``<name>.arrowferry-partial`` and renamed only when the run is complete, so a file at
the target path is always whole; an existing file gets its tables one transaction at a
time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.base import FAILED, OK, WEAKER, Capturing, Ran, Statement, prepended
from arrowferry.dialects.sqlite import replica_rows
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.errors import TransferError
from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    from arrowferry.model import ForeignKey
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
        if self.fresh:
            self.path.unlink(missing_ok=True)  # a crashed run's leftovers
        self.conn: Any = sqlw.connect(self.path, fresh=self.fresh)

    def prepare(
        self,
        tables: Sequence[TablePlan],
        before: Sequence[Statement],
        *,
        drop: bool,
        data_only: bool,
        rebuild_indexes: bool = False,
    ) -> list[Statement]:
        if self.fresh:
            for stmt in before:  # a new file's encoding and page size, before any table
                sqlw.execute(self.conn, stmt.sql)
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

    def owns(self, err: BaseException) -> bool:
        return "[SQLite]" in str(err)

    def message(self, err: BaseException) -> str:
        return sqlw.driver_message(err)

    # --- finishing: after every load, on the one writer ------------------------------------

    def finishing(self, loaded: Callable[[], Sequence[TablePlan]]) -> SqliteFinishing:
        return SqliteFinishing(self.conn, loaded)

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

    def close(self, *, complete: bool) -> str | None:
        """A fresh file is renamed into place when the run is complete, else removed
        (a run that stopped early has not made the file it promised)."""
        if not self.fresh:
            self.conn.close()
            return None
        if complete:
            sqlw.finalize(self.conn, self.path, self.final)
            return None
        with contextlib.suppress(Exception):
            self.conn.close()
        self.path.unlink(missing_ok=True)
        return (
            f"{self.final} was not created: the run stopped at an error before every "
            "table was in (--continue-on-error keeps the tables that did load)"
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
        for fk in _foreign_keys(table)
    )


def _foreign_keys(table: TablePlan) -> Sequence[ForeignKey]:
    """A table's foreign keys as the file names them: those its CREATE TABLE holds (in the
    run's identifier policy), or, appended into (data_only), the source's by name."""
    return table.source.foreign_keys if table.existing else table.target.foreign_keys


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
        if native.profile is not None and written != native.profile.rows:
            raise TransferError(
                f"table {self.table.name!r}: wrote {written} rows, but the source had "
                f"{native.profile.rows}; was it changed during the run?",
                table=self.table.name,
            )
        return written

    def complete(self) -> None:
        """Committed with its lane."""

    def abort(self) -> None:
        """Rolled back with its lane."""


class SqliteFinishing:
    """SQLite as the Finisher's target: the one writer connection, so one worker and no
    waiting (keys, CHECKs and foreign keys were made with their tables); a CHECK is
    counted rather than added, since SQLite enforced none during the load and can add
    none after it, and the foreign-key check and AUTOINCREMENT are its own kinds."""

    stages: Mapping[str, int] = {}  # nothing waits: statements run in the order given

    def __init__(
        self, conn: Any, tables: Sequence[TablePlan] | Callable[[], Sequence[TablePlan]]
    ) -> None:
        self.conn = conn
        self._tables = tables

    @property
    def tables(self) -> dict[str, TablePlan]:
        """The loaded tables' plans, by name (asked when a statement runs)."""
        found = self._tables() if callable(self._tables) else self._tables
        return {t.name: t for t in found}

    def connection(self) -> Any:
        return self.conn

    def release(self, conn: Any) -> None:
        """The pipeline keeps the writer: it closes the file (and renames it) itself."""

    def execute(self, conn: Any, sql: str) -> None:
        sqlw.execute(conn, sql)

    def fetch(self, conn: Any, sql: str) -> list[tuple[Any, ...]]:
        return sqlw.fetch(conn, sql)

    def message(self, err: BaseException) -> str:
        return sqlw.driver_message(err)

    def probe_view(self, conn: Any, name: str) -> None:
        sqlw.probe_view(conn, name)  # SQLite checks a view's body only when it is used

    def drop_view(self, conn: Any, name: str) -> None:
        sqlw.execute(conn, sqlw.drop_view_sql(name))

    def run(self, conn: Any, stmt: Statement) -> Ran | None:
        if stmt.kind == "check":
            return self._count_check(conn, stmt)
        if stmt.kind == "foreign_key_check":
            return self._check_foreign_keys(conn, stmt)
        if stmt.kind == "sequence":
            table = self.tables[str(stmt.table)]
            adopt = table.create_sql if table.load_sql != table.create_sql else None
            key = next(c.target for c in table.columns if c.source == table.order_by[0])
            sqlw.set_autoincrement(conn, table.name, key, table.sequence or 0, adopt)
            return Ran(OK)
        if stmt.kind == "analyze":
            with contextlib.suppress(Exception):  # statistics are a nicety, never a failure
                sqlw.analyze(conn)
            return Ran(OK)
        try:
            sqlw.execute(conn, stmt.sql)
        except Exception as err:
            return Ran(
                FAILED,
                f"{stmt.kind} {stmt.name!r} on {stmt.table} not created: {sqlw.driver_message(err)}",
            )
        return Ran(OK)

    def _count_check(self, conn: Any, stmt: Statement) -> Ran:
        """``stmt.sql`` counts the rows that break the CHECK named ``stmt.name``."""
        try:
            broken = int(sqlw.fetch(conn, stmt.sql)[0][0])
        except Exception as err:
            return Ran(
                FAILED,
                f"CHECK ({stmt.name}) on {stmt.table} could not be verified: "
                f"{sqlw.driver_message(err)}",
            )
        if not broken:
            return Ran(OK)
        return Ran(
            WEAKER,
            f"CHECK ({stmt.name}) on {stmt.table}: {plural(broken, 'row')} "
            f"{noun(broken, 'breaks', 'break')} its SQLite form "
            "(the expression means something else in SQLite, or the data changed); "
            "SQLite keeps the constraint and will refuse updates of those rows",
            {"table": stmt.table, "constraint": stmt.name, "kind": "check", "rows": broken},
        )

    def _check_foreign_keys(self, conn: Any, stmt: Statement) -> Ran:
        table = self.tables[str(stmt.table)]
        try:
            count, rowids = sqlw.broken_foreign_keys(conn, table.name, _foreign_keys(table))
        except Exception as err:
            return Ran(
                FAILED,
                f"table {table.name}: its foreign keys could not be checked: "
                f"{sqlw.driver_message(err)}",
            )
        if not count:
            return Ran(OK)
        more = f" and {count - len(rowids):,} more" if count > len(rowids) else ""
        return Ran(
            WEAKER,
            f"table {table.name}: {plural(count, 'row')} {noun(count, 'breaks', 'break')} "
            f"a foreign key ({noun(len(rowids), 'rowid')} {', '.join(map(str, rowids))}{more}); "
            "SQLite keeps the key, and PRAGMA foreign_key_check lists them",
            {"table": table.name, "kind": "foreign_key", "rows": count},
        )
