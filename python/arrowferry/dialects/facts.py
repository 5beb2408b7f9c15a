"""What a plan needs to know of a source beyond its schema, in terms every target
understands: row counts, counters, the rules a column's type carries (a PostgreSQL
domain's CHECKs and NOT NULL, an enum's labels), constant defaults already evaluated,
and what the source defined itself that no other database can call.

A source dialect fills what it has (SQLite: rows, AUTOINCREMENT counters and each
column's :class:`ColumnProfile`; PostgreSQL: the rest); a target dialect's planning reads
only these, never the source's driver or catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

# ("view", name) | ("check", table, constraint) | ("domain", type as declared, constraint)
# | ("default", table, column) | ("index", name)
Owner = tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    """What a domain holds its values to, its base domains' rules included."""

    not_null: bool = False
    default: str | None = None  # the nearest one along the chain of base domains
    checks: tuple[tuple[str, str], ...] = ()  # (name, expression over VALUE)
    chain: tuple[str, ...] = ()  # itself, then its base domains, as format_type names them


@dataclass(frozen=True)
class SourceFacts:
    """What a plan needs from the source beyond its schema, read in one snapshot."""

    rows: Mapping[str, int]
    # table -> column -> decimal values with more significant digits than a double keeps
    wide_decimals: Mapping[str, Mapping[str, int]]
    sequences: Mapping[str, int]  # table -> last value of its key's counter
    partitioned: frozenset[str] = frozenset()  # read whole, not ONLY
    loose_sequences: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # type as declared -> labels
    domains: Mapping[str, Domain] = field(default_factory=dict)  # type as declared -> rules
    # table -> column -> its constant default, evaluated and read like the column's values
    defaults: Mapping[str, Mapping[str, pa.Array]] = field(default_factory=dict)
    # what calls a function or operator the source defined itself, by Owner -> those names
    user_routines: Mapping[Owner, tuple[str, ...]] = field(default_factory=dict)
    materialized: Mapping[str, bool] = field(default_factory=dict)  # name -> populated
    # (table or view, column) -> the collation of a text column that does not compare
    # bytes as SQLite does (a PostgreSQL database at a locale): views over it are named
    locale_ordered: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What a column of a source that does not enforce declared types really holds:
    how many values of each storage class (SQLite's five), and the measures a target
    needs to size it."""

    integers: int = 0
    reals: int = 0
    texts: int = 0
    blobs: int = 0
    nulls: int = 0
    max_text_length: int = 0
    max_abs_number: float = 0.0
    min_abs_real: float = 0.0  # smallest non-zero REAL magnitude (0.0: none)
    # numeric(p,s) columns: values needing more than p - s integer digits once rounded
    # (half away from zero) to s places, and the integer digits the largest one needs
    over_limit: int = 0
    needed_digits: int = 0
    classes_known: bool = True  # False: only the limit was measured (the class counts are 0)

    @property
    def classes(self) -> tuple[str, ...]:
        pairs = (
            ("integer", self.integers),
            ("real", self.reals),
            ("text", self.texts),
            ("blob", self.blobs),
        )
        return tuple(name for name, count in pairs if count)

    def only(self, *classes: str) -> bool:
        return set(self.classes) <= set(classes)
