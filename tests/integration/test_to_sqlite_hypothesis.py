"""Property-based round trip, PostgreSQL -> SQLite: random rows of every type family ->
arrowferry.migrate -> read back with the stdlib sqlite3 driver -> equal to the value
expected from PostgreSQL's own text and SQLite's documented storage rules.

Expected values are computed here, not by the package: integers exactly; doubles with
the same bits (SQLite keeps no negative zero); reals as the double of their shortest
single-precision text (numpy's float32 repr); numeric(18,6) as SQLite's NUMERIC affinity
stores PostgreSQL's text (INTEGER when integral, else REAL) unless some value of the
column has more than 15 significant digits, when the whole column is kept as text;
dates and timestamps of any year PostgreSQL holds (4714 BC to 294276 AD, and infinity) as
PostgreSQL's ISO text (trailing zeros of the fraction dropped, ' BC' kept), timestamptz
with any offset in UTC with '+00:00' (a BC one as PostgreSQL writes it, '+00 BC');
jsonb and arrays (1-D and 2-D) compared after parsing, numbers as Decimals; uuids
lower-case; booleans 1/0.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import arrowferry as af
from tests.conftest import fresh_database, sql
from tests.integration._compare import pg_date_text


@dataclass(frozen=True)
class Cell:
    literal: str
    expected: Any


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _float_literal(v: float) -> str:
    if v != v:  # pragma: no cover - NaN is not drawn
        raise AssertionError
    if v in (float("inf"), float("-inf")):
        return "'Infinity'" if v > 0 else "'-Infinity'"
    return repr(v)


# --- dates and times of every year PostgreSQL holds ---------------------------------------
# Python's datetime stops at years 1 and 9999; the Gregorian calendar repeats every 400
# years. So a value is drawn as a Python datetime plus a shift of whole 400-year cycles,
# and both its literal and its expected text are written from the shifted (astronomical)
# year: year 0 is 1 BC. PostgreSQL holds timestamps from 4714-11-24 BC to 294276 AD; it
# writes BC values with ' BC', and arrowferry keeps its text (README, PostgreSQL -> SQLite).

ERAS = st.sampled_from([0, 0, -4800, 284_000])  # 1-9999; 4713 BC-1 BC; 284001-293999
INFINITIES = st.sampled_from(["infinity", "-infinity"])


@st.composite
def _era_datetime(draw: st.DrawFn) -> tuple[dt.datetime, int]:
    """(Python datetime, shift); a day inside Python's range either side, for offsets."""
    shift = draw(ERAS)
    if shift < 0:  # from 4713 BC, PostgreSQL's first whole year
        return draw(st.datetimes(dt.datetime(88, 1, 2), dt.datetime(4800, 12, 31))), shift
    return draw(st.datetimes(dt.datetime(2, 1, 1), dt.datetime(9998, 12, 30))), shift


def _era_text(when: dt.datetime, shift: int, *, date_only: bool = False, zone: str = "") -> str:
    return pg_date_text(when, shift, date_only=date_only, zone=zone)


def _zone(seconds: int) -> str:
    sign, rest = "-" if seconds < 0 else "+", abs(seconds)
    text = f"{sign}{rest // 3600:02d}:{rest // 60 % 60:02d}"
    return text + (f":{rest % 60:02d}" if rest % 60 else "")


@st.composite
def wide_timestamp(draw: st.DrawFn) -> Cell:
    when, shift = draw(_era_datetime())
    text = _era_text(when, shift)
    return Cell(_quote(text), text)


@st.composite
def wide_timestamptz(draw: st.DrawFn) -> Cell:
    """Any offset PostgreSQL takes (to 15:59:59, seconds too); SQLite gets UTC text."""
    when, shift = draw(_era_datetime())
    offset = draw(st.sampled_from([0, 19_800, -28_800]) | st.integers(-57_599, 57_599))
    utc = when - dt.timedelta(seconds=offset)
    # '+00:00' is the form SQLite's functions read; a BC value keeps PostgreSQL's text
    return Cell(
        _quote(_era_text(when, shift, zone=_zone(offset))),
        _era_text(utc, shift, zone="+00:00" if utc.year + shift > 0 else "+00"),
    )


