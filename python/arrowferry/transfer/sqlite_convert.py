"""One PostgreSQL -> SQLite table's batches as read -> as written: each column through
its kernel, a type-mapped DECIMAL(p,s) held to its size, representation changes counted
for the ledger, and the bad-value policy (fail, null, reject) applied."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert.to_sqlite import OUTPUT_TYPES, convert, over_limit, representation_changes
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.errors import ConversionError, TransferError
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import ColumnPlan, TablePlan
from arrowferry.transfer.interpret import EXAMPLED
from arrowferry.transfer.rejects import Problem, RejectedRow
from arrowferry.transfer.remedies import sqlite_remedy


@dataclass
class ConvertedBatch:
    data: pa.RecordBatch
    rejected: list[RejectedRow] = field(default_factory=list)


class TableConverter:
    """One table's batches as read -> as written, with the bad-value policy applied."""

    def __init__(self, table: TablePlan, options: MigrationOptions) -> None:
        self.table = table
        self.policy = options.on_bad_value
        self.bad_counts: dict[str, int] = {}
        self.rows_read = 0
        self.schema: pa.Schema | None = None
        self.lock = threading.Lock()
        # per target column: values whose representation SQLite changes (for the ledger)
        self.interpreted: dict[str, dict[str, int]] = {}
        self.examples: dict[str, list[Any]] = {}

    def __call__(self, batch: pa.RecordBatch) -> ConvertedBatch:
        arrays: list[pa.Array] = []
        masks: dict[int, np.ndarray] = {}
        for i, col in enumerate(self.table.columns):
            converted = convert(col.kernel or "same", batch.column(i))
            arrays.append(converted.array)
            bad = converted.bad
            if col.limit is not None:
                over = over_limit(batch.column(i), *col.limit)
                if over is not None:
                    bad = over if bad is None else bad | over
            if bad is not None:
                masks[i] = bad
        changed = self._changed(batch, masks)
        with self.lock:  # lanes convert side by side
            self.rows_read += batch.num_rows
            for i, mask in masks.items():
                name = self.table.columns[i].target
                self.bad_counts[name] = self.bad_counts.get(name, 0) + int(mask.sum())
            self._count(batch, changed)
        rejected: list[RejectedRow] = []
        if masks:
            arrays, keep, rejected = self._apply_policy(batch, arrays, masks)
            if keep is not None:
                arrays = [a.filter(keep) for a in arrays]
        out = pa.RecordBatch.from_arrays(arrays, schema=self._schema(arrays))
        return ConvertedBatch(out, rejected)

    def _changed(
        self, batch: pa.RecordBatch, masks: dict[int, np.ndarray]
    ) -> dict[int, dict[str, np.ndarray]]:
        """Per column and kind, where a value that is written changes representation."""
        kept = np.ones(batch.num_rows, dtype=bool)
        if masks and self.policy == "reject":
            for mask in masks.values():
                kept &= ~mask
        out: dict[int, dict[str, np.ndarray]] = {}
        for i, col in enumerate(self.table.columns):
            found = representation_changes(col.type.kind, batch.column(i))
            for kind, flags in found.items():
                flags &= kept & ~masks.get(i, np.zeros(batch.num_rows, dtype=bool))
                if flags.any():
                    out.setdefault(i, {})[kind] = flags
        return out

    def _count(self, batch: pa.RecordBatch, changed: dict[int, dict[str, np.ndarray]]) -> None:
        for i, kinds in changed.items():
            name = self.table.columns[i].target
            counts = self.interpreted.setdefault(name, {})
            for kind, flags in kinds.items():
                counts[kind] = counts.get(kind, 0) + int(flags.sum())
                if kind in EXAMPLED:
                    seen = self.examples.setdefault(f"{name}\x00{kind}", [])
                    for row in np.flatnonzero(flags)[: max(0, 3 - len(seen))]:
                        seen.append(batch.column(i)[int(row)].as_py())

    def _schema(self, arrays: list[pa.Array]) -> pa.Schema:
        with self.lock:
            if self.schema is None:
                self.schema = self._first_schema(arrays)
        for f, array in zip(self.schema, arrays, strict=True):
            if array.type != f.type:  # a batch of another type would bind another class
                raise TransferError(
                    f"table {self.table.name!r}, column {f.name!r}: a batch arrived as Arrow "
                    f"{array.type}, not {f.type}",
                    table=self.table.name,
                )
        return self.schema

    def _first_schema(self, arrays: list[pa.Array]) -> pa.Schema:
        fields = []
        for col, array in zip(self.table.columns, arrays, strict=True):
            wanted = OUTPUT_TYPES[col.kernel or "same"] or array.type
            if wanted not in sqlw.WRITABLE:
                raise TransferError(
                    f"table {self.table.name!r}, column {col.target!r}: read as Arrow "
                    f"{array.type}, which SQLite cannot bind exactly",
                    table=self.table.name,
                )
            fields.append(pa.field(col.target, wanted))
        return pa.schema(fields)

    def _apply_policy(
        self, batch: pa.RecordBatch, arrays: list[pa.Array], masks: dict[int, np.ndarray]
    ) -> tuple[list[pa.Array], pa.Array | None, list[RejectedRow]]:
        columns = self.table.columns
        if self.policy == "fail":
            self._fail(batch, *next(iter(masks.items())))
        if self.policy == "null":
            for i, mask in masks.items():
                if not self.table.source.column(columns[i].source).nullable:
                    # SQLite's own refusal would name neither the row nor the value
                    self._fail(
                        batch,
                        i,
                        mask,
                        "; the column is NOT NULL, so --on-bad-value null cannot keep the row: "
                        "fix the value, or pass --on-bad-value reject",
                    )
                arrays[i] = pc.if_else(pa.array(mask), pa.scalar(None, arrays[i].type), arrays[i])
            return arrays, None, []
        any_bad = np.zeros(batch.num_rows, dtype=bool)
        for mask in masks.values():
            any_bad |= mask
        rejected = []
        names = [c.source for c in columns]
        for row in (int(r) for r in np.flatnonzero(any_bad)):
            values = {n: batch.column(j)[row].as_py() for j, n in enumerate(names)}
            problems = [
                Problem(columns[i].source, values[columns[i].source], self._reason(columns[i]))
                for i, mask in masks.items()
                if mask[row]
            ]
            rejected.append(RejectedRow(None, self._key(batch, row), problems, values))
        return arrays, pa.array(~any_bad), rejected

    def _reason(self, column: ColumnPlan) -> str:
        hint = sqlite_remedy(self.table.source.name, column.source, column.kernel or "same")
        return column.not_storable + hint

    def _fail(
        self,
        batch: pa.RecordBatch,
        i: int,
        mask: np.ndarray,
        note: str = "; otherwise fix the value, or pass --on-bad-value reject (or null)",
    ) -> NoReturn:
        col = self.table.columns[i]
        row = int(np.flatnonzero(mask)[0])
        key = self._key(batch, row)
        value = batch.column(i)[row].as_py()
        raise ConversionError(
            f"table {self.table.name!r}, column {col.source!r}, row {key or row}: "
            f"value {value!r} cannot be stored: {self._reason(col)}{note}",
            table=self.table.name,
            column=col.source,
            row=key or row,
            value=value,
        )

    def _key(self, batch: pa.RecordBatch, row: int) -> dict[str, Any]:
        index = {c.source: i for i, c in enumerate(self.table.columns)}
        return {k: batch.column(index[k])[row].as_py() for k in self.table.key}
