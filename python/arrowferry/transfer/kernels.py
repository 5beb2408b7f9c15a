"""A planned table as the bad-value policy sees it: each column's kernel (chosen by
:func:`arrowferry.convert.dispatch.column_kernel` for any pair) and how the table names
its rows (a SQLite source's rowid, with a lookup of the row as stored, or its key). The
:class:`~arrowferry.transfer.transform.Transformer` sees kernels and a :class:`Table`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from arrowferry.convert.column import ColumnKernel, Converted, Read
from arrowferry.convert.dispatch import column_kernel
from arrowferry.dialects import sqlite
from arrowferry.dialects.sqlite import ROWID
from arrowferry.errors import ArrowferryError
from arrowferry.plan import TablePlan

Lookup = Callable[[int], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Table:
    """A table as the bad-value policy sees it."""

    name: str  # what errors call it
    kernels: tuple[ColumnKernel, ...]
    rowid: str | None  # the batch column holding each row's rowid (None: no rowid)
    key: tuple[str, ...]  # source columns that name a row without a rowid
    # a row as the source stores it, by rowid (an error names the stored value, not the
    # value as read: a CAST's text, a double); None when it cannot be looked up
    stored: Lookup | None = None


def for_plan(
    plan: TablePlan | Table,
    *,
    strip_nul: bool = False,
    replace_invalid_utf8: bool = False,
    source: Path | None = None,
) -> Table:
    """The kernels of a planned table (a :class:`Table` built by hand is taken as it is)."""
    if isinstance(plan, Table):
        return plan
    if plan.native is not None:  # a same-kind copy with a transform: values as stored
        return _as_stored(plan)
    if any(c.kernel is not None for c in plan.columns):
        return _typed(plan)
    return _from_sqlite(plan, strip_nul, replace_invalid_utf8, source)


def _from_sqlite(
    plan: TablePlan, strip_nul: bool, replace_invalid_utf8: bool, source: Path | None
) -> Table:
    name = plan.source.name
    tracked = plan.class_tracked
    kernels = tuple(
        column_kernel(
            i,
            col,
            table=name,
            nullable=plan.target.columns[i].nullable,
            classes=i in tracked,
            strip_nul=strip_nul,
            replace_invalid_utf8=replace_invalid_utf8,
            fixed=plan.target.name if plan.existing else None,
        )
        for i, col in enumerate(plan.columns)
    )
    pk = plan.source.primary_key
    stored = None
    if source is not None and plan.rowid is not None:
        stored = _stored_rows(source, name, plan.rowid)
    return Table(
        name,
        kernels,
        ROWID if plan.with_rowid else None,
        pk.columns if pk is not None else (),
        stored,
    )


def _stored_rows(path: Path, table: str, rowid: str) -> Lookup:
    def lookup(row: int) -> dict[str, Any] | None:
        try:
            return sqlite.fetch_rows(path, table, rowid, [row]).get(row)
        except (ArrowferryError, sqlite3.Error):
            return None

    return lookup


class AsStored:
    """A column of a copy between databases of one kind, moved as it is stored: nothing to
    convert, no bad value of its own (a user's transform may still give one)."""

    name = "copied as stored"
    output_type: pa.DataType | None = None

    def __init__(self, index: int, source: str, target: str, nullable: bool, ddl: str) -> None:
        self.source, self.target, self.nullable = source, target, nullable
        self.stored_as = f" as {ddl}"
        self.read: Callable[[pa.RecordBatch], Read] = lambda batch: Read(batch.column(index))

    def convert(self, read: Read) -> Converted:
        return Converted(read.values)

    def reason(self, value: Any, because: str | None) -> str:
        return "cannot be stored as it is"


def _as_stored(plan: TablePlan) -> Table:
    kernels: tuple[ColumnKernel, ...] = tuple(
        AsStored(i, col.source, col.target, plan.target.column(col.target).nullable, col.ddl)
        for i, col in enumerate(plan.columns)
    )
    return Table(plan.name, kernels, None, plan.key)


def _typed(plan: TablePlan) -> Table:
    kernels = tuple(
        # the target's column is NOT NULL as the source's was
        column_kernel(
            i, col, table=plan.source.name, nullable=plan.source.column(col.source).nullable
        )
        for i, col in enumerate(plan.columns)
    )
    return Table(plan.name, kernels, None, plan.key)
