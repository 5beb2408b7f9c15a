"""Integers, floats, decimals and booleans: strict, never through a lossy path.

Polars' own shortcuts are forgiving (``cast(pl.Boolean)`` makes 2 true; a float cast
rounds integers above 2**53): driver-traps.md B. These builders check instead.
"""

from __future__ import annotations

import decimal
import re

import polars as pl

from arrowferry.convert.base import Conversion, ReadAs, failed

_INT_DTYPES: dict[str, pl.DataType] = {
    "int16": pl.Int16(),
    "int32": pl.Int32(),
    "int64": pl.Int64(),
}
_TWO_53 = float(2**53)
_NUMBER_TEXT = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_NUMBER_PARTS = r"^[+-]?(?<int>\d*)\.?(?<frac>\d*)(?:[eE](?<exp>[+-]?\d+))?$"

BOOLEAN_WORDS = {
    "1": True,
    "0": False,
    "1.0": True,
    "0.0": False,
    "t": True,
    "f": False,
    "true": True,
    "false": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
}


def to_integer(c: pl.Expr, read_as: ReadAs, kind: str) -> Conversion:
    dtype = _INT_DTYPES[kind]
    if read_as == "integer":
        if kind == "int64":
            return Conversion(c, None, "integer")
        value = c.cast(dtype, strict=False)
        return Conversion(
            value,
            failed(c, value),
            f"integer -> {kind} (range checked)",
            f"out of range for {kind}",
        )
    # text (or reals rendered by SQLite): exact integers, or integral reals below 2**53
    as_int = c.str.to_integer(strict=False)
    as_float = c.str.strip_chars().cast(pl.Float64, strict=False)
    integral = (as_float == as_float.floor()) & (as_float.abs() < _TWO_53)
    value = pl.coalesce(as_int, pl.when(integral).then(as_float.cast(pl.Int64, strict=False)))
    value = value.cast(dtype, strict=False)
    return Conversion(
        value, failed(c, value), "text -> integer (strict)", "not an integer that fits the column"
    )


def to_float(c: pl.Expr, read_as: ReadAs, kind: str) -> Conversion:
    dtype = pl.Float32() if kind == "float32" else pl.Float64()
    if read_as == "real" and kind == "float32":
        # a double past float32's range would become inf; PostgreSQL's real refuses it
        value = _finite_or_null(c.cast(dtype), c)
        return Conversion(value, failed(c, value), "real -> float32", "out of range for real")
    if read_as in {"integer", "real"}:
        return Conversion(c.cast(dtype), None, f"{read_as} -> {kind}")
    # decimal literals, and the 'Inf' SQLite writes for an infinite REAL; never 'nan' or hex
    finite = c.str.contains(_NUMBER_TEXT)
    literal = finite | c.str.contains(r"^[+-]?(?i:inf|infinity)$")
    number = pl.when(literal).then(c).cast(pl.Float64, strict=False)
    # '1e400' is a finite literal past the double range: PostgreSQL refuses it, so do we
    number = pl.when(finite & number.is_infinite()).then(None).otherwise(number)
    value = _finite_or_null(number.cast(dtype), number)
    return Conversion(
        value, failed(c, value), f"text -> {kind} (strict)", "not a number (or out of range)"
    )


def _finite_or_null(value: pl.Expr, source: pl.Expr) -> pl.Expr:
    """NULL where a finite source became infinite (overflow), else the value."""
    return pl.when(value.is_infinite() & source.is_finite()).then(None).otherwise(value)


def to_decimal(
    c: pl.Expr, read_as: ReadAs, scale: int, *, rounds_later: bool, digits: int = 38
) -> Conversion:
    """Exact decimal text at ``scale`` fraction digits; PostgreSQL rounds to the column's.

    SQLite renders reals with the shortest text that round-trips, so ``CAST(x AS TEXT)``
    gives the decimal the user wrote; the server, not Polars, rounds (half away from
    zero) to the declared scale (driver-traps.md B). ``digits`` is the precision of the
    Arrow decimal the value travels as; past Polars' 38 the check runs in Python.
    """
    text = c if read_as == "text" else c.cast(pl.String)
    if digits > _POLARS_DIGITS:
        return _wide_decimal(c, text, scale, digits, rounds_later)
    parts = text.str.extract_groups(_NUMBER_PARTS)
    exponent = parts.struct.field("exp").cast(pl.Int64, strict=False).fill_null(0)
    fraction_digits = (parts.struct.field("frac").str.len_chars() - exponent).clip(lower_bound=0)
    # Polars rounds what does not fit the scale. Harmless when the server rounds again to
    # far fewer digits and the value has at most 17 significant digits (see plan), a
    # silent change otherwise.
    mantissa = parts.struct.field("int").fill_null("") + parts.struct.field("frac").fill_null("")
    significant = mantissa.str.strip_chars_start("0").str.len_chars()
    fits = (fraction_digits <= scale) | (pl.lit(rounds_later) & (significant <= _REAL_DIGITS))
    value = pl.when(text.str.contains(_NUMBER_TEXT) & fits).then(text).str.to_decimal(scale=scale)
    return Conversion(
        value,
        failed(c, value),
        f"text -> decimal(38,{scale})",
        "not a number that fits the column exactly",
    )


_POLARS_DIGITS = 38  # Polars decimals stop at 38 digits; decimal256 goes to 76
_REAL_DIGITS = 17  # a double's shortest text has at most 17 significant digits
_WIDE = decimal.Context(prec=200, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _wide_decimal(
    c: pl.Expr, text: pl.Expr, scale: int, digits: int, rounds_later: bool
) -> Conversion:
    """The strict path for a decimal wider than Polars can hold: Python's ``decimal``
    checks each value and writes it as plain digits, which Arrow then reads exactly
    (no exponent, so its cast cannot wrap). Only batches the fast path refused come here."""
    quantum = decimal.Decimal(1).scaleb(-scale)
    limit = decimal.Decimal(1).scaleb(digits - scale)

    def one(value: str | None) -> str | None:
        # ASCII digits only: Python's \d (and Decimal) also take '١٢' as 12, which
        # PostgreSQL (and the Arrow and Polars paths) refuse
        if value is None or not re.fullmatch(_NUMBER_TEXT, value, re.ASCII):
            return None
        number = decimal.Decimal(value)  # exact, however many digits the text has
        if abs(number) >= limit:
            return None
        exact = _WIDE.quantize(number, quantum)
        significant = len(number.as_tuple().digits) if number else 0
        if exact != number and not (rounds_later and significant <= _REAL_DIGITS):
            return None  # more fraction digits than the scale, and no server rounding after
        if abs(exact) >= limit:
            return None
        return f"{exact:f}"

    value = text.map_batches(
        lambda s: pl.Series([one(v) for v in s.to_list()], dtype=pl.String),
        return_dtype=pl.String,
    )
    return Conversion(
        value,
        failed(c, value),
        f"text -> decimal({digits},{scale}) (checked in Python: wider than Polars)",
        "not a number that fits the column exactly",
    )


def to_boolean(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as == "integer":
        value = pl.when(c == 1).then(True).when(c == 0).then(False).otherwise(None)
        return Conversion(value, failed(c, value), "0/1 -> boolean (strict)", "not 0 or 1")
    words = c.cast(pl.String).str.strip_chars().str.to_lowercase()
    value = words.replace_strict(BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean)
    return Conversion(
        value,
        failed(c, value),
        "text -> boolean (0/1, t/f, true/false, yes/no)",
        "not a boolean (0/1, t/f, true/false, yes/no, y/n)",
    )
