"""Builders and checks for the hostile-input tests (issue 15, item 4).

Each builder makes one kind of bad or awkward database with the standard library's
``sqlite3`` or plain SQL, never with arrowferry, so a bug in arrowferry cannot hide in
the input it is tested on.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.errors import ArrowferryError
from tests.conftest import admin_connect
from tests.integration._cli_helpers import (
    Outcome,
    assert_one_paragraph_error,
    assert_single_line,
    cli,
)

# --- files ---------------------------------------------------------------------------------


def fingerprint(directory: Path) -> dict[str, str]:
    """Name -> SHA-256 of every file in ``directory``: proof a source was not touched."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def broken_file(kind: str, chinook: Path, path: Path) -> Path:
    """A file that is not a readable SQLite database, of the named kind."""
    data = chinook.read_bytes()
    if kind == "truncated to half":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "truncated in the header":
        path.write_bytes(data[:50])
    elif kind == "truncated after the header":
        path.write_bytes(data[:200])
    elif kind == "random bytes":
        path.write_bytes(os.urandom(64 * 1024))
    elif kind == "random bytes behind a SQLite header":
        path.write_bytes(b"SQLite format 3\0" + os.urandom(64 * 1024))
    elif kind == "hot journal":
        hot_journal(path)
    else:
        raise AssertionError(kind)
    return path


BROKEN = [
    "truncated to half",
    "truncated in the header",
    "truncated after the header",
    "random bytes",
    "random bytes behind a SQLite header",
    "hot journal",
]


def hot_journal(path: Path) -> None:
    """A file whose writer died mid-transaction, pages already spilled into the file:
    reading it without rolling the journal back would read uncommitted rows."""
    script = textwrap.dedent(
        f"""
        import os, sqlite3
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("PRAGMA journal_mode = DELETE")
        c.execute("PRAGMA cache_size = 5")  # spill dirty pages into the file early
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        c.execute("BEGIN")
        c.executemany("INSERT INTO t VALUES (?, ?)", [(i, "x" * 100) for i in range(20000)])
        c.execute("COMMIT")
        c.execute("BEGIN")
        c.execute("UPDATE t SET v = 'UNCOMMITTED'")
        os._exit(0)  # no rollback, no close: the journal stays hot
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert Path(f"{path}-journal").stat().st_size > 0


def wal_database(directory: Path) -> tuple[Path, dict[str, list[tuple[Any, ...]]]]:
    """A WAL-mode database whose last transactions live only in its ``-wal`` file (a copy
    taken while the writer had it open, without the ``-shm``), and the rows SQLite sees."""
    work = directory / "writer"
    work.mkdir()
    live = work / "app.db"
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # every change below stays in the WAL
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, raw BLOB)")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        [(i, f"item {i}", i * 1.5, bytes([i % 256]) * 3) for i in range(1, 301)],
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # these rows are in the main file
    conn.execute("BEGIN")
    conn.execute("UPDATE items SET name = 'changed in the WAL' WHERE id % 7 = 0")
    conn.execute("DELETE FROM items WHERE id % 11 = 0")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        [(i, f"wal {i}", None, None) for i in range(301, 401)],
    )
    conn.execute("CREATE TABLE only_in_wal (k TEXT PRIMARY KEY, v INTEGER)")
    conn.execute("INSERT INTO only_in_wal VALUES ('a', 1), ('b', 2)")
    conn.execute("COMMIT")
    source = directory / "source"
    source.mkdir()
    for suffix in ("", "-wal"):  # copied while the writer is open: the WAL is not merged
        (source / f"app.db{suffix}").write_bytes(Path(f"{live}{suffix}").read_bytes())
    expected = {
        t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        for t in ("items", "only_in_wal")
    }
    conn.close()
    assert (source / "app.db-wal").stat().st_size > 0
    return source / "app.db", expected


# --- reading what arrived -------------------------------------------------------------------


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return sorted(conn.execute(f"SELECT * FROM {qi(table)}").fetchall(), key=repr)


def sqlite_table_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\'"
        ).fetchall()
    return {r[0] for r in rows}


def pg_rows(url: str, table: str, schema: str = "public") -> list[tuple[Any, ...]]:
    conn = admin_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {qi(schema)}.{qi(table)}")
            return sorted((tuple(r) for r in cur.fetchall()), key=repr)
    finally:
        conn.close()


def pg_table_names(url: str, schema: str = "public") -> set[str]:
    conn = admin_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema])
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- how a failure must look ------------------------------------------------------------------


def expect_bad_input(
    source: str | Path,
    target: str | Path,
    *names: str,
    leaf: type[ArrowferryError],
    cli_args: Sequence[str] = (),
    **api_options: Any,
) -> str:
    """The CLI says one paragraph naming ``names`` and exits 2; the API raises ``leaf``
    (exit code 2, one line, the same names). Returns the API's message."""
    outcome = cli("migrate", str(source), str(target), *cli_args)
    assert_one_paragraph_error(outcome, *names)
    with pytest.raises(ArrowferryError) as info:
        af.migrate(source, target, **api_options)
    err = info.value
    assert isinstance(err, leaf), f"{type(err).__name__} is not a {leaf.__name__}: {err}"
    assert err.exit_code == 2
    assert_single_line(str(err), *names)
    return str(err)


def assert_clean_failure(outcome: Outcome, *names: str) -> None:
    """A run that ended with a table failed (exit 1): named, no traceback, no payload crash."""
    assert outcome.exception is None, "".join(traceback.format_exception(outcome.exception))
    assert outcome.exit_code == 1, (outcome.exit_code, outcome.stderr)
    assert "Traceback" not in outcome.everything
    for name in names:
        assert name in outcome.everything, (name, outcome.everything)


# --- a server that never answers ----------------------------------------------------------------


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port whose kernel completes the handshake and whose owner never says a word:
    what a firewalled or hung server looks like to a client that is already connected."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
