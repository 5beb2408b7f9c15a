"""The plan's data: what each table and column becomes, and the finishing statements.

One model for every pair of databases: a column says how the source reads it, how it
is converted and what the target declares; a table carries the DDL the target dialect
rendered and its finishing statements. Built by the planners, read by the pipeline; a
dry run prints them (``MigrationPlan.to_dict``), in the same shape for every pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.convert.to_sqlite import NOT_STORABLE, Kernel
from arrowferry.dialects.base import Statement as Statement
from arrowferry.dialects.facts import ColumnProfile
from arrowferry.model import DataType, Table
from arrowferry.wording import plural

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class ColumnPlan:
    """How one column travels: read as, converted by, arrives as."""

    source: str
    target: str
    declared: str  # the source's declared type
    type: DataType  # the neutral type it lands as
    # how the source reads it: a SQLite source's ReadAs ("integer", "real", "text", "blob",
    # "numeric"); a PostgreSQL source's "binary" (as stored) or "text" (its text form)
    read_as: str
    arrow_type: pa.DataType | None  # what the target is sent (None: what the kernel gives)
    ddl: str  # the type the target declares
    decimal_scale: int = 0
    profile: ColumnProfile | None = None
    cast: bool = True  # read through CAST(col AS <read_as>) rather than as stored
    validate: bool = False  # skip the fast path: every value through the strict checks
    enforce_length: bool = False  # a varchar(n) kept as declared: longer text is a bad value
    widened: str | None = None  # how the declared size was widened to fit the data
    lossy: tuple[str, ...] = ()  # steps of the journey that may change a value (the ledger)
    select: str | None = None  # the expression a PostgreSQL source reads
    kernel: Kernel | None = None  # an Arrow kernel for typed values; None: by target kind
    limit: tuple[int, int] | None = None  # DECIMAL(p,s) chosen by a type mapping: enforced
    server_cast: bool = False  # sent as its text form, cast by the target server
    labels: tuple[str, ...] | None = None  # the only values it takes (an enum's labels)
    transform: Any = None  # the user's change to its values (arrowferry.transforms), or None

    @property
    def max_length(self) -> int | None:
        """The length the converter holds text to (None: the server's business)."""
        return self.type.length if self.enforce_length and self.type.kind == "text" else None

    @property
    def decimal_as_text(self) -> bool:
        """Values wider than any Arrow decimal travel as text the server casts."""
        return (
            self.type.kind == "decimal"
            and self.arrow_type is not None
            and pa.types.is_string(self.arrow_type)
        )

    @property
    def staged(self) -> bool:
        """Sent as text into a staging table, and cast by the server into place."""
        return self.server_cast or self.decimal_as_text

    @property
    def travels_as(self) -> str:
        """What the plan shows of the column's transport."""
        if self.decimal_as_text:
            return (
                "exact decimal text, cast to numeric by PostgreSQL "
                "(its values span more digits than an Arrow decimal holds)"
            )
        return str(self.arrow_type)

    @property
    def not_storable(self) -> str:
        """Why a value of an Arrow-kernel column is a bad value."""
        base = NOT_STORABLE.get(self.kernel or "")
        if self.limit is None:
            return base or "cannot be stored exactly"
        precision, scale = self.limit
        fit = (
            f"does not fit {self.ddl} (--type-map): once rounded to "
            f"{plural(scale, 'decimal place')} it needs more than "
            f"{plural(precision - scale, 'integer digit')}"
        )
        return fit if base is None else f"{fit}; or {base}"

    def read_as_text(self) -> ColumnPlan:
        """The exact path for a column whose values surprised the fast read."""
        if self.read_as == "blob":
            return replace(self, validate=True)
        if self.type.kind == "decimal":  # text for text, shortest round-trip text for REALs
            return replace(self, read_as="numeric", cast=True)
        return replace(self, read_as="text", cast=True)


@dataclass
class TablePlan:
    source: Table
    target: Table  # as the target declares it (names, neutral types, keys)
    columns: tuple[ColumnPlan, ...]
    rows: int
    schema: str  # the target schema ("main" for SQLite)
    create_sql: str  # CREATE TABLE, as the target dialect rendered it
    defaults: dict[str, str] = field(default_factory=dict)  # target column -> default SQL
    rowid: str | None = None  # how a SQLite source's rowid is reached; None: no rowid
    finish: list[Statement] = field(default_factory=list)
    # a PostgreSQL source: read ordered by a single integer key, split into key ranges
    order_by: tuple[str, ...] = ()
    only: bool = True  # read without inheriting tables' rows (a partitioned table: whole)
    key: tuple[str, ...] = ()  # primary key columns (source names): reject records name rows by it
    load_sql: str | None = None  # CREATE TABLE for the load when it differs (no AUTOINCREMENT)
    sequence: int | None = None  # AUTOINCREMENT high-water mark carried into SQLite
    # a copy between databases of one dialect: the source dialect's own reading of the
    # table (its CREATE statement, the columns that take data); values go as stored
    native: Any = None
    existing: bool = False  # data_only: the target's own table, whose types are not ours

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def with_rowid(self) -> bool:
        return self.rowid is not None

    @property
    def class_tracked(self) -> frozenset[int]:
        """Columns whose CAST read also yields each value's storage class: text or
        bytes made from another class is an interpretation, counted in the ledger."""
        return frozenset(
            i
            for i, c in enumerate(self.columns)
            if c.cast
            and c.read_as in {"text", "blob"}
            and c.type.kind in {"text", "blob"}
            # a profile that saw only the target's own class proves there is nothing to
            # count (the class column costs ~0.1 s per million rows)
            and (c.profile is None or not c.profile.only(c.type.kind))
        )

    def with_column(self, index: int, column: ColumnPlan) -> TablePlan:
        """This plan with one column's travel changed (and the DDL following its type)."""
        columns = list(self.columns)
        columns[index] = column
        target_cols = list(self.target.columns)
        target_cols[index] = replace(target_cols[index], type=column.type)
        return replace(
            self, columns=tuple(columns), target=replace(self.target, columns=tuple(target_cols))
        )

    def column_index(self, target_name: str) -> int:
        for i, col in enumerate(self.columns):
            if col.target == target_name:
                return i
        raise KeyError(target_name)


@dataclass
class MigrationPlan:
    target_schema: str
    tables: list[TablePlan]
    finish: list[Statement]  # every finishing statement, in the order they are met
    warnings: list[str]
    date_forms: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # tables that cannot be read at all (by source name): each is that table's error
    failed: dict[str, str] = field(default_factory=dict)
    source_schema: str | None = None  # a source with schemas: the one read
    prepare: list[Statement] = field(default_factory=list)  # before any table (types...)
    inexact_views: dict[str, list[str]] = field(default_factory=dict)  # view -> ledger notes
    # data_only: source columns the target table has no column for (--ignore-missing-columns)
    left_behind: dict[str, list[str]] = field(default_factory=dict)
    # --identifiers other than quote: the policy and every name it changed (old -> new)
    identifiers: dict[str, Any] = field(default_factory=dict)
    hooks: Any = None  # before_sql, after_sql: arrowferry.hooks.Hooks (the statements, read)

    def to_dict(self) -> dict[str, Any]:
        tables = [
            table_dict(
                t.source.name,
                t.target.name,
                t.rows,
                t.create_sql,
                [_column_json(self, t, c) for c in t.columns],
            )
            for t in self.tables
        ]
        for entry, t in zip(tables, self.tables, strict=True):
            if t.source.name in self.left_behind:
                entry["left_behind"] = list(self.left_behind[t.source.name])
        failed = [{"table": name, "message": text} for name, text in self.failed.items()]
        extra: dict[str, Any] = {}
        if self.source_schema is not None:
            extra["source_schema"] = self.source_schema
        if self.identifiers:
            extra["identifiers"] = self.identifiers
        if self.hooks is not None and self.hooks.to_dict():
            extra["hooks"] = self.hooks.to_dict()
        return plan_dict(
            self.target_schema, tables, self.finish, self.warnings, **extra, failed=failed
        )

    def to_polars(self) -> dict[str, pl.DataFrame]:
        """The plan as polars DataFrames: ``tables``, ``columns`` (source type, target
        type, read as, sent as, lossy flags) and ``finish`` (see :mod:`arrowferry.look`)."""
        from arrowferry.look import plan_frames

        return plan_frames(self.to_dict())

    def __repr__(self) -> str:
        # a whole schema's plan is a notebook's page (120 kB for Chinook): the repr says how
        # much there is; _repr_html_, to_polars() and to_dict() show it
        failed = f", failed={sorted(self.failed)}" if self.failed else ""
        return (
            f"MigrationPlan(target_schema={self.target_schema!r}, tables={len(self.tables)}, "
            f"finish={len(self.finish)}, warnings={len(self.warnings)}{failed})"
        )

    def _repr_html_(self) -> str:
        from arrowferry.look_html import plan_html

        return plan_html(self.to_dict())


def _column_json(plan: MigrationPlan, table: TablePlan, c: ColumnPlan) -> dict[str, Any]:
    named: dict[str, Any] = {} if c.source == c.target else {"source": c.source}  # data_only
    if c.select is not None:  # read from a database that enforces its types
        return column_dict(
            c.target, c.declared, c.ddl, c.read_as, c.lossy, read_sql=c.select, **named
        )
    return column_dict(
        c.target,
        c.declared,
        c.ddl,
        c.read_as,
        c.lossy,
        travels_as=c.travels_as,
        storage_classes=list(c.profile.classes) if c.profile else [],
        profile=_profile_dict(c.profile),
        date_forms=plan.date_forms.get((table.name, c.target), {}),
        **named,
    )


# The plan as JSON (dry run, --json, MigrationResult.plan), the same shape both ways.


def plan_dict(
    target_schema: str,
    tables: list[dict[str, Any]],
    finish: Sequence[Statement],
    warnings: Sequence[str],
    **extra: Any,
) -> dict[str, Any]:
    return {
        **extra,
        "target_schema": target_schema,
        "tables": tables,
        "finish": [{"kind": s.kind, "table": s.table, "sql": s.sql} for s in finish],
        "warnings": list(warnings),
    }


def table_dict(
    source: str, target: str, rows: int, ddl: str, columns: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"source": source, "target": target, "rows": rows, "columns": columns, "ddl": ddl}


def column_dict(
    name: str,
    source_type: str,
    target_type: str,
    read_as: str,
    lossy: Sequence[str],
    *,
    storage_classes: list[str] | None = None,
    profile: dict[str, int] | None = None,
    date_forms: dict[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One column; ``storage_classes``, ``profile`` and ``date_forms`` describe a SQLite
    source's values (empty for a PostgreSQL source, whose types are enforced)."""
    return {
        "name": name,
        "source_type": source_type,
        "target_type": target_type,
        "read_as": read_as,
        **extra,
        "storage_classes": storage_classes or [],
        "profile": profile or {},
        "date_forms": date_forms or {},
        "lossy": list(lossy),
    }


def _profile_dict(profile: ColumnProfile | None) -> dict[str, int]:
    if profile is None:
        return {}
    counts = {
        "integer": profile.integers,
        "real": profile.reals,
        "text": profile.texts,
        "blob": profile.blobs,
        "null": profile.nulls,
    }
    return {k: v for k, v in counts.items() if v}
