"""SQLite as the target of a plan: how each column is stored, the DDL and the finishing.

SQLite has five storage classes and type *affinity*, so the choice that matters is
the declared type: it must keep every value as it is inserted (driver-traps.md E).
Types that mean something to arrowferry on the way back (BOOLEAN, DATETIME, UUID,
JSON...) are kept as declared names, so a round trip SQLite -> PostgreSQL -> SQLite
finds them again. Two need care:

* numeric: a NUMERIC column turns text into INTEGER or REAL, keeping 15 significant
  digits. The plan counts, per column, the values that would be rounded; a column
  holding any becomes ``DECIMAL_TEXT(p,s)`` (TEXT affinity: every digit kept).
* json and arrays: ``JSON TEXT``: TEXT affinity, since a JSON document that is a bare
  number would otherwise be stored as a number.

Keys, foreign keys and CHECKs must be written inside CREATE TABLE in SQLite; they are
(foreign keys and checks switched off during the load and checked after it). Unique
constraints and indexes are built after the load, from sorted data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pyarrow as pa

from arrowferry.convert.to_sqlite import NOT_STORABLE, Kernel, convert
from arrowferry.dialects import sqlite
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.types import from_sqlite_declared, sqlite_affinity, to_sqlite_ddl
from arrowferry.dialects.translate import TranslationError, translate_expression
from arrowferry.model import Column, DataType, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan.identifiers import renamer
from arrowferry.plan.model import ColumnPlan, MigrationPlan, Statement, TablePlan
from arrowferry.plan.names import TargetNames
from arrowferry.plan.sides import Existing, SourceSide, Storage, Survey
from arrowferry.plan.sqlite_constraints import SqliteConstraints
from arrowferry.plan.sqlite_views import ViewPlan, materialized_warnings, plan_views
from arrowferry.types import TypeMappings
from arrowferry.urls import Endpoint
from arrowferry.wording import noun, plural

_INTEGER_KINDS = {"int16", "int32", "int64"}


def _mapped_limit(dtype: DataType, ddl: str) -> tuple[int, int] | None:
    """(precision, scale) of a DECIMAL(p,s) a number column is mapped to: SQLite never
    holds values to it, so arrowferry does, as PostgreSQL would on the way back."""
    if dtype.kind not in {"decimal", "float32", "float64", *_INTEGER_KINDS}:
        return None
    mapped = from_sqlite_declared(ddl)
    if mapped is None or mapped.kind != "decimal" or mapped.precision is None:
        return None
    return mapped.precision, mapped.scale or 0


def _as_applications_write(
    dtype: DataType, declared: str, kernel: Kernel, lossy: list[str]
) -> tuple[Kernel, list[str]]:
    """Into a column an application declared: the text form its ORM writes and looks
    values up by (SQLAlchemy, Django and Rails alike), so the application's own queries
    find the copied rows. A UUID in a CHAR(32) is 32 hex digits; a timestamptz in a
    DATETIME (no zone in its name) is UTC text without an offset: with six fraction
    digits (SQLAlchemy's ``DATETIME``, Rails' ``datetime(6)``), or, in a column declared
    exactly ``datetime`` (Django's spelling), as Python's ``str(datetime)`` writes it,
    without them when they are all zero, the form Django looks values up by."""
    name = " ".join(declared.upper().split())
    if dtype.kind == "interval" and sqlite_affinity(declared) == "INTEGER":
        return "integer", [
            "microseconds (Django's DurationField); a month counts 30 days, a year 365.25"
        ]
    if dtype.kind == "uuid" and name.replace(" ", "") in {"CHAR(32)", "VARCHAR(32)"}:
        return "uuid_hex", ["32 hex digits without dashes, as ORMs keep a UUID in CHAR(32)"]
    zoned = "ZONE" in name or "TZ" in name
    if dtype.kind == "timestamptz" and not zoned and ("DATETIME" in name or "TIMESTAMP" in name):
        if declared.strip() == "datetime":
            return "utc_python_text", [
                "UTC text without an offset, as Python writes it (2024-01-02 03:04:05, "
                "2024-01-02 03:04:05.000006): Django's form in a SQLite datetime"
            ]
        return "utc_naive_text", [
            "UTC text without an offset, six fraction digits (2024-01-02 03:04:05.000000), "
            "as ORMs write a DATETIME into SQLite"
        ]
    return kernel, lossy


class Side(SqliteConstraints):
    """The target side of a plan into SQLite (one per plan)."""

    dialect = dialect_named("sqlite")

    def __init__(self, source: SourceSide) -> None:
        self.source = source

    def start(
        self, survey: Survey, options: MigrationOptions, names: TargetNames, warnings: list[str]
    ) -> list[Table]:
        self.survey = survey
        self.schema = survey.schema
        self.facts = survey.facts
        self.options = options
        self.mappings = TypeMappings(options.type_mappings)
        self.names = names
        self.warnings = warnings
        self.inexact: dict[str, list[str]] = {}
        for table in survey.tables:
            if not table.columns:
                warnings.append(
                    f"table {table.name!r} has no columns, which SQLite cannot hold; not migrated"
                )
        tables = [t for t in survey.tables if t.columns]
        self.wanted = {t.name for t in tables if t.name not in survey.failed}
        return tables

    def forget(self, table: str) -> None:
        self.wanted.discard(table)

    def existing(
        self, target: Endpoint | None, tables: Sequence[Table], options: MigrationOptions
    ) -> Existing:
        """data_only: the tables of the target file the rows go into (names compared as
        SQLite compares them, case-insensitively)."""
        if not options.data_only or target is None or target.dialect != "sqlite":
            return Existing()
        if not target.path.exists():
            return Existing()  # said by the target check, before anything is written
        with sqlite.connect_metadata_ctx(target.path) as conn:
            schema = sqlite.introspect(conn)
        by_name = {t.name.lower(): t for t in schema.tables}
        named = renamer(options.identifiers) or (lambda name: name)
        found = {}
        for t in tables:
            there = by_name.get(t.name.lower()) or by_name.get(named(t.name).lower())
            if there is not None:
                found[t.name] = there
        return Existing(found)

    def finish(self, plans: Sequence[TablePlan]) -> list[Statement]:
        views = ViewPlan()
        if self.options.create_views and not self.options.data_only:
            views = plan_views(
                self.schema,
                self.schema.tables,
                self.facts,
                self.options,
                self._relation_name,
                self.warnings,
                self.survey.dialect,
                lambda t, c: self.source.value_type(t, c, self.survey)[0],
                self.names.name,
                [p.source.name for p in plans],
            )
        self.inexact = views.inexact
        self.warnings += materialized_warnings(self.facts, self.options, self.wanted)
        loose = self.facts.loose_sequences
        if loose:
            self.warnings.append(
                f"{plural(len(loose), 'sequence')} that no column owns "
                f"{noun(len(loose), 'is', 'are')} not migrated (SQLite has none): {', '.join(loose)}"
            )
        planned = {p.source.name for p in plans}
        dropped = [t for t in self.facts.triggers if t.split(".", 1)[0] in planned]
        if dropped:
            self.warnings.append(
                f"{plural(len(dropped), 'trigger')} not migrated (PL/pgSQL has no SQLite "
                f"translation): {', '.join(dropped)}"
            )
        return [*(s for p in plans for s in p.finish), *views.statements]

    def plan(
        self, plans: list[TablePlan], finish: list[Statement], warnings: list[str]
    ) -> MigrationPlan:
        return MigrationPlan(
            "main",
            plans,
            finish,
            warnings,
            source_schema=self.options.source_schema,
            inexact_views=self.inexact,
        )

    def _relation_name(self, wanted: str, what: str) -> str:
        return self.names.relation_name(wanted, what)

    # --- tables --------------------------------------------------------------------

    def table_plan(
        self,
        table: Table,
        target_name: str,
        given: Sequence[ColumnPlan],
        names: Mapping[str, str],
    ) -> TablePlan:
        there = self.survey.existing.table(table.name)
        if there is not None:
            loaded = {c.target for c in given}
            pk = there.primary_key
            return TablePlan(
                source=table,
                target=Table(there.name, tuple(c for c in there.columns if c.name in loaded), pk),
                columns=tuple(given),
                rows=self.facts.rows.get(table.name, 0),
                schema="main",
                create_sql="",
                key=table.primary_key.columns if table.primary_key is not None else (),
                only=table.name not in self.facts.partitioned,
                existing=True,
            )
        wanted = self.wanted
        columns = tuple(given)
        pk = table.primary_key
        rowid_key = (
            pk is not None
            and len(pk.columns) == 1
            and table.column(pk.columns[0]).type.kind in _INTEGER_KINDS
            and not self._overridden(table, pk.columns[0])
        )
        definitions = [
            self._column_ddl(table, col, plan, rowid_key)
            for col, plan in zip(table.columns, columns, strict=True)
        ]
        key = None if pk is None else replace(pk, columns=tuple(names[c] for c in pk.columns))
        if key is not None and not rowid_key:
            definitions.append(sqlw.primary_key_sql(key.columns))
        checks = self._checks(table, definitions, names) + self._enum_checks(table, names)
        definitions += [ddl for ddl, _ in checks]
        fks = self._foreign_keys(table, wanted)
        definitions += [sqlw.foreign_key_sql(fk) for fk in fks]
        create_sql = sqlw.create_table_sql(target_name, definitions)
        load = list(definitions)
        if (
            rowid_key
            and pk is not None
            and key is not None
            and table.column(pk.columns[0]).identity
        ):
            # loaded without AUTOINCREMENT (SQLite reads and writes sqlite_sequence for each
            # INSERT, and ADBC's ingest runs one per row); the keyword is added after
            k = table.column_names.index(pk.columns[0])
            load[k] = sqlw.column_sql(key.columns[0], "INTEGER", key="rowid")
        target = Table(
            target_name,
            tuple(
                replace(c, name=p.target, type=p.type)
                for c, p in zip(table.columns, columns, strict=True)
            ),
            key,
            foreign_keys=tuple(fks),
        )
        plan = TablePlan(
            source=table,
            target=target,
            columns=columns,
            rows=self.facts.rows.get(table.name, 0),
            schema="main",
            create_sql=create_sql,
            load_sql=sqlw.create_table_sql(target_name, load),
            key=pk.columns if pk is not None else (),
            order_by=pk.columns if rowid_key and pk is not None else (),
            only=table.name not in self.facts.partitioned,
        )
        if rowid_key and pk is not None and table.column(pk.columns[0]).identity:
            plan.sequence = self.facts.sequences.get(table.name, 0)
        plan.finish = self._finish(table, checks, target_name, names)
        source = self.survey.dialect.label
        for col in table.columns:
            if col.identity and plan.order_by != (col.name,):
                self.warnings.append(
                    f"column {table.name}.{col.name} is an identity (or serial) column in "
                    f"{source}; SQLite generates values only for an INTEGER PRIMARY KEY, so its "
                    "values are copied and new rows must supply one"
                )
            if col.generated:
                self.warnings.append(
                    f"column {table.name}.{col.name} is generated in {source} "
                    f"({col.generated}); its values are copied as a plain column"
                )
        return plan

    def _overridden(self, table: Table, column: str) -> bool:
        col = table.column(column)
        return self.mappings.lookup(table.name, col.name, col.declared) is not None

    def storage(
        self, table: Table, col: Column, dtype: DataType, override: str | None, target_name: str
    ) -> Storage:
        kernel, ddl, lossy = self._storage(table, col, dtype)
        limit = None
        there = self.survey.existing.table(table.name)
        if there is not None:
            # the file's own declared type decides, by its affinity, what SQLite keeps
            override = there.column(target_name).declared
        if override is not None:
            ddl = override
            how = "is mapped to" if there is None else f"lands in {there.name}.{target_name},"
            kernel, lossy = self._under_affinity(table, col, override, kernel, lossy, how)
            limit = _mapped_limit(dtype, override)
            if limit is not None:
                lossy = [
                    *lossy,
                    f"values that do not fit {override} once rounded to "
                    f"{plural(limit[1], 'decimal place')} are bad values (a size chosen with "
                    "--type-map is enforced)",
                ]
        if there is not None:
            kernel, lossy = _as_applications_write(dtype, ddl, kernel, lossy)
            if dtype.kind == "interval" and kernel == "integer":
                dtype = DataType("int64")
        # arrow None: the kernel's output type is what the writer binds
        return Storage(
            dtype, ddl, None, kernel=kernel, limit=limit, lossy=tuple(lossy), enforce_length=False
        )

    def _under_affinity(
        self,
        table: Table,
        col: Column,
        ddl: str,
        kernel: Kernel,
        lossy: list[str],
        how: str = "is mapped to",
    ) -> tuple[Kernel, list[str]]:
        """The kernel for a user's declared type: its affinity decides what SQLite keeps."""
        affinity = sqlite_affinity(ddl)
        keeps_text = affinity in {"TEXT", "BLOB"}
        if kernel == "numeric_text" and keeps_text:
            return "text", ["stored as exact decimal text"]
        if kernel in {"text", "utc_text"} and not keeps_text:
            self.warnings.append(
                f"column {table.name}.{col.name} ({col.declared}) {how} {ddl}, whose "
                f"{affinity} affinity turns text that looks like a number into a number "
                "('007' becomes 7, '1.50' becomes 1.5)"
            )
            return kernel, [*lossy, f"{affinity} affinity converts numeric-looking text"]
        return kernel, lossy

    def _storage(self, table: Table, col: Column, dtype: DataType) -> tuple[Kernel, str, list[str]]:
        """(kernel, SQLite declared type, lossy notes) for a PostgreSQL type."""
        kind = dtype.kind
        ddl = to_sqlite_ddl(dtype)
        if kind == "boolean":
            return "same", ddl, ["stored as the integers 1 and 0"]
        if kind in _INTEGER_KINDS:
            return "integer", ddl, []
        no_negative_zero = "SQLite keeps no negative zero: -0.0 becomes 0.0"
        if kind == "float64":
            return "float64", ddl, [no_negative_zero]
        if kind == "float32":
            shortest = (
                "each single-precision value becomes the double of its shortest decimal text "
                "(0.1 stays 0.1)"
            )
            return "float32", ddl, [shortest, no_negative_zero]
        if kind == "decimal":
            return self._decimal(table, col, dtype)
        if kind == "timestamptz":
            return "utc_text", ddl, ["stored as UTC text with the offset '+00:00'"]
        notes = {
            "date": [
                "ISO text; 'infinity', BC dates and years past 9999 are kept as PostgreSQL writes them"
            ],
            "timestamp": [
                "ISO text; 'infinity', BC dates and years past 9999 are kept as PostgreSQL writes them"
            ],
            "time": ["ISO text (24:00:00 is kept)"],
            "interval": ["ISO 8601 duration text (P1Y2M3DT4H5M6S)"],
            "array": ["JSON text of the array (to_json); lower bounds other than 1 are dropped"],
            "json": ["jsonb as PostgreSQL normalises it"] if col.declared == "jsonb" else [],
            "uuid": ["canonical lower-case text"],
        }.get(kind, [])
        if kind == "other":
            notes = [f"{dtype.raw} values become their PostgreSQL text"]
            if self._labels(col) is not None:
                notes = ["enum labels become text, held to the labels by a CHECK"]
        if kind == "text" and col.declared.startswith("character("):
            notes = ["char(n) values keep their trailing blanks"]
        return ("same" if kind == "blob" else "text"), ddl, notes

    def _decimal(self, table: Table, col: Column, dtype: DataType) -> tuple[Kernel, str, list[str]]:
        wide = self.facts.wide_decimals.get(table.name, {}).get(col.name, 0)
        params = f"({dtype.precision},{dtype.scale or 0})" if dtype.precision is not None else ""
        if wide:
            self.warnings.append(
                f"column {table.name}.{col.name} holds {plural(wide, 'value')} with more than 15 "
                f"significant digits; it is declared DECIMAL_TEXT{params} (TEXT affinity) so SQLite "
                "keeps every digit, where NUMERIC affinity would round them to doubles"
            )
            return "text", f"DECIMAL_TEXT{params}", ["stored as exact decimal text"]
        return (
            "numeric_text",
            to_sqlite_ddl(dtype),
            [
                "SQLite's NUMERIC affinity stores each value as INTEGER or REAL ('12.50' reads back "
                "as 12.5, the same number); NaN and Infinity stay text"
            ],
        )

    def _column_ddl(self, table: Table, col: Column, plan: ColumnPlan, rowid_key: bool) -> str:
        pk = table.primary_key
        domain = self._domain(col)
        declared = plan.ddl
        key: sqlw.RowidKey = ""
        if rowid_key and pk is not None and pk.columns == (col.name,):
            # AUTOINCREMENT keeps PostgreSQL's promise that ids are never handed out twice
            declared, key = "INTEGER", ("autoincrement" if col.identity else "rowid")
        not_null = not col.nullable or (domain is not None and domain.not_null)
        bare = sqlw.column_sql(plan.target, declared, not_null=not_null, key=key)
        default = self._default(table, col, plan.kernel or "same", bare)
        return sqlw.column_sql(plan.target, declared, not_null=not_null, default=default, key=key)

    def _expression(self, default: str, col: Column) -> str:
        """A default expression as SQLite's (raises TranslationError)."""
        if self.survey.dialect.name != "postgresql":
            return translate_expression(default, self.survey.dialect.name, "sqlite")
        from arrowferry.dialects.sqlite.defaults import expression_from_postgresql

        return expression_from_postgresql(default, col.type.kind)

    def _default(self, table: Table, col: Column, kernel: Kernel, column_ddl: str) -> str | None:
        given = self.source.default(table, col, self.survey)
        if given is None:
            return None
        default = given.sql
        if given.kind == "dropped":
            self.warnings.append(f"default of {table.name}.{col.name} dropped: {given.reason}")
            return None
        if given.kind == "stored" and isinstance(given.value, pa.Array):
            # a constant: its value, converted as the column's values are
            converted = convert(kernel, given.value)
            if converted.bad is not None and converted.bad.any():
                self.warnings.append(
                    f"default of {table.name}.{col.name} dropped: {default!r} cannot be stored "
                    f"({NOT_STORABLE[kernel]})"
                )
                return None
            expr = sqlw.literal_sql(converted.array[0].as_py())
        else:
            try:
                expr = self._expression(default, col)
            except TranslationError as err:
                self.warnings.append(f"default of {table.name}.{col.name} dropped: {err}")
                return None
        for form in (expr, f"({expr})"):
            trial = sqlw.trial_default(f"{column_ddl} DEFAULT {form}")
            if trial is None:
                return form
        self.warnings.append(
            f"default of {table.name}.{col.name} dropped: {default!r} has no SQLite form ({trial})"
        )
        return None
