"""What a schema diff counts as the same: types after mapping, and defaults as the
value (or clock reading, or expression) they give a new row. Pure: no database; sqlglot
is imported on first use. SQL expressions are normalised in :mod:`arrowferry.diff_sql`.

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

import datetime
import decimal
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from arrowferry.diff_sql import expression_key, parse
from arrowferry.model import Column, DataType

if TYPE_CHECKING:
    from sqlglot import exp

_INTS = {"boolean": 1, "int16": 5, "int32": 10, "int64": 19}  # decimal digits each holds
_INT_RANK = ("boolean", "int16", "int32", "int64")
_TEMPORAL = {"date", "time", "timestamp", "timestamptz"}

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


def text_order(column: Column, dialect: str) -> str | None:
    """How a text column compares and sorts: None when byte by byte (SQLite's BINARY,
    PostgreSQL's C or POSIX, a C database's default: the same order for UTF-8), else
    what it compares by instead (SQLite's NOCASE or RTRIM, a PostgreSQL locale)."""
    if dialect == "sqlite":
        name = (column.collation or "BINARY").upper()
        return None if name == "BINARY" else name
    return column.ordering


def order_text(order: str | None) -> str:
    """``text_order`` in words, for a difference's detail."""
    if order is None:
        return "byte by byte"
    if order in ("NOCASE", "RTRIM"):
        folds = "ASCII letters' case" if order == "NOCASE" else "trailing spaces"
        return f"with SQLite's {order} (ignoring {folds})"
    return f"by the locale {order}"


def declared_key(declared: str, dialect: str) -> str:
    """A declared type as written, up to spacing, and case but for a quoted name
    (a PostgreSQL enum or domain named ``"Mood"``)."""
    text = " ".join(declared.split()).replace(" (", "(").replace(", ", ",").replace("( ", "(")
    text = text.replace(" )", ")")
    return text if '"' in text else text.lower()


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
    generated = _generated(text, dialect, kind)
    if generated is not None:
        return ("generated", generated)
    written = _sqlite_format(text) if dialect == "postgresql" else None
    if written is not None:
        return default_key(written, "sqlite", kind)
    tree = parse(text, dialect)
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


def _generated(text: str, dialect: str, kind: str) -> str | None:
    """What a per-row default computes (Unix seconds, the Julian day, random bytes), in
    either dialect's spelling (``sqlite.defaults.clock_default``), else None."""
    # the dialect package loads its engine: a diff of two schemas needs neither
    from arrowferry.dialects.sqlite import defaults

    if dialect == "postgresql":
        found = defaults.generated_from_postgresql(text, kind)
        return None if found is None else defaults.clock_default(found)
    what = defaults.clock_default(text)
    generated = what in {"epoch", "julianday", "uuid4"} or (what or "").startswith("random:")
    return what if generated else None


def _sqlite_format(text: str) -> str | None:
    """The SQLite ``strftime(format, 'now')`` a migration wrote code by code into
    PostgreSQL, else None: compared as that SQLite default."""
    from arrowferry.dialects.sqlite.defaults import format_from_postgresql

    pattern = format_from_postgresql(text)
    return None if pattern is None else "strftime('" + pattern.replace("'", "''") + "', 'now')"


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
        return _moment(" ".join(text.replace("T", " ").split()), kind)
    if kind == "json" and text is not None:
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return text
    if kind == "uuid" and text is not None:
        return text.lower()
    if kind == "array" and text is not None:
        found = _array(text.strip())
        return value if found is None else ("array", found)
    if kind == "blob" and text is not None and text.startswith("\\x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            return text
    if kind == "text" and number is not None and text is None:
        return str(int(number)) if number == number.to_integral() else str(float(number))
    return value


def _array(text: str) -> Any:
    """An array constant's elements as text, from PostgreSQL's literal (``'{a,"b c"}'``)
    or the JSON a copy in SQLite holds (``'["a","b c"]'``); None for anything else."""
    if text.startswith("["):
        try:
            found = json.loads(text)
        except ValueError:
            return None
        return _elements(found) if isinstance(found, list) else None
    if not text.startswith("{"):
        return None
    tree, rest = _pg_array(text, 0)
    return tree if rest == len(text) else None


def _elements(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_elements(v) for v in value)
    return None if value is None else str(value)


def _pg_array(text: str, at: int) -> tuple[Any, int]:
    """PostgreSQL's array literal from ``text[at] == '{'``: (elements, index after it)."""
    out: list[Any] = []
    at += 1
    while at < len(text) and text[at] != "}":
        if text[at] == "{":
            inner, at = _pg_array(text, at)
            out.append(inner)
        elif text[at] == '"':
            chars, at = [], at + 1
            while at < len(text) and text[at] != '"':
                at += 1 if text[at] != "\\" else 2
                chars.append(text[at - 1])
            out.append("".join(chars))
            at += 1
        else:
            end = at
            while end < len(text) and text[end] not in ",}":
                end += 1
            word = text[at:end].strip()
            out.append(None if word.upper() == "NULL" else word)
            at = end
        if at < len(text) and text[at] == ",":
            at += 1
    return tuple(out), at + 1


def _moment(text: str, kind: str) -> str:
    """A timestamptz constant as its instant in UTC (a copy's '... 10:00:00+00:00' is the
    source's '... 10:00:00+00', and one without an offset is UTC, as arrowferry reads
    values); any other temporal text as written."""
    if kind != "timestamptz":
        return text
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(" ")


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
        elif _now_argument(node):  # strftime('%Y...', 'now'), as sqlglot reads it
            reading = "timestamp"
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


def _now_argument(node: exp.Expr) -> bool:
    from sqlglot import exp

    return (
        isinstance(node, exp.Literal)
        and node.is_string
        and str(node.this).lower() == "now"
        and isinstance(node.parent, exp.Func)
        and not isinstance(node.parent, exp.Cast)
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
