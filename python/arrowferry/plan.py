"""The plan: every decision of a migration, made before anything is written.

Source schema + storage-class profile + options -> for each table the target name,
each column's target type, how it is read from SQLite and converted, the DDL, and the
finishing statements (keys, indexes, checks, foreign keys, sequences, views). A dry run
prints this and stops; a real run executes exactly this.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from arrowferry.convert import ReadAs
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.sqlite import ColumnProfile, is_unresolved
from arrowferry.dialects.translate import TranslationError, translate_expression, translate_query
from arrowferry.errors import BadInputError, SchemaError, UnsupportedTypeError
from arrowferry.model import (
    Check,
    Column,
    DataType,
    ForeignKey,
    Index,
    IndexKey,
    Schema,
    Table,
    View,
)
from arrowferry.options import MigrationOptions
from arrowferry.types import TypeMappings, parse_pg_type, sqlite_affinity, to_pg_ddl

DECIMAL128_DIGITS = 38
DECIMAL256_DIGITS = 76


@dataclass(frozen=True)
class ColumnPlan:
    """How one column travels: read as, converted by, arrives as."""

    source: str
    target: str
    declared: str
    type: DataType
    read_as: ReadAs
    arrow_type: pa.DataType
    decimal_scale: int = 0
    profile: ColumnProfile | None = None
    cast: bool = True  # read through CAST(col AS <read_as>) rather than as stored
    validate: bool = False  # skip the fast path: every value through the strict checks

    @property
    def ddl(self) -> str:
        return to_pg_ddl(self.type)

    @property
    def lossy(self) -> list[str]:
        """Steps of this column's journey that may change a value (for the ledger)."""
        notes = []
        kind = self.type.kind
        holds_reals = self.profile is None or self.profile.reals > 0
        if kind == "decimal" and holds_reals:
            notes.append(
                "REAL values are binary fractions: each is written as its shortest "
                "round-trip decimal text"
            )
            if "NUM" in self.declared.upper() or "DEC" in self.declared.upper():
                notes.append(
                    "SQLite already stored numeric text that did not fit a 64-bit "
                    "integer as REAL when it was written; digits lost then cannot be recovered"
                )
        if kind == "decimal" and self.type.precision is not None:
            notes.append(
                f"PostgreSQL rounds to {self.type.scale or 0} decimal places "
                "(half away from zero) and refuses values wider than the precision"
            )
        if kind in {"timestamp", "date"}:
            notes.append(
                "ISO text with an offset or 'Z' is converted to UTC and the offset dropped; "
                "julian-day numbers are rounded to the millisecond"
            )
        if kind == "float32":
            notes.append("values are rounded to single precision")
        if kind == "float64" and (self.profile is None or self.profile.integers > 0):
            notes.append("integers beyond 2**53 in this column become the nearest double")
        if kind == "blob" and self.profile is not None and not self.profile.only("blob"):
            notes.append(
                "text and numbers stored in this BLOB column become the bytes of their text"
            )
        return notes

    def read_as_text(self) -> ColumnPlan:
        """The exact path for a column whose values surprised the fast read."""
        if self.read_as == "blob":
            return replace(self, validate=True)
        if self.type.kind == "decimal":  # text for text, shortest round-trip text for REALs
            return replace(self, read_as="numeric", cast=True)
        return replace(self, read_as="text", cast=True)


@dataclass
class Statement:
    """A finishing statement and what it does, for the plan and the summary."""

    kind: str  # vacuum, key_index, index, primary_key, unique, check, foreign_key, sequence, view, analyze
    sql: str
    table: str | None
    name: str
    fallback_sql: str | None = None  # e.g. the NOT VALID form of a foreign key
    fallback_note: str = "existing rows violate it"  # why the fallback was needed
    depends: tuple[str, ...] = ()  # target tables that must have loaded
    requires: str | None = None  # a statement (by name) that must have fully succeeded
    diagnose_sql: str | None = None  # (count, examples) of the rows that need the fallback


