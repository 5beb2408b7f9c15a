"""Which kernel each planned column takes, and how the table names its rows.

A column planned with an Arrow ``kernel`` (values a typed source read exactly) takes
:class:`~arrowferry.convert.to_sqlite.SqliteColumn`; one planned by its target type
from a source that does not enforce its declared types (SQLite's storage classes) takes
:class:`~arrowferry.convert.exact.ExactColumn`, its strict interpretation. The
:class:`~arrowferry.transfer.transform.Transformer` sees kernels and a :class:`Table`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from arrowferry.convert.column import ColumnKernel
from arrowferry.convert.exact import ExactColumn
from arrowferry.convert.reading import positional, sqlite_column
from arrowferry.convert.to_sqlite import SqliteColumn
from arrowferry.dialects import sqlite
from arrowferry.dialects.sqlite import READ_TYPES, ROWID, ReadAs
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
    if any(c.kernel is not None for c in plan.columns):
        return _typed(plan)
    return _from_sqlite(plan, strip_nul, replace_invalid_utf8, source)


def _from_sqlite(
    plan: TablePlan, strip_nul: bool, replace_invalid_utf8: bool, source: Path | None
) -> Table:
    name = plan.source.name
    tracked = plan.class_tracked
    kernels = tuple(
        ExactColumn(
            i,
            sqlite_column(
                name,
                i,
                READ_TYPES[col.read_as],
                numeric=col.read_as == "numeric",
                classes=i in tracked,
            ),
            table=name,
            source=col.source,
            target=col.target,
            nullable=plan.target.columns[i].nullable,
            read_as=cast(ReadAs, "text" if col.read_as == "numeric" else col.read_as),  # merged
            target_type=col.type,
            arrow_type=col.arrow_type,
            ddl=col.ddl,
            decimal_scale=col.decimal_scale,
            decimal_as_text=col.decimal_as_text,
            max_length=col.max_length,
            validate=col.validate,
            strip_nul=strip_nul,
            replace_invalid_utf8=replace_invalid_utf8,
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


def _typed(plan: TablePlan) -> Table:
    kernels = tuple(
        SqliteColumn(
            positional(i),
            table=plan.source.name,
            source=col.source,
            target=col.target,
            # SQLite's column is NOT NULL as PostgreSQL's was
            nullable=plan.source.column(col.source).nullable,
            kind=col.type.kind,
            kernel=col.kernel or "same",
            limit=col.limit,
            not_storable=col.not_storable,
        )
        for i, col in enumerate(plan.columns)
    )
    return Table(plan.name, kernels, None, plan.key)
