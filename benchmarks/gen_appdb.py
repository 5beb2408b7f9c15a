"""Generate a realistic application SQLite database, deterministically.

Two tables the way a typical web application keeps them in SQLite: ``users`` (about 1/11 of
the rows) and ``events`` (the rest), with JSON objects and arrays stored as text, booleans as
0/1, ISO timestamps as text (some with fractional seconds), money in ``NUMERIC`` columns that
SQLite's affinity stores as REAL or INTEGER, and small BLOBs on some users.

Every value comes from one seeded numpy generator and is built column-wise with numpy and
Polars, ``CHUNK_ROWS`` rows at a time (so memory stays flat at any scale), then written
with ``adbc_driver_sqlite``'s ``adbc_ingest(mode="append")`` into tables created with
explicit DDL, so the declared types are the application's, not the driver's. The same
(rows, seed) gives a byte-identical file.

Usage::

    python benchmarks/gen_appdb.py app.db --rows 2200000 --seed 42
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

DEFAULT_ROWS = 2_200_000
DEFAULT_SEED = 42
# Bump when the generated data changes, so caches keyed on it (run.py) are rebuilt.
GENERATOR_VERSION = 1

DDL = (
    """CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT UNIQUE NOT NULL,
    name TEXT,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    balance NUMERIC(12,2),
    profile JSON,
    avatar BLOB
)""",
    """CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload JSON,
    tags JSON,
    score REAL,
    happened_at DATETIME NOT NULL,
    amount NUMERIC(10,2),
    flag BOOLEAN
)""",
)
# Built after the load, as an application's migrations would have left them.
INDEXES = (
    "CREATE INDEX events_user_id_idx ON events(user_id)",
    "CREATE INDEX events_happened_at_idx ON events(happened_at)",
)

# Names with accents and an apostrophe, as real user tables have.
FIRST_NAMES = """
Ada Alan Grace Linus Barbara Ken Dennis Margaret Edsger Donald Frances John Radia Guido
Bjarne Anders Yukihiro Rasmus Brendan James Sophie Lars Ingrid Mateo Aiko Chen Priya Olu
Zoë Björn José Renée
"""
LAST_NAMES = """
Lovelace Turing Hopper Torvalds Liskov Thompson Ritchie Hamilton Dijkstra Knuth Allen
McCarthy Perlman Rossum Stroustrup Hejlsberg Matsumoto Lerdorf Eich Gosling Wilson Bak
Daubechies Álvarez Tanaka Wang Patel Adeyemi Müller O'Brien
"""
FIRST = np.array(FIRST_NAMES.split())
LAST = np.array(LAST_NAMES.split())
DOMAINS = np.array(["example.com", "mail.test", "corp.example", "uni.example.edu"])
PLANS = np.array(["free", "pro", "team", "enterprise"])
LOCALES = np.array(["en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "pt_BR"])
CITIES = np.array(["Berlin", "Lagos", "Osaka", "Lima", "Montréal", "Zürich", "Austin"])
KINDS = np.array(["page_view", "click", "search", "login", "logout", "purchase", "error"])
KIND_P = np.array([0.42, 0.22, 0.12, 0.08, 0.07, 0.06, 0.03])
TAGS = np.array(["mobile", "web", "beta", "ab:blue", "ab:green", "promo", "retry", "vip"])

# pl.format templates: "{}" is a value, "{{" and "}}" are literal braces.
PURCHASE = '{{"session":{},"items":{},"currency":"EUR","ok":{}}}'
SEARCH = '{{"session":{},"q":"{} shoes","results":{}}}'
ERROR = '{{"session":{},"code":{},"msg":"timeout after {} ms"}}'
VISIT = '{{"session":{},"path":"/p/{}","duration_ms":{}}}'

EPOCH_START = np.datetime64("2019-01-01T00:00:00", "s").astype(np.int64)
EPOCH_END = np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64)
# Rows generated and written at a time: bounds memory (about 0.5 GB) at any scale.
CHUNK_ROWS = 500_000


def split_rows(rows: int) -> tuple[int, int]:
    """Return (users, events) for a total row count: about 1/11 users."""
    users = max(1, rows // 11)
    return users, max(0, rows - users)


def chunks(total: int) -> Iterator[tuple[int, int]]:
    """(first row offset, row count) for each chunk of a table of ``total`` rows."""
    for start in range(0, total, CHUNK_ROWS):
        yield start, min(CHUNK_ROWS, total - start)


def sorted_times(rng: np.random.Generator, start: int, n: int, total: int) -> np.ndarray:
    """Sorted epoch seconds for rows start..start+n, from their share of the time window.

    Rows are appended over time, so ids and timestamps rise together across chunks.
    """
    span = int(EPOCH_END - EPOCH_START)
    low = int(EPOCH_START) + span * start // total
    high = int(EPOCH_START) + span * (start + n) // total
    return np.sort(rng.integers(low, max(high, low + 1), n))


def pick(rng: np.random.Generator, values: np.ndarray, n: int) -> pl.Series:
    """Draw ``n`` values uniformly from ``values`` as a Polars string Series."""
    # Gather from a small Series: converting a numpy unicode array of n items is 20x slower.
    return pl.Series(values.tolist(), dtype=pl.String).gather(rng.integers(0, len(values), n))


def iso_text(rng: np.random.Generator, seconds: np.ndarray) -> pl.Series:
    """ISO text 'YYYY-MM-DD HH:MM:SS', with 6-digit fractions on 20% and 3-digit on 10%."""
    micros = rng.integers(0, 1_000_000, len(seconds))
    ts = pl.Series(seconds * 1_000_000 + micros).cast(pl.Datetime("us"))
    which = rng.random(len(seconds))
    frame = pl.DataFrame({"ts": ts, "w": which})
    expr = (
        pl.when(pl.col("w") < 0.2)
        .then(pl.col("ts").dt.to_string("%Y-%m-%d %H:%M:%S%.6f"))
        .when(pl.col("w") < 0.3)
        .then(pl.col("ts").dt.to_string("%Y-%m-%d %H:%M:%S%.3f"))
        .otherwise(pl.col("ts").dt.to_string("%Y-%m-%d %H:%M:%S"))
    )
    return frame.select(expr).to_series()


def with_nulls(rng: np.random.Generator, series: pl.Series, fraction: float) -> pl.Series:
    """Replace a random ``fraction`` of ``series`` with nulls."""
    mask = pl.Series(rng.random(len(series)) < fraction)
    return pl.select(pl.when(mask).then(None).otherwise(series)).to_series()


def random_blobs(rng: np.random.Generator, n: int, fraction: float) -> pa.Array:
    """Binary array: random 64-512 byte blobs on ``fraction`` of rows, null elsewhere."""
    present = rng.random(n) < fraction
    sizes = np.where(present, rng.integers(64, 513, n), 0)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    data = rng.integers(0, 256, int(offsets[-1]), dtype=np.uint8).tobytes()
    validity = pa.array(present).buffers()[1]
    return pa.Array.from_buffers(
        pa.binary(), n, [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )


def users_frame(rng: np.random.Generator, start: int, n: int, total: int) -> pa.Table:
    """Rows ``start``..``start + n`` of the ``users`` table (of ``total``) as Arrow."""
    first, last = pick(rng, FIRST, n), pick(rng, LAST, n)
    ids = pl.Series("id", np.arange(start + 1, start + n + 1, dtype=np.int64))
    base = pl.DataFrame(
        {
            "id": ids,
            "first": first,
            "last": last,
            "domain": pick(rng, DOMAINS, n),
            "plan": pick(rng, PLANS, n),
            "locale": pick(rng, LOCALES, n),
            "city": pick(rng, CITIES, n),
            "age": rng.integers(16, 90, n),
            "news": rng.random(n) < 0.4,
            "nested": rng.random(n) < 0.3,
        }
    )
    email = pl.format("{}.{}{}@{}", "first", "last", "id", "domain").str.to_lowercase()
    newsletter = pl.when(pl.col("news")).then(pl.lit("true")).otherwise(pl.lit("false"))
    address = pl.when(pl.col("nested")).then(
        pl.format(',"address":{{"city":"{}","zip":"{}"}}', "city", (pl.col("id") * 7919) % 99991)
    )
    profile = pl.format(
        '{{"plan":"{}","locale":"{}","age":{},"newsletter":{}{}}}',
        "plan",
        "locale",
        "age",
        newsletter,
        address.otherwise(pl.lit("")),
    )
    out = base.select(
        "id",
        email.alias("email"),
        pl.format("{} {}", "first", "last").alias("name"),
        profile.alias("profile"),
    )
    balance = np.round(rng.lognormal(4.0, 2.2, n) * np.where(rng.random(n) < 0.03, -1, 1), 2)
    out = out.with_columns(
        name=with_nulls(rng, out["name"], 0.03),
        is_active=pl.Series((rng.random(n) < 0.85).astype(np.int64)),
        created_at=iso_text(rng, sorted_times(rng, start, n, total)),
        balance=with_nulls(rng, pl.Series(np.minimum(balance, 9_999_999_999.0)), 0.05),
        profile=with_nulls(rng, out["profile"], 0.05),
    )
    table = out.to_arrow()
    return table.append_column("avatar", random_blobs(rng, n, 0.10))


def tags_json(rng: np.random.Generator, n: int) -> pl.Series:
    """JSON arrays of 0-3 distinct-ish tag strings, e.g. '["web","beta"]'."""
    count = rng.choice(4, n, p=[0.35, 0.35, 0.2, 0.1])
    quoted = np.array([f'"{tag}"' for tag in TAGS])
    parts = [pick(rng, quoted, n) for _ in range(3)]
    frame = pl.DataFrame({"c": count, "a": parts[0], "b": parts[1], "d": parts[2]})
    joined = (
        pl.when(pl.col("c") == 0)
        .then(pl.lit(""))
        .when(pl.col("c") == 1)
        .then(pl.col("a"))
        .when(pl.col("c") == 2)
        .then(pl.format("{},{}", "a", "b"))
        .otherwise(pl.format("{},{},{}", "a", "b", "d"))
    )
    return frame.select(pl.format("[{}]", joined)).to_series()


def payload_json(rng: np.random.Generator, kinds: pl.Series, n: int) -> pl.Series:
    """A JSON object whose shape depends on the event kind."""
    frame = pl.DataFrame(
        {
            "kind": kinds,
            "session": pl.Series(rng.integers(0, 2**32, n, dtype=np.uint64)),
            "page": rng.integers(1, 5000, n),
            "ms": rng.integers(1, 30_000, n),
            "items": rng.integers(1, 9, n),
            "query": pick(rng, TAGS, n),
            "ok": rng.random(n) < 0.97,
        }
    )
    ok = pl.when(pl.col("ok")).then(pl.lit("true")).otherwise(pl.lit("false"))
    session = pl.col("session").cast(pl.String)
    kind = pl.col("kind")
    payload = (
        pl.when(kind == "purchase")
        .then(pl.format(PURCHASE, session, "items", ok))
        .when(kind == "search")
        .then(pl.format(SEARCH, session, "query", "items"))
        .when(kind == "error")
        .then(pl.format(ERROR, session, "page", "ms"))
        .otherwise(pl.format(VISIT, session, "page", "ms"))
    )
    return with_nulls(rng, frame.select(payload).to_series(), 0.02)


def events_frame(rng: np.random.Generator, start: int, n: int, total: int, users: int) -> pa.Table:
    """Rows ``start``..``start + n`` of ``events`` as Arrow; users are skewed."""
    kinds = pl.Series(KINDS.tolist(), dtype=pl.String).gather(rng.choice(len(KINDS), n, p=KIND_P))
    # A power law: a few users produce most events, as in real applications.
    user_id = (rng.pareto(1.2, n) * users / 20).astype(np.int64) % users + 1
    amount = np.round(rng.lognormal(3.0, 1.0, n), 2)
    frame = pl.DataFrame(
        {
            "id": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "user_id": user_id,
            "kind": kinds,
            "payload": payload_json(rng, kinds, n),
            "tags": tags_json(rng, n),
            "score": with_nulls(rng, pl.Series(rng.random(n) * 100.0), 0.05),
            "happened_at": iso_text(rng, sorted_times(rng, start, n, total)),
            "amount": pl.Series(amount),
            "flag": with_nulls(rng, pl.Series((rng.random(n) < 0.5).astype(np.int64)), 0.1),
        }
    )
    purchase = pl.col("kind") == "purchase"
    return frame.with_columns(amount=pl.when(purchase).then("amount")).to_arrow()


def write_db(path: Path, parts: Iterable[tuple[str, pa.Table]]) -> None:
    """Create the schema with explicit DDL, append each (table, rows) part, then index."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    # Autocommit, because SQLite refuses to change the safety level inside a transaction.
    with sqlite_adbc.connect(str(path), autocommit=True) as conn, conn.cursor() as cur:
        # The file is written under a temporary name and renamed, so a crash costs nothing.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144"):
            cur.execute(f"PRAGMA {pragma}")
            cur.fetchall()
        for statement in DDL:
            cur.execute(statement)
        for table, rows in parts:
            cur.adbc_ingest(table, rows, mode="append")
        for statement in INDEXES:
            cur.execute(statement)


def generate(path: Path, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the database to ``path`` (atomically replacing it); return row counts per table."""
    n_users, n_events = split_rows(rows)
    rng = np.random.default_rng(seed)
    parts = itertools.chain(
        (("users", users_frame(rng, a, n, n_users)) for a, n in chunks(n_users)),
        (("events", events_frame(rng, a, n, n_events, n_users)) for a, n in chunks(n_events)),
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    write_db(tmp, parts)
    os.replace(tmp, path)
    return {"users": n_users, "events": n_events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="output SQLite file (replaced)")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="total rows, both tables")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.path, args.rows, args.seed)
    seconds = time.perf_counter() - started
    size_mb = args.path.stat().st_size / 1e6
    print(f"{args.path}: {counts} in {seconds:.1f} s, {size_mb:.1f} MB")


if __name__ == "__main__":
    main()
