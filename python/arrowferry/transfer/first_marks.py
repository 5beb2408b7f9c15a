"""A full migration given ``--cursor`` records each table's mark (issue 16), so the first
incremental run after it reads only what changed since.

The mark is the largest cursor value in the source, taken before the table is read and
in the source's snapshot when it has one (PostgreSQL's exported snapshot): every row at
or below it is among the rows the full run copies. A row changed while the run reads
has a cursor above it, so the next run reads it again, and its upsert leaves an equal
row unchanged. The marks are written once the run has completed, for the tables it
loaded; a run that fails records none, and the next incremental run reads every row of
those tables (slower, never wrong).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING

from arrowferry.transfer.incremental import Mark, follow_column, reader_for, shape

if TYPE_CHECKING:
    from arrowferry.dialects.base import SourceSession
    from arrowferry.options import MigrationOptions
    from arrowferry.plan import MigrationPlan
    from arrowferry.result import MigrationResult
    from arrowferry.urls import Endpoint

# (table, cursor column, its mark or None: no row has a cursor yet, the source's shape)
Taken = list[tuple[str, str, Mark | None, str]]


def take(
    plan: MigrationPlan, source: SourceSession, source_endpoint: Endpoint, options: MigrationOptions
) -> Taken:
    """Each planned table's cursor mark, read in the source before its rows are."""
    cursors = options.cursor
    assert isinstance(cursors, dict)
    reader = reader_for(source_endpoint.dialect, source)
    out: Taken = []
    for table in plan.tables:
        column = follow_column(table, cursors)
        if column is not None:
            out.append((table.name, column, reader.bound(table, column, None), shape(table)))
    return out


def record(
    taken: Taken, target: Endpoint, options: MigrationOptions, result: MigrationResult
) -> None:
    """The marks of the tables the run loaded, into the target's incremental state."""
    failed = {e.table for e in result.errors} | set(result.not_attempted)
    rows = [
        (name, column, mark.value if mark else None, mark.kind if mark else None, digest)
        for name, column, mark, digest in taken
        if name not in failed
    ]
    if not rows or options.dry_run or options.schema_only:
        return
    if target.dialect == "sqlite":
        from arrowferry.dialects.sqlite.upsert import STATE_DDL, save_mark_sql

        assert target.path is not None
        if not target.path.is_file():  # a run that stopped left it unpublished (--resume)
            return
        with contextlib.closing(sqlite3.connect(target.path)) as conn:
            conn.execute(STATE_DDL)
            conn.executemany(save_mark_sql(), rows)
            conn.commit()
        return
    from arrowferry.dialects.postgresql import connection as pgc
    from arrowferry.dialects.postgresql import upsert as pgu

    conn = pgc.connect(target, autocommit=False)
    try:
        for sql in pgu.STATE_DDL:
            pgc.execute(conn, sql)
        for row in rows:
            pgc.execute(conn, pgu.save_mark_sql(), [options.target_schema, *row])
        conn.commit()
    finally:
        conn.close()
