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


# --- messages name CLI flags; reject reasons say what keeps the value ----------------------

DIRTY = """
CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, qty INTEGER, price NUMERIC(10,2),
                   blank, note TEXT);
CREATE TABLE one (id INTEGER PRIMARY KEY, x TEXT);
CREATE INDEX item_qty ON item(qty);
CREATE VIEW weird AS SELECT id, note, qty * 2 AS q2, price + 1 AS p1,
    printf('%d-%s-%s-%s-%s-%s', id, note, note, note, note, note) AS pf FROM item;
"""
PYTHON_KEYWORDS = ("type_mappings", "on_bad_value", "include_tables", "drop_tables", "data_only")


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    path = tmp_path / "dirty.sqlite"
    make_sqlite(path, DIRTY)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO item (qty, price, blank, note) VALUES (?, ?, NULL, ?)",
            [(1, 2.5, "a"), ("lots", 3, "b"), (3, 1e22, "c")],
        )
        conn.execute("INSERT INTO one VALUES (1, 'x')")
        conn.execute("ANALYZE")  # makes sqlite_stat1; AUTOINCREMENT made sqlite_sequence
    return path


def _reject_reasons(reject_dir: Path) -> dict[str, str]:
    import json

    lines = (reject_dir / "item.jsonl").read_text().splitlines()
    return {p["column"]: p["reason"] for line in lines for p in json.loads(line)["problems"]}


def test_reject_reasons_name_the_type_map_that_keeps_the_value(
    dirty: Path, pg_url: str, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects"
    # 1e22 in NUMERIC(10,2) is widened by default; kept to its declared size, it is a bad value
    outcome = cli(
        "migrate", str(dirty), pg_url, "--reject-dir", str(rejects), "--size-limits", "enforce"
    )
    assert outcome.exit_code == 1, outcome.everything
    reasons = _reject_reasons(rejects)
    assert reasons["qty"].endswith("; --type-map item.qty=text would keep it"), reasons
    assert reasons["price"].endswith("; --type-map item.price=numeric would keep it"), reasons
    # and it does: the suggested flags keep every value, exactly
    kept = cli(
        "migrate",
        str(dirty),
        pg_url,
        "--drop-tables",
        "--type-map",
        "item.qty=text",
        "--type-map",
        "item.price=numeric",
    )
    assert kept.exit_code == 0, kept.everything
    rows = sql(pg_url, "SELECT id, qty, price::text FROM item ORDER BY id")
    assert rows == [(1, "1", "2.5"), (2, "lots", "3"), (3, "3", "10000000000000000000000")]


def test_messages_name_cli_flags_not_python_keywords(dirty: Path, pg_url: str) -> None:
    failed = cli("migrate", str(dirty), pg_url, "--on-bad-value", "fail", "--include", "item")
    assert failed.exit_code == 1
    assert "--on-bad-value reject" in failed.stdout and "--type-map item.qty=text" in failed.stdout
    exists = cli("migrate", str(dirty), pg_url, "--include", "one")
    assert exists.exit_code == 0, exists.everything
    again = cli("migrate", str(dirty), pg_url, "--include", "one")
    assert (
        again.exit_code == 2 and "--drop-tables" in again.stderr and "--data-only" in again.stderr
    )
    assert "table 'one' already exists" in again.stderr  # one table: singular
    no_match = cli("migrate", str(dirty), pg_url, "--include", "nothing_like_it")
    assert no_match.exit_code == 2 and "--include: no table matches" in no_match.stderr
    small = cli("migrate", str(dirty), pg_url, "--batch-size", "0")
    assert small.exit_code == 2 and "--batch-size must be at least 1" in small.stderr
    with pytest.raises(af.BadInputError, match="--workers must be at least 1"):
        af.migrate(dirty, pg_url, workers=0)  # the API's messages name the flag too
    untyped = af.migrate(dirty, dry_run=True).warnings
    assert any("--type-map item.blank=TYPE" in w for w in untyped), untyped
    for outcome in (failed, exists, again, no_match, small):
        for keyword in PYTHON_KEYWORDS:
            assert keyword not in outcome.everything, (keyword, outcome.everything)
    assert not [w for w in untyped if any(k in w for k in PYTHON_KEYWORDS)], untyped


# --- warnings: said once, about the user's tables, whole, and counted in good English -----


def _warnings_of(summary: str) -> list[str]:
    lines = summary.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(r"^\d+ warnings?$", ln))
    out = []
    for ln in lines[start + 1 :]:
        if not ln.startswith("  - "):
            break
        out.append(ln[4:])
    assert len(out) == int(lines[start].split()[0]), lines[start]
    return out


