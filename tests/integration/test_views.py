"""SQLite views (and CHECKs) into PostgreSQL: each created view returns, in PostgreSQL, the
rows it returns in SQLite; a view with no faithful translation is named in a warning.

The oracle is SQLite itself: every view here selects ids, run on both engines.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import sql
from tests.integration._compare import multiset_difference, pg_view_rows, sqlite_view_rows

VIEWS = {
    # SQLite names are case-insensitive; PostgreSQL's quoted ones are not
    "v_case": "SELECT I.ID FROM Items AS i WHERE I.QTY > 2",
    "v_table_qualified": "SELECT items.id FROM ITEMS WHERE Items.Qty <= 2",
    # a TEXT column compared with a number compares with the number's text in SQLite
    "v_text_eq": "SELECT id FROM items WHERE code = 0",
    "v_text_neq": "SELECT id FROM items WHERE (code) <> (10)",
    "v_text_in": "SELECT id FROM items WHERE code IN (1, 10)",
    "v_number_text": "SELECT id FROM items WHERE 1 = code",
    "v_leading_zero": "SELECT id FROM items WHERE code = 010",  # the number's text: '10'
    "v_exponent": "SELECT id FROM items WHERE code <> 1e1",  # '10.0
    # a BOOLEAN stored 0/1 becomes boolean
    "v_bool": "SELECT id FROM items WHERE flag = 1",
    "v_bool_not": "SELECT id FROM items WHERE flag <> 1",
    # SQLite's DATETIME/TIME of a literal is the normalised text of that moment
    "v_dates": "SELECT id FROM items WHERE at BETWEEN DATETIME('2020-01-01') AND DATETIME('2020-12-31')",
    "v_join": "SELECT o.id FROM orders o JOIN items it ON it.ID = o.item_id WHERE IT.code = 1",
    "v_on_view": "SELECT id FROM V_TEXT_IN WHERE id > 1",
    "v_sub": "SELECT id FROM (SELECT Id, Code AS c FROM items) s WHERE s.c = 10",
    # SQLite's LIKE ignores ASCII case and has no escape character unless given one
    "v_like": "SELECT id FROM items WHERE code LIKE 'A%'",
    "v_not_like": "SELECT id FROM items WHERE code NOT LIKE 'a%'",
    "v_like_backslash": "SELECT id FROM items WHERE code LIKE 'x\\%'",
    "v_like_column": "SELECT id FROM items WHERE 'ABC' LIKE code",
    "v_like_escape": "SELECT id FROM items WHERE code LIKE '%!%' ESCAPE '!'",
    # GLOB: case-sensitive * ? [...], no escape character
    "v_glob": "SELECT id FROM items WHERE code GLOB '[0-9]*'",
    "v_not_glob": "SELECT id FROM items WHERE code NOT GLOB '?'",
    "v_glob_backslash": "SELECT id FROM items WHERE code GLOB 'x\\*'",
    "v_glob_class": "SELECT id FROM items WHERE code GLOB '*[%]' OR code GLOB '[^0-9a]?'",
    # a NUMERIC column holds REALs: SQLite's 14.4 * 42 is 604.8000000000001, and so must
    # PostgreSQL's be (its numeric would give 604.8)
    "v_numeric": "SELECT id, price * qty AS total, price - 0.1 AS less, price / 4 AS quarter "
    "FROM items WHERE price IS NOT NULL",
    "v_numeric_sum": "SELECT flag, sum(price * qty) AS total, avg(price) AS mean FROM items "
    "GROUP BY flag",
}
# SQLite functions whose PostgreSQL namesakes compute other values (every row kept: the
# values are what is compared). Qty 1..7 and NULL; Qty / 2.0 has ties at .5
COMPUTED = {
    # substr from the end: 'hello', -2 is 'lo' (PostgreSQL's SUBSTRING: the whole string)
    "c_substr": "SELECT id, substr(code, -2) AS a, substr(code, -2, 1) AS b, "
    "substr(code, qty - 4) AS c, substr(code, qty - 5, 2) AS d, substr(code, 2) AS e FROM items",
    # round of a REAL: half away from zero (PostgreSQL's double precision: half to even)
    "c_round": "SELECT id, round(qty / 2.0) AS a, round(-qty / 2.0) AS b, round(price) AS c, "
    "round(CAST(qty AS REAL) / 2) AS d, round(-CAST(qty AS REAL) / 2) AS e FROM items",
    # CAST to INTEGER truncates (PostgreSQL's int rounds), into 64 bits
    "c_int_cast": "SELECT id, CAST(qty / 2.0 AS INTEGER) AS a, CAST(price * 10 AS INTEGER) AS b, "
    "CAST(-qty * 1.5 AS INTEGER) AS c, CAST(qty * 3000000000 AS INTEGER) AS d FROM items",
    # lower/upper fold ASCII letters only (PostgreSQL's: every letter)
    "c_case": "SELECT id, lower(code || 'ÀÉ') AS a, upper(code || 'àé') AS b, "
    "lower(upper(code)) AS c FROM items",
    # a BOOLEAN printed as text is the 0/1 SQLite holds (PostgreSQL's: true/false)
    "c_bool_text": "SELECT id, CAST(flag AS TEXT) AS a, flag || '' AS b, (qty > 2) || '!' AS c, "
    "CAST(qty AS TEXT) || code AS d, CAST(CAST(price AS INTEGER) AS TEXT) AS e FROM items",
    # scalar max/min are NULL when an argument is (GREATEST/LEAST skip NULLs)
    "c_max_min": "SELECT id, max(qty, 3) AS a, min(qty, price) AS b, max(code, 'b') AS c "
    "FROM items",
}
# SQLite's date formatting, code by code (the value: text of each row's DATETIME)
STRFTIME = {
    "f_ymd": "strftime('%Y-%m-%d', at)",
    "f_time": "strftime('%H:%M:%S', at)",
    "f_iso_ms": "strftime('%Y-%m-%dT%H:%M:%fZ', at)",
    "f_epoch": "strftime('%s', at)",
    "f_weekday": "strftime('%w', at)",
    "f_day_of_year": "strftime('%j', at)",
    "f_percent": "strftime('%%%Y%%', at)",
    "f_literal": "strftime('%Y', '2021-03-04 05:06:07')",
}
UNFAITHFUL = {
    # '+' on text is numeric addition in SQLite ('a' + 'b' is 0): no PostgreSQL form
    "v_plus": "SELECT id, code + ' ' + code AS twice FROM items",
    # the text SQLite gives 1e-7 ('1.0e-07') is not one Python writes the same way
    "v_tiny": "SELECT id FROM items WHERE code = 1e-7",
    # strftime's %W (week of the year) has no exact TO_CHAR code; %u depends on the
    # reader's SQLite (NULL before 3.46)
    "v_week": "SELECT id, strftime('%W', at) AS w FROM items",
    "v_iso_weekday": "SELECT id, strftime('%u', at) AS u FROM items",
    # SQLite prints a REAL with 15 digits and a point ('1.0', '0.3' for 0.1 + 0.2), a
    # DATETIME as the text it stored: PostgreSQL prints the migrated values otherwise
    "v_real_text": "SELECT id, CAST(price AS TEXT) AS t FROM items",
    "v_computed_text": "SELECT id, qty / 2.0 || '' AS t FROM items",
    "v_date_text": "SELECT id, 'at ' || at AS t FROM items",
}


@pytest.fixture
def views_db(tmp_path: Path) -> Path:
    path = tmp_path / "views.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE Items (Id INTEGER PRIMARY KEY, Code TEXT, Flag BOOLEAN, Qty INTEGER,
                            At DATETIME, Price NUMERIC);
        CREATE TABLE Orders (Id INTEGER PRIMARY KEY, Item_Id INTEGER REFERENCES Items (Id));
        INSERT INTO Items VALUES
          (1, '0', 0, 1, '2019-12-31 23:59:59', 14.4),
          (2, '1', 1, 2, '2020-01-01 00:00:00', 16.8),
          (3, '10', 1, 3, '2020-06-15 12:00:59.9996', 0.3),
          (4, 'abc', 0, 4, '2020-12-31 00:00:00', 12),
          (5, '1', NULL, 5, '2021-01-01 00:00:00', NULL), (6, NULL, 1, NULL, NULL, 2.675),
          (7, 'x\\y%', 0, 7, '2020-03-01 00:00:00', 0.1);
        INSERT INTO Orders VALUES (1, 2), (2, 3), (3, 5), (4, 1);
        """
    )
    for name, body in {**VIEWS, **UNFAITHFUL, **COMPUTED}.items():
        conn.execute(f"CREATE VIEW {name} AS {body}")
    for name, call in STRFTIME.items():
        conn.execute(f"CREATE VIEW {name} AS SELECT id, {call} AS s FROM items")
    conn.commit()
    conn.close()
    return path


