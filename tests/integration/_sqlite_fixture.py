"""A dirty SQLite database for the SQLite -> SQLite copy (issue 12): every storage-class mix
and every schema feature a faithful copy must keep, in one file.

It reuses the dirty-data material the PostgreSQL tests already have rather than writing
it again: the trap tables of ``test_dirty_data`` (``build_source``: one trap per table,
``(id INTEGER PRIMARY KEY, v <declared type>)``, text in INTEGER columns, invalid UTF-8,
NUL bytes, big integers, julian days...) and the schema of ``test_dirty_database``
(numerics past any decimal, odd defaults, an FTS5 table, text in a BLOB column). Added
here is what those do not hold; see ``OWN_TABLES``.

Facts about SQLite that shaped it (3.40, checked when the fixture is built):
- a TEXT-affinity column converts every number it is given to text, ``CAST`` or not, and a
  REAL-affinity column stores -0.0 as 0 (integral REALs are kept as integers on disk): so
  -0.0 lives in a column with no declared type, and numbers in a TEXT column exist only
  when the declared type changed after the rows were written (``retyped``, via
  ``writable_schema``, as tools that "alter" a column type do). ``integrity_check`` of
  this file therefore reports ``retyped``'s values; a copy must report the same.
- ``'1e500'`` given to a NUMERIC or INTEGER column is stored as the REAL +Inf.
- ``INTEGER PRIMARY KEY DESC`` is not a rowid alias: the rowid is a value of its own.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from itertools import zip_longest
from pathlib import Path

from tests.integration.test_dirty_data import TRAPS, build_source
from tests.integration.test_dirty_database import SCHEMA as DIRTY_DATABASE_SCHEMA

LANE_ROWS = 200_000

TRAP_TABLES = tuple(t.name for t in TRAPS)
DIRTY_DATABASE_TABLES = ("money", "wide", "dec", "events", "docs", "blobs")
VIRTUAL_TABLES = ("docs",)  # FTS5: its shadow tables docs_* are the module's storage
OWN_TABLES = (
    "mixed_classes",
    "retyped",
    "strict_any",
    "wr",
    "pairs",
    "gaps",
    "pk_desc",
    "plain",
    "shadowed_rowid",
    "ac",
    "ac_emptied",
    "ac_unused",
    "audit",
    "parent",
    "child",
    "order items",
    "group",
    'sp"q',
    "gen",
    "lanes",
)
VIEWS = ("v_child", "v_child_named", "v_mixed")
USER_VERSION = 7
APPLICATION_ID = 0x41524657  # 'ARFW'

# One list of SQL expressions per column; row i takes the i-th of each (NULL past the end).
MIXED_COLUMNS = {
    # INTEGER affinity: text that is no number stays text, 2.5 stays REAL, blobs stay blobs
    "i INTEGER": [
        "'abc'",
        "42",
        "2.5",
        "x'00ff'",
        "NULL",
        "''",
        "9223372036854775807",
        "-9223372036854775808",
        "'12abc'",
        "1e20",
    ],
    # NUMERIC: '1e500' becomes +Inf, a 20-digit literal a REAL, '0.1' the REAL 0.1
    "n NUMERIC": [
        "'1e500'",
        "'-1e500'",
        "99999999999999999999",
        "9223372036854775807",
        "0.1",
        "'0.1'",
        "'12.50.1'",
        "''",
        "'  '",
        "'1e-400'",
    ],
    "r REAL": [
        "-0.0",  # stored as 0: see the module docstring
        "1e308",
        "5e-324",
        "2.2250738585072014e-308",
        "0.1",
        "1.7976931348623157e308",
        "'1e999'",
        "'abc'",
        "3",
        "0.30000000000000004",
    ],
    "u": [  # no declared type: every class kept as given, -0.0 included
        "-0.0",
        "'text'",
        "42",
        "0.1",
        "x'00'",
        "char(0)",
        "CAST(x'ff' AS TEXT)",
        "''",
        "9007199254740993",
        "CAST(42 AS TEXT)",
    ],
    # STRING is NUMERIC affinity: '0123' is stored as the integer 123, '1.0' as 1
    "s STRING": ["'0123'", "'abc'", "'1.0'", "'1.5'", "' 7 '", "'0x10'", "NULL"],
    "b BLOB": ["x'00ff00'", "'text in a blob column'", "42", "0.5", "zeroblob(0)", "x''"],
    "t TEXT": [
        "42",
        "0.1",
        "CAST(x'ff' AS TEXT)",
        "'a' || char(0) || 'b'",
        "x'00'",
        "''",
        "'ünïcødé 😀'",
        "CAST(x'c328' AS TEXT)",
        "'  padded  '",
        "'x' || zeroblob(3)",  # || makes text: 'x' and three NUL characters
    ],
}

SCHEMA = """
CREATE TABLE retyped (id INTEGER PRIMARY KEY, i, r, t);
INSERT INTO retyped VALUES (1, '0123', 7, 42), (2, 3.0, '1', 0.5), (3, x'01', 8.5, -0.0),
                           (4, ' 5', 2, 9007199254740993);

