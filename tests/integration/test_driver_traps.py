"""The traps of ``../shared/notes/driver-traps.md``, each set off on purpose.

(a) adbc_driver_sqlite types a column from its first batch: leading NULLs, a storage
    class that changes after row 1024 (or after ``batch_size``), reals then text in the
    first batch (rendered with C ``%e``: 12345.678901 -> '1.234568e+04').
(b) integers above 2**53 next to reals must not pass through a double.
(c) binary COPY reinterprets a value of the wrong Arrow width (table C3): the writer's
    whitelist must refuse every such pairing before a byte is sent.

Whole tables are compared with ``_compare.compare_table``: every row, every column.
"""

from __future__ import annotations

import datetime as dt
import gc
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import arrowferry as af
from arrowferry.dialects.postgresql import check_arrow_fields
from arrowferry.dialects.postgresql.write import write_table
from arrowferry.errors import WriterTypeError
from tests.conftest import make_sqlite, sql
from tests.integration._compare import (
    compare_table,
    finalizer_errors,
    pg_column_types,
    pg_connect,
    pg_query,
)


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """A driver object the migration leaves open is reported on the test that leaked it."""
    with finalizer_errors() as leaked:
        yield
    assert not leaked, "left open by the migration:\n" + "\n".join(leaked)


BATCH_SIZES = [100, 1024, 65_536]
BIG = 2**53 + 1


