"""The storage-class profile: what a SQLite column really holds, in one scan.

SQLite stores any value in any column; a declared type is only an affinity. The plan
profiles the columns whose target type only the data can settle (untyped columns,
unbounded decimals, UUIDs) and reads the rest the fast way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from arrowferry.dialects.sqlite import virtual as vt
from arrowferry.dialects.sqlite.catalog import is_unresolved
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SourceError
from arrowferry.model import Column, Table


def needs_measures(table: Table) -> set[str]:
    """Columns whose plan needs lengths or magnitudes: varchar(n), unbounded decimals, untyped."""
    return {
        c.name
        for c in table.columns
        if needs_profile(c) or (c.type.kind == "text" and c.type.length is not None)
    }


def needs_profile(column: Column) -> bool:
    """Types only the data can settle: untyped columns, unbounded decimals, UUIDs."""
    kind = column.type.kind
    return (
        is_unresolved(column)
        or (kind == "decimal" and column.type.precision is None)
        or kind == "uuid"
    )


# --- storage-class profile -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """How many values of each SQLite storage class a column really holds."""

    integers: int = 0
    reals: int = 0
    texts: int = 0
    blobs: int = 0
    nulls: int = 0
    max_text_length: int = 0
    max_abs_number: float = 0.0
    min_abs_real: float = 0.0  # smallest non-zero REAL magnitude (0.0: none)

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


_HIGH = 2**32  # two counts share one 64-bit sum: tables of fewer than 2**32 rows


def profile(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    extras: Collection[str] = (),
) -> tuple[int, dict[str, ColumnProfile]]:
    """Row count and a per-column storage-class profile, in one scan of the table.

    Two aggregates per column count the four storage classes (packed in pairs);
    columns in ``extras`` also get the longest text and the number magnitudes,
    which only some plans need. Kept lean: it runs over every row.
    """
    parts = ["count(*)"]
    for name in columns:
        q = quote_ident(name)
        parts += [
            f"sum(CASE typeof({q}) WHEN 'integer' THEN 1 WHEN 'real' THEN {_HIGH} END)",
            f"sum(CASE typeof({q}) WHEN 'text' THEN 1 WHEN 'blob' THEN {_HIGH} END)",
        ]
        if name in extras:
            parts += [
                f"max(CASE WHEN typeof({q}) = 'text' THEN length({q}) END)",
                # abs() of -2**63 overflows in SQLite; as REAL it cannot
                f"max(CASE WHEN typeof({q}) IN ('integer', 'real') THEN abs(CAST({q} AS REAL)) END)",
                f"min(CASE WHEN typeof({q}) = 'real' AND {q} != 0 THEN abs({q}) END)",
            ]
    sql = f"SELECT {', '.join(parts)} FROM {quote_ident(table)}"
    try:
        row = vt.rows(conn, sql)[0]
    except (sqlite3.DatabaseError, SourceError) as err:
        raise SourceError(f"cannot read table {table!r}: {err}") from err
    rows = int(row[0])
    values = iter(row[1:])
    result = {}
    for name in columns:
        numbers, texts = int(next(values) or 0), int(next(values) or 0)
        length, biggest, smallest = (
            (next(values), next(values), next(values)) if name in extras else (0, 0, 0)
        )
        counts = (numbers % _HIGH, numbers // _HIGH, texts % _HIGH, texts // _HIGH)
        result[name] = ColumnProfile(
            integers=counts[0],
            reals=counts[1],
            texts=counts[2],
            blobs=counts[3],
            nulls=rows - sum(counts),
            max_text_length=int(length or 0),
            max_abs_number=float(biggest or 0.0),
            min_abs_real=float(smallest or 0.0),
        )
    return rows, result


_DATE_FORMS = {
    "iso_space": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] *'",
    "iso_t": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt]*'",
    "date_only": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
    "with_fraction": "typeof({q}) = 'text' AND {q} GLOB '*:[0-9][0-9].[0-9]*'",
    "with_offset": "typeof({q}) = 'text' AND ({q} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR {q} GLOB '*[Zz]')",
    "epoch_seconds": "typeof({q}) IN ('integer', 'real') AND NOT (abs({q}) < 5373484.5) AND abs(CAST({q} AS REAL)) < 1e11",
    "epoch_milliseconds": "typeof({q}) = 'integer' AND abs(CAST({q} AS REAL)) >= 1e11",
    "julian_days": "typeof({q}) IN ('integer', 'real') AND {q} >= 0 AND {q} < 5373484.5",
    # julian day 1721425.5 is 0001-01-01: a number below it lands before year 1
    "julian_days_before_year_1": "typeof({q}) IN ('integer', 'real') AND {q} >= 0 AND {q} < 1721425.5",
}


def date_forms(conn: sqlite3.Connection, table: str, column: str) -> dict[str, int]:
    """How a date-like column's values are written (for the dry-run profile)."""
    q = quote_ident(column)
    parts = ", ".join(f"sum({cond.format(q=q)})" for cond in _DATE_FORMS.values())
    row = vt.rows(conn, f"SELECT {parts} FROM {quote_ident(table)}")[0]
    return {name: int(v or 0) for name, v in zip(_DATE_FORMS, row, strict=True) if v}
