"""SQLite as the Finisher's target: the file's one writer, statements in the order given.

Keys, CHECKs and foreign keys were made with their tables, so nothing waits; a CHECK
is counted rather than added (SQLite enforced none during the load and can add none
after it), and the foreign-key check and AUTOINCREMENT are kinds of its own. Each
statement runs in one transaction with the record that says it is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.base import FAILED, OK, WEAKER, Ran, Statement
from arrowferry.dialects.journal import Record
from arrowferry.dialects.sqlite import state as sqlstate
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    from arrowferry.model import ForeignKey
    from arrowferry.plan.model import TablePlan


INDEX_KINDS = frozenset({"index", "unique"})  # built by SQLite's sorter (sqlw.sorting)


def foreign_keys_of(table: TablePlan) -> Sequence[ForeignKey]:
    """A table's foreign keys as the file names them: those its CREATE TABLE holds (in the
    run's identifier policy), or, appended into (data_only), the source's by name."""
    return table.source.foreign_keys if table.existing else table.target.foreign_keys


class SqliteFinishing:
    """SQLite as the Finisher's target: the one writer connection, so one worker and no
    waiting (keys, CHECKs and foreign keys were made with their tables); a CHECK is
    counted rather than added, since SQLite enforced none during the load and can add
    none after it, and the foreign-key check and AUTOINCREMENT are its own kinds."""

    stages: Mapping[str, int] = {}  # nothing waits: statements run in the order given

    def __init__(
        self,
        conn: Any,
        tables: Sequence[TablePlan] | Callable[[], Sequence[TablePlan]],
        *,
        state: bool = False,
    ) -> None:
        """``state``: keep a record of each statement done in the file."""
        self.conn = conn
        self._tables = tables
        self.state = state

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

    @contextlib.contextmanager
    def recorded(self, conn: Any, stmt: Statement) -> Iterator[list[Record]]:
        """The statement and its records in one transaction (AUTOINCREMENT's adoption has
        one of its own, and is recorded after it: doing it twice changes nothing)."""
        records: list[Record] = []
        if not self.state or stmt.kind == "sequence":
            yield records
            if self.state:
                sqlstate.put(conn, records)
            return
        sqlw.execute(conn, "BEGIN")
        try:
            yield records
            sqlstate.put(conn, records)
            sqlw.execute(conn, "COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                sqlw.execute(conn, "ROLLBACK")
            raise

    def note(self, conn: Any, record: Record) -> None:
        if self.state:
            sqlstate.put(conn, [record])

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
                if stmt.table is None:
                    sqlw.analyze(conn)
                else:  # one table (an incremental run's), from about 1000 rows per index
                    sqlw.execute(conn, "PRAGMA analysis_limit = 1000")
                    sqlw.execute(conn, stmt.sql)
            return Ran(OK)
        try:
            with sqlw.sorting(conn) if stmt.kind in INDEX_KINDS else contextlib.nullcontext():
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
            count, rowids = sqlw.broken_foreign_keys(conn, table.name, foreign_keys_of(table))
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
