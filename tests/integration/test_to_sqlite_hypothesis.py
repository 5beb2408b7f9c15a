"""Property-based round trip, PostgreSQL -> SQLite: random rows of every type family ->
arrowferry.migrate -> read back with the stdlib sqlite3 driver -> equal to the value
expected from PostgreSQL's own text and SQLite's documented storage rules.

Expected values are computed here, not by the package: integers exactly; doubles with
the same bits (SQLite keeps no negative zero); reals as the double of their shortest
single-precision text (numpy's float32 repr); numeric(18,6) as SQLite's NUMERIC affinity
stores PostgreSQL's text (INTEGER when integral, else REAL) unless some value of the
column has more than 15 significant digits, when the whole column is kept as text;
timestamps as PostgreSQL's ISO text (trailing zeros of the fraction dropped), timestamptz
in UTC with '+00:00'; jsonb and arrays (1-D and 2-D) compared after parsing, numbers as
Decimals; uuids lower-case; booleans 1/0.
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


def _ts_text(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0")
    if value.year < 1000:
        text = f"{value.year:04d}" + text[text.index("-") :]
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text


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
    "timestamp": st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda v: Cell(_quote(v.isoformat(sep=" ")), _ts_text(v))
    ),
    "timestamptz": st.datetimes(
        dt.datetime(1900, 1, 1),
        dt.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [
                dt.timezone.utc,
                dt.timezone(dt.timedelta(hours=5, minutes=30)),
                dt.timezone(dt.timedelta(hours=-8)),
            ]
        ),
    ).map(
        lambda v: Cell(
            _quote(v.isoformat(sep=" ")),
            _ts_text(v.astimezone(dt.timezone.utc).replace(tzinfo=None)) + "+00:00",
        )
    ),
    "date": st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(
        lambda v: Cell(_quote(v.isoformat()), v.isoformat())
    ),
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
