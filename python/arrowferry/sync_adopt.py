"""The desired schema's objects in the target's own terms, for ``sync_schema``.

Between two databases of one dialect every object is taken as it is. Across dialects an
object is declared as a migration would declare it there: a column's neutral type in
the target's type names (``Dialect.type_ddl``), its default, a CHECK, an index
expression and a view translated with the migration's own translators (a SQLite
default evaluated as SQLite stores it and written as the typed PostgreSQL literal of
that value, :mod:`arrowferry.plan.defaults`; SQL through sqlglot,
:mod:`arrowferry.dialects.translate`). What has no faithful form is left out, and said
in ``notes``.
"""

from __future__ import annotations

from dataclasses import replace

from arrowferry.dialects.base import Dialect, dialect_named
from arrowferry.dialects.translate import (
    Relation,
    TranslationError,
    translate_expression,
    translate_query,
    translate_sqlite_view,
)
from arrowferry.model import (
    Check,
    Column,
    DataType,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    View,
)

_INTS = {"int16", "int32", "int64"}
_TEXT = DataType("text")


class Adopter:
    """Translates objects of ``desired`` (in its own dialect) into ``target``'s terms."""

    def __init__(
        self,
        desired: Schema,
        target: Dialect,
        notes: list[str],
        *,
        namespace: str | None = None,
        text_collation: str = "C",
    ) -> None:
        self.desired = desired
        self.source = dialect_named(desired.dialect)
        self.target = target
        self.same = self.source.name == target.name
        self.notes = notes
        self.namespace = namespace  # the desired schema's name (PostgreSQL qualifies views by it)
        # PostgreSQL text that compares as SQLite's BINARY: "C", or "default" (the database's)
        self.text_collation = text_collation

    def name(self, name: str) -> str:
        return self.target.identifier(name)

    # --- tables and columns --------------------------------------------------------------

    def table(self, table: Table) -> Table:
        if self.same:
            return table
        return Table(
            self.name(table.name),
            tuple(self.column(table, c) for c in table.columns),
            self.primary_key(table.primary_key),
            tuple(self.unique(u) for u in table.uniques),
            tuple(i for i in (self.index(table, i) for i in table.indexes) if i is not None),
            tuple(self.foreign_key(fk) for fk in table.foreign_keys),
            tuple(c for c in (self.check(table, c) for c in table.checks) if c is not None),
        )

    def column(self, table: Table, column: Column) -> Column:
        if self.same:
            return column
        unresolved = column.type.kind == "other" and not column.type.raw
        dtype = _TEXT if unresolved else column.type
        declared = self.target.type_ddl(dtype)
        parsed = self.target.parse_type(declared) or dtype
        identity = column.identity
        autoincrement = False
        if self.target.name == "sqlite":
            # only an integer key alone is SQLite's rowid, the one column it numbers itself
            identity = identity and self._rowid_key(table, column)
            if identity:
                declared, autoincrement = "INTEGER", True
        default = None if identity else self._default(table, column, dtype, declared)
        return Column(
            self.name(column.name),
            parsed,
            nullable=column.nullable,
            default=default,
            identity=identity,
            autoincrement=autoincrement,
            collation=self._collation(column, parsed),
            declared=declared,
        )

    def _collation(self, column: Column, parsed: DataType) -> str | None:
        """A text column's collation in the target, so it compares as in the desired
        schema where the target can (as a migration from SQLite creates it: "C")."""
        return self.collation_for(column)[1] if parsed.kind == "text" else None

    def collation_for(self, column: Column) -> tuple[bool, str | None]:
        """The target's collation for text that compares as ``column`` of the desired
        schema does: (True, its name, or None for the target's own default where that
        compares bytes: SQLite's BINARY), or (False, None) where the target has none that
        compares the same (SQLite's NOCASE or RTRIM in PostgreSQL, a locale in SQLite, a
        PostgreSQL database's default locale, which has no name to give)."""
        from arrowferry.diff_rules import text_order

        order = text_order(column, self.source.name)
        if self.target.name == "sqlite":
            if order is None:
                return True, None
            return (True, column.collation) if self.same else (False, None)
        if self.same and column.collation:
            return True, column.collation
        if order is not None:
            return False, None
        return True, None if self.text_collation.lower() == "default" else self.text_collation

    @staticmethod
    def _rowid_key(table: Table, column: Column) -> bool:
        pk = table.primary_key
        return pk is not None and pk.columns == (column.name,) and column.type.kind in _INTS

    def _default(self, table: Table, column: Column, dtype: DataType, declared: str) -> str | None:
        if column.default is None or column.default.lower().startswith("nextval("):
            return None
        where = f"default {column.default} of {table.name}.{column.name}"
        if self.source.name == "sqlite":
            return self._from_sqlite(table, column, dtype, where)
        from arrowferry.dialects.sqlite import write as sqlw
        from arrowferry.diff_rules import default_key

        # a constant as the literal of its value (PostgreSQL's '1970-01-01'::date is the
        # text SQLite stores), as a migration writes the value PostgreSQL gives it
        key = default_key(column.default, self.source.name, dtype.kind)
        if key[0] == "value":
            return sqlw.literal_sql(key[1])
        from arrowferry.dialects.sqlite.defaults import expression_from_postgresql

        try:
            expr = expression_from_postgresql(column.default, dtype.kind)
        except TranslationError as err:
            self.notes.append(f"{where} left out: {err}")
            return None
        definition = sqlw.column_sql(column.name, declared)
        for form in (expr, f"({expr})"):
            if sqlw.trial_default(f"{definition} DEFAULT {form}") is None:
                return form
        self.notes.append(f"{where} left out: {expr!r} does not work in SQLite")
        return None

    def _from_sqlite(self, table: Table, column: Column, dtype: DataType, where: str) -> str | None:
        """A SQLite default as the value it gives a new row, typed for PostgreSQL."""
        from arrowferry.dialects.facts import SourceFacts
        from arrowferry.plan.columns import arrow_type
        from arrowferry.plan.defaults import translate_default
        from arrowferry.plan.from_sqlite import SqliteSourceSide
        from arrowferry.plan.model import ColumnPlan
        from arrowferry.plan.sides import Survey

        plan = ColumnPlan(
            column.name,
            self.name(column.name),
            column.declared,
            dtype,
            "text",
            arrow_type(dtype),
            self.target.type_ddl(dtype),
        )
        # the default as the migration's SQLite side gives it (its clock, or the value
        # SQLite stores), which needs no data: an empty survey
        survey = Survey(self.source, self.desired, [], SourceFacts({}, {}, {}))
        try:
            given = SqliteSourceSide().default(table, column, survey)
            return None if given is None else translate_default(table.name, column, plan, given)
        except ValueError as err:
            self.notes.append(f"{where} left out: {err}")
            return None

    # --- keys, checks, indexes -------------------------------------------------------------

    def primary_key(self, pk: PrimaryKey | None) -> PrimaryKey | None:
        if pk is None or self.same:
            return pk
        return PrimaryKey(tuple(map(self.name, pk.columns)), name=None)

    def unique(self, unique: UniqueConstraint) -> UniqueConstraint:
        if self.same:
            return unique
        return UniqueConstraint(tuple(map(self.name, unique.columns)), name=None)

    def foreign_key(self, fk: ForeignKey) -> ForeignKey:
        if self.same:
            return fk
        return replace(
            fk,
            columns=tuple(map(self.name, fk.columns)),
            ref_table=self.name(fk.ref_table),
            ref_columns=tuple(map(self.name, fk.ref_columns)),
            name=self.name(fk.name) if fk.name else None,
        )

    def _expression(self, table: Table, sql: str) -> str:
        columns = [self.name(c.name) for c in table.columns]
        kinds = {self.name(c.name): c.type.kind for c in table.columns}
        return translate_expression(
            sql,
            self.source.name,
            self.target.name,
            columns=columns,
            kinds=kinds if self.source.name == "sqlite" else None,
        )

    def check(self, table: Table, check: Check) -> Check | None:
        if self.same:
            return check
        try:
            return Check(self._expression(table, check.expression), name=check.name)
        except TranslationError as err:
            self.notes.append(f"CHECK ({check.expression}) on {table.name} left out: {err}")
            return None

    def index(self, table: Table, index: Index) -> Index | None:
        if self.same:
            return index
        try:
            keys = []
            for key in index.keys:
                if key.is_expression:
                    keys.append(
                        IndexKey(self._expression(table, key.expression), True, key.descending)
                    )
                elif key.expression == "rowid" and self.source.name == "sqlite":
                    raise TranslationError(
                        "it indexes SQLite's rowid, which PostgreSQL does not have"
                    )
                else:
                    keys.append(IndexKey(self.name(key.expression), False, key.descending))
            where = self._expression(table, index.where) if index.where else None
        except TranslationError as err:
            self.notes.append(f"index {index.name} on {table.name} left out: {err}")
            return None
        return Index(self.name(index.name), tuple(keys), index.unique, where)

    # --- views -------------------------------------------------------------------------

    def view(self, view: View) -> View | None:
        if self.same and not self._qualified(view.sql):
            return view
        try:
            if self.source.name == "sqlite":
                sql = translate_sqlite_view(view.sql, self._relations())
            else:
                text_notes: list[str] = []
                sql = translate_query(
                    view.sql,
                    self.source.name,
                    self.target.name,
                    schema=self.namespace,
                    relations=self._relations(),
                    text_notes=text_notes,
                )
                if text_notes:
                    self.notes.append(
                        f"view {view.name} may give other rows or values in SQLite: "
                        + "; ".join(dict.fromkeys(text_notes))
                    )
        except TranslationError as err:
            self.notes.append(f"view {view.name} left out: {err}")
            return None
        return View(self.name(view.name), sql)

    def _qualified(self, sql: str) -> bool:
        """Whether a view names the desired side's own schema (PostgreSQL qualifies a name
        its search_path does not reach): the target's schema is another one."""
        ns = self.namespace
        return ns is not None and self.source.capabilities.schemas and f"{ns}." in sql

    def _relations(self) -> dict[str, Relation]:
        """Every table and view of the desired schema as a translated view may read it."""
        out = {}
        for table in self.desired.tables:
            adopted = {c.name.lower(): (self.name(c.name), c.type.kind) for c in table.columns}
            sizes = {
                c.name.lower(): (c.type.precision, c.type.scale)
                for c in table.columns
                if c.type.kind == "decimal"
            }
            out[table.name.lower()] = Relation(self.name(table.name), adopted, sizes)
        for view in self.desired.views:
            columns = {}
            for name, declared in view.columns:
                dtype = self.source.parse_type(declared)
                columns[name.lower()] = (self.name(name), dtype.kind if dtype is not None else "")
            out.setdefault(view.name.lower(), Relation(self.name(view.name), columns))
        return out
