"""Two guards a value meets on its way into PostgreSQL, each of which once survived the
whole suite when removed (issue 11, item 14):

* ``varchar(n)`` holding longer text: PostgreSQL refuses it (SQLSTATE 22001) and the
  column becomes ``text``, with a warning, so nothing is truncated or lost;
* ``on_bad_value="null"`` into a NOT NULL column: the table fails with the client's
  message naming table, column, row and value, never the server's bare not-null error,
  and nothing of that table is left behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import make_sqlite, pg_tables, sql

SHORT = [(i, f"n{i}", "ab") for i in range(1, 10)]


@pytest.mark.parametrize("batch_size", [4, 65_536])
def test_varchar_holding_longer_text_becomes_text(
    tmp_path: Path, pg_url: str, batch_size: int
) -> None:
    rows = [*SHORT, (10, "abcdefghij", "abc"), (11, "é" * 5, "éé"), (12, None, "  ")]
    source = make_sqlite(
        tmp_path / "s.db",
        "CREATE TABLE v (id INTEGER PRIMARY KEY, name VARCHAR(5), code CHAR(2) NOT NULL, "
        "fits VARCHAR(3));",
        {"v": [(*r, "abc") for r in rows]},
    )
    result = af.migrate(source, pg_url, batch_size=batch_size, reject_dir=str(tmp_path / "r"))
    assert result.success, result.errors
    assert result.rows_rejected == 0
    types = sql(
        pg_url,
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = 'v' ORDER BY ordinal_position",
    )
    # five characters of two bytes each still fit varchar(5): lengths are in characters
    assert types == [
        ("id", "bigint", None),
        ("name", "text", None),
        ("code", "text", None),
        ("fits", "character varying", 3),
    ]
    assert sql(pg_url, "SELECT id, name, code, fits FROM v ORDER BY id") == [
        (*r, "abc") for r in rows
    ]
    widened = [w for w in result.warnings if "becomes text" in w]
    assert len(widened) == 2, result.warnings
    assert "v.name" in widened[0] and "VARCHAR(5)" in widened[0]
    assert "v.code" in widened[1] and "CHAR(2)" in widened[1]


def test_null_policy_refuses_a_null_into_not_null(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "s.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, m INTEGER);"
        "CREATE TABLE ok (id INTEGER PRIMARY KEY, m INTEGER);",
        {
            "t": [(1, 1, 1), (2, 2, "x"), (3, "abc", 3), (4, 4, 4)],
            "ok": [(1, 1), (2, "y"), (3, 3)],
        },
    )
    result = af.migrate(
        source,
        pg_url,
        on_bad_value="null",
        continue_on_error=True,
        batch_size=2,
        reject_dir=str(tmp_path / "r"),
    )
    assert not result.success
    assert [e.table for e in result.errors] == ["t"]
    message = result.errors[0].message
    for part in ("table 't'", "column 'n'", "row 3", "'abc'", "NOT NULL"):
        assert part in message, message
    assert pg_tables(pg_url) == ["ok"]  # nothing of t is left behind
    # the policy itself still works where NULL fits
    assert sql(pg_url, "SELECT id, m FROM ok ORDER BY id") == [(1, 1), (2, None), (3, 3)]
