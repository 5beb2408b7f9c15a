"""The benchmark harness's honesty helpers: each figure's range beside its median, and the
wait for a quiet machine before the runs (the figures are only worth their conditions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from harness import report, runner


def test_the_table_and_json_show_each_figures_range() -> None:
    copy = report.MethodSummary("copy_limit", "COPY limit", seconds=[3.5, 3.1, 3.2])
    ours = report.MethodSummary("arrowferry", "arrowferry", seconds=[6.6, 7.7, 7.2])
    ours.data_seconds = [4.5, 4.0, 4.1]
    report.finalise([copy, ours], 2_200_000, 377.5)
    assert (ours.median_s, ours.min_s, ours.max_s) == (7.2, 6.6, 7.7)
    assert (ours.data_min_s, ours.data_max_s) == (4.0, 4.5)
    assert ours.x_copy_limit == pytest.approx(7.2 / 3.2)
    lines = report.table_lines([copy, ours])
    assert "range" in lines[0]
    assert "6.60-7.70" in lines[3] and "3.10-3.50" in lines[2]


def test_the_runs_wait_for_a_quiet_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["other processes used 1.8 of 2 cores", "other processes used 1.2", None])
    monkeypatch.setattr(runner, "busy_now", lambda: next(answers))
    monkeypatch.setattr(runner.time, "sleep", lambda _s: None)
    warning, _waited = runner.wait_for_quiet(600)
    assert warning is None  # the third check found the machine quiet
    busy = iter(["busy"] * 100)
    monkeypatch.setattr(runner, "busy_now", lambda: next(busy))
    warning, _waited = runner.wait_for_quiet(0)
    assert warning == "busy"  # no wait asked: the warning is recorded, the runs go on
