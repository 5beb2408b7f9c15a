"""Incremental runs (issue 16): move only what changed since the last run, as upserts.

An incremental run is a data-only run (planned from the target's own tables) whose
source reads only changed rows and whose target writes them as upserts. It runs on the
one pipeline: this module wraps the run's source and target sessions, so conversion,
rejects, retries and the ledger are those of a full migration.

Per table, changed rows are found by

- a cursor column (``cursor=``): rows whose cursor is above the last committed mark and
  at most this run's mark, the largest cursor value the source holds when the table is
  read (taken from the source, never from the clock);
- else, for a single integer primary key, the key's high-water mark in the target:
  rows appended since (updates are not seen: append-only tables);
- ``full_refresh``: every row, the target table truncated first.

A table with neither (or without a key to upsert on) is named and left alone, or copied
in full with ``full_refresh_unkeyed``. The mark is written in the target, in the
transaction that writes the rows it covers, so a crash between tables never skips or
repeats a change. A full run given ``cursor=`` records the first marks
(``transfer.first_marks``). Deletes (``detect_deletes``) come first, then the upserts, in
an order the target's foreign keys accept (``transfer.incremental_order``): an
incremental run drops, rebuilds and re-validates nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from arrowferry.dialects.base import Statement

if TYPE_CHECKING:
    from arrowferry.dialects.base import SourceSession, TableLoad, TargetSession
    from arrowferry.dialects.keyhash import HashSide
    from arrowferry.dialects.keyranges import KeySide
    from arrowferry.options import MigrationOptions
    from arrowferry.plan import MigrationPlan, TablePlan
    from arrowferry.result import MigrationResult
    from arrowferry.urls import Endpoint

INTEGER_KINDS = frozenset({"int16", "int32", "int64"})


@dataclass(frozen=True)
class Mark:
    """A cursor value as the source holds it: its text and its type there (a SQLite
    storage class, a PostgreSQL type), so the next run compares like with like."""

    value: str
    kind: str


@dataclass(frozen=True)
class Kept:
    """What the target keeps of a table's last committed run."""

    column: str | None  # None: a full refresh without a cursor
    mark: Mark | None
    shape: str | None  # the source table's columns and key then (:func:`shape`)


def kept(column: str | None, mark: str | None, kind: str | None, shape: str | None) -> Kept:
    """A state row as the target holds it."""
    return Kept(column, Mark(mark, kind or "text") if mark is not None else None, shape)


