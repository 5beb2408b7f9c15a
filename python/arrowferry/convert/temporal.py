"""Dates, times and timestamps from SQLite's ISO-8601 text.

SQLite has no date type: its functions write 'YYYY-MM-DD HH:MM:SS[.SSS]', applications
add a 'T', fractions of any length, offsets or 'Z'. Every form is tried strictly and
anything else is flagged, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from polars.datatypes import TemporalType

from arrowferry.convert.base import Conversion, ReadAs, failed
from arrowferry.model import DataType

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
    return c.cast(pl.String).str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt]", "${1} ")


def _parse(text: pl.Expr, fmt: str, dtype: TemporalType = _US) -> pl.Expr:
    return text.str.strptime(dtype, fmt, strict=False, exact=True)


_JULIAN_END = 5373484.5  # SQLite's 'auto' rule: numbers below are julian days
_UNIX_EPOCH_JD = 2440587.5
_MS_FROM = 1e11  # integers this large are epoch milliseconds (1e11 s is year 5138)


_YEAR_1_JD = 1721425.5  # 0001-01-01 00:00, proleptic Gregorian: smaller julian days are BC


def _numbers(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(number, integer, is an integer, is a julian day, is epoch ms) of numeric text."""
    is_int = text.str.contains(r"^[+-]?\d+$")
    number = (
        pl.when(text.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$"))
        .then(text)
        .cast(pl.Float64, strict=False)
    )
    integer = pl.when(is_int).then(text).str.to_integer(strict=False)
    julian = (number >= 0) & (number < _JULIAN_END)
    millis = is_int & (integer.abs() >= _MS_FROM)
    return number, integer, is_int, julian, millis


def number_forms(c: pl.Expr) -> tuple[tuple[str, pl.Expr], ...]:
    """Which rule :func:`from_number` reads each number by (the ledger's counts)."""
    number, _integer, _is_int, julian, millis = _numbers(_normalised(c))
    return (
        ("julian_day", julian),
        ("julian_day_before_year_1", julian & (number < _YEAR_1_JD)),
        ("epoch_milliseconds", ~julian & millis),
        ("epoch_seconds", number.is_not_null() & ~julian & ~millis),
    )


def from_number(text: pl.Expr) -> pl.Expr:
    """Dates SQLite stores as numbers, read by SQLite's own 'auto' rule.

    A number in [0, 5373484.5) is a julian day (what julianday() writes; rounded to
    the millisecond, SQLite's own precision), an integer of 1e11 or more is epoch
    milliseconds, anything else epoch seconds (what unixepoch() and strftime('%s') write).
    """
    number, integer, is_int, julian, millis = _numbers(text)
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
    naive = pl.coalesce(_naive_iso(text), from_number(text))
    aware = pl.coalesce(
        _parse(text, _OFFSET, pl.Datetime("us", "UTC")),
        _parse(text, _OFFSET_MINUTES, pl.Datetime("us", "UTC")),
    )
    return naive, aware


def _naive_iso(text: pl.Expr) -> pl.Expr:
    return pl.coalesce(
        _parse(text, _FULL),
        _parse(text, _MINUTES),
        _parse(text, _DATE, pl.Date()).cast(_US),
    )


def to_timestamp(c: pl.Expr, read_as: ReadAs, *, tz: bool) -> Conversion:
    if read_as != "text":
        empty = pl.lit(None, dtype=pl.Datetime("us", "UTC" if tz else None))
        return Conversion(empty, c.is_not_null(), f"{read_as} -> timestamp (unsupported)")
    naive, aware = naive_and_offset(c)
    if tz:
        # SQLite's own functions write UTC, so a value without an offset is UTC
        value = _micro(c, pl.coalesce(aware, naive.dt.replace_time_zone("UTC")))
        naive_iso = aware.is_null() & _naive_iso(_normalised(c)).is_not_null()
        return Conversion(
            value,
            failed(c, value),
            "ISO text -> timestamptz (naive = UTC)",
            _NOT_TIMESTAMP,
            interpreted=(("naive_as_utc", naive_iso), *number_forms(c)),
        )
    value = _micro(c, pl.coalesce(naive, aware.dt.replace_time_zone(None)))
    return Conversion(
        value,
        failed(c, value),
        "ISO text -> timestamp (offsets to UTC)",
        _NOT_TIMESTAMP,
        interpreted=(("offset_to_utc", naive.is_null() & aware.is_not_null()), *number_forms(c)),
    )


def fast_interpretations(
    read_as: ReadAs, target: DataType
) -> dict[str, Callable[[pa.Array], pa.Array]]:
    """What the Arrow fast path of a column interprets: only the timestamptz one takes
    text without an offset (as UTC); the others accept ISO text without offsets only."""
    if read_as == "text" and target.kind == "timestamptz":
        return {"naive_as_utc": naive_text}
    return {}


def naive_text(array: pa.Array) -> pa.Array:
    """Where ISO text has no offset: what the timestamptz fast path takes as UTC."""
    return pc.invert(pc.match_substring_regex(array, r"(?:Z|[+-]\d{2}:\d{2})$"))


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
        interpreted=number_forms(c),
    )


def to_time(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as != "text":
        return Conversion(
            pl.lit(None, dtype=pl.Time), c.is_not_null(), f"{read_as} -> time (unsupported)"
        )
    text = c.cast(pl.String).str.strip_chars()
    value = pl.coalesce(_parse(text, "%H:%M:%S%.f", pl.Time()), _parse(text, "%H:%M", pl.Time()))
    return Conversion(value, failed(c, value), "ISO text -> time", "not a time of day")
