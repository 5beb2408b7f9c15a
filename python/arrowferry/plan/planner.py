"""The one planner: every decision of a migration, made before anything is written.

Source schema + what the source measured + options -> for each table its target name,
each column's target type, how it is read and converted, the DDL, and the finishing
statements (keys, indexes, checks, foreign keys, sequences, views). A dry run prints
this and stops; a real run executes exactly this.

The planner does what is the same for every pair of dialects: the tables of the run,
names (one rule, :class:`~arrowferry.plan.names.TargetNames`), type mappings, one
failure per table, the warnings and the plan. What depends on a database it asks that
database's side (:mod:`arrowferry.plan.sides`): the source side what a column holds and
how to read it, the target side how to store it and what to create and finish. Between
two databases of one dialect the source's own definitions are kept (``native``).
"""

from __future__ import annotations

import importlib

from arrowferry.dialects.base import Dialect, dialect_for, dialect_named
from arrowferry.errors import ArrowferryError, BadInputError
from arrowferry.model import Column, Table
from arrowferry.options import MigrationOptions, type_map_hint
from arrowferry.plan.landing import landing_columns
from arrowferry.plan.model import ColumnPlan, MigrationPlan, TablePlan
from arrowferry.plan.names import TargetNames
from arrowferry.plan.native import plan_copy
from arrowferry.plan.sides import SourceSide, Survey, TargetSide
from arrowferry.types import TypeMappings
from arrowferry.urls import Endpoint

# each dialect's two planning sides, imported on first use
_SIDES = {
    "sqlite": ("arrowferry.plan.from_sqlite", "arrowferry.plan.into_sqlite"),
    "postgresql": ("arrowferry.plan.from_postgresql", "arrowferry.plan.into_postgresql"),
}


def source_side(dialect: Dialect) -> SourceSide:
    side: SourceSide = importlib.import_module(_SIDES[dialect.name][0]).SIDE
    return side


def target_side(dialect: Dialect, source: SourceSide) -> TargetSide:
    make = importlib.import_module(_SIDES[dialect.name][1]).Side
    side: TargetSide = make(source)
    return side


def plan_migration(
    source: Endpoint, target: Endpoint | None, options: MigrationOptions
) -> MigrationPlan:
    """The plan of a run from ``source`` into ``target`` (None: the embedded PostgreSQL)."""
    src = dialect_for(source)
    dst = dialect_for(target) if target is not None else dialect_named("postgresql")
    if src is dst:
        if options.identifiers != "quote":
            raise BadInputError(
                f"--identifiers {options.identifiers} renames what a run between two databases "
                f"of different kinds creates; a copy from {src.label} into {dst.label} keeps every "
                "definition as the source wrote it, names included (leave --identifiers out)"
            )
        if options.transforms and src.name == "sqlite":
            raise BadInputError(
                "transforms do not apply to a copy between two SQLite files: it moves every "
                "value with its own storage class, as bytes where SQLite holds text (leave "
                "--transform out, or copy through PostgreSQL)"
            )
        plan = plan_copy(src, source, options)
    else:
        reader = source_side(src)
        plan = Planner(reader, target_side(dst, reader), options).plan(source, target)
    if options.transforms:
        from arrowferry.transforms import attach

        attach(plan, options.transforms)
    return plan


class Planner:
    """Builds a :class:`MigrationPlan` from a source side and a target side."""

    def __init__(self, source: SourceSide, target: TargetSide, options: MigrationOptions) -> None:
        self.source = source
        self.target = target
        self.options = options
        self.mappings = TypeMappings(options.type_mappings)
        self.warnings: list[str] = []

    def plan(self, source: Endpoint, target: Endpoint | None) -> MigrationPlan:
        tables_there = lambda tables: self.target.existing(target, tables, self.options)  # noqa: E731
        with self.source.survey(source, self.options, tables_there) as survey:
            plan = self.build(survey)
            self.source.complete(plan, survey, self.options)
        return plan

    def build(self, survey: Survey) -> MigrationPlan:
        """The plan of the survey's tables. A problem confined to one table (found while
        measuring it, or while planning it) makes that table's error, never the others'."""
        self.survey = survey
        self.left_behind: dict[str, list[str]] = {}
        self.warnings = list(survey.schema.notes)
        self.names = TargetNames(self.target.dialect, self.warnings, self.options.identifiers)
        tables = self.target.start(survey, self.options, self.names, self.warnings)
        self.table_names = self.names.claim_tables(tables)
        failed = dict(survey.failed)
        plans = []
        for table in tables:
            if table.name in failed:
                continue
            try:
                plans.append(self._table(table))
            except ArrowferryError as err:
                failed[table.name] = err.message
                self.target.forget(table.name)
        for key in self.mappings.unused():
            self.warnings.append(f"type mapping {key!r} matched no column")
        plan = self.target.plan(plans, self.target.finish(plans), self.warnings)
        plan.failed = failed
        plan.left_behind = self.left_behind
        plan.identifiers = self.names.mapping()
        return plan

    def _table(self, table: Table) -> TablePlan:
        there = self.survey.existing.table(table.name)
        if there is None:
            names = self.names.column_names(table)
            target_name = self.table_names[table.name]
        else:  # data_only: the rows go into the target's own table, column by column
            names, left = landing_columns(table, there, self.options, self.warnings)
            if left:
                self.left_behind[table.name] = left
            target_name = there.name
        columns = tuple(
            self._column(table, c, names[c.name]) for c in table.columns if c.name in names
        )
        return self.target.table_plan(table, target_name, columns, names)

    def _column(self, table: Table, col: Column, target: str) -> ColumnPlan:
        survey = self.survey
        override = self.mappings.lookup(table.name, col.name, col.declared)
        dtype, held = self.source.value_type(table, col, survey)
        if held is not None and override is None:
            self.warnings.append(
                f"{held}, so it becomes {self.target.dialect.type_ddl(dtype)} "
                f"(override with {type_map_hint(table.name, col.name, 'TYPE')})"
            )
        storage = self.target.storage(table, col, dtype, override, target)
        read = self.source.read(table, col, storage.type, survey)
        return ColumnPlan(
            col.name,
            target,
            col.declared,
            storage.type,
            read.read_as,
            storage.arrow,
            storage.ddl,
            storage.scale,
            survey.known_profile(table.name, col.name),
            read.cast,
            enforce_length=storage.enforce_length,
            widened=storage.widened,
            lossy=storage.lossy,
            select=read.select,
            kernel=storage.kernel,  # type: ignore[arg-type]
            limit=storage.limit,
            server_cast=storage.server_cast,
            labels=storage.labels,
        )


__all__ = ["Planner", "plan_migration", "source_side", "target_side"]