def _table(path: Path, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> Path:
    cols = ", ".join(f'"{n}" {d}' for n, d in columns.items())
    return make_sqlite(path, f"CREATE TABLE t (id INTEGER PRIMARY KEY, {cols});", {"t": rows})


def _migrate_and_compare(path: Path, url: str, types: dict[str, str], batch_size: int) -> None:
    result = af.migrate(path, url, batch_size=batch_size)
    assert result.errors == []
    assert result.success
    assert pg_column_types(url, "t") == {"id": "bigint", **types}
    problems = compare_table(path, url, "t", {"id": "bigint", **types})
    assert not problems, "\n".join(problems)


# --- (a) the first batch decides the type ------------------------------------------------

_TEXTS = ["plain", "", "ünïcødé 😀", "line\nbreak", "tab\t", "quote ' \" \\", "1.5", "42", "1e3"]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_2000_nulls_then_text(tmp_path: Path, pg_url: str, batch_size: int) -> None:
    """TEXT and untyped columns NULL in rows 1-2000, text afterwards (driver: 'expected INT64')."""
    rows = [(i, None, None) for i in range(1, 2001)]
    rows += [
        (i, _TEXTS[i % len(_TEXTS)] + str(i), _TEXTS[i % len(_TEXTS)]) for i in range(2001, 3001)
    ]
    path = _table(tmp_path / "t.sqlite", {"txt": "TEXT", "untyped": ""}, rows)
    _migrate_and_compare(path, pg_url, {"txt": "text", "untyped": "text"}, batch_size)
    assert sql(pg_url, "SELECT count(txt), count(untyped) FROM t") == [(1000, 1000)]


_REALS = [0.30000000000000004, 12345.678901, 1e-07, -2.5, 1 / 3, 1.7976931348623157e308, 5e-324]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_2000_nulls_then_reals(tmp_path: Path, pg_url: str, batch_size: int) -> None:
    rows = [(i, None, None) for i in range(1, 2001)]
    rows += [(i, _REALS[i % len(_REALS)], _REALS[i % len(_REALS)] * 3) for i in range(2001, 3001)]
    path = _table(tmp_path / "t.sqlite", {"r": "REAL", "untyped": ""}, rows)
    _migrate_and_compare(
        path, pg_url, {"r": "double precision", "untyped": "double precision"}, batch_size
    )


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_2000_nulls_then_ints_above_2_53(tmp_path: Path, pg_url: str, batch_size: int) -> None:
    rows = [(i, None) for i in range(1, 2001)] + [(i, BIG + i) for i in range(2001, 3001)]
    path = _table(tmp_path / "t.sqlite", {"n": "INTEGER"}, rows)
    _migrate_and_compare(path, pg_url, {"n": "bigint"}, batch_size)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_ints_then_text_after_row_1024(tmp_path: Path, pg_url: str, batch_size: int) -> None:
    """An untyped column: 1,500 integers (the driver fixes int64), then text; all of it text."""
    rows = [(i, i * 7919 if i % 3 else BIG * (-1) ** i) for i in range(1, 1501)]
    rows += [(i, f"text {i}") for i in range(1501, 2001)]
    path = _table(tmp_path / "t.sqlite", {"v": ""}, rows)
    _migrate_and_compare(path, pg_url, {"v": "text"}, batch_size)
    assert sql(pg_url, "SELECT v FROM t WHERE id IN (2, 3) ORDER BY id") == [
        ("15838",),
        (str(-BIG),),
    ]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_reals_then_text_inside_the_first_batch(
    tmp_path: Path, pg_url: str, batch_size: int
) -> None:
    """The '%e' trap: text after reals in the first batch makes the driver print the reals
    with 7 significant digits. Every real must come back as text of exactly its value."""
    rows: list[tuple[Any, ...]] = [(i + 1, v) for i, v in enumerate(_REALS)]
    rows += [(len(rows) + 1, "now some text"), (len(rows) + 2, 42)]
    rows += [(i, _REALS[i % len(_REALS)] if i % 2 else f"t{i}") for i in range(len(rows) + 1, 1500)]
    path = _table(tmp_path / "t.sqlite", {"v": ""}, rows)
    _migrate_and_compare(path, pg_url, {"v": "text"}, batch_size)
    got = dict(sql(pg_url, "SELECT id, v FROM t WHERE id <= 2"))
    assert got == {1: "0.30000000000000004", 2: "12345.678901"}


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_text_then_reals_after_the_first_batch(
    tmp_path: Path, pg_url: str, batch_size: int
) -> None:
    rows: list[tuple[Any, ...]] = [(i, f"text {i}") for i in range(1, 1101)]
    rows += [(i, _REALS[i % len(_REALS)]) for i in range(1101, 1301)]
    path = _table(tmp_path / "t.sqlite", {"v": ""}, rows)
    _migrate_and_compare(path, pg_url, {"v": "text"}, batch_size)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_untyped_ints_then_reals_after_the_first_batch(
    tmp_path: Path, pg_url: str, batch_size: int
) -> None:
    """An untyped column of ints (first batches) then reals: numeric, every value exact."""
    rows = [(i, i) for i in range(1, 1201)] + [(i, i + 0.25) for i in range(1201, 1501)]
    path = _table(tmp_path / "t.sqlite", {"v": ""}, rows)
    _migrate_and_compare(path, pg_url, {"v": "numeric"}, batch_size)


# --- (b) integers above 2**53 next to reals --------------------------------------------------

_BIG_INTS = [BIG, 2**53 + 3, 2**62 + 1, 2**63 - 1, -(2**63 - 1), -(BIG + 2)]
_SMALL_REALS = [0.5, 1.25, 0.30000000000000004, -7.75]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("reals_first", [True, False], ids=["reals_first", "ints_first"])
def test_ints_above_2_53_mixed_with_reals(
    tmp_path: Path, pg_url: str, batch_size: int, reals_first: bool
) -> None:
    """NUMERIC, NUMERIC(25,2) and untyped columns mixing REALs with ints above 2**53."""
    mixed: list[Any] = []
    for i in range(1200):
        mixed.append(
            _SMALL_REALS[i % 4] if (i < 600) == reals_first else _BIG_INTS[i % len(_BIG_INTS)]
        )
    rows = [(i + 1, v, v, v, v if type(v) is int else None) for i, v in enumerate(mixed)]
    path = _table(
        tmp_path / "t.sqlite",
        {"num": "NUMERIC", "num25": "NUMERIC(25,2)", "untyped": "", "int": "INTEGER"},
        rows,
    )
    _migrate_and_compare(
        path,
        pg_url,
        {"num": "numeric", "num25": "numeric(25,2)", "untyped": "numeric", "int": "bigint"},
        batch_size,
    )
    got = {r["id"]: r for r in pg_query(pg_url, "SELECT id, num, num25, untyped FROM t")}
    first_big = next(i + 1 for i, v in enumerate(mixed) if v == BIG)
    assert (got[first_big]["num"], got[first_big]["num25"], got[first_big]["untyped"]) == (
        "9007199254740993",
        "9007199254740993.00",
        "9007199254740993",
    )


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_ints_above_2_53_mixed_with_text(tmp_path: Path, pg_url: str, batch_size: int) -> None:
    rows = [(i + 1, _BIG_INTS[i % len(_BIG_INTS)] if i % 5 else f"code-{i}") for i in range(1500)]
    path = _table(tmp_path / "t.sqlite", {"v": ""}, rows)
    _migrate_and_compare(path, pg_url, {"v": "text"}, batch_size)


# --- (c) the writer's whitelist -------------------------------------------------------------

# driver-traps.md table C3: (PostgreSQL column, a wrong Arrow array, what PostgreSQL would store)
C3: list[tuple[str, pa.Array, str]] = [
    ("bigint", pa.array([1.0], pa.float64()), "4607182418800017408"),
    ("double precision", pa.array([1], pa.int64()), "5e-324"),
    ("boolean", pa.array(["f"], pa.string()), "true"),
    ("boolean", pa.array(["0"], pa.string()), "true"),
    ("bigint", pa.array(["12345678"], pa.string()), "3544952156018063160"),
    ("integer", pa.array(["1234"], pa.string()), "825373492"),
    ("integer", pa.array([1.5], pa.float32()), "1069547520"),
    ("real", pa.array([1], pa.int32()), "1e-45"),
    ("date", pa.array([1], pa.int32()), "2000-01-02"),
    ("date", pa.array(["2024"], pa.string()), "2307370-10-05"),
    ("timestamp without time zone", pa.array(["20240102"], pa.string()), "116600-08-08..."),
    ("timestamp without time zone", pa.array([1_700_000_000], pa.int64()), "2000-01-01 00:28:20"),
    (
        "timestamp with time zone",
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("us")),
        "taken as UTC",
    ),
    ("text", pa.array([0x4142434445464748], pa.int64()), "ABCDEFGH"),
    ("uuid", pa.array(["0123456789abcdef"], pa.string()), "the string's bytes"),
    ("bigint", pa.array([2**64 - 1], pa.uint64()), "-1"),
]
_C3_IDS = [f"{t.split()[0]}<-{a.type}-{i}" for i, (t, a, _s) in enumerate(C3)]

