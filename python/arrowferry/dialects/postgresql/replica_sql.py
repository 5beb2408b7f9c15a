"""Statement text of a PostgreSQL -> PostgreSQL copy: columns, constraints, indexes,
views, types and the notes on what is left behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arrowferry.dialects.postgresql.connection import literal
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SchemaError

_STORAGE = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}


@dataclass(frozen=True, slots=True)
class Ddl:
    """One statement of the copy; ``kind`` uses the finisher's words where they exist.

    Kinds: ``type``, ``domain``, ``create_sequence``, ``table``, ``alter_column``,
    ``owned_by``, ``primary_key``, ``unique``, ``check``, ``exclude``, ``foreign_key``,
    ``index``, ``sequence`` (a ``setval``), ``view``, ``materialized_view``, ``comment``.
    """

    kind: str
    sql: str
    name: str  # the object it makes or touches (as the source spells it)
    table: str | None = None  # the table (or view) it belongs to
    fallback_sql: str | None = None  # the NOT VALID form, for rows that violate it
    depends: tuple[str, ...] = ()  # other tables that must exist and be loaded


_REL_WORD = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
    "i": "INDEX",
    "I": "INDEX",
}
_VIEW_WORD = {"v": "view", "m": "materialized view"}


def _names(names: Sequence[str], most: int | None = None) -> str:
    shown = list(names) if most is None else list(names)[:most]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _options(options: Sequence[str]) -> str:
    """Storage parameters (``fillfactor=70``) as a WITH list, each value quoted."""
    parts = []
    for option in options:
        key, _, value = option.partition("=")
        parts.append(f"{key}={literal(value)}")
    return ", ".join(parts)


def _sequence_options(
    start: int, increment: int, low: int, high: int, cache: int, cycle: bool
) -> str:
    return (
        f"START WITH {start} INCREMENT BY {increment} MINVALUE {low} MAXVALUE {high} "
        f"CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
    )


def _column_sql(column: tuple[Any, ...]) -> str:
    name, typ, notnull, default, identity, generated, collation, compression = column[:8]
    seq, *numbers = column[11:]
    parts = [quote_ident(name), typ]
    if compression:
        parts.append(f"COMPRESSION {compression}")
    if collation:
        parts.append(f"COLLATE {collation}")
    if generated:
        parts.append(f"GENERATED ALWAYS AS ({default}) STORED")
    elif identity:
        how = "ALWAYS" if identity == "a" else "BY DEFAULT"
        parts.append(
            f"GENERATED {how} AS IDENTITY (SEQUENCE NAME {quote_ident(seq)} "
            f"{_sequence_options(*numbers)})"
        )
    elif default is not None:
        parts.append(f"DEFAULT {default}")
    if notnull:
        parts.append("NOT NULL")
    return " ".join(parts)


def _column_settings(table: str, column: tuple[Any, ...]) -> list[str]:
    name, storage, statistics, options = column[0], column[8], column[9], column[10]
    alter = f"ALTER TABLE {quote_ident(table)} ALTER COLUMN {quote_ident(name)} "
    sql = []
    if storage:
        sql.append(alter + f"SET STORAGE {_STORAGE[storage]}")
    if statistics >= 0:
        sql.append(alter + f"SET STATISTICS {statistics}")
    if options:
        sql.append(alter + f"SET ({_options(options)})")
    return sql


def _add_constraint(table: str, name: str, definition: str) -> str:
    return f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} {definition}"


def _unqualify_index(definition: str, unique: bool, quoted: str, qualified: str, table: str) -> str:
    """pg_get_indexdef's text with its table unqualified (it always qualifies it), and
    without ``ONLY`` (a partitioned parent becomes a plain table)."""
    head = f"CREATE {'UNIQUE ' if unique else ''}INDEX {quoted} ON "
    rest = definition[len(head) :] if definition.startswith(head) else None
    if rest is not None:
        rest = rest.removeprefix("ONLY ")
    if rest is None or not rest.startswith(f"{qualified} USING "):
        raise SchemaError(f"unexpected index definition from the server: {definition!r}")
    return f"{head}{quote_ident(table)}{rest[len(qualified) :]}"


def _view_ddl(name: str, kind: str, definition: str, options: list[str], populated: bool) -> Ddl:
    body = definition.strip().rstrip(";")
    with_ = f" WITH ({_options(options)})" if options else ""
    if kind == "v":
        return Ddl("view", f"CREATE VIEW {quote_ident(name)}{with_} AS {body}", name, name)
    data = "WITH DATA" if populated else "WITH NO DATA"
    sql = f"CREATE MATERIALIZED VIEW {quote_ident(name)}{with_} AS {body} {data}"
    return Ddl("materialized_view", sql, name, name)


def _type(name: str, sql: str) -> Ddl:
    return Ddl("type", sql, name)


def _range_options(
    subtype: str,
    opclass: str | None,
    collation: str | None,
    canonical: str | None,
    diff: str | None,
    multirange: str | None,
) -> str:
    parts = [f"SUBTYPE = {subtype}"]
    for key, value in (
        ("SUBTYPE_OPCLASS", opclass),
        ("COLLATION", collation),
        ("CANONICAL", canonical),
        ("SUBTYPE_DIFF", diff),
        ("MULTIRANGE_TYPE_NAME", multirange),
    ):
        if value is not None:
            parts.append(f"{key} = {value}")
    return ", ".join(parts)


def _domain(
    name: str,
    base: str,
    collation: str | None,
    default: str | None,
    notnull: bool,
    check_names: list[str],
    check_defs: list[str],
) -> list[Ddl]:
    q = quote_ident(name)
    sql = f"CREATE DOMAIN {q} AS {base}"
    if collation:
        sql += f" COLLATE {collation}"
    if default is not None:
        sql += f" DEFAULT {default}"
    if notnull:
        sql += " NOT NULL"
    later = []
    for check, definition in zip(check_names, check_defs, strict=True):
        if definition.endswith(" NOT VALID"):  # CREATE DOMAIN takes no NOT VALID
            later.append(
                Ddl(
                    "domain",
                    f"ALTER DOMAIN {q} ADD CONSTRAINT {quote_ident(check)} {definition}",
                    name,
                )
            )
        else:
            sql += f" CONSTRAINT {quote_ident(check)} {definition}"
    return [Ddl("domain", sql, name), *later]


def _topological(deps: Mapping[int, Sequence[int]]) -> list[int]:
    """Keys ordered so each comes after the keys it depends on (others ignored)."""
    order: list[int] = []
    seen: set[int] = set()

    def visit(key: int) -> None:
        if key in seen:
            return
        seen.add(key)
        for dep in deps[key]:
            if dep in deps and dep != key:
                visit(dep)
        order.append(key)

    for key in deps:
        visit(key)
    return order


def _left_behind_note(kind: str, name: str, rel: str | None, detail: str | None) -> str:
    if kind == "trigger":
        return (
            f"trigger {name} on {rel} (EXECUTE FUNCTION {detail}) is not carried, nor its "
            "function: create both on the target"
        )
    if kind == "rule":
        return f"rule {name} on {rel} is not carried"
    if kind == "statistics":
        return f"extended statistics object {name} on {rel} is not carried (CREATE STATISTICS)"
    if kind == "publication":
        where = f"table {rel}" if rel else f"this schema ({detail})"
        return f"publication {name}, which publishes {where}, is not carried"
    if kind == "event trigger":
        return f"event trigger {name} (EXECUTE FUNCTION {detail}) of the source database is not carried"
    if kind == "extension":
        return (
            f"extension {name} is installed in this schema and is not created: run "
            f"CREATE EXTENSION {name} on the target first (arrowferry does not)"
        )
    return f"{kind} {name} of this schema is not carried"
