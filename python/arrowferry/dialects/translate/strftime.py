"""SQLite's ``strftime(format, time)`` as PostgreSQL text, code by code, each computed as
SQLite computes it (``%f`` capped at 59.999, ``%s`` from the time rounded to the
millisecond); the codes with no exact form are refused. Used by
:func:`arrowferry.dialects.translate.to_postgresql.sqlite_meaning`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arrowferry.dialects.translate.common import TranslationError, unwrap

if TYPE_CHECKING:
    from sqlglot import exp

# The codes every SQLite knows (%u, %F, %T and the others came in 3.44-3.46: older ones
# return NULL for them, so their meaning depends on the reader's SQLite: not translated)
_TO_CHAR = {"d": "DD", "m": "MM", "Y": "YYYY", "H": "HH24", "M": "MI", "S": "SS", "j": "DDD"}


def strftime(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """SQLite ``strftime(format, time)`` (no modifiers) as PostgreSQL text, code by code."""
    from sqlglot import exp

    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise TranslationError(f"{node.sql(dialect='sqlite')}: the format is not a literal")
    moment = sqlite_moment(node.this.this, kinds)
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


def sqlite_moment(value: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """The time a SQLite date function reads, as a PostgreSQL timestamp (UTC)."""
    from sqlglot import exp

    inner = unwrap(value)
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
