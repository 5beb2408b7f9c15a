"""--detect-deletes: which target keys left the source, by key ranges; the SQL is the
same text in SQLite and PostgreSQL.

Dense keys (at least one key in 16 of the span, as serial keys with some deletes are)
are compared as bitmaps: each side gives, per word of 64 consecutive keys, the word with
a bit set for each key it holds (``bit_or`` on a PostgreSQL server, numpy on a SQLite
file read in this process). One pass of each side, an exact answer, and 64 times fewer
rows than the keys themselves: a table with few deletes does not ship its key set, and
one with deletes everywhere is not read twice (the sums below would all differ, and
every key would then be read as well: 0.8 s against 0.4 s for 2 M keys on a local
server).

Sparse keys are cut into the same ranges (buckets of about ``PER_BUCKET`` keys from the
smaller of the two minimums) and each range is summed on the server: its count, the sum
of its keys and the sum of a product of two residues. A range whose sums agree holds the
same keys on both sides (the sums of a range with a key swapped for another differ but
by an unlikely coincidence of all three); only the keys of ranges that differ are
fetched and compared. So a table with few deletes ships a few thousand sums and a few
ranges' keys, not its whole key set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from arrowferry.dialects import sqllog

PER_BUCKET = 1_000  # keys per range, about: ~2,000 sums for 2 M keys
WORD = 64  # keys per bitmap word
SHIFT = 6  # a key's word: the key shifted right by this much (2 ** SHIFT == WORD)
DENSE = 16  # bitmaps when the span holds at most this many slots per key
CHUNK = 200  # ranges fetched per statement
WHOLE_SETS = 0.25  # past this share of differing ranges, whole key sets are compared
Sums = dict[int, tuple[int, int, int]]
T = TypeVar("T")


@dataclass(frozen=True)
class KeySide:
    """One side's integer key column, read in the snapshot (source) or the transaction
    (target) the comparison runs in. The source side's calls run in a thread of their
    own (:func:`gone` works both sides at once), the target's in the caller's."""

    fetch: Callable[[str], list[tuple[Any, ...]]]  # a few rows (spans, sums)
    keys: Callable[[str], pa.Array]  # the key column's values as int64, given a WHERE clause
    relation: str  # the table, as its dialect names it in FROM
    column: str  # the key column, quoted
    # sum the ranges here, from the keys read in key order, rather than by a GROUP BY:
    # SQLite's GROUP BY sorts 2 M keys (1.2 s) where reading them as Arrow and summing
    # them with numpy takes 0.3 s; an in-process file has no network to spare
    local: bool = False
    # how many keys, about (they only size the ranges): PostgreSQL's planner estimate
    # instead of a count(*) that reads the whole table; None: counted
    estimate: Callable[[], int | None] | None = None
    # a query's whole result as Arrow, from a server with a ``bit_or`` aggregate
    # (PostgreSQL): the side can give its keys as bitmap words (:func:`words_sql`)
    table: Callable[[str], pa.Table] | None = None


def span_sql(side: KeySide, counted: bool = True) -> str:
    k, rel = side.column, side.relation
    # one subquery each: alone, min() and max() seek the key's index (together in one
    # SELECT, SQLite reads every row); count(*): SQLite counts from its smallest index
    count = f"(SELECT count(*) FROM {rel})" if counted else "0"
    return f"SELECT (SELECT min({k}) FROM {rel}), (SELECT max({k}) FROM {rel}), {count}"


def _span(side: KeySide, read: dict[int, np.ndarray]) -> tuple[Any, Any, int]:
    # a local side's keys are read whole later, at the same time as the other side's
    # bitmap or sums (read first, they made the other side wait: 0.4 s for 2 M keys)
    guess = None if side.local or side.estimate is None else side.estimate()
    low, high, n = side.fetch(span_sql(side, counted=guess is None))[0]
    return low, high, int(str(n)) if guess is None else guess


def pg_estimate(
    fetch: Callable[[str], list[tuple[Any, ...]]], relation: str
) -> Callable[[], int | None]:
    """A PostgreSQL table's row estimate (None before its first ANALYZE)."""
    name = relation.removeprefix("ONLY ")

    def estimate() -> int | None:
        rows = fetch(
            f"SELECT reltuples::bigint FROM pg_class WHERE oid = '{name.replace(chr(39), chr(39) * 2)}'::regclass"
        )
        value = int(rows[0][0]) if rows and rows[0][0] is not None else -1
        return value if value >= 0 else None

    return estimate


