"""SQLite -> SQLite: what a copy carries, read from the source's own catalog.

Between two databases of the same dialect every definition is kept as its source wrote
it: each table's ``CREATE TABLE`` text verbatim from ``sqlite_master`` (declared types,
CHECKs, foreign keys, COLLATE, generated columns, AUTOINCREMENT, WITHOUT ROWID and STRICT
all come with it), and the ``CREATE INDEX``, ``CREATE VIEW`` and ``CREATE TRIGGER`` texts
replayed after the load. This module reads what the copy carries (``read_replica``);
``replica_rows`` moves the rows through the same Arrow path as every pair, and
``replica_replay`` gives the statements around them.

The copy, step by step (``tests/integration/test_sqlite_replica.py::replicate``)::

    replica = read_replica(meta, tables)                 # the source's catalog
    profiles = {t.name: profile_table(meta, t) for t in replica.tables if t.copy_rows}
    prelude_statements(replica)                          # fresh file: encoding, page size
    create_sql(t, profiles.get(t.name)) for each table   # verbatim (or loaded untyped)
    read_sql(t, profile.classes, range) -> (sql, layout) # per table with copy_rows
    ingest(conn, t, layout, reader)                      # reader: read.read_batches(sql)
    after_load_statements(replica, profiles)             # indexes, views, triggers, ...
    closing_statements(replica)                          # outside a transaction
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from arrowferry.dialects.sqlite import virtual as vt
from arrowferry.dialects.sqlite.types import sqlite_affinity
from arrowferry.dialects.translate.view_scope import out_of_reach
from arrowferry.errors import SchemaError, SourceError
from arrowferry.model import View

Affinity = Literal["integer", "text", "blob", "real", "numeric"]
RowStrategy = Literal["rows", "rebuild", "shadow", "definition"]

ROWID_NAMES = ("_rowid_", "rowid", "oid")  # as read.ROWID_ALIASES: the first no column takes
WRITABLE_MODULES = {"fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"}
"""Modules whose rows are written through the module: it builds its own index."""
DERIVED_MODULES = {"fts5vocab", "fts4aux", "fts3tokenize", "dbstat"}
"""Modules whose rows are computed from other tables: only the definition is copied."""


@dataclass(frozen=True, slots=True)
class ColumnReplica:
    """A column that takes data (generated columns and a module's hidden ones do not)."""

    name: str
    declared: str
    affinity: Affinity
    """What SQLite converts a value to when it is written into this column (the rules of
    https://www.sqlite.org/datatype3.html#determination_of_column_affinity; a STRICT
    table's ANY column, and a virtual table's columns, convert nothing: ``blob``)."""


@dataclass(frozen=True, slots=True)
class TableReplica:
    """One table of the copy: how it is created and how its rows travel."""

    name: str
    sql: str
    """``CREATE TABLE`` or ``CREATE VIRTUAL TABLE``, verbatim from ``sqlite_master``."""
    columns: tuple[ColumnReplica, ...]
    rowid: str | None
    """The name that reaches the rowid (``_rowid_``, ``rowid`` or ``oid``, the first no
    column takes); None: WITHOUT ROWID, an R-tree (its id column is the rowid), or all
    three names taken."""
    carry_rowid: bool = False
    """The rowid travels as a value of its own: a rowid table whose rowid is not an
    INTEGER PRIMARY KEY column keeps its rowids, so the copy is the same file row for
    row (False when a column is the rowid)."""
    rowid_column: str | None = None
    """The INTEGER PRIMARY KEY column that is the rowid itself (its values are integers)."""
    without_rowid: bool = False
    strict: bool = False
    module: str | None = None
    """The module of a virtual table."""
    strategy: RowStrategy = "rows"
    """``rows``: read and written like any table (through the module for a virtual
    table); ``rebuild``: an external-content full-text table, whose index is rebuilt
    from its content table after the load; ``shadow``: a contentless full-text table,
    whose only copy of the data is its index, carried by copying its shadow tables;
    ``definition``: created, no rows (a module whose rows are derived)."""
    created_by: str | None = None
    """A shadow table: the virtual table that creates it. It is emptied and filled, not
    created (its ``CREATE TABLE`` is the module's business)."""

    @property
    def seekable(self) -> bool:
        """Whether one range of rowids can be read on its own (through the rowid b-tree;
        a module may not seek by rowid, so a virtual table is read in one piece)."""
        return self.rowid is not None and not self.is_virtual

    @property
    def copy_rows(self) -> bool:
        return self.strategy == "rows"

    @property
    def is_virtual(self) -> bool:
        return self.module is not None


@dataclass(frozen=True, slots=True)
class Replica:
    """Everything a SQLite -> SQLite copy carries, in the order it is replayed."""

    tables: tuple[TableReplica, ...]
    """In ``sqlite_master`` order; shadow tables (``created_by``) after their owner."""
    indexes: tuple[str, ...]
    views: tuple[str, ...]
    triggers: tuple[str, ...]
    sequences: tuple[tuple[str, object], ...]
    """``sqlite_sequence`` rows (name, seq as stored) of the copied tables."""
    encoding: str = "UTF-8"
    page_size: int = 4096
    auto_vacuum: int = 0
    user_version: int = 0
    application_id: int = 0
    wal: bool = False
    notes: tuple[str, ...] = ()
    """What the copy does not carry, one sentence each."""

    def table(self, name: str) -> TableReplica:
        return next(t for t in self.tables if t.name == name)


@dataclass(frozen=True, slots=True)
class TableProfile:
    """What one scan of a table's rows found (``replica_rows.profile_table``)."""

    rows: int
    classes: Mapping[str, frozenset[str]]
    """Column -> the storage classes its values have (none: every value NULL)."""
    unstable: Mapping[str, int] = field(default_factory=dict)
    """Column -> how many of its values its own affinity would change if they were
    written again: text '0123' in an INTEGER column becomes 123, a number in a TEXT
    column text. SQLite never stores such a value itself; it is there because the
    column's declared type was edited after the value was written."""
    load_sql: str | None = None
    """The CREATE TABLE the rows are loaded under when it is not the table's own text:
    the unstable columns without a declared type (so no affinity applies), the table's
    own text put back after the load (``after_load_statements``)."""
    notes: tuple[str, ...] = ()


# --- reading the source's catalog -----------------------------------------------------


def read_replica(
    conn: sqlite3.Connection, tables: Sequence[str], *, views: Sequence[str] | None = None
) -> Replica:
    """What copying ``tables`` (and ``views``, default all) of the source involves.

    ``conn`` is a metadata connection (``catalog.connect_metadata``). Indexes and
    triggers come with the tables they belong to (an index or trigger of a table not
    copied is left out; a trigger on a table left out is named in ``notes``). Shadow
    tables named in ``tables`` are ignored: their virtual table creates them. A name the
    source does not have raises :class:`~arrowferry.errors.SchemaError`.

    Examples
    --------
    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> _ = conn.execute("CREATE TABLE t (a TEXT, b INTEGER)")
    >>> replica = read_replica(conn, ["t"])
    >>> table = replica.tables[0]
    >>> table.rowid, table.carry_rowid, [c.affinity for c in table.columns]
    ('_rowid_', True, ['text', 'integer'])
    """
    master = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
    ).fetchall()
    kinds = _table_kinds(conn)
    wanted = {t.lower() for t in tables}
    unknown = wanted - {name.lower() for kind, name, _t, _s in master if kind == "table"}
    if unknown:
        raise SchemaError(f"the source has no table {', '.join(repr(t) for t in sorted(unknown))}")
    notes: list[str] = []
    available = set(vt.available_modules(conn))
    out: list[TableReplica] = []
    for kind, name, _tbl, sql in master:
        if kind != "table" or name.lower() not in wanted or sql is None:
            continue
        if name.startswith("sqlite_") or kinds.get(name, ("table",))[0] == "shadow":
            continue
        if kinds.get(name, ("",))[0] == "virtual" or sql.upper().startswith("CREATE VIRTUAL"):
            out += _virtual(conn, name, sql, kinds, available, wanted, notes)
        else:
            wr, strict = kinds.get(name, ("table", False, False))[1:]
            out.append(_plain_table(conn, name, sql, without_rowid=wr, strict=strict, notes=notes))
    copied = {t.name.lower() for t in out if t.created_by is None}
    asked = {v.lower() for v in (views if views is not None else _names(master, "view"))}
    defined = [View(n, sql) for kind, n, _t, sql in master if kind == "view" and n.lower() in asked]
    for view, why in out_of_reach(defined, [t.name for t in out], "sqlite").items():
        notes.append(f"view {view} is not created: {why}")
        asked.discard(view.lower())
    scope = copied | asked
    return Replica(
        tables=tuple(out),
        indexes=tuple(
            sql
            for kind, _n, tbl, sql in master
            if kind == "index" and sql and tbl.lower() in copied
        ),
        views=tuple(
            sql for kind, n, _t, sql in master if kind == "view" and sql and n.lower() in scope
        ),
        triggers=_triggers(master, scope, notes),
        sequences=_sequences(conn, copied),
        encoding=str(_pragma(conn, "encoding")),
        page_size=int(_pragma(conn, "page_size")),
        auto_vacuum=int(_pragma(conn, "auto_vacuum")),
        user_version=int(_pragma(conn, "user_version")),
        application_id=int(_pragma(conn, "application_id")),
        wal=str(_pragma(conn, "journal_mode")).lower() == "wal",
        notes=tuple(notes + _statistics_note(master)),
    )


