"""The plan of a copy between two databases of the same dialect.

Between two databases of the same dialect every definition is kept as its source
wrote it: the source dialect reads its own definitions (``read_native``: the CREATE
statements, the keys, indexes, sequences, views and comments, and notes on what it
cannot carry), and every column is copied as it is stored, with no conversion and so
no bad value. The rows still take the one pipeline: Arrow batches read by the source
dialect, written by the target dialect's bulk path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from arrowferry.dialects.base import Dialect, Statement
from arrowferry.model import Schema, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import ColumnPlan, MigrationPlan, TablePlan
from arrowferry.plan.select import no_tables_note
from arrowferry.urls import Endpoint


def plan_copy(dialect: Dialect, source: Endpoint, options: MigrationOptions) -> MigrationPlan:
    """The plan of a copy into another database of the source's own dialect."""
    schema, native, rows = dialect.read_native(source, options)
    source_schema = options.source_schema if dialect.capabilities.schemas else None
    plan = plan_native(
        schema,
        schema.tables,
        native,
        rows,
        target_schema=options.target_schema if dialect.capabilities.schemas else "main",
        source_schema=source_schema,
        column_read=dialect.column_read,
        key_column=dialect.key_column,
    )
    if not schema.tables:  # said as every pair says it (a filter that left none raised)
        plan.warnings.append(no_tables_note(source, source_schema))
    return plan


def plan_native(
    schema: Schema,
    tables: Sequence[Table],
    native: Any,
    rows: Mapping[str, int],
    *,
    target_schema: str,
    source_schema: str | None,
    column_read: Any,
    key_column: Any,
) -> MigrationPlan:
    """``native``: the source dialect's reading of its own definitions (``tables`` by
    name, with ``before``, ``after``, ``last`` statements and ``notes``);
    ``column_read(column) -> (select expression, cast by the target server)``;
    ``key_column(table) -> the single integer key a large table is read in ranges by``."""
    plans = []
    by_name = {t.name: t for t in tables}
    for own in native.tables.values():  # in the order the source dialect creates them
        table = by_name.get(own.name) or own.table()
        columns = tuple(_column(table, name, column_read) for name in own.columns)
        key = key_column(table)
        pk = table.primary_key
        plans.append(
            TablePlan(
                source=table,
                target=Table(table.name, tuple(table.column(c.source) for c in columns), pk),
                columns=columns,
                rows=int(rows.get(table.name, 0)),
                schema=target_schema,
                create_sql=own.create_sql,
                order_by=(key,) if key is not None else (),
                key=pk.columns if pk is not None else (),
                only=not getattr(own, "partitioned", False),
                native=own,
            )
        )
    finish: list[Statement] = [*native.after, *native.last]
    return MigrationPlan(
        target_schema,
        plans,
        finish,
        list(native.notes),
        source_schema=source_schema,
        prepare=list(native.before),
    )


def _column(table: Table, name: str, column_read: Any) -> ColumnPlan:
    column = table.column(name)
    select, server_cast = column_read(column)
    return ColumnPlan(
        name,
        name,
        column.declared,
        column.type,
        "text" if server_cast else ("binary" if select is not None else "stored"),
        None,  # as read: nothing is converted
        column.declared,
        cast=False,
        select=select,
        kernel="same",
        server_cast=server_cast,
    )
