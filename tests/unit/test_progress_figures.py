"""The progress figures, computed from the engine's reports against a fake clock:
percentages, rates, ETAs, the overall figures, the bounded rate, held counts across a
retry, a raised total, and what a callable that raises does."""

from __future__ import annotations

import itertools

import pytest

from arrowferry.progress_display import Board, Frame, NotebookDisplay, clock
from arrowferry.progress_events import MigrationProgress, ProgressCallbackError, ProgressTracker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tracker(min_interval: float = 0.1) -> tuple[ProgressTracker, list[MigrationProgress], Clock]:
    events: list[MigrationProgress] = []
    fake = Clock()
    return ProgressTracker([events.append], min_interval=min_interval, clock=fake), events, fake


def test_percentage_rate_and_eta_of_a_table() -> None:
    t, events, now = tracker()
    t.planned({"a": 1000})
    t.phase("load")
    now.now = 2.0
    t.table_started("a", 1000)
    now.now = 3.0
    t.advance("a", 100)  # 100 rows in 1 s: 900 left take 9 s
    e = events[-1]
    assert (e.table, e.status, e.current, e.total) == ("a", "running", 100, 1000)
    assert e.percentage == pytest.approx(10.0)
    assert e.rows_per_second == pytest.approx(100.0)
    assert e.eta_seconds == pytest.approx(9.0)
    now.now = 5.0
    t.advance("a", 300)  # 400 rows in 3 s
    e = events[-1]
    assert e.rows_per_second == pytest.approx(400 / 3)
    assert e.eta_seconds == pytest.approx(600 / (400 / 3))
    assert e.elapsed_seconds == pytest.approx(5.0)
    t.table_finished("a", 1000, 3.5, True)
    e = events[-1]
    assert (e.status, e.current, e.percentage, e.eta_seconds) == ("done", 1000, 100.0, 0.0)


def test_the_first_event_has_no_rate_to_guess_from() -> None:
    t, events, _now = tracker()
    t.table_started("a", 10)
    e = events[-1]
    assert (e.status, e.current, e.rows_per_second, e.eta_seconds) == ("started", 0, 0.0, None)


def test_overall_figures_add_the_tables_up() -> None:
    t, events, now = tracker()
    t.planned({"a": 300, "b": 100})
    t.phase("load")  # the load starts at 0
    t.table_started("a", 300)
    t.table_started("b", 100)
    now.now = 1.0
    t.advance("a", 150)
    t.advance("b", 50)
    e = events[-1]
    assert (e.table, e.current, e.total) == ("b", 50, 100)
    assert (e.rows_done, e.rows_total, e.tables_done, e.tables_total) == (200, 400, 0, 2)
    assert e.overall_percentage == pytest.approx(50.0)
    assert e.overall_rows_per_second == pytest.approx(200.0)
    assert e.overall_eta_seconds == pytest.approx(1.0)
    t.table_finished("b", 100, 1.0, True)
    t.table_finished("a", 0, 1.0, False)
    e = events[-1]
    assert (e.table, e.status, e.tables_done, e.tables_failed) == ("a", "failed", 1, 1)
    assert e.eta_seconds is None  # a failed table will not finish
    t.finished(False)
    last = events[-1]
    assert (last.table, last.phase, last.status) == (None, "done", "failed")
    assert (last.current, last.total) == (last.rows_done, last.rows_total) == (250, 400)


def test_running_events_are_at_least_the_interval_apart() -> None:
    t, events, now = tracker(min_interval=0.1)
    t.table_started("a", 10_000)
    for step in range(1, 101):  # a batch every 10 ms for a second
        now.now = step * 0.01
        t.advance("a", 100)
    running = [e for e in events if e.status == "running"]
    assert 9 <= len(running) <= 10
    gaps = [b.elapsed_seconds - a.elapsed_seconds for a, b in itertools.pairwise(running)]
    assert min(gaps) >= 0.1 - 1e-9
    t.table_finished("a", 10_000, 1.0, True)  # the last one always goes out
    assert (events[-1].status, events[-1].current) == ("done", 10_000)


def test_a_retry_holds_the_count_until_it_passes_it() -> None:
    t, events, now = tracker(min_interval=0)
    t.table_started("a", 100)
    now.now = 1.0
    t.advance("a", 60)
    t.table_started("a", 100)  # the fast path met dirty data: the table starts over
    now.now = 2.0
    t.advance("a", 30)
    t.advance("a", 40)
    currents = [e.current for e in events if e.table == "a"]
    assert currents == [0, 60, 60, 60, 70]
    assert [e.total for e in events if e.table == "a"] == [100] * 5
    assert events[-1].rows_per_second == pytest.approx(70.0)  # the retry's own rate


def test_a_table_larger_than_planned_raises_its_total_before_passing_it() -> None:
    t, events, now = tracker(min_interval=10)  # throttled: the raise still goes out
    t.planned({"a": 100})
    t.table_started("a", 100)
    now.now = 1.0
    t.advance("a", 90)  # throttled away
    t.advance("a", 30)  # 120 > 100
    raised = events[-1]
    assert raised.total_raised and raised.current == 120 and raised.total == 130
    assert raised.rows_total == 130  # the run's total follows
    t.advance("a", 5)
    t.table_finished("a", 125, 1.0, True)
    table_events = [e for e in events if e.table == "a"]
    assert all(e.current <= e.total for e in table_events)
    assert [e.total for e in table_events] == [100, 130, 130]
    assert [e.current for e in table_events] == [0, 120, 125]
    assert [e.percentage for e in table_events] == [0.0, 120 / 130 * 100, 100.0]


