"""Differential property: an Arrow fast path never disagrees with the strict Polars path.

A clean batch takes one Arrow kernel (``convert.fast``); the strict path is the one
that knows every rule. So, for any batch: the fast path either refuses it (and the
strict path takes over) or gives exactly what the strict path gives, for a batch the
strict path finds nothing wrong with. A fast path that "succeeds" with another value is
a silent change: Arrow's string -> decimal cast wrapping '1e+22' into 63870734.31 was
one, found the hard way; this test would have found it first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from arrowferry.convert import build_conversion
from arrowferry.convert.fast import FAST_ERRORS, fast_path
from arrowferry.dialects.sqlite import ColumnProfile
from arrowferry.model import Column, DataType, Table
from arrowferry.plan.columns import arrow_type, decimal_arrow
from arrowferry.transfer.transform import _exact

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


def agree(read_as: str, target: DataType, travels_as: pa.DataType, array: pa.Array) -> None:
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


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", ["int64", "int32", "int16"])
@SETTINGS
@given(values=with_nulls(NUMBER_TEXT))
def test_text_to_integer(kind: str, values: list[Any]) -> None:
    target = DataType(kind)
    agree("text", target, arrow_type(target), pa.array(values, pa.string()))


@pytest.mark.parametrize(("precision", "scale"), [(10, 2), (15, 0), (18, 4), (38, 10), (60, 5)])
@SETTINGS
@given(values=with_nulls(NUMBER_TEXT))
def test_text_to_decimal(precision: int, scale: int, values: list[Any]) -> None:
    target = DataType("decimal", precision=precision, scale=scale)
    agree("text", target, _decimal_type(precision, scale, []), pa.array(values, pa.string()))


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
@SETTINGS
@given(values=with_nulls(st.floats(allow_nan=False, allow_infinity=True) | NEAR_LIMIT))
def test_real_to_decimal(precision: int | None, scale: int | None, values: list[Any]) -> None:
    finite = [v for v in values if v is not None and abs(v) != float("inf")]
    target = DataType("decimal", precision=precision, scale=scale)
    travels_as = _decimal_type(precision, scale, finite)
    agree("real", target, travels_as, pa.array(values, pa.float64()))


@pytest.mark.parametrize("kind", ["date", "timestamp", "timestamptz"])
@SETTINGS
@given(values=with_nulls(DATE_TEXT))
def test_text_to_dates_and_times(kind: str, values: list[Any]) -> None:
    target = DataType(kind)
    agree("text", target, arrow_type(target), pa.array(values, pa.string()))


@SETTINGS
@given(values=with_nulls(st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_integer_to_boolean_and_float(values: list[Any]) -> None:
    array = pa.array(values, pa.int64())
    for kind in ("boolean", "float64"):
        target = DataType(kind)
        agree("integer", target, arrow_type(target), array)
