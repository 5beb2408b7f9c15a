"""--detect-deletes: which target keys left the source, by hashed key ranges.

Both sides cut one integer key into the same ranges (buckets of about ``PER_BUCKET``
keys from the smaller of the two minimums) and sum each range on the server: its count,
the sum of its keys and the sum of a product of two residues. A range whose sums agree
holds the same keys on both sides (the sums of a range with a key swapped for another
differ but by an unlikely coincidence of all three); only the keys of ranges that differ
are fetched and compared. So a table with few deletes ships a few thousand sums and a
few ranges' keys, not its whole key set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PER_BUCKET = 1_000  # keys per range, about: ~2,000 sums for 2 M keys
CHUNK = 200  # ranges fetched per statement
Sums = dict[int, tuple[int, int, int]]


@dataclass(frozen=True)
class KeySide:
    """One side's integer key column, read in the snapshot (source) or the transaction
    (target) the comparison runs in."""

    fetch: Callable[[str], list[tuple[Any, ...]]]
    relation: str  # the table, as its dialect names it in FROM
    column: str  # the key column, quoted


def span_sql(side: KeySide) -> str:
    k = side.column
    return f"SELECT min({k}), max({k}), count({k}) FROM {side.relation}"


def sums_sql(side: KeySide, low: int, width: int) -> str:
    k = side.column
    return (
        f"SELECT ({k} - {low}) / {width}, count(*), sum({k}), "
        f"sum(({k} % 65521) * ({k} % 65519)) FROM {side.relation} "
        f"WHERE {k} IS NOT NULL GROUP BY 1"
    )


def keys_sql(side: KeySide, low: int, width: int, buckets: Sequence[int]) -> str:
    k = side.column
    ranges = " OR ".join(
        f"({k} >= {low + b * width} AND {k} < {low + (b + 1) * width})" for b in buckets
    )
    return f"SELECT {k} FROM {side.relation} WHERE {ranges}"


def _sums(side: KeySide, low: int, width: int) -> Sums:
    return {
        int(str(b)): (int(str(n)), int(str(s)), int(str(q)))
        for b, n, s, q in side.fetch(sums_sql(side, low, width))
    }


def _keys(side: KeySide, low: int, width: int, buckets: Sequence[int]) -> set[int]:
    out: set[int] = set()
    for start in range(0, len(buckets), CHUNK):
        chunk = buckets[start : start + CHUNK]
        out.update(int(str(r[0])) for r in side.fetch(keys_sql(side, low, width, chunk)))
    return out


def gone(source: KeySide, target: KeySide) -> tuple[list[int], int]:
    """The target's keys that the source no longer holds, and how many ranges differed
    (-1: the whole key sets were compared)."""
    spans = [side.fetch(span_sql(side))[0] for side in (source, target)]
    target_span = spans[1]
    if target_span[0] is None:
        return [], 0  # an empty target has nothing to delete
    mins = [int(str(s[0])) for s in spans if s[0] is not None]
    maxs = [int(str(s[1])) for s in spans if s[1] is not None]
    low, high = min(mins), max(maxs)
    count = max(int(str(s[2])) for s in spans)
    width = max(1, -(-(high - low + 1) // max(1, count // PER_BUCKET)))
    if high - low >= 2**62 or max(abs(low), abs(high)) * min(width, count) >= 2**62:
        # the sums could pass 64 bits (SQLite's sum() refuses to): compare whole sets
        every = "SELECT {k} FROM {r}"
        sets = [
            {int(str(r[0])) for r in side.fetch(every.format(k=side.column, r=side.relation))}
            for side in (source, target)
        ]
        return sorted(sets[1] - sets[0]), -1
    theirs, ours = _sums(source, low, width), _sums(target, low, width)
    differ = sorted(b for b in set(ours) | set(theirs) if ours.get(b) != theirs.get(b))
    # only buckets the target has can hold a key to delete
    differ = [b for b in differ if b in ours]
    if not differ:
        return [], 0
    missing = _keys(target, low, width, differ) - _keys(source, low, width, differ)
    return sorted(missing), len(differ)


def chunks(keys: Sequence[int], size: int = 10_000) -> Iterable[Sequence[int]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]
