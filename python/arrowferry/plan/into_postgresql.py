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

import pyarrow as pa

from arrowferry import decimals
from arrowferry.convert import array_text, arrays
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.facts import ColumnProfile
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.dialects.postgresql.collations import column_collation
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.model import Column, DataType, Table
from arrowferry.options import MigrationOptions, flag
from arrowferry.plan.columns import arrow_type, decimal_arrow, lossy_notes
from arrowferry.plan.defaults import translate_default
from arrowferry.plan.finishing import FinishingPlanner
from arrowferry.plan.identifiers import renamer
from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.names import TargetNames
from arrowferry.plan.sides import Existing, SourceSide, Storage, Survey
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
    ) -> Existing:
        """data_only: the target's own tables, as its catalog has them (a table matched by
        name exactly, else case-insensitively when one alone matches, else by the
        ``--identifiers`` policy)."""
        if not options.data_only or target is None or target.dialect != "postgresql":
            return Existing()
        conn = pg.connect(target, read_only=True)
        try:
            schema = pg.introspect(conn, options.target_schema)
            labels = schema.enums
            dimensions = pgread.array_dimensions(conn, options.target_schema)
        finally:
            conn.close()
        by_name = {t.name: t for t in schema.tables}
        folded: dict[str, list[Table]] = {}
        for t in schema.tables:
            folded.setdefault(t.name.lower(), []).append(t)
        found: dict[str, Table] = {}
        for table in tables:
            name = pg.truncate_identifier(table.name)
            there = by_name.get(name)
            if there is None and len(folded.get(name.lower(), ())) == 1:
                there = folded[name.lower()][0]
            named = renamer(options.identifiers)
            if there is None and named is not None:  # the application's naming policy
                there = by_name.get(pg.truncate_identifier(named(table.name)))
            if there is not None:
                found[table.name] = there
        return Existing(found, labels, dimensions)

    # --- columns ---------------------------------------------------------------------------

    def storage(
        self, table: Table, col: Column, dtype: DataType, override: str | None, target_name: str
    ) -> Storage:
        survey, options = self.survey, self.options
        there = survey.existing.table(table.name)
        if there is not None:
            landing = there.column(target_name)
            if override is not None:
                self.warnings.append(
                    f"type mapping of {table.name}.{col.name} not used: it lands in "
                    f"{there.name}.{landing.name}, declared {landing.declared} in the target"
                )
            if landing.type.kind in {"other", "interval"}:
                return self._cast_by_server(table, col, landing)
            dims = survey.existing.dimensions.get((there.name, landing.name), 1)
            element = landing.type.element
            if landing.type.kind == "array" and (
                # varchar(n)[]: the Arrow list path would leave a long element to the server
                dims > 1 or not arrays.supports(element) or (element and element.length)
            ):
                return self._array_as_text(landing, dims)
            # the schema is the user's: its declared type, sizes included, is what holds
            dtype, override = landing.type, None
        elif override is not None:
            dtype = parse_pg_type(override)
        profile = survey.profile(table.name, col.name)
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
            to_pg_ddl(dtype) if there is None else there.column(target_name).declared,
            arrow,
            scale,
            enforce_length=not widen,
            widened=widened,
            lossy=lossy_notes(col.declared, dtype, known, widened),
        )

    def _array_as_text(self, landing: Column, dims: int) -> Storage:
        """An array the driver cannot write (an element type it lacks, or more than one
        dimension): PostgreSQL array text the server casts, its elements checked first
        by their own kernels (``convert.array_text``)."""
        element = array_text.innermost(landing.type)
        labels = self.survey.existing.labels.get(element.raw or "") if element.raw else None
        declared = landing.declared + (f" (declared with {dims} dimensions)" if dims > 1 else "")
        lossy = [f"sent as PostgreSQL array text, cast to {declared} by PostgreSQL"]
        if labels is not None:
            lossy.append(f"an element that is not a label of {element.raw} is a bad value")
            element = DataType("text")  # checked as text against the labels
        elif element.kind in {"other", "interval", "json"}:
            lossy.append(
                f"its {element.raw or element.kind} elements are checked by the server's cast"
            )
        dtype = landing.type if labels is None else DataType("array", element=element)
        return _sent_as_text(dtype, landing.declared, lossy, labels)

    def _cast_by_server(self, table: Table, col: Column, landing: Column) -> Storage:
        """A target column of a type arrowferry has no kernel for (an enum, a domain,
        ``inet``...): the value travels as text and PostgreSQL casts it; an enum's labels
        are checked first, so a value that is not one is a bad value, not a failed load."""
        labels = self.survey.existing.labels.get(landing.declared)
        if labels is None and landing.type.raw is not None:
            labels = self.survey.existing.labels.get(landing.type.raw)
        lossy = [f"sent as text, cast to {landing.declared} by PostgreSQL"]
        if landing.type.kind == "interval":
            lossy.append("an integer is read as microseconds (Django's DurationField)")
        if labels is not None:
            lossy.append(f"a value that is not a label of {landing.declared} is a bad value")
        dtype = DataType("interval" if landing.type.kind == "interval" else "text")
        return _sent_as_text(dtype, landing.declared, lossy, labels)

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
        there = self.survey.existing.table(table.name)
        if there is not None:
            return self._into_existing(table, there, columns)
        target_cols = tuple(
            replace(
                c,
                name=p.target,
                type=p.type,
                generated=None,
                collation=column_collation(p.type.kind, c.collation, self.options.text_collation),
            )
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

    def _into_existing(
        self, table: Table, there: Table, columns: Sequence[ColumnPlan]
    ) -> TablePlan:
        """Rows into the target's own table: nothing is created or rebuilt; each counter
        of a loaded column (serial or identity) ends past the copied ids afterwards."""
        loaded = {c.target for c in columns}
        target = Table(
            there.name,
            tuple(c for c in there.columns if c.name in loaded),
            there.primary_key,
        )
        schema = self.options.target_schema
        plan = TablePlan(
            source=table,
            target=target,
            columns=tuple(columns),
            rows=int(self.survey.facts.rows.get(table.name, 0)),
            schema=schema,
            create_sql="",
            rowid=self.source.rowid(table),
            existing=True,
        )
        floor = self.survey.facts.sequences.get(table.name, 0)
        plan.finish = [
            Statement(
                "sequence",
                pg.advance_sequence_sql(schema, there.name, c.name, floor),
                there.name,
                c.name,
            )
            for c in target.columns
            if c.identity or (c.default or "").startswith("nextval(")
        ]
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


def _sent_as_text(
    dtype: DataType, declared: str, lossy: list[str], labels: tuple[str, ...] | None
) -> Storage:
    """A value that travels as text, converted by its kernel into ``dtype``'s text and
    cast by the server into the column's ``declared`` type (the staged path)."""
    return Storage(
        dtype,
        declared,
        pa.string(),
        enforce_length=True,
        lossy=tuple(lossy),
        server_cast=True,
        labels=labels,
    )
