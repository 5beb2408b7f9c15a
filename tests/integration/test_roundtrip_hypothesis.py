"""Property-based round trip (issue 3): random SQLite tables of every supported type family,
NULLs and extremes included -> arrowferry.migrate -> read back from PostgreSQL -> equal,
value by value, to the expected converted value.

Each drawn value carries its expected PostgreSQL value, computed here from the README
type mapping, not by the package: integers exactly (int64 limits included), REALs with
the same bits (-0.0 and subnormals too, as SQLite stores them), text (non-ASCII, emoji,
newlines) and blobs unchanged, booleans from 0/1 and the documented spellings,
DATETIME from ISO text with ' ' or 'T' and 0-6 fraction digits, date-only and
minutes-only text, epoch seconds, epoch milliseconds and julian days (README "Dates
stored as numbers"), DATE, NUMERIC(12,3) and NUMERIC(38,18) from decimals (PostgreSQL rounds the stored
value's shortest text half away from zero), JSON objects and arrays (compared after
parsing both sides, numbers as Decimals, since jsonb normalizes).

Every example is a whole migration into one database (``drop_tables`` between examples),
with a random ``batch_size`` so values land on both sides of batch boundaries.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

import arrowferry as af
from tests.conftest import sql, with_database
from tests.integration._compare import (
    _json_equal,
    exact_decimal,
    numeric_text,
    pg_column_types,
    pg_date_text,
    pg_query,
    qi,
    to_numeric,
)

FROM_STORED = object()  # the expected value follows from what SQLite stored


@dataclass(frozen=True)
class Cell:
    expr: str  # SQL expression in the INSERT ('?' binds ``param``)
    param: Any
    expected: Any  # the PostgreSQL value, or FROM_STORED


@dataclass(frozen=True)
class Family:
    declared: str
    pg_type: str
    values: st.SearchStrategy[Cell]
    from_stored: Callable[[Any], Any] | None = None
    select: str = "{}"  # how the column is read back (a BC date has no Python value)
    # the PostgreSQL type given what SQLite stored in the column (a declared size SQLite
    # never enforced is widened to what the data needs)
    pg_type_for: Callable[[list[Any]], str] | None = None


def bound(
    strategy: st.SearchStrategy[Any], expected: Callable[[Any], Any]
) -> st.SearchStrategy[Cell]:
    return strategy.map(lambda v: Cell("?", v, expected(v)))


# --- integers, reals, text, blobs, booleans ----------------------------------------------

INT64 = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([-(2**63), 2**63 - 1, 0, 2**53 + 1, -(2**53) - 1]),
)
FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([-0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]),
    st.floats(min_value=-1e-300, max_value=1e-300, allow_subnormal=True),
)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
) | st.sampled_from(["", "ünïcødé", "😀🎉", "line\nbreak\r\n", "tab\t", " padded ", "42", "1e3"])
BOOLEAN_WORDS = {
    0: False, 1: True, "t": True, "f": False, "true": True, "false": False,
    "TRUE": True, "False": False, "yes": True, "no": False, "YES": True, "No": False,
}  # fmt: skip

# --- dates and times ------------------------------------------------------------------------

DATETIMES = st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999))
EPOCH = dt.datetime(1970, 1, 1)


@st.composite
def iso_timestamp(draw: st.DrawFn) -> Cell:
    when = draw(DATETIMES)
    form = draw(st.sampled_from(["full", "minutes", "date"]))
    date = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    if form == "date":
        return Cell("?", date, dt.datetime(when.year, when.month, when.day))
    sep = draw(st.sampled_from([" ", "T"]))
    if form == "minutes":
        text = f"{date}{sep}{when.hour:02d}:{when.minute:02d}"
        return Cell("?", text, when.replace(second=0, microsecond=0))
    digits = draw(st.integers(0, 6))
    fraction = f"{when.microsecond:06d}"[:digits]
    text = f"{date}{sep}{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    text += f".{fraction}" if digits else ""
    micro = int(fraction.ljust(6, "0")) if digits else 0
    return Cell("?", text, when.replace(microsecond=micro))


@st.composite
def epoch_seconds(draw: st.DrawFn) -> Cell:
    # README: an integer below 1e11 and not below 5373484.5 is epoch seconds
    seconds = draw(st.integers(5_373_485, 10**11 - 1))
    return Cell("?", seconds, EPOCH + dt.timedelta(seconds=seconds))


@st.composite
def epoch_millis(draw: st.DrawFn) -> Cell:
    # README: an integer of 1e11 or more is epoch milliseconds
    millis = draw(st.integers(10**11, 253_402_300_799_999))
    return Cell("?", millis, EPOCH + dt.timedelta(milliseconds=millis))


@st.composite
def julian_day(draw: st.DrawFn) -> Cell:
    # what SQLite's julianday() writes for a time to the millisecond; read back to the ms
    when = draw(st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)))
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    return Cell("julianday(?)", when.isoformat(sep=" ", timespec="milliseconds"), when)


@st.composite
def iso_date(draw: st.DrawFn) -> Cell:
    day = draw(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
    return Cell("?", f"{day.year:04d}-{day.month:02d}-{day.day:02d}", day)


# --- dates before year 1, and offsets ----------------------------------------------------
# Python's datetime stops at year 1; the Gregorian calendar repeats every 400 years. So a
# value is drawn as a Python datetime plus a shift of whole 400-year cycles, and its
# expected PostgreSQL text is written from the shifted (astronomical) year: year 0 is
# 1 BC, year -44 is 45 BC. SQLite's own functions write such years as '0000' and '-0044'
# (date(0.5) is '-4713-11-25'). PostgreSQL's earliest timestamp is 4714-11-24 BC.

BC_SHIFT = -4800


def pg_text(when: dt.datetime, shift: int, *, date_only: bool = False) -> str:
    return pg_date_text(when, shift, date_only=date_only)


def sqlite_date(when: dt.datetime | dt.date, shift: int) -> str:
    year = when.year + shift
    return f"{'-' if year < 0 else ''}{abs(year):04d}-{when.month:02d}-{when.day:02d}"


@st.composite
def shifted_datetime(draw: st.DrawFn) -> tuple[dt.datetime, int]:
    """A datetime of any year SQLite writes (-4713 to 9999), as (Python value, shift)."""
    if draw(st.booleans()):
        return draw(st.datetimes(dt.datetime(2, 1, 1), dt.datetime(9998, 12, 31))), 0
    earliest = dt.datetime(87, 11, 26)  # -4713-11-26: a day above the minimum, for offsets
    when = draw(st.datetimes(earliest, dt.datetime(4800 + 400, 12, 31)))
    return when, BC_SHIFT


OFFSETS = st.integers(-(15 * 60 + 59), 15 * 60 + 59)  # minutes; PostgreSQL's own limit


def offset_text(minutes: int, form: str) -> str:
    if form == "Z":
        return "Z" if minutes == 0 else offset_text(minutes, ":")
    sign, hours, mins = "-" if minutes < 0 else "+", abs(minutes) // 60, abs(minutes) % 60
    if form == "hours" and mins == 0:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if form == ':' else ''}{mins:02d}"


@st.composite
def wide_iso_timestamp(draw: st.DrawFn) -> Cell:
    """ISO text from -4713 to 9999, with or without an offset: PostgreSQL gets the UTC time."""
    when, shift = draw(shifted_datetime())
    sep = draw(st.sampled_from([" ", "T"]))
    if draw(st.booleans()):
        when = when.replace(second=0, microsecond=0)
        clock = f"{when.hour:02d}:{when.minute:02d}"
    else:
        digits = draw(st.integers(0, 6))
        when = when.replace(microsecond=int(f"{when.microsecond:06d}"[:digits].ljust(6, "0")))
        clock = f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
        clock += f".{when.microsecond:06d}"[: digits + 1] if digits else ""
    text = f"{sqlite_date(when, shift)}{sep}{clock}"
    if draw(st.booleans()):
        minutes = draw(OFFSETS | st.just(0))
        text += offset_text(minutes, draw(st.sampled_from(["Z", ":", "", "hours"])))
        when -= dt.timedelta(minutes=minutes)
    return Cell("?", text, pg_text(when, shift))


@st.composite
def julian_day_bc(draw: st.DrawFn) -> Cell:
    """A julian day before year 1 (julian day 0 is 4714-11-24 12:00 BC), to the millisecond."""
    millis = draw(st.integers(0, 1_721_425 * 86_400_000 + 43_200_000 - 1))
    start = dt.datetime(87, 11, 24, 12)  # julian day 0, shifted by BC_SHIFT
    return Cell(
        "?", millis / 86_400_000, pg_text(start + dt.timedelta(milliseconds=millis), BC_SHIFT)
    )


@st.composite
def wide_iso_date(draw: st.DrawFn) -> Cell:
    """A date from -4713 to 9999 as SQLite writes it, or a julian day at midnight."""
    when, shift = draw(shifted_datetime())
    if draw(st.booleans()):
        return Cell("?", sqlite_date(when, shift), pg_text(when, shift, date_only=True))
    day = (when.date() - dt.date(87, 11, 24)).days if shift else None
    if day is None:
        return Cell("julianday(?)", when.date().isoformat(), pg_text(when, 0, date_only=True))
    return Cell("?", day - 0.5, pg_text(when, shift, date_only=True))  # midnight: .5


@st.composite
def bc_text(draw: st.DrawFn, *, date_only: bool = False, zone: str = "") -> Cell:
    """A BC value in PostgreSQL's text, which a migration into SQLite keeps: back exactly."""
    when = draw(st.datetimes(dt.datetime(88, 1, 2), dt.datetime(4800, 12, 31)))
    text = pg_text(when, BC_SHIFT, date_only=date_only)
    return Cell("?", text.replace(" BC", f"{zone} BC"), text)


