"""Rows into a schema the application made (issue 14): the cut-over case.

The SQLite side holds what an application writes there (0/1 booleans, ISO text
timestamps with and without an offset, UUID text, JSON text, a role as text, a JSON
array of tags); the PostgreSQL side is what its migrations made (timestamptz, uuid, an
enum, jsonb, text[], varchar(n), bigserial keys, an extra defaulted column, another
column order). Every value is compared as PostgreSQL returns it, and the dry run's
prediction is held to what the run then rejects.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.errors import SchemaError
from tests.conftest import make_sqlite, sql

APP_SQLITE = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, is_admin INTEGER,
  created_at TEXT, uid TEXT, prefs TEXT, role TEXT, tags TEXT, balance REAL, visits INTEGER);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id),
  Title TEXT, published INTEGER);
"""

APP_PG = """
CREATE TYPE role AS ENUM ('admin', 'member');
CREATE TABLE users (
  id bigserial PRIMARY KEY, uid uuid, email varchar(255) NOT NULL,
  is_admin boolean NOT NULL DEFAULT false, created_at timestamptz, prefs jsonb, role role,
  tags text[], balance numeric(12,2), visits integer,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX users_email ON users (lower(email));
CREATE TABLE posts (id serial PRIMARY KEY, user_id bigint REFERENCES users(id),
  title varchar(20), published boolean);
"""

U1 = "5b6f9a57-6f2b-4a49-9c2f-0f3f0e6e6a11"
U2 = "6B6F9A57-6F2B-4A49-9C2F-0F3F0E6E6A12"
USERS = [
    (1, "a@x.io", 1, "2024-01-02 03:04:05", U1, '{"a": 1}', "admin", '["x", "y"]', 12.5, 7),
    (2, "b@x.io", 0, "2024-01-02T03:04:05Z", U2, "{}", "member", "[]", 0.1, None),
    (3, "ç@x.io", 1, "2024-06-30 23:59:59.123+02:00", None, None, None, None, None, 2**31 - 1),
]
POSTS = [(1, 1, "hello", 1), (2, 2, "wörld", 0), (3, None, "", 1)]


def _app(tmp_path: Path, pg_url: str, users: Any = USERS, posts: Any = POSTS) -> Path:
    source = make_sqlite(tmp_path / "app.db", APP_SQLITE, {"users": users, "posts": posts})
    _schema(pg_url)
    return source


def _schema(pg_url: str) -> None:
    for statement in APP_PG.split(";"):
        if statement.strip():
            sql(pg_url, statement)


def _constraints(pg_url: str) -> list[tuple[Any, ...]]:
    return sql(
        pg_url,
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    ) + sql(
        pg_url,
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' ORDER BY 1, 2",
    )


def test_rows_land_in_the_applications_types(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url)
    before = _constraints(pg_url)
    result = af.migrate(source, pg_url, data_only=True)
    assert result.success, (result.errors, result.warnings)
    got = sql(
        pg_url,
        "SELECT id, email, is_admin, created_at AT TIME ZONE 'UTC', uid::text, prefs::text, "
        "role::text, tags::text, balance::text, visits, updated_at IS NOT NULL "
        "FROM users ORDER BY id",
    )
    assert got == [
        (
            1,
            "a@x.io",
            True,
            datetime(2024, 1, 2, 3, 4, 5),
            U1,
            '{"a": 1}',
            "admin",
            "{x,y}",
            "12.50",
            7,
            True,
        ),
        # upper-case UUID text becomes the uuid; 'Z' and '+02:00' offsets go to UTC
        (
            2,
            "b@x.io",
            False,
            datetime(2024, 1, 2, 3, 4, 5),
            U2.lower(),
            "{}",
            "member",
            "{}",
            "0.10",
            None,
            True,
        ),
        (
            3,
            "ç@x.io",
            True,
            datetime(2024, 6, 30, 21, 59, 59, 123000),
            None,
            None,
            None,
            None,
            None,
            2**31 - 1,
            True,
        ),
    ]
    # Title matched title case-insensitively; NULL user_id stays NULL
    assert sql(pg_url, "SELECT id, user_id, title, published FROM posts ORDER BY id") == [
        (1, 1, "hello", True),
        (2, 2, "wörld", False),
        (3, None, "", True),
    ]
    # the target's indexes and constraints are the user's, untouched
    assert _constraints(pg_url) == before
    # the counters end past the copied ids: the application inserts next
    assert sql(pg_url, "INSERT INTO users (email) VALUES ('new') RETURNING id") == [(4,)]
    assert sql(pg_url, "INSERT INTO posts (title) VALUES ('n') RETURNING id") == [(4,)]
    said = " ".join(result.warnings)
    assert "updated_at" in said and "keeps its default" in said
    assert "foreign key" in said and "re-created" in said


