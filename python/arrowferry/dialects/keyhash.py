"""--detect-deletes for any key of integer and text columns (a composite one, a text one):
hash buckets of the key.

Each row's key is written as one canonical text (each column as ``length:value``,
joined by commas; ``~`` for a NULL), and its MD5 decides its bucket (of about
``PER_BUCKET`` keys) and gives two 28-bit numbers summed per bucket. PostgreSQL sums
them on the server (``md5()``); a SQLite side, in this process, hashes the keys it
reads with ``hashlib`` (SQLite has no MD5, and the bytes never leave the machine). A
bucket whose count and both sums agree holds the same keys on both sides (the sums of
a bucket with one key swapped for another agree only by a coincidence of 56 bits);
only the keys of buckets that differ are read again and compared. Integer and text
values print the same in both databases; a key with a column of another type is not
compared (the caller says so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from arrowferry.dialects.keyranges import PER_BUCKET, WHOLE_SETS, Sums

KINDS = frozenset({"int16", "int32", "int64", "text"})
Keys = dict[str, tuple[Any, ...]]  # canonical text -> the key's values as the side holds them


@dataclass(frozen=True)
class HashSide:
    """One side's key, counted, summed by bucket, and read for some buckets."""

    count: Callable[[], int]
    sums: Callable[[int], Sums]  # buckets -> {bucket: (rows, sum 1, sum 2)}
    keys: Callable[[int, Sequence[int] | None], Keys]  # the keys of some buckets (None: all)


def canonical(values: Sequence[Any]) -> str:
    return ",".join("~" if v is None else f"{len(str(v))}:{v}" for v in values)


def _digest(values: Sequence[Any], buckets: int) -> tuple[int, int, int]:
    h = hashlib.md5(canonical(values).encode()).hexdigest()
    return int(h[:7], 16) % buckets, int(h[7:14], 16), int(h[14:21], 16)


def python_side(rows: Callable[[], Iterable[Sequence[Any]]], count: Callable[[], int]) -> HashSide:
    """A side whose keys are read here (SQLite): ``rows()`` yields every key."""

    def sums(buckets: int) -> Sums:
        out: dict[int, list[int]] = {}
        for values in rows():
            b, x, y = _digest(values, buckets)
            acc = out.setdefault(b, [0, 0, 0])
            acc[0] += 1
            acc[1] += x
            acc[2] += y
        return {b: (n, x, y) for b, (n, x, y) in out.items()}

    def keys(buckets: int, which: Sequence[int] | None) -> Keys:
        wanted = None if which is None else set(which)
        out: Keys = {}
        for values in rows():
            if wanted is None or _digest(values, buckets)[0] in wanted:
                out[canonical(values)] = tuple(values)
        return out

    return HashSide(count, sums, keys)


def postgres_side(
    fetch: Callable[[str], list[tuple[Any, ...]]], relation: str, columns: Sequence[str]
) -> HashSide:
    """A PostgreSQL side: buckets summed on the server. ``columns`` are quoted."""
    parts = " || ',' || ".join(
        f"coalesce(length({c}::text) || ':' || {c}::text, '~')" for c in columns
    )
    texts = ", ".join(f"{c}::text" for c in columns)

    def hashed(buckets: int) -> str:
        return (
            f"SELECT ('x' || substr(af_h, 1, 7))::bit(28)::int % {buckets} AS af_b, "
            "('x' || substr(af_h, 8, 7))::bit(28)::int AS af_x, "
            f"('x' || substr(af_h, 15, 7))::bit(28)::int AS af_y, af_k, {texts} "
            f"FROM (SELECT md5({parts}) AS af_h, {parts} AS af_k, {texts} FROM {relation}) s"
        )

    def count() -> int:
        return int(fetch(f"SELECT count(*) FROM {relation}")[0][0])

    def sums(buckets: int) -> Sums:
        sql = (
            f"SELECT af_b, count(*), sum(af_x), sum(af_y) FROM ({hashed(buckets)}) d GROUP BY af_b"
        )
        return {int(b): (int(n), int(x), int(y)) for b, n, x, y in fetch(sql)}

    def keys(buckets: int, which: Sequence[int] | None) -> Keys:
        where = "" if which is None else f" WHERE af_b IN ({', '.join(str(int(b)) for b in which)})"
        rows = fetch(f"SELECT * FROM ({hashed(buckets)}) d{where}")
        return {str(row[3]): tuple(row[4:]) for row in rows}  # (b, x, y, k, values...)

    return HashSide(count, sums, keys)


def gone(source: HashSide, target: HashSide) -> tuple[list[tuple[Any, ...]], int]:
    """The target's keys (as the target holds them) that the source no longer holds, and
    how many buckets differed (-1: the whole key sets were compared)."""
    theirs_n, ours_n = source.count(), target.count()
    if ours_n == 0:
        return [], 0
    buckets = max(1, max(theirs_n, ours_n) // PER_BUCKET)
    theirs, ours = source.sums(buckets), target.sums(buckets)
    differ = sorted(b for b in ours if ours[b] != theirs.get(b))
    if not differ:
        return [], 0
    which: list[int] | None = differ
    if len(differ) > WHOLE_SETS * max(1, len(ours)):
        which = None
    kept = source.keys(buckets, which)
    missing = [values for key, values in target.keys(buckets, which).items() if key not in kept]
    return missing, -1 if which is None else len(differ)
