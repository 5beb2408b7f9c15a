"""Faults injected into a running migration, and survived (issue 15, item 2).

Each ends in a completed migration (a lost connection is retried with backoff, keeping
the key ranges already committed) or in a clear error that leaves nothing half done
that looks complete, and ``--resume`` then finishes it. Every outcome is compared
value by value with an uninterrupted run, and nothing is left behind: no session, lock
or open COPY on the server, no state or staging schema, no partial or journal file.
The server restarts, pauses and fills up on a throwaway PostgreSQL of the test's own.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

import arrowferry as af
from arrowferry import faults
from arrowferry.errors import ConnectError
from tests.conftest import fresh_database, sql
from tests.integration._pg_same import assert_same_database
from tests.integration._resume_helpers import (
    assert_nothing_left,
    build_source,
    pg_progress,
    visible_tables_are_whole,
)
from tests.integration._sqlite_same import assert_same_sqlite
from tests.integration._throwaway_pg import ThrowawayServer, when

INTO_PG = {"batch_size": 2000, "lanes": 2}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_source(tmp_path_factory.mktemp("faults") / "app.db")
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def baseline_pg(pg_server: str, source: Path) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        assert af.migrate(source, url, **INTO_PG).success
        yield url


@pytest.fixture(scope="module")
def baseline_copy(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults-copy") / "copy.db"
    assert af.migrate(source, out).success
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayServer]:
    found = ThrowawayServer()
    found.start()
    yield found
    found.remove()


def _database(server: ThrowawayServer, name: str) -> str:
    sql(server.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sql(server.url, f'CREATE DATABASE "{name}"')
    return server.database_url(name)


def _copies(url: str) -> list[int]:
    """The run's sessions loading rows (``COPY ... FROM STDIN``: the driver reads every
    query's rows through ``COPY (SELECT ...) TO STDOUT``, the target's checks included)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
            "application_name = 'arrowferry' AND state = 'active' AND query LIKE 'COPY%' "
            "AND query LIKE '%FROM STDIN%'"
        ).fetchall()
    return [r[0] for r in rows]


def _in_background(work: object) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


# --- PostgreSQL: a backend terminated, the server restarted -----------------------------------


