"""PostgreSQL as the target of a plan: how each column is stored, the CREATE TABLE, the
defaults, and the statements after the load (keys, indexes, checks, foreign keys,
sequences, views; :mod:`arrowferry.plan.finishing`).

PostgreSQL enforces what it declares, so what the source never enforced is measured
first: a declared ``varchar(n)`` or ``numeric(p,s)`` the data outgrows is widened (or
kept and its long values made bad values, as asked), and every column travels as the
exact Arrow type the COPY writer binds (driver-traps.md C2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from arrowferry import decimals
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.facts import ColumnProfile
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.errors import ArrowferryError
from arrowferry.model import Column, DataType, Table
from arrowferry.options import MigrationOptions, flag
from arrowferry.plan.columns import arrow_type, decimal_arrow, lossy_notes
from arrowferry.plan.defaults import translate_default
from arrowferry.plan.finishing import FinishingPlanner
from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.names import TargetNames
from arrowferry.plan.sides import SourceSide, Storage, Survey
from arrowferry.urls import Endpoint
from arrowferry.wording import noun, plural


class Side:
    """The target side of a plan into PostgreSQL (one per plan)."""

    dialect = dialect_named("postgresql")

    def __init__(self, source: SourceSide) -> None:
        self.source = source

    def start(
        self, survey: Survey, options: MigrationOptions, names: TargetNames, warnings: list[str]
    ) -> list[Table]:
        self.survey = survey
        self.options = options
        self.warnings = warnings
        self.finishing = FinishingPlanner(
            survey.schema,
            options.target_schema,
            names,
            warnings,
            survey.facts.sequences,
            options.create_views,
        )
        return list(survey.tables)

    def forget(self, table: str) -> None:
        """Foreign keys are planned once every table is (``finish``): nothing to undo."""

    def existing(
        self, target: Endpoint | None, tables: Sequence[Table], options: MigrationOptions
    ) -> dict[str, dict[str, DataType]]:
        """data_only: the existing target columns' types, by source table and column (a
        declared size there, not the source's, is what a value must fit)."""
        if not options.data_only or target is None or target.dialect != "postgresql":
            return {}
        conn = pg.connect(target, read_only=True)
        try:
            found: dict[str, dict[str, DataType]] = {}
            for table in tables:
                types = pg.column_types(
                    conn, options.target_schema, pg.truncate_identifier(table.name)
                )
                found[table.name] = {}
                for name, text in types.items():
                    try:
                        found[table.name][name] = parse_pg_type(text)
                    except ArrowferryError:
                        continue  # a type arrowferry does not model: the plan's own stands
            return found
        finally:
            conn.close()

    # --- columns ---------------------------------------------------------------------------

    def storage(
        self, table: Table, col: Column, dtype: DataType, override: str | None, target_name: str
    ) -> Storage:
        survey, options = self.survey, self.options
        if override is not None:
            dtype = parse_pg_type(override)
        profile = survey.profile(table.name, col.name)
        # into an existing table (data_only) the size that holds is the target column's
        # own: a longer text or wider number than the source declared may fit it
        found = survey.existing.get(table.name, {}).get(target_name)
        if (
            override is None
            and found is not None
            and found.kind == dtype.kind
            and dtype.kind in {"decimal", "text"}
        ):
            dtype = found
        # a size the user chose with type_mappings is kept; a declared one the source never
        # enforced follows size_limits, unless the table exists already (data_only)
        widen = override is None and options.size_limits == "widen" and not options.data_only
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
        known = survey.known_profile(table.name, col.name)
        scale = 0
        arrow = arrow_type(dtype)
        if dtype.kind == "decimal":
            arrow, scale = decimal_arrow(table, col, dtype, known or ColumnProfile())
        return Storage(
            dtype,
            to_pg_ddl(dtype),
            arrow,
            scale,
            enforce_length=not widen,
            widened=widened,
            lossy=lossy_notes(col.declared, dtype, known, widened),
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
        bad = flag("on_bad_value", self.options.on_bad_value)
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
                f"({bad})"
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
                f"so {noun(profile.over_limit, 'it is a bad value', 'they are bad values')} ({bad})"
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

    # --- tables ----------------------------------------------------------------------------

    def table_plan(
        self,
        table: Table,
        target_name: str,
        columns: Sequence[ColumnPlan],
        names: Mapping[str, str],
    ) -> TablePlan:
        target_cols = tuple(
            replace(c, name=p.target, type=p.type, generated=None, collation=None)
            for c, p in zip(table.columns, columns, strict=True)
        )
        defaults = self._defaults(table, target_cols, columns)
        source = self.survey.dialect.label
        for col in table.columns:
            if col.generated:
                self.warnings.append(
                    f"column {table.name}.{col.name} is generated in {source} ({col.generated}); "
                    "its values are copied as a plain column"
                )
            if col.collation and col.collation != "BINARY":
                self.warnings.append(
                    f"column {table.name}.{col.name}: {source} collation {col.collation} has no "
                    "PostgreSQL equivalent; the column uses the database's default collation"
                )
        target = Table(target_name, target_cols)
        schema = self.options.target_schema
        plan = TablePlan(
            source=table,
            target=target,
            columns=tuple(columns),
            rows=int(self.survey.facts.rows.get(table.name, 0)),
            schema=schema,
            create_sql=pg.create_table_sql(schema, target, defaults),
            defaults=defaults,
            rowid=self.source.rowid(table),
        )
        plan.finish = self.finishing.for_table(table, plan, dict(names))
        return plan

    def _defaults(
        self, table: Table, target_cols: Sequence[Column], plans: Sequence[ColumnPlan]
    ) -> dict[str, str]:
        defaults = {}
        for source, target, plan in zip(table.columns, target_cols, plans, strict=True):
            if source.default is None or target.identity:
                continue
            try:
                given = self.source.default(table, source, self.survey)
                sql = (
                    None
                    if given is None
                    else translate_default(table.name, source, plan, given, self.warnings)
                )
            except ValueError as err:
                self.warnings.append(
                    f"default {source.default} of {table.name}.{source.name} dropped: {err}"
                )
                continue
            if sql is not None:
                defaults[target.name] = sql
        return defaults

    def finish(self, plans: Sequence[TablePlan]) -> list[Statement]:
        return self.finishing.assemble(plans)

    def plan(
        self, plans: list[TablePlan], finish: list[Statement], warnings: list[str]
    ) -> MigrationPlan:
        return MigrationPlan(self.options.target_schema, plans, finish, warnings)
