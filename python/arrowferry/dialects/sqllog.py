"""Every SQL statement arrowferry sends, on the ``arrowferry.sql`` logger at DEBUG.

Each driver module routes its statements through :func:`statement` (ADBC has no trace
hook) or, for the stdlib ``sqlite3`` connections, :func:`trace`. The engine never
prints: whoever wants the statements attaches a handler (the CLI's ``-v`` does, on
stderr, whatever else it prints).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any, Literal

log = logging.getLogger("arrowferry.sql")

Database = Literal["postgresql", "sqlite"]


def statement(database: Database, sql: str, params: Sequence[Any] | None = None) -> None:
    """Log one statement about to be sent (the check keeps it free when nobody listens)."""
    if log.isEnabledFor(logging.DEBUG):
        shown = f"{sql} -- parameters: {list(params)!r}" if params else sql
        log.debug("%s: %s", database, shown)


def copy_in(database: Database, schema: str | None, table: str) -> None:
    """The bulk load ADBC's ingest runs (binary COPY for PostgreSQL, a prepared INSERT
    bound per row for SQLite), logged as the statement it amounts to."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    from arrowferry.dialects.sqltext import quote_ident

    name = quote_ident(table) if schema is None else f"{quote_ident(schema)}.{quote_ident(table)}"
    if database == "postgresql":
        statement(database, f"COPY {name} FROM STDIN (FORMAT binary)")
    else:
        statement(database, f"INSERT INTO {name} VALUES (...) -- bound from Arrow batches")


def trace(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Log every statement a stdlib sqlite3 connection runs, as SQLite expands it."""
    if log.isEnabledFor(logging.DEBUG):
        conn.set_trace_callback(lambda sql: statement("sqlite", sql))
    return conn
