"""One SQLite table with a column per declared type, and edge values, migrated exactly.

Two tables drive the test, one line per entry (like sqlglot's ``validate_all``):

* ``COLUMNS``: column name, SQLite declared type, the PostgreSQL type it must become
  (the README mapping; the odd declared types by SQLite's affinity rules).
* ``CASES``: column, value inserted through the stdlib sqlite3 driver, the storage
  class SQLite keeps (``typeof``: affinity acts before arrowferry sees anything), and
  the exact value PostgreSQL must hold, as adbc_driver_postgresql returns it (numeric
  as its exact text, jsonb as a document, timestamp as datetime, ...).

Every case is one row (id = its line number) with all other columns NULL; one more
row is NULL everywhere. The whole table is compared, every column of every row.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from tests.conftest import make_sqlite
from tests.integration._compare import (
    finalizer_errors,
    json_doc,
    pg_column_types,
    pg_query,
    qi,
    values_equal,
)


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """A driver object the migration leaves open is reported on the test that leaked it."""
    with finalizer_errors() as leaked:
        yield
    assert not leaked, "left open by the migration:\n" + "\n".join(leaked)


NAN = float("nan")
INF = float("inf")
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
BIG = 2**53 + 1

# column, declared SQLite type, PostgreSQL type (format_type)
COLUMNS: list[tuple[str, str, str]] = [
    ("c_integer", "INTEGER", "bigint"),
    ("c_bigint", "BIGINT", "bigint"),
    ("c_real", "REAL", "double precision"),
    ("c_double", "DOUBLE", "double precision"),
    ("c_float", "FLOAT", "double precision"),
    ("c_text", "TEXT", "text"),
    ("c_clob", "CLOB", "text"),
    ("c_varchar", "VARCHAR(10)", "character varying(10)"),
    ("c_nvarchar", "NVARCHAR(20)", "character varying(20)"),
    ("c_char", "CHAR(3)", "character varying(3)"),
    ("c_blob", "BLOB", "bytea"),
    ("c_boolean", "BOOLEAN", "boolean"),
    ("c_datetime", "DATETIME", "timestamp without time zone"),
    ("c_timestamp", "TIMESTAMP", "timestamp without time zone"),
    ("c_date", "DATE", "date"),
    ("c_time", "TIME", "time without time zone"),
    ("c_numeric", "NUMERIC(12,3)", "numeric(12,3)"),
    ("c_decimal", "DECIMAL(5,2)", "numeric(5,2)"),
    ("c_numeric_plain", "NUMERIC", "numeric"),
    ("c_json", "JSON", "jsonb"),
    ("c_intege", "intege", "bigint"),  # INT in the name: INTEGER affinity
    ("c_smallint_unsigned", "smallint unsigned", "bigint"),  # INTEGER affinity, 64-bit
    ("c_text_nocase", "text nocase", "text"),  # TEXT affinity
    ("c_int_auto_increment", "integer auto_increment", "bigint"),  # INTEGER affinity
    ("c_untyped", "", "text"),  # BLOB affinity; holds ints, reals and text -> text
]

_LONG = "long " * 2000
_MANY_BYTES = bytes(range(256)) * 4

# column, value inserted, SQLite typeof afterwards, exact PostgreSQL value
# fmt: off
CASES: list[tuple[str, Any, str, Any]] = [
    ("c_integer", I64_MIN, "integer", I64_MIN),
    ("c_integer", I64_MAX, "integer", I64_MAX),
    ("c_integer", BIG, "integer", BIG),
    ("c_integer", -BIG, "integer", -BIG),
    ("c_integer", 0, "integer", 0),
    ("c_integer", "42", "integer", 42),  # INTEGER affinity converts numeric text
    ("c_bigint", I64_MAX, "integer", I64_MAX),
    ("c_bigint", I64_MIN, "integer", I64_MIN),
    ("c_bigint", BIG, "integer", BIG),
    ("c_real", 0.1, "real", 0.1),
    ("c_real", 0.30000000000000004, "real", 0.30000000000000004),
    ("c_real", 12345.678901, "real", 12345.678901),
    ("c_real", 1.7976931348623157e308, "real", 1.7976931348623157e308),
    ("c_real", 5e-324, "real", 5e-324),
    ("c_real", -2.2250738585072014e-308, "real", -2.2250738585072014e-308),
    ("c_real", INF, "real", INF),
    ("c_real", -INF, "real", -INF),
    ("c_real", NAN, "null", None),  # SQLite itself stores NaN as NULL
    ("c_real", -0.0, "real", 0.0),  # SQLite keeps an integral REAL as integer 0: the sign is gone
    ("c_real", 3, "real", 3.0),  # REAL affinity
    ("c_real", BIG, "real", 9007199254740992.0),  # REAL affinity rounds it before we see it
    ("c_double", 1 / 3, "real", 1 / 3),
    ("c_double", -1.5e-300, "real", -1.5e-300),
    ("c_double", 0.1 + 0.7, "real", 0.7999999999999999),
    ("c_float", 2.5, "real", 2.5),
    ("c_float", -INF, "real", -INF),
    ("c_text", "", "text", ""),
    ("c_text", "NULL", "text", "NULL"),
    ("c_text", "\\N", "text", "\\N"),
    ("c_text", "emoji 😀👍🏽👨‍👩‍👧", "text", "emoji 😀👍🏽👨‍👩‍👧"),
    ("c_text", "漢字かな한국어", "text", "漢字かな한국어"),
    ("c_text", "e\u0301 vs \u00e9", "text", "e\u0301 vs \u00e9"),  # no Unicode normalisation
    ("c_text", "مرحبا \u200f", "text", "مرحبا \u200f"),
    ("c_text", "line1\nline2\r\nline3\r", "text", "line1\nline2\r\nline3\r"),
    ("c_text", "tab\there\t", "text", "tab\there\t"),
    ("c_text", 'it\'s "quoted" `x`', "text", 'it\'s "quoted" `x`'),
    ("c_text", "C:\\path\\to\\file \\\\ \\x00", "text", "C:\\path\\to\\file \\\\ \\x00"),
    ("c_text", "  padded  ", "text", "  padded  "),
    ("c_text", _LONG, "text", _LONG),
    ("c_text", 42, "text", "42"),  # TEXT affinity renders numbers
    ("c_text", 1.5, "text", "1.5"),
    ("c_clob", "clob ✓", "text", "clob ✓"),
    ("c_clob", "", "text", ""),
    ("c_varchar", "abcdefghij", "text", "abcdefghij"),
    ("c_varchar", "😀" * 10, "text", "😀" * 10),  # 10 characters, 40 bytes
    ("c_varchar", "", "text", ""),
    ("c_nvarchar", "Ünïcödé ñ ß", "text", "Ünïcödé ñ ß"),
    ("c_nvarchar", "x" * 20, "text", "x" * 20),
    ("c_char", "ab", "text", "ab"),  # no blank padding
    ("c_char", "abc", "text", "abc"),
    ("c_blob", b"", "blob", b""),
    ("c_blob", b"\x00\x01\xff", "blob", b"\x00\x01\xff"),
    ("c_blob", _MANY_BYTES, "blob", _MANY_BYTES),
    ("c_boolean", 0, "integer", False),
    ("c_boolean", 1, "integer", True),
    ("c_boolean", True, "integer", True),
    ("c_boolean", "true", "text", True),  # README: 0/1, 't'/'f', 'true'/'false', 'yes'/'no'
    ("c_boolean", "f", "text", False),
    ("c_boolean", "yes", "text", True),
    ("c_boolean", "no", "text", False),
    ("c_datetime", "2024-01-02 03:04:05", "text", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("c_datetime", "2024-01-02 03:04:05.123456", "text", dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
    ("c_datetime", "2024-01-02 03:04:05.123", "text", dt.datetime(2024, 1, 2, 3, 4, 5, 123000)),
    ("c_datetime", "2024-01-02T03:04:05", "text", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("c_datetime", "2024-01-02T03:04:05.5", "text", dt.datetime(2024, 1, 2, 3, 4, 5, 500000)),
    ("c_datetime", "2024-02-29 23:59:59.999999", "text", dt.datetime(2024, 2, 29, 23, 59, 59, 999999)),
    ("c_datetime", "1970-01-01 00:00:00", "text", dt.datetime(1970, 1, 1)),
    ("c_datetime", "0001-01-01 00:00:00", "text", dt.datetime(1, 1, 1)),
    ("c_datetime", "9999-12-31 23:59:59", "text", dt.datetime(9999, 12, 31, 23, 59, 59)),
    ("c_datetime", "2016-07-04", "text", dt.datetime(2016, 7, 4)),  # date-only text, as in Northwind
    ("c_datetime", "2024-01-02 03:04", "text", dt.datetime(2024, 1, 2, 3, 4)),  # minutes only
    ("c_datetime", "2024-01-02T03:04:05Z", "text", dt.datetime(2024, 1, 2, 3, 4, 5)),  # README: 'Z' -> UTC
    ("c_datetime", "2024-01-02 03:04:05+02:00", "text", dt.datetime(2024, 1, 2, 1, 4, 5)),  # offset -> UTC
    ("c_timestamp", "2000-01-01 00:00:00", "text", dt.datetime(2000, 1, 1)),
    ("c_timestamp", "2024-06-30T23:59:59.000001", "text", dt.datetime(2024, 6, 30, 23, 59, 59, 1)),
    ("c_date", "2024-02-29", "text", dt.date(2024, 2, 29)),
    ("c_date", "0001-01-01", "text", dt.date(1, 1, 1)),
    ("c_date", "9999-12-31", "text", dt.date(9999, 12, 31)),
    ("c_date", "1970-01-01", "text", dt.date(1970, 1, 1)),
    ("c_date", "2024-01-02 00:00:00", "text", dt.date(2024, 1, 2)),  # README: a 00:00:00 time part is fine
    ("c_time", "00:00:00", "text", dt.time(0, 0, 0)),
    ("c_time", "12:34:56", "text", dt.time(12, 34, 56)),
    ("c_time", "12:34:56.789", "text", dt.time(12, 34, 56, 789000)),
    ("c_time", "23:59:59.999999", "text", dt.time(23, 59, 59, 999999)),
    ("c_time", "12:34", "text", dt.time(12, 34)),
    # NUMERIC(12,3): the decimal the user wrote, rounded half away from zero (as PostgreSQL does)
    ("c_numeric", "1.2345", "real", "1.235"),  # NUMERIC affinity stores the text as REAL 1.2345
    ("c_numeric", 1.2345, "real", "1.235"),
    ("c_numeric", -1.2345, "real", "-1.235"),
    ("c_numeric", 0.0005, "real", "0.001"),
    ("c_numeric", -0.0005, "real", "-0.001"),
    ("c_numeric", 0.0004, "real", "0.000"),
    ("c_numeric", 1e-07, "real", "0.000"),
    ("c_numeric", 7, "integer", "7.000"),
    ("c_numeric", "12.50", "real", "12.500"),
    ("c_numeric", 123456789.123, "real", "123456789.123"),
    ("c_numeric", 999999999, "integer", "999999999.000"),
    ("c_numeric", 0, "integer", "0.000"),
    # DECIMAL(5,2) stored as REAL: 1.005 is 1.00499999999999989... in binary; its shortest
    # repr (and SQLite's text) is '1.005', which PostgreSQL rounds half away from zero to 1.01
    ("c_decimal", 1.005, "real", "1.01"),
    ("c_decimal", 2.675, "real", "2.68"),
    ("c_decimal", 0.125, "real", "0.13"),
    ("c_decimal", -0.125, "real", "-0.13"),
    ("c_decimal", 999.99, "real", "999.99"),
    ("c_decimal", -999.99, "real", "-999.99"),
    ("c_decimal", 0.99, "real", "0.99"),
    ("c_decimal", 3, "integer", "3.00"),
    # plain NUMERIC keeps the value exactly: ints as they are, REALs as their shortest repr
    ("c_numeric_plain", BIG, "integer", "9007199254740993"),
    ("c_numeric_plain", 14, "integer", "14"),
    ("c_numeric_plain", 9.8, "real", "9.8"),
    ("c_numeric_plain", 0.1 + 0.7, "real", "0.7999999999999999"),
    ("c_numeric_plain", 1 / 3, "real", "0.3333333333333333"),
    ("c_numeric_plain", 1e-07, "real", "0.0000001"),
    ("c_numeric_plain", 1e-25, "real", "0." + "0" * 24 + "1"),
    ("c_numeric_plain", -123.456, "real", "-123.456"),
    # JSON has NUMERIC affinity: '123' becomes integer 123, still the JSON number 123
    ("c_json", '{"a": 1, "b": [1, 2.50, null], "c": "é"}', "text", json_doc('{"a": 1, "b": [1, 2.50, null], "c": "é"}')),
    ("c_json", "[1, 2, 3]", "text", json_doc("[1, 2, 3]")),
    ("c_json", "[]", "text", json_doc("[]")),
    ("c_json", "{}", "text", json_doc("{}")),
    ("c_json", '"just a string"', "text", json_doc('"just a string"')),
    ("c_json", "true", "text", json_doc("true")),
    ("c_json", "null", "text", json_doc("null")),  # JSON null, not SQL NULL
    ("c_json", "123", "integer", json_doc("123")),
    ("c_json", '{"big": 12345678901234567890.123456789}', "text", json_doc('{"big": 12345678901234567890.123456789}')),
    ("c_json", '{"emoji": "😀", "esc": "line\\nbreak \\"q\\" \\\\"}', "text", json_doc('{"emoji": "😀", "esc": "line\\nbreak \\"q\\" \\\\"}')),
    ("c_json", '{"nested": {"deep": [{"x": [[]]}]}}', "text", json_doc('{"nested": {"deep": [{"x": [[]]}]}}')),
    ("c_intege", 5, "integer", 5),
    ("c_intege", I64_MAX, "integer", I64_MAX),
    ("c_smallint_unsigned", 65535, "integer", 65535),
    ("c_smallint_unsigned", -1, "integer", -1),  # SQLite enforces neither width nor sign
    ("c_smallint_unsigned", 2**40, "integer", 2**40),
    ("c_text_nocase", "MiXeD CaSe", "text", "MiXeD CaSe"),
    ("c_text_nocase", 42, "text", "42"),
    ("c_int_auto_increment", 1, "integer", 1),
    ("c_int_auto_increment", 2**62, "integer", 2**62),
    ("c_untyped", 42, "integer", "42"),
    ("c_untyped", "abc", "text", "abc"),
    ("c_untyped", 1.5, "real", "1.5"),
    ("c_untyped", BIG, "integer", str(BIG)),
]
# fmt: on

_NAMES = [c[0] for c in COLUMNS]


def _build(path: Path, cases: list[tuple[str, Any, str, Any]]) -> Path:
    cols = ", ".join(f"{qi(name)} {declared}" for name, declared, _pg in COLUMNS)
    rows = []
    for i, (column, value, _typeof, _expected) in enumerate(cases, start=1):
        row: list[Any] = [None] * len(_NAMES)
        row[_NAMES.index(column)] = value
        rows.append((i, *row))
    rows.append((len(cases) + 1, *([None] * len(_NAMES))))
    return make_sqlite(
        path, f"CREATE TABLE types (id INTEGER PRIMARY KEY, {cols});", {"types": rows}
    )


def _typeofs(path: Path, cases: list[tuple[str, Any, str, Any]]) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [
            conn.execute(f"SELECT typeof({qi(column)}) FROM types WHERE id = ?", (i,)).fetchone()[0]
            for i, (column, *_rest) in enumerate(cases, start=1)
        ]
    finally:
        conn.close()


def _mismatches(url: str, cases: list[tuple[str, Any, str, Any]]) -> list[str]:
    select = ", ".join(["id", *(qi(n) for n in _NAMES)])
    rows = {r["id"]: r for r in pg_query(url, f"SELECT {select} FROM types")}
    problems = []
    if sorted(rows) != list(range(1, len(cases) + 2)):
        problems.append(f"ids in PostgreSQL: {sorted(rows)}")
    for i, (column, value, _typeof, expected) in enumerate([*cases, ("", None, "", None)], start=1):
        row = rows.get(i)
        if row is None:
            continue
        for name in _NAMES:
            want = expected if name == column else None
            if not values_equal(want, row[name]):
                shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
                got = repr(row[name]) if len(repr(row[name])) < 80 else repr(row[name])[:77] + "..."
                problems.append(f"row {i} {name} <- {shown}: expected {want!r}, got {got}")
    return problems


def test_cases_are_one_per_line_and_cover_every_column() -> None:
    assert {c[0] for c in CASES} == set(_NAMES)
    assert len(set(_NAMES)) == len(_NAMES)


def test_sqlite_stores_what_the_cases_say(tmp_path: Path) -> None:
    """Affinity acts at insert time: the table states what arrowferry actually receives."""
    path = _build(tmp_path / "types.sqlite", CASES)
    assert _typeofs(path, CASES) == [c[2] for c in CASES]


def test_type_table_column_types(tmp_path: Path, pg_url: str) -> None:
    path = _build(tmp_path / "types.sqlite", CASES)
    result = af.migrate(path, pg_url)
    assert result.errors == []
    assert pg_column_types(pg_url, "types") == {"id": "bigint", **{n: t for n, _d, t in COLUMNS}}


def test_type_table_every_value_exact(tmp_path: Path, pg_url: str) -> None:
    path = _build(tmp_path / "types.sqlite", CASES)
    result = af.migrate(path, pg_url)
    assert result.errors == []
    assert result.success
    assert result.rows_migrated == len(CASES) + 1
    problems = _mismatches(pg_url, CASES)
    assert not problems, "\n".join(problems)


def test_type_table_in_batches_of_seven(tmp_path: Path, pg_url: str) -> None:
    """The same table read 7 rows at a time: most batches hold only NULLs in most columns."""
    path = _build(tmp_path / "types.sqlite", CASES)
    result = af.migrate(path, pg_url, batch_size=7)
    assert result.errors == []
    problems = _mismatches(pg_url, CASES)
    assert not problems, "\n".join(problems)


# --- focused cases ------------------------------------------------------------------------


def test_int64_min_in_every_kind_of_integer_column(tmp_path: Path, pg_url: str) -> None:
    """-2**63 is a valid SQLite integer; it must arrive intact in an INTEGER column, in a
    plain NUMERIC column and in an untyped one (the last two are profiled before the load)."""
    path = make_sqlite(
        tmp_path / "min.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, n NUMERIC, u);",
        {"t": [(1, I64_MIN, I64_MIN, I64_MIN), (2, I64_MAX, I64_MAX, I64_MAX), (3, 0, 0, 0)]},
    )
    result = af.migrate(path, pg_url)
    assert result.errors == []
    assert pg_column_types(pg_url, "t") == {
        "id": "bigint",
        "i": "bigint",
        "n": "numeric",
        "u": "bigint",
    }
    assert pg_query(pg_url, "SELECT id, i, n, u FROM t ORDER BY id") == [
        {"id": 1, "i": I64_MIN, "n": str(I64_MIN), "u": I64_MIN},
        {"id": 2, "i": I64_MAX, "n": str(I64_MAX), "u": I64_MAX},
        {"id": 3, "i": 0, "n": "0", "u": 0},
    ]


def test_nan_is_null_already_in_sqlite_and_stays_null(tmp_path: Path, pg_url: str) -> None:
    """SQLite turns a NaN into NULL on insert; nothing is invented on the way to PostgreSQL."""
    path = make_sqlite(
        tmp_path / "nan.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL, d DOUBLE);",
        {"t": [(1, NAN, NAN), (2, INF, -INF), (3, 1.0, None)]},
    )
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT typeof(r), typeof(d) FROM t ORDER BY id").fetchall() == [
        ("null", "null"),
        ("real", "real"),
        ("real", "null"),
    ]
    conn.close()
    result = af.migrate(path, pg_url)
    assert result.errors == []
    rows = pg_query(pg_url, "SELECT id, r, d, r = 'NaN'::float8 AS r_nan FROM t ORDER BY id")
    assert [(r["id"], r["r"], r["d"], r["r_nan"]) for r in rows] == [
        (1, None, None, None),
        (2, INF, -INF, False),
        (3, 1.0, None, False),
    ]
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())


# untyped (BLOB affinity) columns: the data decides; column, values, PostgreSQL type, expected
UNTYPED: list[tuple[str, list[Any], str, list[Any]]] = [
    ("ints", [1, I64_MAX, None, -5], "bigint", [1, I64_MAX, None, -5]),
    ("reals", [0.5, 1e300, None, -2.25], "double precision", [0.5, 1e300, None, -2.25]),
    ("ints_and_reals", [3, 0.1, None, BIG], "numeric", ["3", "0.1", None, str(BIG)]),
    ("texts", ["a", "", None, "ü"], "text", ["a", "", None, "ü"]),
    ("blobs", [b"\x00", b"", None, b"\xff"], "bytea", [b"\x00", b"", None, b"\xff"]),
    ("ints_and_texts", [7, "seven", None, -I64_MAX], "text", ["7", "seven", None, str(-I64_MAX)]),
    ("only_nulls", [None, None, None, None], "text", [None, None, None, None]),
]


def test_untyped_columns_follow_their_data(tmp_path: Path, pg_url: str) -> None:
    cols = ", ".join(qi(name) for name, *_rest in UNTYPED)
    rows = [(i + 1, *(values[i] for _n, values, _t, _e in UNTYPED)) for i in range(4)]
    path = make_sqlite(
        tmp_path / "untyped.sqlite",
        f"CREATE TABLE u (id INTEGER PRIMARY KEY, {cols});",
        {"u": rows},
    )
    result = af.migrate(path, pg_url)
    assert result.errors == []
    assert pg_column_types(pg_url, "u") == {"id": "bigint", **{n: t for n, _v, t, _e in UNTYPED}}
    got = pg_query(pg_url, f"SELECT {cols} FROM u ORDER BY id")
    problems = [
        f"{name} row {i + 1}: expected {expected[i]!r}, got {got[i][name]!r}"
        for name, _v, _t, expected in UNTYPED
        for i in range(4)
        if not values_equal(expected[i], got[i][name])
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("declared", "pg_type"),
    [(d, t) for _n, d, t in COLUMNS if d],
    ids=lambda v: v.replace(" ", "_") or "none",
)
def test_map_type_agrees_with_the_created_tables(declared: str, pg_type: str) -> None:
    """The public map_type names the same types the migration creates (short spellings)."""
    short = {
        "character varying(10)": "varchar(10)",
        "character varying(20)": "varchar(20)",
        "character varying(3)": "varchar(3)",
        "timestamp without time zone": "timestamp",
        "time without time zone": "time",
    }
    assert af.map_type(declared) == short.get(pg_type, pg_type)