def test_summary_warnings_once_whole_and_in_good_english(dirty: Path, pg_url: str) -> None:
    outcome = cli_subprocess(
        "migrate",
        str(dirty),
        pg_url,
        "--on-bad-value",
        "null",
        "--size-limits",
        "enforce",  # 1e22 stays a bad value in NUMERIC(10,2)
        env={"COLUMNS": "400"},
    )
    assert outcome.exit_code == 0, outcome.everything
    warnings = _warnings_of(outcome.stdout)
    assert len(warnings) == len(set(warnings)), warnings
    # the NULLs are said by one warning each, and no ledger line says them again
    assert "item.qty: 1 value that could not be stored exactly was stored as NULL" in warnings
    assert "item.price: 1 value that could not be stored exactly was stored as NULL" in warnings
    assert not [w for w in warnings if w.startswith("ledger item.")], warnings
    assert any("it holds only NULLs, so it becomes text" in w for w in warnings), warnings
    # a refused view is named with the server's reason, not a window cut into its SQL
    view = next(w for w in warnings if w.startswith("view 'weird' not created"))
    assert "LINE" not in view and "..." not in view and "printf" in view, view
    assert "2 tables, 4 rows in" in outcome.stdout
    assert "1 index," in outcome.stdout and "0 views" in outcome.stdout
    for text in (outcome.stdout, outcome.stderr):
        assert "(s)" not in text and "sqlite_sequence" not in text and "sqlite_stat1" not in text


def test_internal_tables_are_never_mentioned(dirty: Path, pg_url: str, tmp_path: Path) -> None:
    rejects = ["--reject-dir", str(tmp_path / "rejects")]  # never the working directory
    for argv in (["--dry-run"], ["--dry-run", "--json"], ["--json"]):
        outcome = cli("migrate", str(dirty), pg_url, "--drop-tables", *rejects, *argv)
        assert outcome.exit_code in (0, 1), outcome.everything
        assert "sqlite_sequence" not in outcome.stdout and "sqlite_stat1" not in outcome.stdout
    assert cli("inspect", str(dirty)).stdout.count("sqlite_") == 0


def test_single_table_and_row_are_singular(dirty: Path, pg_url: str) -> None:
    outcome = cli_subprocess("migrate", str(dirty), pg_url, "--include", "one")
    assert outcome.exit_code == 0, outcome.everything
    assert "1 table, 1 row in" in outcome.stdout
    assert "1 table created" in outcome.stdout


@pytest.mark.parametrize("declared", ["NUMERIC(10,2)", "REAL", "INTEGER"])
def test_type_map_to_unbounded_numeric_keeps_wide_values(
    tmp_path: Path, pg_url: str, declared: str
) -> None:
    """The column is measured as a declared unbounded NUMERIC would be: before, a mapped
    column was not, and every value of 10 or more was rejected."""
    path = make_sqlite(
        tmp_path / "wide.sqlite",
        f"CREATE TABLE t (id INTEGER PRIMARY KEY, p {declared});",
        {"t": [(1, 2.5), (2, 123456789.5), (3, 1e22), (4, -7)]},
    )
    result = af.migrate(path, pg_url, type_map=["t.p=numeric"], reject_dir=str(tmp_path / "r"))
    assert result.success, (result.rejected, result.errors)
    got = sql(pg_url, "SELECT id, p::text FROM t ORDER BY id")
    assert got == [(1, "2.5"), (2, "123456789.5"), (3, "10000000000000000000000"), (4, "-7")]


def test_verbose_keyword_shows_statements_then_leaves_logging_as_it_was(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    logger = logging.getLogger("arrowferry")
    before = (logger.level, list(logger.handlers))
    af.migrate(shop, dry_run=True, verbose=True)
    err = capsys.readouterr().err
    assert "arrowferry.sql sqlite: SELECT" in err, err[:500]
    assert (logger.level, list(logger.handlers)) == before
    af.migrate(shop, dry_run=True)
    assert "arrowferry.sql" not in capsys.readouterr().err