def _terminating_inside_the_first_copy(monkeypatch: pytest.MonkeyPatch, url: str) -> list[int]:
    """The first load's backend terminated with its COPY open (after its first batch went,
    before the second): the list returned holds the pid. Deterministic, where watching
    pg_stat_activity from outside may catch a COPY as it ends, and terminate a backend
    that is idle by then (which the pool then replaces, rightly without a retry)."""
    from arrowferry.dialects.postgresql import connection as pgc
    from arrowferry.dialects.postgresql import target

    original, killed = target.write_table, []

    def writing(conn: object, *args: object, **kwargs: object) -> int:
        if killed:
            return original(conn, *args, **kwargs)  # type: ignore[arg-type]
        pid = pgc.fetch(conn, "SELECT pg_backend_pid()")[0][0]
        schema, table, arrow_schema, batches, *rest = args

        def then_terminate() -> Iterator[object]:
            for n, batch in enumerate(batches):  # type: ignore[attr-defined]
                if n == 1 and not killed:
                    with psycopg.connect(url, autocommit=True) as admin:
                        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                        when(
                            lambda: (
                                not admin.execute(
                                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
                                ).fetchall()
                            )
                        )
                    killed.append(pid)
                yield batch

        return original(conn, schema, table, arrow_schema, then_terminate(), *rest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(target, "write_table", writing)
    return killed


def test_a_backend_terminated_mid_copy_is_retried(
    source: Path, baseline_pg: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminated = _terminating_inside_the_first_copy(monkeypatch, pg_url)
    result = af.migrate(source, pg_url, **INTO_PG)
    assert terminated, "no COPY was caught"
    assert result.success, result.errors
    assert any("tried again" in w for w in result.warnings), result.warnings
    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url)


def test_the_server_restarted_mid_run(
    source: Path, baseline_pg: str, server: ThrowawayServer
) -> None:
    url = _database(server, "restarted")

    def restart() -> None:
        when(lambda: bool(_copies(url)))
        server.restart()

    thread = _in_background(restart)
    result = af.migrate(source, url, **INTO_PG)
    thread.join()
    if not result.success:  # retried past the restart, or else resumed: never half done
        assert any("--resume" in (e.message or "") for e in result.errors), result.errors
        result = af.migrate(source, url, resume=True, **INTO_PG)
    assert result.success, result.errors
    assert_same_database(baseline_pg, "public", url, "public")
    assert_nothing_left(url)


def _restart_before(
    monkeypatch: pytest.MonkeyPatch, server: ThrowawayServer, statement: str
) -> list[str]:
    """The server restarted just before the first statement the run sends that matches
    ``statement`` (a regex), on whichever connection sends it: that session is gone when
    the statement reaches the server, and every other open one with it."""
    import re

    from adbc_driver_manager import dbapi

    pattern, hit = re.compile(statement), []

    def hooked(method: Callable[..., object]) -> Callable[..., object]:
        def run(cursor: object, operation: object, *args: object, **kwargs: object) -> object:
            if not hit and isinstance(operation, str) and pattern.search(operation):
                hit.append(operation)
                server.restart()
            return method(cursor, operation, *args, **kwargs)

        return run

    monkeypatch.setattr(dbapi.Cursor, "execute", hooked(dbapi.Cursor.execute))
    monkeypatch.setattr(dbapi.Cursor, "executescript", hooked(dbapi.Cursor.executescript))
    return hit


@pytest.mark.parametrize(
    ("moment", "statement"),
    [
        ("preparing the target", r'^INSERT INTO "arrowferry_state"\."journal"'),
        ("moving a staged table in", r"^ALTER TABLE .* SET SCHEMA"),
        ("building an index", r"^CREATE (UNIQUE )?INDEX"),
        ("adding a foreign key", r"^ALTER TABLE .* ADD FOREIGN KEY"),
        ("setting a sequence", r"^SELECT setval"),
        (
            "removing the run's state",
            r'^DELETE FROM "arrowferry_state"\."journal" WHERE run = \$1$',
        ),
    ],
)
def test_the_server_restarted_at_each_step_is_survived(
    source: Path,
    baseline_pg: str,
    server: ThrowawayServer,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
    statement: str,
) -> None:
    """A restart before any of the run's steps (every statement of a run was swept so,
    by hand, in both directions: this is one of each kind): the step is tried again
    on a new connection, the run completes, equal to one undisturbed. Sessions kept in
    the pool while it happened are found dead and replaced before use."""
    url = _database(server, "restarted_step")
    hit = _restart_before(monkeypatch, server, statement)
    result = af.migrate(source, url, **INTO_PG)
    monkeypatch.undo()
    assert hit, f"the run sent no statement matching {statement!r}"
    assert result.success, result.errors
    assert any("tried again" in w for w in result.warnings), result.warnings
    assert_same_database(baseline_pg, "public", url, "public")
    assert_nothing_left(url)


def test_a_schema_read_and_a_sync_survive_a_restart(
    source: Path, server: ThrowawayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """diff and sync read the catalog and apply in one transaction: a server restarted
    under the read, or before the apply's first change, is read (and applied) again."""
    url = _database(server, "restarted_sync")
    assert af.migrate(source, url, **INTO_PG).success
    sql(url, "DROP INDEX events_user")

    hit = _restart_before(monkeypatch, server, r"FROM pg_index x JOIN pg_class i")
    found = af.compare_schemas(source, url)
    assert hit
    assert [(d.kind, d.name) for d in found.differences] == [("index", "events_user")]
    monkeypatch.undo()

    hit = _restart_before(monkeypatch, server, r"^CREATE INDEX")
    synced = af.sync_schema(source, url, apply=True)
    monkeypatch.undo()
    assert hit and synced.applied
    assert any("while the schemas synced, a server answered" in n for n in synced.notes), synced
    assert af.compare_schemas(source, url).identical
    assert sql(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'events_user'") == [
        ("CREATE INDEX events_user ON public.events USING btree (user_id)",)
    ]


def _while_checking(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> list[bool]:
    """``act`` once, inside the run's check of the target (a session open, before anything
    is written): the list returned says whether it happened."""
    from arrowferry.dialects.postgresql import write

    original, acted = write.existing_tables, []

    def checking(conn: object, schema: str, names: object) -> list[str]:
        if not acted:
            acted.append(True)
            act()
        return original(conn, schema, names)  # type: ignore[arg-type]

    monkeypatch.setattr(write, "existing_tables", checking)
    return acted


def test_the_server_restarted_while_the_run_checks_is_planned_again(
    source: Path, baseline_pg: str, server: ThrowawayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the first row (CI met this when a restart fell on the target's check: the
    driver's error escaped as a traceback): the run plans and checks again, then loads."""
    url = _database(server, "restarted_early")
    restarted = _while_checking(monkeypatch, server.restart)
    result = af.migrate(source, url, **INTO_PG)
    assert restarted
    assert result.success, result.errors
    assert any("planned and checked, a server answered" in w for w in result.warnings), (
        result.warnings
    )
    assert_same_database(baseline_pg, "public", url, "public")
    assert_nothing_left(url)


def test_a_server_gone_for_good_before_the_first_row_is_a_clear_error(
    source: Path, baseline_pg: str, server: ThrowawayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that answered this run, then stopped: tried again (a restart is refused
    for a moment), then one paragraph naming the server, and nothing written; the same
    command later completes."""
    url = _database(server, "stopped_early")
    monkeypatch.setattr(faults, "BACKOFF", (0.05, 0.1))
    stopped = _while_checking(monkeypatch, server.stop)
    try:
        with pytest.raises(ConnectError) as info:
            af.migrate(source, url, **INTO_PG)
    finally:
        server.start()
    assert stopped
    assert "Traceback" not in info.value.message and "stopped_early" in info.value.message
    monkeypatch.undo()
    assert not sql(url, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")
    assert af.migrate(source, url, **INTO_PG).success
    assert_same_database(baseline_pg, "public", url, "public")
    assert_nothing_left(url)


def test_a_server_that_never_answered_is_not_waited_for(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection is a restart only from a server that answered this run:
    a wrong address is said at once, not after the retries' 30 s."""
    waits: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", waits.append)
    nowhere = f"postgresql://postgres@/app?host={tmp_path}"  # no server's socket there
    with pytest.raises(ConnectError) as info:
        af.migrate(source, nowhere, **INTO_PG)
    assert waits == []
    assert "cannot connect" in info.value.message


# --- PostgreSQL as the source: a reader's backend, the snapshot's holder ----------------------


def _after_first_batch(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> list[bool]:
    """``act`` once, right after the source's first read has yielded its first batch; the
    list returned says whether it happened."""
    from arrowferry.dialects.postgresql import read

    original, acted = read.read_batches, []

    def reading(conn: object, sql_text: str, batch_bytes: int) -> Iterator[object]:
        for batch in original(conn, sql_text, batch_bytes):
            yield batch
            if not acted:
                acted.append(True)
                act()

    monkeypatch.setattr(read, "read_batches", reading)
    return acted


def _terminating_after_first_batch(
    monkeypatch: pytest.MonkeyPatch, url: str, which: str
) -> list[int]:
    """The source's first read terminates, after its first batch, the backends ``which``
    selects from the run's sessions (by their pg_stat_activity state)."""
    killed: list[int] = []

    def terminate() -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            pids = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                f"AND application_name = 'arrowferry' AND {which}"
            ).fetchall()
            for (pid,) in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                killed.append(pid)

    _after_first_batch(monkeypatch, terminate)
    return killed


def test_a_source_readers_backend_terminated_is_read_again_in_the_same_snapshot(
    baseline_pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = tmp_path / "expected.db"
    assert af.migrate(baseline_pg, expected).success
    killed = _terminating_after_first_batch(monkeypatch, baseline_pg, "state = 'active'")
    out = tmp_path / "out.db"
    result = af.migrate(baseline_pg, out, batch_bytes=16 * 1024)
    assert len(killed) == 1, killed  # the reader only: the snapshot's holder is idle
    assert result.success, result.errors
    assert any("tried again" in w for w in result.warnings), result.warnings
    assert_same_sqlite(expected, out)
    assert_nothing_left(baseline_pg, folder=tmp_path)


def test_a_source_snapshot_lost_is_a_clear_error_then_resumed(
    baseline_pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = tmp_path / "expected.db"
    assert af.migrate(baseline_pg, expected).success
    killed = _terminating_after_first_batch(
        monkeypatch, baseline_pg, "state IN ('active', 'idle in transaction')"
    )
    out = tmp_path / "out.db"
    result = af.migrate(baseline_pg, out, batch_bytes=16 * 1024)
    assert len(killed) >= 2, killed  # the reader and the holder
    assert not result.success and not out.exists()
    message = result.errors[0].message
    assert "snapshot" in message and "--resume" in message, message
    assert "Traceback" not in message
    monkeypatch.undo()
    resumed = af.migrate(baseline_pg, out, resume=True)
    assert resumed.success, resumed.errors
    assert_same_sqlite(expected, out)
    assert_nothing_left(baseline_pg, folder=tmp_path)


def test_a_source_server_restarted_mid_run_is_resumed(
    source: Path, server: ThrowawayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL -> SQLite with the source's server restarted while a table is read: the
    snapshot is gone with the server, so the run stops saying so, and --resume gives the
    same file as a run undisturbed."""
    url = _database(server, "restarted_source")
    assert af.migrate(source, url).success
    expected = tmp_path / "expected.db"
    assert af.migrate(url, expected).success
    restarted = _after_first_batch(monkeypatch, server.restart)
    out = tmp_path / "out.db"
    result = af.migrate(url, out, batch_bytes=16 * 1024)
    monkeypatch.undo()
    assert restarted
    assert not result.success and not out.exists()
    message = result.errors[0].message
    assert "snapshot" in message and "--resume" in message, message
    resumed = af.migrate(url, out, resume=True)
    assert resumed.success, resumed.errors
    assert_same_sqlite(expected, out)
    assert_nothing_left(url, folder=tmp_path)


def test_a_server_that_does_not_answer_is_given_up_on(
    source: Path, baseline_pg: str, server: ThrowawayServer
) -> None:
    """connect_timeout is honoured (a paused server accepts the socket, then says
    nothing); the same run goes through once it answers again."""
    url = _database(server, "paused")
    server.pause()
    try:
        start = time.monotonic()
        with pytest.raises(ConnectError) as info:
            af.migrate(source, url + "&connect_timeout=2", **INTO_PG)
        assert time.monotonic() - start < 30
        assert "connect_timeout=2" in info.value.message
    finally:
        server.unpause()
    assert af.migrate(source, url, resume=True, **INTO_PG).success
    assert_same_database(baseline_pg, "public", url, "public")
    assert_nothing_left(url)


def test_a_statement_timeout_is_honoured_and_resumed(
    source: Path, pg_server: str, tmp_path: Path
) -> None:
    """A table locked by another session: the load waits no longer than the URL's
    statement_timeout, fails that table clearly (the others are in), and --resume
    finishes once the lock is gone."""
    schema = (
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, created_at timestamp, "
        "balance numeric(12,2)); CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint, "
        "kind text, payload jsonb, score float8, flag boolean); "
        "CREATE TABLE tags (name text PRIMARY KEY, n bigint)"
    )
    with fresh_database(pg_server) as base, fresh_database(pg_server) as url:
        for target in (base, url):
            for statement in schema.split(";"):
                sql(target, statement)
        assert af.migrate(source, base, data_only=True).success
        holder = psycopg.connect(url)
        holder.execute("LOCK TABLE tags IN ACCESS EXCLUSIVE MODE")
        try:
            # "-c statement_timeout=..." with its space would arrive as "-c+statement_..."
            # (Endpoint.url encodes a space as "+", which libpq does not decode)
            bounded = url + "&options=-cstatement_timeout%3D1500"
            result = af.migrate(source, bounded, data_only=True, workers=1)
            assert not result.success
            (error,) = [e for e in result.errors if e.table == "tags"]
            assert "statement timeout" in error.message, error.message
        finally:
            holder.rollback()
            holder.close()
        assert sql(url, "SELECT count(*) FROM tags") == [(0,)]  # nothing of it half done
        assert af.migrate(source, url, data_only=True, resume=True).success
        assert_same_database(base, "public", url, "public")
        assert_nothing_left(url)


def test_a_full_disk_under_postgresql_is_resumed(
    source: Path, baseline_pg: str, tmp_path: Path
) -> None:
    """Data files held to 3 MB (RLIMIT_FSIZE on the server: a disk that fills up): the
    large table fails clearly, the small ones are in, nothing half loaded is in sight;
    with room again, --resume finishes it."""
    full = ThrowawayServer()
    try:
        full.start(file_size_limit=3 * 1024 * 1024)
        url = _database(full, "full")
        result = af.migrate(source, url, **INTO_PG)
        assert not result.success
        said = " ".join(e.message for e in result.errors)
        assert "could not extend file" in said or "File too large" in said, said
        visible_tables_are_whole(url, {"users": 2000, "tags": 300, "events": 60_000})
        full.stop()
        full.start()
        assert af.migrate(source, url, resume=True, **INTO_PG).success
        assert_same_database(baseline_pg, "public", url, "public")
        assert_nothing_left(url)
    finally:
        full.remove()


# --- SQLite: a source locked by a writer, a full disk, a folder that cannot be written -------


def _lock_source(source: Path, started: threading.Event, release: threading.Event) -> None:
    """A writer in another process holds the source (a lock taken in this process would
    not stop the driver's own SQLite library: POSIX locks belong to a process)."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read(); "
        "c.execute('ROLLBACK')"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", code, str(source)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "locked"  # readers get "database is locked"
    started.set()
    release.wait(60)
    writer.communicate(timeout=10)


def _reads_wait_for(started: threading.Event, monkeypatch: pytest.MonkeyPatch) -> None:
    """The source's first read waits until the writer holds its lock: the lock lands in
    the load however quickly the run gets from its journal to its first row."""
    from arrowferry.dialects.sqlite import read

    real = read.read_batches

    def waiting(*args: object, **kwargs: object) -> Iterator[object]:
        started.wait(30)
        yield from real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(read, "read_batches", waiting)


def test_a_source_locked_by_a_writer_is_waited_for(
    source: Path, baseline_pg: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    _reads_wait_for(started, monkeypatch)

    def lock_once_loading() -> None:
        progress = pg_progress(pg_url)
        when(lambda: progress()["run"] == 1)
        progress.close()  # type: ignore[attr-defined]
        threading.Timer(1.2, release.set).start()
        _lock_source(source, started, release)

    thread = _in_background(lock_once_loading)
    result = af.migrate(source, pg_url, **INTO_PG)
    thread.join()
    assert started.is_set()
    assert result.success, result.errors
    assert any("database is locked" in w and "tried again" in w for w in result.warnings)
    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url)


def test_a_source_locked_for_good_is_a_clear_error_then_resumed(
    source: Path, baseline_pg: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faults, "BACKOFF", (0.05, 0.1))
    started, release = threading.Event(), threading.Event()
    _reads_wait_for(started, monkeypatch)

    def lock_once_loading() -> None:
        progress = pg_progress(pg_url)
        when(lambda: progress()["run"] == 1)
        progress.close()  # type: ignore[attr-defined]
        _lock_source(source, started, release)

    thread = _in_background(lock_once_loading)
    try:
        result = af.migrate(source, pg_url, **INTO_PG)
    finally:
        release.set()
        thread.join()
    assert started.is_set()
    assert not result.success
    assert any("database is locked" in e.message for e in result.errors), result.errors
    visible_tables_are_whole(pg_url, {"users": 2000, "tags": 300, "events": 60_000})
    assert af.migrate(source, pg_url, resume=True, **INTO_PG).success
    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url)


# capabilities that let root write where the file modes say no (linux/capability.h)
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3
_PR_CAPBSET_DROP = 24


def _as_plain_user() -> None:
    """In a child about to exec: when the tests run as root (which writes anywhere), drop
    the capabilities that bypass file modes, so the child meets them as any user would.
    Dropped from the bounding set, they are gone from the exec'd program; it stays root
    and so still reaches the interpreter wherever it is installed (switching to
    ``nobody`` could not run a Python under a private ``/root``)."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"could not drop capability {cap}")


def _cli(*args: str, folder: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def child() -> None:
        _as_plain_user()
        if limit is not None:  # every file the run writes is held to ``limit`` bytes
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return subprocess.run(
        [sys.executable, "-m", "arrowferry", "migrate", *args, "--quiet"],
        cwd=folder,
        env={**os.environ, "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=child,
    )


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may write (and a child running as nobody may reach)."""
    folder = Path(tempfile.mkdtemp(prefix="af-faults-"))
    folder.chmod(0o777)
    yield folder
    folder.chmod(0o777)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_under_sqlite_is_resumed(
    source: Path, baseline_copy: Path, open_folder: Path
) -> None:
    src = open_folder / "app.db"
    shutil.copy(source, src)
    src.chmod(0o644)
    out = open_folder / "out.db"
    full = _cli(str(src), str(out), folder=open_folder, limit=3 * 1024 * 1024)
    assert full.returncode == 1, full.stderr
    said = full.stdout + full.stderr  # SQLite meets EFBIG as an I/O error, ENOSPC as full
    assert "disk I/O error" in said or "disk is full" in said, said
    assert "--resume" in said and "Traceback" not in said
    assert not out.exists()
    resumed = _cli(str(src), str(out), "--resume", folder=open_folder)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_sqlite(baseline_copy, out)
    assert_nothing_left(folder=open_folder)


def test_an_unwritable_target_folder_is_refused_before_anything(
    source: Path, open_folder: Path
) -> None:
    locked = open_folder / "locked"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    src = open_folder / "app.db"
    shutil.copy(source, src)
    src.chmod(0o644)
    done = _cli(str(src), str(locked / "out.db"), folder=open_folder)
    assert done.returncode == 2, done.stderr
    assert "out.db" in done.stderr and "Traceback" not in done.stderr
    assert list(locked.iterdir()) == []


def test_a_target_folder_made_unwritable_mid_run_is_resumed(
    source: Path, baseline_copy: Path, open_folder: Path
) -> None:
    folder = open_folder / "out"
    folder.mkdir()
    folder.chmod(0o777)
    src = open_folder / "app.db"
    shutil.copy(source, src)
    src.chmod(0o644)
    out = folder / "out.db"
    partial = folder / "out.db.arrowferry-partial"
    from tests.integration._resume_helpers import sqlite_progress

    progress = sqlite_progress(partial)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arrowferry",
            "migrate",
            str(src),
            str(out),
            "--quiet",
            "--batch-size",
            "2000",
        ],
        cwd=open_folder,
        env={**os.environ, "HOME": str(open_folder)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_plain_user,
    )
    # users is in (a commit caught half way could fail it too: SQLite deletes the
    # journal last), events under way
    when(lambda: progress()["piece:events"] >= 1 or child.poll() is not None)
    folder.chmod(0o555)  # no journal can be made for the next transaction, no rename
    said = "".join(child.communicate(timeout=300))
    folder.chmod(0o777)
    assert child.returncode == 1, said
    assert not out.exists() and "Traceback" not in said, said
    assert "--resume" in said, said
    resumed = _cli(str(src), str(out), "--resume", folder=open_folder)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_sqlite(baseline_copy, out)
    assert_nothing_left(folder=open_folder)
