"""SQL expressions in one normal form, so two schemas' CHECKs, index expressions and
predicates, defaults and views compare by what they say rather than how it is spelt.

A SQLite side is first translated to PostgreSQL by the migration's own translator
(:mod:`arrowferry.dialects.translate`); then both are normalised: names' case and quotes,
whitespace, redundant parentheses, casts of literals and PostgreSQL's own rewrites
(``IN`` -> ``= ANY (ARRAY[...])``, ``BETWEEN`` -> two comparisons, ``IS NOT NULL`` ->
``NOT ... IS NULL``, the ``::text`` casts it puts on varchar columns and its implicit
numeric widenings), with AND / OR chains flattened and every nested operator in
parentheses. Pure: no database; sqlglot is imported on first use.
"""

from __future__ import annotations

import contextlib
import decimal
import re
from collections.abc import Callable, Mapping
from functools import lru_cache, reduce
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

_SQLGLOT = {"sqlite": "sqlite", "postgresql": "postgres"}


def parse(sql: str, dialect: str) -> exp.Expr | None:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(sql, read=_SQLGLOT[dialect])
    except (SqlglotError, ValueError, RecursionError):
        return None


def expression_key(
    sql: str,
    dialect: str,
    *,
    cross: bool,
    columns: tuple[str, ...] = (),
    kinds: tuple[tuple[str, str], ...] = (),
    aliases: tuple[tuple[str, str], ...] = (),
    condition: bool = False,
) -> str:
    """A CHECK, index key or predicate in one normal form. ``cross``: the other side is
    the other dialect, so a SQLite expression is first translated to PostgreSQL as a
    migration would (``kinds``: its columns' type kinds, so ``flag IN (0, 1)`` on a
    boolean reads as ``IN (false, true)``). ``aliases``: (old, new) column names, the
    renames given for this side. ``condition``: read as true or false (a CHECK, an index
    predicate), so a SQLite number there is ``(x <> 0)``, as the migration writes it."""
    return _expression_key(sql, dialect, cross, columns, kinds, aliases, condition)


@lru_cache(maxsize=8192)
def _expression_key(
    sql: str,
    dialect: str,
    cross: bool,
    columns: tuple[str, ...],
    kinds: tuple[tuple[str, str], ...],
    aliases: tuple[tuple[str, str], ...],
    condition: bool,
) -> str:
    from arrowferry.dialects.translate import translate_expression

    text, read = sql, dialect
    if cross and dialect == "sqlite":
        # what the translator cannot carry (it raises TranslationError, or fails on an
        # expression it never expected) is compared as SQLite wrote it: it differs, as
        # it would on the other side; one odd expression never stops the comparison
        with contextlib.suppress(Exception):
            text = translate_expression(
                sql,
                "sqlite",
                "postgresql",
                columns=columns,
                kinds=dict(kinds),
                condition=condition,
            )
            read = "postgresql"
    tree = parse(text, read)
    if tree is None:
        return plain(sql)
    try:
        return canonical_sql(tree, dict(aliases))
    except Exception:  # a tree the normal form does not know: as written
        return plain(sql)


def sqlite_key(
    sql: str,
    dialect: str,
    *,
    columns: tuple[str, ...] = (),
    kinds: tuple[tuple[str, str], ...] = (),
    query: Callable[[str], str] | None = None,
) -> str | None:
    """An expression (or, with ``query``, a view's SELECT) in SQLite's terms, as a
    migration into SQLite writes it: a PostgreSQL side translated (``query`` translates
    a whole SELECT), a SQLite side as it is; both normalised. The second key a comparison
    across the two tries, so a copy made into SQLite (``LIKE`` written ``GLOB``, a numeric
    sum made exact) matches its source. None when it has no SQLite form."""
    return _sqlite_key(sql, dialect, columns, kinds, query)


@lru_cache(maxsize=8192)
def _sqlite_key(
    sql: str,
    dialect: str,
    columns: tuple[str, ...],
    kinds: tuple[tuple[str, str], ...],
    query: Callable[[str], str] | None,
) -> str | None:
    from sqlglot import exp

    from arrowferry.dialects.translate import translate_expression

    text = sql
    if dialect == "postgresql":
        try:
            text = (
                query(sql)
                if query is not None
                else translate_expression(
                    sql, "postgresql", "sqlite", columns=columns, kinds=dict(kinds)
                )
            )
        except Exception:  # no SQLite form (TranslationError, or a tree it never expected)
            return None
    tree = parse(text, "sqlite")
    if tree is None:
        return None

    def bare(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Paren) and not isinstance(node.this, exp.Subquery | exp.Select):
            inside: exp.Expr = node.this
            return inside
        if isinstance(node, exp.Identifier):
            return exp.Identifier(this=str(node.this).lower(), quoted=False)
        return node

    try:
        return str(tree.transform(bare).sql(dialect="sqlite"))
    except Exception:
        return None


def plain(sql: str) -> str:
    """An expression as written, up to case and spacing."""
    return " ".join(sql.split()).lower()


def canonical_sql(tree: exp.Expr, aliases: Mapping[str, str] | None = None) -> str:
    """The normal form of a parsed expression or query, as PostgreSQL text."""
    from sqlglot import exp

    renames = {k.lower(): v for k, v in (aliases or {}).items()}
    tree = tree.copy()
    for column in tree.find_all(exp.Column):
        if column.name.lower() in renames:
            column.set("this", exp.to_identifier(renames[column.name.lower()]))
    for _ in range(50):  # each pass rewrites what the last one uncovered
        changed = False
        for node in list(tree.walk()):
            new = _rewrite(node)
            if new is not node:
                if node is tree:
                    tree = new
                else:
                    node.replace(new)
                changed = True
        if not changed:
            break
    return _parenthesised(tree).sql(dialect="postgres")


