"""The plan: every decision of a migration, made before anything is written.

Source schema + storage-class profile + options -> for each table the target name,
each column's target type, how it is read from SQLite and converted, the DDL, and the
finishing statements (keys, indexes, checks, foreign keys, sequences, views). A dry run
prints this and stops; a real run executes exactly this.

``model`` holds the plan's dataclasses; ``planner`` makes the decisions, with
``columns`` (types, reads, Arrow types), ``names`` (PostgreSQL identifiers) and
``finishing`` (the statements after the load).
"""

from __future__ import annotations

from arrowferry.dialects.base import dialect_for, dialect_named
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.native import plan_copy
from arrowferry.plan.planner import Planner, plan_from_sqlite
from arrowferry.plan.select import select_tables
from arrowferry.plan.to_sqlite import plan_into_sqlite
from arrowferry.urls import Endpoint

__all__ = [
    "ColumnPlan",
    "MigrationPlan",
    "Planner",
    "Statement",
    "TablePlan",
    "plan_migration",
    "select_tables",
]


def plan_migration(
    source: Endpoint, target: Endpoint | None, options: MigrationOptions
) -> MigrationPlan:
    """The plan of a run from ``source`` into ``target`` (None: the embedded PostgreSQL).

    Between two databases of one dialect the source's own definitions are kept
    (``native``); across dialects the target's planner decides, from the source's
    neutral schema, how each column lands.
    """
    src = dialect_for(source)
    dst = dialect_for(target) if target is not None else dialect_named("postgresql")
    if src is dst:
        return plan_copy(src, source, options)
    if dst.name == "postgresql":
        return plan_from_sqlite(source, target, options)
    return plan_into_sqlite(source, options)
