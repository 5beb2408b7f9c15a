"""Convert one Arrow batch to the target's exact Arrow schema.

Per column, a clean batch takes a strict Arrow kernel (``convert.fast``) in one call;
a batch that kernel refuses, or a column marked ``validate``, takes the full Polars
path: one ``select`` computes the values and a "cannot convert exactly" flag for every
such column. A flagged value is never written as something else: the load stops
(``fail``), the value becomes NULL (``null``) or its whole row goes to the reject
file (``reject``), and every case is counted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert import build_conversion
from arrowferry.convert.base import as_arrow_type
from arrowferry.convert.fast import FAST_ERRORS, FastPath, fast_path
from arrowferry.convert.temporal import Interpreter, interpretations
from arrowferry.convert.text import NUL_REASON
from arrowferry.dialects import sqlite
from arrowferry.dialects.sqlite import (
    CLASS_CODES,
    CLASS_SUFFIX,
    READ_TYPES,
    REAL_SUFFIX,
    ROWID,
    ReadAs,
)
from arrowferry.errors import ArrowferryError, ConversionError, ReadTypeChanged
from arrowferry.options import OnBadValue
from arrowferry.plan import ColumnPlan, TablePlan
from arrowferry.transfer.interpret import EXAMPLED
from arrowferry.transfer.rejects import Problem, RejectedRow
from arrowferry.transfer.remedies import remedy

_BAD = "__bad_"
_WHY = "__why_"
INVALID_UTF8 = "not valid UTF-8, which PostgreSQL text cannot hold"


@dataclass
class _Column:
    plan: ColumnPlan
    source: str  # name in the read batch
    read_type: pa.DataType
    fast: FastPath | None
    value: pl.Expr
    bad: pl.Expr | None
    reason: str
    nullable: bool
    conversion: str
    recheck: Callable[[str], bool] | None
    interpreted: tuple[tuple[str, pl.Expr], ...]  # on the full path, in its select
    read_by_rule: Interpreter | None  # values read by a rule, on the full path
    fast_read_by_rule: Interpreter | None  # the same, when the fast path took the batch
    classes: bool  # the read also carries each value's storage class


@dataclass
class Transformer:
    plan: TablePlan
    on_bad_value: OnBadValue = "reject"
    replace_invalid_utf8: bool = False
    bad_counts: dict[str, int] = field(default_factory=dict)  # per target column
    cleaned: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)  # drained by the caller
    strip_nul: bool = False
    rows_read: int = 0
    source: Path | None = None  # the SQLite file: an error names a value as it is stored
    # per target column: values written through an interpretation of their stored form
    interpreted: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: dict[str, list[Any]] = field(default_factory=dict)  # stored values, a few

    def __post_init__(self) -> None:
        self.columns: list[_Column] = []
        self._invalid_utf8: dict[int, np.ndarray] = {}  # this batch's invalid UTF-8, per column
        tracked = self.plan.class_tracked
        for i, col in enumerate(self.plan.columns):
            name = f"c{i}"
            read_as = cast(ReadAs, "text" if col.read_as == "numeric" else col.read_as)  # merged
            conv = build_conversion(
                name,
                read_as,
                col.type,
                table=self.plan.source.name,
                decimal_scale=col.decimal_scale,
                decimal_digits=getattr(col.arrow_type, "precision", 38),
                decimal_as_text=col.decimal_as_text,
                max_length=col.max_length,
            )
            fast = (
                None
                if col.validate
                else fast_path(read_as, col.type, col.arrow_type, max_length=col.max_length)
            )
            self.columns.append(
                _Column(
                    col,
                    name,
                    READ_TYPES[col.read_as],
                    fast,
                    conv.value.alias(col.target),
                    None if conv.bad is None else conv.bad.alias(f"{_BAD}{i}"),
                    conv.reason,
                    self.plan.target.columns[i].nullable,
                    conv.name,
                    conv.recheck,
                    conv.interpreted,
                    interpretations(read_as, col.type, fast=False),
                    interpretations(read_as, col.type, fast=True),
                    i in tracked,
                )
            )
        self.schema = pa.schema([pa.field(c.target, c.arrow_type) for c in self.plan.columns])

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self.rows_read += batch.num_rows
        arrays: list[pa.Array | None] = []
        slow: list[int] = []
        read = [self._read(batch, i) for i in range(len(self.columns))]
        why: dict[int, dict[str, np.ndarray]] = {}
        for i, col in enumerate(self.columns):
            if col.fast is not None:
                try:
                    arrays.append(as_arrow_type(col.fast(read[i]), col.plan.arrow_type))
                    if col.fast_read_by_rule is not None:
                        why[i] = col.fast_read_by_rule(read[i])
                    continue
                except FAST_ERRORS:
                    pass
            arrays.append(None)
            slow.append(i)
        bad: dict[int, np.ndarray] = {}
        if slow:
            converted, bad = self._slow(batch, read, slow, why)
            for i, array in zip(slow, converted, strict=True):
                arrays[i] = array
        for i, col in enumerate(self.columns):
            if col.classes:
                why.setdefault(i, {}).update(_class_flags(batch, col, i))
        self._count_interpreted(read, why, bad)
        if bad:
            arrays = self._apply_policy(batch, read, arrays, bad)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _count_interpreted(
        self,
        read: list[pa.Array],
        why: dict[int, dict[str, np.ndarray]],
        bad: dict[int, np.ndarray],
    ) -> None:
        """Count, per column, the values written through an interpretation: not NULL,
        not bad, and (when bad values reject their rows) in a row that is written."""
        if not any(flags.any() for kinds in why.values() for flags in kinds.values()):
            return
        kept = np.ones(len(read[0]) if read else 0, dtype=bool)
        if bad and self.on_bad_value == "reject":
            for flags in bad.values():
                kept &= ~flags
        for i, kinds in why.items():
            written = kept & read[i].is_valid().to_numpy(zero_copy_only=False)
            if i in bad:
                written &= ~bad[i]
            target = self.columns[i].plan.target
            for kind, flags in kinds.items():
                hits = flags & written
                count = int(hits.sum())
                if not count:
                    continue
                counts = self.interpreted.setdefault(target, {})
                counts[kind] = counts.get(kind, 0) + count
                if kind in EXAMPLED:
                    seen = self.examples.setdefault(f"{target}\x00{kind}", [])
                    for index in np.flatnonzero(hits)[: max(0, 3 - len(seen))]:
                        seen.append(_value(read[i], int(index)))

    def absorb(self, other: Transformer) -> None:
        """Add the counters of a converter that worked on other chunks of the same table."""
        self.rows_read += other.rows_read
        for mine, theirs in ((self.bad_counts, other.bad_counts), (self.cleaned, other.cleaned)):
            for column, count in theirs.items():
                mine[column] = mine.get(column, 0) + count
        for column, kinds in other.interpreted.items():
            counts = self.interpreted.setdefault(column, {})
            for kind, count in kinds.items():
                counts[kind] = counts.get(kind, 0) + count
        for key, values in other.examples.items():
            self.examples[key] = (self.examples.get(key, []) + values)[:3]
        other.rows_read, other.bad_counts, other.cleaned = 0, {}, {}
        other.interpreted, other.examples = {}, {}

    def conversion_name(self, target: str) -> str:
        col = next(c for c in self.columns if c.plan.target == target)
        fast = " (Arrow fast path for clean batches)" if col.fast is not None else ""
        return col.conversion + fast

    def _read(self, batch: pa.RecordBatch, i: int) -> pa.Array:
        """Column i as read, type-checked; a ``numeric`` pair merged into exact text."""
        col = self.columns[i]
        array = batch.column(col.source)
        if array.type != col.read_type:
            raise ReadTypeChanged(self.plan.source.name, i, f"read as {array.type}")
        if col.plan.read_as != "numeric":
            return array
        reals = batch.column(col.source + REAL_SUFFIX)
        if reals.type != pa.float64():
            raise ReadTypeChanged(self.plan.source.name, i, f"REAL part read as {reals.type}")
        # Arrow writes a double with its shortest round-trip text (0.7999999999999999, 1e-25)
        return pc.coalesce(array, reals.cast(pa.string()))

    # --- the full path -----------------------------------------------------------------

    def _slow(
        self,
        batch: pa.RecordBatch,
        read: list[pa.Array],
        indexes: list[int],
        why: dict[int, dict[str, np.ndarray]],
    ) -> tuple[list[pa.Array], dict[int, np.ndarray]]:
        bad: dict[int, np.ndarray] = {}
        data: dict[str, pa.Array] = {}
        self._invalid_utf8.clear()
        for i in indexes:
            array = read[i]
            if pa.types.is_string(array.type):
                array, invalid = self._utf8(array, i)
                if invalid is not None:
                    bad[i] = self._invalid_utf8[i] = invalid
                if self.strip_nul and self.columns[i].plan.type.kind == "text":
                    array = self._strip_nul(array, i)
            data[self.columns[i].source] = array
        frame = pl.from_arrow(pa.table(data))
        assert isinstance(frame, pl.DataFrame)
        flagged = [i for i in indexes if self.columns[i].bad is not None]
        exprs = [self.columns[i].value for i in indexes]
        exprs += [self.columns[i].bad for i in flagged]  # type: ignore[misc]
        exprs += [
            e.alias(f"{_WHY}{i}_{kind}") for i in indexes for kind, e in self.columns[i].interpreted
        ]
        out = frame.select(exprs)
        for i in indexes:
            col = self.columns[i]
            why[i] = {
                kind: out.get_column(f"{_WHY}{i}_{kind}").fill_null(False).to_numpy()
                for kind, _ in col.interpreted
            }
            if col.read_by_rule is not None:
                why[i].update(col.read_by_rule(read[i]))
        for i in flagged:
            flags = out.get_column(f"{_BAD}{i}").fill_null(False).to_numpy()
            if flags.any() and self.columns[i].recheck is not None:
                flags = self._recheck(out, read, i, flags)
            if flags.any():
                bad[i] = flags | bad[i] if i in bad else flags
        converted = [
            as_arrow_type(
                out.get_column(self.columns[i].plan.target).to_arrow(),
                self.columns[i].plan.arrow_type,
            )
            for i in indexes
        ]
        return converted, bad

    def _recheck(
        self, out: pl.DataFrame, read: list[pa.Array], i: int, flags: np.ndarray
    ) -> np.ndarray:
        """A second, slower opinion on flagged values only (the value is the text itself)."""
        col = self.columns[i]
        assert col.recheck is not None
        positions = np.flatnonzero(flags)
        texts = read[i].take(pa.array(positions)).to_pylist()
        accepted = np.array([t is not None and col.recheck(t) for t in texts], dtype=bool)
        if not accepted.any():
            return flags
        keep = np.zeros(len(flags), dtype=bool)
        keep[positions[accepted]] = True
        current = out.get_column(col.plan.target).to_arrow()
        restored = pc.if_else(pa.array(keep), read[i].cast(current.type), current)
        out.replace_column(
            out.get_column_index(col.plan.target), pl.Series(col.plan.target, restored)
        )
        return flags & ~keep

    def _utf8(self, array: pa.Array, i: int) -> tuple[pa.Array, np.ndarray | None]:
        """SQLite never validates TEXT, and Polars assumes valid UTF-8 (driver-traps.md 11).

        Invalid values are flagged and hidden from Polars (or repaired with U+FFFD
        when asked, and counted as cleaned).
        """
        try:
            array.validate(full=True)
            return array, None
        except pa.ArrowInvalid:
            pass
        raw = array.view(pa.binary()).to_pylist()
        invalid = np.zeros(len(raw), dtype=bool)
        fixed: list[str | None] = []
        for index, value in enumerate(raw):  # the error path only
            try:
                fixed.append(None if value is None else value.decode("utf-8"))
            except UnicodeDecodeError:
                invalid[index] = True
                fixed.append(
                    value.decode("utf-8", errors="replace") if self.replace_invalid_utf8 else None
                )
        if self.replace_invalid_utf8:
            target = self.columns[i].plan.target
            self.cleaned[target] = self.cleaned.get(target, 0) + int(invalid.sum())
            return pa.array(fixed, pa.string()), None
        return pa.array(fixed, pa.string()), invalid

    def _strip_nul(self, array: pa.Array, i: int) -> pa.Array:
        has_nul = pc.match_substring(array, "\x00")
        count = pc.sum(has_nul).as_py() or 0
        if not count:
            return array
        target = self.columns[i].plan.target
        self.cleaned[target] = self.cleaned.get(target, 0) + count
        return pc.replace_substring(array, "\x00", "")

    def _reason(self, i: int, index: int, value: Any) -> str:
        """Why the value cannot be stored, and what would keep it."""
        column = self.columns[i]
        invalid = self._invalid_utf8.get(i)
        cleaning: str | None
        if invalid is not None and invalid[index]:
            reason, cleaning = INVALID_UTF8, "replace_invalid_utf8"
        else:
            reason, cleaning = column.reason, "strip_nul" if column.reason == NUL_REASON else None
        table = self.plan.source.name
        how = remedy(table, column.plan.source, column.plan.ddl, cleaning=cleaning, value=value)
        return f"{reason}; {how}"

    # --- what happens to a value that does not convert --------------------------------

    def _apply_policy(
        self,
        batch: pa.RecordBatch,
        read: list[pa.Array],
        arrays: list[pa.Array | None],
        bad: dict[int, np.ndarray],
    ) -> list[pa.Array | None]:
        for i, flags in bad.items():
            target = self.columns[i].plan.target
            self.bad_counts[target] = self.bad_counts.get(target, 0) + int(flags.sum())
        if self.on_bad_value == "fail":
            index, i = min((int(np.argmax(f)), i) for i, f in bad.items())
            self._fail(batch, read, i, index)
        if self.on_bad_value == "null":
            for i, flags in bad.items():
                if not self.columns[i].nullable:
                    self._fail(
                        batch,
                        read,
                        i,
                        int(np.argmax(flags)),
                        "; the column is NOT NULL, so it cannot be stored as NULL",
                    )
                array = arrays[i]
                assert array is not None
                arrays[i] = _null_where(array, flags)
            return arrays
        rows = np.zeros(batch.num_rows, dtype=bool)
        for flags in bad.values():
            rows |= flags
        self._collect_rejects(batch, read, bad, rows)
        keep = pa.array(~rows)
        return [pc.filter(a, keep) for a in arrays]

    def _collect_rejects(
        self,
        batch: pa.RecordBatch,
        read: list[pa.Array],
        bad: dict[int, np.ndarray],
        rows: np.ndarray,
    ) -> None:
        positions = np.flatnonzero(rows)
        rowids = (
            batch.column(ROWID).take(pa.array(positions)).to_pylist()
            if self.plan.with_rowid
            else None
        )
        pk = self.plan.source.primary_key
        for n, index in enumerate(positions.tolist()):
            problems = [
                Problem(
                    self.columns[i].plan.source,
                    _value(read[i], index),
                    self._reason(i, index, _value(read[i], index)),
                )
                for i, flags in sorted(bad.items())
                if flags[index]
            ]
            key = {}
            if pk is not None:
                names = self.plan.source.column_names
                key = {c: _value(read[names.index(c)], index) for c in pk.columns}
            row = (
                None
                if self.plan.with_rowid
                else {c.plan.source: _value(read[i], index) for i, c in enumerate(self.columns)}
            )
            self.rejected.append(RejectedRow(rowids[n] if rowids else None, key, problems, row))

    def _stored(self, row: Any, column: str, read: Any) -> Any:
        """The value as SQLite stores it (not as read: a CAST's text, a double), when the
        row can be looked up; else the value as read. An error path only."""
        if self.source is None or self.plan.rowid is None or not isinstance(row, int):
            return read
        try:
            stored = sqlite.fetch_rows(self.source, self.plan.source.name, self.plan.rowid, [row])
        except (ArrowferryError, sqlite3.Error):
            return read
        return (stored.get(row) or {}).get(column, read)

    def _fail(
        self, batch: pa.RecordBatch, read: list[pa.Array], i: int, index: int, note: str = ""
    ) -> None:
        col = self.columns[i].plan
        value = _value(read[i], index)
        row = (
            batch.column(ROWID)[index].as_py()
            if self.plan.with_rowid
            else f"#{index + 1} of its batch"
        )
        value = self._stored(row, col.source, value)
        raise ConversionError(
            f"table {self.plan.source.name!r}, column {col.source!r}, row {row}: value {_show(value)} "
            f"cannot be stored exactly as {col.ddl}: {self._reason(i, index, value)}{note}; otherwise fix "
            "the value, or pass --on-bad-value reject (or null)",
            table=self.plan.source.name,
            column=col.source,
            row=row,
            value=value,
        )


def _class_flags(batch: pa.RecordBatch, col: _Column, i: int) -> dict[str, np.ndarray]:
    """Text or bytes a CAST made from another storage class (the read's class column)."""
    codes = batch.column(col.source + CLASS_SUFFIX)
    if codes.type != pa.int64():
        raise ReadTypeChanged(col.plan.source, i, f"storage classes read as {codes.type}")
    code = np.asarray(pc.fill_null(codes, 0).to_numpy(zero_copy_only=False))
    number = (code == CLASS_CODES["integer"]) | (code == CLASS_CODES["real"])
    if col.plan.type.kind == "blob":
        return {"text_as_bytes": code == CLASS_CODES["text"], "number_as_bytes": number}
    return {"number_as_text": number, "blob_as_text": code == CLASS_CODES["blob"]}


def _null_where(array: pa.Array, flags: np.ndarray) -> pa.Array:
    """The array with NULL where flagged (extension arrays through their storage)."""
    if isinstance(array.type, pa.BaseExtensionType):
        storage = _null_where(array.storage, flags)
        return pa.ExtensionArray.from_storage(array.type, storage)
    return pc.if_else(pa.array(flags), pa.nulls(len(flags), array.type), array)


def _value(array: pa.Array, index: int) -> Any:
    """A value as read (invalid UTF-8 comes back as its bytes)."""
    if pa.types.is_string(array.type):
        raw = array.view(pa.binary())[index].as_py()
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return array[index].as_py()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
