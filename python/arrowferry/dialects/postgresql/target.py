"""A PostgreSQL schema as the target of a run: prepare, create, COPY in lanes, clean up.

Each table is created and loaded in one transaction (a failure leaves no table, and
with ``wal_level=minimal`` the COPY into a table created in the same transaction
skips WAL). A large table may load over several connections at once (lanes): it is
then built in a staging schema, each lane commits, and the table moves into the target
schema only when all are in; a failure drops it, and a crash leaves it in the staging
schema, never looking complete.

No ``synchronous_commit=off`` in loading sessions: each table (or lane) commits once,
so it saves one WAL flush per table, and until its commit record is flushed the server
sets no hint bits on its rows, so the VACUUM that follows could not mark the pages
all-visible (measured: none were, on a table vacuumed right after an async commit).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry import faults
from arrowferry.dialects.base import Statement, prepended
from arrowferry.dialects.journal import Record
from arrowferry.dialects.pool import Pool, PooledConnection
from arrowferry.dialects.postgresql import connection as pgc
from arrowferry.dialects.postgresql import ddl
from arrowferry.dialects.postgresql import defaults as pgd
from arrowferry.dialects.postgresql import dependents as pgdep
from arrowferry.dialects.postgresql import state as pgstate
from arrowferry.dialects.postgresql.finishing import STAGES as STAGES
from arrowferry.dialects.postgresql.finishing import PostgresFinishing as PostgresFinishing
from arrowferry.dialects.postgresql.native import LAST_KINDS
from arrowferry.dialects.postgresql.replica import search_path_sql
from arrowferry.dialects.postgresql.write import write_table
from arrowferry.urls import Endpoint
from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    from arrowferry.options import MigrationOptions
    from arrowferry.plan.model import MigrationPlan, TablePlan
    from arrowferry.result import MigrationResult

STAGING_SCHEMA = "arrowferry_loading"
Ingest = Callable[[pa.Schema | None, Iterator[pa.RecordBatch], Callable[[int], None]], int]


class PostgresTarget:
    """Writes planned tables into one schema of a PostgreSQL database."""

    name = "PostgreSQL"
    writable = None  # the writer holds every field to the real column's type (write_table)
    commits_pieces = False  # a large table commits piece by piece in its lanes (staged)

    def __init__(
        self,
        endpoint: Endpoint,
        schema: str,
        warn: Callable[[str], None],
        *,
        native: bool = False,
    ) -> None:
        from arrowferry.dialects.postgresql.dialect import DIALECT

        self.capabilities = DIALECT.capabilities
        self.endpoint = endpoint
        self.schema = schema
        self.warn = warn
        # a same-dialect copy replays its source's definitions, whose names are
        # unqualified: every session resolves them in the target schema
        self.session = (search_path_sql(schema),) if native else ()
        self.pool = Pool(self._connect, pgc.alive)
        self.staging: str | None = None  # the schema split loads are built in, once it exists
        self.lock = threading.Lock()
        self.journal = False  # the run's state is kept (arrowferry_state.journal)

    def _connect(self, autocommit: bool) -> Any:
        return pgc.connect(self.endpoint, autocommit=autocommit, settings=self.session)

    # --- before the loads --------------------------------------------------------------

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
        """Create the schema; drop the tables to replace (keeping what CASCADE takes) or
        suspend the foreign keys of tables appended into; run ``before`` (a copy's types
        and sequences). Returns the statements that put back, after the load, what was
        taken away; the run's first ``state`` records commit with all that."""
        restore: list[Statement] = []
        if state is not None:
            self._keep_state()
        with PooledConnection(self.pool, False) as conn:
            if self.schema != "public":
                pgc.execute(conn, ddl.create_schema_sql(self.schema))
            if drop and not data_only:
                restore += self._keep_dependents(conn, [t.name for t in tables], views)
                for table in tables:
                    pgc.execute(conn, ddl.drop_table_sql(self.schema, table.name))
            if data_only and rebuild_indexes:
                restore += self._suspend_indexes(conn, [t.name for t in tables])
            if data_only:
                restore += self._suspend_foreign_keys(conn, [t.name for t in tables])
            elif before:
                for stmt in before:
                    pgc.execute(conn, stmt.sql)
            if state is not None:
                self.record(conn, state(restore))
            conn.commit()
        return restore

    def _keep_state(self) -> None:
        """Make the state's table; without the right to (no CREATE on the database) the
        run goes on, and cannot be resumed."""
        try:
            with PooledConnection(self.pool, True) as conn:
                pgstate.ensure(conn)
        except Exception as err:
            self.warn(
                f"the run keeps no state, so it cannot be resumed if interrupted: schema "
                f"{pgstate.STATE_SCHEMA!r} could not be made ({pgc.driver_message(err, self.endpoint)})"
            )
            return
        self.journal = True

    def resume(self) -> None:
        """Continue an interrupted run: its state is there; nothing is dropped again."""
        self.journal = True

    def record(self, conn: Any, records: Sequence[Record]) -> None:
        """Keep ``records`` in ``conn``'s transaction (when the run keeps state)."""
        if self.journal and records:
            pgstate.put(conn, self.schema, records)

    def forget(self, conn: Any, table: str, kinds: Sequence[str]) -> None:
        if self.journal:
            pgstate.forget(conn, self.schema, table, kinds)

    def _keep_dependents(
        self, conn: Any, names: list[str], views: Collection[str] = ()
    ) -> list[Statement]:
        """What DROP ... CASCADE takes from the rest of the target (other tables' foreign
        keys, views) is re-created once the new rows are in, and said: a key the new rows
        violate comes back NOT VALID, a view that no longer fits is named. A view the run
        creates itself (an earlier run's, run again) is replaced by it, not put back."""
        out = []
        replaced = []
        for dep in pgdep.dependents(conn, self.schema, names):
            if dep.kind != "foreign_key" and dep.schema == self.schema and dep.name in views:
                replaced.append(dep.name)
                continue
            self.warn(
                f"drop_tables: {dep.label} depends on a replaced table; it is dropped with it "
                "and re-created after the load"
            )
            key = dep.kind == "foreign_key"
            out.append(
                Statement(
                    "foreign_key" if key else "view",
                    dep.create_sql(),
                    None,  # after every table: re-created whichever tables loaded
                    f"{dep.name} of {dep.schema}.{dep.table}" if key else dep.name,
                    fallback_sql=dep.create_sql(valid=False) if key else None,
                    fallback_note="the new rows violate it",
                )
            )
        if replaced:  # one line: a migration run again replaces every view it made
            self.warn(
                f"drop_tables: {plural(len(replaced), 'view')} of the target reading the "
                f"replaced tables {noun(len(replaced), 'is', 'are')} replaced by the source's "
                f"of the same {noun(len(replaced), 'name', 'names')}: {', '.join(replaced)}"
            )
        return out

    def _suspend_indexes(self, conn: Any, names: list[str]) -> list[Statement]:
        """--rebuild-indexes: each index of the loaded tables that no constraint owns is
        dropped before the load and built again, from its own definition, after it (one
        sorted build instead of an insert per row into each index)."""
        out = []
        for _table, name, definition in ddl.plain_indexes(conn, self.schema, names):
            pgc.execute(conn, ddl.drop_index_sql(self.schema, name))
            # always restored, whichever tables loaded (None: not waiting for a load)
            out.append(Statement("index", definition, None, name))
        if out:
            self.warn(
                f"rebuild_indexes: {len(out)} index(es) of the loaded tables "
                f"({', '.join(s.name for s in out)}) are dropped for the load and built "
                "again, as they were defined, after it"
            )
        return out

    def _suspend_foreign_keys(self, conn: Any, names: list[str]) -> list[Statement]:
        """Appending into tables with live foreign keys fails on load order (and on cycles).

        The keys touching the loaded tables are dropped in the same transaction that
        starts the run and re-created, validated, once the rows are in; one the data
        violates comes back NOT VALID with a warning.
        """
        out = []
        for table, name, definition in ddl.foreign_keys_touching(conn, self.schema, names):
            pgc.execute(conn, ddl.drop_constraint_sql(self.schema, table, name))
            out.append(
                Statement(
                    "foreign_key",
                    ddl.add_constraint_sql(self.schema, table, name, definition),
                    None,  # always restored, whichever tables loaded
                    name,
                    fallback_sql=ddl.add_constraint_sql(
                        self.schema, table, name, definition + " NOT VALID"
                    ),
                )
            )
        if out:
            self.warn(
                f"data_only: {len(out)} foreign key(s) touching the loaded tables "
                f"({', '.join(s.name for s in out)}) are dropped for the load, so rows can arrive "
                "in any order, and re-created, validated, after it; the target's other "
                "constraints and its indexes stay as they are"
            )
        return out

    def allow_lanes(self, say: Callable[[str], None]) -> bool:
        """Make the schema split tables are built in; without it (no CREATE right) no
        table is split."""
        try:
            with PooledConnection(self.pool, True) as conn:
                pgc.execute(conn, ddl.create_schema_sql(STAGING_SCHEMA))
        except Exception as err:
            say(
                f"large tables load over one connection: schema {STAGING_SCHEMA!r} could not be "
                f"created ({pgc.driver_message(err, self.endpoint)})"
            )
            return False
        self.staging = STAGING_SCHEMA
        return True

    # --- one table -----------------------------------------------------------------------

    def table_load(
        self, table: TablePlan, lanes: int, *, create: bool, resumed: bool = False
    ) -> PostgresTableLoad:
        return PostgresTableLoad(self, table, lanes, create, resumed)

    def rows_in(self, table: str) -> int:
        with PooledConnection(self.pool, True) as conn:
            return pgstate.count_rows(conn, self.schema, table) or 0

    def reconnect(self) -> None:
        self.pool.close()  # idle connections of a lost server are dead; new ones are made

    def create(self, conn: Any, table: TablePlan, schema: str) -> None:
        """CREATE TABLE; a default the server refuses costs that default, not the table."""
        if table.native is not None:  # the source's own definition, kept as it is
            for sql in table.native.create_in(schema):
                pgc.execute(conn, sql)
            return
        with PooledConnection(self.pool, True) as trial:
            refused = pgd.refused_defaults(trial, table.target, table.defaults)
        kept = {c: d for c, d in table.defaults.items() if c not in refused}
        pgc.execute(conn, ddl.create_table_sql(schema, table.target, kept))
        for column, message in refused.items():
            source = table.columns[table.column_index(column)].source
            self.warn(
                f"default of {table.source.name}.{source} dropped: PostgreSQL refused "
                f"{table.defaults[column]} ({message})"
            )

    def owns(self, err: BaseException) -> bool:
        return "[SQLite]" not in str(err)

    def message(self, err: BaseException) -> str:
        return pgc.driver_message(err, self.endpoint)

    # --- finishing: beside the loads, on connections of its own ----------------------------

    def finishing(self, loaded: Callable[[], Sequence[TablePlan]]) -> PostgresFinishing:
        return PostgresFinishing(
            self.endpoint, self.session, state=self.schema if self.journal else None
        )

    def statements(
        self, plan: MigrationPlan, options: MigrationOptions, restore: Sequence[Statement]
    ) -> list[Statement]:
        """What runs as tables load, largest tables first (views keep their order): a
        table's indexes and keys start building as soon as its load commits."""
        if options.data_only:
            kinds = {"vacuum", "sequence", "analyze"}
            todo = [s for s in plan.finish if s.kind in kinds]
        else:
            todo = [s for s in plan.finish if s.kind not in LAST_KINDS]
        todo += [s for s in restore if s.kind in {"index", "foreign_key"}]
        rows = {t.name: t.rows for t in plan.tables}
        todo.sort(key=lambda s: -rows.get(s.table or "", 0))  # stable sort
        return todo

    def statements_after(
        self,
        plan: MigrationPlan,
        loaded: Sequence[TablePlan],
        options: MigrationOptions,
        result: MigrationResult,
    ) -> list[Statement]:
        return []

    def views(
        self,
        plan: MigrationPlan,
        options: MigrationOptions,
        restore: Sequence[Statement],
        *,
        stopped: bool,
    ) -> list[Statement]:
        """The plan's views (none when the run stopped or only appended), then those
        DROP ... CASCADE took, which come back whichever tables loaded."""
        planned = [] if stopped or options.data_only else plan.finish
        return [s for s in (*planned, *restore) if s.kind in LAST_KINDS]

    # --- a user's statements (before_sql, after_sql) ------------------------------------

    def run_script(self, statements: Sequence[str]) -> None:
        """In one transaction; unqualified names resolve in the target schema first. Each
        statement goes as a simple query (ADBC's ``executescript``): ``execute`` would
        prepare it and read a SELECT's rows through COPY. ``executescript`` commits a
        driver-managed transaction first, so the session is in autocommit and the
        transaction is spelled out; an error closes the session, which rolls it back."""
        from arrowferry.dialects import sqllog
        from arrowferry.dialects.script import ScriptError
        from arrowferry.dialects.sqltext import quote_ident

        path = ", ".join(dict.fromkeys([quote_ident(self.schema), quote_ident("public")]))
        with PooledConnection(self.pool, True) as conn, conn.cursor() as cur:
            cur.executescript("BEGIN")
            # the user's statements run in the server's, database's and role's own settings
            cur.executescript(f"SET LOCAL search_path = {path}; {pgc.USER_DEFAULTS}")
            for index, sql in enumerate([*statements, "COMMIT"]):
                sqllog.statement("postgresql", sql, None)
                try:
                    cur.executescript(sql)
                except Exception as err:
                    raise ScriptError(index, self.message(err)) from err

    # --- after the loads -------------------------------------------------------------------

    def close(self, *, complete: bool, keep: bool = True) -> str | None:
        """Remove the run's state when it is complete (or not worth keeping), and the
        staging schema when empty (a table an interrupted run left there stays, for
        ``--resume``); close the connections."""
        if (complete or not keep) and self.journal:
            self._clear_state()
        if self.staging is not None:
            with contextlib.suppress(Exception), PooledConnection(self.pool, True) as conn:
                pgc.execute(conn, ddl.drop_empty_schema_sql(self.staging))
        self.pool.close()
        if complete or not keep or not self.journal:
            return None
        return (
            f"the run stopped before every table was in; what it did is kept (its state in "
            f"schema {pgstate.STATE_SCHEMA!r}): run the same command with --resume to finish "
            "it, or with --drop-tables to start over"
        )

    def _clear_state(self) -> None:
        """The run's records removed, on a new connection after a lost one
        (``faults.BACKOFF``; each statement is whole: done again, it changes nothing)."""

        def clear() -> None:
            with PooledConnection(self.pool, True) as conn:
                pgstate.clear(conn, self.schema)

        faults.retried_saying(clear, "removing the run's state", self.warn)


