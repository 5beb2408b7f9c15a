"""SQL expressions and views translated between dialects with sqlglot.

SQLite resolves identifiers case-insensitively, while the PostgreSQL DDL that
arrowferry writes quotes every name, so each column reference is rewritten to the
exact spelling of the column it means before it is quoted.

sqlglot is imported on first use: most databases have no CHECK, default expression or
view to translate, and importing it costs a quarter of a second and ~17 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

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
        tree = tree.transform(_in_list).transform(_like_pg_to_sqlite)
        _check_casts(tree)
    elif source == "sqlite":
        tree = tree.transform(_like_sqlite_to_pg).transform(_glob_sqlite_to_pg)
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


def _pg_casts_in_sqlite(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """Refuse PostgreSQL casts whose SQLite CAST gives another value for these operands."""
    from sqlglot import exp

    for node in tree.find_all(exp.Cast):
        to = node.to.this.name if isinstance(node.to, exp.DataType) else ""
        operand = _unwrap(node.this)
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


def _pg_to_char_in_sqlite(tree: exp.Expression, kinds: dict[int, str]) -> None:
    """to_char as SQLite's strftime, or a TranslationError: only YYYY MM DD HH24 MI SS
    DDD of a timestamp or date, with punctuation between, print the same ('Mon' would
    stay 'Mon', 'SSSS' is seconds past midnight, a number format is not a date format).
    PostgreSQL writes the format back as ``'...'::text``, which sqlglot leaves
    unconverted (STRFTIME would print the pattern itself): it is converted here."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.TimeToStr)):
        fmt = node.args.get("format")
        pattern = _text_literal(fmt) if fmt is not None else None
        converted = None
        if isinstance(fmt, exp.Literal):
            converted = (
                pattern.this if pattern is not None and _strftime_same(pattern.this) else None
            )
        elif pattern is not None:
            converted = _to_strftime(pattern.this)
        if converted is None or kinds.get(id(_unwrap(node.this))) not in {"timestamp", "date"}:
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


def _pg_division_in_sqlite(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """numeric / x: SQLite keeps an integral numeric as an INTEGER (NUMERIC affinity), and
    divides two integers as integers (5 / 2 = 2 where PostgreSQL's numeric gives 2.5)."""
    from sqlglot import exp

    if isinstance(node, exp.Div):
        for side in ("this", "expression"):
            operand = node.args[side]
            if kinds.get(id(_unwrap(operand))) == "decimal":
                node.set(side, exp.Cast(this=operand, to=exp.DataType.build("DOUBLE")))
    return node


def _respell(node: exp.Expression, spelling: dict[str, str]) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.Column) and not node.table:
        name = spelling.get(node.name.lower())
        if name is not None:
            return exp.column(name, quoted=True)
    return node