# --- numeric and JSON -----------------------------------------------------------------------


@st.composite
def decimal_text(draw: st.DrawFn) -> Cell:
    places = draw(st.integers(0, 6))
    value = draw(
        st.decimals(
            min_value=-(10**8),
            max_value=10**8,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    return Cell("?", format(value, "f"), FROM_STORED)  # NUMERIC affinity: stored int or REAL


@st.composite
def decimal_near_limit(draw: st.DrawFn, precision: int, scale: int) -> Cell:
    """Up to and across 10**(p-s), and on the half step of the scale (x.xx5 for scale 2):
    where PostgreSQL's rounding (half away from zero) carries a value past the precision."""
    limit = 10 ** (precision - scale)
    whole = draw(
        st.sampled_from([limit - 1, limit, limit + 1, limit * 10 - 1, 0, 1])
        | st.integers(0, limit * 100)
    )
    fraction = "".join(draw(st.lists(st.sampled_from("09"), min_size=scale, max_size=scale)))
    half = draw(st.booleans())
    text = f"{whole}.{fraction}{'5' if half else ''}" if scale or half else str(whole)
    sign = draw(st.sampled_from(["", "-"]))
    return Cell("?", sign + text, FROM_STORED)  # NUMERIC affinity: stored int or REAL


@st.composite
def unbounded_number(draw: st.DrawFn) -> Cell:
    """From 1e-330 to 1e300 in one NUMERIC column: past any Arrow decimal's 76 digits."""
    digits = draw(st.integers(1, 10**15 - 1))
    exponent = draw(st.integers(-345, 285))
    sign = draw(st.sampled_from(["", "-"]))
    text = draw(st.sampled_from([f"{sign}{digits}e{exponent}", "1e-330", "1e300", "4e-320"]))
    return Cell("?", text, FROM_STORED)


WIDE = Context(prec=1000)


def widened(precision: int, scale: int) -> Callable[[list[Any]], str]:
    """numeric(p,s), or the precision its largest value needs once rounded to s."""

    def pg_type(stored: list[Any]) -> str:
        digits = precision - scale
        for value in stored:
            if value is not None:
                rounded = exact_decimal(value).quantize(
                    Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=WIDE
                )
                digits = max(digits, rounded.adjusted() + 1)
        return f"numeric({digits + scale},{scale})"

    return pg_type


def rounded_to(scale: int) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        number = exact_decimal(value)
        return numeric_text(
            number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=WIDE)
        )

    return convert


JSON_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSON_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(JSON_TEXT, children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def json_document(draw: st.DrawFn) -> Cell:
    doc = draw(
        st.one_of(
            st.lists(JSON_VALUES, max_size=4), st.dictionaries(JSON_TEXT, JSON_VALUES, max_size=4)
        )
    )
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    return Cell("?", text, json.loads(text, parse_float=Decimal))


FAMILIES: dict[str, Family] = {
    "INTEGER": Family("INTEGER", "bigint", bound(INT64, lambda v: v)),
    "REAL": Family("REAL", "double precision", bound(FLOATS, lambda v: FROM_STORED), float),
    "TEXT": Family("TEXT", "text", bound(TEXT, lambda v: v)),
    "BLOB": Family("BLOB", "bytea", bound(st.binary(max_size=24), lambda v: v)),
    "BOOLEAN": Family(
        "BOOLEAN", "boolean", bound(st.sampled_from(list(BOOLEAN_WORDS)), BOOLEAN_WORDS.get)
    ),
    "DATETIME": Family(
        "DATETIME",
        "timestamp without time zone",
        st.one_of(iso_timestamp(), epoch_seconds(), epoch_millis(), julian_day()),
    ),
    "DATE": Family("DATE", "date", iso_date()),
    "DATE BC": Family("DATE", "date", wide_iso_date() | bc_text(date_only=True), select="{}::text"),
    "DATETIME BC/offset": Family(
        "DATETIME",
        "timestamp without time zone",
        st.one_of(wide_iso_timestamp(), julian_day_bc(), bc_text()),
        select="{}::text",
    ),
    "TIMESTAMPTZ": Family(
        "TIMESTAMPTZ",
        "timestamp with time zone",
        wide_iso_timestamp() | bc_text(zone="+00"),
        select="({} AT TIME ZONE 'UTC')::text",
    ),
    "NUMERIC(12,3)": Family(
        "NUMERIC(12,3)",
        "numeric(12,3)",
        decimal_text() | decimal_near_limit(12, 3),
        rounded_to(3),
        pg_type_for=widened(12, 3),
    ),
    "DECIMAL(5,2)": Family(
        "DECIMAL(5,2)",
        "numeric(5,2)",
        decimal_near_limit(5, 2) | decimal_text(),
        rounded_to(2),
        pg_type_for=widened(5, 2),
    ),
    # wider than a double and than Polars' decimals: read as text, travels as decimal256
    "NUMERIC(38,18)": Family(
        "NUMERIC(38,18)",
        "numeric(38,18)",
        decimal_text() | decimal_near_limit(38, 18),
        rounded_to(18),
        pg_type_for=widened(38, 18),
    ),
    # values from 1e-330 to 1e300: more digits than any Arrow decimal, exact as text
    "NUMERIC": Family("NUMERIC", "numeric", unbounded_number(), to_numeric(None, None)),
    "JSON": Family("JSON", "jsonb", json_document()),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[Cell | None]], int]:
    families = draw(st.lists(st.sampled_from(sorted(FAMILIES)), min_size=1, max_size=4))
    row = st.tuples(*(st.none() | FAMILIES[f].values for f in families))
    rows = draw(st.lists(row, max_size=10))
    batch_size = draw(st.sampled_from([1, 2, 7, 65_536]))
    return families, [list(r) for r in rows], batch_size


# --- comparing ------------------------------------------------------------------------------


def _pg_type(family: Family, stored: list[Any]) -> str:
    return family.pg_type if family.pg_type_for is None else family.pg_type_for(stored)


def same(expected: Any, actual: Any, pg_type: str) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if pg_type == "jsonb":
        return isinstance(actual, str) and _json_equal(
            json.loads(actual, parse_float=Decimal), expected
        )
    if pg_type.startswith("numeric"):
        # exact text at the column's scale (PostgreSQL prints no negative zero)
        text = expected.lstrip("-") if Decimal(expected) == 0 else expected
        return isinstance(actual, str) and actual == text
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        return expected == actual and math.copysign(1, expected) == math.copysign(1, actual)
    return bool(expected == actual)


@pytest.fixture(scope="module")
def database(pg_server: str) -> Iterator[str]:
    name = f"af_prop_{uuid.uuid4().hex[:12]}"
    sql(pg_server, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # each example is a whole migration: shrinking could take minutes; the failing
    # example is printed unshrunk
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(case=tables())
# a julian day far from 1970 (its microsecond count is beyond 2**53), exact to the ms
@example(
    case=(
        ["DATETIME"],
        [
            [
                Cell(
                    "julianday(?)",
                    "8514-04-10 23:23:48.001",
                    dt.datetime(8514, 4, 10, 23, 23, 48, 1000),
                )
            ]
        ],
        65_536,
    )
)
# past the precision only once rounded half away from zero, and one NUMERIC column whose
# values span more digits than any Arrow decimal
@example(
    case=(
        ["DECIMAL(5,2)", "NUMERIC", "NUMERIC(12,3)"],
        [
            [
                Cell("?", "999.995", FROM_STORED),
                Cell("?", "1.5e300", FROM_STORED),
                Cell("?", "999999999.9995", FROM_STORED),
            ],
            [
                Cell("?", "-999.994", FROM_STORED),
                Cell("?", "4e-320", FROM_STORED),
                Cell("?", "0.0005", FROM_STORED),
            ],
        ],
        1,
    )
)
def test_random_tables_round_trip_value_by_value(
    case: tuple[list[str], list[list[Cell | None]], int],
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    families, rows, batch_size = case
    names = [f"c{i}" for i in range(len(families))]
    path = tmp_path_factory.mktemp("roundtrip") / "r.sqlite"
    conn = sqlite3.connect(path)
    columns = ", ".join(f"{n} {FAMILIES[f].declared}" for n, f in zip(names, families, strict=True))
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    for i, row in enumerate(rows, start=1):
        exprs = ", ".join("NULL" if c is None else c.expr for c in row)
        params = [c.param for c in row if c is not None and "?" in c.expr]
        conn.execute(f"INSERT INTO t VALUES ({i}, {exprs})", params)
    conn.commit()
    stored = {
        r[0]: r[1:]
        for r in conn.execute(f"SELECT id, {', '.join(names)} FROM t")  # as SQLite keeps them
    }
    conn.close()

    reject_dir = path.parent / "rejects"
    result = af.migrate(
        path, database, batch_size=batch_size, drop_tables=True, reject_dir=str(reject_dir)
    )
    note(f"warnings: {result.warnings}")
    assert result.errors == [], result.errors
    assert result.rejected == [] and result.rows_rejected == 0, (
        result.rejected,
        [x for p in reject_dir.glob("*.jsonl") for x in p.read_text().splitlines()],
    )
    assert result.success
    assert [(t.name, t.rows, t.rows_read) for t in result.tables] == [("t", len(rows), len(rows))]
    want_types = {"id": "bigint"} | {
        n: _pg_type(FAMILIES[f], [stored[i][j] for i in stored])
        for j, (n, f) in enumerate(zip(names, families, strict=True))
    }
    assert pg_column_types(database, "t") == want_types

    reads = ", ".join(
        f"{FAMILIES[f].select.format(qi(n))} AS {qi(n)}"
        for n, f in zip(names, families, strict=True)
    )
    actual = {r["id"]: r for r in pg_query(database, f"SELECT id, {reads} FROM t")}
    assert sorted(actual) == list(range(1, len(rows) + 1))
    problems = []
    for i, row in enumerate(rows, start=1):
        for j, (name, family, cell) in enumerate(zip(names, families, row, strict=True)):
            fam = FAMILIES[family]
            if cell is None:
                expected = None
            elif cell.expected is FROM_STORED:
                assert fam.from_stored is not None
                expected = fam.from_stored(stored[i][j])
            else:
                expected = cell.expected
            got = actual[i][name]
            if not same(expected, got, fam.pg_type):
                source = None if cell is None else (cell.expr, cell.param)
                problems.append(
                    f"row {i} {name} {family}: source {source!r} (stored {stored[i][j]!r}) "
                    f"-> expected {expected!r}, PostgreSQL has {got!r}"
                )
    assert not problems, f"batch_size={batch_size}\n" + "\n".join(problems)
