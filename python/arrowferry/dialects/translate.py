"""SQL expressions and views translated between dialects with sqlglot.

SQLite resolves identifiers case-insensitively, while the PostgreSQL DDL that
arrowferry writes quotes every name, so each column reference is rewritten to the
exact spelling of the column it means before it is quoted.

sqlglot is imported on first use: most databases have no CHECK, default expression or
view to translate, and importing it costs a quarter of a second and ~17 MB.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

_DIALECT = {"sqlite": "sqlite", "postgresql": "postgres"}


class TranslationError(ValueError):
    """An expression that sqlglot cannot carry into the target dialect."""


def translate_expression(sql: str, source: str, target: str, *, columns: Iterable[str] = ()) -> str:
    """Translate one scalar expression (a CHECK, a default, an index key or WHERE).

    >>> translate_expression("[Discount]>=(0)", "sqlite", "postgresql", columns=["Discount"])
    '"Discount" >= (0)'
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    spelling = {c.lower(): c for c in columns}
    try:
        tree = sqlglot.parse_one(sql, read=_DIALECT[source])
    except SqlglotError as err:
        raise TranslationError(f"cannot parse {sql!r}: {err}") from err
    tree = tree.transform(lambda node: _respell(node, spelling))
    try:
        return tree.sql(dialect=_DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate {sql!r}: {err}") from err


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
        return tree.sql(dialect=_DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err
