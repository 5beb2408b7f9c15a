"""PostgreSQL -> SQLite: every type family, keys, indexes, constraints, views, bad values,
atomic files and existing targets, against a real PostgreSQL.

The type matrix is one line per case (like sqlglot's ``validate_all``): a PostgreSQL type
and literal, the SQLite declared type, the value read back with the stdlib sqlite3 driver
and its storage class. All cases are columns of one table, migrated once per module.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.errors import ConversionError, LeftoverStateError, SchemaError, TargetExistsError
from tests.conftest import fresh_database, sql
from tests.integration._compare import multiset_difference, pg_view_rows, sqlite_view_rows


@dataclass(frozen=True)
class Case:
    pg_type: str
    literal: str  # SQL literal (NULL allowed)
    declared: str  # SQLite declared type expected
    value: Any  # as sqlite3 reads it back
    storage: str  # typeof() in SQLite


CASES = [
    Case("boolean", "true", "BOOLEAN", 1, "integer"),
    Case("boolean", "false", "BOOLEAN", 0, "integer"),
    Case("smallint", "-32768", "SMALLINT", -32768, "integer"),
    Case("integer", "2147483647", "INTEGER", 2147483647, "integer"),
    Case("bigint", "-9223372036854775808", "INTEGER", -9223372036854775808, "integer"),
    Case("real", "0.1", "REAL", 0.1, "real"),  # not 0.10000000149011612
    Case("real", "3.4028235e38", "REAL", 3.4028235e38, "real"),
    Case("real", "'-Infinity'", "REAL", -math.inf, "real"),
    Case("double precision", "0.30000000000000004", "REAL", 0.30000000000000004, "real"),
    Case("double precision", "5e-324", "REAL", 5e-324, "real"),
    Case("double precision", "'Infinity'", "REAL", math.inf, "real"),
    Case("numeric(12,2)", "12.50", "NUMERIC(12,2)", 12.5, "real"),
    Case("numeric(12,2)", "1234567890.12", "NUMERIC(12,2)", 1234567890.12, "real"),
    Case("numeric(12,2)", "'NaN'", "NUMERIC(12,2)", "NaN", "text"),
    Case("numeric(20,0)", "9223372036854775807", "NUMERIC(20,0)", 9223372036854775807, "integer"),
    Case("numeric", "0.000001", "NUMERIC", 0.000001, "real"),
    Case(
        "numeric(30,5)",
        "1234567890123456789012.12345",
        "DECIMAL_TEXT(30,5)",
        "1234567890123456789012.12345",
        "text",
    ),
    Case("money", "12.34", "NUMERIC", 12.34, "real"),
    Case("text", "'héllo 🙂' || chr(10) || 'x'", "TEXT", "héllo 🙂\nx", "text"),
    Case("text", "''", "TEXT", "", "text"),
    Case("varchar(5)", "'abc'", "VARCHAR(5)", "abc", "text"),
    Case("char(4)", "'ab'", "VARCHAR(4)", "ab  ", "text"),
    Case("bytea", "'\\x00ff41'::bytea", "BLOB", b"\x00\xffA", "blob"),
    Case("date", "'2024-02-29'", "DATE", "2024-02-29", "text"),
    Case("date", "'infinity'", "DATE", "infinity", "text"),
    Case("date", "'0044-03-15 BC'", "DATE", "0044-03-15 BC", "text"),
    Case("time", "'24:00:00'", "TIME", "24:00:00", "text"),
    Case("time", "'12:34:56.789'", "TIME", "12:34:56.789", "text"),
    Case(
        "timestamp",
        "'2024-01-02 03:04:05.123456'",
        "DATETIME",
        "2024-01-02 03:04:05.123456",
        "text",
    ),
    Case("timestamp", "'2024-01-02 03:04:05'", "DATETIME", "2024-01-02 03:04:05", "text"),
    Case("timestamp", "'-infinity'", "DATETIME", "-infinity", "text"),
    Case(
        "timestamptz",
        "'2024-01-02 03:04:05.5+02'",
        "TIMESTAMPTZ",
        "2024-01-02 01:04:05.5+00:00",
        "text",
    ),
    Case("interval", "'1 year 2 mons 3 days 04:05:06.5'", "TEXT", "P1Y2M3DT4H5M6.5S", "text"),
    Case("json", """'{"b": 1, "a": [1.10]}'""", "JSON TEXT", '{"b": 1, "a": [1.10]}', "text"),
    Case("jsonb", """'{"b": 1, "a": [1.10]}'""", "JSON TEXT", '{"a": [1.10], "b": 1}', "text"),
    Case("jsonb", "'123.450'", "JSON TEXT", "123.450", "text"),  # a bare number stays JSON text
    Case(
        "uuid",
        "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
        "UUID",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "text",
    ),
    Case("integer[]", "'{{1,2},{3,4}}'", "JSON TEXT", "[[1,2],[3,4]]", "text"),  # not flattened
    Case("text[]", """'{a,"b c",NULL}'""", "JSON TEXT", '["a","b c",null]', "text"),
    Case("inet", "'192.168.0.1/24'", "TEXT", "192.168.0.1/24", "text"),
    Case("mood", "'happy'", "TEXT", "happy", "text"),
    Case("point", "'(1.5,2)'", "TEXT", "(1.5,2)", "text"),
    Case("integer", "NULL", "INTEGER", None, "null"),
    Case("timestamptz", "NULL", "TIMESTAMPTZ", None, "null"),
    Case("jsonb", "NULL", "JSON TEXT", None, "null"),
]


def _col(i: int) -> str:
    return f"c{i:02d}"


@pytest.fixture(scope="module")
def matrix(
    pg_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sqlite3.Connection]:
    with fresh_database(pg_server) as url:
        sql(url, "CREATE TYPE mood AS ENUM ('sad', 'happy')")
        columns = ", ".join(f"{_col(i)} {c.pg_type}" for i, c in enumerate(CASES))
        sql(url, f"CREATE TABLE matrix (id integer PRIMARY KEY, {columns})")
        values = ", ".join(f"({c.literal})::{c.pg_type}" for c in CASES)
        sql(url, f"INSERT INTO matrix VALUES (1, {values})")
        out = tmp_path_factory.mktemp("matrix") / "matrix.db"
        result = af.migrate(url, out)
        assert result.success, result.to_dict()
        conn = sqlite3.connect(out)
        yield conn
        conn.close()


@pytest.mark.parametrize(
    ("i", "case"),
    list(enumerate(CASES)),
    ids=lambda v: str(v) if isinstance(v, int) else f"{v.pg_type}:{v.literal[:24]}",
)
def test_type_matrix(matrix: sqlite3.Connection, i: int, case: Case) -> None:
    declared = {r[1]: r[2] for r in matrix.execute("PRAGMA table_info(matrix)")}
    assert declared[_col(i)] == case.declared
    value, storage = matrix.execute(f"SELECT {_col(i)}, typeof({_col(i)}) FROM matrix").fetchone()
    assert storage == case.storage
    assert value == case.value and type(value) is type(case.value)


# --- structure ---------------------------------------------------------------------

SHOP = """
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(40) NOT NULL DEFAULT 'anon',
    active boolean NOT NULL DEFAULT true,
    credit numeric(10,2) CHECK (credit >= 0),
    joined timestamptz DEFAULT now()
);
CREATE TABLE orders (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(10,2),
    placed timestamp
);
CREATE TABLE order_lines (
    order_id integer REFERENCES orders (id) ON DELETE CASCADE,
    line smallint,
    sku text,
    PRIMARY KEY (order_id, line)
);
CREATE INDEX orders_customer_placed ON orders (customer_id, placed DESC);
CREATE INDEX customers_email_lower ON customers (lower(email));
CREATE INDEX orders_big ON orders (total) WHERE total > 100;
CREATE VIEW big_orders AS SELECT o.id, c.email, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
INSERT INTO customers (email, credit) SELECT 'c' || g || '@x', g FROM generate_series(1, 50) g;
INSERT INTO orders (customer_id, total, placed) SELECT 1 + g % 50, g * 1.5, '2024-01-01'::timestamp + g * interval '1 day' FROM generate_series(1, 200) g;
INSERT INTO order_lines SELECT o, l, 'sku' || o || '-' || l FROM generate_series(1, 200) o, generate_series(1, 3) l;
DELETE FROM customers WHERE id = 50;
"""


@pytest.fixture
def shop(pg_url: str) -> str:
    for statement in SHOP.split(";"):
        if statement.strip():
            sql(pg_url, statement)
    return pg_url


def _rows(conn: sqlite3.Connection, query: str) -> list[tuple[Any, ...]]:
    return list(conn.execute(query))


def test_schema_keys_indexes_and_views(shop: str, tmp_path: Path) -> None:
    out = tmp_path / "shop.db"
    result = af.migrate(shop, out)
    assert result.success and not result.warnings, result.to_dict()
    assert {t.name: t.rows for t in result.tables} == {
        "customers": 49,
        "orders": 196,  # the cascade removed customer 50's orders
        "order_lines": 588,
    }
    # 3 primary keys, UNIQUE(email), the CHECK and 2 foreign keys; 3 indexes + the unique one
    assert (result.summary.constraints_applied, result.summary.foreign_keys_created) == (7, 2)
    assert result.summary.indexes_created == 4
    conn = sqlite3.connect(out)
    info = {r[1]: r for r in conn.execute("PRAGMA table_info(customers)")}
    assert info["id"][2] == "INTEGER" and info["id"][5] == 1  # the rowid
    assert info["email"][3] == 1 and info["name"][3] == 1  # NOT NULL kept
    create = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'customers'").fetchone()[0]
    assert "AUTOINCREMENT" in create and "CHECK" in create
    # the PostgreSQL sequence's high-water mark survives (id 50 was deleted)
    assert dict(_rows(conn, "SELECT name, seq FROM sqlite_sequence")) == {
        "customers": 50,
        "orders": 200,
    }
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.execute("INSERT INTO customers (email) VALUES ('new@x')")  # defaults work
    new = conn.execute("SELECT id, name, active, joined FROM customers WHERE email = 'new@x'")
    id_, name, active, joined = new.fetchone()
    assert (id_, name, active) == (51, "anon", 1)
    # timestamptz DEFAULT now(): UTC text with the offset, like the migrated values
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+00:00", joined), joined
    indexes = {r[1]: r[2] for r in conn.execute("PRAGMA index_list(orders)")}
    assert {"orders_customer_placed", "orders_big"} <= set(indexes)
    assert any(r[2] == 1 for r in conn.execute("PRAGMA index_list(customers)"))  # unique
    keys = {(r[2], r[3], r[4], r[6]) for r in conn.execute("PRAGMA foreign_key_list(orders)")}
    assert keys == {("customers", "customer_id", "id", "CASCADE")}
    assert _rows(conn, "PRAGMA index_list(order_lines)")  # the composite primary key
    assert conn.execute("SELECT count(*), sum(total) FROM big_orders").fetchone() == (
        sum(1 for g in range(1, 201) if g * 1.5 > 100 and 1 + g % 50 != 50),
        sum(g * 1.5 for g in range(1, 201) if g * 1.5 > 100 and 1 + g % 50 != 50),
    )
    big = multiset_difference(pg_view_rows(shop, "big_orders"), sqlite_view_rows(out, "big_orders"))
    assert not big, big
    conn.commit()  # PRAGMA foreign_keys is a no-op inside a transaction
    conn.execute("PRAGMA foreign_keys = ON")
    assert _rows(conn, "PRAGMA foreign_key_check") == []
    with pytest.raises(sqlite3.IntegrityError):  # the CHECK is live
        conn.execute("INSERT INTO customers (email, credit) VALUES ('neg@x', -1)")
    with pytest.raises(sqlite3.IntegrityError):  # and the foreign key
        conn.execute("INSERT INTO orders (customer_id) VALUES (999)")
    conn.close()
    assert not list(tmp_path.glob("*.arrowferry-partial"))


def test_foreign_key_and_check_violations_are_reported(shop: str, tmp_path: Path) -> None:
    """Rows PostgreSQL never checked (NOT VALID constraints) arrive and are counted."""
    sql(shop, "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey")
    sql(shop, "INSERT INTO orders (customer_id, total) VALUES (777, -5)")
    sql(
        shop,
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID",
    )
    sql(shop, "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0) NOT VALID")
    result = af.migrate(shop, tmp_path / "shop.db")
    issues = {(i["table"], i["kind"]): i["rows"] for i in result.constraint_issues}
    assert issues == {("orders", "foreign_key"): 1, ("orders", "check"): 1}
    assert any("1 row breaks a foreign key (rowid " in w for w in result.warnings)


def test_include_exclude_and_dangling_foreign_key(shop: str, tmp_path: Path) -> None:
    out = tmp_path / "part.db"
    result = af.migrate(shop, out, include_tables=["orders"], create_views=False)
    assert [t.name for t in result.tables] == ["orders"]
    assert any("'customers' is not migrated" in w for w in result.warnings)
    conn = sqlite3.connect(out)
    assert _rows(conn, "PRAGMA foreign_key_list(orders)") == []
    conn.close()


# --- bad values ------------------------------------------------------------------


@pytest.fixture
def with_nan(pg_url: str) -> str:
    sql(pg_url, "CREATE TABLE m (id int PRIMARY KEY, x double precision, y real NOT NULL)")
    sql(pg_url, "INSERT INTO m VALUES (1, 1.5, 1), (2, 'NaN', 2), (3, 3, 'NaN'), (4, NULL, 4)")
    return pg_url


def test_nan_rows_are_rejected_whole(with_nan: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects"
    result = af.migrate(with_nan, tmp_path / "m.db", reject_dir=str(rejects))
    assert not result.success and result.rows_rejected == 2
    assert sorted((r["column"], r["count"]) for r in result.rejected) == [("x", 1), ("y", 1)]
    conn = sqlite3.connect(tmp_path / "m.db")
    assert _rows(conn, "SELECT id, x, y FROM m ORDER BY id") == [(1, 1.5, 1.0), (4, None, 4.0)]
    conn.close()
    import json

    records = [json.loads(line) for line in (rejects / "m.jsonl").read_text().splitlines()]
    assert [r["key"] for r in records] == [{"id": 2}, {"id": 3}]
    assert records[0]["problems"][0]["column"] == "x"
    assert records[0]["row"] == {"id": 2, "x": {"$float": "nan"}, "y": 2.0}


def test_nan_as_null_and_fail(with_nan: str, tmp_path: Path) -> None:
    sql(with_nan, "DELETE FROM m WHERE id = 3")  # y is NOT NULL: NULL would not fit there
    result = af.migrate(with_nan, tmp_path / "n.db", on_bad_value="null")
    assert result.success is True or result.rows_rejected == 0
    conn = sqlite3.connect(tmp_path / "n.db")
    assert _rows(conn, "SELECT id, x FROM m ORDER BY id") == [(1, 1.5), (2, None), (4, None)]
    conn.close()
    assert any("stored as NULL" in w for w in result.warnings)
    failed = af.migrate(with_nan, tmp_path / "f.db", on_bad_value="fail")
    assert not failed.success
    assert "column 'x'" in failed.errors[0].message and "{'id': 2}" in failed.errors[0].message
    assert not (tmp_path / "f.db").exists()  # a run that stopped leaves no file


def test_a_failure_deep_in_a_table_stops_its_read_ahead(pg_url: str, tmp_path: Path) -> None:
    """The server's stream is read on a thread of its own, batches ahead of the
    conversion; a conversion that fails many batches in stops that thread, closes its
    cursor and returns its session: no reader, query or session is left behind."""
    import threading

    sql(pg_url, "CREATE TABLE deep (id int PRIMARY KEY, x double precision, pad text)")
    sql(
        pg_url,
        "INSERT INTO deep SELECT g, CASE WHEN g = 150000 THEN 'NaN' ELSE g / 7.0 END, "
        "repeat('p', 40) FROM generate_series(1, 200000) g",
    )
    out = tmp_path / "deep.db"
    result = af.migrate(pg_url, out, on_bad_value="fail", batch_bytes=64 * 1024)
    assert not result.success
    message = result.errors[0].message
    assert "column 'x'" in message and "{'id': 150000}" in message, message
    assert not out.exists() and not list(tmp_path.iterdir())
    readers = [t for t in threading.enumerate() if t.name == "arrowferry-read"]
    assert readers == []
    import time

    sessions = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'arrowferry'"
    )
    deadline = time.monotonic() + 5  # a closed session's backend exits a moment later
    while sql(pg_url, sessions) != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sql(pg_url, sessions) == [(0,)]


def test_fail_raises_a_typed_error_from_the_converter(with_nan: str) -> None:
    from arrowferry.transfer.transform import Transformer

    plan = af.Migration(with_nan, "unused.db", dry_run=True).plan()
    converter = Transformer(plan.tables[0], "fail")
    import pyarrow as pa

    batch = pa.record_batch(
        {"c0": pa.array([7], pa.int32()), "c1": [float("nan")], "c2": pa.array([1.0], pa.float32())}
    )
    with pytest.raises(ConversionError) as info:
        converter(batch)
    assert (info.value.table, info.value.column, info.value.row) == ("m", "x", {"id": 7})


def test_a_failed_table_leaves_no_file(with_nan: str, tmp_path: Path) -> None:
    """NaN as NULL into a NOT NULL column: refused, naming the row (SQLite's own
    refusal would name neither row nor value), and nothing is left behind."""
    out = tmp_path / "broken.db"
    result = af.migrate(with_nan, out, on_bad_value="null")
    assert not result.success
    message = result.errors[0].message
    for part in ("table 'm'", "column 'y'", "row {'id': 3}", "nan", "NOT NULL"):
        assert part in message, message
    assert not out.exists() and not list(tmp_path.iterdir())


# --- existing targets ------------------------------------------------------------


def test_existing_target_refused_replaced_or_appended(shop: str, tmp_path: Path) -> None:
    out = tmp_path / "shop.db"
    assert af.migrate(shop, out, include_tables=["customers"], create_views=False).success
    with pytest.raises(TargetExistsError, match="customers"):
        af.migrate(shop, out, include_tables=["customers"])
    again = af.migrate(
        shop, out, include_tables=["customers"], drop_tables=True, create_views=False
    )
    assert again.success
    sql(shop, "DELETE FROM customers")
    sql(shop, "INSERT INTO customers (id, email) VALUES (1000, 'late@x')")
    more = af.migrate(shop, out, include_tables=["customers"], data_only=True)
    assert more.success
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT count(*), max(id) FROM customers").fetchone() == (50, 1000)
    conn.close()
    with pytest.raises(SchemaError, match=r"table 'orders' does not exist.* create it first"):
        af.migrate(shop, out, include_tables=["orders"], data_only=True)
    conn = sqlite3.connect(out)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, other TEXT)")
    conn.commit()
    conn.close()
    # the columns are matched per table (issue 14): the table's error, before a row moves
    lacking = af.migrate(shop, out, include_tables=["orders"], data_only=True)
    (error,) = lacking.errors
    assert error.table == "orders" and not lacking.success
    assert "has no columns 'customer_id', 'total', 'placed'" in error.message
    with closing(sqlite3.connect(out)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)


def test_dry_run_writes_nothing(shop: str, tmp_path: Path) -> None:
    out = tmp_path / "dry.db"
    result = af.migrate(shop, out, dry_run=True)
    assert result.plan is not None and not out.exists()
    tables = {t["target"]: t for t in result.plan["tables"]}
    assert tables["customers"]["rows"] == 49
    assert "CREATE TABLE" in tables["orders"]["ddl"]
    kinds = {s["kind"] for s in result.plan["finish"]}
    assert {"unique", "index", "view", "check"} <= kinds


def test_a_table_without_columns_is_named_not_fatal(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TABLE nothing ()")
    sql(pg_url, "CREATE TABLE something (id int, n serial)")
    result = af.migrate(pg_url, tmp_path / "n.db")
    assert result.success and [t.name for t in result.tables] == ["something"]
    assert any("'nothing' has no columns" in w for w in result.warnings)
    assert any("something.n is an identity (or serial) column" in w for w in result.warnings)


def test_names_that_differ_only_in_case_are_refused(pg_url: str, tmp_path: Path) -> None:
    """Two tables the target would give one name refuse the run before anything is
    written, naming both (one name-claiming rule for every target, issue 12: as two
    names PostgreSQL would cut to the same 63 bytes); no file is left."""
    sql(pg_url, 'CREATE TABLE "Users" (id int)')
    sql(pg_url, "CREATE TABLE users (id int)")
    with pytest.raises(SchemaError) as info:
        af.migrate(pg_url, tmp_path / "x.db")
    message = str(info.value)
    assert "'Users'" in message and "'users'" in message and "case" in message
    assert not (tmp_path / "x.db").exists()


def test_source_schema(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE SCHEMA app")
    sql(pg_url, "CREATE TABLE app.t (id int PRIMARY KEY, v text)")
    sql(pg_url, "INSERT INTO app.t VALUES (1, 'x')")
    sql(pg_url, "CREATE VIEW app.v AS SELECT v FROM app.t")
    result = af.migrate(pg_url, tmp_path / "app.db", source_schema="app")
    assert result.success and result.summary.views_created == 1, result.warnings
    rows = pg_view_rows(pg_url, "v", schema="app"), sqlite_view_rows(tmp_path / "app.db", "v")
    assert rows[0] == [("x",)] and not multiset_difference(*rows)
    with pytest.raises(SchemaError, match="'nope' does not exist"):
        af.migrate(pg_url, tmp_path / "none.db", source_schema="nope")


# --- round trips through both directions ---------------------------------------------


@pytest.mark.parametrize("corpus", ["chinook", "northwind"])
def test_corpus_round_trip(
    corpus: str, request: pytest.FixtureRequest, pg_url: str, tmp_path: Path
) -> None:
    """SQLite -> PostgreSQL -> SQLite gives back every row, value and storage class.

    The one expected change: DATETIME text holding a date only ('2016-07-04') comes
    back as the same instant with its time ('2016-07-04 00:00:00'), since a
    PostgreSQL timestamp has no date-only form.
    """
    import datetime as dt

    source: Path = request.getfixturevalue(corpus)
    assert af.migrate(source, pg_url).success
    back = tmp_path / "back.db"
    result = af.migrate(pg_url, back)
    assert result.success, result.to_dict()
    a, b = sqlite3.connect(source), sqlite3.connect(back)
    tables = [
        t
        for (t,) in a.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    assert sorted(t.name for t in result.tables) == sorted(tables)
    for table in tables:
        declared = {r[1]: r[2] for r in a.execute(f'PRAGMA table_info("{table}")')}
        cols = ", ".join(f'"{c}", typeof("{c}")' for c in declared)
        query = f'SELECT {cols} FROM "{table}" ORDER BY rowid'
        want, got = a.execute(query).fetchall(), b.execute(query).fetchall()
        assert len(want) == len(got), table
        for row_a, row_b in zip(want, got, strict=True):
            for k, name in enumerate(declared):
                (va, ta), (vb, tb) = row_a[2 * k : 2 * k + 2], row_b[2 * k : 2 * k + 2]
                if va != vb and declared[name] == "DATETIME" and ta == tb == "text":
                    va, vb = dt.datetime.fromisoformat(va), dt.datetime.fromisoformat(vb)
                assert (va, ta) == (vb, tb), (table, name, row_a)
    a.close()
    b.close()


def test_rejected_parent_rows_make_the_keys_checked(pg_url: str, tmp_path: Path) -> None:
    """A validated foreign key is trusted only while its parent arrives whole."""
    sql(pg_url, "CREATE TABLE parent (id int PRIMARY KEY, x float8)")
    sql(pg_url, "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
    sql(pg_url, "INSERT INTO parent VALUES (1, 1), (2, 'NaN')")
    sql(pg_url, "INSERT INTO child VALUES (10, 1), (20, 2), (30, 2)")
    result = af.migrate(pg_url, tmp_path / "fk.db", reject_dir=str(tmp_path / "rejects"))
    assert result.rows_rejected == 1
    assert result.constraint_issues == [{"table": "child", "kind": "foreign_key", "rows": 2}]
    assert any("child: 2 rows break a foreign key (rowids 20, 30)" in w for w in result.warnings)


def test_partitions_inheritance_domains_and_triggers(pg_url: str, tmp_path: Path) -> None:
    """A partitioned table arrives once, whole; an inheriting table's rows stay its own;
    a domain is its base type; what SQLite cannot hold (triggers, loose sequences) is named."""
    for statement in [
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
        "CREATE TABLE measures (id int, taken date, v positive, PRIMARY KEY (id, taken)) "
        "PARTITION BY RANGE (taken)",
        "CREATE TABLE measures_2023 PARTITION OF measures FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE measures_2024 PARTITION OF measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "INSERT INTO measures VALUES (1, '2023-05-01', 5), (2, '2024-05-01', 6), (3, '2024-06-01', 7)",
        "CREATE TABLE cities (name text, population int)",
        "CREATE TABLE capitals (country text) INHERITS (cities)",
        "INSERT INTO cities VALUES ('Lyon', 500000)",
        "INSERT INTO capitals VALUES ('Paris', 2100000, 'France')",
        "CREATE SEQUENCE invoice_numbers",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
        "CREATE TRIGGER cities_touch BEFORE INSERT ON cities FOR EACH ROW EXECUTE FUNCTION touch()",
    ]:
        sql(pg_url, statement)
    out = tmp_path / "p.db"
    result = af.migrate(pg_url, out)
    assert result.success, result.to_dict()["errors"]
    assert {t.name: t.rows for t in result.tables} == {"measures": 3, "cities": 1, "capitals": 1}
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT id, taken, v, typeof(v) FROM measures ORDER BY id") == [
        (1, "2023-05-01", 5, "integer"),
        (2, "2024-05-01", 6, "integer"),
        (3, "2024-06-01", 7, "integer"),
    ]
    assert _rows(conn, "SELECT name FROM cities") == [("Lyon",)]
    assert _rows(conn, "SELECT name, country FROM capitals") == [("Paris", "France")]
    declared = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(measures)")}
    assert declared["v"] == "INTEGER"
    conn.close()
    assert any("invoice_numbers" in w and "sequence" in w for w in result.warnings)
    assert any("cities.cities_touch" in w and "trigger" in w for w in result.warnings)


def test_large_tables_read_in_parallel_key_ranges(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lanes read key ranges in one shared snapshot; SQLite gets them in key order:
    every row once, the same file as one reader, rejects complete and in order."""
    from arrowferry.dialects.postgresql import source

    monkeypatch.setattr(source, "PIECE_ROWS", 1_000)
    monkeypatch.setattr(source, "SPLIT_MIN_ROWS", 2_000)
    sql(pg_url, "CREATE TABLE t (id bigint PRIMARY KEY, v text, x float8)")
    sql(
        pg_url,
        "INSERT INTO t SELECT g * 7, 'v' || g, CASE WHEN g % 1999 = 0 THEN 'NaN' ELSE g / 3.0 END "
        "FROM generate_series(1, 20000) g",
    )
    dumps = {}
    for lanes in (1, 3):
        out, rejects = tmp_path / f"l{lanes}.db", tmp_path / f"r{lanes}"
        result = af.migrate(pg_url, out, lanes=lanes, reject_dir=str(rejects))
        assert result.tables[0].rows_read == 20_000 and result.rows_rejected == 10
        conn = sqlite3.connect(out)
        dumps[lanes] = _rows(conn, "SELECT id, v, x FROM t ORDER BY rowid")
        conn.close()
        lines = (rejects / "t.jsonl").read_text().splitlines()
        keys = [json.loads(line)["key"]["id"] for line in lines]
        assert keys == [g * 7 for g in range(1999, 20001, 1999)]
    assert dumps[1] == dumps[3]
    assert [r[0] for r in dumps[3]] == [g * 7 for g in range(1, 20001) if g % 1999]


