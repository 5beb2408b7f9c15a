"""The ranges' sums computed from the keys (an in-process SQLite side) equal the ones the
database computes with ``sums_sql``, negative keys and unsorted reads included."""

from __future__ import annotations

import sqlite3
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arrowferry.dialects.keyranges import KeySide, local_sums, sums_sql


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(-(2**40), 2**40), min_size=1, max_size=300),
    st.integers(1, 5000),
    st.booleans(),
)
def test_local_sums_equal_the_databases(keys: set[int], width: int, backwards: bool) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(k,) for k in keys])

    def fetch(sql: str) -> list[tuple[Any, ...]]:
        return conn.execute(sql).fetchall()

    side = KeySide(fetch, lambda where: pa.array([], pa.int64()), '"t"', '"id"')
    low = min(keys)
    expected = {b: (n, s, q) for b, n, s, q in fetch(sums_sql(side, low, width))}
    ordered = sorted(keys, reverse=backwards)
    assert local_sums(pa.array(ordered, pa.int64()), low, width) == expected
