"""Integers, floats, decimals and booleans: strict, never through a lossy path.

Polars' own shortcuts are forgiving (``cast(pl.Boolean)`` makes 2 true; a float cast
rounds integers above 2**53): driver-traps.md B. These builders check instead.
"""

from __future__ import annotations

import decimal
from dataclasses import replace

import polars as pl

from arrowferry import decimals as exact
from arrowferry.convert.base import Conversion, ReadAs, failed
from arrowferry.wording import plural

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
    c: pl.Expr,
    read_as: ReadAs,
    scale: int,
    *,
    rounds_later: bool,
    digits: int = 38,
    limit: tuple[int, int] | None = None,
    as_text: bool = False,
) -> Conversion:
    """Exact decimal text at ``scale`` fraction digits; PostgreSQL rounds to the column's.

    SQLite renders reals with the shortest text that round-trips, so ``CAST(x AS TEXT)``
    gives the decimal the user wrote; the server, not Polars, rounds (half away from
    zero) to the declared scale (driver-traps.md B). ``digits`` is the precision of the
    Arrow decimal the value travels as; past Polars' 38 the check runs in Python, and
    ``as_text`` values travel as plain digits, cast by the server (any size).
    ``limit`` ((precision, scale) of a numeric(p,s)): a value PostgreSQL would round
    past the precision is flagged, decided exactly as the server rounds.
    """
    text = c if read_as == "text" else c.cast(pl.String)
    parts = text.str.extract_groups(_NUMBER_PARTS)
    exponent = parts.struct.field("exp").cast(pl.Int64, strict=False).fill_null(0)
    # trailing zeros of the fraction are no digits to lose ('0.50' fits scale 1)
    fraction = parts.struct.field("frac").str.strip_chars_end("0")
    fraction_digits = (fraction.str.len_chars() - exponent).clip(lower_bound=0)
    if as_text or digits > _POLARS_DIGITS:
        found = _exact_decimal(c, text, scale, digits, rounds_later, limit, as_text)
        return _counting_rounds(found, fraction_digits, limit)
    # Polars rounds what does not fit the scale. Harmless when the server rounds again to
    # far fewer digits and the value has at most 17 significant digits (see plan), a
    # silent change otherwise.
    mantissa = parts.struct.field("int").fill_null("") + parts.struct.field("frac").fill_null("")
    significant = mantissa.str.strip_chars_start("0").str.len_chars()
    fits = (fraction_digits <= scale) | (pl.lit(rounds_later) & (significant <= _REAL_DIGITS))
    number = text.str.contains(_NUMBER_TEXT) & fits
    if limit is not None:
        number = number & ~_over_limit(text, *limit)
    value = pl.when(number).then(text).str.to_decimal(scale=scale)
    conversion = Conversion(
        value,
        failed(c, value),
        f"text -> decimal(38,{scale})" + _limit_name(limit),
        _reason(limit),
    )
    return _counting_rounds(conversion, fraction_digits, limit)


def _counting_rounds(
    conversion: Conversion, fraction_digits: pl.Expr, limit: tuple[int, int] | None
) -> Conversion:
    """A numeric(p,s) column's values with more decimal places than ``s``, which
    PostgreSQL rounds (half away from zero) as it stores them: counted and said (the
    ledger's ``interpreted``), not left to a note that they may be."""
    if limit is None:
        return conversion
    rounded = (fraction_digits > limit[1]).fill_null(False)
    return replace(conversion, interpreted=(*conversion.interpreted, ("rounded_to_scale", rounded)))


_POLARS_DIGITS = 38  # Polars decimals stop at 38 digits; decimal256 goes to 76
_REAL_DIGITS = 17  # a double's shortest text has at most 17 significant digits
_WIDE = decimal.Context(prec=200, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
# what PostgreSQL's numeric holds: 131072 digits before the point, 16383 after
_PG_INTEGER_DIGITS = 131_072
_PG_FRACTION_DIGITS = 16_383


def _reason(limit: tuple[int, int] | None) -> str:
    if limit is None:
        return "not a number that fits the column exactly"
    precision, scale = limit
    return (
        f"not a number, or too large for numeric({precision},{scale}): once rounded to "
        f"{plural(scale, 'decimal place')} it needs more than "
        f"{plural(precision - scale, 'integer digit')}"
    )


def _limit_name(limit: tuple[int, int] | None) -> str:
    if limit is None:
        return ""
    return f", range checked as PostgreSQL rounds it to numeric({limit[0]},{limit[1]})"


def _over_limit(text: pl.Expr, precision: int, scale: int) -> pl.Expr:
    """True where PostgreSQL, rounding half away from zero to ``scale``, would need more
    than ``precision - scale`` integer digits. Doubles settle all but a narrow band
    around the limit; the band (rare) is decided exactly in Python."""
    low, high = exact.limit_band(precision, scale)
    size = text.cast(pl.Float64, strict=False).abs()
    band = pl.when((size >= low) & (size < high)).then(text)

    def over(series: pl.Series) -> pl.Series:
        out = [False] * len(series)
        for index in series.is_not_null().arg_true().to_list():
            number = exact.parse(series[index])
            out[index] = number is not None and not exact.fits(number, precision, scale)
        return pl.Series(out, dtype=pl.Boolean)

    return (size >= high).fill_null(False) | band.map_batches(over, return_dtype=pl.Boolean)


def _exact_decimal(
    c: pl.Expr,
    text: pl.Expr,
    scale: int,
    digits: int,
    rounds_later: bool,
    limit: tuple[int, int] | None,
    as_text: bool,
) -> Conversion:
    """The strict path for a decimal wider than Polars can hold, or one that travels as
    text: Python's ``decimal`` checks each value and writes it as plain digits, which
    Arrow (or the server) then reads exactly (no exponent, so Arrow's cast cannot wrap
    and PostgreSQL's exponent limit never applies). Only batches the fast path refused
    come here, and columns whose values span more digits than any Arrow decimal."""
    quantum = decimal.Decimal(1).scaleb(-scale)
    bound = decimal.Decimal(1).scaleb(digits - scale)

    def one(value: str | None) -> str | None:
        # ASCII digits only: Python's \d (and Decimal) also take '١٢' as 12, which
        # PostgreSQL (and the Arrow and Polars paths) refuse
        number = exact.parse(value) if isinstance(value, str) else None
        if number is None:
            return None
        if limit is not None and not exact.fits(number, *limit):
            return None
        if as_text:
            return _within_numeric(number)
        if abs(number) >= bound:
            return None
        rounded = _WIDE.quantize(number, quantum)
        significant = len(number.as_tuple().digits) if number else 0
        if rounded != number and not (rounds_later and significant <= _REAL_DIGITS):
            return None  # more fraction digits than the scale, and no server rounding after
        if abs(rounded) >= bound:
            return None
        return exact.plain_text(rounded)

    value = text.map_batches(
        lambda s: pl.Series([one(v) for v in s.to_list()], dtype=pl.String),
        return_dtype=pl.String,
    )
    how = "as plain decimal text, cast by the server" if as_text else f"decimal({digits},{scale})"
    return Conversion(
        value,
        failed(c, value),
        f"text -> {how} (checked in Python: wider than Polars)" + _limit_name(limit),
        _reason(limit),
    )


def _within_numeric(number: decimal.Decimal) -> str | None:
    """Plain digits, when PostgreSQL's numeric can hold them."""
    if exact.integer_digits(number) > _PG_INTEGER_DIGITS:
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > _PG_FRACTION_DIGITS:
        return None
    return exact.plain_text(number)


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
