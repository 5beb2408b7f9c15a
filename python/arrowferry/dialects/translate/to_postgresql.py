"""SQLite SQL as PostgreSQL, keeping what it means in SQLite: comparisons under type
affinity, DATETIME() of a literal, LIKE's case folding, GLOB, and strftime code by code
(:mod:`arrowferry.dialects.translate.strftime`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arrowferry.dialects.translate.common import (
    TranslationError,
    copy_kinds,
    innermost_first,
    text_literal,
    unwrap,
)
from arrowferry.dialects.translate.strftime import strftime

if TYPE_CHECKING:
    from sqlglot import exp

_COMPARISONS = ("EQ", "NEQ", "GT", "GTE", "LT", "LTE")


_SQLITE_TIME_FUNCTIONS = {"DATETIME": "TIMESTAMP", "TIME": "TIME"}


def sqlite_meaning(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.TimeToStr) and isinstance(node.this, exp.TsOrDsToTimestamp):
        return strftime(node, kinds)

    if isinstance(node, exp.Anonymous) and node.name.upper() in _SQLITE_TIME_FUNCTIONS:
        args = node.expressions
        if len(args) == 1 and isinstance(args[0], exp.Literal) and args[0].is_string:
            if args[0].this.lower() == "now":  # SQLite's clock is UTC
                return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
            to = exp.DataType.build(_SQLITE_TIME_FUNCTIONS[node.name.upper()])
            return exp.Cast(this=args[0].copy(), to=to)
        return node
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
        _refuse_text_arithmetic(node, kinds)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Sum, exp.Avg)):
        _as_sqlite_real(node, kinds)
    if type(node).__name__ in _COMPARISONS:
        left, right = unwrap(node.this), unwrap(node.expression)
        if id(left) in kinds:
            node.set("expression", _as_column_compares(right, kinds[id(left)]))
        elif id(right) in kinds:
            node.set("this", _as_column_compares(left, kinds[id(right)]))
    elif isinstance(node, exp.In) and id(unwrap(node.this)) in kinds:
        kind = kinds[id(unwrap(node.this))]
        node.set("expressions", [_as_column_compares(e, kind) for e in node.expressions])
    elif isinstance(node, exp.Between) and id(unwrap(node.this)) in kinds:
        kind = kinds[id(unwrap(node.this))]
        node.set("low", _as_column_compares(node.args["low"], kind))
        node.set("high", _as_column_compares(node.args["high"], kind))
    return node


def _refuse_text_arithmetic(node: exp.Expression, kinds: dict[int, str]) -> None:
    """SQLite computes with text as numbers (``FirstName + ' ' + LastName`` is 0: each
    text is its leading number, 0 for a word); PostgreSQL has no arithmetic on text and
    would refuse the view with "operator does not exist". Said plainly instead."""
    from sqlglot import exp

    for side in ("this", "expression"):
        given = node.args.get(side)
        if not isinstance(given, exp.Expression):
            continue
        operand = unwrap(given)
        literal = isinstance(operand, exp.Literal) and operand.is_string
        if kinds.get(id(operand)) == "text" or (
            literal and _sqlite_number_text(operand.this.strip()) is None
        ):
            raise TranslationError(
                f"{node.sql(dialect='sqlite')}: SQLite computes with the text "
                f"{operand.sql(dialect='sqlite')} as a number (its leading digits, 0 for a "
                "word), which PostgreSQL does not; to join text, || does it in both"
            )


def _as_sqlite_real(node: exp.Expression, kinds: dict[int, str]) -> None:
    """A NUMERIC column holds INTEGERs and REALs in SQLite, and SQLite computes with them
    as such (14.4 * 42 is 604.8000000000001); PostgreSQL's numeric would compute exactly
    (604.8). Each such operand is read as double precision, so the view's values are
    SQLite's (integers below 2^53 stay exact either way)."""
    from sqlglot import exp

    for side in ("this", "expression"):
        operand = node.args.get(side)
        if isinstance(operand, exp.Expression) and kinds.get(id(unwrap(operand))) == "decimal":
            node.set(side, exp.Cast(this=operand, to=exp.DataType.build("DOUBLE")))


def _as_column_compares(value: exp.Expression, kind: str) -> exp.Expression:
    """A literal compared with a column, as SQLite's affinity rules make it compare."""
    from sqlglot import exp

    literal = unwrap(value)
    if not isinstance(literal, exp.Literal) or literal.is_string:
        return value
    if kind == "text":  # TEXT affinity turns the number into its text
        text = _sqlite_number_text(literal.this)
        if text is None:
            raise TranslationError(
                f"{literal.sql(dialect='sqlite')} compared with a TEXT column: SQLite compares "
                "with the number's own text, which is not known for this literal"
            )
        return exp.Literal.string(text)
    if kind == "boolean" and literal.this in {"0", "1"}:  # stored 0/1, migrated as boolean
        return exp.true() if literal.this == "1" else exp.false()
    return value


