"""Run a plan, for any pair of databases: load every table, then finish them.

One scheduler follows the target's capabilities. A target with many writers
(PostgreSQL) loads several tables at once, and splits a large table over several
writer lanes; a target with one writer (SQLite) loads tables one after another, while
several readers read the next pieces of the table ahead of it. Either way, a table is
created and loaded in one transaction (a failure leaves no table, never a partial one),
reading and converting run on prefetch threads beside the writer, the bad-value policy
and the reject file are the transformer's, and the finishing statements (keys, indexes,
checks, foreign keys, sequences, views, ANALYZE) run through the one Finisher as the
target runs them.

Every step is recorded in the target with the work it describes (``transfer.state``):
a run that stops (killed, the server lost) is finished by ``--resume``, which skips the
tables that are complete, continues the interrupted ones from their last committed
piece, and runs the finishing statements not yet done. A lost connection is retried
(``transfer.faults``) without losing the pieces already committed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from arrowferry import faults
from arrowferry.dialects.base import SourceSession, Statement, TargetSession
from arrowferry.dialects.journal import JournaledTarget
from arrowferry.errors import (
    ArrowferryError,
    BadInputError,
    ReadTypeChanged,
    RejectedByServer,
    TransferError,
)
from arrowferry.hooks import Hooks
from arrowferry.model import DataType
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan, TablePlan
from arrowferry.plan.sqlite_views import view_ledger
from arrowferry.progress import Reporter
from arrowferry.result import MigrationResult, TableResult
from arrowferry.transfer import state as journal
from arrowferry.transfer.finish import Finisher
from arrowferry.transfer.interpret import warnings_for
from arrowferry.transfer.lanes import Lanes
from arrowferry.transfer.passthrough import Passthrough
from arrowferry.transfer.rejects import RejectFile
from arrowferry.transfer.resume import Resume, Unjournaled
from arrowferry.transfer.transform import Transformer
from arrowferry.urls import scrub

# A table is split over writer lanes when it has at least this many batches.
SPLIT_MIN_BATCHES = 4


class Pipeline:
    """Loads and finishes the tables of a plan from a source into a target session."""

    def __init__(
        self,
        plan: MigrationPlan,
        source: SourceSession,
        target: TargetSession,
        options: MigrationOptions,
        reporter: Reporter,
        result: MigrationResult,
        *,
        source_path: Path | None = None,
        resumable: journal.Resumable | None = None,
    ) -> None:
        self.plan = plan
        self.hooks: Hooks = plan.hooks or Hooks()  # before_sql, after_sql
        self.source = source
        # a target that keeps no run state (an incremental run's, whose marks are
        # committed with its rows) takes the same calls and keeps nothing
        self.target = target if isinstance(target, JournaledTarget) else Unjournaled(target)
        self.options = options
        self.reporter = reporter
        self.result = result
        self.source_path = source_path  # a SQLite source: errors quote a value as stored
        self.failed: set[str] = set(plan.failed)  # tables that could not be planned
        self.loaded: list[TablePlan] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.many = target.capabilities.writers == "many"
        self.spare_lanes = threading.Semaphore(max(0, options.lane_count - 1))
        self.splitting = False
        self.target.warn = self._warn
        self.resume = Resume(self, resumable or journal.Resumable({}))

    def run(self) -> None:
        started = time.perf_counter()
        try:
            restore = self._prepared()
            if self.resume.leftover is None:  # a resumed run's ran in the run it continues
                self.hooks.run_before(self.target)
            self.splitting = (
                self.many
                and self.options.lane_count > 1
                and any(self._splittable(t) for t in self.plan.tables)
                and self.target.allow_lanes(self.reporter.message)
            )
            finisher = Finisher(
                self.target.finishing(lambda: list(self.loaded)),
                self.options.parallelism if self.many else 1,
                self.reporter,
                self.result.summary,
                self._warn,
                self.result.constraint_issues,
                on_view=self._view_created,
                done=self.resume.finished,
            )
        except BaseException as err:
            # nothing was loaded: the source's snapshot ends, a new file is not left behind
            with contextlib.suppress(Exception):
                self.source.close()
            with contextlib.suppress(Exception):
                self.target.close(complete=False, keep=self.resume.worth_keeping())
            if isinstance(err, Exception) and not isinstance(err, ArrowferryError):
                said = scrub(self.target.message(err), self.source.endpoint, self.target.endpoint)
                raise BadInputError(
                    f"the target could not be prepared, so nothing was written: {said}",
                    sqlstate=getattr(err, "sqlstate", None),
                ) from None
            raise
        self.reporter.phase("load")  # creating tables (and loading them, but schema_only)
        complete = False
        try:
            # on a target with many writers, a table's indexes and keys start building as
            # soon as its load commits
            finisher.add(self.target.statements(self.plan, self.options, restore))
            self.resume.tables_done(finisher)
            self._load_all(finisher)
            complete = True
        finally:
            loaded = time.perf_counter()
            self.result.phases["load"] = loaded - started
            try:
                # finish what did load, even when the run stopped on an error
                self.reporter.phase("finish")  # keys, indexes, constraints, views
                finisher.add(
                    self.target.statements_after(self.plan, self.loaded, self.options, self.result)
                )
                finisher.loading_done(self.failed)
                stopped = self.stop.is_set()
                finisher.close(self.target.views(self.plan, self.options, restore, stopped=stopped))
                complete = complete and not self.resume.finish_lost(finisher)
                complete = self.hooks.run_after(
                    self.target, self.result, complete=complete and not stopped
                )
            finally:
                self.source.close()
                note = self.target.close(
                    complete=complete and not self.stop.is_set(), keep=self.resume.worth_keeping()
                )
                self.result.phases["finish"] = time.perf_counter() - loaded
        if note is not None:
            self.result.warnings.append(note)

    def _prepared(self) -> list[Statement]:
        """The target prepared (one transaction: a connection lost in it undid it all, so
        it is tried again, ``faults.BACKOFF``), or a resumed run's checks."""

        return faults.retried_saying(self.resume.prepare, "preparing the target", self._warn)

    # --- scheduling -------------------------------------------------------------------

    def _load_all(self, finisher: Finisher) -> None:
        todo = [t for t in self.plan.tables if not self.resume.complete(t.name)]
        if not self.many:  # one writer: one table after another, in plan order
            for table in todo:
                self._load_one(table, finisher)
            return
        tables = sorted(todo, key=lambda t: -t.rows)  # longest first
        workers = min(self.options.parallelism, max(1, len(tables)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arrowferry") as pool:
            futures: dict[Future[None], TablePlan] = {
                pool.submit(self._load_one, t, finisher): t for t in tables
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    error = future.exception()
                    if error is not None:
                        raise error

    def _splittable(self, table: TablePlan) -> bool:
        """Only a large table this run creates is split: its lanes commit separately."""
        if self.options.schema_only or self.options.data_only:
            return False
        return table.rows >= SPLIT_MIN_BATCHES * self.options.batch_size

    def _extra_lanes(self, table: TablePlan) -> int:
        """Writer lanes beyond its own that a large table may take now, from the run's spares.

        Every table loads on at least one connection; the ``lanes - 1`` spare ones go to
        whichever large table starts while they are free (the largest table starts
        first). So the run never holds more than ``workers + lanes - 1`` streams, and its
        memory does not grow when a second table becomes large enough to split.
        """
        if not self.splitting or not self._splittable(table):
            return 0
        extra = 0
        while extra < self.options.lane_count - 1 and self.spare_lanes.acquire(blocking=False):
            extra += 1
        return extra

    # --- one table ----------------------------------------------------------------------

    def _load_one(self, table: TablePlan, finisher: Finisher) -> None:
        if self.stop.is_set():
            with self.lock:
                self.result.table_not_attempted(table.name)
            return
        start = time.perf_counter()
        try:
            loaded = self._load_with_retries(table)
        except ArrowferryError as err:
            self._table_failed(table, err.message, start)
            return
        except Exception as err:
            self._table_failed(table, self._message(table, err), start)
            return
        seconds = time.perf_counter() - start
        self.table_in(loaded, seconds)
        self.reporter.table_finished(table.name, loaded.rows, seconds, True)
        finisher.table_loaded(table.name)

    def table_in(self, loaded: Loaded, seconds: float) -> None:
        """A table is in place (loaded now, or by the interrupted run resumed): counted."""
        table = loaded.table
        with self.lock:
            self.loaded.append(table)
            created = not self.options.data_only
            self.result.table_loaded(
                TableResult(
                    table.name, loaded.rows, seconds, loaded.rows_read, loaded.rows_rejected
                ),
                created=created,
            )
            if created and not self.target.capabilities.constraints_after_load:
                # the primary key was made with the table (counted as it is where added)
                self.result.summary.constraints_applied += table.source.primary_key is not None
            self._account(loaded)

    def _message(self, table: TablePlan, err: Exception) -> str:
        """A driver error, worded by the side it came from, without any password."""
        owner = self.target if self.target.owns(err) else self.source
        text = scrub(str(owner.message(err)), self.source.endpoint, self.target.endpoint)
        return f"table {table.name!r}: {text}"

    def _load_with_retries(self, table: TablePlan) -> Loaded:
        """Load a table; when the fast path meets dirty data, roll back and retry exactly;
        when the connection is lost, retry after a pause, keeping the committed pieces.

        Each exact retry moves one column to its exact path (read as text, or checked
        client-side), so the loop ends after at most two retries per column; lost
        connections are retried ``len(faults.BACKOFF)`` times.
        """
        lost = 0
        for _ in range(2 * len(table.columns) + len(faults.BACKOFF) + 1):
            self.reporter.table_started(table.name, 0 if self.options.schema_only else table.rows)
            # what an attempt committed before its connection was lost stays, for the next
            # attempt or for --resume (after any other error the table starts again)
            keep = not self.options.continue_on_error or lost < len(faults.BACKOFF)
            try:
                return self._load_once(table, self.resume.prior(table), keep)
            except ReadTypeChanged as err:
                col = table.columns[err.index]
                table = table.with_column(err.index, col.read_as_text())
            except RejectedByServer as err:
                table = self._after_rejection(table, err)
            except Exception as err:
                if not faults.transient(err) or lost == len(faults.BACKOFF):
                    raise
                self._warn(
                    f"table {table.name!r}: {faults.reason(err)}; tried again in "
                    f"{faults.BACKOFF[lost]:g} s (retry {lost + 1} of {len(faults.BACKOFF)}), "
                    "keeping the key ranges already committed"
                )
                time.sleep(faults.BACKOFF[lost])
                lost += 1
                self.target.reconnect()
                continue
            self.resume.partial.pop(table.name, None)  # the plan changed: start again
        raise TransferError(
            f"table {table.name!r}: gave up after repeated retries", table=table.name
        )

    def _after_rejection(self, table: TablePlan, err: RejectedByServer) -> TablePlan:
        index = table.column_index(err.column)
        col = table.columns[index]
        if (
            err.sqlstate == "22001"
            and col.type.kind == "text"
            and col.type.length
            and not col.enforce_length
        ):
            self._warn(
                f"column {table.source.name}.{col.source} is declared {col.declared} but holds longer "
                "values; it becomes text so nothing is truncated"
            )
            return table.with_column(index, replace(col, type=DataType("text"), ddl="text"))
        if col.validate:
            raise err  # the strict path passed it and the server still refused it
        return table.with_column(index, replace(col, validate=True))

    def _load_once(self, table: TablePlan, prior: journal.TableState | None, keep: bool) -> Loaded:
        loaded = Loaded(table)
        if not self.options.schema_only:
            loaded.rejects = RejectFile(
                Path(self.options.reject_dir),
                table.name,
                self.source_path,
                table.source.name,
                table.key or _primary_key(table),
            )
        extra = self._extra_lanes(table)
        try:
            writers = 1 + extra
            readers = 1 if writers > 1 else self.source.readers_per_writer
            takes_rows = not self.options.schema_only and (
                table.native is None or table.native.copy_rows
            )
            if takes_rows:
                loaded.batch_rows = self.source.batch_rows(table)
            if prior is not None:
                pieces = prior.pieces
            elif takes_rows:
                # a target that commits pieces gets some: the load resumes after the last one
                cut = max(writers * readers, 2 if self.target.commits_pieces else 1)
                pieces = self.source.pieces(table, cut, loaded.batch_rows)
            else:
                pieces = []
            todo = prior.todo() if prior is not None else list(enumerate(pieces))
            writers = max(1, min(writers, len(todo)))
            create = not self.options.data_only
            load = self.target.table_load(table, writers, create=create, resumed=bool(prior))
            if prior is None:
                load.start(journal.load_record(table, pieces, load.staged))
                if load.staged:
                    self.resume.started(table, pieces)
            try:
                transforms = [self._transformer(table) for _ in range(writers)]
                loaded.transform, loaded.transforms = transforms[0], transforms
                rows = self.resume.carry(prior, loaded)
                lanes = Lanes(
                    self.source,
                    self.target,
                    load,
                    loaded,
                    lambda: self._transformer(table),
                    lambda n: self.reporter.advance(table.name, n),
                    lambda index, done: self.resume.committed(table, pieces, load, index, done),
                )
                if prior is not None and not todo:
                    pass  # every piece is in: only the move into place is left
                elif writers == 1:
                    rows += lanes.one(transforms[0], todo, readers)
                else:
                    rows += lanes.many(transforms, todo)
                loaded.rows = rows
                if load.staged:
                    loaded.publish()
                load.complete(journal.placed_record(table.name) if load.staged else None)
            except BaseException as err:
                load.abort(keep=keep and faults.transient(err))
                raise
            finally:
                for other in (loaded.transforms or [])[1:]:
                    loaded.transforms[0].absorb(other)  # type: ignore[index]
        except BaseException:
            if loaded.rejects is not None:
                loaded.rejects.discard()
            raise
        finally:
            for _ in range(extra):
                self.spare_lanes.release()
        loaded.publish()
        self.resume.partial.pop(table.name, None)
        return loaded

    def _transformer(self, table: TablePlan) -> Transformer:
        if table.native is not None and all(c.transform is None for c in table.columns):
            return Passthrough(table)  # type: ignore[return-value]
        return Transformer(
            table,
            self.options.on_bad_value,
            replace_invalid_utf8=self.options.replace_invalid_utf8,
            strip_nul=self.options.strip_nul,
            source=self.source_path,
            # a same-kind copy's values go as read, as the target's own dialect binds them
            writable=self.target.writable if table.native is None else None,
            target_name=self.target.name,
        )

    def _account(self, loaded: Loaded) -> None:
        """Rejected, nulled and cleaned values into the result, and the table's ledger."""
        transform, table = loaded.transform, loaded.table
        if transform is None:
            return
        self.result.values_accounted(
            table.name,
            self.options.on_bad_value,
            [(col, transform.conversion_name(col.target)) for col in table.columns],
            transform.bad_counts,
            transform.cleaned,
            str(loaded.reject_file) if loaded.reject_file is not None else None,
            transform.interpreted,
        )
        said = warnings_for(table.source.name, transform.interpreted, transform.examples)
        self.result.warnings.extend(said)

    def _table_failed(self, table: TablePlan, message: str, start: float) -> None:
        fatal = not self.options.continue_on_error
        with self.lock:
            self.failed.add(table.name)
            self.result.table_failed(table.name, message, fatal=fatal)
        if fatal:
            self.stop.set()
        self.reporter.table_finished(table.name, 0, time.perf_counter() - start, False)

    def _view_created(self, name: str) -> None:
        notes = self.plan.inexact_views.get(name)
        if notes:
            with self.lock:
                self.result.ledger.append(view_ledger(name, notes))

    def _warn(self, text: str) -> None:
        """Say it once (several tables, lanes or retries may meet the same thing)."""
        with self.lock:
            if text in self.result.warnings:
                return
            self.result.warnings.append(text)
        self.reporter.message(text)


def _primary_key(table: TablePlan) -> tuple[str, ...]:
    pk = table.source.primary_key
    return pk.columns if pk is not None else ()


@dataclass
class Loaded:
    """One table's load: the plan it finally took, rows, and what was rejected."""

    table: TablePlan
    rows: int = 0
    batch_rows: int = 1
    transform: Transformer | None = None
    transforms: list[Transformer] | None = None
    rejects: RejectFile | None = None
    reject_file: Path | None = None
    published: bool = False
    prior_rejected: int = 0  # rejected by the interrupted run this one resumes

    def publish(self) -> None:
        """The reject file in place (once): just before the table completes."""
        if self.rejects is not None and not self.published:
            self.reject_file = self.rejects.commit()
        self.published = True

    @property
    def rows_read(self) -> int:
        return self.transform.rows_read if self.transform else 0

    @property
    def rows_rejected(self) -> int:
        return (self.rejects.count if self.rejects else 0) + self.prior_rejected
