"""What a schema diff counts as the same: types after mapping, defaults and SQL
expressions after translation. Pure: no database; sqlglot is imported on first use.

Types travel through the neutral model: a type on side a is rendered in b's dialect and
read back (``Dialect.type_ddl`` then ``Dialect.parse_type``), exactly as a migration
would declare it there, and compared with b's. Whether rows of one type land in another
without loss (``fits``) is the migration's own rule of thumb: a widening keeps every
value, a narrowing or a change of family may not.

Defaults and CHECK / index expressions are brought into one dialect (a SQLite side is
translated to PostgreSQL by the migration's own translator) and normalised: names'
case and quotes, whitespace, redundant parentheses, casts of literals and PostgreSQL's
own rewrites (``IN`` -> ``= ANY (ARRAY[...])``, ``BETWEEN`` -> two comparisons, the
``::text`` casts it puts on varchar columns). A constant default is compared as the
value it gives a new row, and every reading of the clock as one.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Mapping
from functools import lru_cache, reduce
from typing import TYPE_CHECKING, Any

from arrowferry.model import DataType

if TYPE_CHECKING:
    from sqlglot import exp

_INTS = {"boolean": 1, "int16": 5, "int32": 10, "int64": 19}  # decimal digits each holds
_INT_RANK = ("boolean", "int16", "int32", "int64")
_TEMPORAL = {"date", "time", "timestamp", "timestamptz"}
_SQLGLOT = {"sqlite": "sqlite", "postgresql": "postgres"}

# --- types ---------------------------------------------------------------------------


def unresolved(dtype: DataType) -> bool:
    """A SQLite column whose type only its data tells (no declared type, or a name no
    rule knows): the migration decides from the data, so it matches any type."""
    return dtype.kind == "other" and not dtype.raw


@lru_cache(maxsize=512)
def mapped(dtype: DataType, dialect: str) -> DataType:
    """``dtype`` as a migration into ``dialect`` declares it, read back by that dialect.

    The dialect objects are looked up on first use: their packages load pyarrow, which
    a diff of two schemas built in code never needs.
    """
    from arrowferry.dialects.base import dialect_named

    target = dialect_named(dialect)
    back = target.parse_type(target.type_ddl(dtype))
    return back if back is not None else dtype


def fits(a: DataType, b: DataType) -> bool:
    """Whether every value of type ``a`` is held by type ``b`` unchanged."""
    if a == b:
        return True
    ka, kb = a.kind, b.kind
    if kb == "text":
        if ka == "text":
            return b.length is None or (a.length is not None and a.length <= b.length)
        return b.length is None and ka != "blob"  # every other value has a text form
    if ka in _INTS and kb in _INTS:
        return _INT_RANK.index(ka) <= _INT_RANK.index(kb)
    if ka in _INTS and kb == "decimal":
        return b.precision is None or b.precision - (b.scale or 0) >= _INTS[ka]
    if ka in _INTS and kb in {"float32", "float64"}:
        return _INTS[ka] <= (5 if kb == "float32" else 10)  # 24 / 53 bits of mantissa
    if ka == "float32" and kb == "float64":
        return True
    if ka == "decimal" and kb == "decimal":
        if b.precision is None:
            return True
        if a.precision is None:
            return False
        return (b.scale or 0) >= (a.scale or 0) and (
            b.precision - (b.scale or 0) >= a.precision - (a.scale or 0)
        )
    if ka in {"float32", "float64"} and kb == "decimal":
        return b.precision is None  # numeric holds every double exactly, NaN and infinities
    if ka == "date" and kb == "timestamp":
        return True
    if ka == "json" and kb == "json":
        return b.raw == "json" or a.raw != "json"  # jsonb drops json's spacing and key order
    if ka == "other" and kb == "other":
        return (a.raw or "").lower() == (b.raw or "").lower()
    if ka == "array" and kb == "array" and a.element is not None and b.element is not None:
        return fits(a.element, b.element)
    return False


def declared_key(declared: str, dialect: str) -> str:
    """A declared type as written, up to case and spacing."""
    text = " ".join(declared.split()).replace(" (", "(").replace(", ", ",").replace("( ", "(")
    return text.lower() if dialect != "postgresql" else text.replace(" )", ")")


# --- defaults ------------------------------------------------------------------------

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off"}
_CLOCK_FUNCS = {
    "NOW",
    "TRANSACTION_TIMESTAMP",
    "STATEMENT_TIMESTAMP",
    "CLOCK_TIMESTAMP",
    "DATETIME",
    "DATE",
    "TIME",
    "STRFTIME",
    "JULIANDAY",
    "UNIXEPOCH",
}


class _NotConstant:
    pass


_NOT_CONSTANT = _NotConstant()

DefaultKey = tuple[Any, ...]


@lru_cache(maxsize=4096)
def default_key(sql: str | None, dialect: str, kind: str) -> DefaultKey:
    """What a default gives a new row, comparable across dialects: ``("none",)``,
    ``("clock", unit, modifiers)``, ``("value", v)`` (as a value of column kind
    ``kind``), or ``("expr", canonical text)``."""
    if sql is None:
        return ("none",)
    text = sql.strip()
    if dialect == "postgresql" and text.lower().startswith("nextval("):
        return ("none",)  # a serial's sequence: its identity, compared apart
    tree = _parse(text, dialect)
    if tree is None:
        return ("raw", " ".join(text.split()).lower())
    clock = _clock(tree)
    if clock is not None:
        return ("clock", *clock)
    value = _constant(tree)
    if value is None:
        return ("none",)  # DEFAULT NULL is no default
    if not isinstance(value, _NotConstant):
        return ("value", coerce(value, kind))
    return ("expr", expression_key(text, dialect, cross=False))


def coerce(value: Any, kind: str) -> Any:
    """A constant as a value of a column kind, so ``1``, ``'1'`` and ``true`` agree in a
    boolean column and ``'0'`` and ``0.00`` in a numeric one."""
    text = value if isinstance(value, str) else None
    number = _number(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if number is None else str(number)
        return True if word in _TRUE else False if word in _FALSE else value
    if (
        kind in {"int16", "int32", "int64"}
        and number is not None
        and number == number.to_integral()
    ):
        return int(number)
    if kind in {"float32", "float64"} and number is not None:
        return float(number)
    if kind == "decimal" and number is not None:
        return number.normalize() if number.is_finite() else str(number)
    if kind in _TEMPORAL and text is not None:
        return " ".join(text.replace("T", " ").split())
    if kind == "json" and text is not None:
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return text
    if kind == "uuid" and text is not None:
        return text.lower()
    if kind == "blob" and text is not None and text.startswith("\\x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            return text
    if kind == "text" and number is not None and text is None:
        return str(int(number)) if number == number.to_integral() else str(float(number))
    return value


def _number(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool):
        return decimal.Decimal(int(value))
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, str):
        try:
            return decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return None
    return None


def _constant(tree: exp.Expr) -> Any:
    """The value of a literal, possibly negated, cast or in parentheses; else a marker."""
    from sqlglot import exp

    node = tree
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, exp.Neg):
        inner = _constant(node.this)
        number = _number(inner) if isinstance(inner, decimal.Decimal | str) else None
        return -number if number is not None else _NOT_CONSTANT
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.HexString):
        return bytes.fromhex(str(node.this))
    if isinstance(node, exp.Literal):
        return str(node.this) if node.is_string else decimal.Decimal(str(node.this))
    return _NOT_CONSTANT


def _clock(tree: exp.Expr) -> tuple[str, str] | None:
    """(unit, modifiers) of a default that reads the clock, whatever the dialect spells it:
    SQLite's ``CURRENT_TIMESTAMP`` and ``datetime('now')``, PostgreSQL's ``now()`` and
    the ``date_trunc('second', now() AT TIME ZONE 'UTC')`` a migration writes for it."""
    from sqlglot import exp

    reading = None
    for node in tree.walk():
        if isinstance(node, (exp.CurrentTimestamp, exp.Localtimestamp)):
            reading = "timestamp"
        elif isinstance(node, exp.CurrentDate):
            reading = "date"
        elif isinstance(node, (exp.CurrentTime, exp.Localtime)):
            reading = "time"
        elif _function_name(node) in _CLOCK_FUNCS and _reads_now(node):
            name = _function_name(node)
            reading = name.lower() if name in {"DATE", "TIME"} else "timestamp"
        if reading is not None:
            break
    if reading is None:
        return None
    modifiers = ",".join(
        str(lit.this).lower()
        for lit in tree.find_all(exp.Literal)
        if lit.is_string
        and str(lit.this).lower() not in {"now", "utc", "second"}
        and not _is_format(lit)
    )
    return _clock_unit(tree, reading), modifiers


def _function_name(node: exp.Expr) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.this).upper()
    if isinstance(node, exp.Func) and not isinstance(node, exp.Cast):
        return node.sql_name().upper()
    return ""


def _reads_now(node: exp.Expr) -> bool:
    from sqlglot import exp

    name = _function_name(node)
    if name in {"NOW", "TRANSACTION_TIMESTAMP", "STATEMENT_TIMESTAMP", "CLOCK_TIMESTAMP"}:
        return True
    return any(
        lit.is_string and str(lit.this).lower() == "now" for lit in node.find_all(exp.Literal)
    )


def _is_format(lit: exp.Literal) -> bool:
    text = str(lit.this)
    return "%" in text or "YYYY" in text.upper() or "HH24" in text.upper()


def _clock_unit(tree: exp.Expr, reading: str) -> str:
    """The unit a clock default keeps: a cast to date, a truncation to the day or a
    date-only format makes it a date, whatever clock it reads."""
    from sqlglot import exp

    node = tree
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast):
        target = node.to.sql(dialect="postgres").upper()
        if target == "DATE":
            return "date"
        if target.startswith("TIME") and not target.startswith("TIMESTAMP"):
            return "time"
    unit = node.args.get("unit")
    truncated = isinstance(node, exp.TimestampTrunc | exp.DateTrunc)
    if truncated and unit is not None and unit.name.lower() == "day":
        return "date"
    for lit in tree.find_all(exp.Literal):
        if lit.is_string and _is_format(lit):
            upper = str(lit.this).upper()
            has_date = "YYYY" in upper or "%Y" in upper or "%D" in upper
            has_time = "HH" in upper or "%H" in upper
            return (
                "date"
                if has_date and not has_time
                else "time"
                if has_time and not has_date
                else reading
            )
    return reading


# --- expressions ---------------------------------------------------------------------


def _parse(sql: str, dialect: str) -> exp.Expr | None:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(sql, read=_SQLGLOT[dialect])
    except (SqlglotError, ValueError):
        return None


def expression_key(
    sql: str,
    dialect: str,
    *,
    cross: bool,
    columns: tuple[str, ...] = (),
    kinds: tuple[tuple[str, str], ...] = (),
    aliases: tuple[tuple[str, str], ...] = (),
) -> str:
    """A CHECK, index key or predicate in one normal form. ``cross``: the other side is
    the other dialect, so a SQLite expression is first translated to PostgreSQL as a
    migration would (``kinds``: its columns' type kinds, so ``flag IN (0, 1)`` on a
    boolean reads as ``IN (false, true)``). ``aliases``: (old, new) column names, the
    renames given for this side."""
    return _expression_key(sql, dialect, cross, columns, kinds, aliases)


@lru_cache(maxsize=8192)
def _expression_key(
    sql: str,
    dialect: str,
    cross: bool,
    columns: tuple[str, ...],
    kinds: tuple[tuple[str, str], ...],
    aliases: tuple[tuple[str, str], ...],
) -> str:
    from arrowferry.dialects.translate import TranslationError, translate_expression

    text, read = sql, dialect
    if cross and dialect == "sqlite":
        try:
            text = translate_expression(
                sql, "sqlite", "postgresql", columns=columns, kinds=dict(kinds)
            )
            read = "postgresql"
        except TranslationError:
            pass  # compared as SQLite wrote it: it will differ, as it does
    tree = _parse(text, read)
    if tree is None:
        return " ".join(sql.split()).lower()
    return canonical_sql(tree, dict(aliases))


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
        number = _number(str(node.this))
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