def translate_query(
    sql: str,
    source: str,
    target: str,
    *,
    schema: str | None = None,
    relations: Mapping[str, Relation] | None = None,
) -> str:
    """Translate a whole SELECT (a view body).

    ``schema``: the source schema, whose name is dropped from table references
    (``pg_get_viewdef`` qualifies tables outside the search path, and a SQLite view
    may not name another database). ``relations``: the tables' column types, by
    lower-case name, so casts whose meaning differs in SQLite are recognised (into
    SQLite: ``2.7::integer`` is 3 in PostgreSQL, ``CAST(2.7 AS INTEGER)`` 2 in SQLite).
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
            kinds: dict[int, str] = {}
            if relations is not None:
                from sqlglot.optimizer.scope import traverse_scope

                for scope in traverse_scope(tree):
                    _respell_scope(scope, relations, kinds)
            _pg_casts_in_sqlite(tree, kinds)
            _pg_to_char_in_sqlite(tree, kinds)
            tree = tree.transform(lambda node: _pg_division_in_sqlite(node, kinds), copy=False)
            tree = tree.transform(_in_list).transform(_like_pg_to_sqlite)
            _check_casts(tree)
        return tree.sql(dialect=_DIALECT[target], identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err


@dataclass(frozen=True)
class Relation:
    """A table or view as a SQLite view names it, and as PostgreSQL will know it."""

    name: str  # the target's name
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # lower -> (name, kind)


def translate_sqlite_view(sql: str, relations: Mapping[str, Relation]) -> str:
    """A SQLite view's SELECT as PostgreSQL, meaning what it meant in SQLite.

    ``relations``: every table and view the view may read, by lower-case source name.
    SQLite resolves names case-insensitively, and compares a TEXT column with a number
    by turning the number into text (``Discontinued = 0`` matches ``'0'``), where
    PostgreSQL would refuse ``text = integer``; ``DATETIME('1997-01-01')`` is SQLite's
    normalised timestamp text. Anything else SQLite-only is left to fail loudly when
    the view is created (``'a' + 'b'`` is 0 in SQLite: no faithful translation).

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
            _respell_scope(scope, relations, kinds)
        for table in tree.find_all(exp.Table):
            relation = relations.get(table.name.lower())
            if relation is not None and not table.db:
                table.set("this", exp.to_identifier(relation.name, quoted=True))
        tree = tree.transform(lambda node: _sqlite_meaning(node, kinds), copy=False)
        tree = tree.transform(_like_sqlite_to_pg).transform(_glob_sqlite_to_pg)
        return tree.sql(dialect="postgres", identify=True)
    except SqlglotError as err:
        raise TranslationError(f"cannot translate view SQL: {err}") from err


def _respell_scope(scope: Any, relations: Mapping[str, Relation], kinds: dict[int, str]) -> None:
    from sqlglot import exp

    aliases: dict[str, tuple[str, Relation]] = {}  # lower -> (qualifier to write, relation)
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table):
            relation = relations.get(source.name.lower())
            if relation is not None:
                # a table named without an alias is qualified by its (target) name
                written = relation.name if alias.lower() == source.name.lower() else alias
                aliases[alias.lower()] = (written, relation)
        elif isinstance(source.expression, exp.Select):  # a subquery or CTE: its outputs
            aliases[alias.lower()] = (alias, _outputs(alias, source.expression, kinds))
    for column in scope.columns:
        if column.table:
            found = aliases.get(column.table.lower())
            if found is None:
                continue  # a subquery's alias: its columns are its own outputs
            column.set("table", exp.to_identifier(found[0], quoted=True))
            candidates = [found[1]]
        else:
            candidates = [r for _, r in aliases.values() if column.name.lower() in r.columns]
        if len(candidates) != 1 or column.name.lower() not in candidates[0].columns:
            continue  # an output alias, another scope's column, or ambiguous: as written
        name, kind = candidates[0].columns[column.name.lower()]
        column.set("this", exp.to_identifier(name, quoted=True))
        if kind:
            kinds[id(column)] = kind


def _outputs(alias: str, select: exp.Select, kinds: dict[int, str]) -> Relation:
    """A subquery's columns as its (already translated) SELECT list names them."""
    from sqlglot import exp

    columns = {}
    for item in select.selects:
        inner = _unwrap(item.this if isinstance(item, exp.Alias) else cast("exp.Expression", item))
        name = item.alias_or_name
        if name and name != "*":
            columns[name.lower()] = (name, kinds.get(id(inner), ""))
    return Relation(alias, columns)


_COMPARISONS = ("EQ", "NEQ", "GT", "GTE", "LT", "LTE")
_SQLITE_TIME_FUNCTIONS = {"DATETIME": "TIMESTAMP", "TIME": "TIME"}


