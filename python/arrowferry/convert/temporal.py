"""Dates, times and timestamps from SQLite's ISO-8601 text.

SQLite has no date type: its functions write 'YYYY-MM-DD HH:MM:SS[.SSS]', applications
add a 'T', fractions of any length, offsets or 'Z'. Every form is tried strictly and
anything else is flagged, never guessed.
"""

from __future__ import annotations

import polars as pl
from polars.datatypes import TemporalType

from arrowferry.convert.base import Conversion, ReadAs, failed

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


def naive_and_offset(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(naive wall-clock parse, offset-aware parse converted to UTC) of ISO text."""
    text = _normalised(c)
    naive = pl.coalesce(
        _parse(text, _FULL), _parse(text, _MINUTES), _parse(text, _DATE, pl.Date()).cast(_US)
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
        value = pl.coalesce(aware, naive.dt.replace_time_zone("UTC"))
        return Conversion(value, failed(c, value), "ISO text -> timestamptz (naive = UTC)")
    value = pl.coalesce(naive, aware.dt.replace_time_zone(None))
    return Conversion(value, failed(c, value), "ISO text -> timestamp (offsets to UTC)")


def to_date(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as != "text":
        return Conversion(
            pl.lit(None, dtype=pl.Date), c.is_not_null(), f"{read_as} -> date (unsupported)"
        )
    naive, _ = naive_and_offset(c)
    midnight = naive.dt.time() == pl.time(0, 0, 0)
    value = pl.when(midnight).then(naive.dt.date())
    return Conversion(value, failed(c, value), "ISO text -> date (time must be 00:00:00)")


def to_time(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as != "text":
        return Conversion(
            pl.lit(None, dtype=pl.Time), c.is_not_null(), f"{read_as} -> time (unsupported)"
        )
    text = c.cast(pl.String).str.strip_chars()
    value = pl.coalesce(_parse(text, "%H:%M:%S%.f", pl.Time()), _parse(text, "%H:%M", pl.Time()))
    return Conversion(value, failed(c, value), "ISO text -> time")
