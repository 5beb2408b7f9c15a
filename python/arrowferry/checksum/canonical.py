"""The client's side of a checksum: SQLite values, as read, into canonical hashes.

A SQLite value is first read the way the migration reads it into the PostgreSQL type
at the other end (its own conversions, :mod:`arrowferry.convert`: 0/1 and words to
booleans, ISO text, epochs and julian days to timestamps, REALs through their shortest
text to decimals rounded half away from zero), then put in the canonical form of
:mod:`arrowferry.dialects.checks` and hashed with PostgreSQL's functions
(:mod:`arrowferry.checksum.pghash`). A value the migration could not have converted
hashes as a bad value (or as NULL, when the migration stored NULL for it).
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry import decimals
from arrowferry.checksum import jsonb, pghash
from arrowferry.checksum.pghash import Hashes
from arrowferry.convert import numeric, temporal
from arrowferry.convert.base import Conversion
from arrowferry.convert.fast import FAST_ERRORS, fast_path
from arrowferry.dialects.checks import (
    BAD_MARK,
    EPOCH_2000_DAYS,
    EPOCH_2000_US,
    NULL_MARK,
    SEED,
    CheckColumn,
    CheckTable,
)
from arrowferry.dialects.sqlite.checksum import ReadAs
from arrowferry.errors import ReadTypeChanged
from arrowferry.model import DataType

Mask = npt.NDArray[np.bool_]
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
# PostgreSQL rounds half away from zero; numeric holds 131072 + 16383 digits
_HALF_UP = decimal.Context(
    prec=150_000, rounding=decimal.ROUND_HALF_UP, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


@dataclass(frozen=True, slots=True)
class Read:
    """One column of a batch as read (``reals``/``blobs``: the parts of a split read)."""

    values: pa.Array
    reals: pa.Array | None = None
    blobs: pa.Array | None = None


@dataclass(frozen=True, slots=True)
class Canonical:
    """A column's values in canonical form: ``hash(seeds)`` gives their hashes."""

    kind: str  # "int", "float", "bytes" (the payload's hash function), "pieces", "stored"
    payload: object  # np int64 / float64 array, or a pa string/binary array
    valid: Mask  # a value is there (not NULL)
    bad: Mask  # a value is there but the migration could not have stored it
    classes: npt.NDArray[np.int64] | None = None  # "stored": each value's storage class

    def hash(self, seeds: Hashes) -> Hashes:
        if self.kind == "int":
            h = pghash.hash_int8(np.asarray(self.payload), seeds)
        elif self.kind == "float":
            h = pghash.hash_float8(np.asarray(self.payload), seeds)
        elif self.kind == "stored":
            h = _stored_hash(self, seeds)
        elif self.kind == "pieces":  # (rows, texts): texts rewritten in several passes
            h = np.zeros(len(seeds), dtype=np.int64)
            for rows, texts in self.payload:  # type: ignore[attr-defined]
                h[rows] = pghash.hash_bytes(texts, seeds[rows])
        else:
            assert isinstance(self.payload, pa.Array)
            h = pghash.hash_bytes(self.payload, seeds)
        out = np.where(self.valid, h, seeds ^ np.int64(NULL_MARK))
        if self.bad.any():
            out = np.where(self.bad, pghash.hash_int8(np.full(len(out), BAD_MARK), seeds), out)
        return out


class ColumnTypeChanged(ReadTypeChanged):
    """A column arrived as another Arrow type than read as (``index``: the column's
    position in the table, not in the read's result)."""


_READ_TYPES: dict[str, tuple[pa.DataType, ...]] = {
    "integer": (pa.int64(),),
    "real": (pa.float64(),),
    "text": (pa.string(),),
    "blob": (pa.binary(),),
    "numeric": (pa.string(), pa.float64()),
    "stored": (pa.int64(), pa.float64(), pa.binary()),
}


def read_of(batch: pa.RecordBatch, index: int, how: ReadAs, table: str = "") -> Read:
    """Column ``index`` of a batch, its parts type-checked: the driver types a column by
    its first batch, so a value of another class turns it into text (or a double) there,
    and a later batch fails. Either way the column is read again as text."""
    name = f"c{index}"
    parts = {"stored": (name, name + "_r", name + "_b"), "numeric": (name, name + "_r")}
    arrays = [batch.column(n) for n in parts.get(how, (name,))]
    for array, wanted in zip(arrays, _READ_TYPES[how], strict=True):
        if array.type != wanted:
            raise ColumnTypeChanged(table, index, f"read as {array.type}")
    return Read(*arrays)