def _sqlite_meaning(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.TimeToStr) and isinstance(node.this, exp.TsOrDsToTimestamp):
        return _strftime(node, kinds)

    if isinstance(node, exp.Anonymous) and node.name.upper() in _SQLITE_TIME_FUNCTIONS:
        args = node.expressions
        if len(args) == 1 and isinstance(args[0], exp.Literal) and args[0].is_string:
            if args[0].this.lower() == "now":  # SQLite's clock is UTC
                return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
            to = exp.DataType.build(_SQLITE_TIME_FUNCTIONS[node.name.upper()])
            return exp.Cast(this=args[0].copy(), to=to)
        return node
    if type(node).__name__ in _COMPARISONS:
        left, right = _unwrap(node.this), _unwrap(node.expression)
        if id(left) in kinds:
            node.set("expression", _as_column_compares(right, kinds[id(left)]))
        elif id(right) in kinds:
            node.set("this", _as_column_compares(left, kinds[id(right)]))
    elif isinstance(node, exp.In) and id(_unwrap(node.this)) in kinds:
        kind = kinds[id(_unwrap(node.this))]
        node.set("expressions", [_as_column_compares(e, kind) for e in node.expressions])
    elif isinstance(node, exp.Between) and id(_unwrap(node.this)) in kinds:
        kind = kinds[id(_unwrap(node.this))]
        node.set("low", _as_column_compares(node.args["low"], kind))
        node.set("high", _as_column_compares(node.args["high"], kind))
    return node


