"""Connections kept open for the next table, and returned to the pool only when their
session is clean (a target with many writers loads each table on one of them)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any


class Pool:
    """Connections kept open for the next table: a new one costs a server process and
    its start-up (7 ms here with the driver's built-in type map, 30-90 ms without).

    An idle connection may have died while it waited (the server restarted, a DBA or
    ``idle_session_timeout`` ended it): ``alive`` (one round trip, 30-60 us locally)
    is asked before one is handed out, and a dead one is closed and replaced, so no
    step that takes a connection meets an error that happened while nobody used it.
    """

    def __init__(
        self, factory: Callable[[bool], Any], alive: Callable[[Any], bool] = lambda _: True
    ) -> None:
        self.factory = factory
        self.alive = alive
        self.idle: dict[bool, list[Any]] = {True: [], False: []}
        self.lock = threading.Lock()

    def take(self, autocommit: bool) -> Any:
        while True:
            with self.lock:
                if not self.idle[autocommit]:
                    break
                conn = self.idle[autocommit].pop()
            if self.alive(conn):
                return conn
            with contextlib.suppress(Exception):
                conn.close()
        return self.factory(autocommit)

    def give(self, conn: Any, autocommit: bool) -> None:
        with self.lock:
            self.idle[autocommit].append(conn)

    def close(self) -> None:
        with self.lock:
            conns = self.idle[True] + self.idle[False]
            self.idle = {True: [], False: []}
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


class PooledConnection:
    """A pooled connection: back to the pool after a clean exit, closed after an error
    (closing also ends a stuck COPY, and no half-done session is ever reused)."""

    def __init__(self, pool: Pool, autocommit: bool) -> None:
        self.pool = pool
        self.autocommit = autocommit
        self.conn: Any = None

    def __enter__(self) -> Any:
        self.conn = self.pool.take(self.autocommit)
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            try:
                if not self.autocommit:
                    self.conn.rollback()  # nothing left open for the next table
                self.pool.give(self.conn, self.autocommit)
                return
            except Exception:  # the session is not clean: do not keep it
                pass
        with contextlib.suppress(Exception):
            self.conn.close()