# numeric(10,2) <- int64 12345 is C3's one faithful pairing: refused, or stored as 12345.00
NUMERIC_FROM_INT64 = ("numeric(10,2)", pa.array([12345], pa.int64()), "12345.00")


def _schema(array: pa.Array) -> pa.Schema:
    return pa.schema([pa.field("v", array.type)])


def _batch(array: pa.Array, schema: pa.Schema | None = None) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([array], schema=schema or _schema(array))


@pytest.mark.parametrize(("pg_type", "array", "stored"), C3, ids=_C3_IDS)
def test_whitelist_refuses_every_c3_pairing(pg_type: str, array: pa.Array, stored: str) -> None:
    with pytest.raises(WriterTypeError) as info:
        check_arrow_fields("w", _schema(array), {"v": pg_type})
    assert info.value.column == "v"
    assert info.value.target == pg_type


@pytest.mark.parametrize(("pg_type", "array", "stored"), C3, ids=_C3_IDS)
def test_writer_refuses_every_c3_pairing_and_writes_nothing(
    pg_url: str, pg_type: str, array: pa.Array, stored: str
) -> None:
    sql(pg_url, f"CREATE TABLE w (v {pg_type})")
    conn = pg_connect(pg_url, autocommit=False)
    try:
        with pytest.raises(WriterTypeError):
            write_table(conn, "public", "w", _schema(array), iter([_batch(array)]))
        conn.rollback()
        assert pg_query(pg_url, "SELECT count(*) AS n FROM w") == [{"n": 0}]
        with conn.cursor() as cur:  # the connection is not left inside a COPY
            cur.execute("SELECT count(*) FROM w")
            assert cur.fetchall() == [(0,)]
    finally:
        conn.close()
    sql(pg_url, "DROP TABLE w")  # no COPY holds its lock


