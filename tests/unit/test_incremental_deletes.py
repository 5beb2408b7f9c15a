"""Deletes found by hashed key ranges: only the ranges that differ are fetched."""

from __future__ import annotations

import sqlite3
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arrowferry.dialects.keyranges import KeySide, gone


def _side(keys: set[int], fetched: list[str]) -> KeySide:
    # the source side's calls run in a thread of their own (``keyranges._both``)
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(k,) for k in keys])

    def fetch(sql: str) -> list[tuple[Any, ...]]:
        fetched.append(sql)
        return conn.execute(sql).fetchall()

    def keys(where: str) -> pa.Array:
        fetched.append(f'SELECT "id" FROM "t" {where}')
        rows = conn.execute(f'SELECT "id" FROM "t" {where}').fetchall()
        return pa.array([r[0] for r in rows], pa.int64())

    return KeySide(fetch, keys, '"t"', '"id"')


def test_few_deletes_fetch_few_ranges() -> None:
    target = set(range(1, 100_001))
    source = target - {5, 50_000, 99_999}
    seen: list[str] = []
    keys, ranges = gone(_side(source, seen), _side(target, seen))
    assert keys == [5, 50_000, 99_999]
    assert ranges == 3  # three ranges of ~1,000 keys, out of ~100
    assert not any(sql.startswith('SELECT "id" FROM "t"') and "WHERE" not in sql for sql in seen)
    assert sum(sql.count(" OR ") + 1 for sql in seen if "WHERE (" in sql) == 2 * 3


def test_nothing_to_delete_and_an_empty_target() -> None:
    assert gone(_side({1, 2, 3}, []), _side({1, 2, 3}, [])) == ([], 0)
    assert gone(_side({1, 2, 3}, []), _side(set(), [])) == ([], 0)
    # keys the target lacks (not yet arrived, or rejected) are not deletes
    assert gone(_side({1, 2, 3, 4}, []), _side({1, 3}, []))[0] == []


def test_keys_too_large_to_sum_compare_whole_sets() -> None:
    big = 2**62
    assert gone(_side({-big, big}, []), _side({-big, 7, big}, [])) == ([7], -1)


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(min_value=-(10**6), max_value=10**6), max_size=300),
    st.sets(st.integers(min_value=-(10**6), max_value=10**6), max_size=300),
)
def test_exactly_the_keys_the_source_lacks(source: set[int], target: set[int]) -> None:
    assert gone(_side(source, []), _side(target, []))[0] == sorted(target - source)
