"""Collations of a PostgreSQL database: which columns compare text other than byte by byte,
and which of the names a run would create columns with the database has.

SQLite compares text with ``BINARY`` (bytes); PostgreSQL with each column's collation,
by default the database's: at a locale (``en_US.UTF-8``, ICU ``en-US``) ``'apple' <
'Banana'``, where bytes and SQLite put it after. A view that compares, sorts or takes
``max()`` of such a column gives other rows once in SQLite, which has no locale
collations, so a PostgreSQL -> SQLite plan names those views. The catalog's columns
differ across versions (``daticulocale`` in 15-16, ``datlocale`` from 17), so rows are
read whole, as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from arrowferry.dialects.postgresql.connection import fetch, literal

# libc and builtin locales that order by code point, which for UTF-8 is byte order
_BYTEWISE = {"c", "posix", "c.utf-8", "c.utf8", "ucs_basic", "pg_c_utf8", "pg_unicode_fast"}


def column_collation(kind: str, source: str | None, wanted: str = "C") -> str | None:
    """The collation of a PostgreSQL column made from a SQLite one of ``kind`` declared
    with collation ``source``: ``wanted`` ("C" compares bytes, as SQLite's BINARY does)
    for text; None (the database's default) for another kind, for ``wanted`` "default", and
    for NOCASE or RTRIM, which have no PostgreSQL equivalent (the planner warns)."""
    if kind != "text" or wanted.lower() == "default" or (source or "BINARY") != "BINARY":
        return None
    return wanted


def orders_bytes(provider: str, locale: str | None) -> bool:
    """Whether a collation of ``provider`` (``c`` libc, ``i`` ICU, ``b`` builtin) at
    ``locale`` compares text as SQLite's BINARY does."""
    return provider in ("c", "b") and (locale or "c").lower() in _BYTEWISE


def _database(row: Mapping[str, Any]) -> tuple[str, str | None]:
    provider = str(row.get("datlocprovider") or "c")
    if provider == "c":
        return provider, row.get("datcollate")
    return provider, row.get("datlocale") or row.get("daticulocale")


def _collation(row: Mapping[str, Any], database: tuple[str, str | None]) -> tuple[str, str | None]:
    provider = str(row.get("collprovider") or "c")
    if provider == "d":
        return database
    if provider == "c":
        return provider, row.get("collcollate")
    return provider, row.get("colllocale") or row.get("colliculocale")


def label(provider: str, locale: str | None) -> str:
    return f"{locale} (ICU)" if provider == "i" else str(locale)


def locale_ordered(conn: Any, schema: str) -> dict[tuple[str, str], str]:
    """(table or view, column) -> its collation's name, for each column of ``schema`` of
    a text type whose collation does not order by bytes."""
    (database_row,) = fetch(
        conn, "SELECT to_jsonb(d)::text FROM pg_database d WHERE datname = current_database()"
    )
    database = _database(json.loads(database_row[0]))
    # each collation the schema's columns use, read once (a schema of 1,000 tables has
    # thousands of text columns and a handful of collations)
    where = (
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = {literal(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> 0"
    )
    orders: dict[int, str | None] = {}
    for oid, collation in fetch(
        conn,
        "SELECT co.oid::bigint, to_jsonb(co)::text FROM pg_collation co "
        f"WHERE co.oid IN (SELECT DISTINCT a.attcollation {where})",
    ):
        provider, locale = _collation(json.loads(collation), database)
        orders[int(oid)] = None if orders_bytes(provider, locale) else label(provider, locale)
    found: dict[tuple[str, str], str] = {}
    if not any(orders.values()):
        return found
    for table, column, oid in fetch(
        conn, f"SELECT c.relname::text, a.attname::text, a.attcollation::bigint {where}"
    ):
        shown = orders.get(int(oid))
        if shown is not None:
            found[(str(table), str(column))] = shown
    return found


def missing_collations(conn: Any, names: Sequence[str]) -> list[str]:
    """Those of ``names`` the database has no collation of (for its encoding)."""
    listed = ", ".join(literal(n) for n in names)
    known = {
        str(r[0])
        for r in fetch(
            conn,
            f"SELECT collname FROM pg_collation WHERE collname IN ({listed}) AND "
            "collencoding IN (-1, pg_char_to_encoding(current_setting('server_encoding')))",
        )
    }
    return [n for n in names if n not in known]