CREATE TABLE strict_any (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY)
    STRICT;
INSERT INTO strict_any VALUES (1, 1, 1.5, 'x', x'01', '0123'), (2, NULL, 2, 'y', NULL, 0123),
                              (3, -5, -0.0, '', x'', 1.0), (4, 7, 1e-300, '7', x'07', x'07');

CREATE TABLE wr (code TEXT COLLATE NOCASE PRIMARY KEY, n INTEGER NOT NULL, note)
    WITHOUT ROWID;
INSERT INTO wr VALUES ('Abc', 1, 'text'), ('b', 2, 2), ('C', 3, 2.5), ('d-é', 4, x'dead'),
                      ('', 5, NULL);

CREATE TABLE pairs (a TEXT, b INTEGER, w REAL, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES ('x', 1, 0.5), ('x', 2, 1.5), ('y', 1, NULL), ('', 0, -1e-10);

CREATE TABLE gaps (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO gaps VALUES (-5, 'negative'), (1, 'one'), (2, 'two'), (5, 'five'), (100, 'hundred'),
    (2147483648, '2^31'), (9007199254740993, '2^53+1'), (9223372036854775807, 'max');

CREATE TABLE pk_desc (id INTEGER PRIMARY KEY DESC, v);
INSERT INTO pk_desc (rowid, id, v) VALUES (10, 3, 'c'), (20, 1, 'a'), (30, 2, 'b');

CREATE TABLE plain (a TEXT, b INTEGER);
INSERT INTO plain VALUES ('r1', 1), ('r2', 2), ('r3', 3), ('r4', 4), ('r5', 5);
DELETE FROM plain WHERE b IN (2, 4);

CREATE TABLE shadowed_rowid (rowid TEXT, oid TEXT, v);
INSERT INTO shadowed_rowid (_rowid_, rowid, oid, v) VALUES (7, 'r', 'o', 1), (9, 'r', 'o', 2);

CREATE TABLE ac (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
INSERT INTO ac (name) VALUES ('a1'), ('a2'), ('a3'), ('a4'), ('a5'), ('a6'), ('a7'), ('a8');
DELETE FROM ac WHERE id > 5;
CREATE TABLE ac_emptied (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
INSERT INTO ac_emptied (name) VALUES ('gone'), ('gone too');
DELETE FROM ac_emptied;
CREATE TABLE ac_unused (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);

CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE ON UPDATE NO ACTION,
    parent_name TEXT,
    FOREIGN KEY (parent_name) REFERENCES parent(name) DEFERRABLE INITIALLY DEFERRED
);
CREATE TRIGGER tr_child_audit AFTER INSERT ON child
BEGIN
    INSERT INTO audit (what) VALUES ('child ' || NEW.id);
END;
INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (3, NULL);
INSERT INTO child VALUES (1, 1, 'one'), (2, 1, NULL), (3, 2, 'two'), (4, NULL, NULL);
INSERT INTO child VALUES (5, 999, 'nobody');  -- an orphan: foreign keys are off by default

CREATE TABLE "order items" (
    "order" INTEGER NOT NULL REFERENCES parent(id),
    "line no" INTEGER NOT NULL CHECK ("line no" > 0),
    qty INTEGER DEFAULT 1 CHECK (qty BETWEEN 1 AND 1000),
    price NUMERIC(10,2) CHECK (price >= 0),
    "select" TEXT COLLATE NOCASE DEFAULT 'x',  -- a keyword as a column name
    CONSTRAINT qty_price CHECK (qty * price < 1e9),
    PRIMARY KEY ("order", "line no")
);
INSERT INTO "order items" VALUES (1, 1, 2, 9.99, 'A'), (1, 2, 1, 0.1, 'b'), (2, 1, 1000, 0, 'c');
CREATE TABLE "group" (id INTEGER PRIMARY KEY, "where" TEXT, "from" INTEGER DEFAULT (-1));
INSERT INTO "group" (id, "where") VALUES (1, 'here'), (2, NULL);
CREATE TABLE "sp""q" ("a""b" TEXT, [c d] INTEGER);
INSERT INTO "sp""q" VALUES ('quote', 1);

CREATE TABLE gen (
    id INTEGER PRIMARY KEY,
    a INTEGER,
    b TEXT,
    twice INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
    label TEXT GENERATED ALWAYS AS (upper(b) || ':' || a) STORED
);
INSERT INTO gen (id, a, b) VALUES (1, 1, 'x'), (2, NULL, 'y'), (3, 3, NULL), (4, 'abc', 'z');

CREATE TABLE lanes (id INTEGER PRIMARY KEY, k INTEGER, x REAL, s TEXT, b BLOB, m);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {lane_rows})
INSERT INTO lanes (id, k, x, s, b, m)
SELECT x * 3 + x % 2,
       CASE x WHEN 150001 THEN 'late text' WHEN 199999 THEN 2.5 ELSE x END,
       CASE WHEN x % 7 = 0 THEN NULL ELSE x * 0.001 END,
       'row ' || x,
       CASE x % 3 WHEN 0 THEN NULL WHEN 1 THEN zeroblob(x % 17) ELSE CAST('b' || x AS BLOB) END,
       CASE x % 1000 WHEN 999 THEN 'text ' || x WHEN 500 THEN x + 0.5
                     WHEN 250 THEN CAST(x AS TEXT) WHEN 125 THEN CAST(x AS BLOB) ELSE x END
FROM n;

CREATE INDEX ix_lanes_k_partial ON lanes (k) WHERE k > 100000;
CREATE INDEX ix_gen_expr ON gen (lower(b), a + 1);
CREATE INDEX ix_mixed_t_desc ON mixed_classes (t COLLATE NOCASE DESC, id ASC);
CREATE UNIQUE INDEX ux_order_items_select ON "order items" ("select", "order");
CREATE UNIQUE INDEX ux_parent_lower_name ON parent (lower(name)) WHERE name IS NOT NULL;

CREATE VIEW v_child AS
    SELECT c.id, c.parent_id, p.name FROM child AS c LEFT JOIN parent AS p ON p.id = c.parent_id;
CREATE VIEW v_child_named AS SELECT * FROM v_child WHERE name IS NOT NULL;
CREATE VIEW v_mixed AS SELECT id, i, u, typeof(u) AS cls, r FROM mixed_classes;
CREATE TRIGGER tr_v_child_insert INSTEAD OF INSERT ON v_child
BEGIN
    INSERT INTO child (id, parent_id) VALUES (NEW.id, NEW.parent_id);
END;
INSERT INTO v_child (id, parent_id) VALUES (6, 2);  -- through the INSTEAD OF trigger

INSERT INTO docs (rowid, body) VALUES (30, 'ünïcødé text'), (31, '');
"""

# Retyped after the rows are in: numbers in TEXT, text in INTEGER, an integer in REAL.
RETYPED_SQL = "CREATE TABLE retyped (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT)"


def _mixed_classes(conn: sqlite3.Connection) -> None:
    names = [spec.split()[0] for spec in MIXED_COLUMNS]
    conn.execute(f"CREATE TABLE mixed_classes (id INTEGER PRIMARY KEY, {', '.join(MIXED_COLUMNS)})")
    rows = zip_longest(*MIXED_COLUMNS.values(), fillvalue="NULL")
    for rowid, exprs in enumerate(rows, start=1):
        conn.execute(
            f"INSERT INTO mixed_classes (id, {', '.join(names)}) VALUES ({rowid}, {', '.join(exprs)})"
        )


def _retype(conn: sqlite3.Connection) -> None:
    conn.commit()
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'retyped'", (RETYPED_SQL,)
    )
    conn.commit()
    conn.execute("PRAGMA writable_schema = OFF")


def build_dirty_sqlite(path: Path) -> None:
    """Write the dirty database to ``path`` (which must not exist yet)."""
    build_source(path)  # the trap tables of test_dirty_data
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(DIRTY_DATABASE_SCHEMA)
        _mixed_classes(conn)
        conn.executescript(SCHEMA.replace("{lane_rows}", str(LANE_ROWS)))
        conn.execute(f"PRAGMA user_version = {USER_VERSION}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        _retype(conn)
    # a new connection sees the retyped schema
    with closing(sqlite3.connect(path)) as conn:
        _check(conn)


def _check(conn: sqlite3.Connection) -> None:
    """The file holds what the docstring promises (a fixture that silently lost its traps
    would make every copy look right)."""

    def one(query: str) -> tuple[object, ...]:
        return tuple(conn.execute(query).fetchone())

    assert one("SELECT typeof(i), i FROM retyped WHERE id = 1") == ("text", "0123")
    assert one("SELECT typeof(t), t FROM retyped WHERE id = 1") == ("integer", 42)
    assert one("SELECT type FROM pragma_table_info('retyped') WHERE name = 't'") == ("TEXT",)
    assert one("SELECT typeof(u), u FROM mixed_classes WHERE id = 1") == ("real", -0.0)
    assert str(one("SELECT u FROM mixed_classes WHERE id = 1")[0]) == "-0.0"
    assert str(one("SELECT r FROM mixed_classes WHERE id = 1")[0]) == "0.0"
    assert one("SELECT typeof(n), n FROM mixed_classes WHERE id = 1") == ("real", float("inf"))
    assert one("SELECT typeof(s), s FROM mixed_classes WHERE id = 1") == ("integer", 123)
    assert one("SELECT hex(CAST(t AS BLOB)) FROM mixed_classes WHERE id = 3") == ("FF",)
    assert one("SELECT typeof(t), length(CAST(t AS BLOB)) FROM mixed_classes WHERE id = 4") == (
        "text",
        3,
    )
    assert one("SELECT typeof(a), a FROM strict_any WHERE id = 1") == ("text", "0123")
    assert one("SELECT wr, strict FROM pragma_table_list WHERE name = 'wr'") == (1, 0)
    assert one("SELECT wr, strict FROM pragma_table_list WHERE name = 'strict_any'") == (0, 1)
    seq = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    assert seq.get("ac") == 8 and one("SELECT max(id) FROM ac") == (5,)
    assert seq.get("ac_emptied") == 2 and "ac_unused" not in seq
    assert conn.execute("SELECT rowid, id FROM pk_desc ORDER BY rowid").fetchall() == [
        (10, 3),
        (20, 1),
        (30, 2),
    ]
    assert conn.execute("SELECT rowid FROM plain ORDER BY 1").fetchall() == [(1,), (3,), (5,)]
    assert one("SELECT count(*), count(DISTINCT typeof(m)) FROM lanes") == (LANE_ROWS, 4)
    assert one("SELECT typeof(k) FROM lanes WHERE id = 150001 * 3 + 1") == ("text",)
    assert one("SELECT group_concat(hidden) FROM pragma_table_xinfo('gen')") == ("0,0,0,2,3",)
    assert one("SELECT count(*) FROM audit") == (6,)  # the trigger fired for every child
    assert one("SELECT count(*) FROM pragma_foreign_key_check") == (2,)
    assert one("PRAGMA user_version") == (USER_VERSION,)
    assert one("PRAGMA application_id") == (APPLICATION_ID,)
