"""The shape every conversion builder returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from arrowferry.dialects.sqlite import ReadAs

__all__ = ["Conversion", "ReadAs", "as_arrow_type", "failed"]


@dataclass(frozen=True)
class Conversion:
    """``value`` computes the target value; ``bad`` is true where it cannot.

    ``name`` says what the conversion does, for the plan and the ledger; ``interpreted``
    says which values it read by a rule rather than as written.
    """

    value: pl.Expr
    bad: pl.Expr | None
    name: str
    reason: str = "cannot be converted exactly"
    recheck: Callable[[str], bool] | None = None  # a slower second opinion on flagged text
    # (kind, true where the value was read by an interpretation of its stored form, e.g. a
    # number read as a julian day): counted for the ledger where the value is written
    interpreted: tuple[tuple[str, pl.Expr], ...] = ()


def failed(source: pl.Expr, result: pl.Expr) -> pl.Expr:
    """A value was there and the conversion produced nothing: it did not convert."""
    return source.is_not_null() & result.is_null()


def as_arrow_type(array: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    """A converted column as the exact Arrow type it is written as (an extension type
    such as arrow.json wraps its storage). The cast is safe: it raises rather than
    truncating, so a kernel whose output does not fit is a bug found, never a value lost."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == target:
        return array
    if isinstance(target, pa.BaseExtensionType):
        storage = array if array.type == target.storage_type else array.cast(target.storage_type)
        return pa.ExtensionArray.from_storage(target, storage)
    return array.cast(target)
