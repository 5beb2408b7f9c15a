"""Connections to PostgreSQL opened ahead, while the run plans.

A run opens about ten connections to a PostgreSQL target, four of them one after another
before the first row moves (the interrupted-run check, the target check, the journal, the
staging schema), 30-80 ms each: libpq's start-up, a backend forked, and ADBC reading the
server's type catalog; a PostgreSQL source opens a few more for its snapshot and readers.
The plan before them is SQLite or PostgreSQL reading the source on one core, so the other
is free: :func:`warming` opens the first few there, in background threads, and
:func:`connection.connect` takes a ready one instead of opening its own.

A warm connection is exactly what ``connect`` would open (the driver's connection, before
the session settings ``connect`` then applies), so taking one changes nothing but the wait;
one the server has closed since (a restart) fails those settings, and ``connect`` opens a
new one instead. Those not taken within :data:`EXPIRE_SECONDS` are closed.
A warm-up that fails is forgotten: the caller opens its own connection and gets the error
worded as always (never with a password); one still opening when it is asked for after
:data:`TAKE_WAIT` seconds is left to close itself, so a host that does not answer costs
the caller at most that on top of its own ``connect_timeout``. Connections not taken are closed at the end
(opens still in flight are waited for a moment, then close themselves); the threads are
daemons, so an unreachable host never holds the process up at exit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arrowferry.urls import Endpoint

# how many of each kind (autocommit, or in a transaction) a run takes first: a target's
# checks, journal, staging schema, tables and lanes; a source's plan, snapshot and readers
TARGET_FIRST = {True: 5, False: 3}
SOURCE_FIRST = {True: 3}
# at the end, how long to wait for opens still in flight before leaving them to close
# themselves: a reachable server answers in well under this, so no session outlives the
# run that opened it (an unreachable one has failed the run already, after longer)
SETTLE_SECONDS = 2.0
# how long a caller waits for a connection still opening before opening its own: a server
# that answers does so in tens of milliseconds, so one still opening is one that hangs
TAKE_WAIT = 1.0
# the ones not taken by then are closed: they are for the run's first steps, and an idle
# session kept for a long load could be cut by the server (a restart, idle_session_timeout)
EXPIRE_SECONDS = 60.0


# ADBC's driver builds a map of the server's types on connect: with its default ("server")
# it reads pg_type and every column of pg_attribute (composite types), 30-90 ms a
# connection here and minutes on a catalog of many thousand tables (apache/arrow-adbc
# #1755). "builtin" (driver 1.13) takes the map it was built with: the built-in types,
# all arrowferry reads (a type of the database's own is read as text, see
# ``read.select_expression``) or writes. An older driver refuses the option: the default.
DRIVER_OPTIONS = {"adbc.postgresql.type_resolver_mode": "builtin"}
_options: list[dict[str, str]] = [DRIVER_OPTIONS]  # emptied when the driver refuses them


# libpq URL -> time.monotonic() of the last connection opened to it
_ANSWERED: dict[str, float] = {}


def open_connection(url: str, autocommit: bool) -> Any:
    """An ADBC connection to ``url`` (the driver's errors raised as they are)."""
    conn = _open(url, autocommit)
    _ANSWERED[url] = time.monotonic()
    return conn


def answered_at(url: str) -> float | None:
    """When a connection to ``url`` last opened (``time.monotonic()``), or None."""
    return _ANSWERED.get(url)


def _open(url: str, autocommit: bool) -> Any:
    import adbc_driver_postgresql.dbapi as pg_adbc

    if _options:
        try:
            return pg_adbc.connect(url, db_kwargs=dict(_options[0]), autocommit=autocommit)
        except Exception as err:
            if "type_resolver_mode" not in str(err):
                raise
            _options.clear()
    return pg_adbc.connect(url, autocommit=autocommit)


class _Warm:
    """One connection being opened in a thread of its own."""

    def __init__(self, url: str, autocommit: bool) -> None:
        self.url, self.autocommit = url, autocommit
        self.conn: Any = None
        self.done = threading.Event()
        self.abandoned = False
        self.lock = threading.Lock()
        threading.Thread(target=self._open, name="arrowferry-connect", daemon=True).start()

    def _open(self) -> None:
        try:
            conn = open_connection(self.url, self.autocommit)
        except Exception:  # the caller's own connect says what is wrong
            conn = None
        with self.lock:
            if self.abandoned and conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
            self.conn = conn
        self.done.set()

    def take(self) -> Any:
        if not self.done.wait(TAKE_WAIT):
            self.abandon(0.0)  # it closes itself if it ever opens
            return None
        conn, self.conn = self.conn, None
        return conn

    def abandon(self, wait: float) -> None:
        self.done.wait(wait)
        with self.lock:
            self.abandoned = True
            conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


class _Warming:
    def __init__(self, wanted: Mapping[str, Mapping[bool, int]]) -> None:
        self.lock = threading.Lock()
        self.ready = {
            (url, kind): deque(_Warm(url, kind) for _ in range(n))
            for url, counts in wanted.items()
            for kind, n in counts.items()
        }
        self.expiry = threading.Timer(EXPIRE_SECONDS, self.close)
        self.expiry.daemon = True
        self.expiry.start()

    def take(self, url: str, autocommit: bool) -> Any:
        with self.lock:
            queue = self.ready.get((url, autocommit))
            warm = queue.popleft() if queue else None
        return warm.take() if warm is not None else None

    def close(self) -> None:
        self.expiry.cancel()
        with self.lock:
            left = [w for queue in self.ready.values() for w in queue]
            self.ready = {}
        deadline = time.monotonic() + SETTLE_SECONDS
        for warm in left:
            warm.abandon(max(0.0, deadline - time.monotonic()))


_ACTIVE: list[_Warming] = []
_LOCK = threading.Lock()


@contextlib.contextmanager
def warming(wanted: Mapping[str, Mapping[bool, int]]) -> Iterator[None]:
    """Open, per libpq URL (with its connect_timeout), so many connections of each kind
    (autocommit or not) in the background for the block's duration; those not taken are
    closed at its end."""
    warm = _Warming(wanted)
    with _LOCK:
        _ACTIVE.append(warm)
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE.remove(warm)
        warm.close()


def for_run(source: Endpoint, target: Endpoint | None) -> contextlib.AbstractContextManager[None]:
    """:func:`warming` for a run's PostgreSQL endpoints (nothing to warm: a no-op)."""
    from arrowferry.dialects.postgresql.connection import with_connect_timeout

    wanted: dict[str, dict[bool, int]] = {}
    for endpoint, first in ((target, TARGET_FIRST), (source, SOURCE_FIRST)):
        if endpoint is None or endpoint.dialect != "postgresql":
            continue
        counts = wanted.setdefault(with_connect_timeout(endpoint).url, {})
        for kind, n in first.items():
            counts[kind] = counts.get(kind, 0) + n
    return warming(wanted) if wanted else contextlib.nullcontext()


def take(url: str, autocommit: bool) -> Any:
    """A connection opened ahead to ``url``, or None (none warming, or its open failed)."""
    with _LOCK:
        active = list(_ACTIVE)
    for warm in active:
        conn = warm.take(url, autocommit)
        if conn is not None:
            return conn
    return None
