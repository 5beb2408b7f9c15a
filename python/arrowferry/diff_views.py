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
    columns = {t.name.lower(): {c.name.lower(): "text" for c in t.columns} for t in schema.tables}
    columns.update(
        {
            v.name.lower(): {n.lower(): "text" for n, _ in v.columns}
            for v in schema.views
            if v.columns
        }
    )
    lowered = tree.transform(_lower_identifier)
    try:
        lowered = qualify(
            lowered,
            schema=columns,
            dialect="postgres",
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
    except (SqlglotError, ValueError, KeyError):
        pass  # compared as written
    return rules.canonical_sql(lowered)


def _lower_identifier(node: object) -> object:
    from sqlglot import exp

    if isinstance(node, exp.Identifier):
        return exp.Identifier(this=str(node.this).lower(), quoted=False)
    return node
