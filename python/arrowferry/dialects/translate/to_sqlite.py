"""PostgreSQL SQL as SQLite, keeping what it means in PostgreSQL: IN lists stored as
``= ANY (ARRAY[...])``, LIKE's case and escapes, and every cast, ``to_char`` or division
that SQLite would compute differently (each refused with a TranslationError, or rewritten
to the form that gives the same value)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arrowferry.dialects.translate.common import (
    Sizes,
    TranslationError,
    printed,
    text_literal,
    unwrap,
)

if TYPE_CHECKING:
    from sqlglot import exp


def in_list(node: exp.Expression) -> exp.Expression:
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


def untyped_null(node: exp.Expression) -> exp.Expression:
    """``NULL::unknown`` (PostgreSQL stores an untyped NULL passed to a function of "any"
    arguments so, ``json_build_array(a, NULL)``), or a NULL cast to any type: NULL in
    SQLite, whatever the type's name."""
    from sqlglot import exp

    if isinstance(node, exp.Cast) and isinstance(unwrap(node.this), exp.Null):
        return exp.Null()
    return node


def check_casts(tree: exp.Expression) -> None:
    from sqlglot import exp

    for node in tree.find_all(exp.Cast):
        kind = node.to.this.name if isinstance(node.to, exp.DataType) else ""
        if kind not in _SQLITE_CASTS:
            raise TranslationError(
                f"{node.sql(dialect='postgres')} casts to {node.to.sql(dialect='postgres')}, "
                "which SQLite would cast by the type "
                "name's affinity instead (CAST('{}' AS JSONB) is 0 there)"
            )


# PostgreSQL text of these differs from SQLite's CAST(... AS TEXT) of the migrated value:
# true -> 'true' vs '1', 1.50 -> '1.50' vs '1.5', '+00' vs '+00:00', P1D vs '1 day'...
_TEXT_DIFFERS = {"boolean", "decimal", "float32", "float64", "timestamptz", "interval"}


_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT"}