def _rewrite(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    if isinstance(node, exp.Paren) and not isinstance(node.this, exp.Subquery | exp.Select):
        inside: exp.Expr = node.this
        return inside
    default = node.args.get("default") if isinstance(node, exp.Case) else None
    if isinstance(default, exp.Cast | exp.TryCast):
        default = default.this
    if isinstance(default, exp.Null):  # PostgreSQL writes a CASE's missing ELSE as NULL
        bare = node.copy()
        bare.set("default", None)
        return bare
    if isinstance(node, exp.Cast | exp.TryCast):
        inner: exp.Expr = node.this
        if _literal_like(inner):
            return inner
        target = node.to.sql(dialect="postgres").upper()
        if isinstance(inner, exp.Column) and target in _TEXT_TYPES:
            return inner  # PostgreSQL's own cast of a varchar column for a text operator
        if target in _WIDER_NUMBERS:
            # PostgreSQL spells out its implicit numeric widenings (int * float8 is
            # written (x)::double precision * y), where the other side has none
            return inner
    if isinstance(node, exp.EQ | exp.NEQ):
        values = _any_array(node.expression, "ANY" if isinstance(node, exp.EQ) else "ALL")
        if values is not None:
            found = exp.In(this=node.this, expressions=values)
            return found if isinstance(node, exp.EQ) else exp.Not(this=found)
    if isinstance(node, exp.Is) and node.args.get("negate"):
        return exp.Not(this=exp.Is(this=node.this, expression=node.expression))
    if isinstance(node, exp.Between):
        low = exp.GTE(this=node.this.copy(), expression=node.args["low"])
        return exp.And(this=low, expression=exp.LTE(this=node.this, expression=node.args["high"]))
    if isinstance(node, exp.Identifier) and (node.quoted or str(node.this).lower() != node.this):
        return exp.Identifier(this=str(node.this).lower(), quoted=False)
    if (
        isinstance(node, exp.Nullif)
        and isinstance(node.this, exp.Nullif)
        and node.this.expression == node.expression
    ):
        return node.this  # SQLite's x / 0 is NULL: translated, a divisor gets one more
    if isinstance(node, exp.Join) and node.args.get("kind") == "INNER":
        node.set("kind", None)  # JOIN is INNER JOIN; PostgreSQL writes the first
    if isinstance(node, exp.Literal) and node.is_string:
        midnight = _MIDNIGHT.fullmatch(str(node.this))
        if midnight:  # a date compared with a timestamp: PostgreSQL writes its midnight
            return exp.Literal.string(midnight.group(1))
    if isinstance(node, exp.Literal) and not node.is_string:
        number = _decimal(str(node.this))
        if number is not None and number.is_finite():
            text = format(number.normalize(), "f")
            if text != node.this:
                return exp.Literal.number(text)
    return node


_WIDER_NUMBERS = {"BIGINT", "NUMERIC", "DECIMAL", "DOUBLE PRECISION", "REAL", "FLOAT"}
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2}) 00:00:00(?:\.0*)?")
_TEXT_TYPES = {"TEXT", "VARCHAR", "CHAR", "BPCHAR", "CHARACTER VARYING", "NAME"}


def _literal_like(node: exp.Expr) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Literal | exp.Boolean | exp.Null):
        return True
    if isinstance(node, exp.Neg):
        return _literal_like(node.this)
    if isinstance(node, exp.Array):
        return all(_literal_like(e) for e in node.expressions)
    return False


def _any_array(node: exp.Expr, word: str) -> list[exp.Expr] | None:
    """The values of ``ANY (ARRAY[...])`` / ``ALL (ARRAY[...])``, else None."""
    from sqlglot import exp

    if word == "ANY" and isinstance(node, exp.Any):
        inner = node.this
    elif isinstance(node, exp.Anonymous) and str(node.this).upper() == word and node.expressions:
        inner = node.expressions[0]
    elif word == "ALL" and isinstance(node, exp.All):
        inner = node.this
    else:
        return None
    while isinstance(inner, exp.Paren | exp.Cast):
        inner = inner.this
    return list(inner.expressions) if isinstance(inner, exp.Array) else None


def _parenthesised(tree: exp.Expr) -> exp.Expr:
    """Every operator inside another in parentheses, so that ``(a + b) * c`` and
    ``a + b * c``, alike once redundant parentheses are gone, stay apart."""
    from sqlglot import exp

    for top in [n for n in tree.walk() if isinstance(n, exp.Connector)]:
        if type(top.parent) is type(top):
            continue  # flattened with its topmost
        parts = _chain(top, type(top))
        if len(parts) > 2:  # AND / OR chains left-deep, however the source grouped them
            flat = reduce(lambda x, y: type(top)(this=x, expression=y), parts)
            if top is tree:
                tree = flat
            else:
                top.replace(flat)
    nested = [
        node
        for node in tree.walk()
        if isinstance(node, exp.Binary | exp.Not)
        and isinstance(node.parent, exp.Binary | exp.Not | exp.Neg | exp.In)
    ]
    nested.sort(key=lambda n: -n.depth)  # innermost first: an outer copy keeps them
    for node in nested:
        node.replace(exp.Paren(this=node.copy()))
    return tree


def _chain(node: exp.Expr, kind: type) -> list[exp.Expr]:
    if isinstance(node, kind):
        return _chain(node.this, kind) + _chain(node.expression, kind)
    return [node]


def _decimal(text: str) -> decimal.Decimal | None:
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