def canonical(
    col: CheckColumn,
    how: ReadAs,
    read: Read,
    *,
    bad_as_null: bool,
    learnt: dict[str, jsonb.Canonicaliser] | None = None,
) -> Canonical:
    """A SQLite column's values (``col.type``: the PostgreSQL type they were or came
    from) in the canonical form of ``col.kind``. ``learnt``: what the JSON rewriter
    learnt of earlier batches of the table, by column."""
    out = _canonical(col, how, read, learnt if learnt is not None else {})
    if bad_as_null and out.bad.any():  # --on-bad-value null: the migration stored NULL
        return Canonical(
            out.kind, out.payload, out.valid & ~out.bad, np.zeros_like(out.bad), out.classes
        )
    return out


def _canonical(
    col: CheckColumn, how: ReadAs, read: Read, learnt: dict[str, jsonb.Canonicaliser]
) -> Canonical:
    kind = col.kind
    values = read.values
    if kind == "stored":
        assert read.reals is not None and read.blobs is not None
        return _stored(values, read.reals, read.blobs)
    if kind == "int":
        return _integers(col.type, how, values)
    if kind in {"float8", "float4"}:
        return _floats(col.type, how, values, single=kind == "float4")
    if kind == "scaled":
        return _scaled(values, read.reals, col.scale or 0)
    if kind == "decimal":
        return _plain_decimals(values, read.reals, col.scale)
    if kind in {"timestamp", "date", "time"}:
        return _temporal(col.type, values)
    if kind == "bytes":
        blob = values.cast(pa.large_binary())
        hexed = pl.Series(blob).bin.encode("hex").to_arrow()
        return _as_bytes(hexed, _valid(values))
    if kind == "jsonb":
        rewrite = learnt.setdefault(col.name, jsonb.Canonicaliser())
        pieces, bad = rewrite(values)
        valid = _valid(values)
        return Canonical("pieces", pieces, valid & ~bad, bad & valid)
    if kind == "uuid":
        return _uuids(values)
    return _as_bytes(values, _valid(values))  # text, json, array, other: as stored


def _valid(values: pa.Array) -> Mask:
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


def _as_bytes(values: pa.Array, valid: Mask, bad: Mask | None = None) -> Canonical:
    return Canonical("bytes", values, valid, np.zeros(len(valid), bool) if bad is None else bad)


def _polars(conversion: Conversion, values: pa.Array) -> tuple[pl.Series, Mask]:
    """A conversion of the migration's, run on one column: (values, bad mask)."""
    frame = pl.DataFrame({"v": pl.Series(values)})
    exprs = [conversion.value.alias("value")]
    if conversion.bad is not None:
        exprs.append(conversion.bad.alias("bad"))
    out = frame.select(exprs)
    bad = out["bad"].fill_null(False).to_numpy() if conversion.bad is not None else None
    return out["value"], np.zeros(len(values), bool) if bad is None else np.asarray(bad, bool)


def _integers(dtype: DataType, how: ReadAs, values: pa.Array) -> Canonical:
    valid = _valid(values)
    c = pl.col("v")
    if dtype.kind == "boolean":
        series, bad = _polars(
            numeric.to_boolean(c, "integer" if how == "integer" else "text"), values
        )
        ints = series.cast(pl.Int64)
    elif how == "integer":
        ints = pl.Series(values)
        bad = np.zeros(len(values), bool)
        bounds = _INT_BOUNDS.get(dtype.kind)
        if bounds is not None and dtype.kind != "int64":  # an int64 read fits int8 always
            bad = valid & ~np.asarray(ints.is_between(*bounds).fill_null(True).to_numpy(), bool)
    else:
        kind = dtype.kind if dtype.kind in _INT_BOUNDS else "int64"
        series, bad = _polars(numeric.to_integer(c, "text", kind), values)
        ints = series.cast(pl.Int64)
    return Canonical("int", ints.fill_null(0).to_numpy(), valid & ~bad, bad & valid)


_INT_BOUNDS = {
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (INT64_MIN, INT64_MAX),
}


def _floats(dtype: DataType, how: ReadAs, values: pa.Array, *, single: bool) -> Canonical:
    valid = _valid(values)
    if how == "real":
        doubles = pl.Series(values).cast(pl.Float64)
        bad = np.zeros(len(values), bool)
    else:
        doubles, bad = _polars(numeric.to_float(pl.col("v"), "text", "float64"), values)
    numbers = doubles.fill_null(0.0).to_numpy().astype(np.float64)
    if single:
        with np.errstate(over="ignore"):
            narrowed = numbers.astype(np.float32)
        bad = bad | (np.isinf(narrowed) & np.isfinite(numbers))  # real refuses the overflow
        numbers = narrowed.astype(np.float64)
    return Canonical("float", numbers, valid & ~bad, bad & valid)