def test_schema_only_and_continue_on_error(with_nan: str, tmp_path: Path) -> None:
    sql(with_nan, "CREATE TABLE ok (id int PRIMARY KEY, v text)")
    sql(with_nan, "INSERT INTO ok VALUES (1, 'x')")
    empty = tmp_path / "schema.db"
    result = af.migrate(with_nan, empty, schema_only=True)
    assert result.success and result.rows_migrated == 0
    conn = sqlite3.connect(empty)
    assert _rows(conn, "SELECT count(*) FROM ok") == [(0,)]
    assert _rows(conn, "SELECT count(*) FROM m") == [(0,)]
    conn.close()
    # m fails (NaN as NULL into NOT NULL y); ok still arrives, and the file is kept
    kept = tmp_path / "kept.db"
    result = af.migrate(with_nan, kept, on_bad_value="null", continue_on_error=True)
    assert not result.success and [e.table for e in result.errors] == ["m"]
    conn = sqlite3.connect(kept)
    tables = _rows(conn, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
    assert tables == [("ok",)]
    conn.close()


def test_type_mappings_follow_the_declared_affinity(pg_url: str, tmp_path: Path) -> None:
    """A numeric mapped to TEXT keeps every digit (no 15-digit guard needed); text mapped
    to a numeric affinity is warned about, since SQLite turns '007' into 7."""
    sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n numeric(30,10), code text)")
    sql(pg_url, "INSERT INTO t VALUES (1, 12345678901234567890.0123456789, '007')")
    out = tmp_path / "m.db"
    result = af.migrate(pg_url, out, type_mappings={"t.n": "TEXT", "t.code": "INTEGER"})
    assert result.success and result.rows_rejected == 0
    assert any("t.code" in w and "'007' becomes 7" in w for w in result.warnings)
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT n, typeof(n), code FROM t") == [
        ("12345678901234567890.0123456789", "text", 7)
    ]
    conn.close()


