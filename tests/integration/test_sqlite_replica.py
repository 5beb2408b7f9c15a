"""SQLite -> SQLite through the replica functions (issue 12), without the pipeline.

``replicate`` below does what the pipeline will: read the source's catalog
(``read_replica``), profile each table, create a fresh file under its partial name
(journal in memory), create the tables verbatim, read every table through
``read_sql`` + the ADBC reader and write it with ``ingest``, run the after-load
statements, then rename the file into place. ``assert_same_sqlite`` then compares
source and copy value by value, each value with its storage class.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pytest

from arrowferry.dialects.sqlite import write
from arrowferry.dialects.sqlite.catalog import connect_metadata
from arrowferry.dialects.sqlite.read import read_batches, rowid_span
from arrowferry.dialects.sqlite.replica import (
    Replica,
    TableProfile,
    TableReplica,
    read_replica,
)
from arrowferry.dialects.sqlite.replica_replay import (
    after_load_statements,
    closing_statements,
    create_sql,
    prelude_statements,
)
from arrowferry.dialects.sqlite.replica_rows import (
    Layout,
    ingest,
    profile_table,
    read_sql,
)
from arrowferry.errors import SchemaError
from tests.conftest import CHINOOK, CORPUS, make_sqlite
from tests.integration._sqlite_fixture import build_dirty_sqlite
from tests.integration._sqlite_same import assert_same_sqlite, sqlite_differences

BATCH_ROWS = 4_096  # small, so the larger tables arrive in many batches


def replicate(
    source: Path,
    target: Path,
    tables: Sequence[str] | None = None,
    *,
    pieces: int = 1,
    typed_load: bool = False,
) -> tuple[Replica, dict[str, TableProfile]]:
    """Copy ``source`` to ``target`` through the replica functions. ``pieces`` > 1 reads
    each table that can be read by rowid range in that many ranges; ``typed_load``
    loads every table under its own text (what a copy without ``load_sql`` would do)."""
    partial = write.partial_path(target)
    with closing(connect_metadata(source)) as meta:
        if tables is None:
            tables = [
                n for (n,) in meta.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
        replica = read_replica(meta, tables)
        profiles = {t.name: profile_table(meta, t) for t in replica.tables if t.copy_rows}
    if typed_load:
        profiles = {k: dataclasses.replace(p, load_sql=None) for k, p in profiles.items()}
    conn = write.connect(partial, fresh=True)
    try:
        for sql in prelude_statements(replica):
            write.execute(conn, sql)
        write.execute(conn, "BEGIN")
        for table in replica.tables:
            write.execute(conn, create_sql(table, profiles.get(table.name)))
        for table in replica.tables:
            if not table.copy_rows:
                continue
            profile = profiles[table.name]
            written = 0
            for span in _ranges(source, table, pieces):
                sql, layout = read_sql(table, profile.classes, span)
                written += ingest(conn, table, layout, _reader(source, sql, layout))
            assert written == profile.rows, (table.name, written, profile.rows)
        for sql in after_load_statements(replica, profiles):
            write.execute(conn, sql)
        write.execute(conn, "COMMIT")
        for sql in closing_statements(replica):
            write.execute(conn, sql)
    except BaseException:
        conn.close()
        raise
    write.finalize(conn, partial, target)
    return replica, profiles


def _reader(source: Path, sql: str, layout: Layout) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(layout.schema, read_batches(source, sql, BATCH_ROWS))


def _ranges(source: Path, table: TableReplica, pieces: int) -> list[tuple[int, int] | None]:
    """``pieces`` rowid ranges covering the table (one read of the whole when it cannot
    be read by range, or is empty)."""
    span = rowid_span(source, table.name, table.rowid) if table.seekable and table.rowid else None
    if pieces == 1 or span is None:
        return [None]
    low, high = span
    step = max(1, (high - low) // pieces + 1)
    return [(start, min(high, start + step - 1)) for start in range(low, high + 1, step)]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dirty") / "dirty.sqlite"
    build_dirty_sqlite(path)
    return path


def _sources(dirty: Path) -> dict[str, Path]:
    return {"dirty": dirty, "chinook": CHINOOK, "northwind": CORPUS / "northwind.db"}


@pytest.mark.parametrize("name", ["dirty", "chinook", "northwind"])
def test_a_copy_holds_every_value_with_its_class(dirty: Path, tmp_path: Path, name: str) -> None:
    source = _sources(dirty)[name]
    copy = tmp_path / f"{name}.sqlite"
    replica, _ = replicate(source, copy)
    assert_same_sqlite(source, copy)
    assert_same_sqlite(copy, source)
    assert not write.partial_path(copy).exists()
    assert replica.notes == ()
    with closing(sqlite3.connect(source)) as a, closing(sqlite3.connect(copy)) as b:
        for pragma in ("page_size", "auto_vacuum", "encoding", "journal_mode"):
            assert (
                a.execute(f"PRAGMA {pragma}").fetchone() == b.execute(f"PRAGMA {pragma}").fetchone()
            ), pragma


def test_a_copy_read_in_rowid_ranges_is_the_same(dirty: Path, tmp_path: Path) -> None:
    copy = tmp_path / "pieces.sqlite"
    replicate(dirty, copy, pieces=3)
    assert_same_sqlite(dirty, copy)


# --- affinity -----------------------------------------------------------------------------


def test_values_written_before_a_type_was_changed_keep_their_class(
    dirty: Path, tmp_path: Path
) -> None:
    """``retyped``: '0123' in an INTEGER column, numbers in a TEXT column, '1' in a REAL
    column. Written again under their column's type, SQLite converts them; the copy
    loads them into untyped columns and puts the table's text back afterwards."""
    copy = tmp_path / "retyped.sqlite"
    _, profiles = replicate(dirty, copy)
    retyped = profiles["retyped"]
    assert dict(retyped.unstable) == {"i": 3, "r": 1, "t": 4}
    assert retyped.load_sql == "CREATE TABLE retyped (id INTEGER PRIMARY KEY, i , r , t )"
    assert all(not p.unstable for name, p in profiles.items() if name != "retyped")
    assert_same_sqlite(dirty, copy, tables=["retyped"])

    # the same copy under the table's own text: affinity applies to every INSERT
    typed = tmp_path / "typed.sqlite"
    replicate(dirty, typed, ["retyped"], typed_load=True)
    found = [str(d) for d in sqlite_differences(dirty, typed, tables=["retyped"])]
    assert 'table "retyped" rowid 1 column "i": a has (text, \'0123\'), b has (integer, 123)' in (
        " ".join(found)
    )
    assert any("rowid 1 column \"t\": a has (integer, 42), b has (text, '42')" in d for d in found)


