"""Column kernels for PostgreSQL -> SQLite: Arrow as read -> the one Arrow type SQLite binds.

Most values arrive as the server's own text (see ``dialects/postgresql/read.py``) or
in an exact binary form, so the work left is small but each step guards a silent
change (driver-traps.md E, B):

* float64: SQLite stores NaN as NULL, so a NaN is a bad value, never a quiet NULL.
* float32: the double of its shortest decimal text (0.1 stays 0.1, where widening the
  bits would give 0.10000000149011612, a value PostgreSQL never showed).
* numeric into a NUMERIC column: SQLite turns numeric text into INTEGER when integral
  and 64-bit, else into REAL with 15 significant digits; any other value would be
  rounded on insert, so it is a bad value (the plan already chose a TEXT-affinity
  column when the data holds such values).
* timestamptz: ``+00`` becomes ``+00:00``, the offset form SQLite's date functions read.

Each kernel returns the converted array and a mask of bad values (None: none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry import decimals
from arrowferry.convert import column
from arrowferry.convert.remedies import sqlite_remedy

Kernel = Literal[
    "same",
    "integer",
    "float64",
    "float32",
    "utc_text",
    "utc_naive_text",
    "utc_python_text",
    "uuid_hex",
    "numeric_text",
    "text",
]

# the Arrow type each kernel hands SQLite's binder (None: as read, bool or binary)
OUTPUT_TYPES: dict[str, pa.DataType | None] = {
    "same": None,
    "integer": pa.int64(),
    "float64": pa.float64(),
    "float32": pa.float64(),
    "utc_text": pa.string(),
    "utc_naive_text": pa.string(),
    "utc_python_text": pa.string(),
    "uuid_hex": pa.string(),
    "numeric_text": pa.string(),
    "text": pa.string(),
}

NOT_STORABLE = {
    "float64": "NaN cannot be stored in SQLite (it would become NULL)",
    "float32": "NaN cannot be stored in SQLite (it would become NULL)",
    "numeric_text": ("SQLite's NUMERIC affinity would round it to 15 significant digits"),
}


@dataclass(frozen=True)
class Converted:
    array: pa.Array
    bad: np.ndarray | None = None  # True where the value cannot be stored as it is


def convert(kernel: Kernel, array: pa.Array) -> Converted:
    return _KERNELS[kernel](array)


def _same(array: pa.Array) -> Converted:
    return Converted(array)


def _integer(array: pa.Array) -> Converted:
    return Converted(array.cast(pa.int64()))  # int16/int32 widen exactly


def _float64(array: pa.Array) -> Converted:
    return Converted(array, _nan(array))


def _float32(array: pa.Array) -> Converted:
    # shortest round-trip text of the single, read back as a double
    text = array.cast(pa.string())
    return Converted(text.cast(pa.float64()), _nan(array))


def _nan(array: pa.Array) -> np.ndarray | None:
    flags = pc.fill_null(pc.is_nan(array), False)
    if not pc.any(flags).as_py():
        return None
    return np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)


def _utc_text(array: pa.Array) -> Converted:
    text = pl.Series(array.cast(pa.string()))
    fixed = pl.select(
        pl.when(text.str.ends_with("+00")).then(text + ":00").otherwise(text)
    ).to_series()
    return Converted(fixed.to_arrow().cast(pa.string()))


def _utc_naive_text(array: pa.Array) -> Converted:
    """UTC text without an offset, always six fraction digits ('2024-01-02 03:04:05.000000'):
    what ORMs write into a SQLite DATETIME column (SQLAlchemy, Rails), fixed width so text
    order is time order. PostgreSQL's 'infinity' and BC dates stay its own text."""
    text = pl.Series(array.cast(pa.string()))
    bare = text.str.strip_suffix("+00")
    whole = bare.str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    fraction = bare.str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}$")
    padded = bare.str.pad_end(26, "0")
    fixed = pl.select(
        pl.when(whole)
        .then(bare + ".000000")
        .when(fraction)
        .then(padded)
        .otherwise(text)  # infinity, BC, years past 9999: as PostgreSQL writes them
    ).to_series()
    return Converted(fixed.to_arrow().cast(pa.string()))


def _utc_python_text(array: pa.Array) -> Converted:
    """UTC text without an offset as Python's ``str(datetime)`` writes it: six fraction
    digits, or none when they are all zero (Django and the sqlite3 module's adapter)."""
    fixed = pl.Series(_utc_naive_text(array).array)
    return Converted(fixed.str.strip_suffix(".000000").to_arrow().cast(pa.string()))


def _uuid_hex(array: pa.Array) -> Converted:
    """32 hex digits without dashes: how ORMs keep a UUID in a SQLite CHAR(32) column."""
    text = pl.Series(array.cast(pa.string()))
    return Converted(text.str.replace_all("-", "", literal=True).to_arrow().cast(pa.string()))


