"""Convert one Arrow batch to the target's exact Arrow schema with Polars expressions.

One ``select`` computes every column's value and its "cannot convert" flag in a single
vectorised pass; a flagged value fails the load or becomes NULL (and is counted),
as the user chose. Nothing flagged is ever written as something else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from arrowferry.convert import build_conversion
from arrowferry.dialects.sqlite import ROWID
from arrowferry.errors import ConversionError
from arrowferry.options import OnBadValue
from arrowferry.plan import TablePlan

_BAD = "__bad_"


@dataclass
class Transformer:
    plan: TablePlan
    on_bad_value: OnBadValue = "fail"
    nulled: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offset = 1 if self.plan.with_rowid else 0
        self.values: list[pl.Expr] = []
        self.flags: list[pl.Expr] = []
        self.flagged: list[int] = []
        for i, col in enumerate(self.plan.columns):
            conv = build_conversion(
                f"c{i}",
                col.read_as,
                col.type,
                table=self.plan.source.name,
                decimal_scale=col.decimal_scale,
            )
            self.values.append(conv.value.alias(col.target))
            if conv.bad is not None:
                self.flags.append(conv.bad.alias(f"{_BAD}{i}"))
                self.flagged.append(i)
        self.schema = pa.schema([pa.field(c.target, c.arrow_type) for c in self.plan.columns])

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self._check_utf8(batch)
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        out = frame.select(self.values + self.flags)
        if self.flags:
            out = self._handle_bad(out, frame)
        return self._to_arrow(out.select([c.target for c in self.plan.columns]))

    def _handle_bad(self, out: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
        flag_cols = [f"{_BAD}{i}" for i in self.flagged]
        counts = out.select(pl.col(flag_cols).sum()).row(0)
        if not any(counts):
            return out
        fixes = []
        for i, count in zip(self.flagged, counts, strict=True):
            if not count:
                continue
            col = self.plan.columns[i]
            if self.on_bad_value == "fail":
                self._fail(out, frame, i)
            self.nulled[col.target] = self.nulled.get(col.target, 0) + int(count)
            fixes.append(
                pl.when(pl.col(f"{_BAD}{i}"))
                .then(None)
                .otherwise(pl.col(col.target))
                .alias(col.target)
            )
        return out.with_columns(fixes)

    def _fail(self, out: pl.DataFrame, frame: pl.DataFrame, i: int) -> None:
        col = self.plan.columns[i]
        index = out.get_column(f"{_BAD}{i}").arg_true()[0]
        value = frame.get_column(f"c{i}")[index]
        row = (
            frame.get_column(ROWID)[index]
            if self.plan.with_rowid
            else _key_of(frame, self.plan, index)
        )
        raise ConversionError(
            f"table {self.plan.source.name!r}, column {col.source!r}, row {row}: value {_show(value)} "
            f"cannot be stored exactly as {col.ddl} (read as SQLite {col.read_as}); fix the value, "
            "map the column to another type with type_mappings, or pass on_bad_value='null'",
            table=self.plan.source.name,
            column=col.source,
            row=row,
            value=value,
        )

    def _check_utf8(self, batch: pa.RecordBatch) -> None:
        """SQLite never validates TEXT; Arrow and Polars assume valid UTF-8 (driver-traps.md 11)."""
        for i, col in enumerate(self.plan.columns):
            if col.read_as != "text":
                continue
            array = batch.column(i + self.offset)
            try:
                array.validate(full=True)
            except pa.ArrowInvalid:
                self._fail_utf8(batch, i, array)

    def _fail_utf8(self, batch: pa.RecordBatch, i: int, array: pa.Array) -> None:
        col = self.plan.columns[i]
        raw = (
            array.view(pa.binary())
            if pa.types.is_string(array.type)
            else array.cast(pa.large_binary())
        )
        for index, value in enumerate(raw.to_pylist()):  # error path only: find the row to name
            if value is None:
                continue
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                row = batch.column(0)[index].as_py() if self.plan.with_rowid else index
                raise ConversionError(
                    f"table {self.plan.source.name!r}, column {col.source!r}, row {row}: value "
                    f"{value[:40]!r} is not valid UTF-8 text; PostgreSQL text cannot hold it "
                    "(map the column to bytea with type_mappings to keep the bytes)",
                    table=self.plan.source.name,
                    column=col.source,
                    row=row,
                    value=value,
                ) from None

    def _to_arrow(self, frame: pl.DataFrame) -> pa.RecordBatch:
        table = frame.to_arrow()
        arrays = []
        for field_, array in zip(self.schema, table.columns, strict=True):
            arrays.append(_exact(array, field_.type))
        return pa.RecordBatch.from_arrays(
            [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays],
            schema=self.schema,
        )


def _exact(array: pa.ChunkedArray, target: pa.DataType) -> Any:
    if isinstance(target, pa.BaseExtensionType):
        storage = array.cast(target.storage_type)
        return pa.chunked_array(
            [pa.ExtensionArray.from_storage(target, chunk) for chunk in storage.chunks], type=target
        )
    if array.type == target:
        return array
    return array.cast(target)  # safe cast: raises rather than truncating


def _key_of(frame: pl.DataFrame, plan: TablePlan, index: int) -> Any:
    pk = plan.source.primary_key
    if pk is None:
        return f"#{index}"
    positions = [plan.source.column_names.index(c) for c in pk.columns]
    values = tuple(frame.get_column(f"c{p}")[index] for p in positions)
    return values[0] if len(values) == 1 else values


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
