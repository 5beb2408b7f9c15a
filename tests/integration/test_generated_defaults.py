"""Per-row defaults applications write in SQLite, computed alike in PostgreSQL and back.

Unix seconds (``strftime('%s', 'now')``, ``unixepoch()``), the Julian day, random ids
(``lower(hex(randomblob(16)))``, ``randomblob(16)``) and ``strftime(format, 'now')`` text
were dropped with a warning, so after the cut-over the application's rows got NULL where
SQLite filled them in. Each new row's value is compared with the one SQLite gives a new
row, by form and by size (they are clocks and random numbers: not equal, alike).
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import arrowferry as af
from tests.conftest import make_sqlite, sql

COLUMNS = {
    "epoch": ("INTEGER", "strftime('%s','now')"),
    "epoch_fn": ("INTEGER", "unixepoch()"),
    "epoch_cast": ("INTEGER", "CAST(strftime('%s', 'now') AS INTEGER)"),
    "epoch_text": ("TEXT", "strftime('%s','now')"),
    "julian": ("REAL", "julianday('now')"),
    "id_hex": ("TEXT", "lower(hex(randomblob(16)))"),
    "tag": ("TEXT", "hex(randomblob(4))"),
    "raw": ("BLOB", "randomblob(16)"),
    "stamp": ("TEXT", "strftime('%Y-%m-%dT%H:%M:%fZ','now')"),
    "local": ("TEXT", "datetime('now','localtime')"),  # the machine's zone: no equivalent
}


def _source(path: Path) -> Path:
    body = ", ".join(f"{n} {t} DEFAULT ({d})" for n, (t, d) in COLUMNS.items())
    return make_sqlite(path, f"CREATE TABLE d (id INTEGER PRIMARY KEY, {body});")


def _check(row: dict[str, object], before: float, after: float) -> None:
    """A new row's defaults, as SQLite gives them."""
    for name in ("epoch", "epoch_fn", "epoch_cast"):
        assert isinstance(row[name], int) and before - 1 <= row[name] <= after, (name, row)
    assert row["epoch_text"] == str(row["epoch"]) or int(str(row["epoch_text"])) >= before - 1
    julian = row["julian"]
    assert isinstance(julian, float) and abs(julian - (before / 86400 + 2440587.5)) < 2 / 86400
    assert re.fullmatch(r"[0-9a-f]{32}", str(row["id_hex"])), row
    assert re.fullmatch(r"[0-9A-F]{8}", str(row["tag"])), row
    assert isinstance(row["raw"], bytes) and len(row["raw"]) == 16
    stamp = str(row["stamp"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
    moment = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 1 <= moment <= after, (stamp, before)


def _sqlite_row(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO d (id) VALUES (NULL)")
        cur = conn.execute("SELECT * FROM d ORDER BY id DESC LIMIT 1")
        return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))


def _pg_row(url: str) -> dict[str, object]:
    import psycopg

    with psycopg.connect(url) as conn:
        cur = conn.execute("INSERT INTO d DEFAULT VALUES RETURNING *")
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        return dict(zip([c.name for c in cur.description], row, strict=True))


def test_new_rows_get_in_postgresql_what_sqlite_gives_them(pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path / "app.db")
    before = time.time()
    _check(_sqlite_row(source), before, time.time())  # the test's premise, in SQLite

    result = af.migrate(source, pg_url)
    assert result.success, result.to_dict()
    dropped = [w for w in result.warnings if w.startswith("default ")]
    assert len(dropped) == 1 and "localtime" in dropped[0], dropped
    before = time.time()
    first, second = _pg_row(pg_url), _pg_row(pg_url)
    _check(first, before, time.time())
    assert first["id_hex"] != second["id_hex"] and first["raw"] != second["raw"]
    assert first["local"] is None
    # a diff of the two schemas calls each such default the same
    differing = [
        d.name for d in af.compare_schemas(source, pg_url).differences if d.kind == "default"
    ]
    assert differing == ["local"], differing  # datetime('now','localtime') has no equal


def test_and_back_into_sqlite(pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path / "app.db")
    assert af.migrate(source, pg_url).success
    back = tmp_path / "back.db"
    result = af.migrate(pg_url, back)
    assert result.success, result.to_dict()
    with sqlite3.connect(back) as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'd'").fetchone()[0]
    for form in (
        "lower(hex(randomblob(16)))",
        "upper(hex(randomblob(4)))",
        "randomblob(16)",
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    ):
        assert form in ddl, ddl
    assert not [w for w in result.warnings if "default" in w], result.warnings
    before = time.time()
    row = _sqlite_row(back)
    after = time.time()
    for name in ("epoch", "epoch_fn", "epoch_cast"):
        assert isinstance(row[name], int) and before - 1 <= row[name] <= after, (name, row)
    assert re.fullmatch(r"[0-9a-f]{32}", str(row["id_hex"])), row
    assert isinstance(row["raw"], bytes) and len(row["raw"]) == 16
    stamp = str(row["stamp"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
    moment = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 1 <= moment <= after, (stamp, before)
    differing = [
        d.name for d in af.compare_schemas(pg_url, back).differences if d.kind == "default"
    ]
    assert differing == [], differing


def test_random_bytes_of_other_sizes_and_columns(pg_url: str, tmp_path: Path) -> None:
    """Any size takes whole random UUID pieces; a blob's random bytes into a text column
    (or hex into a blob) have no equal and are dropped with a warning."""
    source = make_sqlite(
        tmp_path / "sizes.db",
        "CREATE TABLE s (id INTEGER PRIMARY KEY, a TEXT DEFAULT (lower(hex(randomblob(1)))), "
        "b TEXT DEFAULT (hex(randomblob(7))), c BLOB DEFAULT (randomblob(40)), "
        "d TEXT DEFAULT (randomblob(8)), e BLOB DEFAULT (hex(randomblob(2))));",
    )
    result = af.migrate(source, pg_url)
    assert result.success, result.to_dict()
    dropped = sorted(
        w.split(" of ")[1].split()[0] for w in result.warnings if w.startswith("default ")
    )
    assert dropped == ["s.d", "s.e"], result.warnings
    (row,) = sql(pg_url, "INSERT INTO s DEFAULT VALUES RETURNING a, b, c")
    assert re.fullmatch(r"[0-9a-f]{2}", row[0]) and re.fullmatch(r"[0-9A-F]{14}", row[1])
    assert len(bytes(row[2])) == 40


def test_every_strftime_code_comes_back(pg_url: str, tmp_path: Path) -> None:
    """``strftime(format, 'now')`` into PostgreSQL (code by code) and back into SQLite:
    the same format, each code the translator writes, literal text with ``%%`` and a
    quote; a diff of either pair finds no default differing."""
    formats = ["%Y-%m-%dT%H:%M:%fZ", "%s.%f", "%w|%j", "100%% on %d", "it''s %H:%M:%S"]
    body = ", ".join(f"c{i} TEXT DEFAULT (strftime('{f}', 'now'))" for i, f in enumerate(formats))
    source = make_sqlite(
        tmp_path / "formats.db", f"CREATE TABLE f (id INTEGER PRIMARY KEY, {body});"
    )
    assert af.migrate(source, pg_url).success
    assert not [d for d in af.compare_schemas(source, pg_url).differences if d.kind == "default"]
    back = tmp_path / "back.db"
    result = af.migrate(pg_url, back)
    assert result.success and not [w for w in result.warnings if "default" in w], result.warnings
    with sqlite3.connect(back) as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'f'").fetchone()[0]
        conn.execute("INSERT INTO f (id) VALUES (1)")
        got = conn.execute("SELECT * FROM f").fetchone()[1:]
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO f (id) VALUES (1)")
        want = conn.execute("SELECT * FROM f").fetchone()[1:]
    for f in formats:
        assert f"strftime('{f}', 'now')" in ddl, (f, ddl)
    # the same shape of text (the two inserts read the clock at other moments)
    shape = lambda v: re.sub(r"\d", "9", str(v))  # noqa: E731
    assert [shape(v) for v in got] == [shape(v) for v in want]
    assert not [d for d in af.compare_schemas(pg_url, back).differences if d.kind == "default"]


def test_random_uuids_both_ways(pg_url: str, tmp_path: Path) -> None:
    """gen_random_uuid() (and uuid-ossp's uuid_generate_v4()) into SQLite: a version 4
    UUID as lower-case text, as PostgreSQL prints one, different for each row; back into
    PostgreSQL: gen_random_uuid() again; a diff of either pair calls them the same."""
    sql(
        pg_url,
        "CREATE TABLE u (id int PRIMARY KEY, uid uuid NOT NULL DEFAULT gen_random_uuid(), "
        "tag text DEFAULT gen_random_uuid()::text)",
    )
    copy = tmp_path / "u.db"
    result = af.migrate(pg_url, copy)
    assert result.success and not [w for w in result.warnings if "default" in w], result.warnings
    with sqlite3.connect(copy) as conn:
        conn.executemany("INSERT INTO u (id) VALUES (?)", [(i,) for i in range(1, 201)])
        rows = conn.execute("SELECT uid, tag FROM u").fetchall()
    v4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(v4.fullmatch(a) and v4.fullmatch(b) for a, b in rows), rows[:3]
    assert len({a for a, _ in rows} | {b for _, b in rows}) == 400  # each its own
    assert {a[19] for a, _ in rows} == set("89ab")  # the variant digit takes all four
    defaults = af.compare_schemas(pg_url, copy).differences
    assert not [d for d in defaults if d.kind == "default" and d.name in ("uid", "tag")]
    sql(pg_url, "DROP TABLE u")
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM u")
    assert af.migrate(copy, pg_url).success
    (row,) = sql(pg_url, "INSERT INTO u (id) VALUES (1) RETURNING uid::text, tag")
    assert v4.fullmatch(row[0]) and v4.fullmatch(row[1]), row
    defaults = af.compare_schemas(copy, pg_url).differences
    assert not [d for d in defaults if d.kind == "default" and d.name in ("uid", "tag")]
