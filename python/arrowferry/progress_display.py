"""Progress you can watch: a board of the active tables and the whole run.

One board, drawn from :class:`~arrowferry.progress_events.MigrationProgress` events
alone, shown two ways: live on a terminal's stderr (:class:`TerminalDisplay`, rich's
``Live``), or in a notebook as one output that updates in place
(:class:`NotebookDisplay`, an IPython display handle; rich renders the HTML, so no
widget library is needed and the last frame stays in the saved notebook).
Imported only when a display is shown: it loads rich.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from arrowferry.progress_events import MigrationProgress

PHASES = {
    "plan": "planning",
    "load": "loading",
    "finish": "building indexes, keys",
    "verify": "verifying",
    "done": "done",
}
SHOWN_TABLES = 12  # active tables drawn at most (workers and lanes rarely run more)


def clock(seconds: float | None) -> str:
    """``h:mm:ss``; a dash when not known."""
    if seconds is None:
        return "-:--:--"
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Board:
    """The state a display draws: the active tables' latest events, the failed tables,
    and the run's latest figures. Fed from any thread; drawn by rich (``__rich__``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: dict[str, MigrationProgress] = {}
        self.failed: list[str] = []
        self.last: MigrationProgress | None = None
        self.phase = "plan"
        self.outcome: str | None = None

    def update(self, event: MigrationProgress) -> None:
        with self.lock:
            self.last = event
            if event.table is None:
                self.phase = event.phase
                if event.phase == "done":
                    self.outcome = event.status
                return
            if event.status == "done":
                self.active.pop(event.table, None)
            elif event.status == "failed":
                self.active.pop(event.table, None)
                self.failed.append(event.table)
            else:
                self.active[event.table] = event

    def __rich__(self) -> RenderableType:
        with self.lock:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True, max_width=40)
            grid.add_column()
            grid.add_column(justify="right", no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
            grid.add_column(no_wrap=True)
            shown = list(self.active.values())
            for event in shown[:SHOWN_TABLES]:
                grid.add_row(
                    Text(event.table or "", overflow="ellipsis"),
                    ProgressBar(total=max(event.total, 1), completed=event.current, width=28),
                    f"{event.current:,}/{event.total:,} rows",
                    f"{event.rows_per_second:,.0f} rows/s",
                    f"ETA {clock(event.eta_seconds)}",
                )
            if len(shown) > SHOWN_TABLES:
                grid.add_row(Text(f"and {len(shown) - SHOWN_TABLES} more", style="dim"))
            if self.last is not None:
                grid.add_row(*self._overall(self.last))
            parts: list[RenderableType] = [grid]
            if self.failed:
                # names from the user's databases: never read as markup or emoji codes
                parts.append(Text.assemble(("failed: ", "red"), ", ".join(self.failed)))
            return Group(*parts)

    def _overall(self, event: MigrationProgress) -> tuple[RenderableType, ...]:
        if self.outcome is not None:
            label = "[green]done[/green]" if self.outcome == "done" else "[red]stopped[/red]"
            timing = f"took {clock(event.elapsed_seconds)}"
        else:
            label = f"[bold]{PHASES.get(self.phase, self.phase)}[/bold]"
            timing = f"ETA {clock(event.overall_eta_seconds)}" if self.phase == "load" else ""
        label += f" {event.tables_done}/{event.tables_total} tables"
        total = max(event.rows_total, 1)
        return (
            Text.from_markup(label),
            ProgressBar(total=total, completed=min(event.rows_done, total), width=28),
            f"{event.rows_done:,}/{event.rows_total:,} rows",
            f"{event.overall_rows_per_second:,.0f} rows/s",
            timing,
        )


class TerminalDisplay:
    """The board, live on stderr (rich redraws it about eight times a second)."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.live import Live

        self.board = Board()
        self.console = console or Console(stderr=True, emoji=False)
        self.live = Live(self.board, console=self.console, refresh_per_second=8)

    def __call__(self, event: MigrationProgress) -> None:
        self.board.update(event)

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()


class Frame:
    """One frame of the board for a notebook: HTML, and the same as plain text."""

    def __init__(self, board: Board, width: int = 110) -> None:
        console = Console(
            file=io.StringIO(),
            record=True,
            width=width,
            color_system="truecolor",
            force_terminal=True,
            force_jupyter=False,
        )
        console.print(board)
        self.text = console.export_text(clear=False)
        self.html = console.export_html(
            inline_styles=True,
            code_format=(
                '<pre style="white-space:pre;line-height:1.3;font-family:Menlo,'
                "'DejaVu Sans Mono',Consolas,monospace\">{code}</pre>"
            ),
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text.rstrip("\n")


class NotebookDisplay:
    """The board as one notebook output updated in place, at most ``1 / min_interval``
    times a second (every phase, and the last frame, always)."""

    def __init__(
        self, *, min_interval: float = 0.25, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.board = Board()
        self.min_interval = min_interval
        self.clock = clock
        self.shown = 0.0
        self.handle: Any = None

    def start(self) -> None:
        from IPython.display import display

        # made on the caller's thread, so the output belongs to the running cell;
        # updates by its id come from whichever thread reports
        self.handle = display(Frame(self.board), display_id=True)  # type: ignore[no-untyped-call]

    def __call__(self, event: MigrationProgress) -> None:
        self.board.update(event)
        now = self.clock()
        if event.table is None or now - self.shown >= self.min_interval:
            self._show(now)

    def stop(self) -> None:
        self._show(self.clock())

    def _show(self, now: float) -> None:
        self.shown = now
        if self.handle is not None:
            self.handle.update(Frame(self.board))