@st.composite
def wide_date(draw: st.DrawFn) -> Cell:
    when, shift = draw(_era_datetime())
    text = _era_text(when, shift, date_only=True)
    return Cell(_quote(text), text)


def _or_infinite(values: st.SearchStrategy[Cell]) -> st.SearchStrategy[Cell]:
    return values | INFINITIES.map(lambda v: Cell(_quote(v), v))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=5
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)
_int_lists = st.lists(st.integers(-(2**31), 2**31 - 1) | st.none(), max_size=5)
_grids = st.integers(1, 3).flatmap(
    lambda w: st.lists(
        st.lists(st.integers(-100, 100), min_size=w, max_size=w), min_size=1, max_size=3
    )
)

FAMILIES: dict[str, st.SearchStrategy[Cell]] = {
    "bigint": st.integers(-(2**63), 2**63 - 1).map(lambda v: Cell(str(v), v)),
    "boolean": st.booleans().map(lambda v: Cell(str(v).lower(), int(v))),
    "double precision": st.floats(allow_nan=False).map(lambda v: Cell(_float_literal(v), v + 0.0)),
    "real": st.floats(width=32, allow_nan=False).map(
        lambda v: Cell(_float_literal(v), float(str(np.float32(v))))
    ),
    "numeric(18,6)": st.decimals(
        min_value=Decimal("-999999999999.999999"),
        max_value=Decimal("999999999999.999999"),
        places=6,
        allow_nan=False,
    ).map(lambda d: Cell(str(d), (d if d else Decimal(0)).quantize(Decimal("0.000001")))),
    # on the half step of the scale, up to the limit: PostgreSQL rounds on insert
    "numeric(10,2)": st.builds(
        lambda whole, cents, five, neg: Decimal(
            f"{'-' if neg else ''}{whole}.{cents:02d}{'5' if five else '4'}"
        ),
        st.integers(0, 10**8 - 1) | st.sampled_from([10**8 - 1, 0, 1]),
        st.integers(0, 99) | st.just(99),
        st.booleans(),
        st.booleans(),
    )
    .filter(lambda d: abs(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) < 10**8)
    .map(lambda d: Cell(_quote(str(d)), d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))),
    # unbounded, from 1e-330 to 1e300: past a double's range at both ends
    "numeric": st.builds(
        lambda digits, exponent, neg: Decimal(f"{'-' if neg else ''}{digits}E{exponent}"),
        st.integers(1, 10**15 - 1) | st.just(1),
        st.integers(-330, 285),
        st.booleans(),
    ).map(lambda d: Cell(_quote(str(d)), d)),
    "text": st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
    ).map(lambda s: Cell(_quote(s), s)),
    "bytea": st.binary(max_size=20).map(lambda b: Cell(f"'\\x{b.hex()}'", b)),
    "timestamp": _or_infinite(wide_timestamp()),
    "timestamptz": _or_infinite(wide_timestamptz()),
    "date": _or_infinite(wide_date()),
    "jsonb": _json.map(lambda v: Cell(_quote(json.dumps(v)), json.dumps(v))),
    "integer[]": _int_lists.map(
        lambda v: Cell(
            _quote("{" + ",".join("NULL" if x is None else str(x) for x in v) + "}"), json.dumps(v)
        )
    ),
    "integer[][]": _grids.map(
        lambda g: Cell(
            _quote("{" + ",".join("{" + ",".join(map(str, r)) + "}" for r in g) + "}"),
            json.dumps(g),
        )
    ),
    "uuid": st.uuids().map(lambda u: Cell(_quote(str(u).upper()), str(u))),
}
NAMES = list(FAMILIES)


def _column(name: str) -> str:
    return "c_" + "".join(ch if ch.isalnum() else "_" for ch in name)


_DOUBLE_MAX = Decimal("1.7976931348623157e308")


