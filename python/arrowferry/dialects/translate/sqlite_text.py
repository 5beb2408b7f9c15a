"""SQLite's text of a value, where a SQLite view or CHECK turns a column into text
(``CAST(x AS TEXT)``, ``x || ''``, ``concat(x, ...)``) and PostgreSQL would print the
migrated value otherwise.

SQLite prints a REAL with 15 significant digits and always a point or exponent
(``1.0``, ``1.0e+20``, ``0.3`` for 0.1 + 0.2), PostgreSQL's double precision the shortest
text that reads back (``1``, ``1e+20``, ``0.30000000000000004``); a BOOLEAN is the 0/1
SQLite holds, ``true``/``false`` in PostgreSQL; a date or timestamp is the text SQLite
stored as written (``2024-01-02T03:04:05``), PostgreSQL's normalised form of the value.
A boolean is rewritten to print 0/1 (exact); the others have no PostgreSQL form that
prints what SQLite stored, so the view is refused, named in a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arrowferry.dialects.translate.common import TranslationError, printed, printed_kind, unwrap
from arrowferry.dialects.translate.to_postgresql import computes_real, integer_types

if TYPE_CHECKING:
    from sqlglot import exp

_EXAMPLES = {
    "float64": "a REAL as '1.0' with 15 significant digits, PostgreSQL as '1'",
    "float32": "a REAL as '1.0' with 15 significant digits, PostgreSQL as '1'",
    "decimal": "the REAL or INTEGER it holds ('1.5'), PostgreSQL the numeric at its scale ('1.50')",
    "timestamp": "the text it stored as written, PostgreSQL the value's normalised form",
    "timestamptz": "the text it stored as written, PostgreSQL the value's normalised form",
    "date": "the text it stored as written, PostgreSQL the value's normalised form",
    "time": "the text it stored as written, PostgreSQL the value's normalised form",
    "json": "the JSON text it stored, PostgreSQL's jsonb its own spacing and key order",
    "uuid": "the text or bytes it stored, PostgreSQL the canonical lower-case form",
    "blob": "the bytes, PostgreSQL bytea's hex text ('\\x...')",
    "interval": "the text it stored, PostgreSQL the interval's own form",
}
_TEXT_TYPES = {"TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "BPCHAR"}


def text_of_values(tree: exp.Expr, kinds: dict[int, str]) -> exp.Expr:
    """``tree`` with each boolean printed as SQLite prints it; a TranslationError for
    any other operand whose text differs (``kinds``: id(column) -> its target kind)."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Cast, exp.DPipe, exp.Concat, exp.ConcatWs)):
        cast = isinstance(node, exp.Cast) and _to_text(node)
        if cast:  # CAST(x AS TEXT) prints its operand too
            operands = [(unwrap(node.this), printed_kind(unwrap(node.this), kinds))]
        else:
            operands = printed(node, kinds)
        for inner, kind in operands:
            whole = isinstance(inner, exp.Cast) and inner.to.this in integer_types()
            if not kind and not whole and computes_real(inner, kinds):
                kind = "float64"  # a computation SQLite does in REALs (qty / 2.0)
            if kind == "boolean":  # NULL stays NULL, as SQLite's NULL || '' is
                inner.replace(
                    exp.Case(
                        ifs=[
                            exp.If(this=inner.copy(), true=exp.Literal.string("1")),
                            exp.If(this=exp.Not(this=inner.copy()), true=exp.Literal.string("0")),
                        ]
                    )
                )
            elif kind in _EXAMPLES:
                raise TranslationError(
                    f"{node.sql(dialect='sqlite')} prints a {kind} value: SQLite writes "
                    f"{_EXAMPLES[kind]}"
                )
    return tree


def _to_text(node: exp.Cast) -> bool:
    to = node.to
    return to is not None and to.this.name in _TEXT_TYPES
