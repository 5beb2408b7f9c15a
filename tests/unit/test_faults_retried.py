"""``faults.retried``: the one retry loop of the finisher and of verify."""

from __future__ import annotations

import pytest

from arrowferry import faults

LOST = "server closed the connection unexpectedly"


def _run(errors: list[Exception]) -> tuple[list[str], int]:
    said, renewed = [], []

    def work() -> str:
        if errors:
            raise errors.pop(0)
        return "done"

    result = faults.retried(
        work, lambda: renewed.append(1), lambda err, wait: said.append(f"{err} {wait:g}")
    )
    return [result, *said], len(renewed)


def test_a_transient_error_is_said_waited_for_renewed_and_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults, "BACKOFF", (0.0, 0.01))
    assert _run([RuntimeError(LOST), RuntimeError(LOST)]) == (
        ["done", f"{LOST} 0", f"{LOST} 0.01"],
        2,
    )


def test_a_lasting_error_and_the_last_transient_one_are_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults, "BACKOFF", (0.0,))
    with pytest.raises(RuntimeError, match="permission denied"):
        _run([RuntimeError("permission denied for table t")])
    with pytest.raises(RuntimeError, match="closed the connection"):
        _run([RuntimeError(LOST), RuntimeError(LOST)])
