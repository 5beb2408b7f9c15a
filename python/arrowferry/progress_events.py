"""Progress as data: the figures of a running migration, as events for a callable.

The engine reports what happens (:class:`~arrowferry.progress.Reporter`: a phase begins,
a table starts, rows go by, a table ends); :class:`ProgressTracker` is a reporter that
turns those calls into :class:`MigrationProgress` events (percentages, rates, ETAs,
the run's overall figures) and hands them to ``on_progress`` callables, at a bounded
rate, in order, from whichever thread reported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from arrowferry.errors import ArrowferryError

Phase = Literal["plan", "load", "finish", "verify", "done"]
Status = Literal["started", "running", "done", "failed"]

log = logging.getLogger("arrowferry.progress")


@dataclass(frozen=True, slots=True)
class MigrationProgress:
    """Where a migration stands, as ``on_progress`` receives it.

    An event is about one table (``table`` set: its rows in the ``"load"`` phase) or
    about the whole run (``table`` None: a phase begins, the plan is made, the run
    ends with phase ``"done"``). Each table's events come in order: ``current`` and
    ``percentage`` (and the overall ones) never go down and ``total`` stays put, also
    across the retries of a table (its count is held until the retry passes it).
    Should a table hold more rows than the plan counted (a source written to between
    the plan and the load), its total is raised before ``current`` passes it (by a
    tenth of the planned count; again should it be passed again), ``total_raised``
    says so, and the percentages hold until the count catches up.

    Attributes
    ----------
    table
        The table's target name; None for an event of the whole run.
    phase
        ``"plan"``, ``"load"``, ``"finish"`` (keys, indexes, foreign keys, views),
        ``"verify"``, then ``"done"``.
    status
        ``"started"`` (a table's or a phase's first event), ``"running"``, ``"done"``
        or ``"failed"`` (a table's last event; the run's last, phase ``"done"``).
    current, total
        Rows of the table dealt with (written, or sent to the reject file) and rows
        it holds. For an event of the whole run: ``rows_done`` and ``rows_total``.
    percentage
        ``100 * current / total``, held while a raised total is caught up with; 100
        once the table is done (its rows may be fewer than the plan counted).
    rows_per_second
        The table's rows per second since it (or its latest retry) started.
    eta_seconds
        Seconds the table still needs at that rate; None until it can be measured.
    tables_done, tables_failed, tables_total
        Tables loaded, failed, and planned (0 until the plan is made).
    rows_done, rows_total
        Rows dealt with in every table, and rows the plan counted (0 until the plan
        is made). Rows count the load only: the finish phase comes after 100%.
    overall_percentage, overall_rows_per_second, overall_eta_seconds
        The run's: rows done of rows planned (a done table counts whole; tables when
        there are no rows), rows per second since the load began (tables loading in
        parallel add up), and the seconds the rest needs at that rate (None until
        measurable).
    elapsed_seconds
        Seconds since the run started.
    total_raised
        The table held more rows than the plan counted, and ``total`` was raised.

    Examples
    --------
    >>> import arrowferry as af
    >>> def show(p: af.MigrationProgress) -> None:
    ...     if p.table is not None:
    ...         print(f"{p.table}: {p.percentage:.0f}% ({p.rows_per_second:,.0f} rows/s)")
    >>> af.migrate("examples/chinook.sqlite", "chinook.db", on_progress=show)  # doctest: +SKIP
    """

    table: str | None
    phase: str
    status: Status
    current: int
    total: int
    percentage: float
    rows_per_second: float
    eta_seconds: float | None
    tables_done: int
    tables_failed: int
    tables_total: int
    rows_done: int
    rows_total: int
    overall_percentage: float
    overall_rows_per_second: float
    overall_eta_seconds: float | None
    elapsed_seconds: float
    total_raised: bool = False


class ProgressCallbackError(ArrowferryError):
    """An ``on_progress`` callable raised: the run stopped (the original is the cause)."""


@dataclass
class _Table:
    planned: int
    total: int
    started: float  # when the latest attempt started
    emitted: float  # when the latest event went out
    current: int = 0  # as reported: never goes down
    seen: int = 0  # rows of the latest attempt
    state: Status = "started"
    raised: bool = False
    percentage: float = 0.0  # as reported: never goes down


Sink = Callable[[MigrationProgress], None]


class ProgressTracker:
    """A :class:`~arrowferry.progress.Reporter` that computes the figures and calls sinks.

    Thread-safe: the lanes of a table and the tables loading in parallel report from
    their own threads. Events are computed and delivered under one lock, so each
    sink sees them in order; a table's ``"running"`` events are at least
    ``min_interval`` seconds apart (a table's first and last event, a raised total
    and every phase always go out).

    A sink that raises stops the run: the tracker keeps the exception, calls no sink
    again, and raises :class:`ProgressCallbackError` from every later call that starts
    or advances a table (the pipeline fails those tables, so the run stops) and from
    :meth:`check`. Calls made while a run ends or cleans up never raise.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sinks = list(sinks)
        self.min_interval = min_interval
        self.clock = clock
        self.lock = threading.Lock()
        self.tables: dict[str, _Table] = {}
        self.started = clock()
        self.load_started: float | None = None
        self.phase_name = "plan"
        self.tables_total = 0
        self.rows_planned = 0
        self.overall = 0.0  # as reported: never goes down
        self.error: BaseException | None = None

    # --- what the engine reports (the Reporter protocol, and the plan) ----------------

    def phase(self, name: str) -> None:
        with self.lock:
            self.phase_name = name
            if name == "load" and self.load_started is None:
                self.load_started = self.clock()
            self._deliver(self._run_event("started"), quiet=True)

    def planned(self, tables: Mapping[str, int]) -> None:
        """The plan's tables and row counts: the run's totals."""
        with self.lock:
            now = self.clock()
            for name, rows in tables.items():
                self.tables[name] = _Table(planned=rows, total=rows, started=now, emitted=now)
            self.tables_total = len(tables)
            self.rows_planned = sum(tables.values())
            self._deliver(self._run_event("done"), quiet=True)

    def table_started(self, table: str, total_rows: int) -> None:
        with self.lock:
            self._raise_if_broken()
            now = self.clock()
            if self.load_started is None:
                self.load_started = now
            state = self.tables.get(table)
            if state is None:  # not in the plan the tracker was given
                state = self.tables[table] = _Table(total_rows, total_rows, now, now)
                self.tables_total += 1
                self.rows_planned += total_rows
            state.started, state.seen, state.state = now, 0, "started"
            self._deliver(self._event(table, state, now))

    def advance(self, table: str, rows: int) -> None:
        with self.lock:
            self._raise_if_broken()
            state = self.tables.get(table)
            if state is None or state.state in ("done", "failed"):
                return
            now = self.clock()
            state.seen += rows
            raised = self._hold(state)
            state.state = "running"
            if raised or now - state.emitted >= self.min_interval:
                self._deliver(self._event(table, state, now))

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
        with self.lock:
            state = self.tables.get(table)
            if state is None:
                return
            now = self.clock()
            if ok:
                state.seen = max(state.seen, rows)
                self._hold(state)
            state.state = "done" if ok else "failed"
            self._deliver(self._event(table, state, now), quiet=True)

    def message(self, text: str) -> None:
        pass  # warnings are the result's, and logged by the run's log reporter

    def finished(self, ok: bool) -> None:
        """The run's last event (phase ``"done"``)."""
        with self.lock:
            self.phase_name = "done"
            self._deliver(self._run_event("done" if ok else "failed"), quiet=True)

    def check(self) -> None:
        """Raise :class:`ProgressCallbackError` if a sink raised during the run."""
        with self.lock:
            self._raise_if_broken()

    # --- the figures --------------------------------------------------------------------

    def _hold(self, state: _Table) -> bool:
        """Rows seen into the reported count, which never goes down; True when the total
        had to be raised first: past the rows seen by a tenth of the plan's count (how
        many more there are is not known until the table ends)."""
        raised = False
        if state.seen > state.total:
            state.total = state.seen + max(1, state.planned // 10)
            state.raised = raised = True
        state.current = max(state.current, state.seen)
        return raised

    def _event(self, table: str, state: _Table, now: float) -> MigrationProgress:
        state.emitted = now
        took = now - state.started
        rate = state.seen / took if took > 0 else 0.0
        if state.state in ("done", "failed"):
            eta: float | None = 0.0 if state.state == "done" else None
        else:
            eta = (state.total - state.current) / rate if rate > 0 else None
        if state.state == "done":
            percentage = 100.0
        elif state.total:
            percentage = min(100.0, 100.0 * state.current / state.total)
        else:
            percentage = 0.0
        state.percentage = max(state.percentage, percentage)
        return self._figures(
            table,
            state.state,
            (state.current, state.total, state.percentage, rate, eta),
            now,
            raised=state.raised,
        )

    def _run_event(self, status: Status) -> MigrationProgress:
        return self._figures(None, status, None, self.clock())

    def _rows(self) -> tuple[int, int]:
        done = sum(t.current for t in self.tables.values())
        total = self.rows_planned + sum(t.total - t.planned for t in self.tables.values())
        return done, total

    def _figures(
        self,
        table: str | None,
        status: Status,
        own: tuple[int, int, float, float, float | None] | None,
        now: float,
        *,
        raised: bool = False,
    ) -> MigrationProgress:
        """An event: a table's ``own`` figures (current, total, percentage, rate, ETA),
        or for the whole run (``own`` None) the overall ones, and the overall ones."""
        done, rows_total = self._rows()
        states = [t.state for t in self.tables.values()]
        # a done table counts whole: it may have had fewer rows than the plan counted
        whole = sum(t.total if t.state == "done" else t.current for t in self.tables.values())
        if rows_total:
            self.overall = max(self.overall, min(100.0, 100.0 * whole / rows_total))
        elif self.tables_total:
            self.overall = max(self.overall, 100.0 * states.count("done") / self.tables_total)
        took = now - self.load_started if self.load_started is not None else 0.0
        run_rate = done / took if took > 0 else 0.0
        left = max(0, rows_total - whole)
        overall_eta = left / run_rate if run_rate > 0 else (0.0 if not left and whole else None)
        current, total, percentage, rate, eta = own or (
            done,
            rows_total,
            self.overall,
            run_rate,
            overall_eta,
        )
        return MigrationProgress(
            table=table,
            phase="load" if table is not None else self.phase_name,
            status=status,
            current=current,
            total=total,
            percentage=percentage,
            rows_per_second=rate,
            eta_seconds=eta,
            tables_done=states.count("done"),
            tables_failed=states.count("failed"),
            tables_total=self.tables_total,
            rows_done=done,
            rows_total=rows_total,
            overall_percentage=self.overall,
            overall_rows_per_second=run_rate,
            overall_eta_seconds=overall_eta,
            elapsed_seconds=now - self.started,
            total_raised=raised,
        )

    # --- delivery -----------------------------------------------------------------------

    def _deliver(self, event: MigrationProgress, *, quiet: bool = False) -> None:
        """Every sink, under the lock (so in order); ``quiet``: a call on a path that
        ends or cleans up a run, which keeps a sink's exception for :meth:`check`."""
        for sink in self.sinks:
            try:
                sink(event)
            except Exception as err:
                self.error = err
                self.sinks = []  # called no more: the run stops
                if quiet:
                    return
                self._raise_if_broken()

    def _raise_if_broken(self) -> None:
        if self.error is not None:
            err = self.error
            raise ProgressCallbackError(
                f"the on_progress callable raised {type(err).__name__}: {err}; the run "
                "stopped (tables already loaded stay, as at any stop)"
            ) from err
