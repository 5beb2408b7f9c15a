"""The proof of a SQLite -> SQLite copy (issue 12), proven before the copy exists.

``assert_same_sqlite`` must pass on a byte-for-byte copy (sqlite3's backup API) of the dirty
fixture, of Chinook and of Northwind, and must fail, naming table, column and row (or the
index, trigger, view, counter), on each single change a careless copy would make. Each
mutation also says which aspects must be reported and no others, so a helper that
reports everything as different fails too.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CHINOOK, CORPUS
from tests.integration._sqlite_fixture import build_dirty_sqlite
from tests.integration._sqlite_same import (
    SHOWN,
    assert_same_sqlite,
    normalise_sql,
    sqlite_differences,
    table_constraints,
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    dirty = tmp_path_factory.mktemp("dirty") / "dirty.sqlite"
    build_dirty_sqlite(dirty)
    return {"dirty": dirty, "chinook": CHINOOK, "northwind": CORPUS / "northwind.db"}


def backup_copy(source: Path, target: Path) -> Path:
    """A page-for-page copy through sqlite3's backup API: the same database by definition."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


@pytest.mark.parametrize("name", ["dirty", "chinook", "northwind"])
def test_a_backup_copy_is_the_same(sources: dict[str, Path], tmp_path: Path, name: str) -> None:
    copy = backup_copy(sources[name], tmp_path / "copy.sqlite")
    assert_same_sqlite(sources[name], copy)
    assert_same_sqlite(copy, sources[name])


# --- mutations ----------------------------------------------------------------------------


def flip_last_bit(value: float) -> float:
    (bits,) = struct.unpack("<q", struct.pack("<d", value))
    return float(struct.unpack("<d", struct.pack("<q", bits ^ 1))[0])


def set_cell(
    table: str, column: str, rowid: int, change: Callable[[object], object]
) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        (value,) = conn.execute(
            f'SELECT "{column}" FROM "{table}" WHERE rowid = ?', (rowid,)
        ).fetchone()
        conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (change(value), rowid))

    return apply


def blob_byte(value: object) -> bytes:
    assert isinstance(value, bytes) and len(value) > 100
    middle = len(value) // 2
    return value[:middle] + bytes([value[middle] ^ 0x01]) + value[middle + 1 :]


def rewrite_schema(name: str, old: str, new: str) -> Callable[[sqlite3.Connection], None]:
    """Edit one object's CREATE text in place (writable_schema), its rows untouched."""

    def apply(conn: sqlite3.Connection) -> None:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        assert old in sql, f"{old!r} not in {sql!r}"
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql.replace(old, new), name)
        )
        conn.commit()
        conn.execute("PRAGMA writable_schema = OFF")

    return apply


