"""PostgreSQL's sum of a numeric(p,s) column, translated into SQLite, gives the double
nearest PostgreSQL's exact sum, for any values the column can hold (no database server:
the values are stored in an in-memory SQLite exactly as a migration stores them)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arrowferry.dialects.translate import Relation, translate_query


def _relation(precision: int, scale: int) -> dict[str, Relation]:
    return {"t": Relation("t", {"x": ("x", "decimal")}, {"x": (precision, scale)})}


@st.composite
def columns(draw: st.DrawFn) -> tuple[int, int, list[Decimal]]:
    precision = draw(st.integers(1, 15))
    scale = draw(st.integers(1, precision))
    top = 10**precision - 1
    units = draw(st.lists(st.integers(-top, top), min_size=1, max_size=300))
    return precision, scale, [Decimal(u).scaleb(-scale) for u in units]


@settings(max_examples=200, deadline=None)
@given(columns())
def test_sum_is_the_double_nearest_the_exact_sum(column: tuple[int, int, list[Decimal]]) -> None:
    precision, scale, values = column
    notes: list[str] = []
    query = translate_query(
        "SELECT sum(x) AS total FROM t", "postgresql", "sqlite",
        relations=_relation(precision, scale), notes=notes,
    )  # fmt: skip
    assert notes == []
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE t (x NUMERIC({precision},{scale}))")
    conn.executemany("INSERT INTO t VALUES (?)", [(str(v),) for v in values])  # as migrated
    (got,) = conn.execute(query).fetchone()
    conn.close()
    exact = sum(values, Decimal(0))
    if abs(exact.scaleb(scale)) < 2**53:
        assert got == float(exact), (query, exact, got)


def test_what_is_not_kept_exact_is_said() -> None:
    cases = {
        "SELECT avg(x) AS a FROM t": "AVG",
        "SELECT x * 1.2 AS a FROM t": "* 1.2",
        "SELECT round(x, 1) AS a FROM t": "ROUND",
    }
    for query, said in cases.items():
        notes: list[str] = []
        translate_query(query, "postgresql", "sqlite", relations=_relation(10, 2), notes=notes)
        assert any(said in n for n in notes), (query, notes)
    notes = []  # a numeric too wide for a double's 15 digits: its sum is not rewritten
    out = translate_query(
        "SELECT sum(x) AS a FROM t", "postgresql", "sqlite", relations=_relation(20, 2), notes=notes
    )
    assert "ROUND" not in out and notes, (out, notes)
    notes = []  # min, max, count and comparisons give one of the values: exact
    translate_query(
        "SELECT min(x), max(x), count(x) FROM t WHERE x > 1", "postgresql", "sqlite",
        relations=_relation(10, 2), notes=notes,
    )  # fmt: skip
    assert notes == []
