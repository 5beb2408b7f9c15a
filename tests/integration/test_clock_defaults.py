"""Clock defaults (CURRENT_TIMESTAMP and its kin) come back from PostgreSQL to SQLite.

A migration into PostgreSQL writes SQLite's clock defaults as the expression that stores
SQLite's text in the column's type (``to_char(now() AT TIME ZONE 'UTC', ...)`` for a
TEXT column, ``date_trunc('second', ...)`` for a timestamp); before, none of them could
come back (sqlglot has no SQLite form for ``AT TIME ZONE``): every one was dropped with a
warning. The oracle: a row PostgreSQL fills with its defaults, migrated, against a row
SQLite fills with the defaults it got back: the same text form, the same moment.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import arrowferry as af
from tests.conftest import sql

COLUMNS = {
    "a": "TEXT DEFAULT CURRENT_TIMESTAMP",
    "b": "DATETIME DEFAULT CURRENT_TIMESTAMP",
    "c": "DATE DEFAULT CURRENT_DATE",
    "d": "TIME DEFAULT CURRENT_TIME",
    "e": "TEXT DEFAULT CURRENT_DATE",
    "f": "TEXT DEFAULT CURRENT_TIME",
    "g": "TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP",
    "h": "DATETIME DEFAULT (datetime('now'))",
    "i": "DATETIME DEFAULT CURRENT_DATE",
}
# PostgreSQL defaults as applications write them (a UTC reading of the clock)
PG_COLUMNS = {
    "j": "timestamp DEFAULT timezone('utc'::text, now())",
    "k": "timestamp DEFAULT (now() AT TIME ZONE 'utc')",
}


def _moment(text: str) -> dt.datetime:
    if re.fullmatch(r"\d\d:\d\d:\d\d", text):
        text = f"{dt.datetime.now(dt.timezone.utc).date()} {text}"
    return dt.datetime.fromisoformat(text.replace("+00:00", "")).replace(tzinfo=None)


def test_clock_defaults_come_back_writing_what_postgresql_wrote(
    tmp_path: Path, pg_url: str
) -> None:
    source = tmp_path / "clock.db"
    conn = sqlite3.connect(source)
    columns = ", ".join(f"{name} {ddl}" for name, ddl in COLUMNS.items())
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    conn.commit()
    conn.close()
    assert af.migrate(source, pg_url).success
    for name, ddl in PG_COLUMNS.items():
        sql(pg_url, f"ALTER TABLE t ADD COLUMN {name} {ddl}")
    sql(pg_url, "INSERT INTO t (id) VALUES (1)")  # PostgreSQL's defaults

    back = tmp_path / "back.db"
    result = af.migrate(pg_url, back)
    assert result.success, result.errors
    assert not [w for w in result.warnings if "default" in w], result.warnings
    conn = sqlite3.connect(back)
    try:
        conn.execute("INSERT INTO t (id) VALUES (2)")  # SQLite's, as they came back
        names = [*COLUMNS, *PG_COLUMNS]
        rows = dict((r[0], r[1:]) for r in conn.execute(f"SELECT id, {', '.join(names)} FROM t"))
    finally:
        conn.close()
    for name, by_pg, by_sqlite in zip(names, rows[1], rows[2], strict=True):
        assert by_pg is not None and by_sqlite is not None, (name, by_pg, by_sqlite)
        if name in PG_COLUMNS:  # microseconds from PostgreSQL, milliseconds from SQLite
            stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?"
            assert re.fullmatch(stamp, by_pg) and re.fullmatch(stamp, by_sqlite), name
        else:
            shape = re.sub(r"\d", "9", by_pg)
            assert re.sub(r"\d", "9", by_sqlite) == shape, (name, by_pg, by_sqlite)
        assert abs(_moment(by_sqlite) - _moment(by_pg)) < dt.timedelta(minutes=5), name
    diff = af.compare_schemas(source, back)
    defaults = {d.name for d in diff.differences if d.kind == "default"}
    # i: a DATETIME that SQLite filled with a date; PostgreSQL's timestamp holds midnight
    assert defaults <= {"i", "id"}, str(diff)


def test_a_sync_into_sqlite_brings_the_clock_defaults_too(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "clock.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT DEFAULT CURRENT_TIMESTAMP)")
    conn.commit()
    conn.close()
    assert af.migrate(source, pg_url).success
    sql(pg_url, "ALTER TABLE t ADD COLUMN j timestamp DEFAULT timezone('utc'::text, now())")
    empty = tmp_path / "synced.db"
    sqlite3.connect(empty).close()
    synced = af.sync_schema(pg_url, empty, apply=True)
    assert synced.applied and not [n for n in synced.notes if "left out" in n], synced.notes
    conn = sqlite3.connect(empty)
    try:
        defaults = {r[1]: r[4] for r in conn.execute("PRAGMA table_info(t)")}
    finally:
        conn.close()
    assert defaults["a"] == "CURRENT_TIMESTAMP"
    assert defaults["j"] == "strftime('%Y-%m-%d %H:%M:%f', 'now')"
