"""Exact rounding as PostgreSQL's numeric does it (half away from zero), and the strict
decimal conversion's range check on values that overflow only once rounded."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrowferry import decimals
from arrowferry.convert import build_conversion
from arrowferry.model import DataType


@pytest.mark.parametrize(
    ("text", "scale", "rounded"),
    [
        ("99999999.995", 2, "100000000.00"),
        ("-99999999.995", 2, "-100000000.00"),
        ("0.125", 2, "0.13"),  # half to even would give 0.12
        ("12.345", 2, "12.35"),
        ("2.5", 0, "3"),
        ("-0.005", 2, "-0.01"),
        ("99999999.994", 2, "99999999.99"),
    ],
)
def test_rounds_half_away_from_zero(text: str, scale: int, rounded: str) -> None:
    assert str(decimals.round_half_away(Decimal(text), scale)) == rounded


def test_fits_is_decided_after_rounding() -> None:
    assert not decimals.fits(Decimal("99999999.995"), 10, 2)
    assert decimals.fits(Decimal("99999999.994"), 10, 2)
    assert not decimals.fits(Decimal("12345678.9"), 10, 5)
    assert decimals.rounded_integer_digits(Decimal("12345678.9"), 5) == 8
    assert decimals.fits(Decimal("0.995"), 3, 2) and not decimals.fits(Decimal("0.995"), 2, 2)
    assert decimals.rounded_integer_digits(Decimal("1e5000"), 2) == 5001


def test_parse_takes_what_arrowferry_sends() -> None:
    assert decimals.parse(0.1) == Decimal("0.1")  # the double's shortest text
    assert decimals.parse(4e-320) == Decimal("4e-320")
    assert decimals.parse(2**70) == Decimal(2**70)
    for bad in ("١٢", "NaN", " 1", "1_0", float("inf"), True, None, b"1"):
        assert decimals.parse(bad) is None, bad


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4), st.integers(0, 3))
def test_the_band_holds_every_value_the_doubles_cannot_settle(number: Decimal, scale: int) -> None:
    precision = scale + 3
    low, high = decimals.limit_band(precision, scale)
    size = abs(float(number))
    if size < low:
        assert decimals.fits(number, precision, scale)
    if size >= high:
        assert not decimals.fits(number, precision, scale)


def _convert(values: list[str | None], target: DataType, *, digits: int, scale: int) -> list[bool]:
    conv = build_conversion(
        "c", "text", target, table="t", decimal_scale=scale, decimal_digits=digits
    )
    assert conv.bad is not None
    out = pl.DataFrame({"c": values}).select(conv.bad.alias("bad"))
    return out["bad"].fill_null(False).to_list()


@pytest.mark.parametrize(("digits", "scale"), [(38, 20), (76, 66)])
def test_the_strict_path_flags_what_overflows_only_once_rounded(digits: int, scale: int) -> None:
    target = DataType("decimal", precision=10, scale=2)
    values = ["99999999.995", "99999999.994", "-99999999.995", "1e8", "abc", None, "0.125"]
    assert _convert(values, target, digits=digits, scale=scale) == [
        True, False, True, True, True, False, False,
    ]  # fmt: skip
    conv = build_conversion(
        "c", "text", target, table="t", decimal_scale=scale, decimal_digits=digits
    )
    assert "numeric(10,2)" in conv.reason and "8 integer digits" in conv.reason


def test_text_transport_sends_plain_digits_within_postgresql_limits() -> None:
    target = DataType("decimal")
    conv = build_conversion("c", "text", target, table="t", decimal_as_text=True)
    frame = pl.DataFrame({"c": ["1.5e300", "4e-320", "abc", "1e200000", "-12.50"]})
    out = frame.select(conv.value.alias("v"))["v"].to_list()
    assert out[0] == "15" + "0" * 299 and out[1] == "0." + "0" * 319 + "4"
    assert out[2:] == [None, None, "-12.50"]
