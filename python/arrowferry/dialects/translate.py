"""SQL expressions and views translated between dialects with sqlglot.

SQLite resolves identifiers case-insensitively, while the PostgreSQL DDL that
arrowferry writes quotes every name, so each column reference is rewritten to the
exact spelling of the column it means before it is quoted.

sqlglot is imported on first use: most databases have no CHECK, default expression or
view to translate, and importing it costs a quarter of a second and ~17 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

_DIALECT = {"sqlite": "sqlite", "postgresql": "postgres"}


class TranslationError(ValueError):
    """An expression that sqlglot cannot carry into the target dialect."""


def translate_expression(
    sql: str,
    source: str,
    target: str,
    *,
    columns: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Translate one scalar expression (a CHECK, a default, an index key or WHERE).

    ``aliases`` renames column references (case-insensitively): a domain's CHECK says
    ``VALUE`` where a column's says the column's name.

    >>> translate_expression("[Discount]>=(0)", "sqlite", "postgresql", columns=["Discount"])
    '"Discount" >= (0)'
    >>> translate_expression("VALUE > 0", "postgresql", "sqlite", aliases={"value": "qty"})
    '"qty" > 0'
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    spelling = {c.lower(): c for c in columns}
    spelling.update((k.lower(), v) for k, v in (aliases or {}).items())
    try:
        tree = sqlglot.parse_one(sql, read=_DIALECT[source])
    except SqlglotError as err:
        raise TranslationError(f"cannot parse {sql!r}: {err}") from err
    tree = tree.transform(lambda node: _respell(node, spelling))
    if target == "sqlite":
        tree = tree.transform(_in_list)
        _check_casts(tree)
    try:
        return tree.sql(dialect=_DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate {sql!r}: {err}") from err


def is_constant(sql: str, source: str) -> bool:
    """Whether an expression is a literal, possibly cast: no column, no function call.

    >>> is_constant("'{}'::jsonb", "postgresql"), is_constant("now()", "postgresql")
    (True, False)
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read=_DIALECT[source])
    except SqlglotError:
        return False
    return not any(
        isinstance(node, exp.Column)
        or (isinstance(node, exp.Func) and not isinstance(node, (exp.Cast, exp.Array)))
        for node in tree.walk()
    )


def _in_list(node: exp.Expression) -> exp.Expression:
    """PostgreSQL stores ``x IN ('a', 'b')`` as ``x = ANY (ARRAY['a', 'b'])``, and
    ``NOT IN`` as ``<> ALL (...)``; SQLite has neither ANY, ALL nor arrays."""
    from sqlglot import exp

    if not isinstance(node, (exp.EQ, exp.NEQ)):
        return node
    quantified = node.expression
    if isinstance(node, exp.EQ) and isinstance(quantified, exp.Any):
        items = quantified.this
    elif (
        isinstance(node, exp.NEQ)
        and isinstance(quantified, exp.Anonymous)
        and quantified.name.upper() == "ALL"
        and len(quantified.expressions) == 1
    ):
        items = quantified.expressions[0]
    else:
        return node
    while isinstance(items, exp.Paren):
        items = items.this
    if not isinstance(items, exp.Array):
        return node
    member = exp.In(this=node.this, expressions=list(items.expressions))
    return member if isinstance(node, exp.EQ) else exp.Not(this=member)


# Casts SQLite performs as PostgreSQL means them. SQLite casts to any other type name
# by that name's affinity: CAST('{}' AS JSONB) is 0, CAST('t' AS INTEGER) (sqlglot's
# boolean) is 0, CAST('1 day' AS INTERVAL) is 1: a translation that silently changes
# the value, so it is refused.
_SQLITE_CASTS = {
    "TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "BPCHAR", "NAME",
    "TINYINT", "SMALLINT", "INT", "BIGINT",
    "FLOAT", "DOUBLE", "DECIMAL",
    "DATE", "TIME", "TIMESTAMP", "DATETIME",
}  # fmt: skip


def _check_casts(tree: exp.Expression) -> None:
    from sqlglot import exp

    for cast in tree.find_all(exp.Cast):
        kind = cast.to.this.name if isinstance(cast.to, exp.DataType) else ""
        if kind not in _SQLITE_CASTS:
            raise TranslationError(
                f"{cast.sql(dialect='postgres')} casts to {cast.to.sql(dialect='postgres')}, "
                "which SQLite would cast by the type "
                "name's affinity instead (CAST('{}' AS JSONB) is 0 there)"
            )


def _respell(node: exp.Expression, spelling: dict[str, str]) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.Column) and not node.table:
        name = spelling.get(node.name.lower())
        if name is not None:
            return exp.column(name, quoted=True)
    return node


def translate_query(sql: str, source: str, target: str, *, schema: str | None = None) -> str:
    """Translate a whole SELECT (a view body).

    ``schema``: the source schema, whose name is dropped from table references
    (``pg_get_viewdef`` qualifies tables outside the search path, and a SQLite view
    may not name another database).
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    def unqualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and schema is not None and node.db == schema:
            node.set("db", None)
        return node

    try:
        trees = sqlglot.parse(sql, read=_DIALECT[source])
        if len(trees) != 1 or trees[0] is None:
            raise TranslationError("a view body must be exactly one statement")
        tree = trees[0].transform(unqualify)
        if target == "sqlite":
            tree = tree.transform(_in_list)
            _check_casts(tree)
        return tree.sql(dialect=_DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err