def test_a_killed_run_leaves_no_file_that_looks_complete(pg_url: str, tmp_path: Path) -> None:
    """SIGKILL in the middle of the load: the target name never appears; the next run
    says an interrupted run is there, and --resume finishes it."""
    import signal
    import subprocess
    import sys
    import time

    sql(pg_url, "CREATE TABLE big (id bigint PRIMARY KEY, v text, x float8)")
    sql(
        pg_url,
        "INSERT INTO big SELECT g, repeat('v', 50) || g, g FROM generate_series(1, 400000) g",
    )
    out = tmp_path / "big.db"
    partial = tmp_path / "big.db.arrowferry-partial"
    child = subprocess.Popen(
        [sys.executable, "-c", f"import arrowferry as af; af.migrate({pg_url!r}, {str(out)!r})"]
    )
    try:
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size > 1_000_000):
            assert child.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert not out.exists()
    with pytest.raises(LeftoverStateError, match="--resume"):
        af.migrate(pg_url, out)
    result = af.migrate(pg_url, out, resume=True)
    assert result.success and result.tables[0].rows == 400_000
    assert not partial.exists()
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT count(*), sum(x) FROM big").fetchone() == (400_000, 80000200000.0)
    conn.close()


def test_enum_columns_keep_their_labels_as_a_check(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'it''s fine')")
    sql(pg_url, "CREATE TABLE diary (id int PRIMARY KEY, m mood, ms mood[])")
    sql(
        pg_url,
        "INSERT INTO diary VALUES (1, 'ok', '{sad,ok}'), (2, NULL, NULL), (3, 'it''s fine', '{}')",
    )
    out = tmp_path / "e.db"
    result = af.migrate(pg_url, out)
    assert result.success and not result.constraint_issues, result.to_dict()
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT m, ms FROM diary ORDER BY id") == [
        ("ok", '["sad","ok"]'),
        (None, None),
        ("it's fine", "[]"),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO diary (id, m) VALUES (4, 'happy')")
    conn.close()


