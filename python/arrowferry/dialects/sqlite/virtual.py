"""Virtual tables (FTS3/4/5, R-tree, geopoly...): copied as plain tables, read through
the module itself, never through its shadow tables.

Metadata is read with the standard library's ``sqlite3`` (3.40 here), whose modules can
be older than those of ``adbc_driver_sqlite`` (3.53: FTS5 options such as
``contentless_delete`` or ``tokendata``, geopoly). Whatever the first cannot read is
asked of the driver, which reads the data anyway; a table neither can read is that
table's error, never the run's.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from arrowferry.dialects.sqltext import quote_ident, tokenize
from arrowferry.errors import SourceError
from arrowferry.model import Table
from arrowferry.urls import sqlite_uri

FULL_TEXT = {"fts3", "fts4", "fts5"}
RTREE = {"rtree", "rtree_i32"}


def module_of(sql: str) -> tuple[str, str]:
    """(module, its arguments' text) of ``CREATE VIRTUAL TABLE x USING module(args)``."""
    tokens = tokenize(sql)
    using = next((i for i, t in enumerate(tokens) if t.upper == "USING"), None)
    if using is None or using + 1 >= len(tokens):
        return "", ""
    module = tokens[using + 1].name.lower()
    rest = tokens[using + 2 :]
    if not rest or rest[0].text != "(":
        return module, ""
    return module, sql[rest[0].end : rest[-1].start if rest[-1].text == ")" else len(sql)]


def contentless(module: str, args: str) -> bool:
    """An FTS table that keeps no copy of its text (``content=''``): columns read NULL."""
    if module not in FULL_TEXT:
        return False
    compact = "".join(args.split()).lower()
    return "content=''" in compact or 'content=""' in compact


def external_content(module: str, args: str) -> str | None:
    """The table an external-content FTS table reads its text from (``content=docs``)."""
    if module not in FULL_TEXT:
        return None
    found = re.search(r"(?i)(?:^|,)\s*content\s*=\s*(['\"`\[]?)([^'\"`\],)]+)\1?", args)
    return found.group(2).strip() if found and found.group(2).strip() else None


def rows(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a metadata query, asked of the driver's newer SQLite when the
    standard library's cannot answer it (a module or option it does not know)."""
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError as err:
        first = err
    try:
        return driver_rows(database_path(conn), sql)
    except Exception as err:  # the driver's errors are OSError/adbc errors: keep the first
        raise SourceError(f"{first}; adbc_driver_sqlite: {_driver_text(err)}") from err


def database_path(conn: sqlite3.Connection) -> str:
    for _seq, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file)
    raise SourceError("the SQLite connection has no main database")


def driver_rows(path: str, sql: str) -> list[tuple[Any, ...]]:
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    with (
        closing(sqlite_adbc.connect(sqlite_uri(Path(path), read_only=True))) as conn,
        closing(conn.cursor()) as cur,
    ):
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def driver_kinds(conn: sqlite3.Connection) -> dict[str, str]:
    """Each main-schema table's kind (table, virtual, shadow) as the driver's SQLite sees
    it: a shadow table of a module only it has looks like a plain table to ``sqlite3``."""
    try:
        found = driver_rows(
            database_path(conn),
            "SELECT name, type FROM pragma_table_list WHERE schema = 'main'",
        )
    except Exception:
        return {}
    return {str(name): str(kind) for name, kind in found}


def has_rowid(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the module gives its rows a rowid (FTS's document id, geopoly's...)."""
    try:
        rows(conn, f"SELECT rowid FROM {quote_ident(name)} LIMIT 0")
    except SourceError:
        return False
    return True


def unreadable_reason(name: str, module: str, err: Exception, available: Sequence[str]) -> str:
    """One paragraph: why a virtual table is not migrated, and what to do."""
    text = str(err)
    if module and module not in available:
        return (
            f"virtual table {name!r} uses module {module!r}, which arrowferry's SQLite "
            "(adbc_driver_sqlite) does not have, so its rows cannot be read; it was not "
            "migrated. Copy it into a plain table with a SQLite that has the module "
            f"(CREATE TABLE {name}_copy AS SELECT rowid, * FROM {name}) and migrate that"
        )
    return f"virtual table {name!r} ({module or 'unknown module'}) cannot be read: {text}"


def available_modules(conn: sqlite3.Connection) -> list[str]:
    try:
        return [str(r[0]) for r in driver_rows(database_path(conn), "PRAGMA module_list")]
    except Exception:
        return []


def copy_note(name: str, module: str, args: str, columns: Sequence[str], schema: str) -> str:
    """The warning for a virtual table copied as a plain table: what is not rebuilt, and
    (for full text) how PostgreSQL builds its own index."""
    head = f"virtual table {name!r} ({module}) is copied into a plain table with its rows"
    if module in FULL_TEXT:
        text = " || ' ' || ".join(f"coalesce({quote_ident(c)}, '')" for c in columns) or "''"
        note = (
            f"{head}; its full-text index is not rebuilt. In PostgreSQL, build one with "
            f"CREATE INDEX ON {quote_ident(schema)}.{quote_ident(name)} USING gin "
            f"(to_tsvector('simple', {text})) and query it with "
            "to_tsvector('simple', ...) @@ websearch_to_tsquery('simple', 'words') "
            "(use your language's configuration instead of 'simple' for stemming)"
        )
        source = external_content(module, args)
        if source is not None and not contentless(module, args):
            note += (
                f"; its text is read from table {source!r} (external content), so the "
                "rows are copied twice: keep one and index that one"
            )
        if contentless(module, args):
            note += (
                "; it is contentless (content=''), so SQLite kept no copy of its text: only "
                "its rowids are copied, every other column is NULL"
            )
        return note
    if module in RTREE:
        return (
            f"{head}; its R-tree index is not rebuilt (a PostgreSQL GiST index over a box, "
            "cube or PostGIS geometry built from the bounds can serve the same queries)"
        )
    return f"{head}; the module's own index or behaviour is not rebuilt"


def _driver_text(err: Exception) -> str:
    return " ".join(str(err).split())


def virtual_notes(conn: sqlite3.Connection, tables: Sequence[Table], schema: str) -> list[str]:
    """The copy warning of each virtual table among ``tables``."""
    notes = []
    for table in tables:
        if table.module is None:
            continue
        found = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (table.name,)
        ).fetchone()
        module, args = module_of(found[0] if found and found[0] else "")
        columns = [c.name for c in table.columns if c.name != "rowid"]
        notes.append(copy_note(table.name, module or table.module, args, columns, schema))
    return notes


def shadow_notes(shadows: Sequence[str], virtual: Collection[str]) -> list[str]:
    """One warning per virtual table naming its skipped shadow tables (``<name>_<suffix>``)."""
    owned: dict[str, list[str]] = {}
    for shadow in sorted(shadows):
        owner = max(
            (v for v in virtual if shadow.lower().startswith(v.lower() + "_")), key=len, default=""
        )
        owned.setdefault(owner, []).append(shadow)
    notes = []
    for owner, names in sorted(owned.items()):
        listed = ", ".join(repr(n) for n in names)
        whose = f"virtual table {owner!r}" if owner else "a virtual table"
        notes.append(
            f"skipped the shadow table{'s' if len(names) > 1 else ''} {listed} of {whose}: "
            "they hold its index, and its rows are copied through the virtual table itself"
        )
    return notes
