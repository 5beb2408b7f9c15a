"""PostgreSQL -> SQLite correctness: the same aggregates, computed by both engines.

Each column is reduced to a few numbers that PostgreSQL (on the source) and SQLite (on a
method's output) compute alike, whatever declared type or storage class the method chose
(see ``schema.KINDS``). The decisive one is the table's **digest**: the sum over the rows
of the first 32 bits of the md5 of the row's canonical bytes (the id, then each column's
canonical value, ``|``-separated, the doubles last), so a value changed, lost or moved to
another row changes it. A canonical value is the same on both sides: integers and booleans as
integers, money in cents, timestamps as whole seconds since 1970 plus the microseconds
(however many fraction digits the text has), text and JSON as stored (JSON as PostgreSQL
prints ``jsonb``), blobs as their bytes, and doubles as their 8 IEEE bytes: an exact
comparison. PostgreSQL computes it with ``md5()``; SQLite, which has no md5, concatenates
the bytes in SQL and hands them (and the doubles, which SQL cannot turn into their bytes)
to an aggregate function written in Python, one call per row.

The other numbers, computed on the SQLite side when asked for (``detail``: a second scan),
say which column differs and how: per column the non-NULL values, and
the sum of integers, true booleans, doubles (equal to a relative 1e-9: the order of the
additions may differ), cents (rounded per value, so REAL 12.5, text '12.50' and numeric
12.50 all count 1250), whole seconds and microseconds of timestamps, characters of text,
bytes of blobs. The same SQLite scan counts each column's storage classes (``typeof``),
which with the declared types shows how a tool stored the values.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import struct
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from harness.schema import KINDS


@dataclass(frozen=True)
class Measure:
    """One number per column, as PostgreSQL and as SQLite compute it ({c}: the column)."""

    name: str
    postgres: str
    sqlite: str


# SQLite's date functions round to milliseconds: whole seconds are parsed without the
# fraction, and the fraction is read from the text ('...:49.12' -> '120000' microseconds).
_SECONDS = Measure(
    "epoch_seconds",
    "floor(extract(epoch FROM {c}))::bigint",
    "CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER)",
)
_MICROS = Measure(
    "fraction_us",
    "(extract(microseconds FROM {c})::bigint % 1000000)",
    "CAST(substr({c} || '000000', 21, 6) AS INTEGER)",
)
_CHARS = Measure("chars", "length({c}::text)", "length({c})")

# Per kind: what is summed besides the non-NULL count.
SUMMED: dict[str, tuple[Measure, ...]] = {
    "int": (Measure("sum", "{c}", "{c}"),),
    "bool": (Measure("true", "{c}::int", "{c}"),),
    "float": (Measure("sum", "{c}", "{c}"),),
    "money": (Measure("cents", "round({c} * 100)", "CAST(round({c} * 100) AS INTEGER)"),),
    "timestamp": (_SECONDS, _MICROS),
    "text": (_CHARS,),
    "json": (_CHARS,),
    "blob": (Measure("bytes", "length({c})", "length({c})"),),
}

# Per kind: the canonical value the digest hashes, in PostgreSQL (text, or bytea when
# flagged) and in SQLite (concatenated as bytes; a double goes to Python as a REAL).
CANONICAL: dict[str, tuple[str, str, bool]] = {
    "int": ("{c}::text", "CAST({c} AS INTEGER)", False),
    "bool": ("{c}::int::text", "CAST({c} AS INTEGER)", False),
    "float": ("float8send({c})", "CAST({c} AS REAL)", True),  # last, see _digest_order
    "money": ("round({c} * 100)::bigint::text", "CAST(round({c} * 100) AS INTEGER)", False),
    # the text up to the seconds (SQLite's strftime costs 3x a substr) and the microseconds
    "timestamp": (
        f"to_char({{c}}, 'YYYY-MM-DD HH24:MI:SS') || '.' || {_MICROS.postgres}::text",
        f"substr({{c}}, 1, 19) || '.' || {_MICROS.sqlite}",
        False,
    ),
    "text": ("{c}::text", "{c}", False),
    "json": ("{c}::text", "{c}", False),
    "blob": ("{c}", "{c}", True),
}
NULL_MARK = b"\\N"
SEPARATOR = b"|"
STORAGE_CLASSES = ("integer", "real", "text", "blob")
FLOAT_TOLERANCE = 1e-9

Sums = dict[str, dict[str, float | int | None]]  # table -> {"rows" | "column.measure": value}


def _double_bytes(value: float | None) -> bytes:
    return NULL_MARK if value is None else struct.pack(">d", value)  # as float8send


class RowDigest:
    """SQLite's side of the digest, as an aggregate: ``row_digest(row_bytes, d1, d2, ...)``
    with the doubles ``d1...`` after the row's other canonical bytes."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, row: bytes, *doubles: float | None) -> None:
        if doubles:
            row = SEPARATOR.join([row, *map(_double_bytes, doubles)])
        self.total += int.from_bytes(hashlib.md5(row).digest()[:4], "big")  # as ::bit(32)

    def finalize(self) -> int:
        return self.total


