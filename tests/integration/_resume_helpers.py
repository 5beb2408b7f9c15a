"""Helpers of the resume and fault tests: a source worth interrupting, a CLI process to
kill at a chosen point of its run (watched through the state it keeps in the target),
and the checks that nothing is left behind.

The kill points are found by watching the run's own records, committed with the work
they describe: PostgreSQL's ``arrowferry_state.journal`` through a connection of its
own, and a new SQLite file's ``__arrowferry_state`` read with ``immutable=1`` (no lock
taken, so the writer is never made to wait; a torn read is simply read again).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from arrowferry.dialects.postgresql.state import STATE_SCHEMA
from arrowferry.dialects.postgresql.target import STAGING_SCHEMA
from arrowferry.dialects.sqlite.state import STATE_TABLE
from tests.conftest import sql

REPO = Path(__file__).resolve().parents[2]
USERS, EVENTS = 2_000, 60_000
# a PostgreSQL source splits a table only from 524,288 rows: the CLI runs here with
# smaller pieces, so a test-sized table is read (and resumed) in key ranges too
SMALL_PIECES = (
    "from arrowferry.dialects.postgresql import source; "
    "source.SPLIT_MIN_ROWS = 16_000; source.PIECE_ROWS = 8_000; "
)


def build_source(
    path: Path, users: int = USERS, events: int = EVENTS, seed: int = 7, bad_every: int = 0
) -> Path:
    """Users, events (AUTOINCREMENT, a foreign key, two indexes), a WITHOUT ROWID table
    and a view: tables of several sizes, and every kind of finishing statement.
    ``bad_every``: every n-th event's payload is not JSON (its row is rejected)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, name TEXT,
            created_at DATETIME, balance NUMERIC(12,2));
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL, payload JSON,
            score REAL, flag BOOLEAN);
        CREATE INDEX events_user ON events(user_id);
        CREATE INDEX events_kind_payload ON events(kind, payload);
        CREATE TABLE tags (name TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;
        CREATE VIEW busy AS SELECT u.id, u.email, count(e.id) AS n
            FROM users u JOIN events e ON e.user_id = u.id GROUP BY u.id, u.email;
        """
    )
    r = random.Random(seed)
    conn.executemany(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
        [
            (
                i,
                f"u{i}@x.org",
                f"name {i}",
                f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00",
                round(r.random() * 1000, 2),
            )
            for i in range(1, users + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO events (user_id, kind, payload, score, flag) VALUES (?, ?, ?, ?, ?)",
        [
            (
                1 + r.randrange(users),
                r.choice(["click", "view", "buy"]),
                "{not json" if bad_every and i % bad_every == 0 else f'{{"k": {i}, "v": "{i}"}}',
                r.random(),
                i % 2,
            )
            for i in range(events)
        ],
    )
    conn.executemany("INSERT INTO tags VALUES (?, ?)", [(f"tag{i}", i) for i in range(300)])
    conn.commit()
    conn.close()
    return path


# --- a CLI run, killed where the test says --------------------------------------------------


def cli_process(args: Sequence[str], cwd: Path, *, prelude: str = "") -> subprocess.Popen[str]:
    """``arrowferry migrate ARGS`` in a process of its own (``prelude``: Python run first)."""
    code = f"{prelude}from arrowferry.cli import main; main()"
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    return subprocess.Popen(
        [sys.executable, "-c", code, "migrate", *args, "--quiet"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    args: Sequence[str], cwd: Path, *, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    proc = cli_process(args, cwd, prelude=prelude)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


Progress = Counter[str]  # records by kind ("piece", "finished"...) and by "kind:table"


def _count(rows: Sequence[tuple[Any, ...]]) -> Progress:
    found: Progress = Counter()
    for kind, name in rows:
        found[kind] += 1
        found[f"{kind}:{name}"] += 1
    return found


def pg_progress(url: str) -> Callable[[], Progress]:
    conn = psycopg.connect(url, autocommit=True)

    def read() -> Progress:
        try:
            rows = conn.execute(f"SELECT kind, name FROM {STATE_SCHEMA}.journal").fetchall()
        except psycopg.Error:
            return Counter()
        return _count(rows)

    read.close = conn.close  # type: ignore[attr-defined]
    return read


def sqlite_progress(partial: Path) -> Callable[[], Progress]:
    def read() -> Progress:
        if not partial.exists():
            return Counter()
        try:
            conn = sqlite3.connect(f"file:{partial}?immutable=1", uri=True)
            try:
                return _count(conn.execute(f'SELECT kind, name FROM "{STATE_TABLE}"').fetchall())
            finally:
                conn.close()
        except sqlite3.Error:  # torn or not there yet: read again
            return Counter()

    return read


@dataclass
class Killed:
    at: Progress  # what the records said when the process was killed
    seconds: float
    missed: bool = False  # the run had ended, complete, before the signal


def kill_when(
    proc: subprocess.Popen[str],
    progress: Callable[[], Progress],
    ready: Callable[[Progress], bool],
    *,
    delay: float = 0.0,
    timeout: float = 120.0,
) -> Killed:
    """SIGKILL ``proc`` once ``ready(progress())`` holds (after ``delay`` seconds)."""
    start = time.monotonic()
    try:
        while True:
            found = progress()
            if ready(found):
                break
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise AssertionError(
                    f"the run ended (exit {proc.returncode}) before the kill point; last "
                    f"records {dict(found)}; stderr: {err[-2000:]}"
                )
            assert time.monotonic() - start < timeout, (
                f"no kill point in {timeout} s: {dict(found)}"
            )
            time.sleep(0.003)
        if delay:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return Killed(found, time.monotonic() - start, missed=proc.returncode == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        close = getattr(progress, "close", None)
        if close is not None:
            close()


# --- nothing left behind -------------------------------------------------------------------


def arrowferry_sessions(url: str) -> list[tuple[Any, ...]]:
    """Sessions of arrowferry still open on the database of ``url`` (and their locks)."""
    return sql(
        url,
        "SELECT a.pid, a.state, left(a.query, 60), count(l.*) FROM pg_stat_activity a "
        "LEFT JOIN pg_locks l ON l.pid = a.pid WHERE a.datname = current_database() "
        "AND a.application_name = 'arrowferry' GROUP BY 1, 2, 3",
    )


def assert_nothing_left(url: str | None = None, folder: Path | None = None) -> None:
    """No arrowferry session, lock, COPY, state or staging schema on the server; no
    partial file, journal or reject ``.partial`` in ``folder``."""
    if url is not None:
        deadline = time.monotonic() + 10  # a killed client's backend notices it at once
        while arrowferry_sessions(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert arrowferry_sessions(url) == []
        schemas = sql(
            url,
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)",
            [[STATE_SCHEMA, STAGING_SCHEMA]],
        )
        assert schemas == [], f"left in the target: {schemas}"
    if folder is not None:
        left = [
            p.name
            for p in folder.rglob("*")
            if p.name.endswith((".arrowferry-partial", "-journal", ".partial"))
        ]
        assert left == [], f"left in {folder}: {left}"


def visible_tables_are_whole(url: str, expected: dict[str, int]) -> None:
    """Every table of ``public`` in an interrupted run's target holds all its rows (a half
    loaded table is out of sight, in the staging schema)."""
    for (name,) in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        (rows,) = sql(url, f'SELECT count(*) FROM public."{name}"')[0]
        assert rows == expected[name], (
            f"{name}: {rows} rows visible, the source has {expected[name]}"
        )
