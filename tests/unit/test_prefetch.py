"""Prefetch: pieces read in order on a background thread, errors raised where they happen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arrowferry.transfer.prefetch import Prefetch


class _Piece:
    def __init__(self, items: list[int], fail_at: int | None = None) -> None:
        self.items = items
        self.fail_at = fail_at
        self.closed = False

    def __iter__(self) -> Iterator[int]:
        try:
            for i, item in enumerate(self.items):
                if i == self.fail_at:
                    raise ValueError(f"bad item {item}")
                yield item
        finally:
            self.closed = True


def _work(piece: _Piece) -> Iterator[int]:
    return iter(piece)


def test_items_come_in_piece_order() -> None:
    pieces = [_Piece([1, 2, 3]), _Piece([]), _Piece([4]), _Piece([5, 6])]
    assert list(Prefetch(pieces, _work, depth=1)) == [1, 2, 3, 4, 5, 6]
    assert all(p.closed for p in pieces)


def test_an_error_is_raised_after_the_items_before_it() -> None:
    pieces = [_Piece([1, 2]), _Piece([3, 4, 5], fail_at=1), _Piece([6])]
    seen: list[int] = []
    with pytest.raises(ValueError, match="bad item 4"):
        for item in Prefetch(pieces, _work):
            seen.append(item)
    assert seen == [1, 2, 3]
    assert pieces[1].closed
    assert not pieces[2].closed  # the thread stopped at the error: no piece after it


def test_stopping_early_stops_the_thread_and_closes_the_piece() -> None:
    piece = _Piece(list(range(1000)))
    prefetch = Prefetch([piece], _work, depth=2)
    for item in prefetch:
        if item == 3:
            break
    prefetch.close()
    assert not prefetch.thread.is_alive()
    assert piece.closed
