"""Dates, times and timestamps from SQLite's ISO-8601 text.

SQLite has no date type: its functions write 'YYYY-MM-DD HH:MM:SS[.SSS]', applications
add a 'T', fractions of any length, offsets or 'Z'. Every form is tried strictly and
anything else is flagged, never guessed.
"""

from __future__ import annotations

import polars as pl
from polars.datatypes import TemporalType

from arrowferry.convert.base import Conversion, ReadAs, failed

_NOT_TIMESTAMP = (
    "not a date/time in a form SQLite writes (ISO-8601 to the microsecond, epoch seconds or "
    "ms, julian day)"
)
_US: TemporalType = pl.Datetime("us")
_FULL = "%Y-%m-%d %H:%M:%S%.f"
_MINUTES = "%Y-%m-%d %H:%M"
_DATE = "%Y-%m-%d"
_OFFSET = "%Y-%m-%d %H:%M:%S%.f%#z"
_OFFSET_MINUTES = "%Y-%m-%d %H:%M%#z"


def _normalised(c: pl.Expr) -> pl.Expr:
    text = _astronomical(c.cast(pl.String).str.strip_chars())
    # a year before 1 is written signed: SQLite writes date(0.5) as '-4713-11-25'
    return text.str.replace(r"^(-?\d{4}-\d{2}-\d{2})[Tt]", "${1} ")


def _astronomical(text: pl.Expr) -> pl.Expr:
    """PostgreSQL's BC text ('0044-03-15 12:00:00 BC', which a migration into SQLite
    keeps) with the signed year Polars reads: '-0043-03-15 12:00:00' (1 BC is year 0).

    Through a batch function, so a batch without BC text costs one scan: the eager
    select evaluates this text once per format tried, and rewriting every row each time
    cost the strict path ~20% more CPU (measured on 1M timestamps; this way ~2%)."""
    return text.map_batches(_bc_to_signed, return_dtype=pl.String)


def _bc_to_signed(text: pl.Series) -> pl.Series:
    bc = text.str.ends_with(" BC")
    if not bc.any():
        return text
    year = 1 - text.str.slice(0, 4).cast(pl.Int32, strict=False)
    sign = pl.when(year < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    signed = sign + year.abs().cast(pl.String).str.zfill(4) + text.str.slice(4)
    rewritten = pl.when(bc).then(signed.str.strip_suffix(" BC")).otherwise(text)
    return pl.select(rewritten).to_series()


def _parse(text: pl.Expr, fmt: str, dtype: TemporalType = _US) -> pl.Expr:
    return text.str.strptime(dtype, fmt, strict=False, exact=True)


_JULIAN_END = 5373484.5  # SQLite's 'auto' rule: numbers below are julian days
_UNIX_EPOCH_JD = 2440587.5
_MS_FROM = 1e11  # integers this large are epoch milliseconds (1e11 s is year 5138)


def from_number(text: pl.Expr) -> pl.Expr:
    """Dates SQLite stores as numbers, read by SQLite's own 'auto' rule.

    A number in [0, 5373484.5) is a julian day (what julianday() writes; rounded to
    the millisecond, SQLite's own precision), an integer of 1e11 or more is epoch
    milliseconds, anything else epoch seconds (what unixepoch() and strftime('%s') write).
    """
    is_int = text.str.contains(r"^[+-]?\d+$")
    # with an exponent too: SQLite writes a REAL below 1e-4 (the first seconds of julian
    # day 0) as '1.44675925925926e-06', and its date functions read '1e3' as a number
    number = (
        pl.when(text.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"))
        .then(text)
        .cast(pl.Float64, strict=False)
    )
    integer = pl.when(is_int).then(text).str.to_integer(strict=False)
    julian = (number >= 0) & (number < _JULIAN_END)
    millis = is_int & (integer.abs() >= _MS_FROM)
    micros = (
        pl.when(julian)
        .then(
            # whole milliseconds as integers: a double of microseconds is inexact past 2**53
            ((number - _UNIX_EPOCH_JD) * 86_400_000).round(0).cast(pl.Int64, strict=False) * 1000
        )
        .when(millis)
        .then(integer * 1000)
        .when(is_int)
        .then(integer * 1_000_000)
        .otherwise((number * 1_000_000).round(0).cast(pl.Int64, strict=False))
    )
    return micros.cast(_US)


def naive_and_offset(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(naive wall-clock parse, offset-aware parse converted to UTC) of ISO text or numbers."""
    text = _normalised(c)
    naive = pl.coalesce(
        _parse(text, _FULL),
        _parse(text, _MINUTES),
        _parse(text, _DATE, pl.Date()).cast(_US),
        from_number(text),
    )
    aware = pl.coalesce(
        _parse(text, _OFFSET, pl.Datetime("us", "UTC")),
        _parse(text, _OFFSET_MINUTES, pl.Datetime("us", "UTC")),
    )
    return naive, aware


def to_timestamp(c: pl.Expr, read_as: ReadAs, *, tz: bool) -> Conversion:
    if read_as != "text":
        empty = pl.lit(None, dtype=pl.Datetime("us", "UTC" if tz else None))
        return Conversion(empty, c.is_not_null(), f"{read_as} -> timestamp (unsupported)")
    naive, aware = naive_and_offset(c)
    if tz:
        # SQLite's own functions write UTC, so a value without an offset is UTC
        value = _micro(c, pl.coalesce(aware, naive.dt.replace_time_zone("UTC")))
        return Conversion(
            value, failed(c, value), "ISO text -> timestamptz (naive = UTC)", _NOT_TIMESTAMP
        )
    value = _micro(c, pl.coalesce(naive, aware.dt.replace_time_zone(None)))
    return Conversion(
        value, failed(c, value), "ISO text -> timestamp (offsets to UTC)", _NOT_TIMESTAMP
    )


def _micro(c: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Polars drops digits past microseconds without a word; such a value is not converted."""
    finer = c.cast(pl.String).str.contains(r":\d\d[.,]\d{6}\d*[1-9]")
    return pl.when(finer.fill_null(False)).then(None).otherwise(value)


def to_date(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as != "text":
        return Conversion(
            pl.lit(None, dtype=pl.Date), c.is_not_null(), f"{read_as} -> date (unsupported)"
        )
    naive, _ = naive_and_offset(c)
    midnight = naive.dt.time() == pl.time(0, 0, 0)
    value = pl.when(midnight).then(naive.dt.date())
    return Conversion(
        value,
        failed(c, value),
        "ISO text -> date (time must be 00:00:00)",
        "not a date (or has a time of day)",
    )


def to_time(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as != "text":
        return Conversion(
            pl.lit(None, dtype=pl.Time), c.is_not_null(), f"{read_as} -> time (unsupported)"
        )
    text = c.cast(pl.String).str.strip_chars()
    value = pl.coalesce(_parse(text, "%H:%M:%S%.f", pl.Time()), _parse(text, "%H:%M", pl.Time()))
    return Conversion(value, failed(c, value), "ISO text -> time", "not a time of day")