def test_numeric_from_int64_is_refused_or_exact(pg_url: str) -> None:
    pg_type, array, stored = NUMERIC_FROM_INT64
    sql(pg_url, f"CREATE TABLE w (v {pg_type})")
    conn = pg_connect(pg_url, autocommit=False)
    try:
        try:
            write_table(conn, "public", "w", _schema(array), iter([_batch(array)]))
        except WriterTypeError:
            conn.rollback()
            expected: list[Any] = []
        else:
            conn.commit()
            expected = [{"v": stored}]
    finally:
        conn.close()
    assert pg_query(pg_url, "SELECT v FROM w") == expected


# Batches whose real type contradicts the schema handed to the writer (same buffer layout,
# so the driver would read one as the other): the declared schema passes the whitelist,
# the data must not reach the table. (declared Arrow type, actual array, PostgreSQL type)
LYING_BATCHES: list[tuple[pa.DataType, pa.Array, str]] = [
    (pa.int64(), pa.array([1.0, 2.5], pa.float64()), "bigint"),
    (pa.float64(), pa.array([1, 2], pa.int64()), "double precision"),
    (pa.int32(), pa.array([1.5], pa.float32()), "integer"),
    (pa.float32(), pa.array([1], pa.int32()), "real"),
    (pa.date32(), pa.array([1], pa.int32()), "date"),
    (pa.timestamp("us"), pa.array([1_700_000_000], pa.int64()), "timestamp without time zone"),
    (
        pa.timestamp("us", tz="UTC"),
        pa.array([dt.datetime(2024, 1, 2)], pa.timestamp("us")),
        "timestamp with time zone",
    ),
    (pa.int64(), pa.array([2**64 - 1], pa.uint64()), "bigint"),
]


@pytest.mark.parametrize(
    ("declared", "array", "pg_type"),
    LYING_BATCHES,
    ids=[f"{d}<-{a.type}" for d, a, _t in LYING_BATCHES],
)
def test_writer_refuses_batches_that_contradict_the_schema(
    pg_url: str, declared: pa.DataType, array: pa.Array, pg_type: str
) -> None:
    sql(pg_url, f"CREATE TABLE w (v {pg_type})")
    schema = pa.schema([pa.field("v", declared)])
    check_arrow_fields("w", schema, {"v": pg_type})  # the declared type itself is fine
    conn = pg_connect(pg_url, autocommit=False)
    raised: BaseException | None = None
    try:
        try:
            write_table(conn, "public", "w", schema, iter([_batch(array)]))
            conn.commit()
        except (WriterTypeError, pa.ArrowException) as err:
            raised = err
            conn.rollback()
    finally:
        conn.close()
    stored = sql(pg_url, "SELECT v::text FROM w")
    assert raised is not None and stored == [], (
        f"a {array.type} batch declared as {declared} was written into {pg_type} as {stored}"
    )