def test_enum_labels_in_index_predicates_and_checks(pg_url: str, tmp_path: Path) -> None:
    """``status <> 'shipped'::status`` in a partial index, a CHECK and an index key: the
    label's text in SQLite, where the column holds its labels (the index and the CHECK
    were left out before: the enum cast read as a CAST by affinity). Each gives the rows
    it gave in PostgreSQL; an order between labels (declaration, not text) is refused."""
    for statement in [
        "CREATE TYPE status AS ENUM ('shipped', 'new', 'paid')",
        "CREATE TABLE orders (id int PRIMARY KEY, s status NOT NULL, n int, "
        "CONSTRAINT paid_has_n CHECK (s <> 'paid'::status OR n IS NOT NULL))",
        "CREATE INDEX open_orders ON orders (id) WHERE s <> 'shipped'::status",
        "CREATE INDEX is_new ON orders ((s = 'new'::status))",
        "CREATE INDEX early ON orders (id) WHERE s < 'new'::status",
        "INSERT INTO orders VALUES (1, 'shipped', NULL), (2, 'new', NULL), (3, 'paid', 4)",
    ]:
        sql(pg_url, statement)
    out = tmp_path / "o.db"
    result = af.migrate(pg_url, out)
    refused = [w for w in result.warnings if "not created" in w or "not migrated" in w]
    assert len(refused) == 1 and "'early'" in refused[0] and "declaration" in refused[0]
    conn = sqlite3.connect(out)
    indexes = {
        r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    }
    assert "WHERE (\"s\" <> 'shipped')" in indexes["open_orders"], indexes
    assert "(\"s\" = 'new')" in indexes["is_new"], indexes
    want = [
        r[0] for r in sql(pg_url, "SELECT id FROM orders WHERE s <> 'shipped'::status ORDER BY id")
    ]
    got = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM orders INDEXED BY open_orders WHERE s <> 'shipped' ORDER BY id"
        )
    ]
    assert got == want == [2, 3]
    with pytest.raises(sqlite3.IntegrityError, match="paid_has_n"):
        conn.execute("INSERT INTO orders VALUES (4, 'paid', NULL)")
    conn.close()