# integral numeric text within 64 bits becomes an exact INTEGER under NUMERIC affinity
_INTEGRAL = r"^-?[0-9]+(\.0*)?$"
_SPECIAL = ("NaN", "Infinity", "-Infinity")
_DOUBLE_MAX = 1.7976931348623157e308
_DOUBLE_MIN_NORMAL = 2.2250738585072014e-308


def _numeric_text(array: pa.Array) -> Converted:
    text = pl.Series(array.cast(pa.string()))
    # numeric text of at most 16 bytes has at most 15 digits, or 16 and no point: an
    # integer within 64 bits; numeric(p <= 15, s) never holds longer (the regexes below
    # cost ~0.3 s per million values, the length ~0.01 s)
    if (text.str.len_bytes() <= 16).fill_null(True).all():
        return Converted(array.cast(pa.string()))
    digits = text.str.replace_all(r"[-.]", "").str.strip_chars("0").str.len_chars()
    integral = text.str.contains(_INTEGRAL) & (
        text.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False).is_not_null()
    )
    # 15 digits survive a double only in its normal range: 1e-330 would become 0.0,
    # 1e400 Infinity, and a subnormal keeps fewer digits
    size = text.cast(pl.Float64, strict=False).abs()
    in_range = (size < _DOUBLE_MAX) & ((size >= _DOUBLE_MIN_NORMAL) | (digits == 0))
    ok = text.is_null() | ((digits <= 15) & in_range) | integral | text.is_in(_SPECIAL)
    if ok.all():
        return Converted(array.cast(pa.string()))
    return Converted(array.cast(pa.string()), (~ok).to_numpy())


def over_limit(array: pa.Array, precision: int, scale: int) -> np.ndarray | None:
    """True where a number would need more than ``precision - scale`` integer digits once
    rounded half away from zero to ``scale`` places: it does not fit the DECIMAL(p,s) the
    user mapped the column to (SQLite would keep it, and PostgreSQL refuse it on the way
    back). Doubles settle all but a narrow band around the limit; Python decides that."""
    text = pl.Series(array.cast(pa.string()))
    size = text.cast(pl.Float64, strict=False).abs()
    low, high = decimals.limit_band(precision, scale)
    over = (size >= high).fill_null(False).to_numpy().copy()
    band = ((size >= low) & (size < high)).fill_null(False)
    for index in band.arg_true().to_list():
        number = decimals.parse(text[index])
        over[index] = number is not None and not decimals.fits(number, precision, scale)
    return over if over.any() else None


def _text(array: pa.Array) -> Converted:
    return Converted(array.cast(pa.string()))


_KERNELS: dict[str, Callable[[pa.Array], Converted]] = {
    "same": _same,
    "integer": _integer,
    "float64": _float64,
    "float32": _float32,
    "utc_text": _utc_text,
    "utc_naive_text": _utc_naive_text,
    "utc_python_text": _utc_python_text,
    "uuid_hex": _uuid_hex,
    "numeric_text": _numeric_text,
    "text": _text,
}


# dates and timestamps SQLite's date functions do not read: PostgreSQL's 'infinity', BC
# years and years past 9999 (its ::text of each)
_UNREADABLE_DATE = r"(?i)^-?infinity$|\sBC$|^\d{5,}-"


def representation_changes(kind: str, array: pa.Array) -> dict[str, np.ndarray]:
    """Where a value read from PostgreSQL arrives in SQLite as something else than it
    was (counted for the ledger, never refused): -0.0 stored as 0.0, and dates kept
    as PostgreSQL's text that SQLite's date functions cannot read."""
    if kind in {"float32", "float64"}:
        values = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        return {"negative_zero": (values == 0) & np.signbit(values)}
    if kind in {"date", "timestamp", "timestamptz"} and pa.types.is_string(array.type):
        flags = pc.fill_null(pc.match_substring_regex(array, _UNREADABLE_DATE), False)
        return {"unreadable_date": np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)}
    return {}


class SqliteColumn:
    """The kernel of one PostgreSQL column into SQLite: ``kernel`` on the values, a
    DECIMAL(p,s) chosen by a type mapping held to its size (``limit``), and the values
    whose representation SQLite changes, counted for the ledger."""

    stored_as = ""

    def __init__(
        self,
        read: column.Reader,
        *,
        table: str,
        source: str,
        target: str,
        nullable: bool,
        kind: str,
        kernel: Kernel,
        limit: tuple[int, int] | None,
        not_storable: str,
    ) -> None:
        self.read = read
        self.source, self.target, self.nullable = source, target, nullable
        self.kind, self.kernel, self.limit = kind, kernel, limit
        self.name: str = kernel
        self.output_type = OUTPUT_TYPES[kernel]
        self.why_bad = not_storable + sqlite_remedy(table, source, kernel)

    def convert(self, read: column.Read) -> column.Converted:
        converted = convert(self.kernel, read.values)
        bad = converted.bad
        if self.limit is not None:
            over = over_limit(read.values, *self.limit)
            if over is not None:
                bad = over if bad is None else bad | over
        why = representation_changes(self.kind, read.values)
        return column.Converted(converted.array, bad, why)

    def reason(self, value: Any, because: str | None) -> str:
        return self.why_bad