@dataclass
class TablePlan:
    source: Table
    target: Table
    columns: tuple[ColumnPlan, ...]
    rows: int
    schema: str
    defaults: dict[str, str]
    with_rowid: bool
    finish: list[Statement] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def create_sql(self) -> str:
        return pg.create_table_sql(self.schema, self.target, self.defaults)

    def with_column(self, index: int, column: ColumnPlan) -> TablePlan:
        """This plan with one column's travel changed (and the DDL following its type)."""
        columns = list(self.columns)
        columns[index] = column
        target_cols = list(self.target.columns)
        target_cols[index] = replace(target_cols[index], type=column.type)
        return replace(
            self, columns=tuple(columns), target=replace(self.target, columns=tuple(target_cols))
        )

    def column_index(self, target_name: str) -> int:
        for i, col in enumerate(self.columns):
            if col.target == target_name:
                return i
        raise KeyError(target_name)


@dataclass
class MigrationPlan:
    target_schema: str
    tables: list[TablePlan]
    finish: list[Statement]
    warnings: list[str]
    date_forms: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_schema": self.target_schema,
            "tables": [
                {
                    "source": t.source.name,
                    "target": t.target.name,
                    "rows": t.rows,
                    "columns": [
                        {
                            "name": c.target,
                            "source_type": c.declared,
                            "target_type": c.ddl,
                            "read_as": c.read_as,
                            "storage_classes": list(c.profile.classes) if c.profile else [],
                            "profile": _profile_dict(c.profile),
                            "date_forms": self.date_forms.get((t.name, c.target), {}),
                            "lossy": c.lossy,
                        }
                        for c in t.columns
                    ],
                    "ddl": t.create_sql,
                }
                for t in self.tables
            ],
            "finish": [{"kind": s.kind, "table": s.table, "sql": s.sql} for s in self.finish],
            "warnings": list(self.warnings),
        }


def _profile_dict(profile: ColumnProfile | None) -> dict[str, int]:
    if profile is None:
        return {}
    counts = {
        "integer": profile.integers,
        "real": profile.reals,
        "text": profile.texts,
        "blob": profile.blobs,
        "null": profile.nulls,
    }
    return {k: v for k, v in counts.items() if v}


def select_tables(schema: Schema, include: Sequence[str], exclude: Sequence[str]) -> list[Table]:
    """Tables matching the include patterns (all when empty) and none of the excludes."""
    names = schema.table_names
    for pattern in include:
        if not any(fnmatch.fnmatchcase(n, pattern) or n.lower() == pattern.lower() for n in names):
            raise BadInputError(
                f"include_tables: no table matches {pattern!r}; the source has "
                f"{', '.join(repr(n) for n in names) or 'no tables'}"
            )

    def wanted(name: str) -> bool:
        def hit(p: str) -> bool:
            return fnmatch.fnmatchcase(name, p) or name.lower() == p.lower()

        return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)

    return [t for t in schema.tables if wanted(t.name)]


