"""Progress is an injected observer: the engine reports, the caller decides how to show it."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID


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
    """Reports through :mod:`logging` (logger ``arrowferry``)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("arrowferry")

    def phase(self, name: str) -> None:
        self.log.info("phase: %s", name)

    def table_started(self, table: str, total_rows: int) -> None:
        self.log.info("table %s: %d rows to copy", table, total_rows)

    def advance(self, table: str, rows: int) -> None:
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


def _name_column() -> Any:
    """The bar's first column: the table's name as it is (a Text, never markup), in red
    once the table failed."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class NameColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(task.description, style="bold red" if task.fields.get("failed") else "bold")

    return NameColumn()


class RichReporter:
    """A progress bar per table with rows/s, drawn on stderr by rich."""

    def __init__(self, verbose: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        # table names and messages come from the user's databases: never read as markup
        # ('[/x]' in a name is a closing tag, MarkupError) nor as emoji codes
        self.console = Console(stderr=True, emoji=False)
        self.verbose = verbose
        self.progress = Progress(
            _name_column(),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def phase(self, name: str) -> None:
        self.progress.console.print(name, style="dim", markup=False)

    def table_started(self, table: str, total_rows: int) -> None:
        with self.lock:
            self.started[table] = time.perf_counter()
            self.done[table] = 0
            if table in self.tasks:  # a retry starts the table over
                self.progress.reset(self.tasks[table], total=max(total_rows, 1))
                return
            self.tasks[table] = self.progress.add_task(
                table, total=max(total_rows, 1), rate="", failed=False
            )

    def advance(self, table: str, rows: int) -> None:
        with self.lock:
            task = self.tasks.get(table)
            if task is None:
                return
            done = self.done[table] = self.done.get(table, 0) + rows
            elapsed = time.perf_counter() - self.started[table]
            rate = f"{done / elapsed:,.0f} rows/s" if elapsed > 0 else ""
            self.progress.update(task, advance=rows, rate=rate)

    def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
        with self.lock:
            task = self.tasks.get(table)
            if task is None:
                return
            rate = f"{rows / seconds:,.0f} rows/s" if seconds > 0 else ""
            label = table if ok else f"{table} (failed)"
            self.progress.update(
                task,
                completed=max(rows, 1) if ok else 0,
                rate=rate,
                description=label,
                failed=not ok,
            )

    def message(self, text: str) -> None:
        if self.verbose:
            self.progress.console.print(text, style="dim", markup=False)
