"""Exact decimal arithmetic on number text, as PostgreSQL's ``numeric`` does it.

PostgreSQL rounds a value to a column's scale half away from zero, then refuses it
when it needs more integer digits than ``precision - scale``; Polars' decimal casts
round half to even (driver-traps.md B). These helpers decide, exactly and off the hot
path (the plan's few borderline values, a batch's rare ones), what the server will do.
Stdlib only: the plan, the dialects and the converters all use it.
"""

from __future__ import annotations

import decimal
import math
import re

NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
PG_MAX_PRECISION = 1000  # numeric(p, s) takes p up to 1000
# PostgreSQL's numeric input refuses exponents beyond +-1000 (NUMERIC_MAX_PRECISION) but
# holds 131072 integer and 16383 fraction digits: values travel as plain digits
_CONTEXT = decimal.Context(prec=1_000_000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)

# A band this wide (relative) around a limit holds every value whose double
# approximation cannot settle on which side of the limit the exact value falls.
BAND = 1e-9


def parse(value: object) -> decimal.Decimal | None:
    """The exact number a stored value stands for, or None when it is not one.

    A double stands for its shortest round-trip text (the text arrowferry sends);
    text must be an ASCII decimal literal (Python's own parser takes '١٢' and 'NaN').
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float):
        return decimal.Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        return decimal.Decimal(value)
    return None


def round_half_away(number: decimal.Decimal, scale: int) -> decimal.Decimal:
    """``number`` rounded to ``scale`` fraction digits, ties away from zero (PostgreSQL)."""
    return number.quantize(decimal.Decimal(1).scaleb(-scale), decimal.ROUND_HALF_UP, _CONTEXT)


def integer_digits(number: decimal.Decimal) -> int:
    """Digits before the point (0 for a magnitude below 1)."""
    if not number:
        return 0
    return max(0, number.adjusted() + 1)


def rounded_integer_digits(number: decimal.Decimal, scale: int) -> int:
    """Integer digits of ``number`` once PostgreSQL has rounded it to ``scale``."""
    if number.adjusted() > 2 * PG_MAX_PRECISION:  # far past any precision: no need to round
        return number.adjusted() + 1
    return integer_digits(round_half_away(number, scale))


def fits(number: decimal.Decimal, precision: int, scale: int) -> bool:
    """Whether numeric(precision, scale) takes ``number`` (after rounding it)."""
    return rounded_integer_digits(number, scale) <= precision - scale


def plain_text(number: decimal.Decimal) -> str:
    """Plain digits, no exponent: what PostgreSQL's numeric input takes at any size."""
    return format(number, "f")


def limit_band(precision: int, scale: int) -> tuple[float, float]:
    """(low, high) magnitudes as doubles: a value below ``low`` surely fits
    numeric(precision, scale) once rounded, one at or above ``high`` surely does not;
    in between only exact arithmetic can tell."""
    if precision - scale > 308:  # past every double: only text can come near
        return math.inf, math.inf
    limit = 10.0 ** (precision - scale) - 0.5 * 10.0 ** max(-scale, -330)
    return limit * (1 - BAND), limit * (1 + BAND)