def sums_sql(side: KeySide, low: int, width: int) -> str:
    k = side.column
    return (
        f"SELECT ({k} - {low}) / {width}, count(*), sum({k}), "
        f"sum(({k} % 65521) * ({k} % 65519)) FROM {side.relation} "
        f"WHERE {k} IS NOT NULL GROUP BY 1"
    )


def ranges_where(side: KeySide, low: int, width: int, buckets: Sequence[int]) -> str:
    """``WHERE`` reading some ranges; adjacent ranges are read as one."""
    k = side.column
    runs: list[list[int]] = []
    for b in sorted(buckets):
        if runs and runs[-1][1] == b:
            runs[-1][1] = b + 1
        else:
            runs.append([b, b + 1])
    ranges = " OR ".join(f"({k} >= {low + a * width} AND {k} < {low + z * width})" for a, z in runs)
    return f"WHERE {ranges}"


def _sums(side: KeySide, low: int, width: int, read: dict[int, np.ndarray]) -> Sums:
    if side.local:
        return local_sums(pa.array(_all_keys(side, read)), low, width)
    return {
        int(str(b)): (int(str(n)), int(str(s)), int(str(q)))
        for b, n, s, q in side.fetch(sums_sql(side, low, width))
    }


def _all_keys(side: KeySide, read: dict[int, np.ndarray]) -> np.ndarray:
    """A side's whole key set, read once per comparison (a local side's, kept for the
    ranges that differ: 16 MB for 2 M keys)."""
    if id(side) not in read:
        keys = side.keys(f"WHERE {side.column} IS NOT NULL")
        read[id(side)] = np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.int64)
    return read[id(side)]


def local_sums(keys: pa.Array, low: int, width: int) -> Sums:
    """:func:`sums_sql`'s rows, computed from the keys themselves (exact int64 sums: the
    caller's bound keeps them below 2**62)."""
    k = np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.int64)
    if k.size == 0:
        return {}
    if np.any(k[1:] < k[:-1]):
        k = np.sort(k)
    buckets = (k - low) // width
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    counts = np.diff(np.r_[starts, k.size])
    sums = np.add.reduceat(k, starts)
    # np.fmod: the remainder takes the key's sign, as SQL's % does
    products = np.add.reduceat(np.fmod(k, 65521) * np.fmod(k, 65519), starts)
    return {
        int(b): (int(n), int(s), int(q))
        for b, n, s, q in zip(buckets[starts], counts, sums, products, strict=True)
    }


def words_sql(side: KeySide) -> str:
    """Per word of ``WORD`` keys: the word's number (the key shifted right, arithmetically:
    negative keys too) and its bits (bit ``i`` set when the side holds ``64 * word + i``),
    as signed 64-bit integers. Shifts and masks, not a division from the minimum: a
    quarter less of the server's time."""
    k = side.column
    return (
        f"SELECT {k} >> {SHIFT}, bit_or(CAST(1 AS bigint) << CAST({k} & {WORD - 1} AS integer)) "
        f"FROM {side.relation} WHERE {k} IS NOT NULL GROUP BY 1"
    )


Words = tuple[np.ndarray, np.ndarray]  # word numbers (int64, ascending), their bits (uint64)


def local_words(keys: np.ndarray) -> Words:
    """:func:`words_sql`'s rows, computed from the keys themselves."""
    k = np.asarray(keys, dtype=np.int64)
    if k.size == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.uint64)
    if np.any(k[1:] < k[:-1]):
        k = np.sort(k)
    word = k >> SHIFT
    bits = np.left_shift(np.uint64(1), (k & (WORD - 1)).astype(np.uint64))
    starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
    return word[starts], np.bitwise_or.reduceat(bits, starts)