# Exactly the right Arrow type for each column: accepted, and the value arrives unchanged.
# (PostgreSQL type, Arrow array, the values read back through adbc)
ACCEPTED: list[tuple[str, pa.Array, list[Any]]] = [
    ("bigint", pa.array([-(2**63), 2**63 - 1, None], pa.int64()), [-(2**63), 2**63 - 1, None]),
    ("integer", pa.array([-(2**31), 2**31 - 1], pa.int32()), [-(2**31), 2**31 - 1]),
    ("smallint", pa.array([-(2**15), 2**15 - 1], pa.int16()), [-(2**15), 2**15 - 1]),
    (
        "double precision",
        pa.array([0.1, float("inf"), -0.0], pa.float64()),
        [0.1, float("inf"), -0.0],
    ),
    ("real", pa.array([1.5, -2.25], pa.float32()), [1.5, -2.25]),
    ("boolean", pa.array([True, False, None], pa.bool_()), [True, False, None]),
    ("text", pa.array(["a", "😀", ""], pa.string()), ["a", "😀", ""]),
    ("text", pa.array(["large", "ß"], pa.large_string()), ["large", "ß"]),
    ("character varying(5)", pa.array(["abcde"], pa.string()), ["abcde"]),
    ("bytea", pa.array([b"\x00\xff", b""], pa.binary()), [b"\x00\xff", b""]),
    ("bytea", pa.array([b"\x01"], pa.large_binary()), [b"\x01"]),
    (
        "date",
        pa.array([dt.date(2024, 2, 29), dt.date(1, 1, 1)], pa.date32()),
        [dt.date(2024, 2, 29), dt.date(1, 1, 1)],
    ),
    (
        "time without time zone",
        pa.array([dt.time(23, 59, 59, 999999)], pa.time64("us")),
        [dt.time(23, 59, 59, 999999)],
    ),
    (
        "timestamp without time zone",
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6)], pa.timestamp("us")),
        [dt.datetime(2024, 1, 2, 3, 4, 5, 6)],
    ),
    (
        "timestamp with time zone",
        pa.array(
            [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)], pa.timestamp("us", tz="UTC")
        ),
        [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)],
    ),
    (
        "numeric(10,2)",
        pa.array([Decimal("12.34"), Decimal("-0.01")], pa.decimal128(10, 2)),
        ["12.34", "-0.01"],
    ),
    (
        "numeric(10,2)",
        pa.array([Decimal("1.235"), Decimal("-1.235")], pa.decimal128(12, 3)),
        ["1.24", "-1.24"],
    ),
    (
        "jsonb",
        pa.ExtensionArray.from_storage(pa.json_(), pa.array(['{"b": 1, "a": [1, 2.50]}'])),
        ['{"a": [1, 2.50], "b": 1}'],
    ),
    (
        "uuid",
        pa.ExtensionArray.from_storage(pa.uuid(), pa.array([bytes(range(16))], pa.binary(16))),
        ["00010203-0405-0607-0809-0a0b0c0d0e0f"],
    ),
]


@pytest.mark.parametrize(
    ("pg_type", "array", "expected"), ACCEPTED, ids=[f"{t}<-{a.type}" for t, a, _e in ACCEPTED]
)
def test_writer_accepts_the_right_types_and_stores_them_exactly(
    pg_url: str, pg_type: str, array: pa.Array, expected: list[Any]
) -> None:
    check_arrow_fields("w", _schema(array), {"v": pg_type})
    sql(pg_url, f"CREATE TABLE w (i serial, v {pg_type})")
    conn = pg_connect(pg_url, autocommit=False)
    try:
        assert write_table(conn, "public", "w", _schema(array), iter([_batch(array)])) == len(array)
        conn.commit()
    finally:
        conn.close()
    cast = "::text" if pg_type == "uuid" else ""
    got = [r["v"] for r in pg_query(pg_url, f"SELECT v{cast} AS v FROM w ORDER BY i")]
    assert got == expected
    if pg_type == "double precision":
        assert str(got[2]) == "-0.0"


# --- the retry path leaves nothing open -------------------------------------------------------


def test_a_retried_table_closes_its_sqlite_reader(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BOOLEAN column read as integers meets text ('true') in its first batch: the table is
    re-read. The abandoned first read must close its ADBC cursor and connection."""
    monkeypatch.setenv("_ADBC_DRIVER_MANAGER_WARN_UNCLOSED_RESOURCE", "1")
    rows = [(i, ["true", "f", 1, 0][i % 4]) for i in range(1, 201)]
    path = _table(tmp_path / "t.sqlite", {"b": "BOOLEAN"}, rows)
    gc.collect()
    with finalizer_errors() as leaked, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = af.migrate(path, pg_url)
        gc.collect()
    assert result.errors == []
    assert sql(
        pg_url, "SELECT count(*) FILTER (WHERE b), count(*) FILTER (WHERE NOT b) FROM t"
    ) == [(100, 100)]
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert (leaked, unclosed) == ([], [])
