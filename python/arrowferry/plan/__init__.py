"""The plan: every decision of a migration, made before anything is written.

Source schema + what the source measured + options -> for each table the target name,
each column's target type, how it is read and converted, the DDL, and the finishing
statements (keys, indexes, checks, foreign keys, sequences, views). A dry run prints
this and stops; a real run executes exactly this.

``model`` holds the plan's dataclasses; ``planner`` is the one planner, which asks each
dialect's two sides (``sides``: ``from_<dialect>`` as the source, ``into_<dialect>`` as
the target) what depends on a database; ``names`` is the one name-claiming rule;
``native`` keeps every definition of a copy between two databases of one dialect.
"""

from __future__ import annotations

from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.planner import Planner, plan_migration
from arrowferry.plan.select import select_tables

__all__ = [
    "ColumnPlan",
    "MigrationPlan",
    "Planner",
    "Statement",
    "TablePlan",
    "plan_migration",
    "select_tables",
]
