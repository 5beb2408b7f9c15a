"""Integers, floats, decimals and booleans: strict, never through a lossy path.

Polars' own shortcuts are forgiving (``cast(pl.Boolean)`` makes 2 true; a float cast
rounds integers above 2**53): driver-traps.md B. These builders check instead.
"""

from __future__ import annotations

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
    if read_as in {"integer", "real"}:
        return Conversion(c.cast(dtype), None, f"{read_as} -> {kind}")
    # decimal literals, and the 'Inf' SQLite writes for an infinite REAL; never 'nan' or hex
    literal = c.str.contains(_NUMBER_TEXT) | c.str.contains(r"^[+-]?(?i:inf|infinity)$")
    value = pl.when(literal).then(c).cast(pl.Float64, strict=False).cast(dtype)
    return Conversion(value, failed(c, value), f"text -> {kind} (strict)", "not a number")


def to_decimal(c: pl.Expr, read_as: ReadAs, scale: int, *, rounds_later: bool) -> Conversion:
    """Exact decimal text at ``scale`` fraction digits; PostgreSQL rounds to the column's.

    SQLite renders reals with the shortest text that round-trips, so ``CAST(x AS TEXT)``
    gives the decimal the user wrote; the server, not Polars, rounds (half away from
    zero) to the declared scale (driver-traps.md B).
    """
    text = c if read_as == "text" else c.cast(pl.String)
    parts = text.str.extract_groups(_NUMBER_PARTS)
    exponent = parts.struct.field("exp").cast(pl.Int64, strict=False).fill_null(0)
    fraction_digits = (parts.struct.field("frac").str.len_chars() - exponent).clip(lower_bound=0)
    # Polars rounds what does not fit the scale. Harmless when the server rounds again to
    # far fewer digits and the value has at most 17 significant digits (see plan), a
    # silent change otherwise.
    mantissa = parts.struct.field("int").fill_null("") + parts.struct.field("frac").fill_null("")
    significant = mantissa.str.strip_chars_start("0").str.len_chars()
    fits = (fraction_digits <= scale) | (pl.lit(rounds_later) & (significant <= 17))
    value = pl.when(text.str.contains(_NUMBER_TEXT) & fits).then(text).str.to_decimal(scale=scale)
    return Conversion(
        value,
        failed(c, value),
        f"text -> decimal(38,{scale})",
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
