"""Deletes found by key ranges: summed ranges (only those that differ are fetched again)
for sparse keys, bitmap words for dense ones."""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arrowferry.dialects.keyranges import KeySide, gone, local_words, words_sql


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


# --- dense keys: bitmap words ------------------------------------------------------------


class _BitOr:
    """PostgreSQL's ``bit_or`` aggregate, for an in-memory SQLite standing in for it."""

    def __init__(self) -> None:
        self.bits = 0

    def step(self, value: int) -> None:
        self.bits |= value

    def finalize(self) -> int:
        return self.bits


def _server_side(keys: set[int], fetched: list[str]) -> KeySide:
    """A side whose server aggregates bitmap words (``table``), as PostgreSQL's does."""
    side = _side(keys, fetched)
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.create_aggregate("bit_or", 1, _BitOr)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(k,) for k in keys])

    def table(sql: str) -> pa.Table:
        fetched.append(sql)
        rows = conn.execute(sql).fetchall()
        return pa.table(
            {"word": [r[0] for r in rows], "bits": [r[1] for r in rows]},
            schema=pa.schema([("word", pa.int64()), ("bits", pa.int64())]),
        )

    return KeySide(side.fetch, side.keys, side.relation, side.column, table=table)


def _local_side(keys: set[int], fetched: list[str], backwards: bool = False) -> KeySide:
    """A side read whole in this process (a SQLite file), in any order."""
    ordered = sorted(keys, reverse=backwards)
    side = _side(keys, [])  # its span (min, max, count) by SQL, not logged

    def read(where: str) -> pa.Array:
        fetched.append(f"all keys {where}")
        return pa.array(ordered, pa.int64())

    return KeySide(side.fetch, read, '"t"', '"id"', local=True)


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(-(2**62), 2**62), min_size=1, max_size=300),
    st.booleans(),
)
def test_local_words_equal_the_databases(keys: set[int], backwards: bool) -> None:
    seen: list[str] = []
    server = _server_side(keys, seen)
    assert server.table is not None
    got = server.table(words_sql(server))
    expected = dict(zip(got.column(0).to_pylist(), got.column(1).to_pylist(), strict=True))
    word, bits = local_words(np.array(sorted(keys, reverse=backwards)))
    assert dict(zip(word.tolist(), bits.view(np.int64).tolist(), strict=True)) == expected


def test_deletes_everywhere_in_dense_keys_read_each_side_once() -> None:
    # the target lacks some keys the source holds (rows not yet arrived): not deletes
    target = {k for k in range(1, 200_001) if k % 1000 != 500}
    source = {k for k in range(1, 202_001) if k % 909 != 7}
    seen: list[str] = []
    keys, words = gone(_local_side(source, seen), _server_side(target, seen))
    assert keys == sorted(target - source)
    ours = {k >> 6 for k in target}  # the words the target holds
    assert words == len({k >> 6 for k in target ^ source} & ours)
    assert [q for q in seen if q.startswith("all keys")] == ['all keys WHERE "id" IS NOT NULL']
    server_queries = [q for q in seen if not q.startswith("all keys")]
    # the span, then one bitmap query; no sums, no range of keys, no whole key set
    assert len(server_queries) == 2 and "bit_or" in server_queries[1], server_queries


@settings(max_examples=80, deadline=None)
@given(
    st.sets(st.integers(min_value=-200, max_value=200), max_size=300),
    st.sets(st.integers(min_value=-200, max_value=200), max_size=300),
    st.booleans(),
    st.booleans(),
)
def test_bitmaps_give_exactly_the_keys_the_source_lacks(
    source: set[int], target: set[int], local_source: bool, backwards: bool
) -> None:
    seen: list[str] = []
    theirs = _local_side(source, seen, backwards) if local_source else _server_side(source, seen)
    ours = _server_side(target, seen) if local_source else _local_side(target, seen, backwards)
    assert gone(theirs, ours)[0] == sorted(target - source)
    dense = len(target) > 0 and max(source | target) - min(source | target) < 16 * len(target)
    assert not dense or not any("sum(" in q for q in seen), seen


def test_sparse_keys_keep_the_summed_ranges() -> None:
    target = set(range(0, 10_000_000, 1000))  # one key in 1,000 of the span
    source = target - {5000, 7_000_000}
    seen: list[str] = []
    assert gone(_server_side(source, seen), _server_side(target, seen))[0] == [5000, 7_000_000]
    assert not any("bit_or" in q for q in seen) and any("sum(" in q for q in seen)
