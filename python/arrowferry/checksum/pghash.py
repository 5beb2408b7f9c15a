"""PostgreSQL's extended hash functions, computed in numpy over whole Arrow arrays.

A checksum that compares a PostgreSQL table with a SQLite file must hash both sides
alike, and PostgreSQL should hash its own side (shipping every row to the client costs
more than the migration's budget allows). PostgreSQL's hash-partitioning functions
(``hashint8extended``, ``hashtextextended``, ``hashfloat8extended``,
``timestamp_hash_extended``...) are stable across releases, since hash partitions
survive ``pg_upgrade``, and all reduce to Bob Jenkins' lookup3 ``hash_bytes_extended``
(``src/common/hashfn.c``). These are the same functions, vectorised: every value of an
array is hashed at once, block by block (12 bytes a round), so no Python runs per row.
Polars' ``hash`` is faster but neither documented nor reproducible by a server.

Results are ``int64`` (PostgreSQL's ``int8`` view of the ``uint64``). Little-endian
servers only, like every PostgreSQL build this tool has met (big-endian builds fetch
the words the other way round).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U32 = np.uint32
Hashes = npt.NDArray[np.int64]
_INIT = np.uint32((0x9E3779B9 + 3923095) & 0xFFFFFFFF)
_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=U32)
_SHIFT32 = np.uint64(32)


def _rot(x: npt.NDArray[np.uint32], k: int, out: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """``x`` rotated left by ``k`` bits, into ``out`` (no array allocated per step)."""
    np.left_shift(x, U32(k), out=out)
    out |= x >> U32(32 - k)
    return out


def _mix(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32], c: npt.NDArray[np.uint32]) -> None:
    t = np.empty_like(a)
    a -= c
    a ^= _rot(c, 4, t)
    c += b
    b -= a
    b ^= _rot(a, 6, t)
    a += c
    c -= b
    c ^= _rot(b, 8, t)
    b += a
    a -= c
    a ^= _rot(c, 16, t)
    c += b
    b -= a
    b ^= _rot(a, 19, t)
    a += c
    c -= b
    c ^= _rot(b, 4, t)
    b += a


def _final(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32], c: npt.NDArray[np.uint32]) -> None:
    t = np.empty_like(a)
    c ^= b
    c -= _rot(b, 14, t)
    a ^= c
    a -= _rot(c, 11, t)
    b ^= a
    b -= _rot(a, 25, t)
    c ^= b
    c -= _rot(b, 16, t)
    a ^= c
    a -= _rot(c, 4, t)
    b ^= a
    b -= _rot(a, 14, t)
    c ^= b
    c -= _rot(b, 24, t)


def _start(
    lengths: npt.NDArray[np.int64], seeds: Hashes
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """The state after the seed: PostgreSQL mixes a non-zero seed in as a 12-byte block."""
    a = lengths.astype(U32) + _INIT
    b, c = a.copy(), a.copy()
    seeded = seeds != 0
    if seeded.any():
        s = seeds.view(np.uint64)
        sa, sb, sc = a + (s >> _SHIFT32).astype(U32), b + s.astype(U32), c.copy()
        _mix(sa, sb, sc)
        if seeded.all():  # a row's seed is a hash: zero once in 2**64 rows
            return sa, sb, sc
        a = np.where(seeded, sa, a)
        b = np.where(seeded, sb, b)
        c = np.where(seeded, sc, c)
    return a, b, c


def _result(b: npt.NDArray[np.uint32], c: npt.NDArray[np.uint32]) -> Hashes:
    return ((b.astype(np.uint64) << _SHIFT32) | c.astype(np.uint64)).view(np.int64)


def seeds_for(n: int, seed: int | Hashes) -> Hashes:
    """One seed per value: ``seed`` repeated, or the array itself."""
    if isinstance(seed, np.ndarray):
        return seed.astype(np.int64, copy=False)
    return np.full(n, seed, dtype=np.int64)


def hash_uint32(values: npt.NDArray[np.uint32], seed: int | Hashes) -> Hashes:
    """``hash_bytes_uint32_extended``: what ``hashint4extended`` returns."""
    a, b, c = _start(np.full(len(values), 4, dtype=np.int64), seeds_for(len(values), seed))
    a += values.astype(U32, copy=False)
    _final(a, b, c)
    return _result(b, c)


def hash_int8(values: npt.NDArray[np.int64], seed: int | Hashes) -> Hashes:
    """``hashint8extended`` (also ``timestamp_hash_extended``, ``time_hash_extended``, and
    ``hashint4extended`` of any int4: the high half folds into the low one)."""
    v = values.astype(np.int64, copy=False)
    low, high = v.astype(U32), (v >> 32).astype(U32)
    low ^= np.where(v >= 0, high, ~high)
    return hash_uint32(low, seed)


def hash_float8(values: npt.NDArray[np.float64], seed: int | Hashes) -> Hashes:
    """``hashfloat8extended``: 0.0 and -0.0 hash to the seed, every NaN alike."""
    v = np.array(values, dtype=np.float64)  # a copy: NaNs are normalised in place
    v[np.isnan(v)] = np.nan  # PostgreSQL's get_float8_nan(): one bit pattern
    seeds = seeds_for(len(v), seed)
    raw = v.view(np.uint64)
    a, b, c = _start(np.full(len(v), 8, dtype=np.int64), seeds)
    a += raw.astype(U32)  # the little-endian bytes 0-3
    b += (raw >> _SHIFT32).astype(U32)  # bytes 4-7
    _final(a, b, c)
    return np.where(v == 0, seeds, _result(b, c))


def hash_bytes(array: pa.Array, seed: int | Hashes) -> Hashes:
    """``hash_bytes_extended`` of each value's bytes (``hashtextextended`` of text);
    a NULL gets the hash of no bytes (callers mark NULLs themselves)."""
    if not (pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(
            pa.large_binary() if pa.types.is_binary(array.type) else pa.large_string()
        )
    n = len(array)
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data = buffers[2]
    base = int(offsets[0]) if n else 0
    end = int(offsets[-1]) if n else 0
    padded = np.zeros(end - base + 16, dtype=np.uint8)  # a word read past the end reads zeros
    if data is not None and end > base:
        padded[: end - base] = np.frombuffer(data, dtype=np.uint8)[base:end]
    # the little-endian 32-bit word at every byte position, without copying
    words = np.ndarray(shape=(len(padded) - 3,), dtype="<u4", buffer=padded, strides=(1,))
    starts = offsets[:-1] - base
    lengths = offsets[1:] - offsets[:-1]
    a, b, c = _start(lengths, seeds_for(n, seed))
    blocks = lengths // 12
    _blocks(words, starts, blocks, a, b, c)
    rest = lengths - 12 * blocks
    tail = starts + 12 * blocks
    a += words[tail] & _MASKS[np.minimum(rest, 4)]
    b += words[tail + 4] & _MASKS[np.clip(rest - 4, 0, 4)]
    # the lowest byte of c is reserved for the length (PostgreSQL's layout of the tail)
    c += (words[tail + 8] & _MASKS[np.clip(rest - 8, 0, 3)]) << U32(8)
    _final(a, b, c)
    return _result(b, c)


def _blocks(
    words: npt.NDArray[np.uint32],
    starts: npt.NDArray[np.int64],
    blocks: npt.NDArray[np.int64],
    a: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint32],
    c: npt.NDArray[np.uint32],
) -> None:
    """The 12-byte rounds, longest values first so each round works on a prefix."""
    most = int(blocks.max()) if len(blocks) else 0
    if most == 0:
        return
    order = np.argsort(-blocks, kind="stable")
    count = blocks[order]
    at = starts[order]
    oa, ob, oc = a[order], b[order], c[order]
    active = int(np.count_nonzero(count > 0))
    for r in range(most):
        pos = at[:active] + 12 * r
        xa, xb, xc = oa[:active], ob[:active], oc[:active]  # views: updated in place
        xa += words[pos]
        xb += words[pos + 4]
        xc += words[pos + 8]
        _mix(xa, xb, xc)
        active = int(np.count_nonzero(count[:active] > r + 1))
    a[order], b[order], c[order] = oa, ob, oc
