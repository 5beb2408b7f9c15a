"""Views compared: by name, their definitions after translation into one dialect.

A SQLite view is translated to PostgreSQL as a migration creates it
(:func:`arrowferry.dialects.translate.translate_sqlite_view`); both sides are then
qualified (every column named with its table, ``*`` spelled out, as ``pg_get_viewdef``
writes them) and normalised like any expression (:func:`diff_rules.canonical_sql`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from arrowferry import diff_sql
from arrowferry.diff import Difference
from arrowferry.model import Schema, View

if TYPE_CHECKING:
    from sqlglot import exp

    from arrowferry.diff_compare import Sides


def compare_views(a: Schema, b: Schema, sides: Sides) -> list[Difference]:
    out: list[Difference] = []
    a_side, b_side = _Side(a, sides.cross), _Side(b, sides.cross)
    in_sqlite = _InSqlite(a, b) if sides.cross else None
    a_views = {sides.key(v.name): v for v in a.views}
    b_views = {sides.key(v.name): v for v in b.views}
    for key, va in a_views.items():
        vb = b_views.get(key)
        if vb is None:
            out.append(
                Difference(
                    "missing_view",
                    va.name,
                    va.name,
                    va,
                    None,
                    va.sql,
                    None,
                    True,
                    f"view {va.name} is in a only",
                )
            )
        elif a_side.key(va.sql) != b_side.key(vb.sql) and not (
            in_sqlite is not None and in_sqlite.same(va, vb)
        ):
            out.append(
                Difference(
                    "view",
                    va.name,
                    va.name,
                    va,
                    vb,
                    va.sql,
                    vb.sql,
                    True,
                    f"view {va.name} is defined differently in a and b",
                )
            )
    for key, vb in b_views.items():
        if key not in a_views:
            out.append(
                Difference(
                    "extra_view",
                    vb.name,
                    vb.name,
                    None,
                    vb,
                    None,
                    vb.sql,
                    True,
                    f"view {vb.name} is in b only",
                )
            )
    return out


def view_key(view: View, schema: Schema, sides: Sides) -> str:
    """A view's definition in the one normal form both sides are compared in."""
    return _Side(schema, sides.cross).key(view.sql)


class _InSqlite:
    """Views compared in SQLite's terms, the PostgreSQL one translated as a migration into
    SQLite translates it (a numeric ``sum`` made exact, ``LIKE`` as ``GLOB``): a copy made
    that way matches its source, which translated the other way it would not."""

    def __init__(self, a: Schema, b: Schema) -> None:
        self.a_is_pg = a.dialect == "postgresql"
        self.pg = a if self.a_is_pg else b
        self._relations: dict[str, Any] | None = None

    def same(self, va: View, vb: View) -> bool:
        pg_view, lite_view = (va, vb) if self.a_is_pg else (vb, va)
        mine = diff_sql.sqlite_key(pg_view.sql, "postgresql", query=self._translate)
        return mine is not None and mine == diff_sql.sqlite_key(lite_view.sql, "sqlite")

    def _translate(self, sql: str) -> str:
        from arrowferry.dialects.translate import translate_query

        return translate_query(sql, "postgresql", "sqlite", relations=self.relations())

    def relations(self) -> dict[str, Any]:
        from arrowferry.dialects.translate.common import typed_relation

        if self._relations is None:
            enums = frozenset(self.pg.enums)
            self._relations = {
                t.name.lower(): typed_relation(
                    t.name, [(c.name, c.type, c.declared) for c in t.columns], enums
                )
                for t in self.pg.tables
            }
        return self._relations


