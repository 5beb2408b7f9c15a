"""Which target table and column each source one became, and the canonical form both
sides hash a column's values in: the migration's own rules.

Names follow the planner (PostgreSQL keeps 63 bytes of a name; SQLite compares names
without case). The canonical form follows the PostgreSQL side's type, the one that
holds its values to a type (a SQLite 0/1 that became a ``boolean`` hashes as the
integer 0/1 on both sides; SQLite text that became ``timestamptz`` as microseconds).
Between two SQLite files every value compares as stored, storage class included;
between two PostgreSQL databases every column by its own type.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.checks import CheckColumn, CheckTable, Kind, Segments
from arrowferry.dialects.sqlite import rowid_alias
from arrowferry.errors import BadInputError
from arrowferry.model import Column, DataType, Schema, Table

SEGMENT_ROWS = 16_384  # rows a segment holds, about: what a mismatch reads again
MAX_SEGMENTS = 4_096


@dataclass
class Pair:
    """A source table, the target table it became, and how both are hashed."""

    source: CheckTable
    target: CheckTable
    key_names: tuple[str, ...]  # the key, by source column names
    problems: list[str] = field(default_factory=list)


def _hit(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) or name.lower() == pattern.lower()


def select(
    schema: Schema, patterns: Sequence[str] | None, exclude: Sequence[str] = ()
) -> list[Table]:
    """The source tables to verify: all, or those matching names or glob patterns, less
    the excluded ones."""
    chosen = [t for t in _selected(schema, patterns) if not any(_hit(t.name, p) for p in exclude)]
    return chosen


def _selected(schema: Schema, patterns: Sequence[str] | None) -> list[Table]:
    if not patterns:
        return [t for t in schema.tables if t.unreadable is None]
    chosen: list[Table] = []
    for pattern in patterns:
        hits = [t for t in schema.tables if _hit(t.name, pattern)]
        if not hits:
            raise BadInputError(
                f"--tables: no table matches {pattern!r}; the source has "
                f"{', '.join(repr(n) for n in schema.table_names) or 'no tables'}"
            )
        chosen += [t for t in hits if t not in chosen]
    return chosen


def find(
    name: str,
    names: Sequence[str],
    target_dialect: str,
    rename: Callable[[str], str] | None = None,
) -> str | None:
    """The target's name for a source name: as is, cut to 63 bytes, or without case;
    ``rename``: the migration's identifier policy (``snake_case``: ``CustomerId`` is
    ``customer_id``), tried first."""
    if rename is not None:
        found = find(rename(name), names, target_dialect)
        if found is not None:
            return found
    if name in names:
        return name
    if target_dialect == "postgresql" and pg.truncate_identifier(name) in names:
        return pg.truncate_identifier(name)
    lowered = {n.lower(): n for n in names}
    return lowered.get(name.lower())


def pg_kind(dtype: DataType, declared: str) -> tuple[Kind, int | None]:
    """The canonical form of a PostgreSQL column's values, and its decimal scale."""
    kind = dtype.kind
    if kind in {"boolean", "int16", "int32", "int64"}:
        return "int", None
    if kind == "float64":
        return "float8", None
    if kind == "float32":
        return "float4", None
    if kind == "other" and (dtype.raw or "").lower() == "money":
        return "scaled", 2
    if kind == "decimal":
        if dtype.precision is not None and dtype.precision <= 18:
            return "scaled", dtype.scale or 0
        return "decimal", dtype.scale
    if kind == "blob":
        return "bytes", None
    if kind in {"timestamp", "timestamptz"}:
        return "timestamp", None
    if kind in {"date", "time", "uuid", "array", "text"}:
        return kind, None
    if kind == "json":
        return ("json" if dtype.raw == "json" else "jsonb"), None
    return "other", None


def _sqlite_kind(kind: Kind, *, source: bool) -> Kind:
    """The SQLite side's form of a PostgreSQL kind: text a migration wrote from the
    server's own text is already canonical; a SQLite source's JSON must be made so."""
    if kind == "jsonb" and not source:
        return "json"
    if kind == "uuid" and not source:
        return "text"
    return kind


