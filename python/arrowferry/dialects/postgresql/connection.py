"""PostgreSQL connections: open one (never showing a password), run SQL, word driver errors."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from arrowferry.dialects import sqllog
from arrowferry.dialects.postgresql import warm
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import ConnectError, DatabaseMissingError
from arrowferry.urls import Endpoint, scrub

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer names are truncated by the server
MAX_COLUMNS = 1600  # MaxHeapAttributeNumber: "tables can have at most 1600 columns"

# libpq waits for ever by default on a host that drops packets; pgAdmin's 10 s bounds the
# wait and still leaves a serverless database (Neon, Aurora) time to wake. A URL's own
# connect_timeout, or PGCONNECT_TIMEOUT, wins.
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
DEFAULT_CONNECT_TIMEOUT = 10


def connect(
    endpoint: Endpoint,
    *,
    read_only: bool = False,
    autocommit: bool = True,
    settings: Sequence[str] = (),
) -> Any:
    """Open an ADBC connection; a failure becomes a :class:`ConnectError` without the password.

    The wait for a server is bounded (``connect_timeout``, :data:`DEFAULT_CONNECT_TIMEOUT`
    seconds unless the URL or ``PGCONNECT_TIMEOUT`` says otherwise). ``settings``: the
    caller's session statements, run after arrowferry's own; a connection whose settings
    fail is closed before the error is raised (never left to the garbage collector).
    """
    bounded = with_connect_timeout(endpoint)
    opened = warm.take(bounded.url, autocommit)  # one opened ahead, if any
    if opened is not None:
        try:
            return _session(opened, read_only, autocommit, settings)
        except Exception:  # the server closed it since (a restart): open a new one
            pass
    try:
        conn = warm.open_connection(bounded.url, autocommit)
        failure = None
    except Exception as err:
        failure = connect_error(endpoint, scrub(str(err), endpoint), bounded)
        failure.answered_at = warm.answered_at(bounded.url)
    if failure is not None:
        # raised outside the handler: the driver's exception (whose text may hold the
        # URL) is neither the cause nor the context of what the caller sees
        raise failure
    return _session(conn, read_only, autocommit, settings)


# What every session of arrowferry's sets, whatever the server, database or role says
# (``SET ... TO DEFAULT`` gives a user's own SQL hooks theirs back, ``USER_DEFAULTS``):
FIXED = {
    "application_name": "arrowferry",
    # the bytes on the wire: ADBC reads and writes every text as UTF-8, and a database or
    # role whose client_encoding is LATIN1 turned a copied 'café' into 'cafÃ©', silently
    "client_encoding": "UTF8",
    # a float prints every digit it has (the shortest exact text); at 0 it prints 15, and
    # text arrowferry compares or stores (an upsert's row comparison, a column synced into
    # text) would call two floats equal or round them
    "extra_float_digits": "3",
    # PostgreSQL's default since 9.1; off, a backslash in one of arrowferry's literals is an
    # escape: a default 'C:\new' became C:, a newline and "ew"
    "standard_conforming_strings": "on",
    # a timestamp without an offset is UTC in arrowferry (as the data it converts): a CHECK
    # (k > '2020-01-01 00:00:00') on a timestamptz column must not mean 05:00 UTC because
    # the database's zone is New York
    "TimeZone": "UTC",
    # the text of dates, intervals and bytes (the catalog's defaults and CHECKs, a column
    # synced into text, a value read as text) in one form, as a migration writes them
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "iso_8601",
    "bytea_output": "hex",
}
# (a hook's text goes on the wire as UTF-8 too: client_encoding stays)
USER_DEFAULTS = "; ".join(
    f"SET LOCAL {k} TO DEFAULT" for k in FIXED if k not in {"application_name", "client_encoding"}
)


def _session(conn: Any, read_only: bool, autocommit: bool, settings: Sequence[str]) -> Any:
    """A new connection's session settings (closed, and the error raised, if they fail)."""
    try:
        # One statement: ADBC prepares each, and a prepared statement holds one command.
        execute(
            conn,
            "SELECT "
            + ", ".join(f"set_config({literal(k)}, {literal(v)}, false)" for k, v in FIXED.items()),
        )
        if read_only:
            execute(conn, "SET default_transaction_read_only = on")
        for sql in settings:
            execute(conn, sql)
        if not autocommit:
            conn.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            conn.close()
        raise
    return conn


