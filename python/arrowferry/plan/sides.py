"""The two halves of every cross-dialect plan, and what passes between them.

The one :class:`~arrowferry.plan.planner.Planner` asks a **source side** what the
source holds (:class:`Survey`: its schema, the facts every target understands, and, for
a source that does not enforce its declared types, each column's profile), what a
column's values are in neutral terms, how to read a column so it lands as a given type,
and what a column's default is. It asks a **target side** how a column is stored there
(:class:`Storage`: declared type, Arrow type, kernel, limits, what may change a value),
how a table is created and finished, and what comes after every table.

Each dialect provides one of each (``from_<dialect>.py``, ``into_<dialect>.py``); the
planner does the rest once: table selection, names, type mappings, one failure per
table, warnings, and the plan. Neither side sees the other dialect: a source side
speaks neutral types and facts, a target side reads only those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from arrowferry.dialects.base import Dialect
from arrowferry.dialects.facts import SourceFacts
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.options import MigrationOptions
from arrowferry.urls import Endpoint

if TYPE_CHECKING:
    from arrowferry.dialects.facts import ColumnProfile
    from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
    from arrowferry.plan.names import TargetNames


@dataclass(frozen=True)
class Existing:
    """The target's own tables a data_only run writes into, as its catalog has them."""

    tables: Mapping[str, Table] = field(default_factory=dict)  # by source table name
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # enum type -> labels
    # (target table, column) -> the dimensions its array type was declared with, when
    # more than one (the declared type text says only "integer[]")
    dimensions: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def table(self, source_table: str) -> Table | None:
        return self.tables.get(source_table)


@dataclass
class Survey:
    """What a source side read for a plan, in terms any target side understands."""

    dialect: Dialect  # whose SQL the schema's defaults, CHECKs and views are written in
    schema: Schema
    tables: list[Table]  # the tables selected for the run
    facts: SourceFacts
    # a source that does not enforce declared types: what each column holds, measured
    profiles: Mapping[str, Mapping[str, ColumnProfile]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # table -> why it cannot be read
    source_schema: str | None = None
    existing: Existing = field(default_factory=Existing)  # data_only: the target's tables
    connection: Any = None  # the source side's own, open while the plan is made

    def profile(self, table: str, column: str) -> ColumnProfile | None:
        return self.profiles.get(table, {}).get(column)

    def known_profile(self, table: str, column: str) -> ColumnProfile | None:
        """The profile when it counted the column's storage classes (not only its sizes)."""
        profile = self.profile(table, column)
        return profile if profile is not None and profile.classes_known else None


@dataclass(frozen=True)
class Read:
    """How the source reads a column so it lands as the planned type."""

    # the Arrow kind the source produces: a ReadAs of SQLite, "binary" or "text" of PostgreSQL
    read_as: str
    cast: bool = False  # a CAST in the source's SQL (SQLite)
    select: str | None = None  # the source's select expression, when not the bare column


@dataclass(frozen=True)
class SourceDefault:
    """A column's default as the source gives new rows, in neutral terms.

    ``stored``: a constant as the source stores it (SQLite: its storage class, value and
    text; a typed source: the value read as the column's values are, in ``value``);
    ``clock``: the current date/time/timestamp (``clock`` names which);
    ``expression``: SQL in the source's dialect, to translate;
    ``dropped``: no other database can compute it (``reason`` says why).
    """

    kind: Literal["stored", "clock", "expression", "dropped"]
    sql: str
    value: Any = None
    storage: str | None = None  # SQLite storage class of a stored constant
    text: bytes | None = None  # its text form, as SQLite would CAST it
    clock: str | None = None
    reason: str = ""


@dataclass
class Storage:
    """How a target stores a column: decided from neutral facts, never from the source."""

    type: DataType  # the neutral type the values land as
    ddl: str  # the declared type in the target's dialect
    arrow: pa.DataType | None = None  # the exact Arrow type the writer takes (None: the kernel's)
    scale: int = 0  # a decimal's scale in Arrow
    kernel: str | None = None  # the conversion kernel (a SQLite target's)
    limit: tuple[int, int] | None = None  # (precision, scale) the target does not enforce
    lossy: tuple[str, ...] = ()
    widened: str | None = None
    enforce_length: bool = True
    server_cast: bool = False  # sent as text the target server casts (an enum, a domain)
    labels: tuple[str, ...] | None = None  # the only values it takes (an enum's labels)


class SourceSide(Protocol):
    """What the planner asks the source's dialect."""

    dialect: Dialect

    def survey(
        self,
        endpoint: Endpoint,
        options: MigrationOptions,
        existing: Callable[[Sequence[Table]], Existing],
    ) -> AbstractContextManager[Survey]:
        """Introspect and measure; open while the plan is made. ``existing(tables)``:
        the target's own tables the rows go into (data_only), so a column landing in
        one is measured for its type."""

    def value_type(self, table: Table, col: Column, survey: Survey) -> tuple[DataType, str | None]:
        """The neutral type of the column's values (and a note when the data decided it)."""

    def read(self, table: Table, col: Column, dtype: DataType, survey: Survey) -> Read:
        """How to read the column so it lands as ``dtype``."""

    def rowid(self, table: Table) -> str | None:
        """How the source reaches a table's rowid (SQLite); None: it has none."""

    def default(self, table: Table, col: Column, survey: Survey) -> SourceDefault | None:
        """The column's default for new rows; None: none."""

    def complete(self, plan: MigrationPlan, survey: Survey, options: MigrationOptions) -> None:
        """What only the source can add to the finished plan (notes, a dry run's forms)."""


class TargetSide(Protocol):
    """What the planner asks the target's dialect."""

    dialect: Dialect

    def start(
        self, survey: Survey, options: MigrationOptions, names: TargetNames, warnings: list[str]
    ) -> list[Table]:
        """A new plan begins (the side keeps what it needs); the tables it can hold."""

    def forget(self, table: str) -> None:
        """``table`` failed: it will not be there (foreign keys to it are left out)."""

    def existing(
        self, target: Endpoint | None, tables: Sequence[Table], options: MigrationOptions
    ) -> Existing:
        """data_only: the target's own tables the source tables go into."""

    def storage(
        self,
        table: Table,
        col: Column,
        dtype: DataType,
        override: str | None,
        target_name: str,
    ) -> Storage:
        """How the column is stored, given its values' type and a user's type mapping."""

    def table_plan(
        self,
        table: Table,
        target_name: str,
        columns: Sequence[ColumnPlan],
        names: Mapping[str, str],
    ) -> TablePlan:
        """The table's plan: its DDL, its defaults and its finishing statements."""

    def finish(self, plans: Sequence[TablePlan]) -> list[Statement]:
        """Every statement after the load, in order (the tables' own and the views)."""

    def plan(
        self, plans: list[TablePlan], finish: list[Statement], warnings: list[str]
    ) -> MigrationPlan:
        """The migration plan of ``plans``."""
