"""A PostgreSQL target's column decisions: the exact Arrow type a column travels as, and
what of its journey may change a value (for the ledger)."""

from __future__ import annotations

import math

import pyarrow as pa

from arrowferry.dialects.facts import ColumnProfile
from arrowferry.model import Column, DataType, Table

DECIMAL128_DIGITS = 38
DECIMAL256_DIGITS = 76


def decimal_arrow(
    table: Table, col: Column, dtype: DataType, profile: ColumnProfile
) -> tuple[pa.DataType, int]:
    """An Arrow decimal wide enough to carry every value exactly; the server rounds.

    numeric(p,s): p - s integer digits and at least s + 18 fraction digits. A REAL
    has at most 17 significant digits, so a value rounded (half-even) at that scale
    still rounds, half away from zero, to the same s digits on the server.
    Unbounded NUMERIC: the profile's largest magnitude gives the integer digits and
    its smallest REAL the fraction digits its shortest text can need.
    When no Arrow decimal (76 digits at most) is that wide, the values travel as
    their exact decimal text and the server casts them (``pa.string()``, scale 0):
    slower, and only for such columns (``1.5e300`` and ``4e-320`` in one NUMERIC).
    """
    if dtype.precision is not None:
        int_digits = dtype.precision - (dtype.scale or 0)
        min_scale = (dtype.scale or 0) + 18
    else:
        biggest = profile.max_abs_number
        int_digits = 1 if biggest < 1 else math.floor(math.log10(biggest)) + 1
        smallest = profile.min_abs_real
        min_scale = 0 if smallest == 0 else max(0, 17 - (math.floor(math.log10(smallest)) + 1))
    for digits, make in (
        (DECIMAL128_DIGITS, pa.decimal128),
        (DECIMAL256_DIGITS, pa.decimal256),
    ):
        scale = digits - max(int_digits, 1)
        if scale >= min_scale:
            return make(digits, scale), scale
    return pa.string(), 0


def arrow_type(dtype: DataType) -> pa.DataType:
    """The exact Arrow type the writer sends for a target type (driver-traps.md C2)."""
    kind = dtype.kind
    simple: dict[str, pa.DataType] = {
        "boolean": pa.bool_(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "text": pa.string(),
        "blob": pa.binary(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "json": pa.json_(pa.string()),
        "uuid": pa.uuid(),
    }
    if kind in simple:
        return simple[kind]
    if kind == "array" and dtype.element is not None:
        return pa.list_(arrow_type(dtype.element))
    return pa.string()


_OFFSETS_DROPPED = (
    "ISO text with an offset or 'Z' is converted to UTC and the offset dropped; "
    "julian-day numbers are rounded to the millisecond"
)
_NAIVE_AS_UTC = (
    "ISO text without an offset is read as UTC (what SQLite's date functions "
    "write); julian-day numbers are rounded to the millisecond"
)
_BLOB_TEXT = "text and numbers stored in this BLOB column become the bytes of their text"
_ROUNDS = "PostgreSQL rounds to "
_ROUNDS_HOW = "decimal places (half away from zero) and refuses values wider than the precision"
_COUNTED = frozenset({_OFFSETS_DROPPED, _NAIVE_AS_UTC, _BLOB_TEXT})


def counted(note: str) -> bool:
    """Whether a run counts, value by value, what this lossy step changes (the ledger's
    ``interpreted``: offsets, julian days, a BLOB's text, rounding to a numeric's scale;
    a value too wide for the precision is a bad value, counted as such)."""
    return note in _COUNTED or (note.startswith(_ROUNDS) and note.endswith(_ROUNDS_HOW))


def lossy_notes(
    declared: str, dtype: DataType, profile: ColumnProfile | None, widened: str | None
) -> tuple[str, ...]:
    """Steps of a SQLite column's journey that may change a value (for the ledger)."""
    notes = [] if widened is None else [widened]
    kind = dtype.kind
    holds_reals = profile is None or profile.reals > 0
    if kind == "decimal" and holds_reals:
        notes.append(
            "REAL values are binary fractions: each is written as its shortest "
            "round-trip decimal text"
        )
        if "NUM" in declared.upper() or "DEC" in declared.upper():
            notes.append(
                "SQLite already stored numeric text that did not fit a 64-bit "
                "integer as REAL when it was written; digits lost then cannot be recovered"
            )
    if kind == "decimal" and dtype.precision is not None:
        notes.append(f"{_ROUNDS}{dtype.scale or 0} {_ROUNDS_HOW}")
    if kind in {"timestamp", "date"}:
        notes.append(_OFFSETS_DROPPED)
    if kind == "timestamptz":
        notes.append(_NAIVE_AS_UTC)
    if kind == "float32":
        notes.append("values are rounded to single precision")
    if kind == "float64" and (profile is None or profile.integers > 0):
        notes.append("integers beyond 2**53 in this column become the nearest double")
    if kind == "blob" and (profile is None or not profile.only("blob")):
        notes.append(_BLOB_TEXT)
    return tuple(notes)
