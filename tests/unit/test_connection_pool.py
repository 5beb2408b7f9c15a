"""The loading connections are reused after a clean exit, never after an error."""

from __future__ import annotations

from typing import Any

import pytest

from arrowferry.dialects.pool import Pool as _Pool
from arrowferry.dialects.pool import PooledConnection as _Conn


class FakeConnection:
    def __init__(self, autocommit: bool) -> None:
        self.autocommit = autocommit
        self.closed = False
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1

    def close(self) -> None:
        self.closed = True


def _pool() -> tuple[_Pool, list[FakeConnection]]:
    made: list[FakeConnection] = []

    def factory(autocommit: bool) -> Any:
        made.append(FakeConnection(autocommit))
        return made[-1]

    return _Pool(factory), made


def test_a_clean_connection_is_reused_per_mode_and_left_without_a_transaction() -> None:
    pool, made = _pool()
    with _Conn(pool, autocommit=False) as first:
        pass
    with _Conn(pool, autocommit=False) as again, _Conn(pool, autocommit=True) as other:
        assert again is first and other is not first
    assert len(made) == 2 and first.rollbacks == 2  # nothing left open for the next table
    pool.close()
    assert all(c.closed for c in made)


def test_a_connection_that_saw_an_error_is_closed_not_reused() -> None:
    pool, made = _pool()
    with pytest.raises(RuntimeError), _Conn(pool, autocommit=False):
        raise RuntimeError("COPY failed")
    assert made[0].closed
    with _Conn(pool, autocommit=False) as fresh:
        assert fresh is not made[0] and not fresh.closed
