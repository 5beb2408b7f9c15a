"""One table's batches as read -> as written, for any pair, under one bad-value policy.

Each column goes through its kernel (``convert/column.py``; which one, per planned
column, in ``transfer/kernels.py``): a clean batch costs one strict call per column,
and the columns that need their exact path share one Polars pass. A value a kernel
flags is never written as something else: the load stops (``fail``, with an error
naming table, column, row and value), the value becomes NULL (``null``; a NOT NULL
column stops the load instead) or its whole row goes to the reject file (``reject``),
and every case is counted, as are values cleaned and values read by a rule (the
ledger's ``interpreted``). Lanes may share one transformer (``convert`` is
thread-safe), or keep one each and ``absorb`` the others' counters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert.column import Converted, Read, convert_columns
from arrowferry.errors import ConversionError, TransferError
from arrowferry.options import OnBadValue
from arrowferry.plan import TablePlan
from arrowferry.transfer.interpret import EXAMPLED
from arrowferry.transfer.kernels import Table, for_plan
from arrowferry.transfer.rejects import Problem, RejectedRow
from arrowferry.transforms import BECAUSE, Applied

Transformed = tuple[pa.RecordBatch, list[RejectedRow]]  # a batch as written, its rejected rows
_FIX = "; otherwise fix the value, or pass --on-bad-value reject (or null)"
# the database's own refusal would name neither the row nor the value
_NOT_NULL = (
    "; the column is NOT NULL, so --on-bad-value null cannot keep the row: "
    "fix the value, or pass --on-bad-value reject"
)


@dataclass
class Transformer:
    """A table's batches through its column kernels and the bad-value policy.

    ``plan``: a planned table of either direction (or a :class:`Table` of kernels);
    ``writable``: the Arrow types the target binds exactly, checked on the first batch,
    ``target_name`` naming that target in the error.
    """

    plan: TablePlan | Table
    on_bad_value: OnBadValue = "reject"
    _: KW_ONLY
    replace_invalid_utf8: bool = False
    strip_nul: bool = False
    source: Path | None = None  # the SQLite file: an error names a value as it is stored
    # the Arrow types the target binds exactly (None: whatever the kernels write)
    writable: Callable[[pa.DataType], bool] | None = None
    target_name: str = "the target"
    rows_read: int = field(default=0, init=False)
    bad_counts: dict[str, int] = field(default_factory=dict, init=False)  # per target column
    cleaned: dict[str, int] = field(default_factory=dict, init=False)
    # per target column and kind: values written through an interpretation of their stored form
    interpreted: dict[str, dict[str, int]] = field(default_factory=dict, init=False)
    examples: dict[str, list[Any]] = field(default_factory=dict, init=False)  # a few values
    rejected: list[RejectedRow] = field(default_factory=list, init=False)  # of ``__call__``

    def __post_init__(self) -> None:
        self.table = for_plan(
            self.plan,
            strip_nul=self.strip_nul,
            replace_invalid_utf8=self.replace_invalid_utf8,
            source=self.source,
        )
        self.kernels = self.table.kernels
        # the user's transforms (arrowferry.transforms), by kernel: one per planned column
        given = [c.transform for c in self.plan.columns] if isinstance(self.plan, TablePlan) else []
        self.user = Applied.for_columns(self.table.name, self.kernels, given)
        self._lock = threading.Lock()  # lanes convert side by side
        self._checked = False  # the first batch's types were held to ``writable``
        types = [k.output_type for k in self.kernels]
        # known before any batch when every kernel says what it writes
        self.schema: pa.Schema | None = None
        if all(t is not None for t in types):
            self.schema = pa.schema(
                [pa.field(k.target, t) for k, t in zip(self.kernels, types, strict=True)]
            )

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """:meth:`convert`, keeping the rejected rows in ``rejected`` for the caller to drain
        (for one caller at a time)."""
        out, rejected = self.convert(batch)
        self.rejected.extend(rejected)
        return out

    def convert(self, batch: pa.RecordBatch) -> Transformed:
        """The batch as written, and the rows it rejected."""
        reads = [kernel.read(batch) for kernel in self.kernels]
        done = convert_columns(self.kernels, reads)
        if self.user:
            done = self.user.apply(self.kernels, done)
        bad = {i: c.bad for i, c in enumerate(done) if c.bad is not None and c.bad.any()}
        with self._lock:
            self._count(batch, reads, done, bad)
        arrays = [c.array for c in done]
        rejected: list[RejectedRow] = []
        if bad:
            arrays, rejected = self._apply_policy(batch, reads, done, arrays, bad)
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema(arrays)), rejected

    def absorb(self, other: Transformer) -> None:
        """Add the counters of a transformer that worked on other chunks of the same table."""
        with self._lock:
            self.rows_read += other.rows_read
            for mine, theirs in (
                (self.bad_counts, other.bad_counts),
                (self.cleaned, other.cleaned),
            ):
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
        return next(k.name for k in self.kernels if k.target == target)

    # --- counters (under the lock) --------------------------------------------------

    def _count(
        self,
        batch: pa.RecordBatch,
        reads: list[Read],
        done: list[Converted],
        bad: dict[int, np.ndarray],
    ) -> None:
        self.rows_read += batch.num_rows
        for kernel, converted in zip(self.kernels, done, strict=True):
            if converted.cleaned:
                name = kernel.target
                self.cleaned[name] = self.cleaned.get(name, 0) + converted.cleaned
        for i, flags in bad.items():
            name = self.kernels[i].target
            self.bad_counts[name] = self.bad_counts.get(name, 0) + int(flags.sum())
        if any(flags.any() for c in done for flags in c.why.values()):
            self._count_interpreted(batch.num_rows, reads, done, bad)

    def _count_interpreted(
        self, rows: int, reads: list[Read], done: list[Converted], bad: dict[int, np.ndarray]
    ) -> None:
        """Count, per column, the values written through an interpretation: not NULL,
        not bad, and (when bad values reject their rows) in a row that is written."""
        kept = np.ones(rows, dtype=bool)
        if bad and self.on_bad_value == "reject":
            for flags in bad.values():
                kept &= ~flags
        for i, converted in enumerate(done):
            if not converted.why:
                continue
            values = reads[i].values
            written = kept & values.is_valid().to_numpy(zero_copy_only=False)
            if i in bad:
                written &= ~bad[i]
            target = self.kernels[i].target
            for kind, flags in converted.why.items():
                hits = flags & written
                count = int(hits.sum())
                if not count:
                    continue
                counts = self.interpreted.setdefault(target, {})
                counts[kind] = counts.get(kind, 0) + count
                if kind in EXAMPLED:
                    seen = self.examples.setdefault(f"{target}\x00{kind}", [])
                    for index in np.flatnonzero(hits)[: max(0, 3 - len(seen))]:
                        seen.append(_value(values, int(index)))

    # --- the output schema ----------------------------------------------------------

    def _schema(self, arrays: list[pa.Array]) -> pa.Schema:
        """The first batch fixes (or confirms) the schema; every later one must match it:
        a batch of another type would be written as something else."""
        if not self._checked:
            with self._lock:
                if not self._checked:
                    self.schema = self._first_schema(arrays)
                    self._checked = True
        assert self.schema is not None
        for f, array in zip(self.schema, arrays, strict=True):
            if array.type != f.type:
                raise TransferError(
                    f"table {self.table.name!r}, column {f.name!r}: a batch arrived as Arrow "
                    f"{array.type}, not {f.type}",
                    table=self.table.name,
                )
        return self.schema

    def _first_schema(self, arrays: list[pa.Array]) -> pa.Schema:
        fields = []
        for kernel, array in zip(self.kernels, arrays, strict=True):
            wanted = kernel.output_type or array.type
            if self.writable is not None and not self.writable(wanted):
                raise TransferError(
                    f"table {self.table.name!r}, column {kernel.target!r}: read as Arrow "
                    f"{array.type}, which {self.target_name} cannot bind exactly",
                    table=self.table.name,
                )
            fields.append(pa.field(kernel.target, wanted))
        return pa.schema(fields)

    # --- what happens to a value that does not convert ------------------------------

    def _apply_policy(
        self,
        batch: pa.RecordBatch,
        reads: list[Read],
        done: list[Converted],
        arrays: list[pa.Array],
        bad: dict[int, np.ndarray],
    ) -> tuple[list[pa.Array], list[RejectedRow]]:
        if self.on_bad_value == "fail":
            # the first bad row, and its first bad column: what the reader meets first
            index, i = min((int(np.argmax(flags)), i) for i, flags in bad.items())
            self._fail(batch, reads, done, i, index, _FIX)
        if self.on_bad_value == "null":
            for i, flags in sorted(bad.items()):
                if not self.kernels[i].nullable:
                    self._fail(batch, reads, done, i, int(np.argmax(flags)), _NOT_NULL)
                arrays[i] = _null_where(arrays[i], flags)
            return arrays, []
        rows = np.zeros(batch.num_rows, dtype=bool)
        for flags in bad.values():
            rows |= flags
        rejected = self._rejects(batch, reads, done, bad, rows)
        keep = pa.array(~rows)
        return [pc.filter(a, keep) for a in arrays], rejected

    def _rejects(
        self,
        batch: pa.RecordBatch,
        reads: list[Read],
        done: list[Converted],
        bad: dict[int, np.ndarray],
        rows: np.ndarray,
    ) -> list[RejectedRow]:
        """Each rejected row: its rowid or key, its problems, and (without a rowid to
        fetch it by) the whole row as read."""
        table = self.table
        positions = np.flatnonzero(rows)
        rowids = (
            batch.column(table.rowid).take(pa.array(positions)).to_pylist()
            if table.rowid is not None
            else None
        )
        columns = {k.source: i for i, k in enumerate(self.kernels)}
        out = []
        for n, index in enumerate(positions.tolist()):
            problems = []
            for i, flags in sorted(bad.items()):
                if flags[index]:
                    value = _value(reads[i].values, index)
                    reason = self._reason(done, i, index, value)
                    problems.append(Problem(self.kernels[i].source, value, reason))
            key = {c: _value(reads[columns[c]].values, index) for c in table.key}
            row = (
                None
                if rowids is not None
                else {k.source: _value(reads[i].values, index) for i, k in enumerate(self.kernels)}
            )
            out.append(RejectedRow(rowids[n] if rowids is not None else None, key, problems, row))
        return out

    @staticmethod
    def _because(done: list[Converted], i: int, index: int) -> str | None:
        """The code of a bad value's own reason (None: the kernel's)."""
        return next((code for code, mask in done[i].because.items() if mask[index]), None)

    def _reason(self, done: list[Converted], i: int, index: int, value: Any) -> str:
        because = self._because(done, i, index)
        given = done[i].given
        if because == BECAUSE and given is not None:
            return self.user.reason(i, given[index].as_py(), self.kernels[i])
        return self.kernels[i].reason(value, because)

    def _row(self, batch: pa.RecordBatch, reads: list[Read], index: int) -> Any:
        """How an error names a row: its rowid, else its key, else its place."""
        table = self.table
        if table.rowid is not None:
            return batch.column(table.rowid)[index].as_py()
        if table.key:
            columns = {k.source: i for i, k in enumerate(self.kernels)}
            return {c: _value(reads[columns[c]].values, index) for c in table.key}
        return f"#{index + 1} of its batch"

    def _fail(
        self,
        batch: pa.RecordBatch,
        reads: list[Read],
        done: list[Converted],
        i: int,
        index: int,
        tail: str,
    ) -> NoReturn:
        kernel = self.kernels[i]
        row = self._row(batch, reads, index)
        value = _value(reads[i].values, index)
        if isinstance(row, int) and self.table.stored is not None:
            value = (self.table.stored(row) or {}).get(kernel.source, value)
        name = self.table.name
        reason = self._reason(done, i, index, value)
        said = (
            reason  # names the transform, and what it gave instead of the stored value
            if self._because(done, i, index) == BECAUSE
            else f"value {_show(value)} cannot be stored{kernel.stored_as}: {reason}"
        )
        raise ConversionError(
            f"table {name!r}, column {kernel.source!r}, row {row}: {said}{tail}",
            table=name,
            column=kernel.source,
            row=row,
            value=value,
        )


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
