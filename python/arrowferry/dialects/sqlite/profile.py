"""The storage-class profile: what a SQLite column really holds, in one scan.

SQLite stores any value in any column; a declared type is only an affinity. The plan
profiles the columns whose target type only the data can settle (untyped columns,
unbounded decimals, UUIDs) and reads the rest the fast way.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from arrowferry import decimals
from arrowferry.dialects.facts import ColumnProfile
from arrowferry.dialects.sqlite import virtual as vt
from arrowferry.dialects.sqlite.catalog import connect_metadata, is_unresolved
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SourceError
from arrowferry.model import Column, Table


def needs_measures(table: Table) -> set[str]:
    """Columns whose plan needs lengths or magnitudes: varchar(n), unbounded decimals,
    untyped (a numeric(p,s) is measured against its limit only: see ``size_limits``)."""
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


def size_limits(table: Table) -> dict[str, tuple[int, int]]:
    """(precision, scale) of each numeric(p,s) column: the profile counts what exceeds it
    (SQLite never held its values to the precision; the plan widens the column, or names
    what will not fit, before the load). A cheap comparison for most rows."""
    return {
        c.name: (c.type.precision, c.type.scale or 0)
        for c in table.columns
        if c.type.kind == "decimal" and c.type.precision is not None
    }


# --- storage-class profile -------------------------------------------------------------


_HIGH = 2**32  # two counts share one 64-bit sum: tables of fewer than 2**32 rows

# SQLite caps a result row at 2,000 columns (SQLITE_MAX_COLUMN,
# https://www.sqlite.org/limits.html#max_column) and a column takes up to 6 aggregates
# here: a wider table is scanned once per this many columns, inside one read snapshot
COLUMNS_PER_SCAN = 300

# a rowid table with more rows than this (by its rowid span) is scanned in as many rowid
# ranges as there are cores, at once, each on a connection of its own: the scan is the
# plan's one long step before any row moves, and SQLite steps with the GIL released
# (the app database's 2 M events: 0.22 -> 0.135 s on two cores)
SPLIT_ROWS = 400_000

T = TypeVar("T")


def chunked(names: Sequence[T]) -> list[Sequence[T]]:
    """``names`` cut in runs of :data:`COLUMNS_PER_SCAN`; one (possibly empty) run for a
    narrow table."""
    size = COLUMNS_PER_SCAN
    return [names[i : i + size] for i in range(0, len(names), size)] or [names]


@contextmanager
def one_snapshot(conn: sqlite3.Connection, needed: bool = True) -> Iterator[None]:
    """Several scans of one table that must see the same rows: one read transaction
    (the metadata connection reads in autocommit, a snapshot per statement)."""
    if not needed or conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:  # read-only: nothing to keep or lose
            conn.execute("COMMIT")


def profile(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    extras: Collection[str] = (),
    limits: Mapping[str, tuple[int, int]] | None = None,
    rowid: str | None = None,
) -> tuple[int, dict[str, ColumnProfile]]:
    """Row count and a per-column storage-class profile, in one scan of the table
    (one per :data:`COLUMNS_PER_SCAN` columns of a wide one, in one snapshot; a long
    rowid table's one scan in rowid ranges at once, given its ``rowid`` alias).

    Two aggregates per column count the four storage classes (packed in pairs);
    columns in ``extras`` also get the longest text and the number magnitudes,
    which only some plans need, and those in ``limits`` ((precision, scale)) the
    values that exceed them. Kept lean: it runs over every row.
    """
    limits = dict(limits or {})
    names = [*columns, *(n for n in limits if n not in columns)]
    scan = _Scan(conn, table, set(columns), set(extras), limits)
    runs = chunked(names)
    if len(runs) == 1 and rowid is not None:
        scan.ranges = _ranges(conn, table, rowid)
    rows, result = 0, {}
    with one_snapshot(conn, len(runs) > 1):
        for run in runs:
            rows, found = scan.run(run)
            result.update(found)
    return rows, result


class _Scan:
    """One scan of ``table`` over some of its columns: the SQL, and its row read back."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        table: str,
        profiled: set[str],
        extras: set[str],
        limits: dict[str, tuple[int, int]],
    ) -> None:
        self.conn, self.table = conn, table
        self.profiled, self.extras, self.limits = profiled, extras, limits
        self.ranges: list[str] = []  # WHERE clauses scanned at once (none: one scan)

    def parts(self, name: str) -> list[str]:
        q = quote_ident(name)
        parts = []
        if name in self.profiled:
            parts += [
                f"sum(CASE typeof({q}) WHEN 'integer' THEN 1 WHEN 'real' THEN {_HIGH} END)",
                f"sum(CASE typeof({q}) WHEN 'text' THEN 1 WHEN 'blob' THEN {_HIGH} END)",
            ]
        if name in self.extras:
            parts += [
                f"max(CASE WHEN typeof({q}) = 'text' THEN length({q}) END)",
                # abs() of -2**63 overflows in SQLite; as REAL it cannot
                # (an infinite REAL fits no decimal: a bad value, not a magnitude)
                f"max(CASE WHEN typeof({q}) IN ('integer', 'real') AND abs(CAST({q} AS REAL)) < 9e999 "
                f"THEN abs(CAST({q} AS REAL)) END)",
                f"min(CASE WHEN typeof({q}) = 'real' AND {q} != 0 THEN abs({q}) END)",
            ]
        if name in self.limits:
            parts += _limit_counts(q, *self.limits[name])
        return parts

    def run(self, names: Sequence[str]) -> tuple[int, dict[str, ColumnProfile]]:
        parts = ["count(*)", *(p for name in names for p in self.parts(name))]
        sql = f"SELECT {', '.join(parts)} FROM {quote_ident(self.table)}"
        try:
            row = self._in_ranges(sql, parts) if self.ranges else vt.rows(self.conn, sql)[0]
        except (sqlite3.DatabaseError, SourceError) as err:
            raise SourceError(f"cannot read table {self.table!r}: {err}") from err
        rows = int(row[0])
        values = iter(row[1:])
        return rows, {name: self.column(name, rows, values) for name in names}

    def _in_ranges(self, sql: str, parts: Sequence[str]) -> tuple[Any, ...]:
        """The scan's one row, from its rowid ranges scanned at once, each on its own
        read-only connection (so in snapshots of their own, as the load's later read is:
        the profile sizes the plan, the load's conversions check every value again)."""
        path = vt.database_path(self.conn)

        def scan(where: str) -> tuple[Any, ...]:
            with closing(connect_metadata(Path(path))) as conn:
                return tuple(conn.execute(f"{sql} {where}").fetchone())

        try:
            with ThreadPoolExecutor(
                len(self.ranges), thread_name_prefix="arrowferry-profile"
            ) as ex:
                found = list(ex.map(scan, self.ranges))
        except sqlite3.OperationalError:
            # something the standard library's SQLite cannot read: the one scan, which asks
            # the driver's newer SQLite (``virtual.rows``)
            return tuple(vt.rows(self.conn, sql)[0])
        return tuple(_combine(part, [r[i] for r in found]) for i, part in enumerate(parts))

    def column(self, name: str, rows: int, values: Iterator[Any]) -> ColumnProfile:
        profiled = name in self.profiled
        numbers, texts = (int(next(values) or 0), int(next(values) or 0)) if profiled else (0, 0)
        length, biggest, smallest = (
            (next(values), next(values), next(values)) if name in self.extras else (0, 0, 0)
        )
        over = int(next(values) or 0) if name in self.limits else 0
        sure, maybe = over % _HIGH, over // _HIGH
        counts = (numbers % _HIGH, numbers // _HIGH, texts % _HIGH, texts // _HIGH)
        found = ColumnProfile(
            integers=counts[0],
            reals=counts[1],
            texts=counts[2],
            blobs=counts[3],
            nulls=rows - sum(counts),
            max_text_length=int(length or 0),
            max_abs_number=float(biggest or 0.0),
            min_abs_real=float(smallest or 0.0),
            classes_known=profiled,
        )
        if sure or maybe:
            found = _over_limit(self.conn, self.table, name, self.limits[name], found, sure)
        return found


def _ranges(conn: sqlite3.Connection, table: str, rowid: str) -> list[str]:
    """WHERE clauses cutting a long rowid table in one range per core (none: a short
    table, or one core)."""
    cores = min(4, os.cpu_count() or 1)
    alias = quote_ident(rowid)
    try:
        # two subqueries: SQLite seeks the rowid's ends only for a lone min() or max()
        # (both in one SELECT scan the whole table)
        low, high = conn.execute(
            f"SELECT (SELECT min({alias}) FROM {quote_ident(table)}), "
            f"(SELECT max({alias}) FROM {quote_ident(table)})"
        ).fetchone()
    except sqlite3.DatabaseError:
        return []  # the scan itself says what is wrong
    if cores < 2 or low is None or high - low < SPLIT_ROWS:
        return []
    step = -(-(high - low + 1) // cores)
    cuts = [low + i * step for i in range(1, cores)]
    # the first range has no bottom and the last no top: a row written since is in one
    middle = [f"WHERE {alias} >= {a} AND {alias} < {z}" for a, z in itertools.pairwise(cuts)]
    return [f"WHERE {alias} < {cuts[0]}", *middle, f"WHERE {alias} >= {cuts[-1]}"]


def _combine(part: str, values: Sequence[Any]) -> Any:
    """One aggregate of the whole table from its ranges' (count and sum add; max, min)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if part.startswith(("count(", "sum(")):
        return sum(present)
    if part.startswith("max("):
        return max(present)
    if part.startswith("min("):
        return min(present)
    raise ValueError(f"no way to combine {part[:40]!r} over ranges")


# --- numeric(p,s): what exceeds the declared precision ---------------------------------


def _real_literal(value: float) -> str:
    return repr(value) if value != float("inf") else "9e999"


def _limit_conditions(q: str, precision: int, scale: int) -> tuple[str, str]:
    """SQL for (surely over the limit, maybe over: exact arithmetic must decide).

    Doubles settle every number far from the limit; the band around it, and numeric
    text (SQLite keeps text it cannot convert exactly), are decided in Python.
    """
    low, high = (_real_literal(x) for x in decimals.limit_band(precision, scale))
    size = f"abs(CAST({q} AS REAL))"
    # an infinite REAL fits no numeric at all: a bad value, not a size
    number = f"typeof({q}) IN ('integer', 'real') AND {size} < 9e999"
    sure = f"{number} AND {size} >= {high}"
    maybe = f"({number} AND {size} >= {low} AND {size} < {high}) OR (typeof({q}) = 'text' AND {size} >= {low})"
    return sure, maybe


def _limit_counts(q: str, precision: int, scale: int) -> list[str]:
    """(sure + maybe * 2**32) in one aggregate. The outer test compares the stored value
    itself, which is all most rows ever meet: SQLite orders every number below any
    text or blob, so text always goes on to the exact conditions."""
    low = _real_literal(decimals.limit_band(precision, scale)[0])
    sure, maybe = _limit_conditions(q, precision, scale)
    return [
        f"sum(CASE WHEN {q} >= {low} OR {q} <= -{low} THEN "
        f"(CASE WHEN {sure} THEN 1 WHEN {maybe} THEN {_HIGH} END) END)"
    ]


def _over_limit(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    limit: tuple[int, int],
    measured: ColumnProfile,
    sure: int,
) -> ColumnProfile:
    """Count exactly the values over a numeric(p,s) limit, and the digits they need.

    A second, narrow query (run only when the scan found candidates): the borderline
    and textual values, and the largest ones, each checked as PostgreSQL will round it.
    """
    precision, scale = limit
    q = quote_ident(column)
    _sure, maybe = _limit_conditions(q, precision, scale)
    size = f"abs(CAST({q} AS REAL))"
    number = f"typeof({q}) IN ('integer', 'real') AND {size} < 9e999"
    try:
        biggest = conn.execute(
            f"SELECT max(CASE WHEN {number} THEN {size} END) FROM {quote_ident(table)}"
        ).fetchone()[0]
        top = _real_literal(float(biggest or 0.0) * (1 - decimals.BAND))
        largest = f"{number} AND {size} >= {top}"
        sql = (
            f"SELECT {q}, count(*), CASE WHEN {maybe} THEN 1 ELSE 0 END "
            f"FROM {quote_ident(table)} WHERE ({maybe}) OR ({largest}) GROUP BY 1, 3"
        )
        rows = conn.execute(sql).fetchall()
    except sqlite3.DatabaseError as err:
        raise SourceError(f"cannot read table {table!r}: {err}") from err
    over, needed = sure, 0
    for value, count, borderline in rows:
        parsed = decimals.parse(value)
        if parsed is None:
            continue
        digits = decimals.rounded_integer_digits(parsed, scale)
        if digits > precision - scale:
            over += int(count) if borderline else 0
            needed = max(needed, digits)
    return replace(measured, over_limit=over, needed_digits=needed)


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