def test_negative_zero_in_a_retyped_real_column_is_kept(tmp_path: Path) -> None:
    """A REAL column stores -0.0 as 0; only a value written before the column was typed
    REAL can be -0.0, and SQL cannot see the sign of a zero."""
    source = make_sqlite(
        tmp_path / "zero.sqlite",
        "CREATE TABLE z (id INTEGER PRIMARY KEY, r, n);"
        "INSERT INTO z VALUES (1, -0.0, -0.0), (2, 0.0, 0.5), (3, 2.5, 3.0);"
        "PRAGMA writable_schema = ON;"
        "UPDATE sqlite_master SET sql = 'CREATE TABLE z (id INTEGER PRIMARY KEY, r REAL, n NUMERIC)'"
        " WHERE name = 'z';",
    )
    copy = tmp_path / "copy.sqlite"
    _, profiles = replicate(source, copy)
    assert dict(profiles["z"].unstable) == {"r": 1, "n": 2}  # n: -0.0 and 3.0 become integers
    assert_same_sqlite(source, copy)


# --- virtual tables -----------------------------------------------------------------------

FULL_TEXT = """
CREATE VIRTUAL TABLE plain_fts USING fts5(title, body);
INSERT INTO plain_fts (rowid, title, body) VALUES
    (3, 'quick', 'the quick brown fox'), (7, 'lazy', 'lazy dogs sleep'), (9, 42, x'00ff');
CREATE TABLE articles (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO articles VALUES (1, 'brown bread'), (5, 'quick thinking'), (6, NULL);
CREATE VIRTUAL TABLE ext_fts USING fts5(body, content='articles', content_rowid='id');
INSERT INTO ext_fts (ext_fts) VALUES ('rebuild');
CREATE VIRTUAL TABLE bare_fts USING fts5(body, content='');
INSERT INTO bare_fts (rowid, body) VALUES (11, 'only the index knows'), (12, 'quick words');
CREATE VIRTUAL TABLE old_fts USING fts4(body);
INSERT INTO old_fts (docid, body) VALUES (4, 'fts four quick'), (8, 'brown');
CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1, y0, y1);
INSERT INTO boxes VALUES (1, 0.1, 0.2, -5, 5), (2, 1e10, 1e10, 0.3, 0.30000000000000004);
CREATE VIRTUAL TABLE words USING fts5vocab(plain_fts, 'row');
"""