def _pragma(conn: sqlite3.Connection, name: str) -> Any:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _names(master: Sequence[tuple[str, str, str, str | None]], kind: str) -> list[str]:
    return [name for k, name, _t, _s in master if k == kind]


def _table_kinds(conn: sqlite3.Connection) -> dict[str, tuple[str, bool, bool]]:
    """name -> (table / virtual / shadow, WITHOUT ROWID, STRICT). The driver's newer
    SQLite knows more modules, hence more shadow tables, than the standard library's."""
    found = {
        str(name): (str(kind), bool(wr), bool(strict))
        for name, kind, wr, strict in conn.execute(
            "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'"
        )
    }
    for name, kind in vt.driver_kinds(conn).items():
        if kind == "shadow" and name in found:
            found[name] = ("shadow", *found[name][1:])
    return found


def affinity(declared: str, *, strict: bool = False) -> Affinity:
    """The affinity SQLite gives a declared type (datatype3.html, section 3.1)."""
    upper = declared.upper()
    if strict:
        return {"INT": "integer", "INTEGER": "integer", "REAL": "real", "TEXT": "text"}.get(
            upper.strip(), "blob"
        )  # type: ignore[return-value]
    return cast(Affinity, sqlite_affinity(declared).lower())


def _plain_table(
    conn: sqlite3.Connection,
    name: str,
    sql: str,
    *,
    without_rowid: bool,
    strict: bool,
    notes: list[str],
    created_by: str | None = None,
) -> TableReplica:
    xinfo = conn.execute(
        "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", (name,)
    ).fetchall()
    columns = tuple(
        ColumnReplica(n, t or "", affinity(t or "", strict=strict))
        for n, t, _pk, hidden in xinfo
        if hidden not in (2, 3)  # generated: SQLite computes them, an INSERT may not name them
    )
    rowid, carry, alias = None, False, None
    if not without_rowid:
        taken = {str(n).lower() for n, *_ in xinfo}
        rowid = next((r for r in ROWID_NAMES if r not in taken), None)
        alias = _rowid_column(conn, name, xinfo)
        carry = alias is None
        if rowid is None and carry:
            notes.append(
                f"table {name!r} names columns rowid, _rowid_ and oid, so its rowids cannot be "
                "addressed: the copy numbers its rows anew (the values are all kept)"
            )
    return TableReplica(
        name,
        sql,
        columns,
        rowid,
        carry and rowid is not None,
        alias,
        without_rowid,
        strict,
        created_by=created_by,
    )