def test_a_sequence_already_ahead_is_not_moved_back(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url)
    sql(pg_url, "SELECT setval('users_id_seq', 500)")
    sql(pg_url, "SELECT setval('posts_id_seq', 300, false)")  # next is 300, never called
    assert af.migrate(source, pg_url, data_only=True).success
    assert sql(pg_url, "SELECT nextval('users_id_seq')") == [(501,)]
    assert sql(pg_url, "SELECT nextval('posts_id_seq')") == [(300,)]


BAD_USERS = [
    *USERS,
    (4, "d@x.io", 1, "yesterday", "not-a-uuid", "{bad", "superuser", '[1, "a"', 1e13, 2**31),
]
BAD_POSTS = [*POSTS, (4, 1, "x" * 21, 2)]


def test_values_that_do_not_fit_are_predicted_then_rejected(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url, BAD_USERS, BAD_POSTS)
    dry = af.migrate(source, pg_url, data_only=True, dry_run=True)
    assert sql(pg_url, "SELECT count(*) FROM users") == [(0,)]
    assert dry.plan is not None
    predicted = {
        (t["target"], c["name"]): c["misfits"]["count"]
        for t in dry.plan["tables"]
        for c in t["columns"]
        if "misfits" in c
    }
    expected = {
        ("users", c): 1 for c in ("created_at", "uid", "prefs", "role", "tags", "balance", "visits")
    } | {("posts", "title"): 1, ("posts", "published"): 1}
    assert predicted == expected
    examples = {
        c["name"]: c["misfits"]["examples"][0]
        for t in dry.plan["tables"]
        for c in t["columns"]
        if "misfits" in c
    }
    assert examples["role"]["value"] == "superuser" and "labels" in examples["role"]["reason"]
    assert examples["visits"]["value"] == 2**31
    assert "users.role" in examples["role"]["reason"]  # the user's column, not a type map

    run = af.migrate(source, pg_url, data_only=True, reject_dir=tmp_path / "rejects")
    assert run.rows_rejected == 2 and not run.success
    rejected = {
        (t, json.loads(line)["problems"][0]["column"])
        for t in ("users", "posts")
        for line in (tmp_path / "rejects" / f"{t}.jsonl").read_text().splitlines()
    }
    assert {t for t, _ in rejected} == {"users", "posts"}
    assert sql(pg_url, "SELECT id FROM users ORDER BY id") == [(1,), (2,), (3,)]
    assert sql(pg_url, "SELECT id FROM posts ORDER BY id") == [(1,), (2,), (3,)]


def test_strict_schema_stops_before_any_row_moves(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url, BAD_USERS, BAD_POSTS)
    result = af.migrate(source, pg_url, data_only=True, strict_schema=True)
    assert not result.success
    messages = {e.table: e.message for e in result.errors}
    assert set(messages) == {"users", "posts"}
    assert "--strict-schema" in messages["users"] and "role" in messages["users"]
    assert sql(pg_url, "SELECT count(*) FROM users") == [(0,)]
    # clean data passes the same gate
    clean = make_sqlite(tmp_path / "clean.db", APP_SQLITE, {"users": USERS, "posts": POSTS})
    assert af.migrate(clean, pg_url, data_only=True, strict_schema=True).success
    assert sql(pg_url, "SELECT count(*) FROM users") == [(3,)]


def test_columns_matched_mapped_or_left_behind(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "m.db",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, Mail TEXT, nick TEXT, junk TEXT);",
        {"people": [(1, "a@x", "al", "j")]},
    )
    sql(
        pg_url,
        "CREATE TABLE people (id int PRIMARY KEY, mail text, handle text, "
        "seen int NOT NULL DEFAULT 0)",
    )
    missing = af.migrate(source, pg_url, data_only=True)
    (error,) = missing.errors
    assert "'nick'" in error.message and "--column-map" in error.message
    assert sql(pg_url, "SELECT count(*) FROM people") == [(0,)]

    done = af.migrate(
        source,
        pg_url,
        data_only=True,
        column_map=["people.nick=handle"],
        ignore_missing_columns=True,
    )
    assert done.success, done.errors
    assert sql(pg_url, "SELECT id, mail, handle, seen FROM people") == [(1, "a@x", "al", 0)]
    assert any("'junk' left behind" in w for w in done.warnings)

    sql(pg_url, "CREATE TABLE people2 (id int PRIMARY KEY, needed text NOT NULL)")
    make_sqlite(
        tmp_path / "m2.db", "CREATE TABLE people2 (id INTEGER PRIMARY KEY);", {"people2": [(1,)]}
    )
    needs = af.migrate(tmp_path / "m2.db", pg_url, data_only=True)
    (error,) = needs.errors
    assert "'needed'" in error.message and "NOT NULL without a default" in error.message