MATCHES = {
    "plain_fts": "quick OR lazy",
    "ext_fts": "quick OR brown",
    "bare_fts": "quick OR index",
    "old_fts": "quick OR brown",
}


def test_full_text_and_r_tree_tables_answer_the_same_queries(tmp_path: Path) -> None:
    source = make_sqlite(tmp_path / "fts.sqlite", FULL_TEXT)
    copy = tmp_path / "copy.sqlite"
    replica, _ = replicate(source, copy)
    strategies = {t.name: t.strategy for t in replica.tables if t.created_by is None}
    assert strategies == {
        "plain_fts": "rows",
        "articles": "rows",
        "ext_fts": "rebuild",
        "bare_fts": "shadow",
        "old_fts": "rows",
        "boxes": "rows",
        "words": "definition",
    }
    assert {t.name for t in replica.tables if t.created_by == "bare_fts"} == {
        "bare_fts_data",
        "bare_fts_idx",
        "bare_fts_docsize",
        "bare_fts_config",
    }
    assert_same_sqlite(source, copy)
    with closing(sqlite3.connect(source)) as a, closing(sqlite3.connect(copy)) as b:
        for table, query in MATCHES.items():
            sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid"
            expected = a.execute(sql, (query,)).fetchall()
            assert expected and b.execute(sql, (query,)).fetchall() == expected, table
        sql = "SELECT id FROM boxes WHERE x0 < 1 AND y1 <= 5 ORDER BY id"
        assert b.execute(sql).fetchall() == a.execute(sql).fetchall() == [(1,)]
        words = "SELECT term, doc, cnt FROM words ORDER BY term"
        assert b.execute(words).fetchall() == a.execute(words).fetchall()
        for fts in ("plain_fts", "bare_fts", "ext_fts"):
            check = f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')"
            b.execute(check)  # raises when the index does not match its content


def test_a_virtual_table_whose_module_is_missing_is_named(tmp_path: Path) -> None:
    source = make_sqlite(
        tmp_path / "missing.sqlite",
        "CREATE TABLE t (a); INSERT INTO t VALUES (1);"
        "PRAGMA writable_schema = ON;"
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES"
        " ('table', 'vx', 'vx', 0, 'CREATE VIRTUAL TABLE vx USING nosuch(a, b)'),"
        " ('table', 'vt', 'vt', 0, 'CREATE VIRTUAL TABLE vt USING fts5(a, tokenize=nosuchtok)');",
    )
    copy = tmp_path / "copy.sqlite"
    replica, _ = replicate(source, copy)
    assert [t.name for t in replica.tables] == ["t"]
    assert replica.notes[0] == (
        "virtual table 'vx' uses module 'nosuch', which arrowferry's SQLite "
        "(adbc_driver_sqlite) does not have: it was not copied"
    )
    assert replica.notes[1].startswith("virtual table 'vt' (fts5) cannot be opened: ")
    assert "nosuchtok" in replica.notes[1] and len(replica.notes) == 2
    assert_same_sqlite(source, copy, tables=["t"])


# --- the file itself ----------------------------------------------------------------------


def test_encoding_page_size_auto_vacuum_and_wal_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "utf16.sqlite"
    with closing(sqlite3.connect(source)) as conn:
        for pragma in ("encoding = 'UTF-16le'", "page_size = 1024", "auto_vacuum = 2"):
            conn.execute(f"PRAGMA {pragma}")
        conn.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, u);"
            "INSERT INTO t VALUES (1, 'ünïcødé 😀', 'x'), (2, '', 42), (3, 'a' || char(0) || 'b', x'00'),"
            " (4, NULL, 'é' || char(0));"
            "PRAGMA journal_mode = WAL;"
        )
    copy = tmp_path / "copy.sqlite"
    replicate(source, copy)
    assert_same_sqlite(source, copy)
    with closing(sqlite3.connect(copy)) as conn:
        assert [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("encoding", "page_size")] == [
            "UTF-16le",
            1024,
        ]
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT hex(CAST(s AS BLOB)) FROM t WHERE id = 3").fetchone() == (
            "610000006200",
        )