def _pg_text(d: Decimal) -> str:
    """PostgreSQL's text of a numeric: plain notation, no negative zero."""
    return format(abs(d) if d.is_zero() else d, "f")


def _numeric_expected(values: list[Decimal | None]) -> list[Any]:
    """SQLite's NUMERIC affinity on PostgreSQL's text, or all text when a value would round."""

    def digits(d: Decimal) -> int:  # significant digits, as PostgreSQL's text shows them
        return len(_pg_text(abs(d)).replace(".", "").strip("0"))

    def integral(d: Decimal) -> bool:
        return d == d.to_integral_value() and abs(d) <= 2**63 - 1

    def outside(d: Decimal) -> bool:  # a double keeps 15 digits only in its normal range
        return d != 0 and not Decimal("2.2250738585072014e-308") <= abs(d) <= _DOUBLE_MAX

    if any(d is not None and not integral(d) and (digits(d) > 15 or outside(d)) for d in values):
        return [None if d is None else _pg_text(d) for d in values]
    return [None if d is None else (int(d) if integral(d) else float(str(d))) for d in values]


def _equal(name: str, got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is None and want is None
    if name in {"jsonb", "integer[]", "integer[][]"}:
        return bool(json.loads(got, parse_float=Decimal) == json.loads(want, parse_float=Decimal))
    return bool(got == want and type(got) is type(want))


rows_strategy = st.lists(
    st.tuples(*(st.one_of(st.none(), FAMILIES[n]) for n in NAMES)), min_size=1, max_size=12
)


@pytest.fixture(scope="module")
def database(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(rows=rows_strategy)
def test_postgresql_to_sqlite_round_trip(
    database: str, tmp_path: Path, rows: list[tuple[Cell | None, ...]]
) -> None:
    n = next(_counter)
    columns = ", ".join(f"{_column(name)} {name}" for name in NAMES)
    sql(database, "DROP TABLE IF EXISTS t")
    sql(database, f"CREATE TABLE t (id integer PRIMARY KEY, {columns})")
    values = ", ".join(
        "("
        + ", ".join(
            [str(i)]
            + [
                ("NULL" if c is None else f"({c.literal})::{name}")
                for name, c in zip(NAMES, row, strict=True)
            ]
        )
        + ")"
        for i, row in enumerate(rows)
    )
    sql(database, f"INSERT INTO t VALUES {values}")
    out = tmp_path / f"t{n}.db"
    result = af.migrate(database, out)
    assert result.success, result.to_dict()["errors"]
    conn = sqlite3.connect(out)
    got = conn.execute(
        f"SELECT {', '.join(_column(n) for n in NAMES)} FROM t ORDER BY id"
    ).fetchall()
    conn.close()
    expected = [[None if c is None else c.expected for c in row] for row in rows]
    for k, name in enumerate(NAMES):
        if name.startswith("numeric"):
            column = _numeric_expected([r[k] for r in expected])
            for row, value in zip(expected, column, strict=True):
                row[k] = value
    for i, (got_row, want_row) in enumerate(zip(got, expected, strict=True)):
        for name, g, w in zip(NAMES, got_row, want_row, strict=True):
            note(f"row {i} {name}: got {g!r}, want {w!r}")
            assert _equal(name, g, w), (i, name, g, w)


_counter = count()


def test_expected_numeric_rule_is_not_vacuous() -> None:
    """The oracle's two branches, on values chosen by hand."""
    assert _numeric_expected([Decimal("12.500000"), Decimal("3.000000")]) == [12.5, 3]
    assert _numeric_expected([Decimal("123456789012.123456"), Decimal("1.000000")]) == [
        "123456789012.123456",
        "1.000000",
    ]
    assert _numeric_expected([Decimal("1E-330"), Decimal("1.5")]) == ["0." + "0" * 329 + "1", "1.5"]
    assert _numeric_expected([Decimal("1.5E+300")]) == [1.5e300]
    assert _numeric_expected([Decimal("10000000000E91")]) == [1e101]
