"""The plan: every decision of a migration, made before anything is written.

Source schema + storage-class profile + options -> for each table the target name,
each column's target type, how it is read from SQLite and converted, the DDL, and the
finishing statements (keys, indexes, checks, foreign keys, sequences, views). A dry run
prints this and stops; a real run executes exactly this.

``model`` holds the plan's dataclasses; ``planner`` makes the decisions, with
``columns`` (types, reads, Arrow types), ``names`` (PostgreSQL identifiers) and
``finishing`` (the statements after the load).
"""

from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.planner import Planner, select_tables

__all__ = ["ColumnPlan", "MigrationPlan", "Planner", "Statement", "TablePlan", "select_tables"]