def _column_pair(
    src: Column, tgt: Column, source_dialect: str, target_dialect: str
) -> tuple[CheckColumn, CheckColumn]:
    if source_dialect == target_dialect == "sqlite":
        return (
            CheckColumn(src.name, "stored", src.type, src.declared),
            CheckColumn(tgt.name, "stored", tgt.type, tgt.declared),
        )
    if source_dialect == target_dialect:
        kind, scale = pg_kind(src.type, src.declared)
        other, other_scale = pg_kind(tgt.type, tgt.declared)
        if (kind, scale) != (other, other_scale):
            kind, scale = "other", None  # the types differ: compare the server's text
        return (
            CheckColumn(src.name, kind, src.type, src.declared, scale),
            CheckColumn(tgt.name, kind, tgt.type, tgt.declared, scale),
        )
    # one side is PostgreSQL: its type rules both; SQLite's values convert into it
    into_pg = target_dialect == "postgresql"
    pg_col = tgt if into_pg else src
    kind, scale = pg_kind(pg_col.type, pg_col.declared)
    if into_pg and kind == "float4":
        # a double narrowed into real lost digits: compare the doubles, so that shows
        kind = "float8"
    if not into_pg and kind in {"timestamp", "date", "time"}:
        # a copy into SQLite keeps the server's text (BC years, year 10000 and infinity
        # too, which no date parser reads back): compare that text
        kind = "written"
    pg_side = CheckColumn(pg_col.name, kind, pg_col.type, pg_col.declared, scale)
    lite = src if into_pg else tgt
    lite_side = CheckColumn(
        lite.name, _sqlite_kind(kind, source=into_pg), pg_col.type, lite.declared, scale
    )
    return (lite_side, pg_side) if into_pg else (pg_side, lite_side)


def pair(
    src: Table,
    tgt: Table,
    source_dialect: str,
    target_dialect: str,
    source_schema: str | None,
    target_schema: str | None,
    *,
    left_out: frozenset[str] = frozenset(),
    rename: Callable[[str], str] | None = None,
) -> Pair:
    """Both sides of one table: every source column with the target column it became
    (less those ``left_out``, lower-case source names; ``rename``: as for :func:`find`)."""
    problems: list[str] = []
    src_cols: list[CheckColumn] = []
    tgt_cols: list[CheckColumn] = []
    names = [c.name for c in tgt.columns]
    for col in src.columns:
        if col.name.lower() in left_out:
            continue
        found = find(col.name, names, target_dialect, rename)
        if found is None:
            problems.append(f"column {col.name!r} is missing from the target")
            continue
        a, b = _column_pair(col, tgt.column(found), source_dialect, target_dialect)
        src_cols.append(a)
        tgt_cols.append(b)
    key_names = _key(src, tgt, target_dialect, rename)
    positions = tuple(i for name in key_names for i, c in enumerate(src_cols) if c.name == name)
    if len(positions) != len(key_names):
        key_names, positions = (), ()
    segments = Segments("hash", 1)
    return Pair(
        CheckTable(
            src.name,
            source_schema,
            tuple(src_cols),
            positions,
            segments,
            rowid=rowid_alias(src) if source_dialect == "sqlite" else None,
        ),
        CheckTable(
            tgt.name,
            target_schema,
            tuple(tgt_cols),
            positions,
            segments,
            rowid=rowid_alias(tgt) if target_dialect == "sqlite" else None,
        ),
        key_names,
        problems,
    )


def left_out(table: Table, columns: Sequence[str]) -> frozenset[str]:
    """The lower-case names of ``table``'s columns among ``columns`` (``table.column``)."""
    out = set()
    for key in columns:
        name, _, column = key.rpartition(".")
        if name.lower() == table.name.lower():
            out.add(column.lower())
    return frozenset(out)


def _key(
    src: Table, tgt: Table, target_dialect: str, rename: Callable[[str], str] | None
) -> tuple[str, ...]:
    """The columns that identify a row (source names): the source's primary key, else
    the target's (mapped back), else none."""
    if src.primary_key is not None:
        return src.primary_key.columns
    if tgt.primary_key is not None:
        names = []
        for k in tgt.primary_key.columns:
            match = next(
                (c.name for c in src.columns if find(c.name, [k], target_dialect, rename)), None
            )
            if match is None:
                return ()
            names.append(match)
        return tuple(names)
    return ()


def segmented(p: Pair, rows: int, spans: Sequence[tuple[int, int] | None]) -> Pair:
    """Both sides cut alike: by ranges of an integer key both sides could span, else by
    hash; about ``SEGMENT_ROWS`` rows each."""
    count = max(1, min(MAX_SEGMENTS, -(-rows // SEGMENT_ROWS)))
    key = p.source.key
    known = [s for s in spans if s is not None]
    ranged = (
        len(key) == 1
        and p.source.columns[key[0]].kind == "int"
        and p.source.columns[key[0]].type.kind != "boolean"
        and len(known) == len(spans)
        and bool(known)
        # key - low must not overflow 64 bits, on either side
        and max(s[1] for s in known) - min(s[0] for s in known) < 2**62
    )
    if ranged:
        low = min(s[0] for s in known)
        high = max(s[1] for s in known)
        width = max(1, -(-(high - low + 1) // count))
        segments = Segments("range", -(-(high - low + 1) // width), low, width)
    else:
        segments = Segments("hash", 1 << max(0, (count - 1).bit_length()))
    return replace(
        p,
        source=replace(p.source, segments=segments),
        target=replace(p.target, segments=segments),
    )
