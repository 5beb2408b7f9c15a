"""The plan's data: what each table and column becomes, and the finishing statements.

Plain dataclasses, built by :class:`~arrowferry.plan.planner.Planner` and read by the
pipeline; a dry run prints them (``MigrationPlan.to_dict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from arrowferry.convert import ReadAs
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.postgresql.types import to_pg_ddl
from arrowferry.dialects.sqlite import ColumnProfile
from arrowferry.model import DataType, Table


@dataclass(frozen=True)
class ColumnPlan:
    """How one column travels: read as, converted by, arrives as."""

    source: str
    target: str
    declared: str
    type: DataType
    read_as: ReadAs
    arrow_type: pa.DataType
    decimal_scale: int = 0
    profile: ColumnProfile | None = None
    cast: bool = True  # read through CAST(col AS <read_as>) rather than as stored
    validate: bool = False  # skip the fast path: every value through the strict checks
    enforce_length: bool = False  # a varchar(n) kept as declared: longer text is a bad value
    widened: str | None = None  # how the declared size was widened to fit the data

    @property
    def max_length(self) -> int | None:
        """The length the converter holds text to (None: the server's business)."""
        return self.type.length if self.enforce_length and self.type.kind == "text" else None

    @property
    def decimal_as_text(self) -> bool:
        """Values wider than any Arrow decimal travel as text the server casts."""
        return self.type.kind == "decimal" and pa.types.is_string(self.arrow_type)

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
    def ddl(self) -> str:
        return to_pg_ddl(self.type)

    @property
    def lossy(self) -> list[str]:
        """Steps of this column's journey that may change a value (for the ledger)."""
        notes = [] if self.widened is None else [self.widened]
        kind = self.type.kind
        holds_reals = self.profile is None or self.profile.reals > 0
        if kind == "decimal" and holds_reals:
            notes.append(
                "REAL values are binary fractions: each is written as its shortest "
                "round-trip decimal text"
            )
            if "NUM" in self.declared.upper() or "DEC" in self.declared.upper():
                notes.append(
                    "SQLite already stored numeric text that did not fit a 64-bit "
                    "integer as REAL when it was written; digits lost then cannot be recovered"
                )
        if kind == "decimal" and self.type.precision is not None:
            notes.append(
                f"PostgreSQL rounds to {self.type.scale or 0} decimal places "
                "(half away from zero) and refuses values wider than the precision"
            )
        if kind in {"timestamp", "date"}:
            notes.append(
                "ISO text with an offset or 'Z' is converted to UTC and the offset dropped; "
                "julian-day numbers are rounded to the millisecond"
            )
        if kind == "timestamptz":
            notes.append(
                "ISO text without an offset is read as UTC (what SQLite's date functions "
                "write); julian-day numbers are rounded to the millisecond"
            )
        if kind == "float32":
            notes.append("values are rounded to single precision")
        if kind == "float64" and (self.profile is None or self.profile.integers > 0):
            notes.append("integers beyond 2**53 in this column become the nearest double")
        if kind == "blob" and (self.profile is None or not self.profile.only("blob")):
            notes.append(
                "text and numbers stored in this BLOB column become the bytes of their text"
            )
        return notes

    def read_as_text(self) -> ColumnPlan:
        """The exact path for a column whose values surprised the fast read."""
        if self.read_as == "blob":
            return replace(self, validate=True)
        if self.type.kind == "decimal":  # text for text, shortest round-trip text for REALs
            return replace(self, read_as="numeric", cast=True)
        return replace(self, read_as="text", cast=True)


@dataclass
class Statement:
    """A finishing statement and what it does, for the plan and the summary."""

    kind: str  # vacuum, key_index, index, primary_key, unique, check, foreign_key, sequence, view, analyze
    sql: str
    table: str | None
    name: str
    fallback_sql: str | None = None  # e.g. the NOT VALID form of a foreign key
    fallback_note: str = "existing rows violate it"  # why the fallback was needed
    depends: tuple[str, ...] = ()  # target tables that must have loaded
    requires: str | None = None  # a statement (by name) that must have fully succeeded
    diagnose_sql: str | None = None  # (count, examples) of the rows that need the fallback


@dataclass
class TablePlan:
    source: Table
    target: Table
    columns: tuple[ColumnPlan, ...]
    rows: int
    schema: str
    defaults: dict[str, str]
    rowid: str | None  # how the source's rowid is reached (sqlite.rowid_alias); None: no rowid
    finish: list[Statement] = field(default_factory=list)

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

    @property
    def create_sql(self) -> str:
        return pg.create_table_sql(self.schema, self.target, self.defaults)

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
    finish: list[Statement]
    warnings: list[str]
    date_forms: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # tables that cannot be read at all (by source name): each is that table's error
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tables = [
            table_dict(
                t.source.name,
                t.target.name,
                t.rows,
                t.create_sql,
                [
                    column_dict(
                        c.target,
                        c.declared,
                        c.ddl,
                        c.read_as,
                        c.lossy,
                        travels_as=c.travels_as,
                        storage_classes=list(c.profile.classes) if c.profile else [],
                        profile=_profile_dict(c.profile),
                        date_forms=self.date_forms.get((t.name, c.target), {}),
                    )
                    for c in t.columns
                ],
            )
            for t in self.tables
        ]
        failed = [{"table": name, "message": text} for name, text in self.failed.items()]
        return plan_dict(self.target_schema, tables, self.finish, self.warnings, failed=failed)


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
