"""Finishing statements: keys, indexes, checks, foreign keys, sequences, views, ANALYZE.

Each comes with its weaker form (a plain index, NOT VALID) and a query that explains
why the weaker form was needed, so the run never fails at the very end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.translate import (
    Relation,
    TranslationError,
    translate_expression,
    translate_sqlite_view,
)
from arrowferry.dialects.translate.view_scope import out_of_reach
from arrowferry.model import Check, ForeignKey, Index, IndexKey, Schema, Table, View
from arrowferry.plan.identifiers import renamer
from arrowferry.plan.model import Statement, TablePlan
from arrowferry.plan.names import TargetNames


class FinishingPlanner:
    """Builds the finishing statements of the planned tables (SQL from the dialect)."""

    def __init__(
        self,
        schema: Schema,
        target_schema: str,
        names: TargetNames,
        warnings: list[str],
        sequences: Mapping[str, int],
        create_views: bool,
    ) -> None:
        self.schema = schema
        self.target_schema = target_schema
        self.names = names
        self.warnings = warnings
        self.sequences = sequences
        self.create_views = create_views

    def assemble(self, plans: Sequence[TablePlan]) -> list[Statement]:
        """Every finishing statement of the run, in the order the scheduler should meet them."""
        target_schema = self.target_schema
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
        # each table's columns as the target names them, by lower-case source name
        columns = {p.source.name: {c.source.lower(): c.target for c in p.columns} for p in plans}
        for plan in plans:
            finish += self.foreign_keys(plan, names, columns)
        finish += [s for p in plans for s in p.finish if s.kind == "sequence"]
        if self.create_views:
            finish += self.views(plans)
        # statistics on index expressions exist only once the index does
        finish += [
            Statement("analyze", pg.analyze_sql(target_schema, p.name), p.name, p.name)
            for p in plans
            if any(k.is_expression for i in p.source.indexes for k in i.keys)
        ]
        return finish

    def for_table(self, table: Table, plan: TablePlan, names: dict[str, str]) -> list[Statement]:
        """One table's keys, indexes, checks and identity sequence (``names``: its columns)."""
        schema = self.target_schema
        out: list[Statement] = []
        tname = plan.name
        if table.primary_key:
            name = self.names.relation_name(
                table.primary_key.name or f"{tname}_pkey", "primary key"
            )
            columns = tuple(names[c] for c in table.primary_key.columns)
            out += _key_statements("primary_key", schema, tname, name, columns)
        for unique in table.uniques:
            name = self.names.relation_name(
                unique.name or f"{tname}_{'_'.join(unique.columns)}_key", "unique constraint"
            )
            columns = tuple(names[c] for c in unique.columns)
            out += _key_statements("unique", schema, tname, name, columns)
        # each column's kind, so CHECKs and index predicates compare as SQLite compared
        kinds = {c.target: c.type.kind for c in plan.columns}
        for index in table.indexes:
            stmt = self._index(table, tname, index, names, kinds)
            if stmt is not None:
                out.append(stmt)
        for check in table.checks:
            try:
                expr = translate_expression(
                    check.expression,
                    "sqlite",
                    "postgresql",
                    columns=names.values(),
                    aliases=names,
                    kinds=kinds,
                    condition=True,
                )
            except TranslationError as err:
                self.warnings.append(f"CHECK on {table.name} not migrated: {err}")
                continue
            named = Check(
                expr, name=self.names.relation_name(check.name, "check") if check.name else None
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
        self,
        table: Table,
        tname: str,
        index: Index,
        names: dict[str, str],
        kinds: Mapping[str, str],
    ) -> Statement | None:
        keys = []
        try:
            for key in index.keys:
                if key.is_expression:
                    expr = translate_expression(
                        key.expression,
                        "sqlite",
                        "postgresql",
                        columns=names.values(),
                        aliases=names,
                    )
                    keys.append(IndexKey(expr, True, key.descending))
                elif key.expression == "rowid":
                    raise TranslationError(
                        "it indexes the SQLite rowid, which PostgreSQL does not have"
                    )
                else:
                    keys.append(IndexKey(names[key.expression], False, key.descending))
            where = (
                translate_expression(
                    index.where,
                    "sqlite",
                    "postgresql",
                    columns=names.values(),
                    aliases=names,
                    kinds=kinds,
                    condition=True,
                )
                if index.where
                else None
            )
        except TranslationError as err:
            self.warnings.append(f"index {index.name!r} on {table.name} not migrated: {err}")
            return None
        if any(k.collation for k in index.keys):
            self.warnings.append(f"index {index.name!r}: SQLite collations dropped")
        schema = self.target_schema
        target = Index(
            self.names.relation_name(index.name, "index"), tuple(keys), index.unique, where
        )
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

    def foreign_keys(
        self,
        plan: TablePlan,
        names: dict[str, str],
        columns: Mapping[str, Mapping[str, str]] | None = None,
    ) -> list[Statement]:
        schema = self.target_schema
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
            col_names = {c.name.lower(): self.names.name(c.name) for c in plan.source.columns}
            parent_cols = {c.name.lower(): self.names.name(c.name) for c in parent.columns}
            col_names.update((columns or {}).get(plan.source.name, {}))
            parent_cols.update((columns or {}).get(parent.name, {}))
            try:
                target = ForeignKey(
                    tuple(col_names[c.lower()] for c in fk.columns),
                    names[parent.name],
                    tuple(parent_cols[c.lower()] for c in fk.ref_columns),
                    fk.on_delete,
                    fk.on_update,
                    fk.deferrable,
                    fk.initially_deferred,
                    name=self.names.relation_name(fk.name, "foreign key") if fk.name else None,
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

    def views(self, plans: Sequence[TablePlan]) -> list[Statement]:
        relations = {
            p.source.name.lower(): Relation(
                p.name, {c.source.lower(): (c.target, c.type.kind) for c in p.columns}
            )
            for p in plans
        }
        source = dialect_named(self.schema.dialect)
        for view in self.schema.views:
            columns = {}
            for column, declared in view.columns:
                dtype = source.parse_type(declared)
                kind = dtype.kind if dtype is not None else ""
                columns[column.lower()] = (self.names.name(column), kind)
            relations.setdefault(view.name.lower(), Relation(self.names.name(view.name), columns))
        rename = renamer(self.names.policy)
        left_out = out_of_reach(self.schema.views, [p.source.name for p in plans], "sqlite")
        out = []
        for view in self.schema.views:
            if view.name in left_out:
                self.warnings.append(f"view {view.name!r} not created: {left_out[view.name]}")
                continue
            name = self.names.view_name(view.name)
            try:
                sql = translate_sqlite_view(view.sql, relations, rename)
            except TranslationError as err:
                self.warnings.append(f"view {view.name!r} not created: {err}")
                continue
            out.append(
                Statement(
                    "view",
                    pg.create_view_sql(self.target_schema, View(name, sql)),
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