ORDERED = """
CREATE TABLE t (id INTEGER PRIMARY KEY, v);
CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
CREATE TRIGGER first AFTER INSERT ON t BEGIN INSERT INTO log (what) VALUES ('first'); END;
CREATE TRIGGER second AFTER INSERT ON t BEGIN INSERT INTO log (what) VALUES ('second'); END;
CREATE VIEW v_outer AS SELECT * FROM v_inner WHERE v > 1;
CREATE VIEW v_inner AS SELECT id, v FROM t;
INSERT INTO t VALUES (1, 1), (2, 2), (3, 3);
DELETE FROM log WHERE n > 4;
"""


def test_triggers_fire_in_the_source_order_and_views_read_views(tmp_path: Path) -> None:
    """Triggers on one event fire in the order SQLite loads them from sqlite_master;
    ``v_outer`` was created before the view it reads. The load fires no trigger."""
    source = make_sqlite(tmp_path / "ordered.sqlite", ORDERED)
    copy = tmp_path / "copy.sqlite"
    replicate(source, copy)
    assert_same_sqlite(source, copy)
    fired = []
    for path in (source, copy):
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("INSERT INTO t VALUES (4, 4)")
            fired.append(conn.execute("SELECT n, what FROM log ORDER BY n").fetchall())
            assert conn.execute("SELECT id FROM v_outer").fetchall() == [(2,), (3,), (4,)]
    assert fired[0] == fired[1] and len(fired[0]) == 6  # two kept, two new after seq 6


EDGES = """
CREATE TABLE empty (id INTEGER PRIMARY KEY, a TEXT, b BLOB);
CREATE TABLE nulls (a INTEGER, b TEXT, c);
INSERT INTO nulls VALUES (NULL, NULL, NULL), (NULL, NULL, NULL);
CREATE TABLE blanks (id INTEGER PRIMARY KEY, t TEXT, b BLOB, u);
INSERT INTO blanks VALUES (1, '', x'', ''), (2, '', x'', x'');
CREATE TABLE all_names (rowid TEXT, oid TEXT, _rowid_ TEXT, v);
INSERT INTO all_names VALUES ('a', 'b', 'c', 1), ('a', 'b', 'c', 1), ('d', 'e', 'f', 2.5);
CREATE TABLE tagged (id INTEGER PRIMARY KEY, v);
CREATE TABLE ac (id INTEGER PRIMARY KEY AUTOINCREMENT);
DROP TABLE ac;
INSERT INTO sqlite_sequence (name, seq) VALUES ('tagged', 'not a number');
"""


def test_empty_null_and_blank_columns_and_odd_counters(tmp_path: Path) -> None:
    """Empty values are not NULL; a table naming every rowid alias keeps its rows (its
    rowids cannot be carried: named in the notes); a counter row sits in
    sqlite_sequence for a table that is not AUTOINCREMENT (and with text in it)."""
    source = make_sqlite(tmp_path / "edges.sqlite", EDGES)
    copy = tmp_path / "copy.sqlite"
    replica, profiles = replicate(source, copy)
    assert profiles["empty"].rows == 0 and profiles["nulls"].classes["c"] == frozenset()
    assert replica.sequences == (("tagged", "not a number"),)
    assert replica.notes == (
        "table 'all_names' names columns rowid, _rowid_ and oid, so its rowids cannot be "
        "addressed: the copy numbers its rows anew (the values are all kept)",
    )
    assert_same_sqlite(source, copy)
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute(
            "SELECT typeof(t), typeof(b), typeof(u), length(b) FROM blanks ORDER BY id"
        ).fetchall() == [("text", "blob", "text", 0), ("text", "blob", "blob", 0)]