class Planner:
    """Builds a :class:`MigrationPlan` from a SQLite schema and its profile."""

    def __init__(
        self,
        schema: Schema,
        profiles: Mapping[str, tuple[int, Mapping[str, ColumnProfile]]],
        options: MigrationOptions,
        sequences: Mapping[str, int] | None = None,
    ) -> None:
        self.schema = schema
        self.profiles = profiles
        self.options = options
        self.sequences = dict(sequences or {})
        self.mappings = TypeMappings(options.type_mappings)
        self.warnings: list[str] = list(schema.notes)
        self.relation_names: dict[str, str] = {}

    def build(self, tables: Sequence[Table]) -> MigrationPlan:
        target_schema = self.options.target_schema
        self._check_table_names(tables)
        plans = [self._table(t) for t in tables]
        for key in self.mappings.unused():
            self.warnings.append(f"type mapping {key!r} matched no column")
        names = {t.source.name: t.target.name for t in plans}
        # VACUUM (ANALYZE) first: the first full scan of freshly loaded rows sets their hint
        # bits, and this one also sets the visibility map, so the index builds scan less and
        # the foreign-key checks run as index-only merge joins (2M rows: 1.8 s -> 0.4 s);
        # the statistics come with it, and queries get index-only scans from the start
        finish: list[Statement] = [
            Statement("vacuum", pg.vacuum_analyze_sql(target_schema, p.name), p.name, p.name)
            for p in plans
        ]
        for kind in ("key_index", "index", "primary_key", "unique", "check"):
            finish += [s for p in plans for s in p.finish if s.kind == kind]
        for plan in plans:
            finish += self._foreign_keys(plan, names)
        finish += [s for p in plans for s in p.finish if s.kind == "sequence"]
        if self.options.create_views:
            finish += self._views(tables)
        # statistics on index expressions exist only once the index does
        finish += [
            Statement("analyze", pg.analyze_sql(target_schema, p.name), p.name, p.name)
            for p in plans
            if any(k.is_expression for i in p.source.indexes for k in i.keys)
        ]
        return MigrationPlan(target_schema, plans, finish, self.warnings)

    # --- names ---------------------------------------------------------------------------

    def _check_table_names(self, tables: Sequence[Table]) -> None:
        seen: dict[str, str] = {}
        for table in tables:
            short = pg.truncate_identifier(table.name)
            if short in seen:
                raise SchemaError(
                    f"tables {seen[short]!r} and {table.name!r} would both be named {short!r} in "
                    f"PostgreSQL, which keeps only the first {pg.MAX_IDENTIFIER_BYTES} bytes of a name; "
                    "rename one, or migrate them separately with include_tables/exclude_tables"
                )
            seen[short] = table.name
            if short != table.name:
                self.warnings.append(
                    f"table {table.name!r} is named {short!r} in PostgreSQL (63-byte limit)"
                )
            self.relation_names[short.lower()] = table.name

    def _relation_name(self, wanted: str, what: str) -> str:
        """A unique index/constraint name: PostgreSQL keeps these in one namespace per schema."""
        base = pg.truncate_identifier(wanted)
        name, n = base, 1
        while name.lower() in self.relation_names:
            suffix = f"_{n}"
            name = pg.truncate_identifier(base[: pg.MAX_IDENTIFIER_BYTES - len(suffix)] + suffix)
            n += 1
        if name != wanted:
            self.warnings.append(
                f"{what} {wanted!r} is named {name!r} in PostgreSQL (name taken or too long)"
            )
        self.relation_names[name.lower()] = wanted
        return name

    def _column_names(self, table: Table) -> dict[str, str]:
        names: dict[str, str] = {}
        seen: dict[str, str] = {}
        for col in table.columns:
            short = pg.truncate_identifier(col.name)
            if short in seen:
                raise SchemaError(
                    f"table {table.name!r}: columns {seen[short]!r} and {col.name!r} would both be "
                    f"named {short!r} in PostgreSQL (63-byte limit); rename one first"
                )
            if short != col.name:
                self.warnings.append(
                    f"column {table.name}.{col.name} is named {short!r} in PostgreSQL"
                )
            seen[short] = col.name
            names[col.name] = short
        return names

    # --- tables and columns ----------------------------------------------------------------

    def _table(self, table: Table) -> TablePlan:
        rows, profile = self.profiles[table.name]
        names = self._column_names(table)
        target_name = pg.truncate_identifier(table.name)
        columns = tuple(
            self._column(table, c, names[c.name], profile.get(c.name)) for c in table.columns
        )
        target_cols = tuple(
            replace(c, name=p.target, type=p.type, generated=None, collation=None)
            for c, p in zip(table.columns, columns, strict=True)
        )
        defaults = self._defaults(table, target_cols)
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
        plan = TablePlan(
            source=table,
            target=target,
            columns=columns,
            rows=rows,
            schema=self.options.target_schema,
            defaults=defaults,
            with_rowid=not table.without_rowid,
        )
        plan.finish = self._table_finish(table, plan, names)
        return plan

    def _column(
        self, table: Table, col: Column, target: str, profile: ColumnProfile | None
    ) -> ColumnPlan:
        override = self.mappings.lookup(table.name, col.name, col.declared)
        if override is not None:
            dtype = parse_pg_type(override)
        elif is_unresolved(col):
            dtype = self._type_from_profile(table, col, profile or ColumnProfile())
        else:
            dtype = col.type
        if (
            dtype.kind == "text"
            and dtype.length
            and profile is not None
            and profile.max_text_length > dtype.length
        ):
            self.warnings.append(
                f"column {table.name}.{col.name} is declared {col.declared} but holds values of up "
                f"to {profile.max_text_length} characters; it becomes text so nothing is truncated"
            )
            dtype = DataType("text")
        read_as, cast = _read_as(dtype, sqlite_affinity(col.declared), profile)
        scale = 0
        arrow_type = _arrow_type(dtype)
        if dtype.kind == "decimal":
            arrow_type, scale = self._decimal_arrow(table, col, dtype, profile or ColumnProfile())
        return ColumnPlan(
            col.name, target, col.declared, dtype, read_as, arrow_type, scale, profile, cast
        )

    def _type_from_profile(self, table: Table, col: Column, profile: ColumnProfile) -> DataType:
        """Untyped (BLOB-affinity) or unknown NUMERIC-affinity columns: the data decides."""
        classes = set(profile.classes)
        if not classes or classes == {"text"}:
            dtype = DataType("text")
        elif classes == {"integer"}:
            dtype = DataType("int64")
        elif classes == {"real"}:
            dtype = DataType("float64")
        elif classes <= {"integer", "real"}:
            dtype = DataType("decimal")
        elif "blob" in classes:
            dtype = DataType("blob")
        else:
            dtype = DataType("text")
        what = f"declared {col.declared!r}" if col.declared else "no declared type"
        self.warnings.append(
            f"column {table.name}.{col.name} has {what}; it holds "
            f"{', '.join(sorted(classes)) or 'only NULLs'} values, so it becomes {to_pg_ddl(dtype)} "
            "(override with type_mappings)"
        )
        return dtype

    def _decimal_arrow(
        self, table: Table, col: Column, dtype: DataType, profile: ColumnProfile
    ) -> tuple[pa.DataType, int]:
        """An Arrow decimal wide enough to carry every value exactly; the server rounds.

        numeric(p,s): p - s integer digits and at least s + 18 fraction digits. A REAL
        has at most 17 significant digits, so a value rounded (half-even) at that scale
        still rounds, half away from zero, to the same s digits on the server.
        Unbounded NUMERIC: the profile's largest magnitude gives the integer digits and
        its smallest REAL the fraction digits its shortest text can need.
        """
        if dtype.precision is not None:
            int_digits = dtype.precision - (dtype.scale or 0)
            min_scale = (dtype.scale or 0) + 18
        else:
            biggest = profile.max_abs_number
            int_digits = 1 if biggest < 1 else math.floor(math.log10(biggest)) + 1
            smallest = profile.min_abs_real
            min_scale = 0 if smallest == 0 else max(0, 17 - (math.floor(math.log10(smallest)) + 1))
        for digits, make in (
            (DECIMAL128_DIGITS, pa.decimal128),
            (DECIMAL256_DIGITS, pa.decimal256),
        ):
            scale = digits - max(int_digits, 1)
            if scale >= min_scale:
                return make(digits, scale), scale
        wide = DECIMAL256_DIGITS - max(int_digits, 1)
        if dtype.precision is not None and wide > (dtype.scale or 0):
            # a very wide numeric(p,s): values beyond 17 significant digits get flagged
            return pa.decimal256(DECIMAL256_DIGITS, wide), wide
        raise UnsupportedTypeError(
            f"table {table.name!r}, column {col.name!r}: {col.declared or 'NUMERIC'} values span "
            f"more than {DECIMAL256_DIGITS} digits (from {profile.min_abs_real:g} to "
            f"{profile.max_abs_number:g}); map the column to double precision or text with type_mappings",
            table=table.name,
            column=col.name,
            type=col.declared,
        )

    def _defaults(self, table: Table, target_cols: Sequence[Column]) -> dict[str, str]:
        defaults = {}
        for source, target in zip(table.columns, target_cols, strict=True):
            if source.default is None or target.identity:
                continue
            try:
                sql = pg.translate_default(source.default, target.type)
            except ValueError as err:
                self.warnings.append(f"default of {table.name}.{source.name} dropped: {err}")
                continue
            if sql is not None:
                defaults[target.name] = sql
        return defaults

    # --- finishing statements -----------------------------------------------------------

    def _table_finish(
        self, table: Table, plan: TablePlan, names: dict[str, str]
    ) -> list[Statement]:
        schema = self.options.target_schema
        out: list[Statement] = []
        tname = plan.name
        if table.primary_key:
            name = self._relation_name(table.primary_key.name or f"{tname}_pkey", "primary key")
            columns = tuple(names[c] for c in table.primary_key.columns)
            out += _key_statements("primary_key", schema, tname, name, columns)
        for unique in table.uniques:
            name = self._relation_name(
                unique.name or f"{tname}_{'_'.join(unique.columns)}_key", "unique constraint"
            )
            columns = tuple(names[c] for c in unique.columns)
            out += _key_statements("unique", schema, tname, name, columns)
        for index in table.indexes:
            stmt = self._index(table, tname, index, names)
            if stmt is not None:
                out.append(stmt)
        for check in table.checks:
            try:
                expr = translate_expression(
                    check.expression, "sqlite", "postgresql", columns=names.values()
                )
            except TranslationError as err:
                self.warnings.append(f"CHECK on {table.name} not migrated: {err}")
                continue
            named = Check(
                expr, name=self._relation_name(check.name, "check") if check.name else None
            )
            out.append(
                Statement(
                    "check",
                    pg.check_sql(schema, tname, named),
                    tname,
                    check.name or expr,
                    fallback_sql=pg.check_sql(schema, tname, named, valid=False),
                    diagnose_sql=pg.check_violations_sql(schema, tname, expr),
                )
            )
        identity = plan.target.identity_column
        if identity is not None:
            floor = self.sequences.get(table.name, 0)
            out.append(
                Statement(
                    "sequence",
                    pg.restart_identity_sql(schema, tname, identity.name, floor),
                    tname,
                    identity.name,
                )
            )
        return out

    def _index(
        self, table: Table, tname: str, index: Index, names: dict[str, str]
    ) -> Statement | None:
        keys = []
        try:
            for key in index.keys:
                if key.is_expression:
                    expr = translate_expression(
                        key.expression, "sqlite", "postgresql", columns=names.values()
                    )
                    keys.append(IndexKey(expr, True, key.descending))
                elif key.expression == "rowid":
                    raise TranslationError(
                        "it indexes the SQLite rowid, which PostgreSQL does not have"
                    )
                else:
                    keys.append(IndexKey(names[key.expression], False, key.descending))
            where = (
                translate_expression(index.where, "sqlite", "postgresql", columns=names.values())
                if index.where
                else None
            )
        except TranslationError as err:
            self.warnings.append(f"index {index.name!r} on {table.name} not migrated: {err}")
            return None
        if any(k.collation for k in index.keys):
            self.warnings.append(f"index {index.name!r}: SQLite collations dropped")
        schema = self.options.target_schema
        target = Index(self._relation_name(index.name, "index"), tuple(keys), index.unique, where)
        if not index.unique:
            return Statement("index", pg.index_sql(schema, tname, target), tname, target.name)
        return Statement(
            "index",
            pg.index_sql(schema, tname, target),
            tname,
            target.name,
            fallback_sql=pg.index_sql(schema, tname, replace(target, unique=False)),
            fallback_note="the data holds duplicate keys, so it is a plain (non-unique) index",
            diagnose_sql=(
                pg.duplicate_keys_sql(schema, tname, target.column_names)
                if not any(k.is_expression for k in target.keys) and target.where is None
                else None
            ),
        )

    def _foreign_keys(self, plan: TablePlan, names: dict[str, str]) -> list[Statement]:
        schema = self.options.target_schema
        out = []
        by_source = {t.name.lower(): t for t in self.schema.tables}
        for fk in plan.source.foreign_keys:
            parent = by_source.get(fk.ref_table.lower())
            if parent is None or parent.name not in names:
                self.warnings.append(
                    f"foreign key {plan.source.name}({', '.join(fk.columns)}) -> {fk.ref_table} not "
                    "created: the referenced table is not part of this migration"
                )
                continue
            if not all(fk.ref_columns):
                self.warnings.append(
                    f"foreign key on {plan.source.name} -> {fk.ref_table}: referenced columns unknown; skipped"
                )
                continue
            col_names = {c.name.lower(): c.name for c in plan.source.columns}
            parent_cols = {c.name.lower(): c.name for c in parent.columns}
            try:
                target = ForeignKey(
                    tuple(pg.truncate_identifier(col_names[c.lower()]) for c in fk.columns),
                    names[parent.name],
                    tuple(pg.truncate_identifier(parent_cols[c.lower()]) for c in fk.ref_columns),
                    fk.on_delete,
                    fk.on_update,
                    fk.deferrable,
                    fk.initially_deferred,
                    name=self._relation_name(fk.name, "foreign key") if fk.name else None,
                )
            except KeyError as err:
                self.warnings.append(
                    f"foreign key on {plan.source.name} -> {fk.ref_table} names an unknown column {err}; skipped"
                )
                continue
            out.append(
                Statement(
                    "foreign_key",
                    pg.foreign_key_sql(schema, plan.name, target),
                    plan.name,
                    f"{plan.name}({', '.join(target.columns)}) -> {target.ref_table}",
                    fallback_sql=pg.foreign_key_sql(schema, plan.name, target, valid=False),
                    diagnose_sql=pg.orphans_sql(schema, plan.name, target),
                    depends=(plan.name, target.ref_table),
                )
            )
        return out

    def _views(self, tables: Sequence[Table]) -> list[Statement]:
        out = []
        for view in self.schema.views:
            name = pg.truncate_identifier(view.name)
            try:
                sql = translate_query(view.sql, "sqlite", "postgresql")
            except TranslationError as err:
                self.warnings.append(f"view {view.name!r} not created: {err}")
                continue
            out.append(
                Statement(
                    "view",
                    pg.create_view_sql(self.options.target_schema, View(name, sql)),
                    None,
                    name,
                )
            )
        return out


