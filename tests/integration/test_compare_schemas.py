"""compare_schemas on real databases, in every pair: Chinook and Northwind migrated with
arrowferry compare equal to where they came from (or differ only as named below), and a
change made on either side is found with its kind and both sides' definitions.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.diff import SchemaComparison
from arrowferry.urls import parse_url
from tests.conftest import CHINOOK, CORPUS, database_defaults, fresh_database, sql
from tests.integration._cli_helpers import assert_one_paragraph_error, cli

SOURCES = {"chinook": CHINOOK, "northwind": CORPUS / "northwind.db"}


@dataclass
class Migrated:
    """One corpus database and its migrations: SQLite -> PostgreSQL (``pg``, schema
    public), that back to SQLite (``back``), PostgreSQL -> PostgreSQL (schema ``copy``)
    and SQLite -> SQLite (``sqlite_copy``)."""

    sqlite: Path
    pg: str
    back: Path
    sqlite_copy: Path
    warnings: list[str]


@pytest.fixture(scope="module")
def migrated(
    pg_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Migrated]]:
    folder = tmp_path_factory.mktemp("compare")
    found: dict[str, Migrated] = {}
    with fresh_database(pg_server) as chinook_pg, fresh_database(pg_server) as northwind_pg:
        for (name, source), pg in zip(SOURCES.items(), (chinook_pg, northwind_pg), strict=True):
            original = folder / f"{name}.sqlite"
            shutil.copy(source, original)
            there = af.migrate(original, pg)
            assert there.success, there.errors
            back = folder / f"{name}_back.sqlite"
            assert af.migrate(pg, back).success
            assert af.migrate(pg, pg, source_schema="public", target_schema="copy").success
            copy = folder / f"{name}_copy.sqlite"
            assert af.migrate(original, copy).success
            found[name] = Migrated(original, pg, back, copy, there.warnings)
        yield found


def _kinds(found: SchemaComparison) -> list[tuple[str, str | None, str | None, bool]]:
    return [(d.kind, d.table, d.name, d.lossless) for d in found.differences]


# The one difference a migration leaves: Northwind's view "Invoices" concatenates text with
# SQLite's + (which is numeric addition there), which PostgreSQL refuses, so the migration
# leaves the view out with a warning.
_INVOICES = [("missing_view", "Invoices", "Invoices", True)]


@pytest.mark.parametrize("name", list(SOURCES))
@pytest.mark.parametrize(
    "pair",
    ["sqlite-postgresql", "postgresql-sqlite", "sqlite-sqlite", "postgresql-postgresql"],
)
def test_a_migration_compares_equal_to_its_source(
    migrated: dict[str, Migrated], name: str, pair: str
) -> None:
    m = migrated[name]
    a, b, b_schema = {
        "sqlite-postgresql": (m.sqlite, m.pg, None),
        "postgresql-sqlite": (m.pg, m.back, None),
        "sqlite-sqlite": (m.sqlite, m.sqlite_copy, None),
        "postgresql-postgresql": (m.pg, m.pg, "copy"),
    }[pair]
    found = af.compare_schemas(a, b, b_schema=b_schema)
    expected = _INVOICES if (name, pair) == ("northwind", "sqlite-postgresql") else []
    assert _kinds(found) == expected
    if expected:
        assert any("view 'Invoices' not created" in w for w in m.warnings)
        assert found.compatible  # a view holds no rows
    # the other way round, the view is one b has and a has not
    back = af.compare_schemas(b, a, a_schema=b_schema)
    assert _kinds(back) == ([("extra_view", "Invoices", "Invoices", True)] if expected else [])


def test_the_pairs_see_the_counters_a_migration_sets(migrated: dict[str, Migrated]) -> None:
    m = migrated["chinook"]
    schemas = [af.inspect_schema(m.sqlite), af.inspect_schema(m.pg), af.inspect_schema(m.back)]
    counters = [{t.name: t.sequence for t in s.tables if t.sequence is not None} for s in schemas]
    assert counters[0]["Track"] == 3503 == counters[1]["Track"] == counters[2]["Track"]
    assert counters[0] == counters[1] == counters[2]
    assert len(counters[0]) == 10  # every table with an integer key of its own


# --- changes on one side ------------------------------------------------------------------

_PG_CHANGES = [
    'ALTER TABLE "Album" ALTER COLUMN "Title" TYPE varchar(100)',
    'ALTER TABLE "Artist" ALTER COLUMN "Name" SET NOT NULL',
    'ALTER TABLE "Genre" ADD COLUMN "Code" text NOT NULL DEFAULT \'x\'',
    'ALTER TABLE "Customer" DROP COLUMN "Fax"',
    'DROP INDEX "IFK_TrackAlbumId"',
    'CREATE UNIQUE INDEX "Track_Name" ON "Track" ("TrackId", "Name")',
    'CREATE UNIQUE INDEX "MediaType_Name" ON "MediaType" ("Name")',
    'ALTER TABLE "InvoiceLine" ADD CONSTRAINT "qty_positive" CHECK ("Quantity" > 0)',
    'ALTER TABLE "Invoice" ALTER COLUMN "Total" SET DEFAULT 0',
    'ALTER TABLE "Employee" DROP CONSTRAINT "Employee_ReportsTo_fkey"',
    "SELECT setval(pg_get_serial_sequence('\"MediaType\"', 'MediaTypeId'), 2)",
    'CREATE TABLE "Extra" (id integer)',
    'CREATE VIEW "Long tracks" AS SELECT "Name" FROM "Track" WHERE "Milliseconds" > 600000',
]

_PG_FOUND = [
    # kind, table, name, lossless, a's definition, b's definition
    ("column_type", "Album", "Title", False, "NVARCHAR(160)", "character varying(100)"),
    ("nullability", "Artist", "Name", False, "NULL", "NOT NULL"),
    ("missing_column", "Customer", "Fax", False, '"Fax" NVARCHAR(24)', None),
    ("foreign_key", "Employee", None, True, 'FOREIGN KEY ("ReportsTo") REFERENCES "Employee" ("EmployeeId")', None),
    ("extra_table", "Extra", None, True, None, '"Extra" (id integer)'),
    ("extra_column", "Genre", "Code", True, None, "\"Code\" text NOT NULL DEFAULT 'x'::text"),
    ("default", "Invoice", "Total", True, None, "DEFAULT 0"),
    ("check", "InvoiceLine", "qty_positive", False, None, 'CHECK (("Quantity" > 0))'),
    ("extra_view", "Long tracks", "Long tracks", True, None, None),
    ("index", "MediaType", "MediaType_Name", False, None, 'UNIQUE INDEX "MediaType_Name" ON "MediaType" ("Name")'),
    ("sequence", "MediaType", "MediaType", True, "5", "2"),
    ("index", "Track", "IFK_TrackAlbumId", True, 'INDEX "IFK_TrackAlbumId" ON "Track" ("AlbumId")', None),
    # unique in b, but a's key (TrackId) already keeps it unique
    ("index", "Track", "Track_Name", True, None, 'UNIQUE INDEX "Track_Name" ON "Track" ("TrackId", "Name")'),
]  # fmt: skip


def _found(found: SchemaComparison) -> list[tuple[Any, ...]]:
    return [
        (d.kind, d.table, d.name, d.lossless, d.a_sql, None if d.kind == "extra_view" else d.b_sql)
        for d in found.differences
    ]


def test_changes_made_on_postgresql_are_found(pg_url: str, chinook: Path) -> None:
    assert af.migrate(chinook, pg_url).success
    assert af.compare_schemas(chinook, pg_url).identical
    for statement in _PG_CHANGES:
        sql(pg_url, statement)
    found = af.compare_schemas(chinook, pg_url)
    assert _found(found) == _PG_FOUND
    assert not found.compatible
    view = next(d for d in found.differences if d.kind == "extra_view")
    assert view.b_sql is not None and "600000" in view.b_sql


_SQLITE_CHANGES = """
ALTER TABLE Artist ADD COLUMN Country TEXT;
CREATE INDEX IX_TrackName ON Track (Name);
CREATE TABLE Review (
    ReviewId INTEGER PRIMARY KEY,
    TrackId INTEGER NOT NULL REFERENCES Track (TrackId) ON DELETE CASCADE,
    Stars INTEGER CHECK (Stars BETWEEN 1 AND 5)
);
PRAGMA foreign_keys = OFF;
CREATE TABLE Genre_new (
    GenreId INTEGER PRIMARY KEY,
    Name TEXT CHECK (length(Name) > 0),
    ParentId INTEGER REFERENCES Genre (GenreId)
);
INSERT INTO Genre_new (GenreId, Name) SELECT GenreId, Name FROM Genre;
DROP TABLE Genre;
ALTER TABLE Genre_new RENAME TO Genre;
"""

_SQLITE_FOUND = [
    ("missing_column", "Artist", "Country", False, '"Country" TEXT', None),
    ("missing_column", "Genre", "ParentId", False, '"ParentId" INTEGER', None),
    ("column_type", "Genre", "Name", False, "TEXT", "character varying(120) COLLATE C"),
    ("foreign_key", "Genre", None, True, 'FOREIGN KEY ("ParentId") REFERENCES "Genre" ("GenreId")', None),
    ("check", "Genre", None, True, "CHECK (length(Name) > 0)", None),
    ("missing_table", "Review", None, False,
     '"Review" ("ReviewId" INTEGER PRIMARY KEY, "TrackId" INTEGER NOT NULL, "Stars" INTEGER)', None),
    ("index", "Track", "IX_TrackName", True, 'INDEX "IX_TrackName" ON "Track" ("Name")', None),
]  # fmt: skip


def test_changes_made_on_sqlite_are_found(pg_url: str, chinook: Path) -> None:
    assert af.migrate(chinook, pg_url).success
    conn = sqlite3.connect(chinook)
    conn.executescript(_SQLITE_CHANGES)
    conn.close()
    found = af.compare_schemas(chinook, pg_url)
    assert _found(found) == _SQLITE_FOUND
    # the new table's own definitions, as the report and JSON show them
    review = af.compare_schemas(chinook, pg_url).to_dict()["differences"]
    assert any(d["kind"] == "missing_table" and d["a"]["name"] == "Review" for d in review)
    # and PostgreSQL as the model: the same differences, seen from the other side
    other = af.compare_schemas(pg_url, chinook)
    assert [(d.kind, d.table) for d in other.differences] == [
        ("extra_column", "Artist"),
        ("extra_column", "Genre"),
        ("column_type", "Genre"),
        ("foreign_key", "Genre"),
        ("check", "Genre"),
        ("extra_table", "Review"),
        ("index", "Track"),
    ]


def test_a_rename_given_is_found_as_one(pg_url: str, chinook: Path) -> None:
    assert af.migrate(chinook, pg_url).success
    sql(pg_url, 'ALTER TABLE "Artist" RENAME COLUMN "Name" TO "Title"')
    sql(pg_url, 'ALTER TABLE "Genre" RENAME TO "Kind"')
    plain = af.compare_schemas(chinook, pg_url)
    assert [(d.kind, d.table, d.name) for d in plain.differences] == [
        ("missing_column", "Artist", "Name"),
        ("extra_column", "Artist", "Title"),
        ("missing_table", "Genre", None),
        ("extra_table", "Kind", None),
        ("foreign_key", "Track", None),  # SQLite's, to Genre: a's only
        ("foreign_key", "Track", "Track_GenreId_fkey"),  # to Kind: b's only
    ]
    renames = {"Artist.Title": "Name", "Kind": "Genre"}
    hinted = af.compare_schemas(chinook, pg_url, renames=renames)
    assert _kinds(hinted) == [
        ("renamed_column", "Artist", "Name", True),
        ("renamed_table", "Genre", None, True),
    ]
    outcome = cli("diff", str(chinook), pg_url, "--rename", "Artist.Title=Name", "--rename", "Kind=Genre", "--json")  # fmt: skip
    assert outcome.exit_code == 1, outcome.stderr
    assert [d["kind"] for d in outcome.json()["differences"]] == ["renamed_column", "renamed_table"]


def test_urls_endpoints_schemas_and_the_migration_object(migrated: dict[str, Migrated]) -> None:
    m = migrated["chinook"]
    endpoint = parse_url(m.pg)
    schema = af.inspect_schema(m.sqlite)
    assert af.compare_schemas(schema, endpoint).identical
    assert af.compare_schemas(f"sqlite:///{m.sqlite}", m.pg).identical
    assert af.Migration(m.sqlite, m.pg).compare_schemas().identical
    assert af.Migration(m.pg, m.pg, target_schema="copy").compare_schemas().identical
    with pytest.raises(af.BadInputError, match="--a-schema applies to a database with schemas"):
        af.compare_schemas(m.sqlite, m.pg, a_schema="x")


# --- the command line ----------------------------------------------------------------------


def test_diff_exit_codes_and_json(migrated: dict[str, Migrated], tmp_path: Path) -> None:
    m = migrated["northwind"]
    same = cli("diff", str(m.pg), str(m.back))
    assert (same.exit_code, same.stdout.strip()) == (
        0,
        "a (postgresql) and b (sqlite): no differences",
    )
    differ = cli("diff", str(m.sqlite), m.pg)
    assert differ.exit_code == 1, differ.stderr
    assert differ.stdout.splitlines()[:4] == [
        "a (sqlite) and b (postgresql): 1 difference, rows of a fit in b",
        "",
        "view Invoices",
        "    missing_view    view Invoices is in a only",
    ]
    as_json = cli("diff", str(m.sqlite), m.pg, "--json").json()
    assert (as_json["identical"], as_json["compatible"], as_json["success"]) == (False, True, True)
    assert [(d["kind"], d["table"]) for d in as_json["differences"]] == [
        ("missing_view", "Invoices")
    ]
    assert cli("diff", str(m.pg), str(m.back), "--json").json()["identical"] is True
    copy = cli("diff", m.pg, m.pg, "--b-schema", "copy")
    assert copy.exit_code == 0, copy.stdout + copy.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nowhere.db", "{sqlite}"], "nowhere.db"),
        (["{sqlite}", "{sqlite}", "--rename", "no-equals-sign"], "--rename 'no-equals-sign'"),
        (["{sqlite}", "{sqlite}", "--a-schema", "sales"], "--a-schema applies"),
        (["{sqlite}", "{sqlite}", "--rename", "Nope=Album"], "b has no table 'Nope'"),
    ],
)
def test_diff_bad_input_is_one_paragraph(
    migrated: dict[str, Migrated], args: list[str], named: str
) -> None:
    filled = [a.replace("{sqlite}", str(migrated["chinook"].sqlite)) for a in args]
    assert_one_paragraph_error(cli("diff", *filled), named)
    failed = cli("diff", *filled, "--json")
    assert failed.exit_code == 2
    shape = failed.json()
    assert (shape["success"], shape["differences"]) == (False, [])
    assert named in shape["errors"][0]["message"]


def test_a_servers_date_and_interval_styles_change_no_difference(
    pg_url: str, tmp_path: Path
) -> None:
    """A default or CHECK prints its constants in the session's DateStyle, IntervalStyle and
    TimeZone; a database set to others must compare as one at PostgreSQL's defaults does
    (before, '05/03/2024'::date stood against the copy's '2024-03-05')."""
    sql(
        pg_url,
        "CREATE TABLE ds (id bigint PRIMARY KEY, d date DEFAULT '2024-03-05', "
        "i interval DEFAULT '1 day 2 hours', at timestamptz DEFAULT '2024-03-05 10:00+00', "
        "v timestamp CHECK (v > '2020-01-02 03:04:05'), f float8 DEFAULT 0.1)",
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy).success
    plain = _found(af.compare_schemas(copy, pg_url)), _found(af.compare_schemas(pg_url, copy))
    database_defaults(
        pg_url,
        "DateStyle = 'SQL, DMY'",
        "IntervalStyle = 'sql_standard'",
        "TimeZone = 'America/New_York'",
        "extra_float_digits = 0",
    )
    styled = _found(af.compare_schemas(copy, pg_url)), _found(af.compare_schemas(pg_url, copy))
    assert styled == plain


SHOP = [
    "CREATE TYPE status AS ENUM ('new', 'paid', 'shipped')",
    "CREATE TABLE customers (id serial PRIMARY KEY, "
    "uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE, email text NOT NULL, "
    "created timestamptz NOT NULL DEFAULT now(), prefs jsonb DEFAULT '{}'::jsonb, "
    "tags text[] DEFAULT '{}', CHECK (email LIKE '%@%'))",
    "CREATE UNIQUE INDEX customers_email_lower ON customers (lower(email))",
    "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "customer_id int NOT NULL REFERENCES customers(id) ON DELETE CASCADE, "
    "status status NOT NULL DEFAULT 'new', total numeric(12,2) NOT NULL CHECK (total >= 0), "
    "tax numeric(12,2) GENERATED ALWAYS AS (round(total * 0.2, 2)) STORED, note text)",
    "CREATE INDEX orders_open ON orders (customer_id) WHERE status <> 'shipped'",
    "CREATE VIEW customer_totals AS SELECT c.id, c.email, count(o.id) AS orders, "
    "coalesce(sum(o.total), 0) AS spent FROM customers c LEFT JOIN orders o "
    "ON o.customer_id = c.id GROUP BY c.id, c.email",
    "INSERT INTO customers (email) VALUES ('a@x.org'), ('b@x.org')",
    "INSERT INTO orders (customer_id, status, total) VALUES (1, 'paid', 10.25), (2, 'shipped', 3)",
]


def test_a_postgresql_schema_compares_equal_to_its_sqlite_copy(pg_url: str, tmp_path: Path) -> None:
    """A schema made in PostgreSQL (an enum, a LIKE check, a partial index on the enum, a
    numeric sum in a view, uuid and array defaults), copied into SQLite: the diff sees what
    the copy is, compared in SQLite's terms where the copy was written in them (``LIKE`` as
    ``GLOB``, the sum made exact, ``'{}'`` as ``'[]'``). Before, four differences showed
    that were none; the one left is real: SQLite computes no stored generated column."""
    for statement in SHOP:
        sql(pg_url, statement)
    copy = tmp_path / "shop.db"
    assert af.migrate(pg_url, copy).success
    tax = [("default", "orders", "tax", True)]
    assert _kinds(af.compare_schemas(pg_url, copy)) == tax
    # the other way, SQLite's types read as a migration into PostgreSQL would declare them
    # (INTEGER is bigint) differ from the original's; its view, CHECKs and indexes do not
    reverse = {d.kind for d in af.compare_schemas(copy, pg_url).differences}
    assert reverse.isdisjoint({"view", "check", "index", "missing_view", "extra_view"})
    # the same view, check and index with another meaning are still differences
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP VIEW customer_totals")
        conn.execute(
            "CREATE VIEW customer_totals AS SELECT c.id, c.email, count(o.id) AS orders, "
            "coalesce(sum(o.total), 0) AS spent FROM customers c JOIN orders o "
            "ON o.customer_id = c.id GROUP BY c.id, c.email"
        )
        conn.execute("DROP INDEX orders_open")
        conn.execute("CREATE INDEX orders_open ON orders (customer_id) WHERE status <> 'paid'")
    kinds = {d.kind for d in af.compare_schemas(pg_url, copy).differences}
    assert kinds == {"default", "view", "index"}


def test_an_expression_index_compares_equal_to_its_copy(pg_url: str, tmp_path: Path) -> None:
    """``substr(email, instr(email, '@') + 1)``: the translation casts a position to int
    only where PostgreSQL would not compute an int itself (it drops such a cast when it
    stores the index, and the diff then saw two forms); the values stay SQLite's."""
    source = tmp_path / "idx.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, n INTEGER)")
        conn.execute("CREATE INDEX u_domain ON u (substr(email, instr(email, '@') + 1))")
        conn.execute("CREATE INDEX u_tail ON u (substr(email, n))")
        conn.execute(
            "CREATE VIEW domains AS SELECT id, substr(email, instr(email, '@') + 1) AS d, "
            "substr(email, n) AS t FROM u"
        )
        conn.executemany(
            "INSERT INTO u VALUES (?, ?, ?)",
            [(1, "a@x.org", -3), (2, "no-at", 2), (3, None, None), (4, "@", 0)],
        )
        want = sorted(conn.execute("SELECT * FROM domains").fetchall(), key=str)
    assert af.migrate(source, pg_url).success
    assert af.compare_schemas(source, pg_url).identical
    assert sorted((tuple(r) for r in sql(pg_url, "SELECT * FROM domains")), key=str) == want