def test_domain_rules_become_the_columns_rules(pg_url: str, tmp_path: Path) -> None:
    """A domain's CHECKs, NOT NULL and default hold a column although none shows on it:
    each becomes the SQLite column's own (VALUE read as the column), through domains of
    domains; a CHECK with no SQLite form is named in a warning, never dropped silently."""
    for statement in [
        "CREATE DOMAIN short_code AS varchar(8) CHECK (length(VALUE) > 1)",
        "CREATE DOMAIN sku AS short_code NOT NULL DEFAULT 'AA' CONSTRAINT sku_upper "
        "CHECK (VALUE = upper(VALUE))",
        "CREATE DOMAIN qty AS integer CHECK (VALUE > 0) CHECK (VALUE < 1000)",
        "CREATE DOMAIN zip AS text CONSTRAINT zip_digits CHECK (VALUE ~ '^[0-9]{5}$')",
        "CREATE TYPE mood AS ENUM ('sad', 'ok')",
        "CREATE DOMAIN calm AS mood DEFAULT 'ok'",
        "CREATE TABLE stock (id int PRIMARY KEY, code sku, n qty, z zip, m calm, "
        "spare qty DEFAULT 7)",
        "INSERT INTO stock VALUES (1, 'AB', 5, '12345', 'sad', 1), (2, 'XYZ', 999, NULL, NULL, 2)",
    ]:
        sql(pg_url, statement)
    out = tmp_path / "d.db"
    result = af.migrate(pg_url, out)
    assert result.success and not result.constraint_issues, result.to_dict()
    assert any("zip_digits" in w and "not migrated" in w for w in result.warnings), result.warnings
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT * FROM stock ORDER BY id") == [
        (1, "AB", 5, "12345", "sad", 1),
        (2, "XYZ", 999, None, None, 2),
    ]
    info = {r[1]: r for r in conn.execute("PRAGMA table_info(stock)")}
    assert info["code"][2] == "VARCHAR(8)"  # the innermost base type, with its length
    assert info["code"][3] == 1  # NOT NULL, from the domain
    conn.execute("INSERT INTO stock (id, n) VALUES (3, 1)")
    # the domain's default, the enum's default through its domain, the column's own default
    assert _rows(conn, "SELECT code, m, spare FROM stock WHERE id = 3") == [("AA", "ok", 7)]
    for bad in [
        "INSERT INTO stock (id, code, n) VALUES (4, 'A', 1)",  # short_code's CHECK
        "INSERT INTO stock (id, code, n) VALUES (4, 'ab', 1)",  # sku's own CHECK
        "INSERT INTO stock (id, n) VALUES (4, 0)",  # qty > 0
        "INSERT INTO stock (id, n) VALUES (4, 1000)",  # qty < 1000
        "INSERT INTO stock (id, n, spare) VALUES (4, 1, -1)",  # qty on another column
        "INSERT INTO stock (id, n, m) VALUES (4, 1, 'happy')",  # the enum under the domain
    ]:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(bad)
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        conn.execute("INSERT INTO stock (id, code, n) VALUES (4, NULL, 1)")
    conn.close()


