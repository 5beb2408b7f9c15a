"""Schema sync without a database: differences built by hand (the diff contract) become
ordered statements in each target dialect, each marked destructive or not; PostgreSQL's
USING casts follow the migration's conversion rules, one line per (old, new) type."""

from __future__ import annotations

import json

import pytest

from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.postgresql.alter import using_cast
from arrowferry.diff import Difference, SchemaComparison
from arrowferry.model import (
    Check,
    Column,
    DataType,
    ForeignKey,
    PrimaryKey,
    Schema,
    Table,
    View,
)
from arrowferry.sync import plan_sync


@pytest.mark.parametrize(
    ("old", "new", "ddl", "using", "checked"),
    [
        # a widening PostgreSQL makes exactly: a plain cast, nothing to check
        ("int32", "int64", "bigint", '"c"::bigint', None),
        ("boolean", "int64", "bigint", '"c"::integer::bigint', None),
        ("date", "timestamp", "timestamp", '"c"::timestamp', None),
        # text's input function is strict: '12abc' is an error, never NULL or 12
        ("text", "int32", "integer", '("c"::text)::integer', '"c"::text'),
        ("int64", "boolean", "boolean", '("c"::text)::boolean', '"c"::text'),
        # numeric's cast would round 2.5 to 3: the text '2.5' is no integer
        (
            "float64",
            "int32",
            "integer",
            '(trim_scale("c"::numeric)::text)::integer',
            'trim_scale("c"::numeric)::text',
        ),
        # between numbers the server rounds to the new scale, as a migration lets it
        ("int64", "int16", "smallint", '"c"::smallint', '"c"::text'),
        # every type has a text form; bytes become text only when they are UTF-8
        ("int64", "text", "text", '"c"::text', None),
        ("blob", "text", "text", "convert_from(\"c\", 'UTF8')", None),
        ("text", "blob", "bytea", "convert_to(\"c\", 'UTF8')", None),
    ],
)
def test_using_casts(old: str, new: str, ddl: str, using: str, checked: str | None) -> None:
    assert using_cast("c", DataType(old), DataType(new), ddl) == (using, checked)  # type: ignore[arg-type]


def test_a_longer_text_than_varchar_holds_is_refused_not_cut() -> None:
    # the USING is text: its assignment cast to varchar(5) refuses what an explicit cast cuts
    assert using_cast("c", DataType("text"), DataType("text", length=5), "varchar(5)") == (
        '"c"::text',
        '"c"::text',
    )


INT = DataType("int64")
TEXT = DataType("text")


def col(name: str, dtype: DataType = INT, declared: str = "bigint", **kw: object) -> Column:
    return Column(name, dtype, declared=declared, **kw)  # type: ignore[arg-type]


def diff(kind: str, table: str | None, name: str | None, a: object, b: object) -> Difference:
    return Difference(kind, table, name, a, b, None, None, True, "")  # type: ignore[arg-type]


PARENT = Table("parent", (col("id", nullable=False),), PrimaryKey(("id",), name="parent_pkey"))
CHILD = Table(
    "child",
    (col("id", nullable=False), col("pid"), col("note", TEXT, "text")),
    PrimaryKey(("id",), name="child_pkey"),
)


def plan(
    target: str, differences: list[Difference], desired: Schema, current: Schema, **kw: bool
) -> list[tuple[str, bool]]:
    comparison = SchemaComparison(desired.dialect, current.dialect, tuple(differences))
    result = plan_sync(comparison, desired, current, dialect_named(target), **kw)
    json.dumps(result.to_dict())
    assert str(result) and result._repr_html_().startswith("<p>")
    return [(s.sql, s.destructive) for s in result.statements] + [
        ("refused: " + s.sql, s.destructive) for s in result.refused
    ]


def test_postgresql_order_and_safety() -> None:
    fk = ForeignKey(("pid",), "parent", ("id",), name="child_pid_fkey")
    child = Table("child", CHILD.columns[:2], CHILD.primary_key, foreign_keys=(fk,))
    desired = Schema("postgresql", (PARENT, child), (View("v", "SELECT id FROM child"),))
    current = Schema("postgresql", (CHILD, Table("old", (col("x"),))))
    differences = [
        diff("foreign_key", "child", None, fk, None),
        diff("extra_column", "child", "note", None, CHILD.columns[2]),
        diff("missing_table", "parent", None, PARENT, None),
        diff("extra_table", "old", None, None, current.tables[1]),
        diff("missing_view", "v", "v", desired.views[0], None),
    ]
    assert plan("postgresql", differences, desired, current) == [
        ('SET search_path = "public"', False),
        (
            'CREATE TABLE "public"."parent" (\n  "id" bigint NOT NULL,\n'
            '  CONSTRAINT "parent_pkey" PRIMARY KEY ("id")\n)',
            False,
        ),
        (
            'ALTER TABLE "public"."child" ADD CONSTRAINT "child_pid_fkey" FOREIGN KEY ("pid") '
            'REFERENCES "public"."parent" ("id")',
            False,
        ),
        ('CREATE VIEW "public"."v" AS SELECT id FROM child', False),
        ('refused: ALTER TABLE "public"."child" DROP COLUMN "note"', True),
        ('refused: DROP TABLE "public"."old"', True),
    ]
    allowed = plan("postgresql", differences, desired, current, allow_destructive=True)
    assert [s for s, destructive in allowed if destructive] == [
        'ALTER TABLE "public"."child" DROP COLUMN "note"',
        'DROP TABLE "public"."old"',
    ]