def with_connect_timeout(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` with libpq's ``connect_timeout`` set, unless it is set already."""
    if "connect_timeout" in endpoint.params or os.environ.get("PGCONNECT_TIMEOUT"):
        return endpoint
    params = {**endpoint.params, "connect_timeout": str(DEFAULT_CONNECT_TIMEOUT)}
    return replace(endpoint, params=params)


_MISSING_DATABASE = re.compile(r'database "(?P<name>.*)" does not exist')


def connect_error(endpoint: Endpoint, message: str, bounded: Endpoint) -> ConnectError:
    """The one-paragraph error for a failed connection (``message``: the driver's, scrubbed)."""
    said = re.sub(r"^Failed to connect: ", "", " ".join(_first_line(message).split()))
    where = f"cannot connect to PostgreSQL at {endpoint.masked_url}"
    missing = _MISSING_DATABASE.search(said)
    if missing is not None and missing["name"] == endpoint.database:
        return DatabaseMissingError(
            f"{where}: {said}", database=endpoint.database, url=endpoint.masked_url
        )
    if "timeout expired" in said:
        waited = bounded.params.get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT")
        said += f" (no answer within connect_timeout={waited} s; set it in the URL to wait longer)"
    return ConnectError(f"{where}: {said}")


def _first_line(text: str) -> str:
    text = re.sub(r"^[A-Z_]+: ", "", text.strip()).replace("[libpq] ", "")
    # the driver repeats the whole statement; the server's own words are what matter
    text = re.sub(r"^Failed to execute query '.*': (?=ERROR:)", "", text, flags=re.S)
    text = re.sub(r"^Failed to prepare query: (?=ERROR:)", "", text, flags=re.S)
    text = re.sub(r"^Failed to execute query: could not begin COPY: (?=ERROR:)", "", text)
    text = re.sub(r"^Failed to execute COPY statement: (PGRES_FATAL_ERROR )?", "", text)
    text = re.sub(r"\s*Query was: .*$", "", text, flags=re.S)
    text = re.sub(r"\s*\. SQLSTATE: \w+\s*$", "", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # "LINE 1: ...col_38 FROM nowhere_ta..." is the server's window on the statement, cut
    # mid-token at both ends, and its caret line means nothing once lines are joined: the
    # whole statement is in the plan and in the -v log
    kept = [ln for ln in lines if not re.match(r"LINE \d+: |\^$", ln)]
    if len(kept) == 1 and re.fullmatch(r"Failed to [\w ]+:", kept[0]):
        # libpq had nothing to say: what a connection already lost answers
        return f"{kept[0]} (the driver gave no reason: the connection was probably lost)"
    if not kept or not kept[0].startswith("ERROR:"):
        # a connection failure: its two lines
        return " ".join(" ".join(kept[:2]).split()) if kept else text
    said = [re.sub(r"^ERROR:\s+", "", kept[0])]
    said += [ln for ln in kept[1:] if ln.startswith(("DETAIL:", "HINT:"))]
    return " ".join(" ".join(said).split())


def driver_message(err: BaseException, *endpoints: Endpoint | None) -> str:
    """A one-paragraph, password-free version of a driver error."""
    return _first_line(scrub(str(err), *endpoints))


def qname(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def truncate_identifier(name: str) -> str:
    """The name PostgreSQL will store: at most 63 bytes, cut on a character boundary."""
    raw = name.encode("utf-8")
    if len(raw) <= MAX_IDENTIFIER_BYTES:
        return name
    return raw[:MAX_IDENTIFIER_BYTES].decode("utf-8", errors="ignore")


def fetch(conn: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    sqllog.statement("postgresql", sql, params)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def alive(conn: Any) -> bool:
    """Whether a connection's session still answers: one empty ``SELECT`` by the simple
    protocol (a connection not in autocommit begins its transaction with it)."""
    try:
        with conn.cursor() as cur:
            cur.executescript("SELECT")
        return True
    except Exception:
        return False


def execute(conn: Any, sql: str, params: Sequence[Any] | None = None) -> None:
    sqllog.statement("postgresql", sql, params)
    with conn.cursor() as cur:
        cur.execute(sql, params)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
