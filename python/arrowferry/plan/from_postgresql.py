"""PostgreSQL as the source of a plan: introspect one schema and measure it in a
snapshot of its own, and read each column so it lands as the target's type.

PostgreSQL enforces its declared types, so a column's neutral type is its declared
one as the reader produces it (``read_type``); what a target needs beyond the schema
(row counts, sequence positions, decimals too wide for a double, domains, enum labels,
constant defaults evaluated, what calls the database's own functions) is measured once
into :class:`~arrowferry.dialects.facts.SourceFacts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import Column, DataType, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import MigrationPlan
from arrowferry.plan.select import no_tables_note, select_tables
from arrowferry.plan.sides import Existing, Read, SourceDefault, Survey
from arrowferry.plan.sqlite_views import user_calls
from arrowferry.urls import Endpoint


class PostgresSourceSide:
    """The source side of a plan from one PostgreSQL schema."""

    dialect = dialect_named("postgresql")

    @contextmanager
    def survey(
        self,
        endpoint: Endpoint,
        options: MigrationOptions,
        existing: Callable[[Sequence[Table]], Existing],
    ) -> Iterator[Survey]:
        """Row counts are for the plan and progress; the load counts what it reads."""
        conn = pgread.connect_snapshot(endpoint)
        try:
            schema_name = options.source_schema
            pgread.check_schema(conn, schema_name, endpoint)
            schema = pg.introspect(conn, schema_name)
            materialized = pgread.materialized_views(conn, schema_name)
            if options.materialize_views:
                held = [
                    pg.materialized_view_table(conn, schema_name, name)
                    for name, populated in materialized.items()
                    if populated
                ]
                schema = replace(schema, tables=schema.tables + tuple(held))
            tables = select_tables(schema, options.include_tables, options.exclude_tables)
            if not tables:
                schema = replace(
                    schema, notes=(*schema.notes, no_tables_note(endpoint, schema_name))
                )
            # a table the login may not read is that table's error, as an unreadable
            # SQLite table is: the others are planned (and copied with --continue-on-error)
            facts, failed, notes = pgread.source_facts(
                conn, schema_name, tables, materialized, estimate=options.incremental
            )
        finally:
            pgread.end_snapshot(conn)
        schema = replace(schema, notes=(*schema.notes, *notes))
        yield Survey(
            self.dialect,
            schema,
            tables,
            facts,
            failed=failed,
            source_schema=schema_name,
            existing=existing(tables),
        )

    def value_type(self, table: Table, col: Column, survey: Survey) -> tuple[DataType, str | None]:
        return pgread.read_type(col.type), None

    def read(self, table: Table, col: Column, dtype: DataType, survey: Survey) -> Read:
        if col.type.kind == "interval" and dtype.kind == "int64":
            # into an integer column (Django's DurationField): exact microseconds, a
            # month counted as 30 days and a year as 365.25, as PostgreSQL's epoch counts
            q = quote_ident(col.name)
            return Read("binary", False, f"(extract(epoch from {q}) * 1000000)::bigint")
        select = pgread.select_expression(col.name, pgread.read_type(col.type))
        return Read("binary" if select == quote_ident(col.name) else "text", False, select)

    def rowid(self, table: Table) -> str | None:
        return None

    def default(self, table: Table, col: Column, survey: Survey) -> SourceDefault | None:
        """The column's own default, else its domain's; a constant one comes evaluated."""
        facts = survey.facts
        default = pgread.effective_default(col, facts.domains)
        if default is None:
            return None
        domain = facts.domains.get(col.declared)
        owners: list[tuple[str, ...]] = []
        if col.default is not None:
            owners.append(("default", table.name, col.name))
        owners += [("domain", t) for t in (domain.chain if domain and not owners else ())]
        calls = next((c for c in (user_calls(facts, o) for o in owners) if c), "")
        if calls:
            return SourceDefault("dropped", default, reason=calls)
        value = facts.defaults.get(table.name, {}).get(col.name)
        if value is not None:
            return SourceDefault("stored", default, value=value)
        return SourceDefault("expression", default)

    def complete(self, plan: MigrationPlan, survey: Survey, options: MigrationOptions) -> None:
        """Nothing to add: the snapshot's facts are in the plan already."""


SIDE = PostgresSourceSide()
