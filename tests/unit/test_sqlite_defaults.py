"""SQLite defaults as the planner reads them: a clock, one stored value, or neither."""

from __future__ import annotations

import pytest

from arrowferry.dialects.sqlite.defaults import (
    DefaultNotConstant,
    clock_default,
    evaluate_default,
)


@pytest.mark.parametrize(
    ("default", "clock"),
    [
        ("CURRENT_TIMESTAMP", "timestamp"),
        ("(datetime('now'))", "timestamp"),
        ("current_date", "date"),
        # what arrowferry writes for PostgreSQL's now() in a timestamptz column
        ("strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')", "timestamp"),
        ("'now'", None),
        ("datetime('now', '+1 day')", None),
    ],
)
def test_clock(default: str, clock: str | None) -> None:
    assert clock_default(default) == clock


@pytest.mark.parametrize(
    "default",
    [
        "datetime('now', '+1 day')",  # a clock reading, moved: not one value
        "strftime('%s', 'now')",
        "random()",
        "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')",  # a clock, never a frozen time
    ],
)
def test_per_row_defaults_are_never_frozen_into_a_constant(default: str) -> None:
    with pytest.raises(DefaultNotConstant):
        evaluate_default(default, "TEXT")


@pytest.mark.parametrize(
    ("default", "declared", "storage", "value"),
    [
        ("'x'", "TEXT", "text", b"x"),
        ("1+2", "TEXT", "text", b"3"),
        ("1e3", "INTEGER", "integer", 1000),
    ],
)
def test_constants_are_evaluated_through_the_affinity(
    default: str, declared: str, storage: str, value: object
) -> None:
    stored = evaluate_default(default, declared)
    assert (stored.storage, stored.value) == (storage, value)
