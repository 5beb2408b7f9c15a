"""Which errors are worth another try, and how long to wait before it.

A transient error is one the same work may not meet again a moment later: the
connection to PostgreSQL was lost (the backend was terminated, the server restarted or
is starting up: SQLSTATE class 08, 57P01, 57P02, 57P03), a serialization failure or a
deadlock (40001, 40P01), or a SQLite source locked by a writer ("database is locked").
The pipeline retries a table (keeping the pieces it committed) and the finisher a
statement, at most ``len(BACKOFF)`` times, waiting ``BACKOFF[n]`` seconds before the
n-th retry; after that the run stops with an error, and ``--resume`` finishes it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

from arrowferry.errors import ArrowferryError, ConnectError, DatabaseMissingError

T = TypeVar("T")

BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # 30.5 s in all

TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01"})

# the driver reports a lost connection without a SQLSTATE: libpq's own words
_LOST = re.compile(
    r"server closed the connection unexpectedly|terminating connection due to administrator command"
    r"|no connection to the server|could not receive data from server|could not send data to"
    r" server|connection to server .* failed|the database system is (starting up|shutting down"
    r"|in recovery mode|not yet accepting connections)|SSL connection has been closed"
    r"|Failed to begin transaction: +None|connection not open|server conn crashed"
    r"|database is locked|database table is locked",
    re.IGNORECASE,
)
_REFUSED = re.compile(
    r"authentication failed|no pg_hba\.conf entry|does not exist|permission denied", re.IGNORECASE
)


def sqlstate(err: BaseException) -> str | None:
    """The SQLSTATE of an error or of the driver error it wraps."""
    seen: BaseException | None = err
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        seen = seen.__cause__
    return None


def transient(err: BaseException) -> bool:
    """Whether the work that raised ``err`` may succeed if tried again shortly."""
    if isinstance(err, DatabaseMissingError):
        return False
    text = err.message if isinstance(err, ArrowferryError) else str(err)
    if _REFUSED.search(text):  # the server answered, and said no: trying again changes nothing
        return False
    state = sqlstate(err)
    if state is not None and (state.startswith("08") or state in TRANSIENT_SQLSTATES):
        return True
    if isinstance(err, ConnectError):
        # during a run the server answered before: refused or not yet accepting is a
        # restart (a wrong password or a missing database is not transient)
        return bool(_LOST.search(text)) or "Connection refused" in text or "No such file" in text
    return bool(_LOST.search(text))


def reason(err: BaseException) -> str:
    """A few words on a transient error, for the warning that says a retry happened."""
    text = err.message if isinstance(err, ArrowferryError) else str(err)
    found = _LOST.search(text)
    if found is not None:
        return found.group(0)
    state = sqlstate(err)
    return f"SQLSTATE {state}" if state else " ".join(text.split())[:120]


def retried(
    work: Callable[[], T],
    renew: Callable[[], None],
    say: Callable[[BaseException, float], None],
    worth: Callable[[BaseException], bool] | None = None,
) -> T:
    """``work``, tried again after each transient error (``worth``, by default
    :func:`transient`): ``say`` what happened and the wait before the next try, wait
    ``BACKOFF[n]``, ``renew`` (a new connection), try again. A lasting error, or a
    transient one after the last wait, is raised."""
    for wait in (*BACKOFF, None):
        try:
            return work()
        except Exception as err:
            if wait is None or not (worth or transient)(err):
                raise
            say(err, wait)
            time.sleep(wait)
            renew()
    raise AssertionError("unreachable: the last try returns or raises")


def retried_saying(
    work: Callable[[], T],
    what: str,
    warn: Callable[[str], None],
    renew: Callable[[], None] = lambda: None,
) -> T:
    """:func:`retried`, each retry warned as "``what``: <reason>; tried again in <n> s over
    a new connection" (``renew`` makes it new where ``work`` does not open its own)."""

    def say(err: BaseException, wait: float) -> None:
        warn(f"{what}: {reason(err)}; tried again in {wait:g} s over a new connection")

    return retried(work, renew, say)


def again_if_lost(
    work: Callable[[], T], *, since: float, doing: str, said: list[str] | None = None
) -> T:
    """``work`` (what writes nothing, or all in one transaction: done again, it changes
    nothing) tried again after a lost connection (``BACKOFF``), each retry said in
    ``said``. A refused connection counts as lost only from a server that answered since
    ``since`` (``time.monotonic()``; :attr:`ConnectError.answered_at`): a wrong address
    is said at once. A connection lost at every try is a one-paragraph
    :class:`ConnectError` (``doing``: "while the run planned"), not the driver's error."""
    retries: list[str] = [] if said is None else said

    def lost(err: BaseException) -> bool:
        if isinstance(err, ConnectError) and not retries:
            answered = err.answered_at is not None and err.answered_at >= since
            return answered and transient(err)
        return transient(err)

    def say(err: BaseException, wait: float) -> None:
        retries.append(f"{doing}, a server answered {reason(err)!r}; done again after {wait:g} s")

    try:
        return retried(work, lambda: None, say, lost)
    except ArrowferryError:
        raise
    except Exception as err:
        if not lost(err):
            raise
        raise ConnectError(
            f"the connection was lost {doing} ({reason(err)}), and again on each of "
            f"{len(BACKOFF)} tries over {sum(BACKOFF):g} s; nothing was written: run it "
            "again when the server answers"
        ) from None
