"""Numerics PostgreSQL -> SQLite (issue 11, items 1 and 2 in the reverse direction).

SQLite's NUMERIC affinity turns numeric text into a double: 15 digits, and only within
the double's normal range (1e-330 would become 0.0, 1e400 Infinity). And a DECIMAL(p,s)
chosen with type_mappings is held, as PostgreSQL would hold it on the way back: a value
that needs more integer digits once rounded half away from zero is a bad value.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import arrowferry as af
from tests.conftest import sql

WIDE = ["1e-330", "1e300", "4e-320", "1.5", "1e400", "-2.5e-310", "0", "NaN"]


def _sqlite_rows(path: Path, table: str) -> dict[int, object]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute(f"SELECT id, v FROM {table} ORDER BY id").fetchall())
    finally:
        conn.close()


def test_numbers_outside_the_double_range_keep_every_digit(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TABLE n (id int PRIMARY KEY, v numeric)")
    for i, text in enumerate(WIDE, 1):
        sql(pg_url, f"INSERT INTO n VALUES ({i}, '{text}'::numeric)")
    target = tmp_path / "n.sqlite"
    result = af.migrate(pg_url, target)
    assert result.success and result.errors == [], result.to_dict()
    got = _sqlite_rows(target, "n")
    want = dict(sql(pg_url, "SELECT id, v::text FROM n"))
    for rid, text in want.items():
        value = got[rid]
        if text == "NaN":
            assert value == "NaN"
            continue
        # exact: the stored value (text or number) stands for the same decimal
        stored = Decimal(value) if isinstance(value, str) else Decimal(repr(value))
        assert stored == Decimal(text), (rid, value, text)
    assert any("n.v" in w and "DECIMAL_TEXT" in w for w in result.warnings), result.warnings


def test_a_type_mapped_decimal_is_enforced_as_postgresql_rounds(
    pg_url: str, tmp_path: Path
) -> None:
    sql(pg_url, "CREATE TABLE m (id int PRIMARY KEY, v numeric(12,3), w text)")
    sql(
        pg_url,
        "INSERT INTO m VALUES (1, 99999999.995, 'a'), (2, 99999999.994, 'b'), "
        "(3, -99999999.995, 'c'), (4, 1.5, 'd'), (5, NULL, 'e')",
    )
    target = tmp_path / "m.sqlite"
    reject_dir = tmp_path / "rj"
    result = af.migrate(
        pg_url, target, type_mappings={"m.v": "DECIMAL(10,2)"}, reject_dir=str(reject_dir)
    )
    assert result.errors == [], result.errors
    got = _sqlite_rows(target, "m")
    assert set(got) == {2, 4, 5}
    assert Decimal(repr(got[2])) == Decimal("99999999.994") and got[4] == 1.5 and got[5] is None
    records = [json.loads(line) for line in (reject_dir / "m.jsonl").read_text().splitlines()]
    assert sorted(r["key"]["id"] for r in records) == [1, 3]
    for record in records:
        reason = record["problems"][0]["reason"]
        assert "DECIMAL(10,2)" in reason and "8 integer digits" in reason, reason
    assert result.rejected == [{"table": "m", "column": "v", "count": 2}]
    # what landed goes back into PostgreSQL's numeric(10,2) without an overflow
    back = tmp_path / "back"
    back.mkdir()
    again = af.migrate(target, pg_url, target_schema="back", reject_dir=str(back))
    assert again.errors == [] and again.rows_rejected == 0, again.to_dict()


def test_a_table_sqlite_cannot_hold_fails_alone(pg_url: str, tmp_path: Path) -> None:
    """One table's problem is that table's error: the others are planned and migrated."""
    sql(pg_url, 'CREATE TABLE clash (id int PRIMARY KEY, "a" text, "A" text)')
    sql(pg_url, "CREATE TABLE fine (id int PRIMARY KEY, v numeric)")
    sql(pg_url, "INSERT INTO fine VALUES (1, 1e-330), (2, 1.5)")
    target = tmp_path / "f.sqlite"
    plan = af.migrate(pg_url, target, dry_run=True)
    assert [t["source"] for t in plan.plan["tables"]] == ["fine"]  # type: ignore[index]
    assert [e.table for e in plan.errors] == ["clash"] and "case" in plan.errors[0].message
    result = af.migrate(pg_url, target, continue_on_error=True)
    assert [(e.table, e.fatal) for e in result.errors] == [("clash", False)]
    got = _sqlite_rows(target, "fine")
    assert [Decimal(str(v)) for v in got.values()] == [Decimal("1e-330"), Decimal("1.5")]