def test_percentages_hold_while_a_raised_total_is_caught_up_with() -> None:
    t, events, now = tracker(min_interval=0)
    t.planned({"a": 100, "b": 100})
    t.table_started("a", 100)
    now.now = 1.0
    t.advance("a", 99)  # 99%, and 49.5% of the run
    t.advance("a", 2)  # 101 rows: the total becomes 111, 101/111 is 91%: held at 99
    t.advance("a", 9)  # 110/111
    table = [e.percentage for e in events if e.table == "a"]
    assert table == [0.0, 99.0, 99.0, 110 / 111 * 100]
    overall = [e.overall_percentage for e in events]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(110 / 211 * 100)


def test_a_table_with_fewer_rows_than_planned_ends_whole() -> None:
    t, events, now = tracker(min_interval=0)
    t.planned({"a": 100})
    t.table_started("a", 100)
    now.now = 1.0
    t.advance("a", 90)  # ten rows were deleted between the plan and the load
    t.table_finished("a", 90, 1.0, True)
    last = events[-1]
    assert (last.current, last.total, last.percentage) == (90, 100, 100.0)
    assert (last.rows_done, last.overall_percentage, last.overall_eta_seconds) == (90, 100.0, 0.0)


def test_a_schema_only_run_counts_tables() -> None:
    t, events, _now = tracker(min_interval=0)
    t.planned({"a": 0, "b": 0})
    for name in ("a", "b"):
        t.table_started(name, 0)
        t.table_finished(name, 0, 0.1, True)
    assert [e.overall_percentage for e in events if e.status == "done"][1:] == [50.0, 100.0]


def test_a_table_of_no_rows_is_done_at_a_hundred_percent() -> None:
    t, events, _now = tracker()
    t.table_started("empty", 0)
    t.table_finished("empty", 0, 0.0, True)
    assert [e.percentage for e in events] == [0.0, 100.0]


def test_rows_after_a_table_ended_change_nothing() -> None:
    t, events, _now = tracker(min_interval=0)
    t.table_started("a", 10)
    t.table_finished("a", 10, 0.1, True)
    t.advance("a", 5)  # a lane still draining its last batch
    assert [e.current for e in events] == [0, 10]


def test_a_callable_that_raises_stops_every_table_and_is_raised_after_the_run() -> None:
    calls: list[MigrationProgress] = []

    def fussy(event: MigrationProgress) -> None:
        calls.append(event)
        if event.table == "b":
            raise ValueError("no thanks")

    t = ProgressTracker([fussy], min_interval=0, clock=Clock())
    t.table_started("a", 10)
    with pytest.raises(ProgressCallbackError, match="ValueError: no thanks") as raised:
        t.table_started("b", 10)
    assert isinstance(raised.value.__cause__, ValueError)
    with pytest.raises(ProgressCallbackError):
        t.advance("a", 1)  # every table that goes on stops too
    t.table_finished("a", 1, 0.1, False)  # the cleanup paths never raise
    t.phase("finish")
    t.finished(False)
    with pytest.raises(ProgressCallbackError):
        t.check()
    assert len(calls) == 2  # called no more once it raised


def test_a_callable_that_raises_on_a_quiet_path_is_kept_for_check() -> None:
    def fussy(event: MigrationProgress) -> None:
        raise RuntimeError("boom")

    t = ProgressTracker([fussy], clock=Clock())
    t.phase("load")  # does not raise: the pipeline calls it outside any table
    with pytest.raises(ProgressCallbackError, match="RuntimeError: boom"):
        t.check()


def test_clock_format() -> None:
    assert [clock(s) for s in (None, 0, 59.6, 61, 3725)] == [
        "-:--:--",
        "0:00:00",
        "0:01:00",
        "0:01:01",
        "1:02:05",
    ]


def test_the_board_draws_active_tables_and_the_run() -> None:
    board, fake = Board(), Clock()
    t = ProgressTracker([board.update], min_interval=0, clock=fake)
    t.planned({"orders": 1000, "users": 10})
    t.phase("load")
    t.table_started("orders", 1000)
    t.table_started("users", 10)
    fake.now = 2.0
    t.advance("orders", 400)
    t.table_finished("users", 10, 0.5, True)
    text = Frame(board).text
    assert "orders" in text and "users" not in text  # a done table leaves the board
    assert "400/1,000 rows" in text and "200 rows/s" in text and "ETA 0:00:03" in text
    assert "loading 1/2 tables" in text and "410/1,010 rows" in text
    t.table_finished("orders", 0, 2.0, False)
    t.finished(False)
    frame = Frame(board)
    assert "failed: orders" in frame.text and "stopped" in frame.text
    assert "<pre" in frame.html and "orders" in frame.html


def test_the_notebook_display_updates_at_a_bounded_rate() -> None:
    fake = Clock()
    shown: list[str] = []

    class Handle:
        def update(self, frame: Frame) -> None:
            shown.append(frame.text)

    display = NotebookDisplay(min_interval=0.25, clock=fake)
    display.handle = Handle()
    t = ProgressTracker([display], min_interval=0, clock=fake)
    t.table_started("a", 100)
    for step in range(1, 11):  # an event every 0.1 s: a frame every 0.25 s or so
        fake.now = step * 0.1
        t.advance("a", 10)
    assert 3 <= len(shown) <= 5
    t.finished(True)  # an event of the run always shows
    assert "done" in shown[-1]
