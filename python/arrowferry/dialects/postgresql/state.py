"""PostgreSQL keeps a run's state in a schema of its own: ``arrowferry_state.journal``.

One table for every run into the database, keyed by the target schema (one run at a
time per target schema). Records are written in the transaction of the work they
describe, by the connection doing that work, so after a crash, a killed client or a
server restart they say exactly what committed. The table goes when the last run that
used it completes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from arrowferry.dialects.journal import Record
from arrowferry.dialects.postgresql import connection as pgc
from arrowferry.dialects.postgresql.connection import qname
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.urls import Endpoint

STATE_SCHEMA = "arrowferry_state"
STATE_TABLE = "journal"
_JOURNAL = qname(STATE_SCHEMA, STATE_TABLE)


def ensure(conn: Any) -> None:
    """Create the state's schema and table when missing (idempotent)."""
    pgc.execute(conn, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(STATE_SCHEMA)}")
    pgc.execute(
        conn,
        f"CREATE TABLE IF NOT EXISTS {_JOURNAL} (run text NOT NULL, kind text NOT NULL, "
        "name text NOT NULL, piece integer NOT NULL, body text NOT NULL, "
        "PRIMARY KEY (run, kind, name, piece))",
    )


def put(conn: Any, run: str, records: Iterable[Record]) -> None:
    """Keep ``records`` in the connection's current transaction (replacing older ones)."""
    for r in records:
        pgc.execute(
            conn,
            f"INSERT INTO {_JOURNAL} (run, kind, name, piece, body) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (run, kind, name, piece) DO UPDATE SET body = EXCLUDED.body",
            [run, r.kind, r.name, r.piece, r.body],
        )


def forget(conn: Any, run: str, name: str, kinds: Sequence[str]) -> None:
    """Remove the records of ``kinds`` about ``name`` (a table started over)."""
    for kind in kinds:
        pgc.execute(
            conn,
            f"DELETE FROM {_JOURNAL} WHERE run = $1 AND name = $2 AND kind = $3",
            [run, name, kind],
        )


def exists(conn: Any) -> bool:
    rows = pgc.fetch(conn, "SELECT to_regclass($1) IS NOT NULL", [_JOURNAL])
    return bool(rows and rows[0][0])


def records(conn: Any, run: str) -> list[Record] | None:
    """The records of ``run`` (None: no run was interrupted there)."""
    if not exists(conn):
        return None
    rows = pgc.fetch(
        conn,
        f"SELECT kind, name, piece, body FROM {_JOURNAL} WHERE run = $1 ORDER BY kind, name, piece",
        [run],
    )
    found = [Record(str(k), str(n), int(p), str(b)) for k, n, p, b in rows]
    return found if any(r.kind == "run" for r in found) else None


def clear(conn: Any, run: str) -> None:
    """Remove ``run``'s records; the table and schema too when no other run uses them.

    ``conn`` is in autocommit: the DELETE commits on its own; the drop waits for no
    other run (NOWAIT), and is left for a later run when another one holds the table.
    """
    if not exists(conn):
        return
    pgc.execute(conn, f"DELETE FROM {_JOURNAL} WHERE run = $1", [run])
    with contextlib.suppress(Exception):
        pgc.execute(conn, "BEGIN")
        try:
            pgc.execute(conn, f"LOCK TABLE {_JOURNAL} IN ACCESS EXCLUSIVE MODE NOWAIT")
            if not pgc.fetch(conn, f"SELECT 1 FROM {_JOURNAL} LIMIT 1"):
                pgc.execute(conn, f"DROP TABLE {_JOURNAL}")
                pgc.execute(conn, f"DROP SCHEMA IF EXISTS {quote_ident(STATE_SCHEMA)} RESTRICT")
            pgc.execute(conn, "COMMIT")
        except BaseException:
            pgc.execute(conn, "ROLLBACK")
            raise


def count_rows(conn: Any, schema: str, table: str) -> int | None:
    """Rows of ``schema.table`` (None: there is no such table)."""
    there = pgc.fetch(conn, "SELECT to_regclass($1) IS NOT NULL", [qname(schema, table)])
    if not (there and there[0][0]):
        return None
    return int(pgc.fetch(conn, f"SELECT count(*) FROM {qname(schema, table)}")[0][0])


class PostgresStateStore:
    """The state of a run into one schema of a PostgreSQL database."""

    def __init__(self, endpoint: Endpoint, schema: str) -> None:
        self.endpoint = endpoint
        self.run = schema

    @property
    def where(self) -> str:
        return f"{self.endpoint.masked_url}, schema {STATE_SCHEMA!r}"

    def read(self) -> list[Record] | None:
        conn = pgc.connect(self.endpoint, autocommit=True)
        try:
            return records(conn, self.run)
        finally:
            conn.close()

    def discard(self, staged: Sequence[str]) -> None:
        from arrowferry.dialects.postgresql.ddl import drop_table_sql
        from arrowferry.dialects.postgresql.target import STAGING_SCHEMA

        conn = pgc.connect(self.endpoint, autocommit=True)
        try:
            for table in staged:
                pgc.execute(conn, drop_table_sql(STAGING_SCHEMA, table))
            clear(conn, self.run)
        finally:
            conn.close()


def store(endpoint: Endpoint, options: Any) -> PostgresStateStore:
    return PostgresStateStore(endpoint, options.target_schema)
