"""Views compared: by name, their definitions after translation into one dialect.

A SQLite view is translated to PostgreSQL as a migration creates it
(:func:`arrowferry.dialects.translate.translate_sqlite_view`); both sides are then
qualified (every column named with its table, ``*`` spelled out, as ``pg_get_viewdef``
writes them) and normalised like any expression (:func:`diff_rules.canonical_sql`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from arrowferry import diff_rules as rules
from arrowferry.diff import Difference
from arrowferry.model import Schema, View

if TYPE_CHECKING:
    from sqlglot import exp

    from arrowferry.diff_compare import Sides


def compare_views(a: Schema, b: Schema, sides: Sides) -> list[Difference]:
    out: list[Difference] = []
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
        elif view_key(va, a, sides) != view_key(vb, b, sides):
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
    return _view_key(view.sql, schema, sides.cross)


def _view_key(sql: str, schema: Schema, cross: bool) -> str:
    import sqlglot
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify

    from arrowferry.dialects.translate import Relation, TranslationError, translate_sqlite_view

    text, read = sql, schema.dialect
    if cross and schema.dialect == "sqlite":
        relations = {
            t.name.lower(): Relation(
                t.name, {c.name.lower(): (c.name, c.type.kind) for c in t.columns}
            )
            for t in schema.tables
        }
        with contextlib.suppress(TranslationError):
            text, read = translate_sqlite_view(sql, relations), "postgresql"
    dialect = "postgres" if read == "postgresql" else "sqlite"
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except SqlglotError:
        return " ".join(sql.split()).lower()
    columns: dict[str, object] = {
        t.name.lower(): {c.name.lower(): "text" for c in t.columns} for t in schema.tables
    }
    columns.update(
        {
            v.name.lower(): {n.lower(): "text" for n, _ in v.columns}
            for v in schema.views
            if v.columns
        }
    )
    lowered: exp.Expr = tree.transform(_lower_identifier)
    with contextlib.suppress(SqlglotError, ValueError, KeyError):  # else compared as written
        lowered = qualify(
            lowered,
            schema=columns,
            dialect="postgres",
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
    return rules.canonical_sql(_anonymous(lowered))


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

    if isinstance(node, exp.Identifier):
        return exp.Identifier(this=str(node.this).lower(), quoted=False)
    return node