def _sqlite_number_text(literal: str) -> str | None:
    """The text SQLite gives a numeric literal (010 -> '10', 1e3 -> '1000.0'), where it
    is certain: integers within 64 bits, and reals Python writes the same way as SQLite's
    "%!.15g" (at most 15 significant digits, no exponent); None otherwise."""
    if literal.isdigit():
        value = int(literal)
        return str(value) if value < 2**63 else None
    try:
        number = float(literal)
    except ValueError:
        return None
    text = repr(number)
    digits = text.replace(".", "").lstrip("0")
    return text if "e" not in text and "n" not in text and len(digits) <= 15 else None


def sqlite_functions(tree: Any, kinds: dict[int, str]) -> Any:
    """SQLite functions that sqlglot gives a PostgreSQL name but not SQLite's values, with
    them (in place, innermost first; the tree returned):

    - ``substr(x, s[, n])`` with ``s < 0`` counts from the end ('hello', -2: 'lo'), where
      PostgreSQL's ``SUBSTRING(x FROM -2)`` is the whole string;
    - ``round(x)`` of a floating value rounds half away from zero (2.5: 3.0), PostgreSQL's
      ``round(double precision)`` half to even (2.0): SQLite's own arithmetic instead;
    - ``CAST(x AS INTEGER)`` truncates a REAL (2.7: 2) into 64 bits, where PostgreSQL's
      ``CAST(x AS INT)`` rounds (3) into 32;
    - ``max(a, b)``/``min(a, b)`` are NULL when an argument is, where ``GREATEST`` and
      ``LEAST`` pass NULLs over;
    - ``json_valid(x)`` is the integer 1 or 0 (NULL for NULL, from SQLite 3.45 as the
      driver's SQLite reads it; 0 before): ``CAST((x IS JSON) AS INT)`` (PostgreSQL 16),
      which a condition reads as ``x IS JSON`` (:func:`as_conditions`).
    """
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        json_valid = isinstance(node, exp.Anonymous) and node.name.lower() == "json_valid"
        if json_valid and len(node.expressions) == 1:
            valid = exp.Is(this=node.expressions[0].copy(), expression=exp.JSON())
            return exp.Cast(this=exp.Paren(this=valid), to=exp.DataType.build("INT"))
        if isinstance(node, exp.Substring):
            return _substr(node, kinds)
        if isinstance(node, exp.Round):
            return _round(node, kinds)
        if isinstance(node, exp.Cast) and node.to.this in integer_types():
            return _integer_cast(node, kinds)
        if isinstance(node, (exp.Greatest, exp.Least)):
            return _null_if_any_null(node, kinds)
        return node

    return innermost_first(tree, rewrite)


_NUMERIC_KINDS = {"int16", "int32", "int64", "float32", "float64", "decimal"}


def as_conditions(tree: Any, kinds: dict[int, str], *, whole: bool = False) -> Any:
    """Every place SQLite reads a value as true or false (``WHERE``, ``HAVING``, ``ON``,
    ``CASE WHEN``, the operands of ``AND``, ``OR`` and ``NOT``; ``whole``: the expression
    itself, a CHECK or an index predicate) holding a number, as ``(x <> 0)``: SQLite's
    truth of a number, which PostgreSQL would refuse (``WHERE is_admin`` on a 0/1
    integer column). A ``json_valid(x)`` there is ``x IS JSON``. In place; the tree
    returned."""
    from sqlglot import exp

    def fix(node: Any) -> Any:
        return _as_condition(node, kinds) if isinstance(node, exp.Expression) else node

    for clause in list(tree.find_all(exp.Where, exp.Having)):
        clause.set("this", fix(clause.this))
    for join in list(tree.find_all(exp.Join)):
        if join.args.get("on") is not None:
            join.set("on", fix(join.args["on"]))
    for when in list(tree.find_all(exp.If)):
        when.set("this", fix(when.this))
    for logic in list(tree.find_all(exp.And, exp.Or)):
        logic.set("this", fix(logic.this))
        logic.set("expression", fix(logic.expression))
    for negation in list(tree.find_all(exp.Not)):
        negation.set("this", fix(negation.this))
    return fix(tree) if whole else tree