_TEXT_TYPES = {"TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "BPCHAR", "NAME"}


def refuse_changed_casts(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """Refuse PostgreSQL casts whose SQLite CAST gives another value for these operands."""
    from sqlglot import exp

    for node in tree.find_all(exp.Cast):
        to = node.to.this.name if isinstance(node.to, exp.DataType) else ""
        operand = unwrap(node.this)
        kind = kinds.get(id(operand), "")
        why = ""
        if to in _INTEGER_TYPES:
            integral = (
                isinstance(operand, exp.Count)
                or (isinstance(operand, exp.Literal) and not operand.is_string and operand.is_int)
                or kind in {"int16", "int32", "int64", "boolean"}
            )
            if not integral:
                why = "PostgreSQL rounds to the nearest integer, SQLite's CAST truncates"
        elif to == "DECIMAL" and node.to.expressions:
            why = "PostgreSQL rounds to the type's scale, SQLite's CAST does not"
        elif to in _TEXT_TYPES and kind in _TEXT_DIFFERS:
            why = f"PostgreSQL's text of a {kind} value differs from SQLite's"
        if why:
            raise TranslationError(f"{node.sql(dialect='postgres')}: {why}")


# to_char codes SQLite's strftime prints the same way, longest first
_TO_STRFTIME = (
    ("YYYY", "%Y"), ("yyyy", "%Y"), ("DDD", "%j"), ("ddd", "%j"), ("HH24", "%H"),
    ("hh24", "%H"), ("MM", "%m"), ("mm", "%m"), ("DD", "%d"), ("dd", "%d"),
    ("MI", "%M"), ("mi", "%M"), ("SS", "%S"), ("ss", "%S"),
)  # fmt: skip


# the same codes once sqlglot has converted a bare literal format
_STRFTIME_SAME = {"Y", "m", "d", "H", "M", "S", "j"}


def to_char_as_strftime(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """to_char as SQLite's strftime, or a TranslationError: only YYYY MM DD HH24 MI SS
    DDD of a timestamp or date, with punctuation between, print the same ('Mon' would
    stay 'Mon', 'SSSS' is seconds past midnight, a number format is not a date format).
    PostgreSQL writes the format back as ``'...'::text``, which sqlglot leaves
    unconverted (STRFTIME would print the pattern itself): it is converted here."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.TimeToStr)):
        fmt = node.args.get("format")
        pattern = text_literal(fmt) if fmt is not None else None
        converted = None
        if isinstance(fmt, exp.Literal):
            converted = (
                pattern.this if pattern is not None and _strftime_same(pattern.this) else None
            )
        elif pattern is not None:
            converted = _to_strftime(pattern.this)
        if converted is None or kinds.get(id(unwrap(node.this))) not in {"timestamp", "date"}:
            raise TranslationError(
                f"{node.sql(dialect='postgres')}: only YYYY, MM, DD, HH24, MI, SS and DDD of a "
                "timestamp or date print the same through SQLite's strftime"
            )
        node.set("format", exp.Literal.string(converted))


def _to_strftime(pattern: str) -> str | None:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(("SSSS", "ssss"), i):
            return None  # seconds past midnight
        code = next((c for c in _TO_STRFTIME if pattern.startswith(c[0], i)), None)
        if code is not None:
            out.append(code[1])
            i += len(code[0])
            continue
        c = pattern[i]
        if c.isalnum() or c in '\\"':
            return None
        out.append("%%" if c == "%" else c)
        i += 1
    return "".join(out)


def _strftime_same(text: str) -> bool:
    i = 0
    while i < len(text):
        if text[i] == "%":
            if text[i + 1 : i + 2] not in _STRFTIME_SAME or text[i : i + 4] == "%S%S":
                return False
            i += 2
        elif text[i].isalnum() or text[i] in "\\\"'":
            return False
        else:
            i += 1
    return True


def numeric_division(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """numeric / x: SQLite keeps an integral numeric as an INTEGER (NUMERIC affinity), and
    divides two integers as integers (5 / 2 = 2 where PostgreSQL's numeric gives 2.5)."""
    from sqlglot import exp

    if isinstance(node, exp.Div):
        for side in ("this", "expression"):
            operand = node.args[side]
            if kinds.get(id(unwrap(operand))) == "decimal":
                node.set(side, exp.Cast(this=operand, to=exp.DataType.build("DOUBLE")))
    return node


def like_as_sqlite(node: exp.Expression) -> exp.Expression:
    """PostgreSQL ``LIKE`` / ``ILIKE`` as SQLite, or a TranslationError: LIKE respects
    case, so it becomes GLOB (``%`` -> ``*``, ``_`` -> ``?``, PostgreSQL's backslash
    escapes resolved); ILIKE becomes SQLite's LIKE, which ignores ASCII case only. A
    pattern that is not a literal (or, for ILIKE, not ASCII) has no such form."""
    from sqlglot import exp

    if isinstance(node, exp.Escape) and isinstance(node.this, (exp.Like, exp.ILike)):
        raise TranslationError(f"{node.sql(dialect='postgres')}: an ESCAPE clause")
    if not isinstance(node, (exp.Like, exp.ILike)):
        return node
    pattern = text_literal(node.expression)
    ilike = isinstance(node, exp.ILike)
    if pattern is None or not (pattern.this.isascii() or not ilike):
        raise TranslationError(
            f"{node.sql(dialect='postgres')}: only a literal pattern (ASCII for ILIKE) has a "
            "SQLite form matching the same rows (SQLite's LIKE ignores ASCII case only)"
        )
    negate = bool(node.args.get("negate"))
    parts = _like_parts(pattern.this)
    if ilike:
        text = "".join(c for _, c in _sqlite_like_parts(parts))
        out: exp.Expression = exp.Like(
            this=node.this, expression=exp.Literal.string(text), negate=negate
        )
        return exp.Escape(this=out, expression=exp.Literal.string("\\")) if "\\" in text else out
    glob = "".join(
        {"%": "*", "_": "?"}[c] if kind == "wild" else (f"[{c}]" if c in "*?[" else c)
        for kind, c in parts
    )
    out = exp.Glob(this=node.this, expression=exp.Literal.string(glob))
    return exp.Not(this=out) if negate else out


def _like_parts(pattern: str) -> list[tuple[str, str]]:
    """A PostgreSQL LIKE pattern (backslash escapes) as ("wild", "%"|"_") / ("char", c)."""
    parts, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            parts.append(("char", pattern[i + 1]))
            i += 2
            continue
        parts.append(("wild", c) if c in "%_" else ("char", c))
        i += 1
    return parts


def _sqlite_like_parts(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parts for SQLite's LIKE with ESCAPE '\\': literal % _ \\ escaped."""
    return [(kind, f"\\{c}") if kind == "char" and c in "%_\\" else (kind, c) for kind, c in parts]


# Functions whose value over a numeric column SQLite gives exactly as PostgreSQL does: each
# returns one of its arguments, or a count, whatever the arguments' storage
_EXACT_OF_NUMERIC = {
    "Min", "Max", "Count", "Coalesce", "Greatest", "Least", "Nullif", "Abs", "Case", "If",
    "Cast", "Floor", "Ceil", "Sign",
}  # fmt: skip


def numeric_arithmetic(
    tree: exp.Expression, kinds: dict[int, str], sizes: Sizes, notes: list[str]
) -> None:
    """Keep what PostgreSQL's exact numeric arithmetic gives, or say it is not kept.

    A numeric(p,s) value is a REAL in SQLite, the double nearest its decimal. ``sum`` of a
    column with 0 < s and p <= 15 becomes the exact integer sum of the values scaled by
    10^s (each scaled double is within 10^15 * 2^-52 < 0.5 of its integer, so ROUND
    recovers it), divided by 10^s once: the double nearest PostgreSQL's sum while that
    sum has at most 15 significant digits (a larger integer sum is rounded to a double
    first, as SQLite would store the value anyway). numeric(p,0) with p <= 18 is stored
    as INTEGER, whose sum is exact. Any other arithmetic, average or function of a
    numeric column (wider, unconstrained, ``x * qty``, ``avg``, ``round``) is computed
    in floating point, and each is described in ``notes``.
    """
    from sqlglot import exp

    for column in list(tree.find_all(exp.Column)):
        if kinds.get(id(column)) != "decimal":
            continue
        user: Any = column.parent
        while isinstance(user, (exp.Paren, exp.Distinct)):
            user = user.parent
        if isinstance(user, exp.Sum):
            precision, scale = sizes.get(id(column), (None, None))
            if scale == 0 and precision is not None and precision <= 18:
                continue
            if scale and precision is not None and precision <= 15:
                _exact_sum(user, column, scale)
                continue
        if _computes(user):
            notes.append(_what(user, column))


def _computes(node: exp.Expression | None) -> bool:
    from sqlglot import exp

    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Pow)):
        return True
    return isinstance(node, exp.Func) and type(node).__name__ not in _EXACT_OF_NUMERIC


def _what(node: exp.Expression, column: exp.Column) -> str:
    if type(node).__name__ == "Sum":
        return f"sum of {column.sql(dialect='postgres')} (its declared size does not keep it exact)"
    return f"{node.sql(dialect='postgres')} over numeric {column.sql(dialect='postgres')}"


def _exact_sum(total: exp.Expression, column: exp.Column, scale: int) -> None:
    from sqlglot import exp

    factor = exp.Literal.number(10**scale)
    scaled = exp.Cast(
        this=exp.Round(this=exp.Mul(this=column.copy(), expression=factor)),
        to=exp.DataType.build("BIGINT"),
    )
    column.replace(scaled)
    outer = total
    while isinstance(outer.parent, (exp.Filter, exp.Window)):
        outer = outer.parent  # sum(x) FILTER (...) / sum(x) OVER (...): divide the whole
    divided = exp.Div(this=outer.copy(), expression=exp.Literal.number(f"{10**scale}.0"))
    outer.replace(exp.Paren(this=divided))


def refuse_ordered_aggregates(tree: exp.Expression) -> None:
    """``string_agg(x, ', ' ORDER BY x)``: SQLite reads ORDER BY inside an aggregate's
    arguments only since 3.44 (2023-11), and an older SQLite, such as many a Python's
    sqlite3, cannot open a file whose schema holds one at all ("malformed database
    schema"), not even its tables."""
    from sqlglot import exp

    for order in tree.find_all(exp.Order):
        if isinstance(order.parent, (exp.AggFunc, exp.WithinGroup)):
            raise TranslationError(
                f"{order.parent.sql(dialect='postgres')}: ORDER BY inside an aggregate needs "
                "SQLite 3.44, and older SQLite cannot open a file whose schema holds one"
            )


def enum_labels(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """An enum column holds its labels as text in SQLite. Compared for (in)equality with
    ``'PG'::mpaa_rating``, it is compared with the label's text; ordered (``<``, BETWEEN,
    min, max), PostgreSQL follows the labels' declaration and SQLite their text: refused."""
    from sqlglot import exp

    def enum(node: exp.Expression | None) -> bool:
        return node is not None and kinds.get(id(unwrap(node))) == "enum"

    for node in list(tree.find_all(exp.EQ, exp.NEQ, exp.In)):
        sides = [node.this] if isinstance(node, exp.In) else [node.this, node.expression]
        if not any(enum(side) for side in sides):
            continue
        operands = node.expressions if isinstance(node, exp.In) else sides
        for operand in operands:
            inner = unwrap(operand)
            if isinstance(inner, exp.Cast) and text_literal(inner.this) is not None:
                inner.replace(unwrap(inner.this).copy())
    ordered = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Min, exp.Max)
    for node in tree.find_all(*ordered):
        operands = [node.this, node.args.get("expression"), node.args.get("low")]
        if any(enum(o) for o in operands):
            raise TranslationError(
                f"{node.sql(dialect='postgres')}: PostgreSQL orders an enum by its labels' "
                "declaration, SQLite (which holds the labels as text) alphabetically"
            )


def text_of_values(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """``||``, ``concat`` and ``concat_ws`` print their operands: PostgreSQL's text of a
    boolean, numeric, float, timestamptz or interval differs from SQLite's (``'true'``
    against ``'1'``, ``'1.50'`` against ``'1.5'``), so such a view is refused. ``concat``
    becomes ``||`` of COALESCEd operands (the same: NULL is ''), which every SQLite
    reads; its own concat() arrived in 3.44."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.DPipe, exp.Concat, exp.ConcatWs)):
        operands = node.expressions if isinstance(node, exp.Concat) else []
        for _inner, kind in printed(node, kinds):
            if kind in _TEXT_DIFFERS:
                raise TranslationError(
                    f"{node.sql(dialect='postgres')}: PostgreSQL's text of a {kind} value "
                    "differs from SQLite's"
                )
        if type(node) is exp.Concat and operands:
            parts = [
                exp.Coalesce(this=o.copy(), expressions=[exp.Literal.string("")]) for o in operands
            ]
            joined: exp.Expression = parts[0]
            for part in parts[1:]:
                joined = exp.DPipe(this=joined, expression=part)
            node.replace(exp.Paren(this=joined))