def test_constant_defaults_give_new_rows_the_migrated_values(pg_url: str, tmp_path: Path) -> None:
    """A row PostgreSQL filled from its defaults is migrated as data; a row SQLite fills
    from the migrated defaults must equal it, value and storage class. Translated, many
    of these (``'{}'::jsonb``, uuid, interval, enum casts) would be SQLite CASTs by type
    affinity: 0 or 1."""
    sql(pg_url, "CREATE TYPE mood AS ENUM ('sad', 'ok')")
    columns = {
        "j": "jsonb DEFAULT '{}'::jsonb",
        "js": "json DEFAULT '[1, 2]'::json",
        "u": "uuid DEFAULT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid",
        "iv": "interval DEFAULT '1 day 02:00'::interval",
        "b": "boolean DEFAULT true",
        "n": "numeric(10,2) DEFAULT 1.50",
        "w": "numeric DEFAULT 12345678901234567890.5",
        "t": "text DEFAULT 'it''s'::text",
        "a": "integer[] DEFAULT '{1,2}'::integer[]",
        "ts": "timestamp DEFAULT '2020-01-01 10:00'::timestamp",
        "tz": "timestamptz DEFAULT '2020-01-01 10:00+02'::timestamptz",
        "d": "date DEFAULT '2020-02-29'::date",
        "by": "bytea DEFAULT '\\x00ff'::bytea",
        "inf": "float8 DEFAULT 'Infinity'::float8",
        "r": "real DEFAULT 0.1",
        "m": "mood DEFAULT 'ok'::mood",
        "cash": "money DEFAULT 12.34",
        "neg": "integer DEFAULT -5",
    }
    sql(
        pg_url,
        f"CREATE TABLE dflt (id int PRIMARY KEY, "
        f"{', '.join(f'{k} {v}' for k, v in columns.items())}, "
        "s text CHECK (s IN ('a', 'b')), ns text CHECK (ns NOT IN ('x', 'y')))",
    )
    sql(pg_url, "INSERT INTO dflt (id) VALUES (1)")
    out = tmp_path / "dflt.db"
    result = af.migrate(pg_url, out)
    assert result.success and not result.constraint_issues, result.to_dict()
    assert not [w for w in result.warnings if "default" in w or "CHECK" in w], result.warnings
    conn = sqlite3.connect(out)
    conn.execute("INSERT INTO dflt (id) VALUES (2)")
    names = list(columns)
    typed = ", ".join(f"{c}, typeof({c})" for c in names)
    migrated, fresh = _rows(conn, f"SELECT {typed} FROM dflt ORDER BY id")

    def by_column(row: tuple[Any, ...]) -> dict[str, tuple[Any, Any]]:
        return {n: (row[2 * i], row[2 * i + 1]) for i, n in enumerate(names)}

    assert by_column(fresh) == by_column(migrated)
    assert migrated[names.index("j") * 2] == "{}"  # not 0
    # PostgreSQL's IN lists (stored as = ANY / <> ALL of an array) hold in SQLite too
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO dflt (id, s) VALUES (3, 'c')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO dflt (id, ns) VALUES (3, 'x')")
    conn.execute("INSERT INTO dflt (id, s, ns) VALUES (3, 'a', 'z')")
    conn.close()