def rebuild_genre_wider(conn: sqlite3.Connection) -> None:
    """The usual way to change a declared type: a new table, the rows, drop, rename."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'Genre'").fetchone()
    assert "NVARCHAR(120)" in sql
    conn.executescript(
        sql.replace("[Genre]", "[Genre_new]", 1).replace("NVARCHAR(120)", "NVARCHAR(121)")
        + "; INSERT INTO Genre_new SELECT * FROM Genre; DROP TABLE Genre;"
        " ALTER TABLE Genre_new RENAME TO Genre;"
    )


@dataclass(frozen=True)
class Mutation:
    id: str
    source: str
    change: str | Callable[[sqlite3.Connection], None]
    aspects: frozenset[str]  # exactly the aspects that must be reported
    says: tuple[str, ...] = field(default=())  # each must be in the message


MUTATIONS = [
    # a value's storage class, its text unchanged: 42 becomes '42' (no affinity to undo it)
    Mutation(
        "class_changed_same_text",
        "dirty",
        "UPDATE mixed_classes SET u = CAST(u AS TEXT) WHERE id = 3",
        frozenset({"rows", "view_rows"}),
        (
            'table "mixed_classes" rowid 3 column "u": a has (integer, 42), b has (text, \'42\')',
            'view "v_mixed": row [',
        ),
    ),
    # what binding '0123' into an INTEGER column does: the class and the text both change
    Mutation(
        "text_in_integer_column_became_a_number",
        "dirty",
        "UPDATE retyped SET i = 123 WHERE id = 1",
        frozenset({"rows"}),
        ('table "retyped" rowid 1 column "i": a has (text, \'0123\'), b has (integer, 123)',),
    ),
    Mutation(
        "real_last_bit",
        "dirty",
        set_cell("mixed_classes", "r", 5, lambda v: flip_last_bit(float(v))),  # type: ignore[arg-type]
        frozenset({"rows", "view_rows"}),
        (
            'rowid 5 column "r": a has (real, 0.1 = 0x1.999999999999ap-4), b has (real, 0.10000000000000002 = 0x1.999999999999bp-4)',
        ),
    ),
    Mutation(
        "real_last_bit_chinook",
        "chinook",
        set_cell("Track", "UnitPrice", 1, lambda v: flip_last_bit(float(v))),  # type: ignore[arg-type]
        frozenset({"rows"}),
        ('table "Track" rowid 1 column "UnitPrice": a has (real, 0.99',),
    ),
    Mutation(
        "negative_zero_lost",
        "dirty",
        "UPDATE mixed_classes SET u = 0.0 WHERE id = 1",
        frozenset({"rows", "view_rows"}),
        ('rowid 1 column "u": a has (real, -0.0 = -0x0.0p+0), b has (real, 0.0 = 0x0.0p+0)',),
    ),
    Mutation(
        "blob_byte",
        "northwind",
        set_cell("Categories", "Picture", 3, blob_byte),
        frozenset({"rows"}),
        ('table "Categories" rowid 3 column "Picture": a has (blob, x', "first differ at byte"),
    ),
    Mutation(
        "invalid_utf8_byte",
        "dirty",
        "UPDATE mixed_classes SET t = CAST(x'fe' AS TEXT) WHERE id = 3",
        frozenset({"rows"}),
        (
            "rowid 3 column \"t\": a has (text, invalid UTF-8 b'\\xff'), "
            "b has (text, invalid UTF-8 b'\\xfe')",
        ),
    ),
    Mutation(
        "text_cut_at_nul",
        "dirty",
        "UPDATE mixed_classes SET t = 'a' WHERE id = 4",
        frozenset({"rows"}),
        ("rowid 4 column \"t\": a has (text, 'a\\x00b'), b has (text, 'a')",),
    ),
    Mutation(
        "row_deleted",
        "northwind",
        'DELETE FROM "Order Details" WHERE rowid = 7',
        frozenset({"rows", "view_rows"}),
        (
            'table "Order Details": a has 2155 rows, b has 2154',
            'table "Order Details" rowid 7 only in a',
        ),
    ),
    Mutation(
        "row_deleted_without_rowid",
        "dirty",
        "DELETE FROM wr WHERE code = 'b'",
        frozenset({"rows"}),
        ("table \"wr\" key (code=(text, 'b')) only in a",),
    ),
    Mutation(
        "rowid_renumbered",
        "dirty",
        "UPDATE plain SET rowid = 2 WHERE rowid = 3",
        frozenset({"rows"}),
        ('table "plain" rowid 3 only in a', 'table "plain" rowid 2 only in b'),
    ),
    Mutation(
        "row_added",
        "chinook",
        "INSERT INTO Genre VALUES (26, 'Polka')",
        frozenset({"rows"}),
        ('table "Genre" rowid 26 only in b',),
    ),
    Mutation(
        "autoincrement_counter",
        "dirty",
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'ac'",
        frozenset({"sequence"}),
        ('sqlite_sequence "ac": a (integer, 8), b (integer, 9)',),
    ),
    Mutation(
        "autoincrement_counter_gone",
        "northwind",
        "DELETE FROM sqlite_sequence WHERE name = 'Orders'",
        frozenset({"sequence"}),
        ('sqlite_sequence "Orders": a (integer, 11077), b no row',),
    ),
    Mutation(
        "index_dropped",
        "chinook",
        "DROP INDEX IFK_TrackAlbumId",
        frozenset({"indexes"}),
        ('index "IFK_TrackAlbumId" on "Track" only in a',),
    ),
    Mutation(
        "partial_index_condition",
        "dirty",
        "DROP INDEX ix_lanes_k_partial; CREATE INDEX ix_lanes_k_partial ON lanes (k) WHERE k > 100",
        frozenset({"indexes"}),
        ('index "ix_lanes_k_partial" on "lanes": sql', "where k > 100000"),
    ),
    Mutation(
        "index_order",
        "dirty",
        "DROP INDEX ix_mixed_t_desc;"
        " CREATE INDEX ix_mixed_t_desc ON mixed_classes (t COLLATE NOCASE ASC, id ASC)",
        frozenset({"indexes"}),
        ('index "ix_mixed_t_desc" on "mixed_classes": columns (index_xinfo)',),
    ),
    Mutation(
        "trigger_dropped",
        "dirty",
        "DROP TRIGGER tr_child_audit",
        frozenset({"triggers"}),
        ('trigger "tr_child_audit" only in a',),
    ),
    Mutation(
        "declared_type_rebuilt",
        "chinook",
        rebuild_genre_wider,
        frozenset({"tables"}),
        ("table \"Genre\" column \"Name\": declared type a 'NVARCHAR(120)', b 'NVARCHAR(121)'",),
    ),
    Mutation(
        "view_changed",
        "northwind",
        'DROP VIEW "Current Product List";'
        ' CREATE VIEW "Current Product List" AS SELECT ProductID, ProductName'
        " FROM Products WHERE Discontinued = 1",
        frozenset({"views", "view_rows"}),
        ('view "Current Product List": SQL', 'view "Current Product List": row ['),
    ),
    Mutation(
        "check_changed",
        "dirty",
        rewrite_schema("order items", "BETWEEN 1 AND 1000", "BETWEEN 1 AND 100"),
        frozenset({"constraints"}),
        ('table "order items": column qty: check (qty between 1 and 1000) only in a',),
    ),
    Mutation(
        "collation_added",
        "dirty",
        rewrite_schema("group", '"where" TEXT', '"where" TEXT COLLATE NOCASE'),
        frozenset({"constraints"}),
        ('table "group": column where: collate nocase only in b',),
    ),
    Mutation(
        "deferrable_lost",
        "dirty",
        rewrite_schema("child", " DEFERRABLE INITIALLY DEFERRED", ""),
        frozenset({"constraints"}),
        ("deferrable initially deferred only in a",),
    ),
    Mutation(
        "on_delete_changed",
        "dirty",
        rewrite_schema("child", "ON DELETE CASCADE", "ON DELETE SET NULL"),
        frozenset({"constraints", "foreign_keys"}),
        (
            'table "child": (parent_id) REFERENCES "parent"(id) ON UPDATE NO ACTION ON DELETE CASCADE',
        ),
    ),
    Mutation(
        "generated_expression",
        "dirty",
        rewrite_schema("gen", "(a * 2) VIRTUAL", "(a * 3) VIRTUAL"),
        frozenset({"constraints", "rows"}),
        ('table "gen" rowid 1 column "twice": a has (integer, 2), b has (integer, 3)',),
    ),
    Mutation(
        "orphan_removed",
        "dirty",
        "DELETE FROM child WHERE id = 5",
        frozenset({"rows", "view_rows", "foreign_keys"}),
        (
            'foreign_key_check: "child" rowid 5 -> "parent" only in a',
            'table "child" rowid 5 only in a',
        ),
    ),
    Mutation(
        "strict_dropped",
        "dirty",
        rewrite_schema("strict_any", "STRICT", ""),
        frozenset({"tables", "integrity"}),  # ANY is NUMERIC affinity outside STRICT
        ('table "strict_any": STRICT a 1, b 0', "b: TEXT value in strict_any.a"),
    ),
    Mutation(
        "user_version",
        "dirty",
        "PRAGMA user_version = 8",
        frozenset({"pragmas"}),
        ("user_version: a 7, b 8",),
    ),
    Mutation(
        "table_dropped",
        "dirty",
        'DROP TABLE "sp""q"',
        frozenset({"tables"}),
        ('table "sp""q" only in a',),
    ),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_a_mutation_is_found_and_named(
    sources: dict[str, Path], tmp_path: Path, mutation: Mutation
) -> None:
    source = sources[mutation.source]
    copy = backup_copy(source, tmp_path / "copy.sqlite")
    with closing(sqlite3.connect(copy)) as conn:
        if isinstance(mutation.change, str):
            conn.executescript(mutation.change)
        else:
            mutation.change(conn)
        conn.commit()
    found = sqlite_differences(source, copy)
    message = "\n".join(map(str, found))
    assert {d.aspect for d in found} == mutation.aspects, message
    for part in mutation.says:
        assert part in message, f"{part!r} not in:\n{message}"


def test_assert_same_sqlite_fails_with_the_differences(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    copy = backup_copy(sources["chinook"], tmp_path / "copy.sqlite")
    with closing(sqlite3.connect(copy)) as conn:
        conn.executescript(
            "UPDATE Artist SET Name = Name || ' ' WHERE ArtistId = 1; PRAGMA user_version = 1;"
        )
    with pytest.raises(AssertionError) as failed:
        assert_same_sqlite(sources["chinook"], copy)
    assert str(failed.value) == (
        f"SQLite files differ (a = {sources['chinook']}, b = {copy}):\n"
        "  [rows] table \"Artist\" rowid 1 column \"Name\": a has (text, 'AC/DC'), b has (text, 'AC/DC ')\n"
        "  [pragmas] user_version: a 0, b 1"
    )


# --- options, limits, edges -----------------------------------------------------------------


def test_ignore_and_tables_narrow_the_comparison(sources: dict[str, Path], tmp_path: Path) -> None:
    copy = backup_copy(sources["dirty"], tmp_path / "copy.sqlite")
    with closing(sqlite3.connect(copy)) as conn:
        conn.executescript("PRAGMA user_version = 9; DROP TRIGGER tr_child_audit;")
    assert {d.aspect for d in sqlite_differences(sources["dirty"], copy)} == {"pragmas", "triggers"}
    assert_same_sqlite(sources["dirty"], copy, ignore=("pragmas", "triggers"))
    assert {
        d.aspect for d in sqlite_differences(sources["dirty"], copy, tables=["child", "gaps"])
    } == {"pragmas", "triggers"}  # the trigger is on child
    assert_same_sqlite(sources["dirty"], copy, tables=["gaps", "v_mixed"], ignore=("pragmas",))
    missing = sqlite_differences(
        sources["dirty"], copy, tables=["no_such_table"], ignore=("pragmas",)
    )
    assert [str(d) for d in missing] == [
        '[tables] "no_such_table" (asked for in tables=) is not in a'
    ]
    with pytest.raises(ValueError, match="unknown aspects"):
        sqlite_differences(sources["dirty"], copy, ignore=("row",))


def test_many_differences_are_listed_up_to_the_limit(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    copy = backup_copy(sources["dirty"], tmp_path / "copy.sqlite")
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("UPDATE lanes SET s = s || '.' WHERE id % 2 = 0")  # 100,000 rows
        conn.commit()
    found = [str(d) for d in sqlite_differences(sources["dirty"], copy)]
    assert len(found) == SHOWN + 1 and found[-1] == "[rows] ... and more not shown", found
    assert found[0].startswith('[rows] table "lanes" rowid 4 column "s": a has (text, \'row 1\')')


def test_different_encodings_are_reported_not_compared(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.sqlite"
    with closing(sqlite3.connect(utf16)) as conn:
        conn.executescript("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t (v TEXT);")
        conn.execute("INSERT INTO t VALUES ('é')")
        conn.commit()
    utf8 = tmp_path / "utf8.sqlite"
    with closing(sqlite3.connect(utf8)) as conn:
        conn.executescript("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('é');")
    assert [str(d) for d in sqlite_differences(utf16, utf8)] == [
        "[pragmas] encoding: a UTF-16le, b UTF-8"
    ]
    assert_same_sqlite(utf16, backup_copy(utf16, tmp_path / "copy16.sqlite"))


def test_a_table_whose_rowid_names_are_all_columns_is_compared_as_a_multiset(
    tmp_path: Path,
) -> None:
    a = tmp_path / "a.sqlite"
    with closing(sqlite3.connect(a)) as conn:
        conn.executescript(
            "CREATE TABLE t (rowid, _rowid_, oid); INSERT INTO t VALUES (1, 2, 3), (1, 2, 3);"
        )
    b = backup_copy(a, tmp_path / "b.sqlite")
    assert_same_sqlite(a, b)
    with closing(sqlite3.connect(b)) as conn:
        conn.executescript("DELETE FROM t; INSERT INTO t VALUES (1, 2, 3), (1, 2, 3.0);")
    assert [str(d) for d in sqlite_differences(a, b)] == [
        '[rows] table "t": row [(integer, 1), (integer, 2), (integer, 3)] appears 2 times in a, 1 in b',
        '[rows] table "t": row [(integer, 1), (integer, 2), (real, 3.0 = 0x1.8000000000000p+1)]'
        " appears 0 times in a, 1 in b",
    ]


def test_without_rowid_on_one_side_only_is_said_and_rows_still_compared(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with closing(sqlite3.connect(a)) as conn:
        conn.executescript(
            "CREATE TABLE t (k TEXT PRIMARY KEY, v); INSERT INTO t VALUES ('y', 2.5);"
        )
    with closing(sqlite3.connect(b)) as conn:
        conn.executescript(
            "CREATE TABLE t (k TEXT PRIMARY KEY, v) WITHOUT ROWID; INSERT INTO t VALUES ('y', '2.5');"
        )
    found = [str(d) for d in sqlite_differences(a, b, ignore=("indexes",))]
    assert found == [
        '[tables] table "t": WITHOUT ROWID a 0, b 1',
        '[tables] table "t" column "k": NOT NULL a 0, b 1',  # WITHOUT ROWID keys are NOT NULL
        "[rows] table \"t\": row [(text, 'y'), (real, 2.5 = 0x1.4000000000000p+1)] appears 1 times in a, 0 in b",
        "[rows] table \"t\": row [(text, 'y'), (text, '2.5')] appears 0 times in a, 1 in b",
    ]


def test_a_virtual_table_of_a_missing_module_is_compared_by_its_text(tmp_path: Path) -> None:
    from tests.integration.test_virtual_tables import _with_unknown_module

    a = _with_unknown_module(tmp_path / "a.sqlite")
    b = backup_copy(a, tmp_path / "b.sqlite")
    assert_same_sqlite(a, b)
    with closing(sqlite3.connect(b)) as conn:
        rewrite_schema("vectors", "float[4]", "float[8]")(conn)
    assert [d.aspect for d in sqlite_differences(a, b)] == ["tables"]


# --- the SQL text rules -------------------------------------------------------------------------


def test_normalised_sql_forgives_quoting_case_spacing_and_comments_only() -> None:
    assert normalise_sql("CREATE VIEW [A b] AS\n  SELECT X, `y` FROM T -- note\n") == normalise_sql(
        'create view "a B" as select x,"Y" /* other */ from t'
    )
    assert normalise_sql("SELECT 'Abc'") != normalise_sql("SELECT 'abc'")
    assert normalise_sql("SELECT 1e5") != normalise_sql("SELECT 1e6")
    assert normalise_sql("SELECT a == b, a != b") == normalise_sql("SELECT a = b, a <> b")


def test_table_constraints_are_split_per_column_in_any_order() -> None:
    one = table_constraints(
        "CREATE TABLE t (a INTEGER NOT NULL DEFAULT 0 CHECK (a >= 0), "
        "b TEXT REFERENCES p(id) ON DELETE SET NULL NOT DEFERRABLE COLLATE NOCASE, "
        "c GENERATED ALWAYS AS (a + 1) STORED, CONSTRAINT pk PRIMARY KEY (a))"
    )
    assert one == {
        "column a: not null": 1,
        "column a: default 0": 1,
        "column a: check (a >= 0)": 1,
        "column b: references p (id) on delete set null not deferrable": 1,
        "column b: collate nocase": 1,
        "column c: generated always as (a + 1) stored": 1,
        "table constraint: constraint pk primary key (a)": 1,
    }
    assert one == table_constraints(
        'CREATE TABLE "t" ("a" integer CHECK(a>=0) DEFAULT 0 NOT NULL, b TEXT COLLATE nocase '
        "REFERENCES p (id) ON DELETE SET NULL NOT DEFERRABLE, "
        "c GENERATED ALWAYS AS (a+1) STORED, CONSTRAINT pk PRIMARY KEY (a))"
    )