def test_a_subset_of_tables_names_the_triggers_it_leaves_out(dirty: Path, tmp_path: Path) -> None:
    copy = tmp_path / "subset.sqlite"
    replica, _ = replicate(
        dirty,
        copy,
        ["parent", "audit"],
    )
    assert [t.name for t in replica.tables] == ["audit", "parent"]
    assert any("'tr_child_audit'" in note for note in replica.notes)
    assert_same_sqlite(dirty, copy, tables=["parent", "audit"])
    with closing(connect_metadata(dirty)) as meta, pytest.raises(SchemaError, match="'nope'"):
        read_replica(meta, ["parent", "nope"])


def test_ingest_refuses_batches_that_do_not_match_the_layout(dirty: Path, tmp_path: Path) -> None:
    with closing(connect_metadata(dirty)) as meta:
        table = read_replica(meta, ["mixed_classes"]).tables[0]
        profile = profile_table(meta, table)
    _, layout = read_sql(table, profile.classes)
    assert [c.column for c in layout.columns if len(c.parts) > 1] == [
        "i",
        "n",
        "r",
        "u",
        "s",
        "b",
        "t",
    ]
    batch = pa.RecordBatch.from_pydict(
        {f: pa.array([], t) for f, t in zip(layout.schema.names, layout.schema.types, strict=True)}
    )
    text = next(p.field for c in layout.columns for p in c.parts if p.storage_class == "text")
    wrong = batch.set_column(batch.schema.get_field_index(text), text, pa.array([], pa.string()))
    conn = write.connect(tmp_path / "target.sqlite", fresh=True)
    try:
        write.execute(conn, table.sql)
        with pytest.raises(ValueError, match=f"{text}: string \\(expected binary\\)"):
            ingest(conn, table, layout, pa.RecordBatchReader.from_batches(wrong.schema, [wrong]))
    finally:
        conn.close()


VALUES = [
    *(0, -5, 2**63 - 1, -(2**63)),
    *(0.0, -0.0, 3.0, 2.5, 1e20, -(2.0**63), 2.0**63, 2.0**63 - 1024, 1e-300),
    *(float("inf"), float("-inf")),
    *("0123", " 5", "5 ", "\t7\n", "+7", "-0", "1.0", ".5", "5.", "1e500", "1e", "12abc"),
    *("abc", "", "  ", "0x10", "NaN", "inf", "9223372036854775808", "\u0663", "1_000"),
    *(b"", b"7", None),
]
DECLARED = ["INTEGER", "NUMERIC", "REAL", "TEXT", "BLOB", ""]


def _written_back(declared: str, value: object) -> object:
    """What the driver's SQLite (the copy's writer) stores for ``value`` in a column
    declared ``declared``, read back alone (so Arrow holds its exact class and bits)."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    with closing(sqlite_adbc.connect(":memory:")) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE g (v {declared})")
        cur.execute("INSERT INTO g VALUES (?)", (value,))
        cur.execute("SELECT v FROM g")
        table = cur.fetch_arrow_table()
    return table.column(0).to_pylist()[0]


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return repr(x) == repr(y)  # -0.0 is not 0.0
    return type(x) is type(y) and x == y


@pytest.mark.parametrize("declared", DECLARED)
def test_unstable_values_are_exactly_those_the_writer_would_change(
    tmp_path: Path, declared: str
) -> None:
    """The profile's ``unstable`` against the truth: each value, written untyped and the
    column retyped, is counted exactly when the driver's SQLite, given the value the
    source reads back for a column of that type, stores something else (another class or
    other bits). (A REAL column reads an INTEGER stored in it as a REAL.)"""
    source = tmp_path / "values.sqlite"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, x)")
        conn.executemany("INSERT INTO v (x) VALUES (?)", [(x,) for x in VALUES])
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'v'",
            (f"CREATE TABLE v (id INTEGER PRIMARY KEY, x {declared})",),
        )
        conn.commit()
    with closing(sqlite3.connect(source)) as conn:
        observed = [x for (x,) in conn.execute("SELECT x FROM v ORDER BY id")]
    changed = [x for x in observed if not _same(x, _written_back(declared, x))]
    with closing(connect_metadata(source)) as meta:
        profile = profile_table(meta, read_replica(meta, ["v"]).tables[0])
    assert profile.unstable.get("x", 0) == len(changed), changed
    copy = tmp_path / "copy.sqlite"
    replicate(source, copy)
    assert_same_sqlite(source, copy)
