"""SQL expressions and views translated between dialects with sqlglot.

SQLite resolves identifiers case-insensitively, while the PostgreSQL DDL that
arrowferry writes quotes every name, so each column reference is rewritten to the
exact spelling of the column it means before it is quoted.

sqlglot translates the syntax; what a query *means* differs between the engines in
ways it does not model (type affinity, LIKE's case rules, casts, date formatting), and
each direction keeps the source's meaning in a module of its own: ``to_postgresql``
(SQLite's semantics in PostgreSQL) and ``to_sqlite`` (PostgreSQL's in SQLite), on the
name resolution in ``common``. What has no faithful form raises TranslationError, and
the caller names it in a warning.

sqlglot is imported on first use: most databases have no CHECK, default expression or
view to translate, and importing it costs a quarter of a second and ~17 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.translate.common import (
    DIALECT,
    Relation,
    Sizes,
    TranslationError,
    innermost_first,
    relations_read,
    rename_all,
    respell,
    respell_scope,
)
from arrowferry.dialects.translate.json_build import (
    json_builds_as_postgresql,
    json_builds_as_sqlite,
)
from arrowferry.dialects.translate.sqlite_text import text_of_values as sqlite_text_of_values
from arrowferry.dialects.translate.text_rules import text_rules
from arrowferry.dialects.translate.to_postgresql import (
    as_conditions,
    ascii_case,
    glob_as_regex,
    like_as_postgresql,
    sqlite_functions,
    sqlite_meaning,
)
from arrowferry.dialects.translate.to_sqlite import (
    check_casts,
    enum_labels,
    in_list,
    like_as_sqlite,
    numeric_arithmetic,
    numeric_division,
    refuse_changed_casts,
    refuse_ordered_aggregates,
    text_of_values,
    to_char_as_strftime,
    untyped_null,
)

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = [
    "Relation",
    "TranslationError",
    "is_constant",
    "relations_read",
    "rename_identifiers",
    "translate_expression",
    "translate_query",
    "translate_sqlite_view",
]


def translate_expression(
    sql: str,
    source: str,
    target: str,
    *,
    columns: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    condition: bool = False,
) -> str:
    """Translate one scalar expression (a CHECK, a default, an index key or WHERE).

    ``aliases`` renames column references (case-insensitively): a domain's CHECK says
    ``VALUE`` where a column's says the column's name. ``kinds``: each column's type
    kind by (target) name, from SQLite: a comparison then means what it meant there
    (``active IN (0, 1)`` on a BOOLEAN column is ``IN (false, true)``). ``condition``:
    the expression is read as true or false (a CHECK, an index predicate), so from SQLite
    a number there is ``(x <> 0)``, as SQLite reads it.

    >>> translate_expression("[Discount]>=(0)", "sqlite", "postgresql", columns=["Discount"])
    '"Discount" >= (0)'
    >>> translate_expression("VALUE > 0", "postgresql", "sqlite", aliases={"value": "qty"})
    '"qty" > 0'
    >>> translate_expression("flag IN (0, 1)", "sqlite", "postgresql", kinds={"flag": "boolean"})
    '"flag" IN (FALSE, TRUE)'
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    spelling = {c.lower(): c for c in columns}
    spelling.update((k.lower(), v) for k, v in (aliases or {}).items())
    try:
        tree = sqlglot.parse_one(sql, read=DIALECT[source])
    except SqlglotError as err:
        raise TranslationError(f"cannot parse {sql!r}: {err}") from err
    tree = tree.transform(lambda node: respell(node, spelling))
    if target == "sqlite":
        known = {id(c): kind for c, kind in _column_kinds(tree, kinds or {})}
        enum_labels(tree, known)  # 'paid'::status against an enum column: the label's text
        tree = json_builds_as_sqlite(tree, known).transform(untyped_null)
        tree = tree.transform(in_list).transform(like_as_sqlite)
        check_casts(tree)
    elif source == "sqlite":
        known = {id(c): kind for c, kind in _column_kinds(tree, kinds or {})}
        tree = sqlite_text_of_values(tree, known)
        tree = json_builds_as_postgresql(sqlite_functions(tree, known), known)
        tree = as_conditions(tree, known, whole=condition)
        tree = tree.transform(lambda node: sqlite_meaning(node, known), copy=False)
        tree = tree.transform(like_as_postgresql).transform(glob_as_regex)
    try:
        return tree.sql(dialect=DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate {sql!r}: {err}") from err


def _column_kinds(tree: exp.Expression, kinds: Mapping[str, str]) -> list[tuple[Any, str]]:
    from sqlglot import exp

    lower = {k.lower(): v for k, v in kinds.items()}
    return [
        (column, lower[column.name.lower()])
        for column in tree.find_all(exp.Column)
        if column.name.lower() in lower
    ]


def is_constant(sql: str, source: str) -> bool:
    """Whether an expression is a literal, possibly cast: no column, no function call.

    >>> is_constant("'{}'::jsonb", "postgresql"), is_constant("now()", "postgresql")
    (True, False)
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read=DIALECT[source])
    except SqlglotError:
        return False
    return not any(
        isinstance(node, exp.Column)
        or (isinstance(node, exp.Func) and not isinstance(node, (exp.Cast, exp.Array)))
        for node in tree.walk()
    )


def translate_query(
    sql: str,
    source: str,
    target: str,
    *,
    schema: str | None = None,
    relations: Mapping[str, Relation] | None = None,
    notes: list[str] | None = None,
    rename: Callable[[str], str] | None = None,
    text_notes: list[str] | None = None,
) -> str:
    """Translate a whole SELECT (a view body).

    ``schema``: the source schema, whose name is dropped from table references
    (``pg_get_viewdef`` qualifies tables outside the search path, and a SQLite view
    may not name another database). ``relations``: the tables' column types, by
    lower-case name, so casts whose meaning differs in SQLite are recognised (into
    SQLite: ``2.7::integer`` is 3 in PostgreSQL, ``CAST(2.7 AS INTEGER)`` 2 in SQLite).
    ``notes``: receives each computation over a numeric column that SQLite does in
    floating point, where PostgreSQL's numeric is exact (into SQLite; ``sum`` of a
    numeric(p,s) column with p <= 15 is rewritten to be exact instead). ``rename``: the
    run's identifier policy, applied to every name once ``relations`` resolved them.
    ``text_notes``: receives each computation over text that SQLite does by other rules
    (into SQLite: case folding of non-ASCII letters, comparisons under a locale's
    collation; :mod:`arrowferry.dialects.translate.text_rules`).
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    def unqualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and schema is not None and node.db == schema:
            node.set("db", None)
        return node

    try:
        trees = sqlglot.parse(sql, read=DIALECT[source])
        if len(trees) != 1 or trees[0] is None:
            raise TranslationError("a view body must be exactly one statement")
        tree = trees[0].transform(unqualify)
        if target == "sqlite":
            kinds: dict[int, str] = {}
            sizes: Sizes = {}
            collated: dict[int, str] = {}
            if relations is not None:
                from sqlglot.optimizer.scope import traverse_scope

                for scope in traverse_scope(tree):
                    respell_scope(scope, relations, kinds, sizes, collated)
            text_rules(tree, kinds, collated, text_notes if text_notes is not None else [])
            tree = json_builds_as_sqlite(tree, kinds).transform(untyped_null, copy=False)
            refuse_changed_casts(tree, kinds)
            refuse_ordered_aggregates(tree)
            text_of_values(tree, kinds)
            to_char_as_strftime(tree, kinds)
            numeric_arithmetic(tree, kinds, sizes, notes if notes is not None else [])
            tree = tree.transform(lambda node: numeric_division(node, kinds), copy=False)
            tree = tree.transform(in_list, copy=False).transform(like_as_sqlite, copy=False)
            enum_labels(tree, kinds)
            check_casts(tree)
        if rename is not None:
            rename_all(tree, rename)
        return tree.sql(dialect=DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err


def translate_sqlite_view(
    sql: str, relations: Mapping[str, Relation], rename: Callable[[str], str] | None = None
) -> str:
    """A SQLite view's SELECT as PostgreSQL, meaning what it meant in SQLite.

    ``relations``: every table and view the view may read, by lower-case source name.
    SQLite resolves names case-insensitively, and compares a TEXT column with a number
    by turning the number into text (``Discontinued = 0`` matches ``'0'``), where
    PostgreSQL would refuse ``text = integer``; ``DATETIME('1997-01-01')`` is SQLite's
    normalised timestamp text. Arithmetic on text (``'a' + 'b'`` is 0 in SQLite: no
    faithful translation) is refused with the reason; anything else SQLite-only is left
    to fail loudly when the view is created.
    ``rename``: the run's identifier policy, applied to every name once resolved.

    >>> rel = {"products": Relation("Products", {"discontinued": ("Discontinued", "text")})}
    >>> translate_sqlite_view("SELECT * FROM products WHERE discontinued = 0", rel)
    'SELECT * FROM "Products" WHERE "Discontinued" = \\'0\\''
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.scope import traverse_scope

    try:
        trees = sqlglot.parse(sql, read="sqlite")
        if len(trees) != 1 or trees[0] is None:
            raise TranslationError("a view body must be exactly one statement")
        tree = trees[0]
        kinds: dict[int, str] = {}  # id(column node) -> the column's target kind
        for scope in traverse_scope(tree):
            respell_scope(scope, relations, kinds)
        for table in tree.find_all(exp.Table):
            relation = relations.get(table.name.lower())
            if relation is not None and not table.db:
                table.set("this", exp.to_identifier(relation.name, quoted=True))
        tree = sqlite_text_of_values(tree, kinds)
        tree = json_builds_as_postgresql(sqlite_functions(tree, kinds), kinds)
        tree = as_conditions(tree, kinds)
        tree = tree.transform(lambda node: sqlite_meaning(node, kinds), copy=False)
        tree = tree.transform(like_as_postgresql).transform(glob_as_regex)
        tree = innermost_first(tree, ascii_case)
        if rename is not None:
            rename_all(tree, rename)
        return str(tree.sql(dialect="postgres", identify=True))
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err


def rename_identifiers(
    sql: str,
    dialect: str,
    rename: Callable[[str], str],
    *,
    columns: Mapping[str, str] | None = None,
    relations: Mapping[str, Relation] | None = None,
) -> str:
    """``sql`` (an expression, or a query when ``relations`` are given) in its own
    dialect, every name through ``rename``. ``columns`` (old -> new) and ``relations``
    resolve names as the dialect does (SQLite: case-insensitively) before the rest are
    renamed. SQL that does not parse is returned as it is.

    >>> rename_identifiers("OrderId > 0", "sqlite", str.lower, columns={"OrderID": "orderid"})
    '"orderid" > 0'
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        trees = sqlglot.parse(sql, read=DIALECT[dialect])
        if len(trees) != 1 or trees[0] is None:
            return sql
        tree = trees[0]
        if columns:
            spelling = {k.lower(): v for k, v in columns.items()}
            tree = tree.transform(lambda node: respell(node, spelling))
        if relations is not None:
            from sqlglot.optimizer.scope import traverse_scope

            for scope in traverse_scope(tree):
                respell_scope(scope, relations, {})
        rename_all(tree, rename)
        return tree.sql(dialect=DIALECT[dialect], identify=True)
    except SqlglotError:
        return sql
