"""SQLite -> PostgreSQL DDL: defaults that give new rows what SQLite gives them, defaults
the server refuses, runs that stop early, and what ``drop_tables`` takes from the rest of
the target. Against a real PostgreSQL.

The defaults oracle works as the reverse direction's (test_to_sqlite's
``test_constant_defaults_give_new_rows_the_migrated_values``): SQLite fills a row from its
defaults, the migration carries that row as data, PostgreSQL fills another row from the
migrated defaults, and the two rows must be equal column by column.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import Any

import arrowferry as af
from tests.conftest import make_sqlite, sql
from tests.integration._cli_helpers import cli

# column -> its SQLite definition; row 1 takes every default in SQLite
DEFAULTS = {
    "t_zeros": "TEXT DEFAULT 010",
    "t_exp": "TEXT DEFAULT 1e3",
    "t_small": "TEXT DEFAULT 1.0e-7",
    "t_neg": "TEXT DEFAULT -5",
    "t_plus": "TEXT DEFAULT +7",
    "t_hex": "TEXT DEFAULT 0x1F",
    "t_str": "TEXT DEFAULT 'it''s'",
    "t_dq": 'TEXT DEFAULT ""',
    "t_expr": "TEXT DEFAULT (1 + 1)",
    "i_zeros": "INTEGER DEFAULT 010",
    "i_text": "INTEGER DEFAULT '5'",
    "i_exp": "INTEGER DEFAULT 1e3",
    "i_neg": "INTEGER DEFAULT -42",
    "i_true": "INTEGER DEFAULT TRUE",
    "r_int": "REAL DEFAULT 1",
    "r_neg": "REAL DEFAULT -0.5",
    "r_tenth": "DOUBLE DEFAULT 0.1",
    "n_text": "NUMERIC DEFAULT '1e3'",
    "n_real": "NUMERIC DEFAULT 1.50",
    "d_half": "DECIMAL(10,2) DEFAULT 12.345",
    "b_true": "BOOLEAN DEFAULT TRUE",
    "b_false": "BOOLEAN DEFAULT FALSE",
    "b_one": "BOOLEAN DEFAULT 1",
    "blob": "BLOB DEFAULT x'00ff'",
    "dt_text": "DATETIME DEFAULT '2024-01-02 03:04:05'",
    "dt_zulu": "TIMESTAMP DEFAULT '2024-01-02T03:04:05+02:00'",
    "dt_zero": "DATETIME DEFAULT 0",
    "day": "DATE DEFAULT '2020-02-29'",
    "doc": "JSON DEFAULT '{\"a\": [1, 2]}'",
}
CLOCKS = {
    "now_text": "TEXT DEFAULT CURRENT_TIMESTAMP",
    "now_dt": "DATETIME DEFAULT CURRENT_TIMESTAMP",
}
DROPPED = {"rnd": "TEXT DEFAULT (random())", "now_int": "INTEGER DEFAULT CURRENT_TIMESTAMP"}


def _defaults_db(path: Path) -> Path:
    columns = {**DEFAULTS, **CLOCKS, **DROPPED}
    body = ", ".join(f"{name} {definition}" for name, definition in columns.items())
    make_sqlite(path, f"CREATE TABLE d (id INTEGER PRIMARY KEY, {body});")
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO d (id) VALUES (1)")
    conn.execute("UPDATE d SET now_int = NULL, rnd = NULL")  # not compared: no default kept
    conn.commit()
    conn.close()
    return path


def _pg_rows(url: str, columns: list[str]) -> list[tuple[Any, ...]]:
    # each value as PostgreSQL prints it: the same column type on both rows, so equal
    # text is an equal value (and 1000 vs 1000.0 in a numeric would show)
    texts = ", ".join(f'"{c}"::text' for c in columns)
    return sql(url, f"SELECT {texts} FROM d ORDER BY id")


def test_new_rows_get_the_defaults_sqlite_gives(pg_url: str, tmp_path: Path) -> None:
    source = _defaults_db(tmp_path / "defaults.db")
    result = af.migrate(source, pg_url)
    assert result.success, result.to_dict()
    sql(pg_url, "INSERT INTO d (id) VALUES (2)")
    names = list(DEFAULTS)
    migrated, fresh = _pg_rows(pg_url, names)
    assert dict(zip(names, fresh, strict=True)) == dict(zip(names, migrated, strict=True))
    got = dict(zip(names, fresh, strict=True))
    # what SQLite's affinity made of the literal, not the literal's own text
    assert got["t_zeros"] == "10" and got["t_exp"] == "1000.0" and got["t_small"] == "1.0e-07"
    assert got["t_dq"] == "" and got["t_expr"] == "2" and got["t_hex"] == "31"
    assert got["i_text"] == "5" and got["i_exp"] == "1000" and got["r_int"] == "1"
    assert got["n_text"] == "1000" and got["d_half"] == "12.35" and got["blob"] == "\\x00ff"
    assert got["dt_zulu"] == "2024-01-02 01:04:05"
    assert got["dt_zero"] == "4714-11-24 12:00:00 BC"  # julian day 0, as the data reads it
    assert any("d.dt_zero: SQLite stores the integer 0" in w for w in result.warnings)
    # every compared column has a default in PostgreSQL: dropping one would fail above,
    # but a NULL default equal to a NULL value would not, so none may be NULL
    assert all(v is not None for v in fresh), got

    # SQLite's clock: UTC text to the second, as the migrated value shows it
    stamps = dict(zip(CLOCKS, _pg_rows(pg_url, list(CLOCKS))[1], strict=True))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamps["now_text"]), stamps
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamps["now_dt"]), stamps
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for text in stamps.values():
        assert abs((dt.datetime.fromisoformat(text) - utc).total_seconds()) < 120, stamps

    # a default SQLite computes per row, or that the column cannot hold: named, not kept
    for column in DROPPED:
        assert any(f"d.{column} dropped" in w for w in result.warnings), result.warnings
    kept = sql(
        pg_url,
        "SELECT a.attname FROM pg_attrdef d JOIN pg_attribute a "
        "ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'd'::regclass",
    )
    assert {r[0] for r in kept} == set(DEFAULTS) | set(CLOCKS)


def _refused_db(path: Path) -> Path:
    """A table whose defaults PostgreSQL would refuse (as translated before), between others."""
    script = "".join(
        f"CREATE TABLE t{i:02} (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t{i:02} VALUES (1, 'x');"
        for i in range(6)
    )
    script += (
        "CREATE TABLE Session (id INTEGER PRIMARY KEY, StartTime DATETIME DEFAULT 0, "
        "is_public integer default '\"0\"', price NUMERIC(5,2) DEFAULT 123456, "
        "code VARCHAR(3) DEFAULT 'abcdef', n INTEGER CHECK (length(n) > 0), "
        'label TEXT DEFAULT "");'
        "CREATE INDEX session_n ON Session (lower(n));"
        "INSERT INTO Session VALUES (1, '2024-01-02 03:04:05', 1, 9.5, 'ab', 5, 'a');"
    )
    return make_sqlite(path, script)


def test_a_default_postgresql_refuses_costs_the_default_not_the_run(
    pg_url: str, tmp_path: Path
) -> None:
    source = _refused_db(tmp_path / "refused.db")
    dry = af.migrate(source, pg_url, dry_run=True)
    ddl = next(t["ddl"] for t in dry.plan["tables"] if t["source"] == "Session")
    assert "123456" not in ddl and '"0"' not in ddl and "DEFAULT ''" in ddl, ddl
    for column in ("is_public", "price", "code"):
        assert any(f"Session.{column} dropped" in w for w in dry.warnings), dry.warnings
    assert any("PostgreSQL refused" in w and "numeric field overflow" in w for w in dry.warnings)
    assert any("Session.code dropped" in w and "too long" in w for w in dry.warnings)
    # what the run will leave out of the finishing, the dry run says too
    assert any(w.startswith("CHECK ") and "length" in w for w in dry.warnings), dry.warnings
    assert any(w.startswith("index session_n") for w in dry.warnings), dry.warnings

    result = af.migrate(source, pg_url, workers=1)
    assert result.success and not result.not_attempted, result.to_dict()
    assert len(result.tables) == 7
    for column in ("price", "code"):
        assert any(f"Session.{column} dropped: PostgreSQL refused" in w for w in result.warnings)
    assert any("session_n not created" in w for w in result.warnings), result.warnings
    sql(pg_url, 'INSERT INTO "Session" (id) VALUES (2)')
    row = sql(pg_url, 'SELECT is_public, price, code, label FROM "Session" WHERE id = 2')
    assert row == [(None, None, None, "")]


def test_a_run_that_stops_names_the_tables_it_never_attempted(pg_url: str, tmp_path: Path) -> None:
    # the failing table is the largest, so with one worker it loads first
    script = "CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER);"
    script += "".join(f"CREATE TABLE small{i} (id INTEGER PRIMARY KEY);" for i in range(4))
    rows = {"big": [(i, i) for i in range(1, 50)] + [(50, "not a number")]}
    rows.update({f"small{i}": [(1,)] for i in range(4)})
    source = make_sqlite(tmp_path / "stops.db", script, rows)
    result = af.migrate(source, pg_url, workers=1, on_bad_value="fail")
    assert not result.success
    assert [e.table for e in result.errors] == ["big"]
    assert sorted(result.not_attempted) == [f"small{i}" for i in range(4)]
    assert result.to_dict()["not_attempted"] == result.not_attempted

    again = cli(
        "migrate", str(source), pg_url, "--workers", "1", "--on-bad-value", "fail", "--json"
    )
    assert again.exit_code == 1, again.everything
    assert sorted(again.json()["not_attempted"]) == [f"small{i}" for i in range(4)]
    summary = cli("migrate", str(source), pg_url, "--workers", "1", "--on-bad-value", "fail")
    assert "4 tables not attempted" in summary.stdout, summary.everything
    assert all(f"small{i}" in summary.stdout for i in range(4)), summary.everything


def test_a_reverse_run_that_stops_names_the_tables_it_never_attempted(
    pg_url: str, tmp_path: Path
) -> None:
    sql(pg_url, "CREATE TABLE a_bad (id int PRIMARY KEY, x float8)")
    sql(pg_url, "INSERT INTO a_bad VALUES (1, 'NaN')")  # SQLite would store NULL: bad value
    for name in ("b_one", "c_two"):
        sql(pg_url, f"CREATE TABLE {name} (id int PRIMARY KEY)")
        sql(pg_url, f"INSERT INTO {name} VALUES (1)")
    result = af.migrate(pg_url, tmp_path / "out.db", on_bad_value="fail")
    assert [e.table for e in result.errors] == ["a_bad"], result.to_dict()
    assert sorted(result.not_attempted) == ["b_one", "c_two"]
    assert not result.success


def test_drop_tables_keeps_what_cascade_takes_from_other_tables(
    pg_url: str, tmp_path: Path
) -> None:
    source = make_sqlite(
        tmp_path / "music.db",
        "CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT);"
        "CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY);",
        {"Track": [(1, "a"), (2, "b")], "Album": [(1,)]},
    )
    sql(pg_url, 'CREATE TABLE "Track" ("TrackId" bigint PRIMARY KEY, "Name" text)')
    sql(pg_url, """INSERT INTO "Track" VALUES (1, 'old'), (9, 'gone')""")
    sql(pg_url, 'CREATE TABLE keep (id int, t bigint CONSTRAINT keep_t REFERENCES "Track")')
    sql(pg_url, "INSERT INTO keep VALUES (1, 1)")
    sql(pg_url, 'CREATE TABLE stale (id int, t bigint CONSTRAINT stale_t REFERENCES "Track")')
    sql(pg_url, "INSERT INTO stale VALUES (1, 9)")  # 9 is not in the new rows
    sql(pg_url, 'CREATE VIEW names AS SELECT "Name" FROM "Track"')
    sql(pg_url, 'CREATE VIEW upper_names AS SELECT upper("Name") AS n FROM names')
    sql(pg_url, 'CREATE MATERIALIZED VIEW frozen AS SELECT "TrackId" FROM "Track"')

    result = af.migrate(source, pg_url, drop_tables=True, include_tables=["Track"])
    assert result.success, result.to_dict()
    keys = dict(sql(pg_url, "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'"))
    assert keys == {"keep_t": True, "stale_t": False}
    assert any("stale_t" in w and "NOT VALID" in w for w in result.warnings), result.warnings
    for name in ("keep_t", "stale_t", "names", "upper_names", "frozen"):
        assert any("drop_tables" in w and name in w for w in result.warnings), result.warnings
    assert sql(pg_url, "SELECT n FROM upper_names ORDER BY n") == [("A",), ("B",)]
    # a materialized view comes back filled from the new rows
    assert sql(pg_url, 'SELECT "TrackId" FROM frozen ORDER BY 1') == [(1,), (2,)]


def test_drop_tables_run_again_replaces_the_views_it_made(pg_url: str, tmp_path: Path) -> None:
    """Running a migration again with --drop-tables: each view the source defines is
    created from the source (its definition may have changed), not put back from the
    earlier run and then refused as "already exists"; a view of the target's own that
    depends on a replaced table still comes back."""
    path = tmp_path / "app.db"
    make_sqlite(
        path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);"
        "CREATE VIEW big AS SELECT id FROM t WHERE n > 1;",
        {"t": [(1, 1), (2, 2), (3, 3)]},
    )
    assert af.migrate(path, pg_url).success
    sql(pg_url, "CREATE VIEW mine AS SELECT count(*) AS c FROM t")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP VIEW big")
        conn.execute("CREATE VIEW big AS SELECT id FROM t WHERE n > 2")
    result = af.migrate(path, pg_url, drop_tables=True)
    assert result.success, result.to_dict()
    assert not [w for w in result.warnings if "not created" in w], result.warnings
    assert any("replaced by the source's" in w and w.endswith(": big") for w in result.warnings), (
        result.warnings
    )
    assert sql(pg_url, "SELECT id FROM big") == [(3,)]
    assert sql(pg_url, "SELECT c FROM mine") == [(3,)]
