"""A column kernel: what turns one column of a batch as read into the column as written,
for any (source, target) pair. The bad-value policy (``transfer/transform.py``) sees
only this interface.

A kernel reads its column from the batch (``read``), then converts it:

* ``convert(read)`` returns the column as written, a mask of values that cannot be
  stored exactly, and which values were read by a rule (the ledger's kinds); or None,
  when the batch needs the kernel's exact path (a :class:`PolarsKernel`).
* The exact paths of every such column of a batch run as ONE Polars ``select``
  (:func:`convert_columns`): Polars spreads the expressions over the cores, and one
  frame is built once, where a select per column would pay both per column.
* ``reason(value, because)`` says why a value is bad and what would keep it (an error
  path only), ``name`` what the kernel does (the plan and the ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl
import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Read:
    """A column as read: ``values`` is what reject records and errors show."""

    values: pa.Array
    extra: pa.Array | None = None  # the kernel's own (SQLite: each value's storage class)


@dataclass(frozen=True, slots=True)
class Converted:
    """A column as written, and what the policy and the ledger need to know of it."""

    array: pa.Array
    bad: np.ndarray | None = None  # True where a value cannot be stored exactly
    # per kind: True where a value was read by an interpretation of its stored form
    why: Mapping[str, np.ndarray] = field(default_factory=dict)
    cleaned: int = 0  # values cleaned on the way (NUL bytes dropped, bad UTF-8 replaced)
    # bad values with a reason of their own, by code (the others have the kernel's)
    because: Mapping[str, np.ndarray] = field(default_factory=dict)
    given: pa.Array | None = None  # what a user's transform gave, before it was held to the type


Reader = Callable[[pa.RecordBatch], Read]


class ColumnKernel(Protocol):
    """One planned column's conversion, and the names the policy reports it by."""

    source: str  # the column in the source: reject records and errors name it
    target: str  # the column in the target: counters and the ledger name it
    nullable: bool  # the target column takes NULL (``on_bad_value="null"``)
    name: str  # what the conversion does, for the plan and the ledger
    output_type: pa.DataType | None  # the Arrow type written (None: as converted)
    stored_as: str  # follows "cannot be stored" in an error: " exactly as numeric(10,2)"
    read: Reader

    def convert(self, read: Read) -> Converted | None: ...

    def reason(self, value: Any, because: str | None) -> str: ...


@runtime_checkable
class PolarsKernel(ColumnKernel, Protocol):
    """A kernel whose exact path is Polars expressions over one input column, run with
    every other such column of the batch in one ``select``."""

    column: str  # the input column's name in that frame
    exprs: tuple[pl.Expr, ...]  # their output names are unique across the kernels

    def prepare(self, read: Read) -> Converted: ...

    def collect(self, out: pl.DataFrame, read: Read, prepared: Converted) -> Converted: ...


def convert_columns(kernels: Sequence[ColumnKernel], reads: Sequence[Read]) -> list[Converted]:
    """Every column of a batch: each kernel's own call, then one Polars pass for the rest."""
    done = [kernel.convert(read) for kernel, read in zip(kernels, reads, strict=True)]
    slow = [i for i, converted in enumerate(done) if converted is None]
    if slow:
        exact = iter(_polars_pass([_exact(kernels[i]) for i in slow], [reads[i] for i in slow]))
        done = [c if c is not None else next(exact) for c in done]
    return [converted for converted in done if converted is not None]


def _exact(kernel: ColumnKernel) -> PolarsKernel:
    if not isinstance(kernel, PolarsKernel):
        raise TypeError(f"column {kernel.source!r}: its kernel has no exact path to defer to")
    return kernel


def _polars_pass(kernels: Sequence[PolarsKernel], reads: Sequence[Read]) -> list[Converted]:
    prepared = [kernel.prepare(read) for kernel, read in zip(kernels, reads, strict=True)]
    frame = pl.from_arrow(
        pa.table({k.column: p.array for k, p in zip(kernels, prepared, strict=True)})
    )
    assert isinstance(frame, pl.DataFrame)
    out = frame.select([e for kernel in kernels for e in kernel.exprs])
    return [
        kernel.collect(out, read, ready)
        for kernel, read, ready in zip(kernels, reads, prepared, strict=True)
    ]