def test_defaults_with_no_faithful_sqlite_form_are_named(pg_url: str, tmp_path: Path) -> None:
    sql(
        pg_url,
        "CREATE TABLE later (id int PRIMARY KEY, due timestamp DEFAULT (now() + '1 day'::interval), "
        "ok timestamptz DEFAULT now())",
    )
    # a default its own domain refuses: PostgreSQL accepts the definition, fails each insert
    sql(pg_url, "CREATE DOMAIN strict_pos AS integer DEFAULT 0 CHECK (VALUE > 0)")
    sql(pg_url, "CREATE TABLE picky (id int PRIMARY KEY, sp strict_pos)")
    sql(pg_url, "INSERT INTO picky VALUES (1, 5)")
    out = tmp_path / "later.db"
    result = af.migrate(pg_url, out)
    assert result.success, result.to_dict()
    assert any("later.due" in w and "INTERVAL" in w for w in result.warnings), result.warnings
    assert not any("later.ok" in w for w in result.warnings), result.warnings
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT * FROM picky") == [(1, 5)]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO picky (id) VALUES (2)")  # as in PostgreSQL
    conn.close()


def test_views_keep_in_lists_and_refuse_casts_sqlite_would_change(
    pg_url: str, tmp_path: Path
) -> None:
    sql(pg_url, "CREATE TABLE tickets (id int PRIMARY KEY, state text, meta jsonb)")
    sql(
        pg_url,
        "INSERT INTO tickets VALUES (1, 'open', '{}'), (2, 'closed', '{}'), (3, 'new', '{}')",
    )
    sql(pg_url, "CREATE VIEW live AS SELECT id FROM tickets WHERE state IN ('open', 'new')")
    sql(pg_url, "CREATE VIEW done AS SELECT id FROM tickets WHERE state NOT IN ('open', 'new')")
    sql(pg_url, "CREATE VIEW tagged AS SELECT id, meta || '{\"v\": 1}'::jsonb AS meta FROM tickets")
    out = tmp_path / "v.db"
    result = af.migrate(pg_url, out)
    assert result.success and result.summary.views_created == 2, result.to_dict()
    assert any("'tagged'" in w and "JSONB" in w for w in result.warnings), result.warnings
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT id FROM live ORDER BY id") == [(1,), (3,)]
    assert _rows(conn, "SELECT id FROM done ORDER BY id") == [(2,)]
    conn.close()
    for name in ("live", "done"):
        diff = multiset_difference(pg_view_rows(pg_url, name), sqlite_view_rows(out, name))
        assert not diff, (name, diff)