def _rowid_column(
    conn: sqlite3.Connection, name: str, xinfo: Sequence[tuple[str, str, int, int]]
) -> str | None:
    """The INTEGER PRIMARY KEY column that is the rowid itself (an alias), if any.

    Asked of SQLite rather than read from the text: ``INTEGER PRIMARY KEY DESC`` as a
    column constraint is not an alias (a quirk kept for compatibility), while
    ``PRIMARY KEY (id DESC)`` as a table constraint is. A key that is not an alias has
    an index of origin ``pk``; an alias has none.
    """
    keys = [row for row in xinfo if row[2]]
    if len(keys) != 1 or (keys[0][1] or "").strip().upper() != "INTEGER":
        return None
    origins = conn.execute("SELECT origin FROM pragma_index_list(?)", (name,)).fetchall()
    return str(keys[0][0]) if all(origin != "pk" for (origin,) in origins) else None


# --- virtual tables -------------------------------------------------------------------


def _virtual(
    conn: sqlite3.Connection,
    name: str,
    sql: str,
    kinds: Mapping[str, tuple[str, bool, bool]],
    available: set[str],
    wanted: set[str],
    notes: list[str],
) -> list[TableReplica]:
    """A virtual table, plus its shadow tables when they are what carries its data."""
    module, args = vt.module_of(sql)
    if module not in available:
        notes.append(
            f"virtual table {name!r} uses module {module!r}, which arrowferry's SQLite "
            "(adbc_driver_sqlite) does not have: it was not copied"
        )
        return []
    try:
        xinfo = vt.rows(
            conn,
            f"SELECT name, type, hidden FROM pragma_table_xinfo({_literal(name)}) ORDER BY cid",
        )
    except SourceError as err:  # an option or tokenizer neither SQLite knows
        notes.append(f"virtual table {name!r} ({module}) cannot be opened: {err}; not copied")
        return []
    columns = tuple(
        ColumnReplica(str(n), str(t or ""), "blob") for n, t, hidden in xinfo if hidden == 0
    )
    # an R-tree's first column is its rowid; full text and geopoly number their rows
    rowid = "rowid" if module in WRITABLE_MODULES - vt.RTREE else None
    strategy: RowStrategy = "rows"
    shadows: list[TableReplica] = []
    if module in DERIVED_MODULES:
        strategy = "definition"
    elif module not in WRITABLE_MODULES:
        strategy = "definition"
        notes.append(f"virtual table {name!r} ({module}): its definition is copied, not its rows")
    elif vt.contentless(module, args):
        strategy = "shadow"
        shadows = [
            _plain_table(
                conn, shadow, sql_of, without_rowid=wr, strict=False, notes=notes, created_by=name
            )
            for shadow, sql_of, wr in _shadow_tables(conn, name, kinds)
        ]
    elif (content := vt.external_content(module, args)) is not None:
        strategy = "rebuild"
        if content.lower() not in wanted:
            notes.append(
                f"full-text table {name!r} indexes table {content!r}, which is not copied: "
                "its index is rebuilt from whatever the copy holds under that name"
            )
    table = TableReplica(
        name, sql, columns, rowid, rowid is not None, module=module, strategy=strategy
    )
    return [table, *shadows]