def shape(table: TablePlan) -> str:
    """A digest of the source table's column names, declared types and key: when it moves
    between runs, the target may no longer fit the rows (``arrowferry diff``)."""
    key = table.source.primary_key.columns if table.source.primary_key else ()
    parts = [(c.name, c.declared or str(c.type)) for c in table.source.columns]
    text = json.dumps([parts, list(key)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Follow:
    """How one table is followed, and what this run found."""

    table: str  # the target table (the plan's name)
    how: str  # "cursor", "key" (integer key's high-water mark) or "full" (full refresh)
    column: str | None = None  # the source column compared with the mark
    key: tuple[str, ...] = ()  # the target's primary key columns
    after: Mark | None = None  # the last committed mark (None: every row)
    upto: Mark | None = None  # this run's mark, once the source is read
    counts: dict[str, int] = field(default_factory=dict)  # after the table commits
    shape: str | None = None  # the source table's shape (kept with the mark)
    # --detect-deletes: the source's integer key, compared before the run's upserts
    source_keys: KeySide | None = None
    source_hash: HashSide | None = None  # the same, for any other key (hash buckets)
    deleted: int | None = None  # --detect-deletes: the rows deleted before the upserts
    why: str | None = None  # a full refresh the run chose (--full-refresh-unkeyed)
    # where the table's time went: "deletes" (finding and deleting the keys that left
    # the source), "merge" (the staged rows into place, the mark saved, the commit)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def looks_for_deletes(self) -> bool:
        return self.source_keys is not None or self.source_hash is not None

    def report(self) -> dict[str, Any]:
        done = {"inserted": 0, "updated": 0, "unchanged": 0, **self.counts}
        done["deleted"] = self.deleted or 0
        mark = self.upto or self.after
        return {
            "how": self.how,
            "cursor": self.column,
            **done,
            # None: not looked for (no --detect-deletes, or a key it cannot compare yet)
            "deleted": done.get("deleted") if self.looks_for_deletes else None,
            "mark": mark.value if mark is not None else None,
            "previous_mark": self.after.value if self.after is not None else None,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            **({"reason": self.why} if self.why else {}),
        }


class DeltaReader(Protocol):
    """A source dialect's side: the mark, and the rows between two marks."""

    def bound(self, table: TablePlan, column: str, after: Mark | None) -> Mark | None:
        """The largest value of ``column`` above ``after`` (None: no row is)."""
        ...

    def batches(
        self, table: TablePlan, column: str, after: Mark | None, upto: Mark, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """The planned read of the rows with ``after < column <= upto``."""
        ...

    def key_side(self, table: TablePlan, column: str) -> KeySide:
        """An integer key column, for comparing key sets (``dialects.keyranges``)."""
        ...

    def hash_side(self, table: TablePlan, columns: Sequence[str]) -> HashSide:
        """Any key of integer and text columns, by hash buckets (``dialects.keyhash``)."""
        ...


class UpsertWriter(Protocol):
    """A target dialect's side: the marks it keeps, and the loads that upsert."""

    def marks(self) -> dict[str, Kept]:
        """Per target table: the cursor column, the last committed mark, and the shape of
        the source table then."""
        ...

    def high_water(self, table: TablePlan, column: str) -> int | None: ...

    def load(self, table: TablePlan, follow: Follow) -> TableLoad: ...

    def references(self) -> list[tuple[str, str]]:
        """(referencing, referenced) tables of the foreign keys the target enforces as
        rows are written (none for SQLite, whose loads run with them off)."""
        ...

    def delete_missing(self, table: TablePlan, follow: Follow) -> int:
        """Delete the table's rows whose keys left the source, in a transaction of its own."""
        ...

    def message(self, err: BaseException) -> str: ...


def wrap(
    plan: MigrationPlan,
    source: SourceSession,
    target: TargetSession,
    source_endpoint: Endpoint,
    target_dialect: str,
    options: MigrationOptions,
    result: MigrationResult,
) -> tuple[MigrationPlan, SourceSession, TargetSession, Run]:
    """The plan's followable tables, and sessions that read and write only changes."""
    if source_endpoint.dialect == target_dialect:
        from arrowferry.errors import BadInputError

        raise BadInputError(
            "--incremental between two databases of one kind is not supported yet "
            "(SQLite -> PostgreSQL and PostgreSQL -> SQLite are)"
        )
    reader = reader_for(source_endpoint.dialect, source)
    writer = _writer(target_dialect, target, options)
    run = Run(writer.marks())
    kept = []
    for table in plan.tables:
        changed = None if _refreshed(table, options) else _shape_changed(table, run)
        if changed is not None:
            result.table_failed(table.name, changed, fatal=False)
            continue
        follow, why = _follow(table, options, run, writer)
        if follow is None and options.full_refresh_unkeyed and "(--cursor)" not in why:
            # copied in full, and said why (the hint to --full-refresh is what it does)
            reason = why.split(";")[0]
            follow = Follow(table.name, "full", None, why=f"--full-refresh-unkeyed: {reason}")
        if follow is None:
            result.incremental[table.name] = {"how": "skipped", "reason": why}
            result.warnings.append(f"--incremental: table {table.name!r} is left as it is: {why}")
            continue
        if options.detect_deletes and follow.how != "full":
            _detect_deletes(table, follow, reader, result)
        follow.shape = shape(table)
        run.follows[table.name] = follow
        kept.append(table)
    kept = _ordered(kept, writer, run, result)
    names = {t.name for t in kept}
    finish = [s for s in plan.finish if s.table is None or s.table in names]
    plan = replace(plan, tables=kept, finish=_no_vacuum(finish))
    from arrowferry.transfer.delta_sessions import DeltaSource, DeltaTarget

    return plan, DeltaSource(source, reader, run), DeltaTarget(target, writer, run), run


def _ordered(
    tables: list[TablePlan], writer: UpsertWriter, run: Run, result: MigrationResult
) -> list[TablePlan]:
    """Referenced tables first, and the deletes done before any upsert, referencing
    tables first (``transfer.incremental_order``); a table whose deletes fail is left
    out of the run."""
    from arrowferry.transfer.incremental_order import linked, parents_first

    edges = writer.references()
    order = parents_first(tables, edges)
    run.keep_foreign_keys = order is not None
    if order is None:
        result.warnings.append(
            "--incremental: the foreign keys between the run's tables form a cycle, so they "
            "are dropped for the run and re-validated after it, as in a --data-only run"
        )
    tables = order if order is not None else tables
    run.one_at_a_time = run.keep_foreign_keys and linked(tables, edges)
    out = list(tables)
    for table in reversed(tables):
        follow = run.follows[table.name]
        if not follow.looks_for_deletes:
            continue
        started = time.perf_counter()
        try:
            follow.deleted = writer.delete_missing(table, follow)
            follow.seconds["deletes"] = time.perf_counter() - started
        except Exception as err:
            result.table_failed(
                table.name,
                f"table {table.name!r}: the rows whose keys left the source could not be "
                f"deleted: {writer.message(err)}",
                fatal=False,
            )
            out.remove(table)
            del run.follows[table.name]
    return out


def report(run: Run, result: MigrationResult) -> None:
    """Each followed table's counts and marks into the result (failed ones are errors)."""
    failed = {e.table for e in result.errors} | set(result.not_attempted)
    for name, follow in run.follows.items():
        if name not in failed:
            result.incremental[name] = follow.report()


def _no_vacuum(finish: Sequence[Statement]) -> list[Statement]:
    """A few changed rows do not need the whole table vacuumed (autovacuum will)."""
    return [s for s in finish if s.kind != "vacuum"]


@dataclass
class Run:
    marks: dict[str, Kept]
    follows: dict[str, Follow] = field(default_factory=dict)
    # the target's foreign keys stay in place (the writes are ordered for them)
    keep_foreign_keys: bool = True
    one_at_a_time: bool = False  # tables linked by foreign keys: upserted in order


def _follow(
    table: TablePlan, options: MigrationOptions, run: Run, writer: UpsertWriter
) -> tuple[Follow | None, str]:
    cursors = options.cursor
    assert isinstance(cursors, dict)
    key = table.target.primary_key.columns if table.target.primary_key is not None else ()
    column = cursors.get(table.source.name) or cursors.get(table.name)
    if column is not None and column not in {c.name for c in table.source.columns}:
        return None, f"it has no column {column!r} (--cursor)"
    column = follow_column(table, cursors)
    if _refreshed(table, options):  # with its cursor's mark, when it has one
        return Follow(table.name, "full", column, key=key), ""
    if not key:
        return None, (
            "it has no primary key to match rows on"
            + ("" if column else " and no cursor column")
            + "; copy it in full with --full-refresh "
            + table.name
        )
    if column is not None:
        kept = run.marks.get(table.name)
        after = kept.mark if kept is not None and kept.column == column else None
        return Follow(table.name, "cursor", column, key, after), ""
    source_key = table.source.primary_key.columns if table.source.primary_key else ()
    if len(source_key) == 1 and len(key) == 1:
        col = next(c for c in table.source.columns if c.name == source_key[0])
        if col.type.kind in INTEGER_KINDS:
            high = writer.high_water(table, key[0])
            after = Mark(str(high), "integer") if high is not None else None
            return Follow(table.name, "key", source_key[0], key, after), ""
    return None, (
        "it has no cursor column and no single integer key; name one with --cursor "
        f"{table.name}=COLUMN, or copy it in full with --full-refresh {table.name}"
    )


def follow_column(table: TablePlan, cursors: dict[str, str]) -> str | None:
    """The table's cursor column: named for it, else the one for every table that has it."""
    names = {c.name for c in table.source.columns}
    column = cursors.get(table.source.name) or cursors.get(table.name)
    if column is None and cursors.get("*") in names:
        column = cursors["*"]
    return column if column in names else None


def state_row(follow: Follow) -> tuple[str | None, str | None, str | None, str | None] | None:
    """What a table's commit keeps in the target: (cursor column, mark, its kind, shape);
    None: nothing to keep (nothing was read, so the mark has not moved)."""
    if follow.upto is None and follow.how != "full":
        return None
    mark = follow.upto
    column = follow.column if mark is not None else None
    return column, mark.value if mark else None, mark.kind if mark else None, follow.shape


def _refreshed(table: TablePlan, options: MigrationOptions) -> bool:
    return table.name in options.full_refresh or table.source.name in options.full_refresh


def _shape_changed(table: TablePlan, run: Run) -> str | None:
    kept = run.marks.get(table.name)
    if kept is None or kept.shape is None or kept.shape == shape(table):
        return None
    return (
        f"table {table.source.name!r} changed shape in the source since the last incremental "
        "run (its columns, their types or its key): its rows may no longer fit the target's "
        "table, so it is not touched. See `arrowferry diff SOURCE TARGET`, bring the target "
        "in line (`arrowferry sync`), then re-run it with --full-refresh "
        f"{table.name}, which records the new shape"
    )


def _detect_deletes(
    table: TablePlan, follow: Follow, reader: DeltaReader, result: MigrationResult
) -> None:
    """A single integer key is compared by ranges of its values (``dialects.keyranges``);
    any other key of integer and text columns by hash buckets (``dialects.keyhash``)."""
    from arrowferry.dialects.keyhash import KINDS

    key = table.source.primary_key.columns if table.source.primary_key else ()
    kinds = {c.name: c.type.kind for c in table.source.columns}
    if len(key) == 1 and len(follow.key) == 1 and kinds.get(key[0]) in INTEGER_KINDS:
        follow.source_keys = reader.key_side(table, key[0])
        return
    if key and len(key) == len(follow.key) and all(kinds.get(c) in KINDS for c in key):
        follow.source_hash = reader.hash_side(table, key)
        return
    result.warnings.append(
        f"--detect-deletes: deletes in table {table.name!r} are not looked for: its key has "
        "a column that is neither an integer nor text (not supported yet)"
    )


def reader_for(dialect: str, source: Any) -> DeltaReader:
    if dialect == "sqlite":
        from arrowferry.dialects.sqlite.delta import SqliteDelta

        return SqliteDelta(source)
    from arrowferry.dialects.postgresql.delta import PostgresDelta

    return PostgresDelta(source)


def _writer(dialect: str, target: Any, options: MigrationOptions) -> UpsertWriter:
    if dialect == "postgresql":
        from arrowferry.dialects.postgresql.upsert import PostgresUpserts

        return PostgresUpserts(target)
    from arrowferry.dialects.sqlite.upsert import SqliteUpserts

    return SqliteUpserts(target)
