"""Dates, times and timestamps from SQLite's ISO-8601 text.

SQLite has no date type: its functions write 'YYYY-MM-DD HH:MM:SS[.SSS]', applications
add a 'T', fractions of any length, offsets or 'Z'. Every form is tried strictly and
anything else is flagged, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
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


_YEAR_1_JD = 1721425.5  # 0001-01-01 00:00, proleptic Gregorian: smaller julian days are BC


def _numbers(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(number, integer, is an integer, is a julian day, is epoch ms) of numeric text."""
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
    return number, integer, is_int, julian, millis


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
        return Conversion(
            value, failed(c, value), "ISO text -> timestamptz (naive = UTC)", _NOT_TIMESTAMP
        )
    value = _micro(c, pl.coalesce(naive, aware.dt.replace_time_zone(None)))
    return Conversion(
        value, failed(c, value), "ISO text -> timestamp (offsets to UTC)", _NOT_TIMESTAMP
    )


Interpreter = Callable[[pa.Array], dict[str, np.ndarray]]

# the same numbers the conversion reads as dates, exponents included ('1.44675925925926e-06'
# is how SQLite writes a REAL julian day in the first second of day 0)
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_INTEGER = r"^\s*[+-]?\d+\s*$"
# ISO text whose time carries an offset: only the offset-aware formats parse it
_WITH_OFFSET = r"^\s*\d{4}-\d{2}-\d{2}[ Tt]\d{2}:\d{2}.*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


def interpretations(read_as: ReadAs, target: DataType, *, fast: bool) -> Interpreter | None:
    """Which values of a date/time column are read by a rule (the ledger's counts), in
    Arrow on the text as read: vectorised regexes, a few ms per batch.

    Only a written value is counted, and a written value parsed by exactly one branch
    of the conversion above, so its form tells which: a number by SQLite's 'auto' rule
    (as :func:`from_number`), text with an offset through the offset-aware formats,
    anything else as naive ISO text. The fast paths accept ISO text without offsets
    only, the timestamptz one with them too: there only naive text is interpreted.
    """
    kind = target.kind
    if read_as != "text" or kind not in {"timestamp", "timestamptz", "date"}:
        return None
    if fast:
        return _naive_only if kind == "timestamptz" else None
    return lambda array: _date_forms(array, kind)


def _naive_only(array: pa.Array) -> dict[str, np.ndarray]:
    with_offset = pc.match_substring_regex(array, r"(?:Z|[+-]\d{2}:\d{2})$")
    return {"naive_as_utc": _mask(pc.invert(with_offset))}


def _date_forms(array: pa.Array, kind: str) -> dict[str, np.ndarray]:
    number = _mask(pc.match_substring_regex(array, _NUMBER))
    out: dict[str, np.ndarray] = {}
    if number.any():
        text = pc.utf8_trim_whitespace(array)
        values = np.full(len(array), np.nan)
        values[number] = pc.cast(pc.filter(text, pa.array(number)), pa.float64()).to_numpy()
        integral = _mask(pc.match_substring_regex(array, _INTEGER))
        julian = number & (values >= 0) & (values < _JULIAN_END)
        millis = number & ~julian & integral & (np.abs(values) >= _MS_FROM)
        out["julian_day"] = julian
        out["julian_day_before_year_1"] = julian & (values < _YEAR_1_JD)
        out["epoch_milliseconds"] = millis
        out["epoch_seconds"] = number & ~julian & ~millis
    if kind != "date":
        offset = _mask(pc.match_substring_regex(array, _WITH_OFFSET))
        if kind == "timestamp":
            out["offset_to_utc"] = offset
        else:
            out["naive_as_utc"] = ~number & ~offset
    return out


def _mask(flags: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)


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


def to_interval(c: pl.Expr, read_as: ReadAs) -> Conversion:
    """Text the server casts to interval (ISO 8601 'P1DT2H' or PostgreSQL's '1 day
    02:00'); an integer is a count of microseconds, Django's DurationField in SQLite."""
    if read_as == "integer":
        value = c.cast(pl.String) + pl.lit(" microseconds")
        return Conversion(
            value, None, "integer microseconds -> interval (cast by PostgreSQL)", "not an interval"
        )
    text = c if read_as == "text" else c.cast(pl.String)
    # a bare integer read as text (a column of mixed classes) is microseconds too; the
    # server would read it as seconds
    bare = text.str.contains(r"^\s*[+-]?\d+\s*$").fill_null(False)
    value = pl.when(bare).then(text.str.strip_chars() + pl.lit(" microseconds")).otherwise(text)
    return Conversion(value, None, "text -> interval (cast by PostgreSQL)", "not an interval")