def _words(side: KeySide, read: dict[int, np.ndarray]) -> Words:
    if side.local:
        return local_words(_all_keys(side, read))
    assert side.table is not None
    got = side.table(words_sql(side))
    word = np.asarray(got.column(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    bits = np.asarray(got.column(1).to_numpy(zero_copy_only=False), dtype=np.int64)
    order = np.argsort(word, kind="stable")
    return word[order], bits[order].view(np.uint64)


def _missing_words(theirs: Words, ours: Words) -> tuple[list[int], int]:
    """Our keys that are not theirs, from both bitmaps, and how many words differ."""
    (their_word, their_bits), (our_word, our_bits) = theirs, ours
    at = np.searchsorted(their_word, our_word)
    found = at < their_word.size
    found[found] = their_word[at[found]] == our_word[found]
    matching = np.zeros(our_word.size, dtype=np.uint64)
    matching[found] = their_bits[at[found]]
    gone_bits = our_bits & ~matching
    differ = int(np.count_nonzero(our_bits != matching))
    hit = np.flatnonzero(gone_bits)
    if hit.size == 0:
        return [], differ
    unpacked = np.unpackbits(
        gone_bits[hit].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    rows, position = np.nonzero(unpacked)
    keys = our_word[hit][rows] * WORD + position
    return sorted(int(k) for k in keys), differ


def _keys(
    side: KeySide, low: int, width: int, buckets: Sequence[int], read: dict[int, np.ndarray]
) -> np.ndarray:
    if side.local:
        k = _all_keys(side, read)
        return k[np.isin((k - low) // width, np.asarray(buckets, dtype=np.int64))]
    parts = [
        side.keys(ranges_where(side, low, width, buckets[start : start + CHUNK]))
        for start in range(0, len(buckets), CHUNK)
    ]
    arrays = [np.asarray(p.to_numpy(zero_copy_only=False), dtype=np.int64) for p in parts]
    return np.concatenate(arrays) if arrays else np.array([], dtype=np.int64)


def _missing(theirs: np.ndarray, ours: np.ndarray) -> list[int]:
    """Our keys that are not theirs (both sets of unique keys): numpy's sorted set
    difference, 2 M keys in a tenth of a second (a hash set of them took nine)."""
    return sorted(int(k) for k in np.setdiff1d(ours, theirs, assume_unique=True))


def _both(work: Callable[[KeySide], T], source: KeySide, target: KeySide) -> tuple[T, T]:
    """``work`` on both sides at once: the source's in a thread of its own, the target's
    in this one (whose connection it may be bound to). Each side waits on its own
    database or reads in C with the GIL released, so on two cores the comparison takes
    about the longer side's time, not the sum (2 M keys: ~0.3 s saved per table)."""
    with ThreadPoolExecutor(1, thread_name_prefix="arrowferry-keys") as pool:
        theirs = pool.submit(work, source)
        ours = work(target)
        return theirs.result(), ours


def gone(source: KeySide, target: KeySide) -> tuple[list[int], int]:
    """The target's keys that the source no longer holds, and how many ranges (or bitmap
    words) differed (-1: the whole key sets were compared)."""
    read: dict[int, np.ndarray] = {}
    spans = _both(lambda side: _span(side, read), source, target)
    target_span = spans[1]
    if target_span[0] is None:
        return [], 0  # an empty target has nothing to delete
    mins = [int(str(s[0])) for s in spans if s[0] is not None]
    maxs = [int(str(s[1])) for s in spans if s[1] is not None]
    low, high = min(mins), max(maxs)
    count = max(int(str(s[2])) for s in spans)
    if source.local and target.local:
        return _whole_sets(source, target, read), -1  # both key sets are read anyway
    if high - low < DENSE * count and all(s.local or s.table is not None for s in (source, target)):
        return _missing_words(*_both(lambda side: _words(side, read), source, target))
    width = max(1, -(-(high - low + 1) // max(1, count // PER_BUCKET)))
    if high - low >= 2**62 or max(abs(low), abs(high)) * min(width, count) >= 2**62:
        # the sums could pass 64 bits (SQLite's sum() refuses to): compare whole sets
        return _whole_sets(source, target, read), -1
    theirs, ours = _both(lambda side: _sums(side, low, width, read), source, target)
    differ = sorted(b for b in set(ours) | set(theirs) if ours.get(b) != theirs.get(b))
    # only buckets the target has can hold a key to delete
    differ = [b for b in differ if b in ours]
    if not differ:
        return [], 0
    if len(differ) > WHOLE_SETS * max(1, len(ours)):
        # deletes all over the table: one scan of each key set beats many range reads
        return _whole_sets(source, target, read), len(differ)
    mine = _both(lambda side: _keys(side, low, width, differ, read), source, target)
    return _missing(*mine), len(differ)


def _whole_sets(source: KeySide, target: KeySide, read: dict[int, np.ndarray]) -> list[int]:
    return _missing(*_both(lambda side: _all_keys(side, read), source, target))


def chunks(keys: Sequence[int], size: int = 10_000) -> Iterable[Sequence[int]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def arrow_table(conn: Any, sql: str, database: sqllog.Database) -> pa.Table:
    """An ADBC query's whole result (logged, as every statement, on ``arrowferry.sql``)."""
    sqllog.statement(database, sql)
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def arrow_keys(conn: Any, sql: str, database: sqllog.Database) -> pa.Array:
    """The first column of an ADBC query, as one int64 array."""
    table = arrow_table(conn, sql, database)
    column = table.column(0).combine_chunks() if table.num_rows else pa.array([], pa.int64())
    return column.cast(pa.int64())