def test_views_return_in_postgresql_what_they_return_in_sqlite(views_db: Path, pg_url: str) -> None:
    result = af.migrate(views_db, pg_url)
    assert result.success, result.to_dict()["errors"]
    assert result.summary.views_created == len(VIEWS) + len(STRFTIME) + len(COMPUTED), (
        result.warnings
    )
    assert any("'v_plus'" in w for w in result.warnings), result.warnings
    assert any("'v_tiny'" in w for w in result.warnings), result.warnings
    assert any("'v_week'" in w and "%W" in w for w in result.warnings), result.warnings
    assert any("'v_iso_weekday'" in w and "%u" in w for w in result.warnings), result.warnings
    for name, kind in [
        ("v_real_text", "decimal"),
        ("v_computed_text", "float64"),
        ("v_date_text", "timestamp"),
    ]:
        assert any(f"'{name}'" in w and f"prints a {kind} value" in w for w in result.warnings)
    for name in VIEWS:
        want, got = sqlite_view_rows(views_db, name), pg_view_rows(pg_url, name)
        assert not multiset_difference(want, got), (name, multiset_difference(want, got))
        # the data makes every filter matter: none keeps no row, none keeps all
        assert 0 < len(want) < 7 or name == "v_numeric_sum", (name, want)


def test_sqlite_functions_compute_in_postgresql_what_they_compute_in_sqlite(
    views_db: Path, pg_url: str
) -> None:
    assert af.migrate(views_db, pg_url).success
    for name in COMPUTED:
        want, got = sqlite_view_rows(views_db, name), pg_view_rows(pg_url, name)
        assert len(want) == 7 and not multiset_difference(want, got), (
            name,
            multiset_difference(want, got),
        )