def test_like_keeps_postgresql_case_and_escape_rules(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL's LIKE respects case and escapes with a backslash; SQLite's ignores
    ASCII case and escapes nothing. Each view returns in SQLite the rows it returns in
    PostgreSQL, and a LIKE CHECK refuses in SQLite what it refused in PostgreSQL."""
    sql(pg_url, "CREATE TABLE words (id int PRIMARY KEY, w text CHECK (w NOT LIKE 'X%'))")
    sql(
        pg_url,
        "INSERT INTO words VALUES (1, 'Apple'), (2, 'apple'), (3, 'a_b'), (4, 'aXb'), "
        "(5, 'a%b'), (6, 'Éclair'), (7, 'éclair'), (8, 'x*y'), (9, NULL)",
    )
    views = {
        "upper_a": "SELECT id FROM words WHERE w LIKE 'A%'",
        "any_a": "SELECT id FROM words WHERE w ILIKE 'a%'",
        "literal_underscore": "SELECT id FROM words WHERE w LIKE 'a\\_b'",
        "not_p": "SELECT id FROM words WHERE w NOT LIKE '%p%'",
        "accented": "SELECT id FROM words WHERE w LIKE 'É%'",
        "star": "SELECT id FROM words WHERE w LIKE '%*%'",
    }
    for name, body in views.items():
        sql(pg_url, f"CREATE VIEW {name} AS {body}")
    sql(pg_url, "CREATE VIEW by_column AS SELECT a.id FROM words a JOIN words b ON a.w LIKE b.w")
    out = tmp_path / "like.db"
    result = af.migrate(pg_url, out)
    assert result.success, result.to_dict()
    assert result.summary.views_created == len(views), result.warnings
    assert any("'by_column'" in w for w in result.warnings), result.warnings
    for name in views:
        want, got = pg_view_rows(pg_url, name), sqlite_view_rows(out, name)
        assert not multiset_difference(want, got), (name, multiset_difference(want, got))
        assert 0 < len(want) < 9, (name, want)
    conn = sqlite3.connect(out)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO words VALUES (10, 'Xylophone')")
    conn.execute("INSERT INTO words VALUES (10, 'xylophone')")  # as PostgreSQL allows
    conn.close()


def test_view_casts_that_mean_another_value_in_sqlite_are_refused(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL rounds ``2.7::integer`` to 3 where SQLite's CAST truncates to 2, rounds
    to a numeric's scale, and prints true as 'true' where SQLite prints 1: such a view is
    named in a warning; casts that mean the same are kept, and return the same rows."""
    sql(
        pg_url,
        "CREATE TABLE nums (id int PRIMARY KEY, x numeric, n int, f boolean, t text, "
        "ts timestamp, tz timestamptz, y numeric DEFAULT 2)",
    )
    sql(
        pg_url,
        "INSERT INTO nums VALUES (1, 2.7, 5, true, 'a', '2024-01-05 13:04:05', now()), "
        "(2, -2.5, 6, false, 'b', '2024-12-31 00:00:59', now()), (3, 5, 7, NULL, 'c', NULL, NULL)",
    )
    refused = {
        "rounded": "SELECT id, (x * 1)::integer AS c FROM nums",
        "scaled": "SELECT id, x::numeric(10,0) AS c FROM nums",
        "flag_text": "SELECT id, f::text AS c FROM nums",
        # to_char codes strftime prints otherwise (or not at all)
        "month_name": "SELECT id, to_char(ts, 'Mon DD') AS c FROM nums",
        "since_midnight": "SELECT id, to_char(ts, 'SSSS') AS c FROM nums",
        "number_format": "SELECT id, to_char(x, '999.99') AS c FROM nums",
        "session_zone": "SELECT id, to_char(tz, 'YYYY') AS c FROM nums",
    }
    kept = {
        "int_column": "SELECT id, n::bigint AS c FROM nums",
        "counted": "SELECT count(*)::integer AS c, 1 AS id FROM nums",
        "text_column": "SELECT id, (t || n::text)::text AS c FROM nums",
        "flag_int": "SELECT id, f::integer AS c FROM nums",
        "iso": "SELECT id, to_char(ts, 'YYYY-MM-DD HH24:MI:SS, DDD') AS c FROM nums",
        # SQLite keeps the integral numerics 5 and 2 as INTEGERs: 5 / 2 must not be 2
        "halves": "SELECT id, x / y AS c FROM nums",
    }
    for name, body in {**refused, **kept}.items():
        sql(pg_url, f"CREATE VIEW {name} AS {body}")
    out = tmp_path / "casts.db"
    result = af.migrate(pg_url, out)
    assert result.success, result.to_dict()
    for name in refused:
        assert any(f"'{name}'" in w for w in result.warnings), (name, result.warnings)
    assert result.summary.views_created == len(kept), result.warnings
    for name in kept:
        # numeric division in PostgreSQL, a double in SQLite: the same number (normalised)
        diff = multiset_difference(pg_view_rows(pg_url, name), sqlite_view_rows(out, name))
        assert not diff, (name, diff)


def test_awkward_identifiers(pg_url: str, tmp_path: Path) -> None:
    """Quotes, spaces, reserved words and non-ASCII names survive the DDL, the ingest
    (columns matched by name), indexes and views."""
    for statement in [
        'CREATE TABLE "Order ""Details""" ("Unit""Price" numeric(10,2), "select" text, '
        '"ünï" int PRIMARY KEY, "a b" boolean)',
        'INSERT INTO "Order ""Details""" VALUES (1.5, \'x\', 1, true), (2.25, \'y\', 2, NULL)',
        'CREATE INDEX "idx ""q""" ON "Order ""Details""" ("select")',
        'CREATE VIEW "v ""1""" AS SELECT "select" FROM "Order ""Details"""',
    ]:
        sql(pg_url, statement)
    out = tmp_path / "w.db"
    result = af.migrate(pg_url, out)
    assert result.success and not result.warnings, result.to_dict()
    conn = sqlite3.connect(out)
    assert _rows(conn, 'SELECT * FROM "Order ""Details""" ORDER BY 3') == [
        (1.5, "x", 1, 1),
        (2.25, "y", 2, None),
    ]
    assert _rows(conn, 'SELECT * FROM "v ""1"""') == [("x",), ("y",)]
    assert _rows(conn, "PRAGMA index_list('Order \"Details\"')")[0][1] == 'idx "q"'
    conn.close()


def test_bc_dates_come_back_exactly(pg_url: str, pg_server: str, tmp_path: Path) -> None:
    """BC values reach SQLite as PostgreSQL writes them, and the way back reads that text
    exactly; infinity and years past 9999 have no form the way back reads, so their rows
    are rejected by name, never changed."""
    sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, d date, ts timestamp, tz timestamptz)")
    sql(
        pg_url,
        "INSERT INTO t VALUES "
        "(1, '0044-03-15 BC', '0044-03-15 12:34:56.5 BC', '0044-03-15 12:34:56.5+05:30 BC'),"
        "(2, '4714-11-24 BC', '4714-11-24 00:00:00 BC', '4714-11-24 23:59:59.999999+00 BC'),"
        "(3, '0001-12-31 BC', '0001-12-31 23:59:59 BC', '0001-01-01 00:30:00+01'),"
        "(4, '0045-02-29 BC', '0001-01-01 00:00:00', '1850-01-01 00:00:00+00:19:32'),"
        "(5, 'infinity', '-infinity', 'infinity'),"
        "(6, '12345-06-07', '2020-01-01 00:00:00', '2020-01-01 00:00:00+00')",
    )
    out = tmp_path / "bc.db"
    assert af.migrate(pg_url, out).success
    conn = sqlite3.connect(out)
    assert _rows(conn, "SELECT d, ts, tz FROM t WHERE id = 1") == [
        ("0044-03-15 BC", "0044-03-15 12:34:56.5 BC", "0044-03-15 07:04:56.5+00 BC")
    ]
    conn.close()
    text = "SELECT id, d::text, ts::text, (tz AT TIME ZONE 'UTC')::text FROM t ORDER BY id"
    with fresh_database(pg_server) as back:
        result = af.migrate(out, back, reject_dir=str(tmp_path / "rejects"))
        assert result.rows_rejected == 2
        records = (tmp_path / "rejects" / "t.jsonl").read_text().splitlines()
        problems = [(p["column"], p["value"]) for r in records for p in json.loads(r)["problems"]]
        assert problems == [
            ("d", "infinity"), ("ts", "-infinity"), ("tz", "infinity"), ("d", "12345-06-07")
        ]  # fmt: skip
        assert sql(back, text) == [r for r in sql(pg_url, text) if r[0] <= 4]


def test_a_unique_index_a_foreign_key_references_is_kept(pg_url: str, tmp_path: Path) -> None:
    """A foreign key's conindid names the index it references: that index is an index of
    the referenced table, not a constraint's, and must not be lost."""
    for statement in (
        "CREATE TABLE p (id int PRIMARY KEY, code text NOT NULL)",
        "CREATE UNIQUE INDEX p_code ON p (code)",
        "CREATE TABLE c (id int PRIMARY KEY, code text REFERENCES p (code))",
        "INSERT INTO p VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO c VALUES (1, 'b')",
    ):
        sql(pg_url, statement)
    target = tmp_path / "kept.sqlite"
    result = af.migrate(pg_url, target)
    assert result.success, result.to_dict()
    with sqlite3.connect(target) as conn:
        found = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'p'"
        ).fetchall()
        assert [n for n, _ in found] == ["p_code"], found
        assert "UNIQUE" in found[0][1]
        assert conn.execute("SELECT p.id FROM c JOIN p USING (code)").fetchall() == [(2,)]
