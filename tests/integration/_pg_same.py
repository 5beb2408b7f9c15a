"""Compare two PostgreSQL schemas value by value and structure by structure.

``assert_same_database(src_url, src_schema, dst_url, dst_schema)`` raises an
``AssertionError`` naming the first differences (table, column, key, both values);
``database_differences`` returns them all as text. Both sides are read through psycopg
with the same session settings, so every value is compared by its exact text output:

- ``extra_float_digits = 1``: floats in the shortest text that reads back to the same bits;
- ``bytea_output = 'hex'``, ``DateStyle = 'ISO, MDY'``, ``IntervalStyle = 'postgres'``,
  ``TimeZone = 'UTC'``, ``lc_monetary = 'C'``: one spelling for every other value;
- ``search_path`` = the schema being read, so ``format_type``, ``pg_get_expr``,
  ``pg_get_constraintdef`` and ``pg_get_viewdef`` name the schema's own objects without
  it; the qualification ``pg_get_indexdef`` and ``pg_get_functiondef`` always print is
  removed. The two schemas may have different names.

Rows are streamed with ``COPY (SELECT ... ORDER BY key) TO STDOUT`` on both sides and
merged by key, so a database of millions of rows is compared in constant memory: the key
is the primary key (integer columns in their own order, others by their text in the "C"
collation), or every column when there is none (rows are then a multiset).

What is compared: tables (kind, partitioning, inheritance, row security), columns (order,
name, ``format_type``, NOT NULL, default text, identity kind, generated expression,
collation), rows, constraints (``pg_get_constraintdef``), indexes (``pg_get_indexdef``),
sequences (type, bounds, increment, cycle, cache, last_value, is_called, the value the
next ``nextval`` returns, owning column), views and materialized views (definition,
populated flag, rows), comments on every object of the schema, enum labels in order,
domains (base type, NOT NULL, default, constraints), composite types, triggers,
row-security policies and functions.

``except_`` names kinds a copy is allowed to drop (``EXCEPT_KINDS``); objects of these
kinds are not compared on either side, but the rows of their tables still are:

- ``triggers``, ``functions``, ``exclusion_constraints`` (and the index behind each);
- ``row_security``: the ENABLE/FORCE flags and the policies;
- ``partitioning``: a partitioned table may become a plain table holding all the rows;
  partitions are ignored on both sides;
- ``inheritance``: a child may become a plain table with the inherited columns; each
  table's own rows (``FROM ONLY``) are compared;
- ``generated_columns``: a generated column may become a plain column; its values are
  compared, its expression is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from tests.integration._pg_same_catalog import Catalog, Conn, Relation

EXCEPT_KINDS = frozenset(
    {
        "triggers",
        "functions",
        "row_security",
        "exclusion_constraints",
        "partitioning",
        "inheritance",
        "generated_columns",
    }
)
# base types whose order Python's int reproduces; any other key column is ordered by text
_INT_TYPES = frozenset({"int2", "int4", "int8", "oid"})
_SHOWN_VALUE = 160  # characters of a value in a message


def assert_same_database(
    src_url: str,
    src_schema: str,
    dst_url: str,
    dst_schema: str,
    *,
    except_: Collection[str] = (),
    rows: bool = True,
    per_table: int = 20,
    show: int = 5,
) -> None:
    """Raise AssertionError naming the first ``show`` differences, if there are any."""
    diffs = database_differences(
        src_url, src_schema, dst_url, dst_schema, except_=except_, rows=rows, per_table=per_table
    )
    if diffs:
        head = (
            f"{len(diffs)} difference(s) between source schema {src_schema!r} and target "
            f"schema {dst_schema!r}" + (f"; the first {show}:" if len(diffs) > show else ":")
        )
        raise AssertionError("\n".join([head, *("  " + d for d in diffs[:show])]))


def database_differences(
    src_url: str,
    src_schema: str,
    dst_url: str,
    dst_schema: str,
    *,
    except_: Collection[str] = (),
    rows: bool = True,
    per_table: int = 20,
) -> list[str]:
    """Every difference, structure first, as one line of text each."""
    unknown = set(except_) - EXCEPT_KINDS
    if unknown:
        raise ValueError(f"unknown except_ kinds {sorted(unknown)}; known: {sorted(EXCEPT_KINDS)}")
    skip = frozenset(except_)
    with Conn(src_url, src_schema) as src_conn, Conn(dst_url, dst_schema) as dst_conn:
        src = Catalog.read(src_conn, src_schema, skip)
        dst = Catalog.read(dst_conn, dst_schema, skip)
        diffs = _structure_differences(src, dst, skip)
        if rows:
            diffs += _all_row_differences(src, dst, src_conn, dst_conn, per_table)
    return diffs


# --- structure ------------------------------------------------------------------------------


def _keyed_diff(
    what: str, src: dict[Any, Any], dst: dict[Any, Any], name: Callable[[Any], str] = str
) -> list[str]:
    out = []
    for key in sorted(src.keys() | dst.keys(), key=repr):
        if key not in dst:
            out.append(f"{what} {name(key)}: missing in target (source: {_show(src[key])})")
        elif key not in src:
            out.append(f"{what} {name(key)}: only in target ({_show(dst[key])})")
        elif src[key] != dst[key]:
            out.append(f"{what} {name(key)}: source {_show(src[key])} != target {_show(dst[key])}")
    return out


def _dotted(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}"


def _structure_differences(src: Catalog, dst: Catalog, skip: frozenset[str]) -> list[str]:
    diffs: list[str] = []
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "table"}
    for name in sorted(src.relations.keys() | dst.relations.keys()):
        s, d = src.relations.get(name), dst.relations.get(name)
        if d is None or s is None:
            rel = s or d
            assert rel is not None
            where = "missing in target" if d is None else "only in target"
            diffs.append(f"{kinds[rel.kind]} {name}: {where}")
            continue
        diffs += _relation_differences(s, d, kinds)
    diffs += _keyed_diff("constraint", src.constraints, dst.constraints, _dotted)
    diffs += _keyed_diff("index", src.indexes, dst.indexes, _dotted)
    for name in sorted(src.sequences.keys() | dst.sequences.keys()):
        if name not in dst.sequences or name not in src.sequences:
            where = "missing in target" if name not in dst.sequences else "only in target"
            diffs.append(f"sequence {name}: {where}")
            continue
        diffs += _keyed_diff(f"sequence {name}", src.sequences[name], dst.sequences[name])
    diffs += _keyed_diff("comment on", src.comments, dst.comments)
    diffs += _keyed_diff("enum", src.enums, dst.enums)
    for name in sorted(src.domains.keys() | dst.domains.keys()):
        if name not in dst.domains or name not in src.domains:
            where = "missing in target" if name not in dst.domains else "only in target"
            diffs.append(f"domain {name}: {where}")
            continue
        diffs += _keyed_diff(f"domain {name}", src.domains[name], dst.domains[name])
    diffs += _keyed_diff("composite type", src.composites, dst.composites)
    if "triggers" not in skip:
        diffs += _keyed_diff("trigger", src.triggers, dst.triggers, _dotted)
    if "row_security" not in skip:
        diffs += _keyed_diff("policy", src.policies, dst.policies, _dotted)
    if "functions" not in skip:
        diffs += _keyed_diff("function", src.functions, dst.functions)
    return diffs


def _relation_differences(s: Relation, d: Relation, kinds: dict[str, str]) -> list[str]:
    diffs = []
    label = f"{kinds[s.kind]} {s.name}"
    for attr, what in (
        ("kind", "relkind"),
        ("partition_key", "partition key"),
        ("partition_bound", "partition bound"),
        ("parents", "inherits from"),
        ("row_security", "row security (enabled, forced)"),
        ("populated", "populated"),
        ("view_def", "definition"),
    ):
        if getattr(s, attr) != getattr(d, attr):
            diffs.append(
                f"{label}: {what}: source {_show(getattr(s, attr))} != target "
                f"{_show(getattr(d, attr))}"
            )
    s_names = [c.name for c in s.columns]
    d_names = [c.name for c in d.columns]
    if s_names != d_names:
        missing = [n for n in s_names if n not in d_names]
        extra = [n for n in d_names if n not in s_names]
        diffs.append(
            f"{label}: columns differ: missing in target {missing}, only in target {extra}"
            + ("" if missing or extra else f", order {s_names} != {d_names}")
        )
    d_cols = {c.name: c for c in d.columns}
    for sc in s.columns:
        dc = d_cols.get(sc.name)
        if dc is None:
            continue
        for attr in ("type", "not_null", "default", "identity", "generated", "collation"):
            if getattr(sc, attr) != getattr(dc, attr):
                diffs.append(
                    f"column {s.name}.{sc.name}: {attr.replace('_', ' ')}: source "
                    f"{_show(getattr(sc, attr))} != target {_show(getattr(dc, attr))}"
                )
    return diffs


# --- rows ---------------------------------------------------------------------------------


def _all_row_differences(
    src: Catalog, dst: Catalog, sc: Conn, dc: Conn, per_table: int
) -> list[str]:
    diffs: list[str] = []
    for name in sorted(src.relations.keys() & dst.relations.keys()):
        s, d = src.relations[name], dst.relations[name]
        if s.kind == "m" and not s.populated:
            continue  # nothing to read; the populated flag is compared with the structure
        if d.kind == "m" and not d.populated:
            continue
        diffs += _row_differences(s, d, sc, dc, per_table)
    return diffs


@dataclass(frozen=True)
class _RowQuery:
    columns: list[str]  # compared columns, in the source's order
    key_positions: list[int]  # positions of the key columns in ``columns``
    key_is_int: list[bool]

    def sql(self, rel: Relation, schema: str) -> str:
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)
        order = []
        for pos, is_int in zip(self.key_positions, self.key_is_int, strict=True):
            ident = sql.Identifier(self.columns[pos])
            order.append(ident if is_int else sql.SQL('({}::text) COLLATE "C"').format(ident))
        # a child's rows are its own (FROM ONLY); a partitioned table's rows are its partitions'
        only = sql.SQL("ONLY ") if rel.stored_kind == "r" else sql.SQL("")
        return (
            sql.SQL("COPY (SELECT {} FROM {}{} ORDER BY {}) TO STDOUT")
            .format(cols, only, sql.Identifier(schema, rel.name), sql.SQL(", ").join(order))
            .as_string(None)
        )


def _row_query(s: Relation, d: Relation) -> _RowQuery | None:
    d_names = {c.name for c in d.columns}
    cols = [c for c in s.columns if c.name in d_names]
    if not cols:
        return None
    names = [c.name for c in cols]
    key = [n for n in s.primary_key if n in d_names] if s.primary_key else []
    if len(key) != len(s.primary_key) or not key:
        key = names  # no usable key: the whole row is the key, rows form a multiset
    by_name = {c.name: c for c in cols}
    return _RowQuery(
        names, [names.index(k) for k in key], [by_name[k].base in _INT_TYPES for k in key]
    )


def _copy_lines(conn: Conn, query: str) -> Iterator[bytes]:
    cur = conn.conn.cursor()
    with cur.copy(query.encode()) as copy:
        pending = b""
        for chunk in copy:
            pending += bytes(chunk)
            # the server sends a row per message; split anyway in case a message holds more
            *lines, pending = pending.split(b"\n")
            yield from lines
        if pending:
            yield pending


_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _field(raw: bytes) -> str | None:
    """A COPY text field back to the value's text (None for NULL)."""
    if raw == b"\\N":
        return None
    text = raw.decode()
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _fields(line: bytes) -> list[str | None]:
    return [_field(f) for f in line.split(b"\t")]