def _quoted(column: str) -> str:
    return f'"{column}"'


def _detail_keys(table: str) -> list[str]:
    """The names of the per-column numbers of ``table``, in the order the queries give them."""
    keys = []
    for column, kind in KINDS[table].items():
        keys += [f"{column}.non_null", *(f"{column}.{m.name}" for m in SUMMED[kind])]
    return keys


def _digest_order(table: str) -> list[tuple[str, str]]:
    """(column, kind) in the order the digest takes them: the doubles last."""
    columns = list(KINDS[table].items())
    return [c for c in columns if c[1] != "float"] + [c for c in columns if c[1] == "float"]


def _bytea(data: bytes) -> str:
    return f"'\\x{data.hex()}'::bytea"


def _details(table: str, engine: str) -> list[str]:
    exprs = []
    for column, kind in KINDS[table].items():
        c = _quoted(column)
        exprs.append(f"count({c})")
        exprs += [f"sum({getattr(m, engine).format(c=c)})" for m in SUMMED[kind]]
    return exprs


def _postgres_sql(schema: str, table: str) -> str:
    """Rows, the per-column numbers and the digest, in one scan."""
    parts = ["convert_to(id::text, 'UTF8')"]
    for column, kind in _digest_order(table):
        value, _, is_bytes = CANONICAL[kind]
        value = value.format(c=_quoted(column))
        value = value if is_bytes else f"convert_to({value}, 'UTF8')"
        parts.append(f"coalesce({value}, {_bytea(NULL_MARK)})")
    row = f" || {_bytea(SEPARATOR)} || ".join(parts)
    digest = f"coalesce(sum(('x' || left(md5({row}), 8))::bit(32)::bigint), 0)"
    exprs = ["count(*)", digest, *_details(table, "postgres")]
    return f'SELECT {", ".join(exprs)} FROM "{schema}"."{table}"'


def _sqlite_digest_sql(table: str) -> str:
    """Rows and the digest."""
    # SQLite's || makes text of any operand, bytes kept as they are (NULs too); the
    # CAST hands Python the bytes, so text that is not valid UTF-8 is no error
    parts, doubles = ["id"], []
    for column, kind in _digest_order(table):
        value = CANONICAL[kind][1].format(c=_quoted(column))
        if kind == "float":
            doubles.append(value)
        else:
            parts.append(f"coalesce({value}, X'{NULL_MARK.hex()}')")
    joined = f" || '{SEPARATOR.decode()}' || ".join(parts)
    digest = f"row_digest({', '.join([f'CAST({joined} AS BLOB)', *doubles])})"
    return f'SELECT count(*), {digest} FROM "{table}"'


def _sqlite_detail_sql(table: str) -> str:
    """The per-column numbers, then the storage classes."""
    classes = [
        f"sum(typeof({_quoted(column)}) = '{kind}')"
        for column in KINDS[table]
        for kind in STORAGE_CLASSES
    ]
    return f'SELECT {", ".join([*_details(table, "sqlite"), *classes])} FROM "{table}"'


def _number(value: Any) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return float(value)


def postgres_sums(url: str, schema: str = "public") -> Sums:
    """Every number of every checked table of the PostgreSQL database at ``url``."""
    sums: Sums = {}
    with psycopg.connect(url) as conn:
        for table in KINDS:
            row = conn.execute(_postgres_sql(schema, table)).fetchone()
            assert row is not None
            keys = ["rows", "digest", *_detail_keys(table)]
            sums[table] = {k: _number(v) for k, v in zip(keys, row, strict=True)}
    return sums


