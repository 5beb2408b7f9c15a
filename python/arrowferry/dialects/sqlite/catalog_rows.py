"""SQLite's catalog read for every table at once: a few queries joining
``pragma_table_list`` to the table-valued pragmas (``pragma_table_xinfo``,
``pragma_index_list``, ``pragma_index_xinfo``, ``pragma_foreign_key_list``), rather than
a few PRAGMAs per table (https://www.sqlite.org/pragma.html#pragfunc). A file of 1,000
tables reads in a handful of queries.

Only ordinary tables of the main schema are joined: a virtual table whose module this
SQLite lacks fails any pragma that reads it, and is read on its own
(:mod:`arrowferry.dialects.sqlite.virtual`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import Table

_ORDINARY = "FROM pragma_table_list t, {pragma} WHERE t.schema = 'main' AND t.type = 'table' "


def _rows(conn: sqlite3.Connection, pragma: str, columns: str, order: str) -> list[Any]:
    sql = f"SELECT {columns} " + _ORDINARY.format(pragma=pragma) + f"ORDER BY {order}"
    return conn.execute(sql).fetchall()


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(tuple(row[1:]))
    return grouped


@dataclass
class CatalogRows:
    """Each ordinary table's pragma rows, by table (index keys by index), as the
    one-table PRAGMAs give them."""

    xinfo: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    index_list: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    index_keys: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    foreign_keys: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    index_sql: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> CatalogRows:
        xinfo = _rows(
            conn,
            "pragma_table_xinfo(t.name, 'main') x",
            't.name, x.cid, x.name, x.type, x."notnull", x.dflt_value, x.pk, x.hidden',
            "t.name, x.cid",
        )
        index_list = _rows(
            conn,
            "pragma_index_list(t.name, 'main') i",
            't.name, i.name, i."unique", i.origin, i.partial',
            "t.name, i.seq DESC",
        )
        index_keys = _rows(
            conn,
            "pragma_index_list(t.name, 'main') i, pragma_index_xinfo(i.name, 'main') k",
            'i.name, k.seqno, k.cid, k.name, k."desc", k.coll, k.key',
            "i.name, k.seqno",
        )
        foreign_keys = _rows(
            conn,
            "pragma_foreign_key_list(t.name, 'main') f",
            't.name, f.id, f.seq, f."table", f."from", f."to", f.on_update, f.on_delete',
            "t.name, f.id, f.seq",
        )
        return cls(
            xinfo=_grouped(xinfo),
            index_list=_grouped(index_list),
            index_keys=_grouped(r for r in index_keys if r[-1] == 1),
            foreign_keys=_grouped(foreign_keys),
            index_sql=dict(
                conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
            ),
        )


_COMPOUND_LIMIT = 400  # SQLite allows 500 terms in a compound SELECT by default


def with_counters(
    conn: sqlite3.Connection, tables: list[Table], autoincrement: dict[str, int]
) -> list[Table]:
    """Each rowid table with its counter: the largest key, which SQLite numbers the next
    row after, or AUTOINCREMENT's own (``sqlite_sequence``) when that is further."""
    keys = {
        t.name: col.name
        for t in tables
        if (col := t.identity_column) is not None and t.module is None and not t.without_rowid
    }
    if not keys:
        return tables
    largest = largest_keys(conn, keys)
    return [
        replace(t, sequence=max(largest[t.name], autoincrement.get(t.name, 0)))
        if t.name in largest
        else t
        for t in tables
    ]


def largest_keys(conn: sqlite3.Connection, keys: dict[str, str]) -> dict[str, int]:
    """The largest value of each table's rowid alias (``{table: column}``), 0 when empty:
    the counter a rowid table numbers its next row from. Read at the b-tree's end, a few
    hundred tables a query."""
    found: dict[str, int] = {}
    items = list(keys.items())
    for begin in range(0, len(items), _COMPOUND_LIMIT):
        parts = [
            f"SELECT {i}, max({quote_ident(column)}) FROM {quote_ident(table)}"
            for i, (table, column) in enumerate(items[begin : begin + _COMPOUND_LIMIT], begin)
        ]
        for i, value in conn.execute(" UNION ALL ".join(parts)).fetchall():
            found[items[i][0]] = int(value) if isinstance(value, int) else 0
    return found


def all_view_columns(conn: sqlite3.Connection) -> dict[str, tuple[tuple[str, str], ...]]:
    """Every view's output columns (name, declared type) in one query; none at all when
    one view cannot run (a table it reads is gone), which then are read one by one."""
    try:
        rows = conn.execute(
            "SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p "
            "WHERE m.type = 'view' ORDER BY m.name, p.cid"
        ).fetchall()
    except sqlite3.Error:
        return {}
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for view, name, declared in rows:
        found[view] = (*found.get(view, ()), (str(name), str(declared or "")))
    return found
