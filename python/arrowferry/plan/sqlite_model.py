"""The plan types of a PostgreSQL -> SQLite migration: how each column travels, each
table's DDL and finishing statements, and the plan's JSON (the same shape as a
PostgreSQL-bound plan). Built by :class:`~arrowferry.plan.to_sqlite.SqlitePlanner`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arrowferry.convert.to_sqlite import NOT_STORABLE, Kernel
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import DataType, Table
from arrowferry.plan.model import Statement, column_dict, plan_dict, table_dict
from arrowferry.wording import plural


@dataclass(frozen=True)
class SqliteColumnPlan:
    """How one column travels: read from PostgreSQL as, converted by, declared as."""

    source: str
    target: str
    declared: str  # the PostgreSQL type, as format_type writes it
    type: DataType
    ddl: str  # the SQLite declared type
    select: str  # the expression read from PostgreSQL
    kernel: Kernel
    lossy: tuple[str, ...] = ()
    limit: tuple[int, int] | None = None  # DECIMAL(p,s) chosen by a type mapping: enforced

    @property
    def not_storable(self) -> str:
        """Why a value of this column is a bad value."""
        base = NOT_STORABLE.get(self.kernel)
        if self.limit is None:
            return base or "cannot be stored exactly"
        precision, scale = self.limit
        fit = (
            f"does not fit {self.ddl} (--type-map): once rounded to "
            f"{plural(scale, 'decimal place')} it needs more than "
            f"{plural(precision - scale, 'integer digit')}"
        )
        return fit if base is None else f"{fit}; or {base}"

    @property
    def read_as(self) -> str:
        return "binary" if self.select == quote_ident(self.source) else "text"


@dataclass
class SqliteTablePlan:
    source: Table
    name: str
    columns: tuple[SqliteColumnPlan, ...]
    rows: int
    create_sql: str
    load_sql: str  # create_sql, but an AUTOINCREMENT key without the keyword (added after)
    key: tuple[str, ...]  # primary key columns (source names): reject records name rows by it
    order_by: tuple[str, ...]  # read in rowid order when the key is the rowid
    only: bool = True  # read without inheriting tables' rows (a partitioned table: whole)
    finish: list[Statement] = field(default_factory=list)
    sequence: int | None = None  # AUTOINCREMENT high-water mark


@dataclass
class SqlitePlan:
    source_schema: str
    tables: list[SqliteTablePlan]
    finish: list[Statement]  # views, after every table
    warnings: list[str]
    inexact_views: dict[str, list[str]] = field(default_factory=dict)  # view -> ledger notes
    failed: dict[str, str] = field(default_factory=dict)  # table -> why it cannot be planned

    def to_dict(self) -> dict[str, Any]:
        """The same shape as a PostgreSQL-bound plan (``MigrationPlan.to_dict``)."""
        tables = [
            table_dict(
                t.source.name,
                t.name,
                t.rows,
                t.create_sql,
                [
                    column_dict(c.target, c.declared, c.ddl, c.read_as, c.lossy, read_sql=c.select)
                    for c in t.columns
                ],
            )
            for t in self.tables
        ]
        finish = [*(s for t in self.tables for s in t.finish), *self.finish]
        failed = [{"table": name, "message": text} for name, text in self.failed.items()]
        return plan_dict(
            "main", tables, finish, self.warnings, source_schema=self.source_schema, failed=failed
        )