def _as_condition(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    inner = unwrap(node)
    if isinstance(inner, exp.Cast) and inner.to.this in integer_types():
        test = unwrap(inner.this)
        if isinstance(test, exp.Is) and isinstance(test.expression, exp.JSON):
            tested: exp.Expression = inner.this  # json_valid(x): x IS JSON, NULL for NULL
            return tested
    numeric = (
        kinds.get(id(inner)) in _NUMERIC_KINDS
        or (isinstance(inner, exp.Literal) and not inner.is_string)
        or isinstance(inner, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod))
        or (isinstance(inner, exp.Cast) and inner.to.this in integer_types())
    )
    if not numeric:
        return node
    return exp.Paren(this=exp.NEQ(this=node, expression=exp.Literal.number(0)))


def integer_types() -> set[Any]:
    from sqlglot import exp

    t = exp.DataType.Type
    return {t.TINYINT, t.SMALLINT, t.MEDIUMINT, t.INT, t.BIGINT}


def computes_real(node: exp.Expression, kinds: dict[int, str]) -> bool:
    """Whether SQLite computes ``node`` as a REAL: a float or NUMERIC column in it (SQLite
    holds NUMERIC values as REALs, and the translation computes with them as doubles), a
    cast to REAL, or a literal with a fraction or an exponent."""
    from sqlglot import exp

    floats = {exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE}
    for part in node.walk():
        if kinds.get(id(part)) in {"float32", "float64", "decimal"}:
            return True
        if isinstance(part, exp.Cast) and part.to.this in floats:  # CAST(x AS REAL)
            return True
        literal = isinstance(part, exp.Literal) and not part.is_string
        if literal and any(c in part.this for c in ".eE"):
            return True
    return False


def _negative_literal(node: exp.Expression | None) -> bool:
    from sqlglot import exp

    node = unwrap(node) if node is not None else None
    return isinstance(node, exp.Neg) and isinstance(unwrap(node.this), exp.Literal)


def _non_negative_literal(node: exp.Expression | None) -> bool:
    from sqlglot import exp

    node = unwrap(node) if node is not None else None
    return isinstance(node, exp.Literal) and not node.is_string