def _unwrap(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _as_column_compares(value: exp.Expression, kind: str) -> exp.Expression:
    """A literal compared with a column, as SQLite's affinity rules make it compare."""
    from sqlglot import exp

    literal = _unwrap(value)
    if not isinstance(literal, exp.Literal) or literal.is_string:
        return value
    if kind == "text":  # TEXT affinity turns the number into its text
        return exp.Literal.string(literal.this)
    if kind == "boolean" and literal.this in {"0", "1"}:  # stored 0/1, migrated as boolean
        return exp.true() if literal.this == "1" else exp.false()
    return value


# --- LIKE: SQLite's ignores ASCII case and has no escape character unless told; ---------
# --- PostgreSQL's respects case and escapes with a backslash by default -----------------

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _like_sqlite_to_pg(node: exp.Expression) -> exp.Expression:
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


def _fold_ascii(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.Anonymous(
        this="translate",
        expressions=[node, exp.Literal.string(_UPPER), exp.Literal.string(_UPPER.lower())],
    )


def _like_pg_to_sqlite(node: exp.Expression) -> exp.Expression:
    """PostgreSQL ``LIKE`` / ``ILIKE`` as SQLite, or a TranslationError: LIKE respects
    case, so it becomes GLOB (``%`` -> ``*``, ``_`` -> ``?``, PostgreSQL's backslash
    escapes resolved); ILIKE becomes SQLite's LIKE, which ignores ASCII case only. A
    pattern that is not a literal (or, for ILIKE, not ASCII) has no such form."""
    from sqlglot import exp

    if isinstance(node, exp.Escape) and isinstance(node.this, (exp.Like, exp.ILike)):
        raise TranslationError(f"{node.sql(dialect='postgres')}: an ESCAPE clause")
    if not isinstance(node, (exp.Like, exp.ILike)):
        return node
    pattern = _text_literal(node.expression)
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


def _text_literal(node: exp.Expression) -> exp.Literal | None:
    """A string literal, also as PostgreSQL writes one back (``'A%'::text``)."""
    from sqlglot import exp

    node = _unwrap(node)
    while isinstance(node, exp.Cast) and node.to.this.name in {"TEXT", "VARCHAR", "BPCHAR"}:
        node = _unwrap(node.this)
    return node if isinstance(node, exp.Literal) and node.is_string else None


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


# --- strftime: sqlglot maps SQLite's codes to TO_CHAR patterns, some wrongly (%f as US,
# --- microseconds) and some not at all (%s, %w stay as text); each code here is exact --

# The codes every SQLite knows (%u, %F, %T and the others came in 3.44-3.46: older ones
# return NULL for them, so their meaning depends on the reader's SQLite: not translated)
_TO_CHAR = {"d": "DD", "m": "MM", "Y": "YYYY", "H": "HH24", "M": "MI", "S": "SS", "j": "DDD"}


def _strftime(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """SQLite ``strftime(format, time)`` (no modifiers) as PostgreSQL text, code by code."""
    from sqlglot import exp

    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise TranslationError(f"{node.sql(dialect='sqlite')}: the format is not a literal")
    moment = _sqlite_moment(node.this.this, kinds)
    pieces: list[exp.Expression] = []
    text: list[str] = []
    i, pattern = 0, fmt.this
    while i < len(pattern):
        if pattern[i] != "%" or i + 1 == len(pattern):
            text.append(pattern[i])
            i += 1
            continue
        code, i = pattern[i + 1], i + 2
        if code == "%":
            text.append("%")
            continue
        if text:
            pieces.append(exp.Literal.string("".join(text)))
            text = []
        pieces.append(_strftime_code(code, moment.copy(), node))
    if text or not pieces:
        pieces.append(exp.Literal.string("".join(text)))
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return exp.Paren(this=out) if len(pieces) > 1 else out


def _strftime_code(code: str, moment: exp.Expression, node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    def text(value: exp.Expression) -> exp.Expression:
        return exp.Cast(this=value, to=exp.DataType.build("TEXT"))

    if code in _TO_CHAR:
        return exp.Anonymous(
            this="TO_CHAR", expressions=[moment, exp.Literal.string(_TO_CHAR[code])]
        )
    if code == "f":  # SS.SSS as SQLite's date.c: at most 59.999, then printf("%06.3f")
        second = exp.Least(
            this=exp.Extract(this=exp.var("SECOND"), expression=moment),
            expressions=[exp.Literal.number("59.999")],
        )
        return exp.Anonymous(this="TO_CHAR", expressions=[second, exp.Literal.string("FM00.000")])
    if code == "s":
        # SQLite rounds the time to whole milliseconds (half up) for %s, then truncates;
        # the other codes read the fields as parsed
        rounded = exp.Anonymous(
            this="date_trunc",
            expressions=[
                exp.Literal.string("milliseconds"),
                exp.Add(
                    this=moment,
                    expression=exp.Cast(
                        this=exp.Literal.string("0.5 milliseconds"),
                        to=exp.DataType.build("INTERVAL"),
                    ),
                ),
            ],
        )
        epoch = exp.Floor(this=exp.Extract(this=exp.var("EPOCH"), expression=rounded))
        return text(exp.Cast(this=epoch, to=exp.DataType.build("BIGINT")))
    if code == "w":  # 0 = Sunday
        dow = exp.Extract(this=exp.var("DOW"), expression=moment)
        return text(exp.Cast(this=dow, to=exp.DataType.build("INT")))
    raise TranslationError(
        f"{node.sql(dialect='sqlite')}: strftime's %{code} has no exact PostgreSQL form here"
    )


def _sqlite_moment(value: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """The time a SQLite date function reads, as a PostgreSQL timestamp (UTC)."""
    from sqlglot import exp

    inner = _unwrap(value)
    if isinstance(inner, exp.Literal) and inner.is_string:
        if inner.this.lower() == "now":
            return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
        return exp.Cast(this=inner.copy(), to=exp.DataType.build("TIMESTAMP"))
    kind = kinds.get(id(inner))
    if kind in {"timestamp", "date"}:
        return inner
    if kind == "timestamptz":  # SQLite's times are UTC
        return exp.AtTimeZone(this=inner, zone=exp.Literal.string("UTC"))
    if kind == "text":
        return exp.Cast(this=inner, to=exp.DataType.build("TIMESTAMP"))
    raise TranslationError(
        f"{value.sql(dialect='sqlite')}: a date function of this value (a number is a julian "
        "day to SQLite) has no exact PostgreSQL form here"
    )


def _glob_sqlite_to_pg(node: exp.Expression) -> exp.Expression:
    """SQLite ``x GLOB p`` (case-sensitive ``*``, ``?``, ``[...]``, no escapes) as an
    anchored PostgreSQL regular expression; only a literal pattern has one."""
    from sqlglot import exp

    if not isinstance(node, exp.Glob):
        return node
    pattern = _text_literal(node.expression)
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