def _key_statements(
    kind: str, schema: str, table: str, name: str, columns: tuple[str, ...]
) -> list[Statement]:
    """A key as its index (built in parallel with the others) plus a constraint on it.

    SQLite never enforced keys on old files and lets non-INTEGER primary keys hold
    NULLs, so each step has a weaker form that keeps every row: duplicate keys leave
    a plain index, NULLs in a primary key leave the unique index (both with a warning).
    """
    keys = tuple(IndexKey(c) for c in columns)
    return [
        Statement(
            "key_index",
            pg.index_sql(schema, table, Index(name, keys, unique=True)),
            table,
            name,
            fallback_sql=pg.index_sql(schema, table, Index(name, keys, unique=False)),
            fallback_note="the data holds duplicate keys, so it is a plain (non-unique) index",
            diagnose_sql=pg.duplicate_keys_sql(schema, table, columns),
        ),
        Statement(
            kind,
            pg.constraint_using_index_sql(schema, table, name, kind),
            table,
            name,
            requires=name,
            fallback_sql=(
                pg.constraint_using_index_sql(schema, table, name, "unique")
                if kind == "primary_key"
                else None
            ),
            fallback_note="the key holds NULLs, so it is a UNIQUE constraint",
            diagnose_sql=pg.null_keys_sql(schema, table, columns)
            if kind == "primary_key"
            else None,
        ),
    ]