def test_strftime_formats_as_sqlite_does(views_db: Path, pg_url: str) -> None:
    af.migrate(views_db, pg_url)
    conn = sqlite3.connect(views_db)
    try:
        for name in STRFTIME:
            want = sorted(conn.execute(f"SELECT id, s FROM {name}"))
            got = sorted(tuple(r) for r in sql(pg_url, f'SELECT "Id", s FROM "{name}"'))
            assert got == want, (name, want, got)
    finally:
        conn.close()


def test_glob_checks_hold_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    """SQLite validates formats with GLOB (it has no regex); the CHECK keeps holding."""
    path = tmp_path / "glob.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE codes (id INTEGER PRIMARY KEY, c TEXT CHECK (c GLOB '[A-Z][A-Z]*'))")
    conn.execute("INSERT INTO codes VALUES (1, 'AB'), (2, 'XY1'), (3, NULL)")
    conn.commit()
    conn.close()
    result = af.migrate(path, pg_url)
    assert result.success and not result.constraint_issues, result.to_dict()
    sql(pg_url, "INSERT INTO codes VALUES (4, 'CD')")
    for bad in ("ab", "A", "1AB"):
        with pytest.raises(Exception, match="check"):
            sql(pg_url, f"INSERT INTO codes VALUES (5, '{bad}')")


GLOBS = ["[A-Z][A-Z]*", "*.txt", "a?c", "[^0-9]*", "[]x]*", "x[\\]y", "a+b(c)*", "[[]*",
         "*[*?]*", "[a-c-]", "é?", "*", "[.]", "^a$", "a|b"]  # fmt: skip
CANDIDATES = ["AB", "ab", "x.txt", "xtxt", "abc", "a\nc", "]", "x", "x\\y", "a+b(c)", "[", "*",
              "?", "b", "-", "éa", "", "é", ".", "^a$", "a|b", "a"]  # fmt: skip


@pytest.mark.parametrize("glob", GLOBS)
def test_glob_regex_matches_what_sqlite_matches(glob: str, pg_url: str) -> None:
    from arrowferry.dialects.translate import translate_expression

    regex_sql = translate_expression(f"x GLOB '{glob}'", "sqlite", "postgresql", columns=["x"])
    conn = sqlite3.connect(":memory:")
    want = [bool(conn.execute("SELECT ? GLOB ?", (c, glob)).fetchone()[0]) for c in CANDIDATES]
    conn.close()
    values = ", ".join(f"({i}, '{c}')" for i, c in enumerate(CANDIDATES))  # no quote in any
    rows = sql(pg_url, f'SELECT i, {regex_sql} FROM (VALUES {values}) AS v(i, "x") ORDER BY i')
    assert [bool(r[1]) for r in rows] == want, (glob, regex_sql)


def test_checks_and_partial_indexes_compare_as_sqlite_did(tmp_path: Path, pg_url: str) -> None:
    """SQLite's usual CHECK on a BOOLEAN column (IN (0, 1)) and a TEXT column compared with
    a number are kept, and refuse in PostgreSQL exactly the rows SQLite refuses."""
    path = tmp_path / "checks.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, active BOOLEAN CHECK (active IN (0, 1)), "
        "code TEXT CHECK (code <> 0), qty INTEGER CHECK (qty > '0'))"
    )
    conn.execute("CREATE INDEX live ON t (id) WHERE active = 1")
    conn.execute("INSERT INTO t VALUES (1, 1, 'x', 5)")
    conn.commit()
    result = af.migrate(path, pg_url)
    assert result.success, result.to_dict()
    assert not [w for w in result.warnings if "CHECK" in w or "check" in w or "index" in w], (
        result.warnings
    )
    assert result.summary.indexes_created == 1
    candidates = [(2, "'00'", 1), (3, "'0'", 1), (4, "'y'", 0), (5, "'z'", -1)]
    for rowid, code, qty in candidates:
        try:
            conn.execute(f"INSERT INTO t (id, code, qty) VALUES ({rowid}, {code}, {qty})")
            sqlite_ok = True
        except sqlite3.IntegrityError:
            sqlite_ok = False
        try:
            sql(pg_url, f"INSERT INTO t (id, code, qty) VALUES ({rowid}, {code}, {qty})")
            pg_ok = True
        except Exception:
            pg_ok = False
        assert pg_ok == sqlite_ok, (code, qty, sqlite_ok)
    conn.close()
    (predicate,) = sql(
        pg_url, "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indpred IS NOT NULL"
    )
    assert predicate == ("(active = true)",)
