"""PostgreSQL connections: open one (never showing a password), run SQL, word driver errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from arrowferry.dialects import sqllog
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import ConnectError
from arrowferry.urls import Endpoint, scrub

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer names are truncated by the server


def connect(endpoint: Endpoint, *, read_only: bool = False, autocommit: bool = True) -> Any:
    """Open an ADBC connection; a failure becomes a :class:`ConnectError` without the password."""
    import adbc_driver_postgresql.dbapi as pg_adbc

    try:
        conn = pg_adbc.connect(endpoint.url, autocommit=autocommit)
    except Exception as err:
        raise ConnectError(
            f"cannot connect to PostgreSQL at {endpoint.masked_url}: "
            f"{_first_line(scrub(str(err), endpoint))}",
            sqlstate=getattr(err, "sqlstate", None),
        ) from None  # the driver's own exception text may hold the URL
    try:
        execute(conn, "SET application_name = 'arrowferry'")
        if read_only:
            execute(conn, "SET default_transaction_read_only = on")
        if not autocommit:
            conn.commit()
    except Exception:
        conn.close()
        raise
    return conn


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
    if not kept or not kept[0].startswith("ERROR:"):
        return " ".join(kept[:2]) if kept else text  # a connection failure: its two lines
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


def execute(conn: Any, sql: str, params: Sequence[Any] | None = None) -> None:
    sqllog.statement("postgresql", sql, params)
    with conn.cursor() as cur:
        cur.execute(sql, params)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