def _read_as(dtype: DataType, affinity: str, profile: ColumnProfile | None) -> tuple[ReadAs, bool]:
    """How to read a column: (Arrow kind the driver should produce, CAST in the SQL?).

    The fast choice reads numbers as stored, without a CAST; a value of another
    storage class then shows up as a changed Arrow type or a driver error, and the
    table is re-read with ``CAST(col AS TEXT)`` (driver-traps.md A). Never CAST to
    INTEGER or REAL: SQLite's CAST turns 'abc' into 0 without a word.
    A TEXT-affinity column can only hold text or blobs (SQLite converts numbers on
    insert), so it needs no CAST either; any other column read as text does, since
    the driver would render a REAL with 7 significant digits (``%e``).
    """
    kind = dtype.kind
    if kind in {"int16", "int32", "int64", "boolean"}:
        if profile is None or profile.only("integer"):
            return "integer", False
        return "text", True
    if kind in {"float32", "float64"}:
        if profile is None or profile.only("integer", "real"):
            return "real", False
        return "text", True
    if kind == "decimal":
        # Doubles carry every integer and REAL of the column exactly when its integers
        # stay below 2**53: a numeric(p<=15, s), or a profile that says so. Text in it
        # surprises the read, and the table is re-read the exact way (read_as_text).
        if profile is not None and not profile.only("integer", "real"):
            fits = False
        elif dtype.precision is not None:
            fits = dtype.precision <= 15
        else:  # an unbounded decimal is always profiled with its magnitudes
            fits = profile is not None and profile.max_abs_number < 2**53
        return ("real", False) if fits else ("numeric", True)
    if kind == "blob" or (kind == "uuid" and profile is not None and profile.only("blob")):
        return "blob", True
    if kind == "text" and affinity == "TEXT" and (profile is None or profile.only("text")):
        return "text", False
    return "text", True


def _arrow_type(dtype: DataType) -> pa.DataType:
    """The exact Arrow type the writer sends for a target type (driver-traps.md C2)."""
    kind = dtype.kind
    simple: dict[str, pa.DataType] = {
        "boolean": pa.bool_(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "text": pa.string(),
        "blob": pa.binary(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "json": pa.json_(pa.string()),
        "uuid": pa.uuid(),
    }
    if kind in simple:
        return simple[kind]
    if kind == "array" and dtype.element is not None:
        return pa.list_(_arrow_type(dtype.element))
    return pa.string()
