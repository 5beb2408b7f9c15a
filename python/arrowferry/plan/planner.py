"""The plan: every decision of a migration, made before anything is written.

Source schema + storage-class profile + options -> for each table the target name,
each column's target type, how it is read from SQLite and converted, the DDL, and the
finishing statements (keys, indexes, checks, foreign keys, sequences, views). A dry run
prints this and stops; a real run executes exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from arrowferry import decimals
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects import sqlite
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.dialects.sqlite import ColumnProfile, is_unresolved, rowid_alias
from arrowferry.dialects.sqlite.types import sqlite_affinity
from arrowferry.errors import ArrowferryError, BadInputError, SourceError
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.options import MigrationOptions, flag
from arrowferry.plan.columns import (
    arrow_type,
    choose_read,
    decimal_arrow,
    lossy_notes,
    type_from_profile,
)
from arrowferry.plan.defaults import translate_default
from arrowferry.plan.finishing import FinishingPlanner
from arrowferry.plan.model import ColumnPlan, MigrationPlan, TablePlan
from arrowferry.plan.names import RelationNames
from arrowferry.plan.select import select_tables
from arrowferry.types import TypeMappings
from arrowferry.urls import Endpoint
from arrowferry.wording import noun, plural


class Planner:
    """Builds a :class:`MigrationPlan` from a SQLite schema and its profile."""

    def __init__(
        self,
        schema: Schema,
        profiles: Mapping[str, tuple[int, Mapping[str, ColumnProfile]]],
        options: MigrationOptions,
        sequences: Mapping[str, int] | None = None,
        existing: Mapping[str, Mapping[str, DataType]] | None = None,
    ) -> None:
        self.schema = schema
        # data_only: each existing target column's type, by source table and target column
        self.existing = existing or {}
        self.profiles = profiles
        self.options = options
        self.sequences = dict(sequences or {})
        self.mappings = TypeMappings(options.type_mappings)
        self.warnings: list[str] = list(schema.notes)
        self.names = RelationNames(self.warnings)
        self.finishing = FinishingPlanner(
            schema,
            options.target_schema,
            self.names,
            self.warnings,
            self.sequences,
            options.create_views,
        )

    def build(
        self, tables: Sequence[Table], failed: Mapping[str, str] | None = None
    ) -> MigrationPlan:
        """The plan of ``tables``. A problem confined to one table (``failed``: found
        while profiling it) makes that table's error, never the others'."""
        self.names.check_table_names(tables)
        errors = dict(failed or {})
        plans = []
        for table in tables:
            if table.name in errors:
                continue
            try:
                plans.append(self._table(table))
            except ArrowferryError as err:
                errors[table.name] = err.message
        for key in self.mappings.unused():
            self.warnings.append(f"type mapping {key!r} matched no column")
        finish = self.finishing.assemble(plans)
        plan = MigrationPlan(self.options.target_schema, plans, finish, self.warnings)
        plan.failed = errors
        return plan

    # --- tables and columns ----------------------------------------------------------------

    def _table(self, table: Table) -> TablePlan:
        rows, profile = self.profiles[table.name]
        names = self.names.column_names(table)
        target_name = pg.truncate_identifier(table.name)
        columns = tuple(
            self._column(table, c, names[c.name], profile.get(c.name)) for c in table.columns
        )
        target_cols = tuple(
            replace(c, name=p.target, type=p.type, generated=None, collation=None)
            for c, p in zip(table.columns, columns, strict=True)
        )
        defaults = self._defaults(table, target_cols, columns)
        for col in table.columns:
            if col.generated:
                self.warnings.append(
                    f"column {table.name}.{col.name} is generated in SQLite ({col.generated}); "
                    "its values are copied as a plain column"
                )
            if col.collation and col.collation != "BINARY":
                self.warnings.append(
                    f"column {table.name}.{col.name}: SQLite collation {col.collation} has no "
                    "PostgreSQL equivalent; the column uses the database's default collation"
                )
        target = Table(target_name, target_cols)
        schema = self.options.target_schema
        plan = TablePlan(
            source=table,
            target=target,
            columns=columns,
            rows=rows,
            schema=schema,
            create_sql=pg.create_table_sql(schema, target, defaults),
            defaults=defaults,
            rowid=rowid_alias(table),
        )
        plan.finish = self.finishing.for_table(table, plan, names)
        return plan

    def _column(
        self, table: Table, col: Column, target: str, profile: ColumnProfile | None
    ) -> ColumnPlan:
        override = self.mappings.lookup(table.name, col.name, col.declared)
        if override is not None:
            dtype = parse_pg_type(override)
        elif is_unresolved(col):
            dtype, note = type_from_profile(table, col, profile or ColumnProfile())
            self.warnings.append(note)
        else:
            dtype = col.type
        # into an existing table (data_only) the size that holds is the target column's
        # own: a longer text or wider number than SQLite declared may fit it
        found = self.existing.get(table.name, {}).get(target)
        if (
            override is None
            and found is not None
            and found.kind == dtype.kind
            and dtype.kind in {"decimal", "text"}
        ):
            dtype = found
        # a size the user chose with type_mappings is kept; a declared one SQLite never
        # enforced follows size_limits, unless the table exists already (data_only)
        widen = (
            override is None and self.options.size_limits == "widen" and not self.options.data_only
        )
        declared, widened = dtype, None
        if profile is not None:
            dtype = self._sized(
                table, col, dtype, profile, widen=widen, mapped=override is not None
            )
            if dtype != declared:
                widened = f"widened from {col.declared} to {to_pg_ddl(dtype)}: " + (
                    f"{plural(profile.over_limit, 'value')} {noun(profile.over_limit, 'needs', 'need')} "
                    "more integer digits; none is changed by it"
                    if dtype.kind == "decimal"
                    else f"values of up to {profile.max_text_length} characters"
                )
            if not profile.classes_known:  # measured against its declared size only
                profile = None
        read_as, cast = choose_read(dtype, sqlite_affinity(col.declared), profile)
        scale = 0
        arrow = arrow_type(dtype)
        if dtype.kind == "decimal":
            arrow, scale = decimal_arrow(table, col, dtype, profile or ColumnProfile())
        return ColumnPlan(
            col.name,
            target,
            col.declared,
            dtype,
            read_as,
            arrow,
            to_pg_ddl(dtype),
            scale,
            profile,
            cast,
            enforce_length=not widen,
            widened=widened,
            lossy=lossy_notes(col.declared, dtype, profile, widened),
        )

    def _keeper(self, mapped: bool) -> str:
        """What keeps a declared size, for the warning."""
        if mapped:
            return "--type-map"
        if self.options.data_only:
            return flag("data_only") + " (the table exists)"
        return flag("size_limits", "enforce")

    def _sized(
        self,
        table: Table,
        col: Column,
        dtype: DataType,
        profile: ColumnProfile,
        *,
        widen: bool,
        mapped: bool,
    ) -> DataType:
        """A declared varchar(n) or numeric(p,s) the data outgrows: widened, or kept and
        named (its values then go through on_bad_value)."""
        where = f"column {table.name}.{col.name} is declared {col.declared}"
        if dtype.kind == "text" and dtype.length and profile.max_text_length > dtype.length:
            if widen:
                self.warnings.append(
                    f"{where} but holds values of up to {profile.max_text_length} characters; "
                    "it becomes text so nothing is truncated"
                )
                return DataType("text")
            self.warnings.append(
                f"{where} and holds values of up to {profile.max_text_length} characters; "
                f"{self._keeper(mapped)} keeps {to_pg_ddl(dtype)}: longer values are bad values "
                f"({flag('on_bad_value', self.options.on_bad_value)})"
            )
            return dtype
        if dtype.kind != "decimal" or dtype.precision is None or not profile.over_limit:
            return dtype
        if dtype != col.type:  # a type mapping chose it: the profile measured the declared type
            return dtype
        scale = dtype.scale or 0
        count = (
            f"{plural(profile.over_limit, 'value')} {noun(profile.over_limit, 'needs', 'need')} "
            f"more than {plural(dtype.precision - scale, 'integer digit')}"
        )
        rounding = f"once rounded to {plural(scale, 'decimal place')} as PostgreSQL rounds"
        if not widen:
            self.warnings.append(
                f"{where}; {count} {rounding}: {self._keeper(mapped)} keeps {to_pg_ddl(dtype)}, "
                f"so {noun(profile.over_limit, 'it is a bad value', 'they are bad values')} ({flag('on_bad_value', self.options.on_bad_value)})"
            )
            return dtype
        precision = profile.needed_digits + scale
        wider = (
            DataType("decimal", precision=precision, scale=scale)
            if precision <= decimals.PG_MAX_PRECISION
            else DataType("decimal")
        )
        self.warnings.append(
            f"{where} but {count} {rounding}; it becomes {to_pg_ddl(wider)} so nothing is lost"
            + ("" if wider.precision else " (past PostgreSQL's precision limit: no rounding)")
        )
        return wider

    def _defaults(
        self, table: Table, target_cols: Sequence[Column], plans: Sequence[ColumnPlan]
    ) -> dict[str, str]:
        defaults = {}
        for source, target, plan in zip(table.columns, target_cols, plans, strict=True):
            if source.default is None or target.identity:
                continue
            try:
                sql = translate_default(table.name, source, plan, self.warnings)
            except ValueError as err:
                self.warnings.append(
                    f"default {source.default} of {table.name}.{source.name} dropped: {err}"
                )
                continue
            if sql is not None:
                defaults[target.name] = sql
        return defaults


# --- the entry: a SQLite file into PostgreSQL -------------------------------------------


def plan_from_sqlite(
    source: Endpoint, target: Endpoint | None, options: MigrationOptions
) -> MigrationPlan:
    """SQLite into PostgreSQL: introspect and profile the file, decide everything."""
    path = source.path
    with sqlite.connect_metadata_ctx(path) as conn:
        note = sqlite.check_integrity(conn, path)
        schema = sqlite.introspect(conn)
        if note:
            schema = replace(schema, notes=(*schema.notes, note))
        tables = select_tables(schema, options.include_tables, options.exclude_tables)
        if not tables:
            raise BadInputError(f"{str(path)!r}: no tables to migrate")
        failed = {t.name: t.unreadable for t in tables if t.unreadable is not None}
        existing = existing_types(target, tables, options)
        profiles = {}
        for t in tables:
            if t.name in failed:
                continue
            # a column landing in an existing type is measured for that type
            landing = [c.name for c in t.columns if c.name in existing.get(t.name, {})]
            try:
                profiles[t.name] = sqlite.profile(
                    conn,
                    t.name,
                    list(dict.fromkeys([*_profiled_columns(t, options), *landing])),
                    _measured_columns(t, options) | set(landing),
                    sqlite.size_limits(t),
                )
            except SourceError as err:  # one table's problem, not the run's
                failed[t.name] = err.message
        sequences = sqlite.autoincrement_counters(conn)
        plan = Planner(schema, profiles, options, sequences, existing).build(tables, failed)
        planned = [t for t in tables if t.name not in plan.failed]
        plan.warnings.extend(sqlite.virtual_notes(conn, planned, options.target_schema))
        if options.dry_run:
            for table in plan.tables:
                for col in table.columns:
                    if col.type.kind in {"timestamp", "timestamptz", "date"}:
                        plan.date_forms[(table.name, col.target)] = sqlite.date_forms(
                            conn, table.source.name, col.source
                        )
    return plan


def _profiled_columns(table: Table, options: MigrationOptions) -> list[str]:
    """Columns whose plan needs their storage classes before the read.

    Everything else is read the fast way, and a surprise in the data makes the
    pipeline re-read that column exactly, so the profile costs no second scan of
    clean columns. A dry run profiles every column, to show it.
    """
    if options.dry_run:
        return list(table.column_names)
    mapped = _mapped_columns(table, options)
    return [c.name for c in table.columns if sqlite.needs_profile(c) or c.name in mapped]


def _measured_columns(table: Table, options: MigrationOptions) -> set[str]:
    return sqlite.needs_measures(table) | _mapped_columns(table, options)


def _mapped_columns(table: Table, options: MigrationOptions) -> set[str]:
    """Columns --type-map gives another type: the plan measures them as it measures
    a declared type of that kind (an unbounded numeric needs its values' widest
    magnitude, or a REAL of 123456789.5 would not fit its Arrow decimal)."""
    mappings = TypeMappings(options.type_mappings)
    return {c.name for c in table.columns if mappings.lookup(table.name, c.name, c.declared)}


def existing_types(
    target: Endpoint | None, tables: Sequence[Table], options: MigrationOptions
) -> dict[str, dict[str, DataType]]:
    """data_only into PostgreSQL: the existing target columns' types, by source table
    and column name (a declared size there, not SQLite's, is what a value must fit)."""
    if not options.data_only or target is None or target.dialect != "postgresql":
        return {}
    conn = pg.connect(target, read_only=True)
    try:
        found: dict[str, dict[str, DataType]] = {}
        for table in tables:
            types = pg.column_types(conn, options.target_schema, pg.truncate_identifier(table.name))
            found[table.name] = {}
            for name, text in types.items():
                try:
                    found[table.name][name] = parse_pg_type(text)
                except ArrowferryError:
                    continue  # a type arrowferry does not model: the plan's own stands
        return found
    finally:
        conn.close()
