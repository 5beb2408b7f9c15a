"""JSON built in a view (an object or an array of values), in both directions, with the
values each engine would put in it.

sqlglot writes SQLite's ``json_object(k, v, ...)`` and ``json_array(...)`` as PostgreSQL
16's SQL/JSON ``JSON_OBJECT(k: v)`` and ``JSON_ARRAY(...)``: a syntax error before 16,
and ``JSON_ARRAY`` leaves NULLs out (``ABSENT ON NULL`` is the standard's default), where
SQLite's keeps them. ``json_build_object``/``json_build_array`` (9.4 onwards) keep them,
as SQLite does. Back from PostgreSQL, SQLite has neither ``json_build_*`` nor SQL/JSON:
``json_object``/``json_array`` do the same.

What each engine puts in the document for a column's value differs by the column's type,
so each value is made to give what the source engine gave:

==============  =============================  =============================
column kind     SQLite -> PostgreSQL           PostgreSQL -> SQLite
==============  =============================  =============================
json            as text (SQLite's TEXT holds   ``json(v)`` (PostgreSQL puts the
                it: a JSON string in SQLite)   document in, not a string)
boolean         ``v::int`` (SQLite's 0/1)      ``true``/``false`` from 0/1
decimal         ``v::double precision``        as it is (the number)
                (SQLite's REALs: 12.5, where
                numeric(p,2) writes 12.50)
date, time,     refused: PostgreSQL writes     refused: the same, the other way
timestamps      ISO 8601 with a 'T', SQLite
                the stored text
blob, array,    refused                        refused
interval, other
==============  =============================  =============================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.translate.common import TranslationError, innermost_first, unwrap

if TYPE_CHECKING:
    from sqlglot import exp

_REFUSED = {"date", "time", "timestamp", "timestamptz", "blob", "array", "interval", "other"}


def json_builds_as_postgresql(tree: Any, kinds: dict[int, str]) -> Any:
    """Every SQLite ``json_object``/``json_array`` in ``tree`` as PostgreSQL's
    ``json_build_*`` (in place; the tree returned, a new one if it was one of them)."""
    return innermost_first(tree, lambda node: _as_postgresql(node, kinds))


def json_builds_as_sqlite(tree: Any, kinds: dict[int, str]) -> Any:
    """Every PostgreSQL ``json_build_*`` (and SQL/JSON ``JSON_OBJECT`` as PostgreSQL 16
    stores it) in ``tree`` as SQLite's ``json_object``/``json_array``."""
    return innermost_first(tree, lambda node: _as_sqlite(node, kinds))


def _as_postgresql(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    def value(v: exp.Expression) -> exp.Expression:
        return _value(v, kinds, node, "sqlite", _INTO_POSTGRESQL)

    if isinstance(node, exp.JSONObject):
        args = _object_args(node, "sqlite", value)
        return exp.Anonymous(this="json_build_object", expressions=args)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_array":
        values = [value(v) for v in node.expressions]
        return exp.Anonymous(this="json_build_array", expressions=values)
    return node


def _as_sqlite(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    from sqlglot import exp

    def value(v: exp.Expression) -> exp.Expression:
        return _value(v, kinds, node, "postgres", _INTO_SQLITE)

    if isinstance(node, exp.JSONObject):
        returns = node.args.get("return_type")
        returned = returns.name.lower() if isinstance(returns, exp.Expression) else "json"
        if node.args.get("null_handling") or node.args.get("unique_keys") or returned != "json":
            raise TranslationError(
                f"{node.sql(dialect='postgres')}: only JSON_OBJECT's defaults (NULL ON NULL, "
                "duplicate keys kept, RETURNING json) are SQLite's json_object"
            )
        return exp.Anonymous(this="json_object", expressions=_object_args(node, "postgres", value))
    if not isinstance(node, exp.Anonymous):
        return node
    name = node.name.lower()
    if name in {"json_build_object", "json_build_array", "jsonb_build_array"}:
        values = [
            value(v) if name.endswith("array") or i % 2 else v
            for i, v in enumerate(node.expressions)
        ]
        if name == "json_build_object" and len(values) % 2:
            raise TranslationError(f"{node.sql(dialect='postgres')}: an odd number of arguments")
        target = "json_object" if name == "json_build_object" else "json_array"
        return exp.Anonymous(this=target, expressions=values)
    if name in {"jsonb_build_object", "json_array"}:
        raise TranslationError(
            f"{node.sql(dialect='postgres')}: "
            + (
                "jsonb keeps one of duplicate keys and sorts them; SQLite's json_object keeps "
                "them as written"
                if name == "jsonb_build_object"
                else "SQL/JSON's JSON_ARRAY leaves NULLs out; SQLite's json_array keeps them"
            )
        )
    return node


def _object_args(
    node: exp.Expression, dialect: str, value: Callable[[exp.Expression], exp.Expression]
) -> list[exp.Expression]:
    """A JSON_OBJECT's keys and values, as one argument list."""
    from sqlglot import exp

    args: list[exp.Expression] = []
    for pair in node.expressions:
        if not isinstance(pair, exp.JSONKeyValue):
            raise TranslationError(f"{node.sql(dialect=dialect)}: not key, value pairs")
        args += [pair.this, value(pair.expression)]
    return args


def _cast(to: str) -> Callable[[exp.Expression], exp.Expression]:
    def cast(value: exp.Expression) -> exp.Expression:
        from sqlglot import exp

        return exp.Cast(this=value, to=exp.DataType.build(to))

    return cast


def _sqlite_json(value: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.Anonymous(this="json", expressions=[value])


def _sqlite_json_boolean(value: exp.Expression) -> exp.Expression:
    """A boolean stored 0/1 in SQLite as JSON's true/false (NULL stays NULL: json(NULL))."""
    from sqlglot import exp

    case = exp.Case(
        this=value,
        ifs=[
            exp.If(this=exp.Literal.number(1), true=exp.Literal.string("true")),
            exp.If(this=exp.Literal.number(0), true=exp.Literal.string("false")),
        ],
    )
    return _sqlite_json(case)


Rewrite = Callable[[Any], Any]  # an expression in, the expression to write instead out
# a value of a column of each kind, as the source engine writes it into JSON
_INTO_POSTGRESQL: dict[str, Rewrite] = {
    "json": _cast("TEXT"),  # SQLite's TEXT holds it: a JSON string there
    "boolean": _cast("INT"),  # 0/1
    "decimal": _cast("DOUBLE"),  # SQLite's REAL: 12.5, where numeric(p,2) writes 12.50
}
_INTO_SQLITE: dict[str, Rewrite] = {"json": _sqlite_json, "boolean": _sqlite_json_boolean}


def _value(
    value: exp.Expression,
    kinds: dict[int, str],
    call: exp.Expression,
    dialect: str,
    rewrites: dict[str, Rewrite],
) -> exp.Expression:
    kind = kinds.get(id(unwrap(value)), "")
    _refuse(kind, call, dialect)
    rewrite = rewrites.get(kind)
    return rewrite(value) if rewrite is not None else value


def _refuse(kind: str, call: exp.Expression, dialect: str) -> None:
    if kind in _REFUSED:
        raise TranslationError(
            f"{call.sql(dialect=dialect)}: a {kind} value is written into JSON differently by "
            "SQLite (its stored text) and PostgreSQL (ISO 8601, its own forms)"
        )
