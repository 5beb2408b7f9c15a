"""PostgreSQL as the Finisher's target: a connection per worker, statements as written.

The server builds each index on one core, so each Finisher worker has a connection of
its own. Each statement runs in one transaction with the record that says it is done
(``arrowferry_state.journal``), so a resumed run neither repeats nor misses one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from arrowferry.dialects.base import Ran, Statement
from arrowferry.dialects.journal import Record
from arrowferry.dialects.postgresql import connection as pgc
from arrowferry.dialects.postgresql import state as pgstate
from arrowferry.urls import Endpoint

# Stage of each kind: a statement waits for the earlier stages of the tables it touches.
STAGES = {
    "vacuum": 0,
    "key_index": 1,
    "index": 1,
    "primary_key": 2,
    "unique": 2,
    "check": 2,
    "foreign_key": 3,
    "sequence": 4,
    "analyze": 4,
}
# Sorting and foreign-key checks are memory-hungry; several run at once.
# https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAINTENANCE-WORK-MEM
_SESSION = ("SET maintenance_work_mem = '256MB'",)


class PostgresFinishing:
    """PostgreSQL: a connection per worker (the server builds each index on one core),
    every statement executed as written, fallbacks to NOT VALID or a plain index."""

    stages: Mapping[str, int] = STAGES

    def __init__(
        self, endpoint: Endpoint, session: Sequence[str] = (), *, state: str | None = None
    ) -> None:
        """``state``: the run whose records the statements done are kept under (None: none)."""
        self.endpoint = endpoint
        self.session = (*_SESSION, *session)
        self.state = state

    def connection(self) -> Any:
        return pgc.connect(self.endpoint, autocommit=True, settings=self.session)

    def release(self, conn: Any) -> None:
        conn.close()

    def execute(self, conn: Any, sql: str) -> None:
        pgc.execute(conn, sql)

    def fetch(self, conn: Any, sql: str) -> list[tuple[Any, ...]]:
        return pgc.fetch(conn, sql)

    def message(self, err: BaseException) -> str:
        return pgc.driver_message(err, self.endpoint)

    def probe_view(self, conn: Any, name: str) -> None:
        """Nothing to do: CREATE VIEW has already checked the view's query."""

    def drop_view(self, conn: Any, name: str) -> None:
        """Nothing to do: a CREATE VIEW that failed left no view."""

    def run(self, conn: Any, stmt: Statement) -> Ran | None:
        return None

    @contextlib.contextmanager
    def recorded(self, conn: Any, stmt: Statement) -> Iterator[list[Record]]:
        """The statement and its records in one transaction; VACUUM cannot run in one,
        and is recorded after it (done twice at worst)."""
        records: list[Record] = []
        if self.state is None:
            yield records
            return
        if stmt.kind == "vacuum":
            yield records
            pgstate.put(conn, self.state, records)
            return
        pgc.execute(conn, "BEGIN")
        try:
            yield records
            pgstate.put(conn, self.state, records)
            pgc.execute(conn, "COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                pgc.execute(conn, "ROLLBACK")
            raise

    def note(self, conn: Any, record: Record) -> None:
        if self.state is not None:
            pgstate.put(conn, self.state, [record])
