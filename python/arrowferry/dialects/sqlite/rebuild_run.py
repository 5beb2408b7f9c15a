"""SQLite as the target of a schema sync: what the data says about the changes, and the
apply, each transaction (a table's rebuild, or a run of direct changes) whole or not at all.

Statements run through the standard library's ``sqlite3`` in autocommit mode, so the
``BEGIN``/``COMMIT`` and ``PRAGMA`` statements of :mod:`~arrowferry.dialects.sqlite.rebuild`
are the transactions themselves, as they are when the printed script is run by hand.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from arrowferry.dialects import sqllog
from arrowferry.dialects.changes import BODY_KINDS, Change, SyncStatement, TargetFacts
from arrowferry.dialects.sqlite.rebuild import Renderer, row_key
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import ConversionError, SchemaError
from arrowferry.model import Schema

# --- the data ----------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    return sqllog.trace(sqlite3.connect(path, isolation_level=None))


def read_facts(path: Path, current: Schema, changes: Sequence[Change]) -> TargetFacts:
    """Each changed table's triggers (a rebuild makes them again), the NULLs under each
    NOT NULL to be set and the rows of each table a NOT NULL column is added to; read
    after the renames, made in a transaction rolled back."""
    renames = [c for c in changes if c.kind in {"rename_table", "rename_column"}]
    renderer = Renderer(current, TargetFacts())
    for change in renames:
        renderer.direct(change, change.table or "")
    conn = _connect(path)
    rows: dict[str, int] = {}
    nulls: dict[tuple[str, str], tuple[int, str | None]] = {}
    triggers: dict[str, tuple[str, ...]] = {}
    try:
        conn.execute("BEGIN")
        for stmt in renderer.group:
            conn.execute(stmt.sql)
        for change in changes:
            table = change.table or ""
            state = renderer.tables.get(table)
            if state is None or change.kind not in BODY_KINDS:
                continue
            if table not in triggers:
                found = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND lower(tbl_name) = "
                    "lower(?) AND sql IS NOT NULL ORDER BY name",
                    (table,),
                ).fetchall()
                triggers[table] = tuple(r[0] for r in found)
            if change.kind == "add_column" and not change.new.nullable:
                rows[table] = conn.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[
                    0
                ]
            elif change.kind == "set_not_null":
                col = quote_ident(change.old.name)
                count, key = conn.execute(
                    f"SELECT count(*), min({row_key(state)}) FROM {quote_ident(table)} "
                    f"WHERE {col} IS NULL"
                ).fetchone()
                nulls[(table, change.old.name)] = (int(count), None if key is None else str(key))
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        conn.close()
    return TargetFacts(rows=rows, nulls=nulls, triggers=triggers, live=True)


# --- applying -------------------------------------------------------------------------


def apply(path: Path, statements: Sequence[SyncStatement]) -> list[str]:
    """Run the statements in order: each transaction (a table's rebuild, or a run of
    direct changes) whole, or on an error that one not at all. A view SQLite cannot run
    is left out (its savepoint rolled back) and named."""
    conn = _connect(path)
    committed = 0
    notes: list[str] = []
    try:
        for stmt in statements:
            try:
                if stmt.optional:
                    notes += _optional(conn, stmt)
                else:
                    _run(conn, stmt, committed)
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            if stmt.sql == "COMMIT":
                committed += 1
    finally:
        conn.close()
    return notes


def _optional(conn: sqlite3.Connection, stmt: SyncStatement) -> list[str]:
    conn.execute("SAVEPOINT arrowferry_view")
    try:
        conn.execute(stmt.sql)
        # SQLite checks a view's body only when it is used
        conn.execute(f"SELECT * FROM {quote_ident(stmt.table or '')} LIMIT 0").fetchall()
    except sqlite3.Error as err:
        conn.execute("ROLLBACK TO SAVEPOINT arrowferry_view")
        return [f"{stmt.reason}: not done, SQLite refused it ({err})"]
    finally:
        conn.execute("RELEASE SAVEPOINT arrowferry_view")
    return []


def _stopped(stmt: SyncStatement, committed: int) -> str:
    earlier = (
        f"; the {committed} earlier transaction{'s' if committed != 1 else ''} of this sync "
        "stay committed (run the sync again to go on)"
        if committed
        else "; nothing was applied"
    )
    return f"sync stopped at {stmt.reason}: {{}}; this transaction was rolled back{earlier}"


def _run(conn: sqlite3.Connection, stmt: SyncStatement, committed: int) -> None:
    said = _stopped(stmt, committed)
    if stmt.guard is not None:
        found = conn.execute(stmt.guard).fetchone()
        if found is not None:
            key, _value, column = found
            raise ConversionError(
                said.format(
                    f"column {stmt.table}.{column} is NOT NULL in the new table, and the row "
                    f"whose key is {key} holds NULL there (and no default fills it)"
                ),
                table=stmt.table or "",
                column=str(column),
                row=key,
            )
    try:
        rows = conn.execute(stmt.sql).fetchall()
    except sqlite3.Error as err:
        raise SchemaError(
            said.format(f"SQLite refused {stmt.sql.splitlines()[0]!r}: {err}")
        ) from None
    if stmt.check and rows:
        child, rowid, parent, _fk = rows[0]
        raise ConversionError(
            said.format(
                f"{len(rows)} row(s) would break a foreign key, e.g. the row whose rowid is "
                f"{rowid} in {child} refers to a missing row of {parent}"
            ),
            table=str(child),
            column="",
            row=rowid,
        )
