"""Connections to a PostgreSQL target opened while the run plans
(``dialects.postgresql.warm``): taken as if opened then, closed when not taken, and a
failed warm-up changes nothing a user sees."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.dialects.postgresql import connection, warm
from arrowferry.errors import ConnectError
from arrowferry.urls import parse_url
from tests.conftest import make_sqlite, sql, with_database


def _backends(url: str, database: str) -> set[int]:
    rows = sql(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [database],
    )
    return {int(r[0]) for r in rows}


def _settled(url: str, database: str, expected: int) -> set[int]:
    for _ in range(100):
        pids = _backends(url, database)
        if len(pids) == expected:
            return pids
        time.sleep(0.05)
    return _backends(url, database)


def test_a_warm_connection_is_taken_set_up_and_the_rest_closed(pg_url: str) -> None:
    endpoint = parse_url(pg_url)
    database = endpoint.database
    assert database is not None
    url = connection.with_connect_timeout(endpoint).url
    with warm.warming({url: {True: 2, False: 1}}):
        opened = _settled(pg_url, database, 3)  # three backends, opened ahead
        assert len(opened) == 3
        conn = connection.connect(endpoint)
        try:
            pid, name = connection.fetch(
                conn, "SELECT pg_backend_pid(), current_setting('application_name')"
            )[0]
            assert int(pid) in opened and name == "arrowferry"  # set up on take
            inside = connection.connect(endpoint, autocommit=False)
            inside.close()
        finally:
            conn.close()
    # the one warm connection never taken is closed with the block
    assert _settled(pg_url, database, 0) == set()


def test_a_run_takes_them_and_leaves_no_session(pg_url: str, tmp_path: Path) -> None:
    src = make_sqlite(
        tmp_path / "s.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
        {"t": [(i, f"v{i}") for i in range(100)]},
    )
    taken: list[bool] = []
    real = warm.take

    def spy(url: str, autocommit: bool) -> object:
        conn = real(url, autocommit)
        taken.append(conn is not None)
        return conn

    warm_take = pytest.MonkeyPatch()
    warm_take.setattr(warm, "take", spy)
    try:
        result = af.migrate(src, pg_url)
    finally:
        warm_take.undo()
    assert result.success, result.errors
    assert sum(taken) >= 3  # the checks, the journal and the staging schema took warm ones
    assert sql(pg_url, "SELECT id, v FROM t ORDER BY id") == [(i, f"v{i}") for i in range(100)]
    database = parse_url(pg_url).database
    assert database is not None
    assert _settled(pg_url, database, 0) == set()


def test_a_postgresql_source_takes_warm_ones_too(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TABLE t (id bigint PRIMARY KEY, v text)")
    sql(pg_url, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g")
    source_url = connection.with_connect_timeout(parse_url(pg_url)).url
    taken: list[str] = []
    real = warm.take

    def spy(url: str, autocommit: bool) -> object:
        conn = real(url, autocommit)
        if conn is not None:
            taken.append(url)
        return conn

    patch = pytest.MonkeyPatch()
    patch.setattr(warm, "take", spy)
    try:
        result = af.migrate(pg_url, tmp_path / "out.db")
    finally:
        patch.undo()
    assert result.success, result.errors
    assert taken and set(taken) == {source_url}  # the plan's and the snapshot's connections
    import sqlite3

    with sqlite3.connect(tmp_path / "out.db") as conn:
        got = conn.execute("SELECT id, v FROM t ORDER BY id").fetchall()
    assert got == [(i, f"v{i}") for i in range(1, 101)]
    database = parse_url(pg_url).database
    assert database is not None
    assert _settled(pg_url, database, 0) == set()


def test_a_failed_warm_up_leaves_the_usual_error(pg_url: str) -> None:
    missing = parse_url(with_database(pg_url, "af_no_such_database"))
    endpoint = replace(missing, password="s3cr3t-pw")
    url = connection.with_connect_timeout(endpoint).url
    with warm.warming({url: {True: 1}}), pytest.raises(ConnectError) as caught:
        connection.connect(endpoint)
    assert "af_no_such_database" in str(caught.value)
    assert "s3cr3t-pw" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_warming_threads_never_hold_the_process() -> None:
    # an address that drops packets: the open would wait its connect_timeout
    url = "postgresql://u@10.255.255.1:5432/db?connect_timeout=30"
    before = set(threading.enumerate())
    with warm.warming({url: {True: 1}}):
        started = [t for t in threading.enumerate() if t not in before]
    assert started and all(t.daemon for t in started)
    assert warm.take(url, True) is None  # no longer warming: nothing to take


def test_an_open_that_hangs_is_left_to_close_itself(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adbc_driver_postgresql.dbapi as pg_adbc

    real, release = pg_adbc.connect, threading.Event()
    opened: list[object] = []

    def slow(*args: object, **kwargs: object) -> object:
        release.wait(30)  # a host that does not answer, until the test lets it
        conn = real(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(conn)
        return conn

    monkeypatch.setattr(pg_adbc, "connect", slow)
    monkeypatch.setattr(warm, "TAKE_WAIT", 0.2)
    url = connection.with_connect_timeout(parse_url(pg_url)).url
    with warm.warming({url: {True: 1}}):
        assert warm.take(url, True) is None  # not waited for past TAKE_WAIT
        release.set()
        for _ in range(100):  # it opens now, and closes itself: it was abandoned
            if opened:
                break
            time.sleep(0.05)
    assert len(opened) == 1
    database = parse_url(pg_url).database
    assert database is not None
    assert _settled(pg_url, database, 0) == set()


def test_a_warm_connection_the_server_closed_is_replaced(pg_url: str) -> None:
    endpoint = parse_url(pg_url)
    database = endpoint.database
    assert database is not None
    url = connection.with_connect_timeout(endpoint).url
    with warm.warming({url: {True: 1}}):
        (pid,) = _settled(pg_url, database, 1)
        sql(pg_url, "SELECT pg_terminate_backend($1::int)", [pid])  # as a server restart would
        assert _settled(pg_url, database, 0) == set()
        conn = connection.connect(endpoint)
        try:
            got = connection.fetch(conn, "SELECT pg_backend_pid(), 1")[0]
        finally:
            conn.close()
    assert int(got[0]) != pid and int(got[1]) == 1


def test_warm_connections_not_taken_expire(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "EXPIRE_SECONDS", 0.5)
    endpoint = parse_url(pg_url)
    database = endpoint.database
    assert database is not None
    url = connection.with_connect_timeout(endpoint).url
    with warm.warming({url: {True: 2}}):
        assert len(_settled(pg_url, database, 2)) == 2
        assert _settled(pg_url, database, 0) == set()  # closed while the block still runs
        assert warm.take(url, True) is None


# --- the driver's type map: built in, not read from the server -----------------------------


def test_connections_take_the_drivers_built_in_type_map(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every connection asks for the driver's built-in type map (no read of pg_type and
    pg_attribute on connect, 30-90 ms here, minutes on a huge catalog), and the installed
    driver accepts it; a type of the database's own still arrives as its text."""
    import adbc_driver_postgresql.dbapi as pg_adbc

    asked: list[dict[str, str]] = []
    real = pg_adbc.connect

    def connect(url: str, **kwargs: object) -> object:
        asked.append(dict(kwargs.get("db_kwargs") or {}))  # type: ignore[call-overload]
        return real(url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pg_adbc, "connect", connect)
    conn = connection.connect(parse_url(pg_url))
    try:
        with conn.cursor() as cur:  # what a built-in map makes of a type it does not know
            cur.execute("SELECT ROW(1, 'x') AS r")
            assert "opaque" in str(cur.fetch_arrow_table().schema.field(0).type)
    finally:
        conn.close()
    assert asked == [warm.DRIVER_OPTIONS]
    assert warm._options == [warm.DRIVER_OPTIONS]  # accepted, not fallen back from
    sql(pg_url, "CREATE TYPE af_mood AS ENUM ('sad', 'happy')")
    sql(pg_url, "CREATE TABLE moods (id int PRIMARY KEY, m af_mood, ms af_mood[])")
    sql(pg_url, "INSERT INTO moods VALUES (1, 'happy', '{sad,happy}'), (2, NULL, NULL)")
    out = tmp_path / "moods.db"
    result = af.migrate(pg_url, out)
    assert result.success, result.errors
    with sqlite3.connect(out) as db:
        got = db.execute("SELECT id, m, ms FROM moods ORDER BY id").fetchall()
    assert got == [(1, "happy", '["sad","happy"]'), (2, None, None)]