class PostgresTableLoad:
    """One table's load: one lane creates and loads it in one transaction; several lanes
    load it in the staging schema, each committing piece by piece, and it moves into
    place at the end (``resumed``: an interrupted run's table, continued there)."""

    def __init__(
        self, target: PostgresTarget, table: TablePlan, lanes: int, create: bool, resumed: bool
    ) -> None:
        self.target = target
        self.table = table
        self.lanes = lanes
        self.create = create
        self.schema = target.schema
        self.staged = lanes > 1 or resumed  # only a staged table is ever left half loaded
        self.pending: list[Record] = []  # written by the first lane's transaction
        if self.staged:
            self.schema = target.staging = STAGING_SCHEMA  # emptied and dropped at the end
            if not resumed:
                with PooledConnection(target.pool, True) as conn:
                    pgc.execute(conn, ddl.drop_table_sql(self.schema, table.name))
                    target.create(conn, table, self.schema)

    def start(self, record: Record) -> None:
        if not self.staged:
            self.pending.append(record)
            return
        with PooledConnection(self.target.pool, True) as conn:
            self.target.record(conn, [record])

    @contextlib.contextmanager
    def lane(self) -> Iterator[_Writer]:
        """A writer in its own transaction, committed when the block ends cleanly."""
        with PooledConnection(self.target.pool, False) as conn:
            try:
                if not self.staged and self.create:
                    self.target.create(conn, self.table, self.schema)
                pending, self.pending = self.pending, []
                self.target.record(conn, pending)
                yield _Writer(self, conn)
                conn.commit()
            except BaseException:
                # after a failed COPY the session may still be inside it, holding its lock
                # (driver-traps.md C4)
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise

    def _ingest(
        self,
        conn: Any,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        on_batch: Callable[[int], None],
    ) -> int:
        if schema is None:  # the converted batches say their own types
            head = next(batches, None)
            if head is None:
                return 0
            schema = head.schema
            batches = prepended(head, batches)
        staged = [c.target for c in self.table.columns if c.staged]
        return write_table(
            conn, self.schema, self.table.name, schema, batches, on_batch=on_batch, staged=staged
        )

    def rows_there(self) -> int | None:
        with PooledConnection(self.target.pool, True) as conn:
            return pgstate.count_rows(conn, self.schema, self.table.name)

    def complete(self, record: Record | None = None) -> None:
        if not self.staged:
            return
        with PooledConnection(self.target.pool, False) as conn:
            pgc.execute(conn, ddl.set_schema_sql(self.schema, self.table.name, self.target.schema))
            self.target.record(conn, [record] if record is not None else [])
            conn.commit()

    def abort(self, *, keep: bool = False) -> None:
        """Drop a half-built split table and forget it (the cleanup must not hide why the
        load failed); ``keep`` leaves it, out of sight, for a retry or ``--resume``."""
        if not self.staged or keep:
            return
        with contextlib.suppress(Exception), PooledConnection(self.target.pool, False) as conn:
            pgc.execute(conn, ddl.drop_table_sql(self.schema, self.table.name))
            self.target.forget(conn, self.table.name, ("load", "piece", "placed"))
            conn.commit()


class _Writer:
    """A lane's ingest and its state records, on the lane's connection and transaction."""

    def __init__(self, load: PostgresTableLoad, conn: Any) -> None:
        self.load = load
        self.conn = conn

    def __call__(
        self,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        on_batch: Callable[[int], None],
    ) -> int:
        return self.load._ingest(self.conn, schema, batches, on_batch)

    def record(self, records: Sequence[Record]) -> None:
        self.load.target.record(self.conn, records)