def _shadow_tables(
    conn: sqlite3.Connection, owner: str, kinds: Mapping[str, tuple[str, bool, bool]]
) -> list[tuple[str, str, bool]]:
    """(name, CREATE text, WITHOUT ROWID) of the shadow tables of ``owner``
    (``<owner>_<suffix>``, as every module names them)."""
    prefix = owner.lower() + "_"
    return [
        (str(n), str(s), kinds[n][1])
        for n, s in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        )
        if str(n).lower().startswith(prefix) and kinds.get(n, ("",))[0] == "shadow"
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- what goes with the tables ----------------------------------------------------------


def _triggers(
    master: Sequence[tuple[str, str, str, str | None]], scope: set[str], notes: list[str]
) -> tuple[str, ...]:
    kept: list[str] = []
    skipped: list[str] = []
    for kind, name, tbl, sql in master:
        if kind == "trigger" and sql:
            if tbl.lower() in scope:
                kept.append(sql)
            else:
                skipped.append(name)
    if skipped:
        notes.append(
            "triggers on tables or views not copied were left out: "
            + ", ".join(repr(n) for n in skipped)
        )
    return tuple(kept)


def _sequences(conn: sqlite3.Connection, copied: set[str]) -> tuple[tuple[str, object], ...]:
    there = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()
    if not there:
        return ()
    return tuple(
        (str(name), seq)
        for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence ORDER BY rowid")
        if str(name).lower() in copied
    )


def _statistics_note(master: Sequence[tuple[str, str, str, str | None]]) -> list[str]:
    stats = [n for k, n, _t, _s in master if k == "table" and n.startswith("sqlite_stat")]
    if not stats:
        return []
    return [
        f"the query planner's statistics ({', '.join(stats)}) are not copied: run ANALYZE "
        "on the copy to make them again"
    ]