def test_a_driver_without_the_option_connects_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    import adbc_driver_postgresql.dbapi as pg_adbc

    calls: list[dict[str, object]] = []

    def connect(url: str, **kwargs: object) -> str:
        calls.append(kwargs)
        if "db_kwargs" in kwargs:
            raise RuntimeError(
                "NOT_IMPLEMENTED: [libpq] unknown option adbc.postgresql.type_resolver_mode"
            )
        return "a connection"

    monkeypatch.setattr(pg_adbc, "connect", connect)
    monkeypatch.setattr(warm, "_options", [warm.DRIVER_OPTIONS])
    assert warm.open_connection("postgresql:///x", True) == "a connection"
    assert warm.open_connection("postgresql:///x", False) == "a connection"
    assert [("db_kwargs" in c) for c in calls] == [True, False, False]  # asked once only


def test_a_finishing_connection_whose_set_up_fails_is_closed(pg_url: str) -> None:
    """A finishing worker's connection that fails its session settings (as one opened
    while the server restarts does) is closed there and then, not left to the garbage
    collector (whose ResourceWarning failed a fault test now and then)."""
    import gc
    import warnings

    from arrowferry.dialects.postgresql.finishing import PostgresFinishing

    endpoint = parse_url(pg_url)
    assert endpoint.database is not None
    finishing = PostgresFinishing(endpoint, ("SET work_mem = 'plenty'",))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Exception, match="work_mem"):
            finishing.connection()
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert _settled(pg_url, endpoint.database, 0) == set()
