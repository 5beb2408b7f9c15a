"""SQLite -> SQLite as the engine plans it: the replica's statements as finishing
statements, and each table's rows read storage class by storage class.

Each value keeps its storage class: a column whose values all have one class is read
as that class; a column holding several is read as one Arrow column per class
(``replica_rows``) and written back through one bound INSERT that puts each value's
own class back, so text stored in an INTEGER column stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from arrowferry.dialects.base import Statement
from arrowferry.dialects.sqlite import replica_replay as replay
from arrowferry.dialects.sqlite import replica_rows as rows
from arrowferry.dialects.sqlite.catalog import connect_metadata
from arrowferry.dialects.sqlite.replica import TableProfile, TableReplica, read_replica
from arrowferry.model import Column, DataType, PrimaryKey, Table


@dataclass(frozen=True)
class NativeTable:
    """One table of a SQLite -> SQLite copy."""

    replica: TableReplica
    profile: TableProfile | None  # None: no rows are copied (a derived virtual table)
    create_sql: str
    rename_batches = False  # the batches carry the layout's own names

    @property
    def name(self) -> str:
        return self.replica.name

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.replica.columns)

    @property
    def copy_rows(self) -> bool:
        return self.profile is not None

    def read_sql(self, rowids: tuple[int, int] | None = None) -> tuple[str, rows.Layout]:
        assert self.profile is not None
        return rows.read_sql(self.replica, self.profile.classes, rowids)

    def table(self) -> Table:
        """The neutral table it stands for (names and declared types; its key)."""
        columns = tuple(
            Column(c.name, DataType("other", raw=c.declared), declared=c.declared)
            for c in self.replica.columns
        )
        key = self.replica.rowid_column
        return Table(self.name, columns, PrimaryKey((key,)) if key else None)


@dataclass(frozen=True)
class NativeSchema:
    before: tuple[Statement, ...]  # a new file's encoding and page size, before any table
    tables: dict[str, NativeTable]  # in the order they must be created
    after: tuple[Statement, ...]  # indexes, views, triggers, counters, header pragmas
    last: tuple[Statement, ...]  # outside any transaction (WAL mode)
    notes: tuple[str, ...]


def read_native(path: Path, tables: Sequence[str]) -> tuple[NativeSchema, dict[str, int]]:
    """The replica of ``tables`` and their row counts, read in one transaction (the
    profile and the read must see the same rows: a storage class the profile did not
    see would be converted by the driver)."""
    with closing(connect_metadata(path)) as conn:
        conn.execute("BEGIN")
        replica = read_replica(conn, tables)
        profiles = {t.name: rows.profile_table(conn, t) for t in replica.tables if t.copy_rows}
        conn.execute("COMMIT")
    native = {
        t.name: NativeTable(t, profiles.get(t.name), replay.create_sql(t, profiles.get(t.name)))
        for t in replica.tables
    }
    notes = [*replica.notes, *(n for p in profiles.values() for n in p.notes)]
    schema = NativeSchema(
        tuple(_statement(s, "prepare") for s in replay.prelude_statements(replica)),
        native,
        tuple(_statement(s, _kind(s)) for s in replay.after_load_statements(replica, profiles)),
        tuple(_statement(s, "closing") for s in replay.closing_statements(replica)),
        tuple(notes),
    )
    return schema, {name: p.rows for name, p in profiles.items()}


def _kind(sql: str) -> str:
    """What a replayed statement makes, for the run's summary (they run in order)."""
    words = sql.upper().split()[:3]
    if words[:2] == ["CREATE", "INDEX"] or words == ["CREATE", "UNIQUE", "INDEX"]:
        return "index"
    if words[:2] == ["CREATE", "VIEW"] or words[:3] == ["CREATE", "TEMP", "VIEW"]:
        return "native_view"
    return "native"


def _statement(sql: str, kind: str) -> Statement:
    return Statement(kind, sql, None, sql.split("(")[0][:60])
