"""Native names: the identifier policy of a run (``identifiers=``), as pure functions.

``quote`` keeps every name as the source spells it (arrowferry quotes every identifier
it writes, so ``"OrderDetails"`` stays ``"OrderDetails"``); ``lower`` lower-cases it;
``snake_case`` also splits camelCase words and turns spaces and punctuation into ``_``.
Each policy is idempotent (a name it gave is its own image), so one function renames a
table where it is created and everywhere it is referenced: foreign keys, indexes,
views, CHECKs, defaults. :func:`rename_schema` applies a policy to a whole schema, so
a schema diff can compare a source with what a run under that policy made of it.

>>> native_name("OrderDetails", "snake_case"), native_name("Order Details", "snake_case")
('order_details', 'order_details')
>>> native_name("HTTPServer", "snake_case"), native_name("customerID", "snake_case")
('http_server', 'customer_id')
>>> native_name("UserId", "lower"), native_name("UserId", "quote")
('userid', 'UserId')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from arrowferry.errors import BadInputError
from arrowferry.model import Column, ForeignKey, Index, IndexKey, Schema, Table, View
from arrowferry.options import IDENTIFIER_POLICIES, Identifiers


def native_name(name: str, policy: Identifiers | str) -> str:
    """``name`` as the policy spells it in the target (before any length limit)."""
    if policy == "quote":
        return name
    if policy == "lower":
        return name.lower()
    if policy == "snake_case":
        return _snake(name)
    raise BadInputError(
        f"identifiers must be one of {', '.join(IDENTIFIER_POLICIES)}, not {policy!r}"
    )


def _snake(name: str) -> str:
    out: list[str] = []
    separated = False  # a run of spaces and punctuation: one "_" once a word follows
    for i, c in enumerate(name):
        if not (c.isalnum() or c == "_"):
            separated = True
            continue
        if separated and out:
            out.append("_")
        separated = False
        if c.isupper() and out and out[-1] != "_":
            before = name[i - 1]
            after = name[i + 1] if i + 1 < len(name) else ""
            # fooBar, foo2Bar and the end of an acronym (HTTPServer -> http_server)
            if before.islower() or before.isdigit() or (before.isupper() and after.islower()):
                out.append("_")
        out.append(c.lower())
    return "".join(out) or name


def renamer(policy: Identifiers | str) -> Callable[[str], str] | None:
    """The policy as a function for the translators; None for ``quote`` (nothing to do)."""
    return None if policy == "quote" else partial(native_name, policy=policy)


def rename_schema(schema: Schema, policy: Identifiers | str) -> Schema:
    """``schema`` with every name as a run under ``policy`` creates it: tables, columns,
    keys, indexes, constraints and views, and the names inside defaults, CHECKs, index
    expressions and view bodies (a schema diff then compares like with like).

    >>> from arrowferry.model import Column, DataType, Schema, Table
    >>> s = Schema("sqlite", (Table("OrderLine", (Column("OrderId", DataType("int64")),)),))
    >>> t = rename_schema(s, "snake_case").tables[0]
    >>> t.name, t.column_names
    ('order_line', ('order_id',))
    """
    rename = renamer(policy)
    if rename is None:
        return schema
    return replace(
        schema,
        tables=tuple(_table(t, schema, rename) for t in schema.tables),
        views=tuple(_view(v, schema, rename) for v in schema.views),
    )


def _table(t: Table, schema: Schema, rename: Callable[[str], str]) -> Table:
    from arrowferry.dialects.translate import rename_identifiers

    columns = {c.name: rename(c.name) for c in t.columns}
    sql = partial(rename_identifiers, dialect=schema.dialect, rename=rename, columns=columns)

    def col(name: str) -> str:
        return columns.get(name, rename(name))

    def column(c: Column) -> Column:
        return replace(
            c,
            name=col(c.name),
            default=None if c.default is None else sql(c.default),
            generated=None if c.generated is None else sql(c.generated),
        )

    def key(k: IndexKey) -> IndexKey:
        return replace(k, expression=sql(k.expression) if k.is_expression else col(k.expression))

    def index(i: Index) -> Index:
        where = None if i.where is None else sql(i.where)
        return replace(i, name=rename(i.name), keys=tuple(map(key, i.keys)), where=where)

    def fk(f: ForeignKey) -> ForeignKey:
        return replace(
            f,
            columns=tuple(map(col, f.columns)),
            ref_table=rename(f.ref_table),
            ref_columns=tuple(map(rename, f.ref_columns)),
            name=None if f.name is None else rename(f.name),
        )

    pk = t.primary_key
    return replace(
        t,
        name=rename(t.name),
        columns=tuple(map(column, t.columns)),
        primary_key=None if pk is None else replace(pk, columns=tuple(map(col, pk.columns))),
        uniques=tuple(replace(u, columns=tuple(map(col, u.columns))) for u in t.uniques),
        indexes=tuple(map(index, t.indexes)),
        foreign_keys=tuple(map(fk, t.foreign_keys)),
        checks=tuple(
            replace(c, expression=sql(c.expression), name=c.name and rename(c.name))
            for c in t.checks
        ),
    )


def _view(v: View, schema: Schema, rename: Callable[[str], str]) -> View:
    from arrowferry.dialects.translate import Relation, rename_identifiers

    relations: Mapping[str, Relation] = {
        t.name.lower(): Relation(
            rename(t.name), {c.lower(): (rename(c), "") for c in t.column_names}
        )
        for t in schema.tables
    }
    return replace(
        v,
        name=rename(v.name),
        sql=rename_identifiers(v.sql, schema.dialect, rename, relations=relations),
        columns=tuple((rename(n), declared) for n, declared in v.columns),
    )
