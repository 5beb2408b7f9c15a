"""What a content checksum asks of a database: the neutral description of one table's
hashed columns, rows and segments (``arrowferry.verify`` builds it, a dialect renders it).

A checksum hashes every value in a **canonical form** both engines can produce: a
SQLite text timestamp and a PostgreSQL ``timestamp`` both hash as microseconds since
2000, a SQLite 0/1 and a ``boolean`` both as an integer. Each value is hashed with its
row's **seed**, the hash of the row's key, so two values swapped between rows change the
sums; a table's checksum is, per segment of rows, the row count and one sum of hashes
per column (sums do not depend on the order rows are read in).

How each side computes the hashes is its dialect's business: PostgreSQL in SQL (its own
hash functions, on the server), SQLite by handing Arrow batches to the client, which
hashes them with the same functions (:mod:`arrowferry.checksum.pghash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from arrowferry.model import DataType

Kind = Literal[
    "int",  # integers and booleans: hashint8extended of the value (true = 1)
    "float8",  # hashfloat8extended of the double
    "float4",  # the same, of the single-precision value widened to a double
    "scaled",  # a decimal of known scale as the integer value * 10^scale (hashint8extended)
    "decimal",  # any other decimal as its shortest plain text: trim_scale(x)::text
    "text",  # the text's bytes (hashtextextended); char(n) with its padding
    "bytes",  # the bytes, as lowercase hex text
    "timestamp",  # microseconds since 2000-01-01 (timestamp_hash_extended); tz: in UTC
    "date",  # days since 2000-01-01
    "time",  # microseconds since midnight
    "json",  # the text as stored (PostgreSQL json keeps it)
    "jsonb",  # the text jsonb prints: keys sorted, ", " and ": " between items
    "uuid",  # lowercase 8-4-4-4-12 text
    "array",  # the array as to_json writes it (what a SQLite copy stores)
    "other",  # the server's own text (interval, inet, enum...): what a SQLite copy stores
    "written",  # a date or time as the server's text, as a copy into SQLite writes it
    "stored",  # SQLite <-> SQLite: the value as stored, storage class included
]

SEED = 0x61667273  # the seed of a key's first column (and of every row without a key)
NULL_MARK = 0x4E554C4C  # a NULL hashes as (seed XOR this)
BAD_MARK = 0x4241440A  # a value that does not convert hashes its raw text with this seed
EPOCH_2000_DAYS = (
    10_957  # 2000-01-01 - 1970-01-01: PostgreSQL's dates and timestamps count from 2000
)
EPOCH_2000_US = EPOCH_2000_DAYS * 86_400_000_000


@dataclass(frozen=True, slots=True)
class CheckColumn:
    """One column as this database holds it, and the canonical form its values take."""

    name: str
    kind: Kind
    type: DataType  # the neutral type it is declared with here
    declared: str = ""
    scale: int | None = None  # "scaled" and "decimal": digits after the point (None: as stored)

    @property
    def padded(self) -> bool:
        """PostgreSQL ``char(n)``: its text keeps the blanks that pad it."""
        return self.declared.lower().startswith(("character(", "char(", "bpchar"))


@dataclass(frozen=True, slots=True)
class Segments:
    """How rows fall into segments, alike on both sides.

    ``range``: by an integer key, ``(key - low) // width``; ``hash``: by the low bits of
    the row's seed (``count`` is a power of two); a table without a key is segmented by
    the hash of its whole row.
    """

    how: Literal["range", "hash"]
    count: int
    low: int = 0
    width: int = 1

    def of_key(self, key: int) -> int:
        return (key - self.low) // self.width if self.how == "range" else 0


@dataclass(frozen=True, slots=True)
class CheckTable:
    """One table of one database, as a checksum reads it."""

    name: str
    schema: str | None
    columns: tuple[CheckColumn, ...]  # every compared column, in the pair's order
    key: tuple[int, ...]  # positions in ``columns`` of the key (empty: no key)
    segments: Segments
    rowid: str | None = None  # SQLite: how the rowid is reached (to leave rejected rows out)
    only: bool = True  # PostgreSQL: without the rows of inheriting tables

    @property
    def key_columns(self) -> tuple[CheckColumn, ...]:
        return tuple(self.columns[i] for i in self.key)

    @property
    def range_key(self) -> CheckColumn | None:
        """The integer key a ``range`` segmentation cuts by."""
        return self.columns[self.key[0]] if self.segments.how == "range" else None


def segment_of_hash(count: int) -> int:
    """The mask a ``hash`` segmentation takes the seed's low bits with."""
    return max(1, count) - 1