def _sqlite_table(
    conn: sqlite3.Connection, table: str, detail: bool, storage: dict[str, dict[str, int]]
) -> dict[str, float | int | None]:
    rows, digest = conn.execute(_sqlite_digest_sql(table)).fetchone()
    sums = {"rows": rows, "digest": digest}
    if detail:
        row = conn.execute(_sqlite_detail_sql(table)).fetchone()
        keys = _detail_keys(table)
        sums.update({k: _number(v) for k, v in zip(keys, row[: len(keys)], strict=True)})
        pairs = [(col, kind) for col in KINDS[table] for kind in STORAGE_CLASSES]
        for (column, kind), n in zip(pairs, row[len(keys) :], strict=True):
            if n:
                storage.setdefault(f"{table}.{column}", {})[kind] = int(n)
    return sums


def sqlite_sums(
    path: Path, detail: bool = True
) -> tuple[Sums, dict[str, dict[str, int]], list[str]]:
    """(numbers, storage classes per column, problems) of the SQLite file at ``path``.

    Rows and the digest always (about 10 s for 2 M rows); with ``detail``, a second scan
    for the per-column numbers and the storage classes (as long again). A table that
    cannot be read is a problem, not an exception.
    """
    sums: Sums = {}
    storage: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.create_aggregate("row_digest", -1, RowDigest)  # type: ignore[arg-type]
        for table in KINDS:
            try:
                sums[table] = _sqlite_table(conn, table, detail, storage)
            except sqlite3.Error as err:
                problems.append(f"{table}: {err}")
    return sums, storage, problems


def _equal(table: str, key: str, got: float | int | None, want: float | int | None) -> bool:
    if got is None or want is None:
        return got is want
    column, _, measure = key.partition(".")
    if measure == "sum" and KINDS[table][column] == "float":
        return math.isclose(got, want, rel_tol=FLOAT_TOLERANCE)
    return got == want


def compare(got: Sums, want: Sums) -> list[str]:
    """Readable differences between a method's output and the source (empty when equal)."""
    problems: list[str] = []
    for table, expected in want.items():
        actual = got.get(table)
        if actual is None:
            problems.append(f"{table}: not checked")
            continue
        for key, value in expected.items():
            if key not in actual or _equal(table, key, actual[key], value):
                continue  # the numbers not computed (no detail) are not compared
            if key == "digest":
                problems.append(f"{table}: digest differs (values changed or moved)")
            else:
                problems.append(f"{table}.{key}: {actual.get(key)}, expected {value}")
    return problems


def sqlite_types(path: Path, storage: dict[str, dict[str, int]]) -> dict[str, str]:
    """``table.column -> 'DECLARED TYPE [storage classes]'``, to show what each tool chose."""
    out = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for table in KINDS:
            for _, name, declared, *_ in conn.execute(f'PRAGMA table_info("{table}")'):
                classes = ",".join(sorted(storage.get(f"{table}.{name}", {}))) or "all NULL"
                out[f"{table}.{name}"] = f"{declared or '(none)'} [{classes}]"
    return out


def sqlite_structure(path: Path) -> dict[str, int]:
    """What the method built besides data: keys, unique indexes, FKs, plain indexes,
    AUTOINCREMENT counters and views."""
    counts = dict.fromkeys(
        ("primary_keys", "unique", "foreign_keys", "indexes", "autoincrement", "views"), 0
    )
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            counts["primary_keys"] += any(c[5] for c in columns)
            for _, _, unique, origin, _ in conn.execute(f'PRAGMA index_list("{table}")'):
                if origin != "pk":
                    counts["unique" if unique else "indexes"] += 1
            fks = conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
            counts["foreign_keys"] += len({fk[0] for fk in fks})
        counts["views"] = conn.execute(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'view'"
        ).fetchone()[0]
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").fetchone():
            counts["autoincrement"] = conn.execute(
                "SELECT count(*) FROM sqlite_sequence"
            ).fetchone()[0]
    return counts