def _scaled(text: pa.Array, reals: pa.Array | None, scale: int) -> Canonical:
    """Decimals as integers at ``scale``: REALs through their shortest text, rounded half
    away from zero as PostgreSQL rounds them; integer text exactly; the rest in Python."""
    n = len(text)
    out = np.zeros(n, dtype=np.int64)
    valid = _valid(text)
    bad = np.zeros(n, dtype=bool)
    factor = 10**scale
    if reals is not None and reals.null_count < len(reals):
        has = _valid(reals)
        valid |= has
        x = np.asarray(pc.fill_null(reals, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.abs(x * factor)
            whole = np.floor(v)
            frac = v - whole
            # a double only settles the rounding away from .5 and within 2**52
            unsure = has & ((np.abs(frac - 0.5) < 1e-6) | ~(v < 2.0**52))
            rounded = np.where(frac >= 0.5, whole + 1, whole) * np.sign(x)
        sure = has & ~unsure
        out[sure] = rounded[sure].astype(np.int64)
        for i in np.flatnonzero(unsure):
            out[i], bad[i] = _exact_scaled(decimals.parse(float(x[i])), scale)
    rest = valid & ~(_valid(reals) if reals is not None else np.zeros(n, bool))
    if rest.any():
        ints = pl.Series(text).str.to_integer(strict=False)
        limit = INT64_MAX // factor
        fits = np.asarray((ints.abs() <= limit).fill_null(False).to_numpy(), bool) & rest
        out[fits] = ints.fill_null(0).to_numpy()[fits] * factor
        strings = text.to_pylist()
        for i in np.flatnonzero(rest & ~fits):
            out[i], bad[i] = _exact_scaled(decimals.parse(strings[i]), scale)
    return Canonical("int", out, valid & ~bad, bad)


def _exact_scaled(number: decimal.Decimal | None, scale: int) -> tuple[int, bool]:
    if number is None or not number.is_finite():
        return 0, True
    try:
        value = int(_HALF_UP.quantize(number.scaleb(scale), decimal.Decimal(1)))
    except decimal.InvalidOperation:  # more digits than any numeric holds
        return 0, True
    return (value, False) if INT64_MIN <= value <= INT64_MAX else (0, True)


def _plain_decimals(text: pa.Array, reals: pa.Array | None, scale: int | None) -> Canonical:
    """Decimals as trim_scale(x)::text prints them (rounded to ``scale`` first, if any)."""
    strings = text.to_pylist()
    doubles = reals.to_pylist() if reals is not None else [None] * len(strings)
    out: list[str | None] = []
    bad = np.zeros(len(strings), dtype=bool)
    for i, (s, r) in enumerate(zip(strings, doubles, strict=True)):
        raw = r if r is not None else s
        if raw is None:
            out.append(None)
            continue
        special = _SPECIAL.get(raw if isinstance(raw, str) else repr(raw))
        if special is not None:  # numeric's NaN and infinities, as text or as a REAL
            out.append(special)
            continue
        number = decimals.parse(raw)
        if number is None:
            bad[i] = True
            out.append(None)
            continue
        if scale is not None:
            try:
                number = _HALF_UP.quantize(number, decimal.Decimal(1).scaleb(-scale))
            except decimal.InvalidOperation:  # more digits than any numeric holds
                bad[i] = True
                out.append(None)
                continue
        out.append(plain(number))
    array = pa.array(out, pa.string())
    return _as_bytes(array, _valid(array) | bad, bad)


_SPECIAL = {
    "NaN": "NaN",
    "nan": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "inf": "Infinity",
    "-inf": "-Infinity",
}


def plain(number: decimal.Decimal) -> str:
    """PostgreSQL's ``trim_scale(x)::text``: no exponent, no trailing zeros, no -0."""
    if number.is_nan():
        return "NaN"
    if number.is_infinite():
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _temporal(dtype: DataType, values: pa.Array) -> Canonical:
    """Dates, times and timestamps as PostgreSQL counts them (from 2000, UTC)."""
    text = values.cast(pa.string())
    valid = _valid(text)
    kind = dtype.kind
    infinite = pc.fill_null(pc.is_in(text, pa.array(["infinity", "-infinity"])), False)
    if kind == "time":
        # PostgreSQL's 24:00:00 is the end of the day, which Polars' parser refuses
        text = pc.replace_substring_regex(text, r"^24:00:00(\.0*)?$", "00:00:00")
        series, bad = _polars(temporal.to_time(pl.col("v"), "text"), text)
        micros = series.cast(pl.Int64).fill_null(0).to_numpy() // 1000
        end = np.asarray(
            pc.fill_null(
                pc.match_substring_regex(values.cast(pa.string()), r"^24:"), False
            ).to_numpy(zero_copy_only=False),
            bool,
        )
        micros = np.where(end, 86_400_000_000, micros)
        return Canonical("int", micros, valid & ~bad, bad)
    target = (
        pa.date32()
        if kind == "date"
        else pa.timestamp("us", tz="UTC" if kind == "timestamptz" else None)
    )
    finite = pc.if_else(infinite, pa.scalar(None, pa.string()), text)
    converted = _fast_temporal(kind, finite, target)
    if converted is None:
        if kind == "date":
            conversion = temporal.to_date(pl.col("v"), "text")
        else:
            conversion = temporal.to_timestamp(pl.col("v"), "text", tz=kind == "timestamptz")
        series, bad = _polars(conversion, finite)
        numbers = (
            series.cast(pl.Int32 if kind == "date" else pl.Int64)
            .cast(pl.Int64)
            .fill_null(0)
            .to_numpy()
        )
    else:
        bad = np.zeros(len(text), bool)
        numbers = np.asarray(
            pc.fill_null(converted.cast(pa.int32() if kind == "date" else pa.int64()), 0).to_numpy(
                zero_copy_only=False
            ),
            dtype=np.int64,
        )
    offset = EPOCH_2000_DAYS if kind == "date" else EPOCH_2000_US
    numbers = numbers - offset
    inf = np.asarray(infinite.to_numpy(zero_copy_only=False), bool)
    if inf.any():
        top, bottom = (2**31 - 1, -(2**31)) if kind == "date" else (INT64_MAX, INT64_MIN)
        positive = np.asarray(
            pc.fill_null(pc.equal(text, "infinity"), False).to_numpy(zero_copy_only=False), bool
        )
        numbers = np.where(positive, top, np.where(inf, bottom, numbers))
        bad = bad & ~inf
    return Canonical("int", numbers, valid & ~bad, bad & valid)


def _fast_temporal(kind: str, text: pa.Array, target: pa.DataType) -> pa.Array | None:
    convert = fast_path("text", DataType(kind), target)  # type: ignore[arg-type]
    if convert is None:
        return None
    try:
        return convert(text)
    except FAST_ERRORS:
        return None


def _uuids(values: pa.Array) -> Canonical:
    """UUIDs as PostgreSQL prints them, from 16 bytes or any text form the migration reads."""
    out: list[str | None] = []
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values.to_pylist()):
        if v is None:
            out.append(None)
            continue
        raw = bytes(v) if isinstance(v, bytes | bytearray) else str(v).encode()
        if len(raw) != 16:
            hexed = raw.decode("utf-8", "replace").strip().strip("{}").replace("-", "").lower()
            raw = bytes.fromhex(hexed) if len(hexed) == 32 and _is_hex(hexed) else b""
        if len(raw) != 16:
            bad[i] = True
            out.append(None)
            continue
        h = raw.hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return _as_bytes(pa.array(out, pa.string()), _valid(values), bad)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _stored(codes: pa.Array, reals: pa.Array, blobs: pa.Array) -> Canonical:
    classes = np.asarray(pc.fill_null(codes, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return Canonical("stored", (reals, blobs), classes > 0, np.zeros(len(classes), bool), classes)


def _stored_hash(c: Canonical, seeds: Hashes) -> Hashes:
    """A SQLite value as stored: its class seeds the hash, so 1, 1.0, '1' and x'31' differ."""
    assert isinstance(c.payload, tuple)
    reals: pa.Array = c.payload[0]
    blobs: pa.Array = c.payload[1]
    assert c.classes is not None
    class_seeds = seeds ^ (c.classes * np.int64(0x1F3D5B79))
    doubles = np.asarray(pc.fill_null(reals, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
    as_real = pghash.hash_float8(doubles, class_seeds)
    as_bytes = pghash.hash_bytes(blobs, class_seeds)
    return np.where(c.classes == 2, as_real, as_bytes)


# --- rows -------------------------------------------------------------------------------


def seeds(key: Sequence[Canonical], n: int) -> Hashes:
    """Each row's seed: the hash chain of its key's canonical values."""
    s = np.full(n, SEED, dtype=np.int64)
    for part in key:
        s = part.hash(s)
    return s


def row_hashes(columns: Sequence[Canonical], n: int) -> Hashes:
    """A row without a key: its column hashes (seeded alike) combined, then hashed."""
    s = np.full(n, SEED, dtype=np.int64)
    combined = np.zeros(n, dtype=np.int64)
    for column in columns:
        combined ^= column.hash(s)
    return pghash.hash_int8(combined, SEED)


def segment_ids(
    table: CheckTable, key_values: npt.NDArray[np.int64] | None, hashes: Hashes
) -> npt.NDArray[np.int64]:
    """Each row's segment: by its integer key's range, or by the low bits of ``hashes``."""
    segments = table.segments
    if segments.how == "range":
        assert key_values is not None
        return (key_values - segments.low) // segments.width
    return hashes & np.int64(max(1, segments.count) - 1)
