"""Differential property: an Arrow fast path never disagrees with the strict Polars path.

A clean batch takes one Arrow kernel (``convert.fast``); the strict path is the one
that knows every rule. So, for any batch: the fast path either refuses it (and the
strict path takes over) or gives exactly what the strict path gives, for a batch the
strict path finds nothing wrong with. A fast path that "succeeds" with another value is
a silent change: Arrow's string -> decimal cast wrapping '1e+22' into 63870734.31 was
one, found the hard way; this test would have found it first.

A refused batch compares nothing, and the dirty strategies alone make most batches
refused (7 of 150 int16 batches were compared). So three batches in four are drawn
clean, in the forms SQLite and its users write, and each test requires that most of its
batches were compared: a fast path that refuses everything fails here too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from arrowferry.convert import build_conversion
from arrowferry.convert.base import as_arrow_type as _exact
from arrowferry.convert.fast import FAST_ERRORS, fast_path
from arrowferry.dialects.sqlite import ColumnProfile
from arrowferry.model import Column, DataType, Table
from arrowferry.plan.columns import arrow_type, decimal_arrow

NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:e}"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"[+-]?\d{0,22}(\.\d{0,12})?([eE][+-]?\d{1,3})?", fullmatch=True),
    st.sampled_from(["0x1F", " 1", "1 ", "+", "-", ".", "1_000", "\u0661", "١٢", "Infinity"]),
    st.text(max_size=6),
)
DATE_TEXT = st.one_of(
    st.datetimes().map(lambda d: d.isoformat(sep=st_sep(d))),
    st.dates().map(str),
    st.datetimes().map(lambda d: f"{d.year:04d}{d:-%m-%d %H:%M:%S}+00 BC"),  # PostgreSQL's BC
    st.from_regex(
        r"\d{4}-\d{2}-\d{2}([ Tt]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?",
        fullmatch=True,
    ),
    st.text(max_size=12),
)


def st_sep(value: Any) -> str:
    return "T" if value.microsecond % 2 else " "


def with_nulls(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.one_of(st.none(), values), min_size=1, max_size=8)


def batches(
    clean: st.SearchStrategy[Any] | tuple[st.SearchStrategy[Any], ...],
    dirty: st.SearchStrategy[Any],
) -> st.SearchStrategy[list[Any]]:
    """Three batches in four of clean values only (of one of the ``clean`` forms, when
    a tuple: forms a fast path takes one at a time); the fourth mixes dirty ones in."""
    forms = clean if isinstance(clean, tuple) else (clean,)
    return st.integers(0, 3).flatmap(
        lambda k: (
            st.one_of(*(with_nulls(f) for f in forms))
            if k
            else with_nulls(st.one_of(*forms, dirty))
        )
    )


# --- clean values: the forms the fast paths exist for -------------------------------------


def integer_text(bits: int) -> st.SearchStrategy[str]:
    # no '+': Arrow refuses it (the strict path takes it), and SQLite's INTEGER affinity
    # stores such text as an integer anyway
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.one_of(
        st.integers(low, high).map(str), st.sampled_from([str(low), str(high), "0", "-0"])
    )


INTEGER_TEXT = {"int64": integer_text(64), "int32": integer_text(32), "int16": integer_text(16)}


def clean_decimal_text(precision: int, scale: int) -> st.SearchStrategy[str]:
    """Below 10 ** (precision - scale), at most ``scale`` fraction digits (a value with more
    is rounded by the server, which the full path counts: no fast path's batch)."""
    places = st.integers(0, scale)
    values = places.flatmap(
        lambda n: st.decimals(
            min_value=-(10 ** (precision - scale)) + Decimal(10) ** -n,
            max_value=10 ** (precision - scale) - Decimal(10) ** -n,
            places=n,
        )
    )
    return st.one_of(values.map(lambda d: format(d, "f")), values.map(lambda d: format(d, "e")))


def clean_reals(precision: int | None, scale: int | None) -> st.SearchStrategy[float]:
    """Finite doubles within the integer digits, and none so small that its shortest text
    has more fraction digits than the decimal travels with; for a numeric(p,s), none with
    more than ``s`` decimal places (the server would round it: the full path counts it)."""
    if precision is not None:
        units, step = 10**precision, 10 ** (scale or 0)  # i / step is below 10 ** (p - s)
        return st.integers(-units + 1, units - 1).map(lambda i: i / step)
    limit = 1e15
    return st.floats(min_value=-limit, max_value=limit, exclude_min=True, exclude_max=True).filter(
        lambda v: v == 0 or abs(v) >= 1e-15
    )


def _year_zero(day: dt.date) -> str:
    """A date of year 0 (1 BC), which SQLite's functions write as '0000-...': drawn in
    year 400, the same leap year of the Gregorian cycle."""
    return f"0000-{day.month:02d}-{day.day:02d}"


CLEAN_DATES = st.one_of(
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    st.dates(dt.date(400, 1, 1), dt.date(400, 12, 31)).map(_year_zero),
)


@st.composite
def clean_timestamp_text(draw: st.DrawFn, *, offsets: bool = False) -> str:
    date = draw(CLEAN_DATES)
    time = draw(st.times())
    text = date + draw(st.sampled_from([" ", "T"])) + f"{time.hour:02d}:{time.minute:02d}"
    if draw(st.booleans()):
        text += f":{time.second:02d}"
        digits = draw(st.integers(0, 6))
        text += f".{time.microsecond:06d}"[: digits + 1] if digits else ""
    if offsets:
        minutes = draw(st.integers(-14 * 60, 14 * 60))
        sign = "-" if minutes < 0 else "+"
        text += draw(
            st.sampled_from(["Z", f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"])
        )
    return text


CLEAN_TEMPORAL: dict[str, st.SearchStrategy[str] | tuple[st.SearchStrategy[str], ...]] = {
    "date": CLEAN_DATES,
    "timestamp": clean_timestamp_text(),
    # a batch mixing offsets and none takes the strict path (Arrow casts it one way)
    "timestamptz": (clean_timestamp_text(), clean_timestamp_text(offsets=True)),
}


def _decimal_type(precision: int | None, scale: int | None, values: list[Any]) -> pa.DataType:
    dtype = DataType("decimal", precision=precision, scale=scale)
    numbers = [abs(float(v)) for v in values if v is not None]
    profile = ColumnProfile(
        max_abs_number=max(numbers, default=0.0),
        min_abs_real=min((n for n in numbers if n), default=0.0),
    )
    col = Column("v", dtype)
    arrow, _ = decimal_arrow(Table("t", (col,)), col, dtype, profile)
    return arrow


class Tally:
    """How many of a property's batches the fast path took (and so were compared)."""

    MIN_SHARE = 0.5

    def __init__(self) -> None:
        self.compared = 0
        self.drawn = 0

    def check(self) -> None:
        assert self.drawn and self.compared >= self.MIN_SHARE * self.drawn, (
            f"the fast path took only {self.compared} of {self.drawn} batches: "
            "it refuses clean batches, or the strategies draw too few"
        )


def agree(
    read_as: str, target: DataType, travels_as: pa.DataType, array: pa.Array, tally: Tally
) -> None:
    tally.drawn += 1
    fast = fast_path(read_as, target, travels_as)  # type: ignore[arg-type]
    assert fast is not None
    try:
        got = _exact(fast(array), travels_as)
    except FAST_ERRORS:
        return  # refused: the strict path decides
    conv = build_conversion(
        "c",
        read_as,  # type: ignore[arg-type]
        target,
        table="t",
        decimal_scale=getattr(travels_as, "scale", 0),
        decimal_digits=getattr(travels_as, "precision", 38),
        decimal_as_text=target.kind == "decimal" and pa.types.is_string(travels_as),
    )
    frame = pl.from_arrow(pa.table({"c": array}))
    assert isinstance(frame, pl.DataFrame)
    exprs = [conv.value.alias("v")]
    if conv.bad is not None:
        exprs.append(conv.bad.alias("bad"))
    out = frame.select(exprs)
    note(f"input {array.to_pylist()!r} -> fast {got.cast(pa.string()).to_pylist()!r}")
    if conv.bad is not None:
        flagged = [v for v, bad in zip(array.to_pylist(), out["bad"].to_list(), strict=True) if bad]
        assert not flagged, f"the fast path accepted what the strict path refuses: {flagged!r}"
    strict = _exact(out["v"].to_arrow(), travels_as)
    if pa.types.is_temporal(travels_as):  # year 0 is valid here, not in Python's datetime
        width = pa.int32() if pa.types.is_date32(travels_as) else pa.int64()
        got, strict = got.view(width), strict.view(width)
    if target.kind == "decimal" and pa.types.is_string(travels_as):
        # text the server parses: '1e+300' and '1000...0' are the same numeric
        assert [_number(v) for v in got.to_pylist()] == [_number(v) for v in strict.to_pylist()]
        return
    assert got.to_pylist() == strict.to_pylist()
    tally.compared += 1


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", ["int64", "int32", "int16"])
def test_text_to_integer(kind: str) -> None:
    target, tally = DataType(kind), Tally()

    @SETTINGS
    @given(values=batches(INTEGER_TEXT[kind], NUMBER_TEXT))
    def prop(values: list[Any]) -> None:
        agree("text", target, arrow_type(target), pa.array(values, pa.string()), tally)

    prop()
    tally.check()


def test_a_numeric_no_arrow_decimal_carries_travels_as_text() -> None:
    """numeric(60,5) needs 55 integer and 23 fraction digits: more than decimal256's 76, so
    its values travel as their exact text (no fast path) and the server casts them."""
    assert _decimal_type(60, 5, []) == pa.string()


# (40, 30): the widest decimal256 a numeric(p,s) still travels as
@pytest.mark.parametrize(("precision", "scale"), [(10, 2), (15, 0), (18, 4), (38, 10), (40, 30)])
def test_text_to_decimal(precision: int, scale: int) -> None:
    target, tally = DataType("decimal", precision=precision, scale=scale), Tally()
    travels_as = _decimal_type(precision, scale, [])

    @SETTINGS
    @given(values=batches(clean_decimal_text(precision, scale), NUMBER_TEXT))
    def prop(values: list[Any]) -> None:
        agree("text", target, travels_as, pa.array(values, pa.string()), tally)

    prop()
    tally.check()


# on the half step of the scale, up to and across the limit (0.995 in numeric(2,2))
NEAR_LIMIT = st.builds(
    lambda whole, frac, sign: sign * float(f"{whole}.{frac}"),
    st.sampled_from([0, 9, 99, 999, 99999999, 9999999999999, 10**8, 10**13]),
    st.sampled_from(["995", "994", "9949999999", "5", "05", "0", "9999999999995"]),
    st.sampled_from([1, -1]),
)


@pytest.mark.parametrize(
    ("precision", "scale"), [(10, 2), (15, 0), (5, 5), (2, 2), (3, 2), (None, None)]
)
def test_real_to_decimal(precision: int | None, scale: int | None) -> None:
    target, tally = DataType("decimal", precision=precision, scale=scale), Tally()
    dirty = st.floats(allow_nan=False, allow_infinity=True) | NEAR_LIMIT

    @SETTINGS
    @given(values=batches(clean_reals(precision, scale), dirty))
    def prop(values: list[Any]) -> None:
        finite = [v for v in values if v is not None and abs(v) != float("inf")]
        travels_as = _decimal_type(precision, scale, finite)
        agree("real", target, travels_as, pa.array(values, pa.float64()), tally)

    prop()
    tally.check()


@pytest.mark.parametrize("kind", ["date", "timestamp", "timestamptz"])
def test_text_to_dates_and_times(kind: str) -> None:
    target, tally = DataType(kind), Tally()

    @SETTINGS
    @given(values=batches(CLEAN_TEMPORAL[kind], DATE_TEXT))
    def prop(values: list[Any]) -> None:
        agree("text", target, arrow_type(target), pa.array(values, pa.string()), tally)

    prop()
    tally.check()


@pytest.mark.parametrize(
    ("kind", "clean"),
    [("boolean", st.sampled_from([0, 1])), ("float64", st.integers(-(2**53), 2**53))],
    ids=["boolean", "float64"],
)
def test_integer_to_boolean_and_float(kind: str, clean: st.SearchStrategy[int]) -> None:
    target, tally = DataType(kind), Tally()
    dirty = st.integers(min_value=-(2**63), max_value=2**63 - 1)

    @SETTINGS
    @given(values=batches(clean, dirty))
    def prop(values: list[Any]) -> None:
        agree("integer", target, arrow_type(target), pa.array(values, pa.int64()), tally)

    prop()
    tally.check()


def test_a_decimal_with_more_places_than_the_column_takes_the_counting_path() -> None:
    """PostgreSQL rounds such a value to the column's scale as it stores it: the fast path
    hands the batch to the full path, which counts it (``rounded_to_scale``)."""
    import pyarrow as pa

    from arrowferry.convert.fast import NotClean, fast_path
    from arrowferry.model import DataType

    numeric = DataType("decimal", precision=10, scale=2)
    wide = fast_path("real", numeric, pa.decimal128(38, 4))
    text = fast_path("text", numeric, pa.string())
    assert wide is not None and text is not None
    wide(pa.array([1.25, 2.0, None]))  # fits the scale
    text(pa.array(["1.20", "7", None]))
    for convert, value in ((wide, 1.234), (text, "3.14159"), (text, "1e-3")):
        try:
            convert(pa.array([value]))
        except NotClean:
            continue
        raise AssertionError(f"{value!r} passed the fast path")
