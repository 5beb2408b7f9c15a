"""The finishing phase: indexes, keys, checks, foreign keys, sequences, views, ANALYZE.

A table's finishing work starts as soon as its load commits, while other tables are
still loading, and runs on several connections, since the server builds each index
on one core. Per table the order is: VACUUM (ANALYZE) (hint bits, visibility map and
statistics in one pass, which makes the next scans cheaper) -> every index (the unique indexes behind keys
included) -> the constraints that adopt them and CHECKs -> foreign keys, once both
their tables got that far -> sequences and ANALYZE, once the foreign keys touching the
table are in (ANALYZE and a foreign-key check would wait on each other's locks) ->
views, last, in dependency order. A statement the data does not satisfy falls back to
its weaker form (NOT VALID, a plain index) with a warning, so a run never fails at the
very end after the data is in.

The Finisher itself is the same for every target: it schedules, retries views, words
fallbacks and counts outcomes. How a statement runs is the target's (``FinishTarget``):
PostgreSQL gives each worker its own connection and runs every statement as written;
SQLite's one writer runs statements in the order given, and runs its own kinds itself
(a CHECK counted rather than added, the foreign-key check, AUTOINCREMENT adoption).

Each statement done is recorded in the target, in its own transaction
(``FinishTarget.recorded``): a resumed run skips it, counting it and saying again what
was said of it. A statement whose connection is lost is tried again on a new one
(``faults.BACKOFF``); one that still cannot run leaves the run resumable.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arrowferry import faults
from arrowferry.dialects.base import FAILED, OK, WEAKER, FinishTarget, Ran, Statement
from arrowferry.dialects.postgresql.finishing import STAGES, PostgresFinishing
from arrowferry.progress import Reporter
from arrowferry.result import Summary
from arrowferry.transfer.state import finished_record, statement_key
from arrowferry.urls import Endpoint
from arrowferry.wording import plural


def _tables(stmt: Statement) -> set[str]:
    return {t for t in (stmt.table, *stmt.depends) if t is not None}


def _waits_for(stmt: Statement, other: Statement, stages: Mapping[str, int] = STAGES) -> bool:
    """Must ``stmt`` wait until ``other`` (not yet done) is done?"""
    stage, before = stages.get(stmt.kind, 5), stages.get(other.kind, 5)
    if stmt.table is None:  # a key restored after a data_only run, SQLite's ANALYZE: last
        return before < stage or (before == stage and other.table is not None)
    if before >= stage:
        return False
    if stage == 3:  # foreign key: both its tables' indexes and keys first
        return other.table in _tables(stmt)
    if stage == 4 and before == 3:  # ANALYZE/sequence after the foreign keys touching it
        return stmt.table in _tables(other)
    return other.table == stmt.table


def _lock_clash(stmt: Statement, other: Statement) -> bool:
    """Two foreign keys sharing a table lock both of their tables in opposite orders
    (child, then parent): running them together can deadlock, so they take turns."""
    if other.kind != "foreign_key":
        return False
    if stmt.table is None or other.table is None:
        return True
    return bool(_tables(stmt) & _tables(other))


class Finisher:
    """Runs finishing statements as their tables load; ``close`` waits for all of them."""

    def __init__(
        self,
        target: FinishTarget | Endpoint,
        workers: int,
        reporter: Reporter,
        summary: Summary,
        warn: Callable[[str], None],
        issues: list[dict[str, Any]] | None = None,
        *,
        on_view: Callable[[str], None] | None = None,
        done: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """``target``: an Endpoint is a PostgreSQL server. ``on_view``: told the name of
        each view created. ``done``: statements an interrupted run did, by key
        (``state.statement_key``), with what came of them: skipped."""
        self.done = dict(done or {})
        self.lost: list[str] = []  # statements whose connection was lost for good
        self.issues = issues if issues is not None else []
        self.target = PostgresFinishing(target) if isinstance(target, Endpoint) else target
        self.on_view = on_view
        self.workers = max(1, workers)
        self.reporter = reporter
        self.summary = summary
        self.warn = warn
        self.outcome: dict[str, str] = {}
        self.lock = threading.Condition()
        self.local = threading.local()
        self.connections: list[Any] = []
        # pending statements by their order of arrival, and by each table they involve
        # (``_tables``): a table loaded or a statement done looks only at those of its
        # tables, so scheduling stays linear in the statements (a schema of 1,000 tables
        # has some 5,000; scanning them all at every event took minutes)
        self._pending: dict[int, Statement] = {}
        self._pending_by_table: dict[str, dict[int, Statement]] = {}
        self._active_by_table: dict[str, list[Statement]] = {}
        self._seq = 0
        self.active: list[Statement] = []
        self.loaded: set[str] = set()
        self.loading = True
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="arrowferry-finish")

    @property
    def pending(self) -> list[Statement]:
        """The statements not yet started, in their order of arrival."""
        return list(self._pending.values())

    def add(self, statements: list[Statement]) -> None:
        """Queue statements (in the order given: put the largest tables first)."""
        with self.lock:
            for stmt in statements:
                if stmt.kind != "view" and not self._skip(stmt):
                    self._queue(stmt)
            self._release()

    def _queue(self, stmt: Statement) -> None:
        self._seq += 1
        self._pending[self._seq] = stmt
        for table in _tables(stmt):
            self._pending_by_table.setdefault(table, {})[self._seq] = stmt

    def _unqueue(self, seq: int) -> Statement:
        stmt = self._pending.pop(seq)
        for table in _tables(stmt):
            self._pending_by_table[table].pop(seq, None)
        return stmt

    def _skip(self, stmt: Statement) -> bool:
        """A statement an interrupted run did: counted, and said again, not run."""
        was = self.done.get(statement_key(stmt))
        if was is None:
            return False
        self.outcome[stmt.name] = was["outcome"]
        _count(self.summary, stmt, was["outcome"])
        if was.get("note"):
            self.warn(was["note"])
        if was.get("issue"):
            self.issues.append(was["issue"])
        if stmt.kind in {"view", "native_view"} and self.on_view is not None:
            self.on_view(stmt.name)
        return True

    def table_loaded(self, table: str) -> None:
        with self.lock:
            self.loaded.add(table)
            self._release({table})

    def loading_done(self, failed: set[str]) -> None:
        """No more tables will load: drop what needs a table that did not (naming foreign keys)."""
        with self.lock:
            self.loading = False
            for seq, stmt in list(self._pending.items()):
                missing = _tables(stmt) - self.loaded
                if not missing:
                    continue
                self._unqueue(seq)
                if missing & failed and stmt.kind == "foreign_key":
                    self.warn(f"foreign key {stmt.name} skipped: a table it needs failed to load")
            self._release()

    def close(self, views: list[Statement]) -> None:
        """Wait for every queued statement, then create ``views``; close the connections."""
        try:
            with self.lock:
                self.loading = False
                self._release()
                while self._pending or self.active:
                    self.lock.wait()
            self._views(views)
        finally:
            self.pool.shutdown()
            for conn in self.connections:  # each closed, whatever another's close raised
                with contextlib.suppress(Exception):
                    self.target.release(conn)

    def _release(self, tables: set[str] | None = None) -> None:
        """Start every pending statement whose tables loaded and whose predecessors are done.

        Called with the lock held, whenever a table loads or a statement ends: ``tables``,
        the tables that event concerns (only statements involving one of them can have
        become ready; None: look at every one). A statement waits only for statements of
        its own tables (``_waits_for``), save one of no table (a key restored after a
        data_only run, SQLite's ANALYZE), which runs last and is weighed against all.
        """
        if tables is None:
            candidates = list(self._pending.items())
        else:
            found: dict[int, Statement] = {}
            for table in tables:
                found.update(self._pending_by_table.get(table, {}))
            if not self.loading:  # the last ones wait for everything: looked at each time
                found.update((q, s) for q, s in self._pending.items() if s.table is None)
            candidates = sorted(found.items())
        stages = self.target.stages
        for seq, stmt in candidates:
            if seq not in self._pending:
                continue
            if stmt.table is None:
                if self.loading:
                    continue
                others: list[Statement] = [*self._pending.values(), *self.active]
            else:
                if not _tables(stmt) <= self.loaded:
                    continue
                others = []
                for table in _tables(stmt):
                    others += self._pending_by_table.get(table, {}).values()
                    others += self._active_by_table.get(table, ())
            if any(_waits_for(stmt, other, stages) for other in others if other is not stmt):
                continue
            if stmt.kind == "foreign_key" and any(_lock_clash(stmt, o) for o in self.active):
                continue
            self._unqueue(seq)
            self.active.append(stmt)
            for table in _tables(stmt):
                self._active_by_table.setdefault(table, []).append(stmt)
            self.pool.submit(self._run, stmt)

    def _run(self, stmt: Statement) -> None:
        try:
            self._retried(functools.partial(self._one, stmt), stmt)
        except Exception as err:  # never lose the scheduler's count
            self.warn(f"{stmt.kind.replace('_', ' ')} {stmt.name} not created: {err}")
            self._done(stmt, FAILED)
        finally:
            with self.lock:
                self.active.remove(stmt)
                for table in _tables(stmt):
                    self._active_by_table[table].remove(stmt)
                self._release(_tables(stmt) if stmt.table is not None else None)
                self.lock.notify_all()

    def _retried(self, work: Callable[[], None], stmt: Statement) -> None:
        """``work``, tried again on a new connection while its connection is lost."""

        what = f"{stmt.kind.replace('_', ' ')} {stmt.name}"
        try:
            faults.retried_saying(work, what, self.warn, self._forget_conn)
        except Exception as err:
            if faults.transient(err):  # lost for good: the run stays resumable
                self._forget_conn()
                with self.lock:
                    self.lost.append(stmt.name)
            raise

    def _forget_conn(self) -> None:
        conn = getattr(self.local, "conn", None)
        self.local.conn = None
        if conn is not None:
            with self.lock:
                if conn in self.connections:
                    self.connections.remove(conn)
            with contextlib.suppress(Exception):
                self.target.release(conn)

    def _conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.target.connection()
            self.local.conn = conn
            with self.lock:
                self.connections.append(conn)
        return conn

    def _one(self, stmt: Statement) -> None:
        if stmt.requires is not None and self.outcome.get(stmt.requires) != OK:
            self._done(stmt, FAILED)
            if stmt.kind == "primary_key":
                self.warn(f"primary key {stmt.name} not created: its key is kept as an index only")
            elif stmt.kind == "unique":
                self.warn(
                    f"unique constraint {stmt.name} not created: its key is kept as an index only"
                )
            return
        conn = self._conn()
        key = statement_key(stmt)
        try:
            with self.target.recorded(conn, stmt) as records:
                ran = self.target.run(conn, stmt)
                if ran is None:
                    self.target.execute(conn, stmt.sql)
                    ran = Ran(OK)
                if ran.outcome != FAILED:
                    records.append(finished_record(key, ran.outcome, ran.warning, ran.issue))
        except Exception as err:
            if faults.transient(err):
                raise
            self._fallback(conn, stmt, key, err)
            return
        if ran.warning is not None:
            self.warn(ran.warning)
        if ran.issue is not None:
            with self.lock:
                self.issues.append(ran.issue)
        self._done(stmt, ran.outcome)

    def _fallback(self, conn: Any, stmt: Statement, key: str, err: Exception) -> None:
        """The statement failed: its weaker form (NOT VALID, a plain index), if it has one."""
        label = f"{stmt.kind.replace('_', ' ')} {stmt.name}"
        message = self.target.message(err)
        if stmt.fallback_sql is None:
            self.warn(f"{label} not created: {message}")
            self._done(stmt, FAILED)
            return
        try:
            with self.target.recorded(conn, stmt) as records:
                self.target.execute(conn, stmt.fallback_sql)
                records.append(finished_record(key, WEAKER))
        except Exception as err2:
            if faults.transient(err2):
                raise
            self.warn(f"{label} not created: {self.target.message(err2)}")
            self._done(stmt, FAILED)
            return
        weaker = "NOT VALID" if "NOT VALID" in stmt.fallback_sql else "in a weaker form"
        said = f"{label} created {weaker}: {stmt.fallback_note}{self._diagnose(conn, stmt)} ({message})"
        self.warn(said)
        with self.lock:
            issue = next((i for i in self.issues if i.get("name") == stmt.name), None)
        with contextlib.suppress(Exception):  # what a resumed run says again
            self.target.note(conn, finished_record(key, WEAKER, said, issue))
        self._done(stmt, WEAKER)

    def _diagnose(self, conn: Any, stmt: Statement) -> str:
        """Count the rows behind a fallback and quote a few keys, for the user and the result."""
        if stmt.diagnose_sql is None:
            return ""
        try:
            rows = self.target.fetch(conn, stmt.diagnose_sql)
        except Exception as err:
            return f" (could not count the rows: {self.target.message(err)})"
        count, examples = rows[0] if rows else (0, None)
        examples = [e for e in (examples or []) if e is not None]
        with self.lock:
            self.issues.append(
                {
                    "kind": stmt.kind,
                    "name": stmt.name,
                    "table": stmt.table,
                    "rows": int(count or 0),
                    "examples": examples,
                }
            )
        shown = f", e.g. {', '.join(examples)}" if examples else ""
        return (
            f"; {plural(int(count or 0), 'offending row or key', 'offending rows or keys')}{shown}"
        )

    def _views(self, views: list[Statement]) -> None:
        """Views may read other views: retry until a round creates none (dependency order)."""
        views = [v for v in views if not self._skip(v)]
        if not views:
            return
        errors: dict[str, str] = {}
        while views:
            remaining = []
            for stmt in views:
                try:
                    self._retried(functools.partial(self._view, stmt), stmt)
                except Exception as err:
                    with contextlib.suppress(Exception):
                        self.target.drop_view(self._conn(), stmt.name)
                    errors[stmt.name] = self.target.message(err)
                    remaining.append(stmt)
                    continue
                self._done(stmt, OK)
                if self.on_view is not None:
                    self.on_view(stmt.name)
            if len(remaining) == len(views):
                break
            views = remaining
        for stmt in views:
            self.warn(f"view {stmt.name!r} not created: {errors[stmt.name]}")

    def _view(self, stmt: Statement) -> None:
        conn = self._conn()
        with self.target.recorded(conn, stmt) as records:
            self.target.execute(conn, stmt.sql)
            self.target.probe_view(conn, stmt.name)
            records.append(finished_record(statement_key(stmt), OK))

    def _done(self, stmt: Statement, outcome: str) -> None:
        with self.lock:
            self.outcome[stmt.name] = outcome
            if outcome != FAILED:
                _count(self.summary, stmt, outcome)


def _count(summary: Summary, stmt: Statement, outcome: str) -> None:
    kind = stmt.kind
    if kind in {"index", "view_index"} or (kind == "key_index" and outcome == WEAKER):
        summary.indexes_created += 1
    elif kind in {"primary_key", "unique", "check", "exclude"}:
        summary.constraints_applied += 1
        # a unique constraint that builds its own index (SQLite's UNIQUE INDEX) is an
        # index too; PostgreSQL's adopts the key_index it requires, counted on its own
        if kind == "unique" and stmt.requires is None:
            summary.indexes_created += 1
    elif kind == "foreign_key":
        summary.foreign_keys_created += 1
        summary.constraints_applied += 1
    elif kind in {"view", "native_view"}:  # a copy's views run in its own order
        summary.views_created += 1
    elif kind == "sequence":
        summary.sequences_reset += 1