def _substr(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    start, length = node.args.get("start"), node.args.get("length")

    def position(value: exp.Expression | None) -> exp.Expression | None:
        """A copy; PostgreSQL's substring takes int positions, SQLite's any integer."""
        if value is None:
            return None
        copied = copy_kinds(value, kinds)
        whole = _non_negative_literal(value) or _negative_literal(value) or _int4(value, kinds)
        return copied if whole else exp.Cast(this=copied, to=exp.DataType.build("INT"))

    def substring(begin: exp.Expression | None) -> exp.Expression:
        return exp.Substring(
            this=copy_kinds(node.this, kinds), start=begin, length=position(length)
        )

    def from_end() -> exp.Expression:  # length(x) + 1 + s: SQLite's start, from the left
        size = exp.Length(this=copy_kinds(node.this, kinds))
        total = exp.Add(this=size, expression=exp.Literal.number(1))
        return substring(exp.Add(this=total, expression=exp.Paren(this=position(start))))

    if start is None or _non_negative_literal(start):
        return node if length is None or _non_negative_literal(length) else substring(start)
    if _negative_literal(start):
        return from_end()
    negative = exp.LT(this=copy_kinds(start, kinds), expression=exp.Literal.number(0))
    return exp.Case(
        ifs=[exp.If(this=negative, true=from_end())], default=substring(position(start))
    )


def _int4(value: exp.Expression, kinds: dict[int, str]) -> bool:
    """Whether PostgreSQL computes ``value`` as an int already (a position, a length, an
    int column, small integers, sums of those), so no cast is written (PostgreSQL would
    drop it when it stores the expression, and a diff then saw two forms)."""
    from sqlglot import exp

    inner = unwrap(value)
    if isinstance(inner, (exp.StrPosition, exp.Length)):
        return True
    if isinstance(inner, exp.Literal) and not inner.is_string:
        return inner.this.isdigit() and int(inner.this) < 2**31
    if isinstance(inner, (exp.Add, exp.Sub)):
        return _int4(inner.this, kinds) and _int4(inner.expression, kinds)
    return kinds.get(id(inner)) in ("int16", "int32")


def _round(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """SQLite's round(x) of a REAL: ``(double)(i64)(x + (x < 0 ? -0.5 : 0.5))`` below 2^52
    (func.c), the value itself above (it has no fraction there)."""
    from sqlglot import exp

    decimals = node.args.get("decimals")
    if decimals is not None and not (_non_negative_literal(decimals) and decimals.name == "0"):
        return node  # round(double precision, n) does not exist: the view fails loudly
    value = node.this
    if not computes_real(value, kinds):
        return node
    half = exp.Case(
        ifs=[
            exp.If(
                this=exp.LT(this=copy_kinds(value, kinds), expression=exp.Literal.number(0)),
                true=exp.Neg(this=exp.Literal.number("0.5")),
            )
        ],
        default=exp.Literal.number("0.5"),
    )
    rounded = exp.Anonymous(
        this="trunc", expressions=[exp.Add(this=copy_kinds(value, kinds), expression=half)]
    )
    small = exp.LT(
        this=exp.Abs(this=copy_kinds(value, kinds)),
        expression=exp.Literal.number(4503599627370496),
    )
    return exp.Case(ifs=[exp.If(this=small, true=rounded)], default=copy_kinds(value, kinds))


def _integer_cast(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    value = node.this
    if computes_real(value, kinds):
        value = exp.Anonymous(this="trunc", expressions=[value])
    return exp.Cast(this=value, to=exp.DataType.build("BIGINT"))


def _null_if_any_null(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    args = [node.this, *node.expressions]
    checks = [exp.Is(this=copy_kinds(a, kinds), expression=exp.Null()) for a in args]
    any_null: exp.Expression = checks[0]
    for check in checks[1:]:
        any_null = exp.Or(this=any_null, expression=check)
    return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=copy_kinds(node, kinds))


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def like_as_postgresql(node: exp.Expression) -> exp.Expression:
    """SQLite ``x LIKE p`` as PostgreSQL, matching the rows SQLite matches."""
    from sqlglot import exp

    escape: exp.Expression | None = None
    like = node
    if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
        like, escape = node.this, node.expression
    elif not isinstance(node, exp.Like) or isinstance(node.parent, exp.Escape):
        return node
    value, pattern = like.this, like.expression
    negate = bool(like.args.get("negate"))
    literal = isinstance(pattern, exp.Literal) and pattern.is_string
    if literal and pattern.this.isascii():
        # ASCII letters fold the same in ILIKE; nothing else in the pattern can match a
        # letter of another case
        out: exp.Expression = exp.ILike(this=value, expression=pattern, negate=negate)
    else:  # fold exactly as SQLite does: ASCII letters only
        out = exp.Like(this=_fold_ascii(value), expression=_fold_ascii(pattern), negate=negate)
    if escape is None and (not literal or "\\" in pattern.this):
        escape = exp.Literal.string("")  # a backslash is an ordinary character in SQLite
    return out if escape is None else exp.Escape(this=out, expression=escape)


def ascii_case(node: exp.Expression) -> exp.Expression:
    """SQLite's ``lower``/``upper`` change ASCII letters only (``lower('É')`` is 'É'),
    PostgreSQL's every letter: in a view, the same fold as SQLite's, with ``translate``.
    (Not in an index's expression: there the application's own ``lower(x) = ?`` must
    still find the index after the cut-over.)"""
    from sqlglot import exp

    if isinstance(node, exp.Lower):
        return _fold_ascii(node.this)
    if isinstance(node, exp.Upper):
        return exp.Anonymous(
            this="translate",
            expressions=[node.this, exp.Literal.string(_UPPER.lower()), exp.Literal.string(_UPPER)],
        )
    return node


def _fold_ascii(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.Anonymous(
        this="translate",
        expressions=[node, exp.Literal.string(_UPPER), exp.Literal.string(_UPPER.lower())],
    )


def glob_as_regex(node: exp.Expression) -> exp.Expression:
    """SQLite ``x GLOB p`` (case-sensitive ``*``, ``?``, ``[...]``, no escapes) as an
    anchored PostgreSQL regular expression; only a literal pattern has one."""
    from sqlglot import exp

    if not isinstance(node, exp.Glob):
        return node
    pattern = text_literal(node.expression)
    regex = _glob_regex(pattern.this) if pattern is not None else None
    if regex is None:
        raise TranslationError(
            f"{node.sql(dialect='sqlite')}: only a literal, well-formed GLOB pattern has a "
            "PostgreSQL form"
        )
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(regex))


def _glob_regex(glob: str) -> str | None:
    """The POSIX (ARE) regex matching what SQLite's GLOB matches; None if malformed."""
    out, i = ["^"], 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = i + 1
            if end < len(glob) and glob[end] == "^":
                end += 1
            if end < len(glob) and glob[end] == "]":
                end += 1  # a ']' first in the set is a member
            end = glob.find("]", end)
            if end < 0:
                return None  # SQLite matches nothing with an unclosed set
            body = glob[i + 1 : end]
            negate = body.startswith("^")
            members = body[1:] if negate else body
            escaped = "".join("\\" + m if m in "\\[]" else m for m in members)
            out.append("[" + ("^" if negate else "") + escaped + "]")
            i = end
        elif c.isalnum() or ord(c) > 127:
            out.append(c)
        else:
            out.append("\\" + c)
        i += 1
    return "".join(out) + "$"
