"""Progress is an injected observer: the engine reports, the caller decides how to show it.

The engine calls a :class:`Reporter` and never prints. A run reports to a
:class:`Watch`, which passes every call on to the caller's reporter, to the log
(logger ``arrowferry.progress``: phases, tables started and finished) and, when
someone watches, to a :class:`~arrowferry.progress_events.ProgressTracker` that
turns the calls into :class:`~arrowferry.progress_events.MigrationProgress` events
for ``on_progress`` and for a display (:mod:`arrowferry.progress_display`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from arrowferry.progress_events import MigrationProgress, ProgressTracker

if TYPE_CHECKING:
    from arrowferry.options import MigrationOptions
    from arrowferry.plan import MigrationPlan


class Reporter(Protocol):
    """What the engine tells whoever watches a migration. Calls may come from worker threads."""

    def phase(self, name: str) -> None: ...

    def table_started(self, table: str, total_rows: int) -> None: ...

    def advance(self, table: str, rows: int) -> None: ...

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None: ...

    def message(self, text: str) -> None: ...


class NullReporter:
    """Reports nothing (the library default)."""

    def phase(self, name: str) -> None:
        pass

    def table_started(self, table: str, total_rows: int) -> None:
        pass

    def advance(self, table: str, rows: int) -> None:
        pass

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
        pass

    def message(self, text: str) -> None:
        pass


class LogReporter:
    """Reports through :mod:`logging` (logger ``arrowferry``); ``rows``: every batch's
    rows too, at DEBUG."""

    def __init__(self, logger: logging.Logger | None = None, *, rows: bool = True) -> None:
        self.log = logger or logging.getLogger("arrowferry")
        self.rows = rows

    def phase(self, name: str) -> None:
        self.log.info("phase: %s", name)

    def table_started(self, table: str, total_rows: int) -> None:
        self.log.info("table %s: %d rows to copy", table, total_rows)

    def advance(self, table: str, rows: int) -> None:
        if self.rows:
            self.log.debug("table %s: +%d rows", table, rows)

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
        state = "done" if ok else "FAILED"
        self.log.info("table %s: %s, %d rows in %.2fs", table, state, rows, seconds)

    def message(self, text: str) -> None:
        self.log.info("%s", text)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes: rich's live progress
    display replaces it while it draws, and a captured stream may be swapped in."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


@contextmanager
def echo_statements() -> Iterator[None]:
    """Show the ``arrowferry`` loggers' records, every SQL statement included, on stderr.

    What ``verbose=True`` (the CLI's ``-v``) does for the length of a migration, as
    SQLAlchemy's ``create_engine(echo=True)`` does: one handler on the ``arrowferry``
    logger at DEBUG, removed afterwards. Whoever configures logging their own way
    sets ``arrowferry.sql`` to DEBUG instead.
    """
    logger = logging.getLogger("arrowferry")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


ProgressCallback = Callable[[MigrationProgress], None]


class Display(Protocol):
    """A progress display: started before the run, fed its events, stopped after it."""

    def start(self) -> None: ...

    def __call__(self, event: MigrationProgress) -> None: ...

    def stop(self) -> None: ...


class Watch:
    """The reporter a run reports to: every call goes to the caller's reporter, to the
    log, and to the progress tracker when someone watches."""

    def __init__(
        self, reporter: Reporter | None = None, tracker: ProgressTracker | None = None
    ) -> None:
        self.tracker = tracker
        log = LogReporter(logging.getLogger("arrowferry.progress"), rows=False)
        self.reporters: list[Any] = [r for r in (reporter, log, tracker) if r is not None]

    def phase(self, name: str) -> None:
        for r in self.reporters:
            r.phase(name)

    def table_started(self, table: str, total_rows: int) -> None:
        for r in self.reporters:
            r.table_started(table, total_rows)

    def advance(self, table: str, rows: int) -> None:
        for r in self.reporters:
            r.advance(table, rows)

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
        for r in self.reporters:
            r.table_finished(table, rows, seconds, ok)

    def message(self, text: str) -> None:
        for r in self.reporters:
            r.message(text)

    def planned(self, plan: MigrationPlan, *, schema_only: bool) -> None:
        """The plan's tables and rows, before anything is written (a callable that
        raised while the run planned stops it here)."""
        if self.tracker is not None:
            self.tracker.planned({t.name: 0 if schema_only else t.rows for t in plan.tables})
            self.tracker.check()

    def finished(self, ok: bool) -> None:
        if self.tracker is not None:
            self.tracker.finished(ok)


class Watched(Protocol):
    """What :func:`watching` reads of a migration (``arrowferry.api.Migration``)."""

    reporter: Reporter
    on_progress: ProgressCallback | None
    progress: bool | None

    @property
    def options(self) -> MigrationOptions: ...


@contextmanager
def watching(migration: Watched) -> Iterator[Watch]:
    """A run's :class:`Watch`, with a display when one is wanted (see
    :func:`display_for`; a dry run shows none), started before the run and stopped
    after it. Raises :class:`~arrowferry.progress_events.ProgressCallbackError` after
    a run in which ``on_progress`` raised."""
    reporter, on_progress = migration.reporter, migration.on_progress
    callback = on_progress is not None
    dry_run = migration.options.dry_run
    display = None if dry_run else display_for(migration.progress, callback=callback)
    sinks: list[ProgressCallback] = [] if on_progress is None else [on_progress]
    if display is not None:
        sinks.append(_guarded(display))
    tracker = ProgressTracker(sinks) if sinks else None
    watch = Watch(reporter, tracker)
    if display is not None:
        display.start()
    ended = False
    try:
        yield watch
        ended = True
    finally:
        if tracker is not None and not ended:
            tracker.finished(False)  # the run raised: its last event says so
        if display is not None:
            display.stop()
    if tracker is not None:
        tracker.check()


def display_for(progress: bool | None, *, callback: bool = False) -> Display | None:
    """The display a run shows: none when ``progress`` is False; by default (None) one
    only inside IPython or Jupyter and only when no ``on_progress`` callable is given;
    in a Jupyter kernel the notebook display, elsewhere the terminal one on stderr."""
    if progress is False:
        return None
    shell = _ipython_shell()
    if progress is None and (callback or shell is None):
        return None
    from arrowferry import progress_display

    if shell == "notebook":
        return progress_display.NotebookDisplay()
    return progress_display.TerminalDisplay()


def _ipython_shell() -> str | None:
    """``"notebook"`` in a Jupyter kernel, ``"terminal"`` in IPython, else None."""
    ipython = sys.modules.get("IPython")  # never imported here: only if already running
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    kinds = {cls.__name__ for cls in type(shell).__mro__}
    return "notebook" if "ZMQInteractiveShell" in kinds else "terminal"


def _guarded(display: Display) -> ProgressCallback:
    """A display that fails is logged and dropped: the run goes on without it."""
    broken = False

    def show(event: MigrationProgress) -> None:
        nonlocal broken
        if broken:
            return
        try:
            display(event)
        except Exception:
            broken = True
            logging.getLogger("arrowferry.progress").warning(
                "the progress display failed; the run goes on without it", exc_info=True
            )

    return show
