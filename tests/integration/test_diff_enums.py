"""An enum column copied into SQLite is text held to its labels by a CHECK: the diff
sees that CHECK as the enum it came from, so a migration compares equal to its source
and a sync right after it changes nothing. Before, the diff called the CHECK "in b only:
rows of a may break it" (flagged as data loss) and ``sync`` rebuilt the SQLite table
to drop it, loosening what the column accepts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import arrowferry as af
from tests.conftest import sql


def _source(url: str) -> None:
    sql(url, "CREATE TYPE mood AS ENUM ('ok', 'sad', 'it''s')")
    sql(url, "CREATE DOMAIN feeling AS mood")
    sql(
        url,
        "CREATE TABLE d (id int PRIMARY KEY, m mood NOT NULL, f feeling, n int CHECK (n > 0))",
    )
    sql(url, "INSERT INTO d VALUES (1, 'ok', 'it''s', 1), (2, 'sad', NULL, 2)")


def _kinds(comparison: af.SchemaComparison) -> list[tuple[str, str]]:
    return [(d.kind, d.detail) for d in comparison.differences]


def test_the_enums_check_is_the_enum(pg_url: str, tmp_path: Path) -> None:
    _source(pg_url)
    out = tmp_path / "out.db"
    assert af.migrate(pg_url, out).success
    # what the copy holds: the labels' CHECK (the test's premise)
    with sqlite3.connect(out) as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'd'").fetchone()[0]
    assert """"m" IN ('ok', 'sad', 'it''s')""" in ddl and """"f" IN (""" in ddl

    there = af.compare_schemas(pg_url, out)
    assert not [d for d in there.differences if d.kind == "check"], _kinds(there)
    assert there.compatible, _kinds(there)
    back = af.compare_schemas(out, pg_url)
    assert not [d for d in back.differences if d.kind == "check"], _kinds(back)
    typed = {d.name: d for d in back.differences if d.kind == "column_type"}
    assert typed["m"].lossless and typed["f"].lossless, _kinds(back)

    synced = af.sync_schema(pg_url, out)
    assert not synced.statements, synced.sql_statements


def test_a_check_of_other_labels_is_still_a_difference(pg_url: str, tmp_path: Path) -> None:
    _source(pg_url)
    out = tmp_path / "out.db"
    assert af.migrate(pg_url, out).success
    sql(pg_url, "ALTER TYPE mood ADD VALUE 'mad'")  # the copy's CHECK now admits fewer labels
    there = af.compare_schemas(pg_url, out)
    checks = [d for d in there.differences if d.kind == "check"]
    assert len(checks) == 2 and not there.compatible, _kinds(there)  # m's and f's