def test_postgresql_drops_what_blocks_a_type_change_and_makes_it_again() -> None:
    fk = ForeignKey(("pid",), "parent", ("id",), name="child_pid_fkey")
    view = View("v", "SELECT pid FROM child")
    child = Table("child", CHILD.columns[:2], CHILD.primary_key, foreign_keys=(fk,))
    current = Schema("postgresql", (PARENT, child), (view,))
    wider = col("pid", DataType("decimal"), "numeric")
    desired = Schema(
        "postgresql",
        (PARENT, Table("child", (child.columns[0], wider), foreign_keys=(fk,))),
        (view,),
    )
    found = plan(
        "postgresql",
        [diff("column_type", "child", "pid", wider, child.columns[1])],
        desired,
        current,
    )
    assert [s.split(" (")[0] for s, _ in found] == [
        'SET search_path = "public"',
        'DROP VIEW "public"."v"',
        'ALTER TABLE "public"."child" DROP CONSTRAINT "child_pid_fkey"',
        'ALTER TABLE "public"."child" ALTER COLUMN "pid" TYPE numeric USING "pid"::numeric',
        'ALTER TABLE "public"."child" ADD CONSTRAINT "child_pid_fkey" FOREIGN KEY',
        'CREATE VIEW "public"."v" AS SELECT pid FROM child',
    ]


def test_sqlite_rebuilds_what_alter_table_cannot_do() -> None:
    lite = [
        Column("id", INT, nullable=False, identity=True, declared="INTEGER"),
        Column("n", INT, declared="INTEGER"),
    ]
    current = Schema("sqlite", (Table("t", tuple(lite), PrimaryKey(("id",))),))
    check = Check("n > 0")
    desired = Schema("sqlite", (Table("t", tuple(lite), PrimaryKey(("id",)), checks=(check,)),))
    found = [
        s for s, _ in plan("sqlite", [diff("check", "t", None, check, None)], desired, current)
    ]
    assert found == [
        "PRAGMA foreign_keys = OFF",
        "BEGIN",
        "PRAGMA legacy_alter_table = ON",
        'CREATE TABLE "__arrowferry_new_t" (\n  "id" INTEGER PRIMARY KEY,\n  "n" INTEGER,\n'
        "  CHECK (n > 0)\n)",
        'INSERT INTO "__arrowferry_new_t" ("id", "n") SELECT "id", "n" FROM "t"',
        'DROP TABLE "t"',
        'ALTER TABLE "__arrowferry_new_t" RENAME TO "t"',
        "PRAGMA legacy_alter_table = OFF",
        'PRAGMA foreign_key_check("t")',
        "COMMIT",
    ]


def test_a_rename_is_a_rename() -> None:
    old = Table("people", (col("id"), col("mail", TEXT, "text")))
    new = Table("users", (col("id"), col("email", TEXT, "text")))
    differences = [
        diff("renamed_table", "users", None, new, old),
        diff("renamed_column", "users", "email", new.columns[1], old.columns[1]),
    ]
    found = plan(
        "postgresql", differences, Schema("postgresql", (new,)), Schema("postgresql", (old,))
    )
    assert [s for s, _ in found][1:] == [
        'ALTER TABLE "public"."people" RENAME TO "users"',
        'ALTER TABLE "public"."users" RENAME COLUMN "mail" TO "email"',
    ]


def test_a_type_change_of_text_keeps_or_sets_the_collation() -> None:
    """Between PostgreSQL databases a text type change keeps the target column's own
    collation (none stays none, "C" stays "C": PostgreSQL's ALTER ... TYPE would drop it);
    with a collation difference of the same column too, it takes the desired one."""

    def change(old: Column, new: Column, *kinds: str) -> list[str]:
        desired = Schema("postgresql", (Table("t", (new,)),))
        current = Schema("postgresql", (Table("t", (old,)),))
        found = [diff(kind, "t", "c", new, old) for kind in kinds]
        return [s for s, _ in plan("postgresql", found, desired, current) if "TYPE" in s]

    short = DataType("text", length=10)
    wide = DataType("text", length=20)
    plain = change(col("c", short, "varchar(10)"), col("c", wide, "varchar(20)"), "column_type")
    assert plain == ['ALTER TABLE "public"."t" ALTER COLUMN "c" TYPE varchar(20) USING "c"::text']
    kept = change(
        col("c", short, "varchar(10)", collation="C"), col("c", wide, "varchar(20)"), "column_type"
    )
    assert kept == [
        'ALTER TABLE "public"."t" ALTER COLUMN "c" TYPE varchar(20) COLLATE "C" USING "c"::text'
    ]
    wanted = change(
        col("c", short, "varchar(10)", ordering="en-US (ICU)"),
        col("c", wide, "varchar(20)", collation="C"),
        "column_type",
        "collation",
    )
    assert wanted == [
        'ALTER TABLE "public"."t" ALTER COLUMN "c" TYPE varchar(20) COLLATE "C" USING "c"::text'
    ]