def _order_key(values: list[str | None], q: _RowQuery) -> tuple[tuple[int, Any], ...]:
    """The SQL ORDER BY as a Python sort key: ints as ints, text by code point, NULLs last."""
    out: list[tuple[int, Any]] = []
    for pos, is_int in zip(q.key_positions, q.key_is_int, strict=True):
        v = values[pos]
        out.append((1, 0) if v is None else (0, int(v) if is_int else v))
    return tuple(out)


def _row_differences(s: Relation, d: Relation, sc: Conn, dc: Conn, per_table: int) -> list[str]:
    q = _row_query(s, d)
    if q is None:
        return []
    src_lines = _copy_lines(sc, q.sql(s, sc.schema))
    dst_lines = _copy_lines(dc, q.sql(d, dc.schema))
    diffs: list[str] = []
    counts = [0, 0]
    total = 0

    def note(message: str) -> None:
        nonlocal total
        total += 1
        if len(diffs) < per_table:
            diffs.append(message)

    def key_text(values: list[str | None]) -> str:
        if len(q.key_positions) == len(q.columns):
            return "row " + _show(tuple(values))
        parts = [
            f"{q.columns[p]}={values[p] if is_int else _show(values[p])}"
            for p, is_int in zip(q.key_positions, q.key_is_int, strict=True)
        ]
        return "row " + ", ".join(parts)

    a = next(src_lines, None)
    b = next(dst_lines, None)
    while a is not None or b is not None:
        if a is not None and a == b:
            counts[0] += 1
            counts[1] += 1
            a, b = next(src_lines, None), next(dst_lines, None)
            continue
        va = _fields(a) if a is not None else None
        vb = _fields(b) if b is not None else None
        ka = _order_key(va, q) if va is not None else None
        kb = _order_key(vb, q) if vb is not None else None
        if va is not None and vb is not None and ka == kb:
            for col, x, y in zip(q.columns, va, vb, strict=True):
                if x != y:
                    note(f"{s.name}.{col} at {key_text(va)}: {_pair(x, y)}")
            counts[0] += 1
            counts[1] += 1
            a, b = next(src_lines, None), next(dst_lines, None)
        elif vb is None or (va is not None and ka is not None and kb is not None and ka < kb):
            assert va is not None
            note(f"{s.name}: {key_text(va)} missing in target")
            counts[0] += 1
            a = next(src_lines, None)
        else:
            note(f"{s.name}: {key_text(vb)} only in target")
            counts[1] += 1
            b = next(dst_lines, None)
    if total > len(diffs):
        diffs.append(f"{s.name}: {total - len(diffs)} more row differences")
    if counts[0] != counts[1]:
        diffs.insert(0, f"{s.name}: {counts[0]} rows in source, {counts[1]} in target")
    return diffs


# --- messages ---------------------------------------------------------------------------


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) <= _SHOWN_VALUE:
        return text
    return text[: _SHOWN_VALUE - 30] + f"...({len(text)} chars)"


def _pair(x: str | None, y: str | None) -> str:
    """Both values; long ones cut around their first difference, so a digit change shows."""
    if x is None or y is None or max(len(x), len(y)) <= _SHOWN_VALUE // 2:
        return f"source {x!r} != target {y!r}"
    first = next(
        (i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y))
    )
    start = max(0, first - 20)

    def cut(v: str) -> str:
        return f"{'...' if start else ''}{v[start : start + 60]!r}...({len(v)} chars)"

    return f"source {cut(x)} != target {cut(y)} (first difference at character {first})"
