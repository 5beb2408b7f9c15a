"""What a user meets in the first hour (issue 11, item 12): one rule for type-map keys,
the CLI's names as keywords, -v logging every statement, --json on every exit, and
messages and warnings a user can act on."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from tests.conftest import make_sqlite, sql
from tests.integration._cli_helpers import cli, cli_subprocess, with_login

SHOP = """
CREATE TABLE customer (id INTEGER PRIMARY KEY, name NVARCHAR(40) NOT NULL, note Custom_Type);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer(id),
                     total NUMERIC(10,2));
CREATE TABLE tmp_scratch (x INTEGER);
CREATE INDEX orders_customer ON orders(customer);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
"""
SHOP_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "customer": [(1, "Ada", "x"), (2, "Grace", None)],
    "orders": [(1, 1, 150.25), (2, 2, 20), (3, 1, None)],
    "tmp_scratch": [(1,)],
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "shop.sqlite", SHOP, SHOP_ROWS)


def _planned_types(result: af.MigrationResult) -> dict[str, str]:
    assert result.plan is not None
    return {
        f"{t['source']}.{c['name']}": c["target_type"]
        for t in result.plan["tables"]
        for c in t["columns"]
    }


# --- one rule for type-map keys ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "declared"),
    [
        ("nvarchar", "NVARCHAR(40)"),
        ("NVarChar(40)", "NVARCHAR(40)"),
        ("CUSTOM_TYPE", "Custom_Type"),
    ],
)
def test_map_type_matches_keys_as_a_migration_does(shop: Path, key: str, declared: str) -> None:
    column = "customer.name" if declared.startswith("NVARCHAR") else "customer.note"
    mapping = {key: "varchar(50)"}
    planned = _planned_types(af.migrate(shop, dry_run=True, type_mappings=mapping))
    assert planned[column] == "varchar(50)"
    assert af.map_type(declared, type_mappings=mapping) == planned[column]


# --- the CLI's option names are keywords -------------------------------------------------


def _tables_and_views(url: str) -> tuple[set[str], set[str]]:
    rows = sql(
        url,
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public'",
    )
    return {n for n, k in rows if k == "BASE TABLE"}, {n for n, k in rows if k == "VIEW"}


def test_cli_spellings_as_keywords_migrate(shop: Path, pg_url: str) -> None:
    result = af.migrate(
        shop,
        pg_url,
        include=["c*", "orders", "tmp_*"],
        exclude=["tmp_*"],
        type_map={"orders.total": "numeric(12,2)"},
        no_views=True,
    )
    assert result.success, result.errors
    tables, views = _tables_and_views(pg_url)
    assert tables == {"customer", "orders"}
    assert views == set()
    kind = sql(
        pg_url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'public.orders'::regclass AND attname = 'total'",
    )
    assert kind == [("numeric(12,2)",)]
    got = sorted(sql(pg_url, "SELECT id, customer, total::text FROM orders"))
    assert got == [(1, 1, "150.25"), (2, 2, "20.00"), (3, 1, None)]


# --- -v logs every statement, whatever else is printed ------------------------------------

LOGGED = re.compile(r"^arrowferry\.sql (postgresql|sqlite): (.*)$")


def _logged(stderr: str, database: str) -> str:
    """Everything logged as sent to ``database`` (statements may span lines)."""
    out: list[str] = []
    keep = False
    for line in stderr.splitlines():
        match = LOGGED.match(line)
        if match:
            keep = match[1] == database
            line = match[2]
        if keep:
            out.append(line)
    return "\n".join(out)


def test_verbose_logs_every_statement_with_json_and_no_tty(shop: Path, pg_url: str) -> None:
    outcome = cli_subprocess("migrate", str(shop), pg_url, "--json", "-v")
    assert outcome.exit_code == 0, outcome.stderr
    data = outcome.json()  # stdout stays one JSON object
    to_pg = _logged(outcome.stderr, "postgresql")
    assert data["plan"]["tables"] and data["plan"]["finish"]
    for table in data["plan"]["tables"]:
        assert table["ddl"] in to_pg, f"CREATE TABLE of {table['target']} not logged"
        assert f'COPY "public"."{table["target"]}" FROM STDIN' in to_pg
    for stmt in data["plan"]["finish"]:
        assert stmt["sql"] in to_pg, f"finishing statement not logged: {stmt['sql']}"
    assert "SELECT" in _logged(outcome.stderr, "sqlite")  # the source's reads too


def test_verbose_logs_every_statement_into_sqlite(shop: Path, pg_url: str, tmp_path: Path) -> None:
    assert af.migrate(shop, pg_url).success
    out = tmp_path / "back.sqlite"
    outcome = cli_subprocess("migrate", pg_url, str(out), "--json", "-v")
    assert outcome.exit_code == 0, outcome.stderr
    data = outcome.json()
    from_pg = _logged(outcome.stderr, "postgresql")
    assert "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" in from_pg
    assert 'FROM ONLY "public"."orders"' in from_pg
    to_sqlite = _logged(outcome.stderr, "sqlite")
    for table in data["plan"]["tables"]:
        # an AUTOINCREMENT table's definition is written into sqlite_schema, as a parameter
        assert table["ddl"] in to_sqlite or repr(table["ddl"]) in to_sqlite, table["ddl"]
        assert f'INSERT INTO "{table["target"]}"' in to_sqlite
    for stmt in data["plan"]["finish"]:
        assert stmt["sql"] in to_sqlite, f"finishing statement not logged: {stmt['sql']}"
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT id, total FROM orders ORDER BY id").fetchall() == [
            (1, 150.25),
            (2, 20.0),
            (3, None),
        ]


def test_without_verbose_nothing_is_logged(shop: Path) -> None:
    outcome = cli_subprocess("migrate", str(shop), "--dry-run", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert "arrowferry.sql" not in outcome.stderr


# --- --json prints the result's shape on every exit ---------------------------------------


def test_json_on_every_exit_path(shop: Path, pg_url: str, tmp_path: Path) -> None:
    normal = cli("migrate", str(shop), "--dry-run", "--json")
    assert normal.exit_code == 0, normal.stderr
    keys = set(normal.json())
    unreachable = with_login(pg_url, "nobody_here", None).replace("/tmp/", "/nonexistent/")
    cases = {
        "missing SOURCE": ["migrate", "--json"],
        "bad choice": ["migrate", str(shop), "--on-bad-value", "maybe", "--json"],
        "unknown command": ["migrat", str(shop), "--json"],
        "missing file": ["migrate", str(tmp_path / "nope.sqlite"), "--json"],
        "bad --type-map": ["migrate", str(shop), "--type-map", "nonsense", "--json"],
        "connection refused": ["migrate", str(shop), unreachable, "--json"],
        "no tables": ["migrate", str(shop), pg_url, "--include", "zzz", "--json"],
    }
    for case, argv in cases.items():
        outcome = cli(*argv)
        assert outcome.exception is None, (case, outcome.exception)
        assert outcome.exit_code == 2, (case, outcome.stdout, outcome.stderr)
        data = outcome.json()
        assert set(data) == keys, (case, set(data) ^ keys)
        assert data["success"] is False, case
        assert len(data["errors"]) == 1 and data["errors"][0]["message"], case
        message = data["errors"][0]["message"]
        assert message in " ".join(outcome.stderr.split()), (case, message, outcome.stderr)
