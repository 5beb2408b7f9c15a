"""Convert one Arrow batch to the target's exact Arrow schema.

Per column, a clean batch takes a strict Arrow kernel (``convert.fast``) in one call;
a batch that kernel refuses, or a column marked ``validate``, takes the full Polars
path: one ``select`` computes the values and a "cannot convert exactly" flag for every
such column. A flagged value fails the load or becomes NULL (and is counted), as the
user chose; nothing flagged is ever written as something else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert import build_conversion
from arrowferry.convert.fast import FAST_ERRORS, FastPath, fast_path
from arrowferry.dialects.sqlite import READ_TYPES, REAL_SUFFIX, ROWID
from arrowferry.errors import ConversionError, ReadTypeChanged
from arrowferry.options import OnBadValue
from arrowferry.plan import ColumnPlan, TablePlan

_BAD = "__bad_"


@dataclass
class _Column:
    plan: ColumnPlan
    source: str  # name in the read batch
    read_type: pa.DataType
    fast: FastPath | None
    value: pl.Expr
    bad: pl.Expr | None


@dataclass
class Transformer:
    plan: TablePlan
    on_bad_value: OnBadValue = "fail"
    nulled: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offset = 1 if self.plan.with_rowid else 0
        self.columns: list[_Column] = []
        for i, col in enumerate(self.plan.columns):
            name = f"c{i}"
            read_as = "text" if col.read_as == "numeric" else col.read_as  # merged on read
            conv = build_conversion(
                name,
                read_as,
                col.type,
                table=self.plan.source.name,
                decimal_scale=col.decimal_scale,
            )
            fast = None if col.validate else fast_path(read_as, col.type, col.arrow_type)
            self.columns.append(
                _Column(
                    col,
                    name,
                    READ_TYPES[col.read_as],
                    fast,
                    conv.value.alias(col.target),
                    None if conv.bad is None else conv.bad.alias(f"{_BAD}{i}"),
                )
            )
        self.schema = pa.schema([pa.field(c.target, c.arrow_type) for c in self.plan.columns])

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays: list[pa.Array | None] = []
        slow: list[int] = []
        read = [self._read(batch, i) for i in range(len(self.columns))]
        for i, col in enumerate(self.columns):
            array = read[i]
            if col.fast is not None:
                try:
                    arrays.append(_exact(col.fast(array), col.plan.arrow_type))
                    continue
                except FAST_ERRORS:
                    pass
            arrays.append(None)
            slow.append(i)
        if slow:
            for i, array in zip(slow, self._slow(batch, read, slow), strict=True):
                arrays[i] = array
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

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
        self, batch: pa.RecordBatch, read: list[pa.Array], indexes: list[int]
    ) -> list[pa.Array]:
        for i in indexes:
            if pa.types.is_string(read[i].type):
                self._check_utf8(batch, read[i], i)
        data = {self.columns[i].source: read[i] for i in indexes}
        if self.plan.with_rowid:
            data[ROWID] = batch.column(ROWID)
        frame = pl.from_arrow(pa.table(data))
        assert isinstance(frame, pl.DataFrame)
        flagged = [i for i in indexes if self.columns[i].bad is not None]
        exprs = [self.columns[i].value for i in indexes]
        exprs += [self.columns[i].bad for i in flagged]  # type: ignore[misc]
        out = frame.select(exprs)
        if flagged:
            out = self._handle_bad(out, frame, flagged)
        return [
            _exact(
                out.get_column(self.columns[i].plan.target).to_arrow(),
                self.columns[i].plan.arrow_type,
            )
            for i in indexes
        ]

    def _handle_bad(
        self, out: pl.DataFrame, frame: pl.DataFrame, flagged: list[int]
    ) -> pl.DataFrame:
        counts = out.select(pl.col([f"{_BAD}{i}" for i in flagged]).sum()).row(0)
        fixes = []
        for i, count in zip(flagged, counts, strict=True):
            if not count:
                continue
            col = self.columns[i].plan
            if self.on_bad_value == "fail":
                self._fail(out, frame, i)
            if not self.plan.target.columns[i].nullable:
                self._fail(
                    out, frame, i, note="; the column is NOT NULL, so it cannot be stored as NULL"
                )
            self.nulled[col.target] = self.nulled.get(col.target, 0) + int(count)
            fixes.append(
                pl.when(pl.col(f"{_BAD}{i}"))
                .then(None)
                .otherwise(pl.col(col.target))
                .alias(col.target)
            )
        return out.with_columns(fixes) if fixes else out

    def _fail(self, out: pl.DataFrame, frame: pl.DataFrame, i: int, note: str = "") -> None:
        col = self.columns[i].plan
        index = out.get_column(f"{_BAD}{i}").arg_true()[0]
        value = frame.get_column(self.columns[i].source)[index]
        row = self._row_key(frame, index)
        raise ConversionError(
            f"table {self.plan.source.name!r}, column {col.source!r}, row {row}: value {_show(value)} "
            f"cannot be stored exactly as {col.ddl} (read as SQLite {col.read_as}){note}; fix the "
            "value, map the column to another type with type_mappings, or pass on_bad_value='null'",
            table=self.plan.source.name,
            column=col.source,
            row=row,
            value=value,
        )

    def _row_key(self, frame: pl.DataFrame, index: int) -> Any:
        if self.plan.with_rowid:
            return frame.get_column(ROWID)[index]
        return f"#{index + 1} of its batch (WITHOUT ROWID table)"

    def _check_utf8(self, batch: pa.RecordBatch, array: pa.Array, i: int) -> None:
        """SQLite never validates TEXT, and Polars assumes valid UTF-8 (driver-traps.md 11)."""
        try:
            array.validate(full=True)
            return
        except pa.ArrowInvalid:
            pass
        col = self.columns[i].plan
        raw = array.view(pa.binary())
        for index, value in enumerate(raw.to_pylist()):  # error path only: name the row
            if value is None:
                continue
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                row = batch.column(0)[index].as_py() if self.plan.with_rowid else index
                raise ConversionError(
                    f"table {self.plan.source.name!r}, column {col.source!r}, row {row}: value "
                    f"{value[:40]!r} is not valid UTF-8 text, which PostgreSQL text cannot hold "
                    "(map the column to bytea with type_mappings to keep the bytes)",
                    table=self.plan.source.name,
                    column=col.source,
                    row=row,
                    value=value,
                ) from None


def _exact(array: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == target:
        return array
    if isinstance(target, pa.BaseExtensionType):
        storage = array if array.type == target.storage_type else array.cast(target.storage_type)
        return pa.ExtensionArray.from_storage(target, storage)
    return array.cast(target)  # safe cast: raises rather than truncating


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