def test_reverse_into_a_sqlite_schema_follows_its_affinities(tmp_path: Path, pg_url: str) -> None:
    _schema(pg_url)
    sql(
        pg_url,
        f"INSERT INTO users (id, uid, email, is_admin, created_at, prefs, role, tags, balance, "
        f"visits) VALUES (1, '{U1}', 'a@x.io', true, '2024-01-02 03:04:05+00', "
        "'{\"a\": 1}', 'admin', '{x,y}', 12.5, 7)",
    )
    target = make_sqlite(
        tmp_path / "django.db",
        # as Django's SQLite backend declares them
        'CREATE TABLE "users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "uid" char(32), '
        '"email" varchar(255) NOT NULL, "is_admin" bool NOT NULL, "created_at" datetime, '
        '"prefs" text, "role" varchar(10), "tags" text, "balance" decimal, "visits" integer, '
        '"updated_at" datetime NOT NULL, "extra" text DEFAULT \'x\');'
        'CREATE TABLE "posts" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
        '"user_id" bigint NULL REFERENCES "users" ("id"), "title" varchar(20), "published" bool);',
    )
    result = af.migrate(pg_url, target, data_only=True)
    assert result.success, (result.errors, result.warnings)
    with closing(sqlite3.connect(target)) as conn:
        row = conn.execute(
            "SELECT id, uid, email, is_admin, typeof(is_admin), created_at, prefs, role, tags, "
            "balance, typeof(balance), visits, extra FROM users"
        ).fetchone()
        assert row == (
            1,
            U1.replace("-", ""),  # CHAR(32): the ORM's 32 hex digits
            "a@x.io",
            1,
            "integer",
            "2024-01-02 03:04:05",
            '{"a": 1}',
            "admin",
            '["x","y"]',
            12.5,
            "real",
            7,
            "x",
        )
        assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'users'").fetchone() == (
            1,
        )


def test_dry_run_names_unmatched_and_writes_nothing(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url)
    result = af.migrate(source, pg_url, data_only=True, dry_run=True)
    assert result.success and result.plan is not None
    users = next(t for t in result.plan["tables"] if t["target"] == "users")
    types = {c["name"]: c["target_type"] for c in users["columns"]}
    assert types["created_at"] == "timestamp with time zone" and types["role"] == "role"
    assert types["tags"] == "text[]" and types["email"] == "character varying(255)"
    posts = next(t for t in result.plan["tables"] if t["target"] == "posts")
    assert {c["name"]: c.get("source") for c in posts["columns"]}["title"] == "Title"
    assert sql(pg_url, "SELECT count(*) FROM users") == [(0,)]


def test_rebuild_indexes_puts_back_every_index_as_it_was(tmp_path: Path, pg_url: str) -> None:
    source = _app(tmp_path, pg_url)
    sql(pg_url, "CREATE INDEX posts_title_partial ON posts (title) WHERE published")
    before = _constraints(pg_url)
    result = af.migrate(source, pg_url, data_only=True, rebuild_indexes=True)
    assert result.success, result.errors
    assert _constraints(pg_url) == before  # same names, same definitions, same constraints
    said = " ".join(result.warnings)
    assert "users_email" in said and "posts_title_partial" in said and "built again" in said
    # the rebuilt indexes hold the rows: the planner uses them
    assert sql(pg_url, "SELECT count(*) FROM users WHERE lower(email) = 'a@x.io'") == [(1,)]
    assert sql(
        pg_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass"
    ) == [(True,)]


def test_the_applications_naming_policy_matches_tables_and_columns(
    tmp_path: Path, pg_url: str
) -> None:
    """An ORM that snake_cases its names (Rails, Django's db_table defaults, SQLAlchemy
    conventions) made the target; the source spells them in CamelCase."""
    source = make_sqlite(
        tmp_path / "camel.db",
        "CREATE TABLE OrderItems (ItemId INTEGER PRIMARY KEY, UnitPrice REAL, Sku TEXT);",
        {"OrderItems": [(1, 2.5, "a"), (2, 10.0, "b")]},
    )
    sql(
        pg_url,
        "CREATE TABLE order_items (item_id int PRIMARY KEY, unit_price numeric(8,2), sku text)",
    )
    with pytest.raises(SchemaError, match="'OrderItems' does not exist"):
        af.migrate(source, pg_url, data_only=True)  # without the policy: no such table
    done = af.migrate(source, pg_url, data_only=True, identifiers="snake_case")
    assert done.success, (done.errors, done.warnings)
    assert sql(pg_url, "SELECT item_id, unit_price::text, sku FROM order_items ORDER BY 1") == [
        (1, "2.50", "a"),
        (2, "10.00", "b"),
    ]