class _Side:
    """One schema's tables and views as a view's SQL names them, built once per side."""

    def __init__(self, schema: Schema, cross: bool) -> None:
        self.dialect = schema.dialect
        self.translate = cross and schema.dialect == "sqlite"
        self.schema = schema
        self._relations: dict[str, Any] | None = None
        self._columns: dict[str, object] | None = None

    def relations(self) -> dict[str, Any]:
        from arrowferry.dialects.translate import Relation

        if self._relations is None:
            self._relations = {
                t.name.lower(): Relation(
                    t.name, {c.name.lower(): (c.name, c.type.kind) for c in t.columns}
                )
                for t in self.schema.tables
            }
        return self._relations

    def columns(self) -> dict[str, object]:
        if self._columns is None:
            self._columns = {
                t.name.lower(): {c.name.lower(): "text" for c in t.columns}
                for t in self.schema.tables
            }
            self._columns.update(
                {
                    v.name.lower(): {n.lower(): "text" for n, _ in v.columns}
                    for v in self.schema.views
                    if v.columns
                }
            )
        return self._columns

    def key(self, sql: str) -> str:
        from sqlglot.optimizer.qualify import qualify

        from arrowferry.dialects.translate import translate_sqlite_view

        text, read = sql, self.dialect
        if self.translate:
            # a view the translator cannot carry is compared as SQLite wrote it
            with contextlib.suppress(Exception):
                text, read = translate_sqlite_view(sql, self.relations()), "postgresql"
        tree = diff_sql.parse(text, read)
        if tree is None:
            return diff_sql.plain(sql)
        try:
            lowered: exp.Expr = tree.transform(_lower_identifier)
            # qualified as pg_get_viewdef writes a view: every column with its table, *
            # spelled out; a query it cannot qualify is compared as written
            with contextlib.suppress(Exception):
                lowered = qualify(
                    lowered,
                    schema=self.columns(),
                    dialect="postgres",
                    validate_qualify_columns=False,
                    quote_identifiers=False,
                    identify=False,
                )
            return diff_sql.canonical_sql(_anonymous(_sorted_by_expressions(lowered)))
        except Exception:  # a tree the normal form does not know
            return diff_sql.plain(sql)


def _sorted_by_expressions(tree: exp.Expr) -> exp.Expr:
    """``ORDER BY`` an output name as the expression it names, as ``pg_get_viewdef``
    writes it (``ORDER BY t.name``, ``ORDER BY (count(*))``); qualifying leaves such a
    name bare, so a view translated from SQLite differed from its own copy."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        order = select.args.get("order")
        if order is None:
            continue
        outputs = {e.alias.lower(): e.this for e in select.expressions if isinstance(e, exp.Alias)}
        for ordered in order.expressions:
            named = ordered.this
            if isinstance(named, exp.Column) and not named.table and named.name.lower() in outputs:
                ordered.set("this", outputs[named.name.lower()].copy())
    return tree


def _anonymous(tree: exp.Expr) -> exp.Expr:
    """The names a query's text chooses but its result does not show: table aliases
    (``products_1`` where PostgreSQL tells a subquery's table apart), the output names
    of a scalar subquery and of every UNION branch after the first."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    count = 0
    for scope in traverse_scope(tree):
        names = {}
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table):
                count += 1
                names[alias] = f"_t{count}"
                source.set("alias", exp.TableAlias(this=exp.to_identifier(names[alias])))
        for column in scope.columns:
            if column.table in names:
                column.set("table", exp.to_identifier(names[column.table]))
    for select in tree.find_all(exp.Select):
        parent = select.parent
        later_branch = isinstance(parent, exp.SetOperation) and parent.expression is select
        scalar = isinstance(parent, exp.Subquery) and not isinstance(
            parent.parent, exp.From | exp.Join
        )
        if later_branch or scalar:
            select.set("expressions", [_unaliased(e) for e in select.expressions])
    return tree


def _unaliased(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return node.this if isinstance(node, exp.Alias) else node


def _lower_identifier(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    if isinstance(node, exp.Table) and node.args.get("db") is not None:
        # pg_get_viewdef names the schema of a table outside the search path: a view is
        # compared within its own schema, whichever that is
        node.set("db", None)
    if isinstance(node, exp.Identifier):
        return exp.Identifier(this=str(node.this).lower(), quoted=False)
    return node
