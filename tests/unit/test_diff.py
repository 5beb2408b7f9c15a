"""Schema diff golden cases: two schemas built in code (no database), the differences
expected, one line per case through one helper (``_found``), for every kind and pair.

Each expected difference is (kind, table, name, lossless).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from arrowferry.diff import KIND_ORDER, diff_schemas
from arrowferry.errors import BadInputError
from arrowferry.model import (
    Check,
    Column,
    DataType,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    View,
)

SQLITE, PG = "sqlite", "postgresql"


def c(name: str, declared: str, **kw: Any) -> dict[str, Any]:
    """A column: its name, declared type, then Column fields (null=False for NOT NULL)."""
    return {"name": name, "declared": declared, **kw}


def _column(dialect: str, spec: dict[str, Any]) -> Column:
    from arrowferry.dialects.base import dialect_named

    spec = dict(spec)
    nullable = spec.pop("null", True)
    parsed = dialect_named(dialect).parse_type(spec["declared"])
    return Column(type=parsed or DataType("other", raw=""), nullable=nullable, **spec)


def t(dialect: str, *cols: dict[str, Any], name: str = "t", **kw: Any) -> Table:
    pk = kw.pop("pk", None)
    return Table(
        name,
        tuple(_column(dialect, spec) for spec in cols),
        primary_key=PrimaryKey(tuple(pk)) if pk else None,
        **kw,
    )


def sq(*cols: dict[str, Any], **kw: Any) -> Schema:
    """A SQLite schema of one table ``t``."""
    return Schema(SQLITE, (t(SQLITE, *cols, **kw),))


def pg(*cols: dict[str, Any], **kw: Any) -> Schema:
    """A PostgreSQL schema of one table ``t``."""
    return Schema(PG, (t(PG, *cols, **kw),))


def ix(name: str, *cols: str, unique: bool = False, where: str | None = None) -> Index:
    keys = tuple(
        IndexKey(k[1:], is_expression=True) if k.startswith("=") else IndexKey(k) for k in cols
    )
    return Index(name, keys, unique, where)


def fk(cols: str, ref: str, ref_cols: str, **kw: Any) -> ForeignKey:
    return ForeignKey(tuple(cols.split(",")), ref, tuple(ref_cols.split(",")), **kw)


def ck(expression: str, name: str | None = None) -> Check:
    return Check(expression, name)


def uq(*cols: str) -> UniqueConstraint:
    return UniqueConstraint(tuple(cols))


X = c("x", "INTEGER")
XP = c("x", "bigint")
ID = c("id", "INTEGER", identity=True, null=False)
IDP = c("id", "bigint", identity=True, null=False)

Case = tuple[str, Schema, Schema, list[tuple[str, str | None, str | None, bool]]]

CASES: list[Case] = [
    # --- types, after mapping --------------------------------------------------------------
    ("INTEGER = bigint", sq(c("x", "INTEGER")), pg(c("x", "bigint")), []),
    ("REAL = double precision", sq(c("x", "REAL")), pg(c("x", "double precision")), []),
    ("DATETIME = timestamp", sq(c("x", "DATETIME")), pg(c("x", "timestamp without time zone")), []),
    ("BOOLEAN = boolean", sq(c("x", "BOOLEAN")), pg(c("x", "boolean")), []),
    ("JSON = jsonb", sq(c("x", "JSON")), pg(c("x", "jsonb")), []),
    ("NUMERIC = numeric", sq(c("x", "NUMERIC(10,2)")), pg(c("x", "numeric(10,2)")), []),
    ("NVARCHAR(40) = varchar(40)", sq(c("x", "NVARCHAR(40)")), pg(c("x", "character varying(40)")), []),
    ("INTEGER PRIMARY KEY = identity", sq(ID, pk=["id"]), pg(IDP, pk=["id"]), []),
    ("integer -> its SQLite INTEGER", pg(c("x", "integer")), sq(c("x", "INTEGER")), []),
    ("real -> its SQLite REAL", pg(c("x", "real")), sq(c("x", "REAL")), []),
    ("uuid -> its SQLite UUID", pg(c("x", "uuid")), sq(c("x", "UUID")), []),
    ("untyped SQLite: any", sq(c("x", "")), pg(c("x", "integer")), []),
    ("TEXT vs integer", sq(c("x", "TEXT")), pg(c("x", "integer")), [("column_type", "t", "x", False)]),
    ("INTEGER vs integer (narrower)", sq(X), pg(c("x", "integer")), [("column_type", "t", "x", False)]),
    ("REAL vs real (narrower)", sq(c("x", "REAL")), pg(c("x", "real")), [("column_type", "t", "x", False)]),
    ("integer -> bigint widens", pg(c("x", "integer")), pg(c("x", "bigint")), [("column_type", "t", "x", True)]),
    ("bigint -> integer narrows", pg(c("x", "bigint")), pg(c("x", "integer")), [("column_type", "t", "x", False)]),
    ("varchar(10) -> varchar(20)", pg(c("x", "varchar(10)")), pg(c("x", "varchar(20)")), [("column_type", "t", "x", True)]),
    ("varchar(20) -> varchar(10)", pg(c("x", "varchar(20)")), pg(c("x", "varchar(10)")), [("column_type", "t", "x", False)]),
    ("VARCHAR(40) -> text", sq(c("x", "VARCHAR(40)")), pg(c("x", "text")), [("column_type", "t", "x", True)]),
    ("numeric(10,2) -> (12,2)", pg(c("x", "numeric(10,2)")), pg(c("x", "numeric(12,2)")), [("column_type", "t", "x", True)]),
    ("numeric(10,2) -> (10,3)", pg(c("x", "numeric(10,2)")), pg(c("x", "numeric(10,3)")), [("column_type", "t", "x", False)]),
    ("integer -> text", pg(c("x", "integer")), pg(c("x", "text")), [("column_type", "t", "x", True)]),
    ("json -> jsonb", pg(c("x", "json")), pg(c("x", "jsonb")), [("column_type", "t", "x", False)]),
    ("same dialect: as declared", sq(c("x", "INT")), sq(c("x", "INTEGER")), [("column_type", "t", "x", True)]),
    ("same dialect: case and spaces", pg(c("x", "numeric(10, 2)")), pg(c("x", "NUMERIC(10,2)")), []),
    # --- how text compares (collations): SQLite's BINARY is byte order, as C in PostgreSQL -----
    ("same dialect: collation", sq(c("x", "TEXT", collation="NOCASE")), sq(c("x", "TEXT")), [("collation", "t", "x", True)]),
    ("BINARY spelled out = none", sq(c("x", "TEXT", collation="BINARY")), sq(c("x", "TEXT")), []),
    ("TEXT = text COLLATE C", sq(c("x", "TEXT")), pg(c("x", "text", collation="C")), []),
    ("TEXT = text in a C database", sq(c("x", "TEXT")), pg(c("x", "text")), []),
    ("TEXT vs text at a locale", sq(c("x", "TEXT")), pg(c("x", "text", ordering="en-US (ICU)")), [("collation", "t", "x", True)]),
    ("locale -> SQLite", pg(c("x", "text", ordering="en_US.utf8")), sq(c("x", "TEXT")), [("collation", "t", "x", True)]),
    ("NOCASE vs C", sq(c("x", "TEXT", collation="NOCASE")), pg(c("x", "text", collation="C")), [("collation", "t", "x", True)]),
    ("C vs NOCASE key: rows may not fit", pg(c("x", "text", collation="C"), pk=["x"]), sq(c("x", "TEXT", collation="NOCASE"), pk=["x"]), [("collation", "t", "x", False)]),
    ("C = POSIX (same order)", pg(c("x", "text", collation="C")), pg(c("x", "text", collation="POSIX")), []),
    ("C vs a locale", pg(c("x", "text", collation="C")), pg(c("x", "text", ordering="de_DE.utf8")), [("collation", "t", "x", True)]),
    ("two locales", pg(c("x", "text", ordering="en-US (ICU)")), pg(c("x", "text", ordering="de-DE (ICU)")), [("collation", "t", "x", True)]),
    ("not text: no order", sq(c("x", "INTEGER", collation="NOCASE")), sq(c("x", "INTEGER")), []),
    # --- nullability ---------------------------------------------------------------------
    ("NULL -> NOT NULL", sq(X), pg(c("x", "bigint", null=False)), [("nullability", "t", "x", False)]),
    ("NOT NULL -> NULL", pg(c("x", "bigint", null=False)), pg(XP), [("nullability", "t", "x", True)]),
    ("a key column is NOT NULL", sq(c("k", "TEXT"), pk=["k"]), pg(c("k", "text", null=False), pk=["k"]), []),
    # --- defaults, after translation -----------------------------------------------------
    ("0 = '0'::numeric", sq(c("x", "NUMERIC", default="0")), pg(c("x", "numeric", default="'0'::numeric")), []),
    ("1 = true", sq(c("x", "BOOLEAN", default="1")), pg(c("x", "boolean", default="true")), []),
    ("'a' = 'a'::text", sq(c("x", "TEXT", default="'a'")), pg(c("x", "text", default="'a'::text")), []),
    ("0.0 = 0 in a float", sq(c("x", "REAL", default="0.0")), pg(c("x", "double precision", default="'0.0'::double precision")), []),
    ("'{}'::text[] = its copy's '[]'", pg(c("x", "text[]", default="'{}'::text[]")), pg(c("x", "text[]", default="'{}'")), []),
    ("an array default = its JSON", pg(c("x", "text[]", default="'{a,\"b c\",NULL}'::text[]")), sq(c("x", "JSON TEXT", default="'[\"a\",\"b c\",null]'")), []),
    ("other array defaults differ", pg(c("x", "text[]", default="'{a}'::text[]")), pg(c("x", "text[]", default="'{b}'::text[]")), [("default", "t", "x", True)]),
    ("CURRENT_TIMESTAMP = now()", sq(c("x", "DATETIME", default="CURRENT_TIMESTAMP")), pg(c("x", "timestamp", default="now()")), []),
    ("CURRENT_TIMESTAMP = the migration's clock", sq(c("x", "DATETIME", default="CURRENT_TIMESTAMP")), pg(c("x", "timestamp", default="date_trunc('second', (now() AT TIME ZONE 'UTC'::text))")), []),
    ("datetime('now') = CURRENT_TIMESTAMP", sq(c("x", "DATETIME", default="datetime('now')")), pg(c("x", "timestamp", default="CURRENT_TIMESTAMP")), []),
    ("CURRENT_DATE = (now())::date", sq(c("x", "DATE", default="CURRENT_DATE")), pg(c("x", "date", default="((now() AT TIME ZONE 'UTC'::text))::date")), []),
    ("now() = its SQLite strftime", pg(c("x", "timestamptz", default="now()")), sq(c("x", "TIMESTAMPTZ", default="strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')")), []),
    ("a timestamptz constant = its copy's text", pg(c("x", "timestamptz", default="'2024-03-05 10:00:00+00'::timestamp with time zone")), sq(c("x", "TIMESTAMPTZ", default="'2024-03-05 10:00:00+00:00'")), []),
    ("the same instant in another zone", pg(c("x", "timestamptz", default="'2024-03-05 05:00:00-05'::timestamp with time zone")), sq(c("x", "TIMESTAMPTZ", default="'2024-03-05 10:00:00'")), []),
    ("another instant", pg(c("x", "timestamptz", default="'2024-03-05 10:00:00+00'::timestamp with time zone")), sq(c("x", "TIMESTAMPTZ", default="'2024-03-05 10:00:00+01:00'")), [("default", "t", "x", True)]),
    ("a naive timestamp keeps its offset text", pg(c("x", "timestamp", default="'2024-03-05 10:00:00'::timestamp without time zone")), sq(c("x", "DATETIME", default="'2024-03-05 10:00:00+01:00'")), [("default", "t", "x", True)]),
    ("localtime is another clock", sq(c("x", "DATETIME", default="datetime('now', 'localtime')")), pg(c("x", "timestamp", default="now()")), [("default", "t", "x", True)]),
    ("CURRENT_DATE vs now()", sq(c("x", "DATE", default="CURRENT_DATE")), pg(c("x", "date", default="now()")), [("default", "t", "x", True)]),
    ("'a' vs 'b'", sq(c("x", "TEXT", default="'a'")), pg(c("x", "text", default="'b'::text")), [("default", "t", "x", True)]),
    ("a default vs none", pg(c("x", "integer", default="0")), pg(c("x", "integer")), [("default", "t", "x", True)]),
    ("NULL default = none", sq(c("x", "TEXT", default="NULL")), pg(c("x", "text")), []),
    ("expression default", pg(c("x", "integer", default="(1 + 2)")), sq(c("x", "INTEGER", default="1 + 2")), []),
    ("serial = rowid key", pg(c("id", "integer", identity=True, null=False, default="nextval('t_id_seq'::regclass)"), pk=["id"]), sq(ID, pk=["id"]), []),
    ("identity vs none", pg(IDP, pk=["id"]), sq(c("id", "BIGINT", null=False), pk=["id"]), [("default", "t", "id", True)]),
    ("plain -> generated", pg(c("x", "integer")), pg(c("x", "integer", generated="1", generated_stored=True)), [("default", "t", "x", False)]),
    ("generated -> plain", pg(c("x", "integer", generated="1", generated_stored=True)), pg(c("x", "integer")), [("default", "t", "x", True)]),
    ("AUTOINCREMENT, same dialect", sq(c("id", "INTEGER", identity=True, autoincrement=True, null=False), pk=["id"]), sq(ID, pk=["id"]), [("default", "t", "id", True)]),
    ("AUTOINCREMENT = identity", sq(c("id", "INTEGER", identity=True, autoincrement=True, null=False), pk=["id"]), pg(IDP, pk=["id"]), []),
    # --- keys ------------------------------------------------------------------------------
    ("key in a only", pg(XP, pk=["x"]), pg(XP), [("primary_key", "t", None, True)]),
    ("key in b only", pg(XP), pg(XP, pk=["x"]), [("primary_key", "t", None, False)]),
    ("a's key within b's", pg(XP, c("y", "int"), pk=["x"]), pg(XP, c("y", "int"), pk=["x", "y"]), [("primary_key", "t", None, True)]),
    ("unique in a only", pg(XP, uniques=(uq("x"),)), pg(XP), [("unique", "t", None, True)]),
    ("unique in b only", pg(XP), pg(XP, uniques=(uq("x"),)), [("unique", "t", None, False)]),
    ("unique in b held by a's key", pg(XP, pk=["x"]), pg(XP, pk=["x"], uniques=(uq("x"),)), [("unique", "t", None, True)]),
    ("UNIQUE = unique index across", sq(X, uniques=(uq("x"),)), pg(XP, indexes=(ix("t_x", "x", unique=True),)), []),
    ("unique names are not compared", pg(XP, uniques=(UniqueConstraint(("x",), "a"),)), pg(XP, uniques=(UniqueConstraint(("x",), "b"),)), []),
    # --- indexes -----------------------------------------------------------------------
    ("index in a only", sq(X, indexes=(ix("i", "x"),)), pg(XP), [("index", "t", "i", True)]),
    ("unique index in b only", sq(X), pg(XP, indexes=(ix("i", "x", unique=True),)), [("index", "t", "i", False)]),
    ("same index, other name", sq(X, indexes=(ix("i", "x"),)), pg(XP, indexes=(ix("j", "x"),)), []),
    ("same name, other columns", pg(XP, c("y", "int"), indexes=(ix("i", "x"),)), pg(XP, c("y", "int"), indexes=(ix("i", "y"),)), [("index", "t", "i", True)]),
    ("uniqueness differs", pg(XP, indexes=(ix("i", "x"),)), pg(XP, indexes=(ix("i", "x", unique=True),)), [("index", "t", "i", False)]),
    ("predicate translated", sq(X, indexes=(ix("i", "x", where="x IS NOT NULL"),)), pg(XP, indexes=(ix("i", "x", where="(x IS NOT NULL)"),)), []),
    ("predicate differs", sq(X, indexes=(ix("i", "x", where="x > 0"),)), pg(XP, indexes=(ix("i", "x", where="(x > 1)"),)), [("index", "t", "i", True)]),
    ("expression translated", sq(c("n", "TEXT"), indexes=(ix("i", "=lower(n)"),)), pg(c("n", "varchar(9)"), indexes=(ix("i", "=lower((n)::text)"),)), [("column_type", "t", "n", False)]),
    ("name case across", sq(c("Name", "TEXT"), indexes=(ix("i", "name"),)), pg(c("Name", "text"), indexes=(ix("i", "Name"),)), []),
    # --- foreign keys ----------------------------------------------------------------------
    ("fk in a only", sq(X, foreign_keys=(fk("x", "p", "id"),)), pg(XP), [("foreign_key", "t", None, True)]),
    ("fk in b only", sq(X), pg(XP, foreign_keys=(fk("x", "p", "id"),)), [("foreign_key", "t", None, False)]),
    ("fk actions differ", sq(X, foreign_keys=(fk("x", "p", "id", on_delete="CASCADE"),)), pg(XP, foreign_keys=(fk("x", "p", "id"),)), [("foreign_key", "t", None, True)]),
    ("fk names are not compared", pg(XP, foreign_keys=(fk("x", "p", "id", name="a"),)), pg(XP, foreign_keys=(fk("x", "p", "id", name="b"),)), []),
    ("fk other parent", pg(XP, foreign_keys=(fk("x", "p", "id"),)), pg(XP, foreign_keys=(fk("x", "q", "id"),)), [("foreign_key", "t", None, True), ("foreign_key", "t", None, False)]),
    # --- CHECKs, after translation -------------------------------------------------------
    ("[x]>=(0) = (x >= (0)::double precision)", sq(c("x", "REAL"), checks=(ck("[x]>=(0)"),)), pg(c("x", "double precision"), checks=(ck("(x >= (0)::double precision)"),)), []),
    # a copy made into SQLite matches its PostgreSQL source in SQLite's terms
    ("LIKE = the GLOB a copy into SQLite holds", pg(c("e", "text"), checks=(ck("(e ~~ '%@%'::text)"),)), sq(c("e", "TEXT"), checks=(ck('("e" GLOB \'*@*\')'),)), []),
    ("LIKE vs another GLOB", pg(c("e", "text"), checks=(ck("(e ~~ '%@%'::text)"),)), sq(c("e", "TEXT"), checks=(ck('("e" GLOB \'*#*\')'),)), [("check", "t", None, True), ("check", "t", None, False)]),
    ("IN = ANY (ARRAY[...])", sq(c("s", "VARCHAR(5)"), checks=(ck("s IN ('a', 'b')"),)), pg(c("s", "varchar(5)"), checks=(ck("((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"),)), []),
    ("BETWEEN = two comparisons", sq(X, checks=(ck("x BETWEEN 1 AND 5"),)), pg(XP, checks=(ck("((x >= 1) AND (x <= 5))"),)), []),
    ("0/1 on a boolean = false/true", sq(c("f", "BOOLEAN"), checks=(ck("f IN (0, 1)"),)), pg(c("f", "boolean"), checks=(ck("(f = ANY (ARRAY[false, true]))"),)), []),
    ("CHECK in a only", sq(X, checks=(ck("x > 0"),)), pg(XP), [("check", "t", None, True)]),
    ("CHECK in b only", sq(X), pg(XP, checks=(ck("x > 0", "t_x_check"),)), [("check", "t", "t_x_check", False)]),
    ("CHECK changed, same name", pg(XP, checks=(ck("x > 0", "c"),)), pg(XP, checks=(ck("x > 1", "c"),)), [("check", "t", "c", False)]),
    ("grouping matters", pg(XP, c("y", "int"), checks=(ck("(x + y) * 2 > 0"),)), pg(XP, c("y", "int"), checks=(ck("x + y * 2 > 0"),)), [("check", "t", None, True), ("check", "t", None, False)]),
    ("AND grouping does not", pg(XP, checks=(ck("(x > 0 AND x < 5) AND x <> 3"),)), pg(XP, checks=(ck("x > 0 AND (x < 5 AND x <> 3)"),)), []),
    # --- tables and columns ----------------------------------------------------------------
    ("table in a only", Schema(SQLITE, (t(SQLITE, X, name="u"),)), Schema(PG, ()), [("missing_table", "u", None, False)]),
    ("table in b only", Schema(SQLITE, ()), Schema(PG, (t(PG, XP, name="u"),)), [("extra_table", "u", None, True)]),
    ("table name case across", Schema(SQLITE, (t(SQLITE, X, name="Users"),)), Schema(PG, (t(PG, XP, name="users"),)), []),
    ("column in a only", sq(X, c("y", "TEXT")), pg(XP), [("missing_column", "t", "y", False)]),
    ("nullable column in b only", sq(X), pg(XP, c("y", "text")), [("extra_column", "t", "y", True)]),
    ("NOT NULL column in b only", sq(X), pg(XP, c("y", "text", null=False)), [("extra_column", "t", "y", False)]),
    ("NOT NULL with a default in b", sq(X), pg(XP, c("y", "text", null=False, default="'a'::text")), [("extra_column", "t", "y", True)]),
    # --- counters ------------------------------------------------------------------------
    ("b's counter behind", sq(ID, pk=["id"], sequence=10), pg(IDP, pk=["id"], sequence=5), [("sequence", "t", "t", True)]),
    ("b's counter ahead", sq(ID, pk=["id"], sequence=10), pg(IDP, pk=["id"], sequence=20), []),
    ("no counter read", sq(ID, pk=["id"], sequence=10), pg(IDP, pk=["id"]), []),
]  # fmt: skip


def _found(a: Schema, b: Schema, renames: dict[str, str] | None = None) -> list[tuple[Any, ...]]:
    return [
        (d.kind, d.table, d.name, d.lossless)
        for d in diff_schemas(a, b, renames=renames).differences
    ]


@pytest.mark.parametrize(("a", "b", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden(a: Schema, b: Schema, expected: list[tuple[Any, ...]]) -> None:
    assert _found(a, b) == expected


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_each_schema_equals_itself(index: int) -> None:
    _, a, b, _ = CASES[index]
    assert _found(a, a) == [] and _found(b, b) == []


def test_every_kind_has_a_golden_case() -> None:
    covered = {kind for case in CASES for kind, *_ in case[3]}
    covered |= {"renamed_table", "renamed_column", "missing_view", "extra_view", "view"}
    assert covered == set(KIND_ORDER)


# --- views --------------------------------------------------------------------------------

_T = Table("t", (Column("id", DataType("int64"), declared="INTEGER"),))
_TP = Table("t", (Column("id", DataType("int64"), declared="bigint"),))


def _views(dialect: str, table: Table, *views: View) -> Schema:
    return Schema(dialect, (table,), views)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (_views(SQLITE, _T, View("v", "SELECT id FROM t WHERE id = 1")), _views(PG, _TP, View("v", "SELECT t.id FROM t WHERE (t.id = 1)")), []),
        (_views(SQLITE, _T, View("v", "SELECT * FROM t")), _views(PG, _TP, View("v", "SELECT t.id\n   FROM t")), []),
        (_views(PG, _TP, View("v", "SELECT t.id FROM t")), _views(SQLITE, _T, View("v", "SELECT id FROM t")), []),
        (_views(SQLITE, _T, View("v", "SELECT id FROM t")), _views(PG, _TP), [("missing_view", "v", "v", True)]),
        (_views(SQLITE, _T), _views(PG, _TP, View("v", "SELECT t.id FROM t")), [("extra_view", "v", "v", True)]),
        (_views(SQLITE, _T, View("v", "SELECT id FROM t WHERE id = 1")), _views(PG, _TP, View("v", "SELECT t.id FROM t WHERE (t.id = 2)")), [("view", "v", "v", True)]),
        (_views(PG, _TP, View("v", "SELECT t.id FROM t t1 JOIN t t2 USING (id)")), _views(PG, _TP, View("v", "SELECT t.id FROM t t1 JOIN t t2 USING (id)")), []),
    ],
)  # fmt: skip
def test_views(a: Schema, b: Schema, expected: list[tuple[Any, ...]]) -> None:
    assert _found(a, b) == expected


# --- renames --------------------------------------------------------------------------------


def test_renames_given_are_renames_not_drops() -> None:
    a = Schema(PG, (t(PG, IDP, c("email", "text"), name="users", pk=["id"], checks=(ck("email <> ''"),)),
                    t(PG, c("uid", "bigint"), name="posts", foreign_keys=(fk("uid", "users", "id"),))))  # fmt: skip
    b = Schema(PG, (t(PG, IDP, c("mail", "text"), name="people", pk=["id"], checks=(ck("mail <> ''"),)),
                    t(PG, c("uid", "bigint"), name="posts", foreign_keys=(fk("uid", "people", "id"),))))  # fmt: skip
    assert _found(a, b) == [
        ("extra_table", "people", None, True),
        ("foreign_key", "posts", None, True),
        ("foreign_key", "posts", None, False),
        ("missing_table", "users", None, False),
    ]
    renames = {"people": "users", "people.mail": "email"}
    assert _found(a, b, renames) == [
        ("renamed_table", "users", None, True),
        ("renamed_column", "users", "email", True),
    ]
    found = diff_schemas(a, b, renames=renames).differences
    assert (found[0].a_sql, found[0].b_sql) == ("users", "people")
    assert (found[1].a_sql, found[1].b_sql) == ("email", "mail")
    assert isinstance(found[1].b, Column) and found[1].b.name == "mail"  # b as it is


@pytest.mark.parametrize(
    ("renames", "message"),
    [
        ({"nobody": "users"}, "b has no table 'nobody'"),
        ({"people": "nobody"}, "a has no table 'nobody'"),
        ({"people": "users", "people.nope": "email"}, "has no column 'nope'"),
        ({"people": "users", "people.mail": "nope"}, "has no column 'nope'"),
    ],
)
def test_a_rename_that_names_nothing_is_bad_input(renames: dict[str, str], message: str) -> None:
    a = Schema(PG, (t(PG, c("email", "text"), name="users"),))
    b = Schema(PG, (t(PG, c("mail", "text"), name="people"),))
    with pytest.raises(BadInputError, match=message):
        diff_schemas(a, b, renames=renames)


# --- the result -----------------------------------------------------------------------------


def test_sorted_by_table_then_kind_then_name() -> None:
    a = Schema(PG, (t(PG, XP, c("b", "int"), c("a", "int"), name="z"), t(PG, XP, name="m")))
    b = Schema(PG, (t(PG, c("x", "text"), name="z"), t(PG, name="m")))
    assert _found(a, b) == [
        ("missing_column", "m", "x", False),
        ("missing_column", "z", "a", False),
        ("missing_column", "z", "b", False),
        ("column_type", "z", "x", True),
    ]


def test_the_result_reads_as_json_text_and_html() -> None:
    a = sq(ID, c("name", "TEXT", null=False), pk=["id"], indexes=(ix("by_name", "name"),))
    b = pg(IDP, c("name", "integer"), pk=["id"])
    found = diff_schemas(a, b)
    assert not found.identical and not found.compatible
    data = json.loads(json.dumps(found.to_dict()))
    assert (data["a_dialect"], data["b_dialect"], data["identical"], data["compatible"]) == (
        SQLITE,
        PG,
        False,
        False,
    )
    assert [(d["kind"], d["a_sql"], d["b_sql"]) for d in data["differences"]] == [
        ("column_type", "TEXT", "integer"),
        ("nullability", "NOT NULL", "NULL"),
        ("index", "INDEX by_name ON t (name)", None),
    ]
    assert data["differences"][0]["a"]["declared"] == "TEXT"
    text = str(found)
    assert text.splitlines()[0] == (
        "a (sqlite) and b (postgresql): 3 differences, 1 of them may lose data: rows of a may "
        "not all fit in b"
    )
    assert "\ntable t\n  ! column_type " in text and "\n    index " in text
    assert "      a: INDEX by_name ON t (name)" in text
    html = found._repr_html_()
    assert html.count("<tr>") == 5 and '<th colspan="6"' in html and "table t" in html


def test_identical_schemas() -> None:
    found = diff_schemas(sq(ID, X, pk=["id"]), pg(IDP, XP, pk=["id"]))
    assert found.identical and found.compatible and found.differences == ()
    assert str(found) == "a (sqlite) and b (postgresql): no differences"


def test_the_diff_module_loads_no_engine() -> None:
    """diff is pure: importing it and diffing two schemas of one dialect loads neither
    pyarrow, polars nor a driver (only a cross-dialect type mapping asks the dialects)."""
    code = (
        "import sys\n"
        "from arrowferry.diff import diff_schemas\n"
        "from arrowferry.model import Column, DataType, Schema, Table\n"
        "a = Schema('sqlite', (Table('t', (Column('x', DataType('int64'), declared='INT'),)),))\n"
        "b = Schema('sqlite', (Table('t', (Column('x', DataType('text'), declared='TEXT'),)),))\n"
        "assert diff_schemas(a, b).differences\n"
        "heavy = ('pyarrow', 'polars', 'numpy', 'adbc_driver_manager', 'sqlite3')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
