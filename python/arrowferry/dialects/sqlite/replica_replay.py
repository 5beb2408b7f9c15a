"""SQLite -> SQLite: the statements that make the copy around its rows.

Before the rows: the file's fixed settings (``prelude_statements``) and each table
(``create_sql``). After them (``after_load_statements``), in this order: definitions put
back, full-text indexes rebuilt, indexes, views, triggers, AUTOINCREMENT counters,
header pragmas; and, outside any transaction, the journal mode (``closing_statements``).

The replay follows ``sqlite_master`` order (creation order). It matters for triggers:
SQLite fires the triggers of one event newest first, in the order it loads them from
``sqlite_master``. Views are created before the triggers (an ``INSTEAD OF`` trigger
needs its view); SQLite does not check a view's body when it is created, so views that
read other views need no ordering among themselves.

The target connection must have foreign keys off and CHECK constraints ignored during
the load (``write.connect`` does both): the source may hold orphans and rows its CHECKs
refuse, and a copy keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping

from arrowferry.dialects.sqlite.replica import Replica, TableProfile, TableReplica
from arrowferry.dialects.sqlite.write import literal_sql
from arrowferry.dialects.sqltext import quote_ident, tokenize


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def prelude_statements(replica: Replica) -> list[str]:
    """What a new file needs before its first table: the text encoding (every TEXT value
    is stored in it), the page size and the auto-vacuum mode, all fixed at creation."""
    out = []
    if replica.encoding.upper() != "UTF-8":
        out.append(f"PRAGMA encoding = {_literal(replica.encoding)}")
    out.append(f"PRAGMA page_size = {int(replica.page_size)}")
    if replica.auto_vacuum:
        out.append(f"PRAGMA auto_vacuum = {int(replica.auto_vacuum)}")
    return out


def create_sql(table: TableReplica, profile: TableProfile | None = None) -> str:
    """The statement that makes an empty ``table`` before its rows arrive: its own text
    (or the profile's ``load_sql``, put back by ``after_load_statements``), or, for a
    shadow table (which its virtual table made), one that empties it."""
    if table.created_by is not None:
        return f"DELETE FROM main.{quote_ident(table.name)}"
    if profile is not None and profile.load_sql:
        return profile.load_sql
    return table.sql


def after_load_statements(
    replica: Replica, profiles: Mapping[str, TableProfile] | None = None
) -> list[str]:
    """Run once every table is loaded, in this order: the definitions of tables loaded
    under another text put back (``TableProfile.load_sql``; before anything that reads
    a column's affinity, such as a partial index's WHERE), full-text indexes rebuilt
    from their content tables, indexes, views, triggers (last, so none fires on the
    load), the AUTOINCREMENT counters, then the header pragmas. One transaction is fine.
    """
    out = restore_statements(replica, profiles or {})
    out += [
        f"INSERT INTO main.{quote_ident(t.name)} ({quote_ident(t.name)}) VALUES ('rebuild')"
        for t in replica.tables
        if t.strategy == "rebuild"
    ]
    out += [*replica.indexes, *replica.views, *replica.triggers]
    out += sequence_statements(replica)
    out.append(f"PRAGMA user_version = {int(replica.user_version)}")
    out.append(f"PRAGMA application_id = {int(replica.application_id)}")
    return out


def restore_statements(replica: Replica, profiles: Mapping[str, TableProfile]) -> list[str]:
    """Give each table loaded under ``load_sql`` its own text back.

    The text is changed in ``sqlite_schema`` itself, as SQLite documents for changes that
    leave the stored format alone (https://www.sqlite.org/lang_altertable.html#otheralter):
    a declared type is read only when a value is written. ``writable_schema = RESET``
    makes this connection read the schema again.
    """
    changed = [t for t in replica.tables if (p := profiles.get(t.name)) is not None and p.load_sql]
    if not changed:
        return []
    out = ["PRAGMA writable_schema = ON"]
    out += [
        f"UPDATE sqlite_schema SET sql = {_literal(t.sql)} "
        f"WHERE type = 'table' AND name = {_literal(t.name)}"
        for t in changed
    ]
    return [*out, "PRAGMA writable_schema = RESET"]


def sequence_statements(replica: Replica) -> list[str]:
    """``sqlite_sequence`` made equal to the source's for the copied tables: loading rows
    into an AUTOINCREMENT table writes its row there, and a table the source never
    inserted into (or whose row was deleted) must have none."""
    auto = [t.name for t in replica.tables if t.created_by is None and autoincrement(t)]
    names = auto + [n for n, _ in replica.sequences if n not in auto]
    if not names:
        return []
    out = []
    if not auto:
        # sqlite_sequence is made by the first AUTOINCREMENT table, and stays
        out += [
            'CREATE TABLE main."__arrowferry_seq" (k INTEGER PRIMARY KEY AUTOINCREMENT)',
            'DROP TABLE main."__arrowferry_seq"',
        ]
    out.append(
        "DELETE FROM sqlite_sequence WHERE name IN (" + ", ".join(_literal(n) for n in names) + ")"
    )
    out += [
        f"INSERT INTO sqlite_sequence (name, seq) VALUES ({_literal(n)}, {literal_sql(seq)})"
        for n, seq in replica.sequences
    ]
    return out


def autoincrement(table: TableReplica) -> bool:
    return not table.is_virtual and any(t.upper == "AUTOINCREMENT" for t in tokenize(table.sql))


def closing_statements(replica: Replica) -> list[str]:
    """Outside any transaction, before the file is closed and renamed: a source in WAL
    mode gives a copy in WAL mode (the mode is kept in the file header)."""
    return ["PRAGMA journal_mode = WAL"] if replica.wal else []
