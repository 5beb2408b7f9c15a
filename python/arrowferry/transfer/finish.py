"""The finishing phase: indexes, keys, checks, foreign keys, sequences, views, ANALYZE.

Statements run in waves, each wave spread over several connections, since the
server builds each index on one core: every index (the unique indexes behind keys
included) -> the constraints that adopt them and CHECKs -> foreign keys -> sequences
and ANALYZE -> views (in dependency order). A statement the data does not satisfy
falls back to its weaker form (NOT VALID, a plain index) with a warning, so a run
never fails at the very end after the data is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arrowferry.dialects import postgresql as pg
from arrowferry.plan import Statement
from arrowferry.progress import Reporter
from arrowferry.result import Summary
from arrowferry.urls import Endpoint

WAVES = (
    ("key_index", "index"),
    ("primary_key", "unique", "check"),
    ("foreign_key",),
    ("sequence", "analyze"),
)
# Sorting and foreign-key checks are memory-hungry; several run at once.
# https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAINTENANCE-WORK-MEM
_SESSION = ("SET maintenance_work_mem = '256MB'",)

OK, WEAKER, FAILED = "ok", "weaker", "failed"


class Finisher:
    def __init__(
        self,
        target: Endpoint,
        workers: int,
        reporter: Reporter,
        summary: Summary,
        warn: Callable[[str], None],
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        self.issues = issues if issues is not None else []
        self.target = target
        self.workers = max(1, workers)
        self.reporter = reporter
        self.summary = summary
        self.warn = warn
        self.outcome: dict[str, str] = {}
        self.lock = threading.Lock()
        self.local = threading.local()
        self.connections: list[Any] = []

    def run(self, statements: list[Statement], *, views: bool = True) -> None:
        try:
            for kinds in WAVES:
                wave = [s for s in statements if s.kind in kinds]
                self._parallel(wave)
            if views:
                self._views([s for s in statements if s.kind == "view"])
        finally:
            for conn in self.connections:
                conn.close()

    def _parallel(self, wave: list[Statement]) -> None:
        if not wave:
            return
        # statements arrive largest table first: those decide when the wave ends
        with ThreadPoolExecutor(max_workers=min(self.workers, len(wave))) as pool:
            for future in [pool.submit(self._one, s) for s in wave]:
                future.result()

    def _conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = pg.connect(self.target, autocommit=True)
            for setting in _SESSION:
                pg.execute(conn, setting)
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
        self.reporter.message(stmt.sql)
        label = f"{stmt.kind.replace('_', ' ')} {stmt.name}"
        try:
            pg.execute(conn, stmt.sql)
        except Exception as err:
            message = pg.driver_message(err, self.target)
            if stmt.fallback_sql is None:
                self.warn(f"{label} not created: {message}")
                self._done(stmt, FAILED)
                return
            try:
                pg.execute(conn, stmt.fallback_sql)
            except Exception as err2:
                self.warn(f"{label} not created: {pg.driver_message(err2, self.target)}")
                self._done(stmt, FAILED)
                return
            weaker = "NOT VALID" if "NOT VALID" in stmt.fallback_sql else "in a weaker form"
            self.warn(
                f"{label} created {weaker}: {stmt.fallback_note}{self._diagnose(conn, stmt)} ({message})"
            )
            self._done(stmt, WEAKER)
            return
        self._done(stmt, OK)

    def _diagnose(self, conn: Any, stmt: Statement) -> str:
        """Count the rows behind a fallback and quote a few keys, for the user and the result."""
        if stmt.diagnose_sql is None:
            return ""
        try:
            rows = pg.fetch(conn, stmt.diagnose_sql)
        except Exception as err:
            return f" (could not count the rows: {pg.driver_message(err, self.target)})"
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
        return f"; {int(count or 0)} offending row(s) or key(s){shown}"

    def _views(self, views: list[Statement]) -> None:
        """Views may read other views: retry until a round creates none (dependency order)."""
        if not views:
            return
        conn = self._conn()
        errors: dict[str, str] = {}
        while views:
            remaining = []
            for stmt in views:
                try:
                    pg.execute(conn, stmt.sql)
                except Exception as err:
                    errors[stmt.name] = pg.driver_message(err, self.target)
                    remaining.append(stmt)
                    continue
                self._done(stmt, OK)
            if len(remaining) == len(views):
                break
            views = remaining
        for stmt in views:
            self.warn(f"view {stmt.name!r} not created: {errors[stmt.name]}")

    def _done(self, stmt: Statement, outcome: str) -> None:
        with self.lock:
            self.outcome[stmt.name] = outcome
            if outcome != FAILED:
                _count(self.summary, stmt, outcome)


def _count(summary: Summary, stmt: Statement, outcome: str) -> None:
    kind = stmt.kind
    if kind == "index" or (kind == "key_index" and outcome == WEAKER):
        summary.indexes_created += 1
    elif kind in {"primary_key", "unique", "check"}:
        summary.constraints_applied += 1
    elif kind == "foreign_key":
        summary.foreign_keys_created += 1
        summary.constraints_applied += 1
    elif kind == "view":
        summary.views_created += 1
    elif kind == "sequence":
        summary.sequences_reset += 1


def runnable(
    statements: Iterable[Statement], loaded: set[str], failed: set[str], warn: Callable[[str], None]
) -> list[Statement]:
    """The statements whose tables all loaded (a foreign key to a failed table is named)."""
    out = []
    for stmt in statements:
        needs = {stmt.table, *stmt.depends} - {None}
        if needs - loaded:
            if needs & failed and stmt.kind == "foreign_key":
                warn(f"foreign key {stmt.name} skipped: a table it needs failed to load")
            continue
        out.append(stmt)
    return out
