"""Shared fixtures: a real PostgreSQL, never a mock, never a skip.

The server comes from, in order: ``ARROWFERRY_TEST_PG_URL``; a testcontainers
PostgreSQL when a Docker engine answers; the embedded PostgreSQL of the ``pgserver``
wheel. When none can be had the fixture fails the tests that need it.
Each test gets a fresh database of its own, dropped afterwards.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data"  # bundled copies of ../shared/corpus (see its README)
CHINOOK = REPO / "examples" / "chinook.sqlite"


def _docker_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return False
    # a failed ping can leave the client's socket to the garbage collector: collect it
    # here, so its ResourceWarning does not land in whichever test runs next
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker

            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
            return True
        except Exception:
            return False
        finally:
            gc.collect()


@pytest.fixture(scope="session")
def arrowferry_home() -> Iterator[Path]:
    """A private ARROWFERRY_HOME for the session (the embedded server lives in it).

    Not under pytest's basetemp: pytest prunes old basetemp folders, which would pull
    the data directory from under a server another session still runs.
    """
    home = Path(tempfile.mkdtemp(prefix="arrowferry-test-home-"))
    old = os.environ.get("ARROWFERRY_HOME")
    os.environ["ARROWFERRY_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("ARROWFERRY_HOME", None)
    else:
        os.environ["ARROWFERRY_HOME"] = old
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(arrowferry_home: Path) -> Iterator[str]:
    """Admin URL of a real PostgreSQL server (database ``postgres``)."""
    url = os.environ.get("ARROWFERRY_TEST_PG_URL")
    if url:
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    from arrowferry import embedded

    yield embedded.server_url("postgres")
    embedded.stop()


def admin_connect(url: str) -> Any:
    import adbc_driver_postgresql.dbapi as pg_adbc

    return pg_adbc.connect(url, autocommit=True)


def sql(url: str, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on ``url`` and return its rows (if any)."""
    conn = admin_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            try:
                return list(cur.fetchall())
            except Exception:
                return []
    finally:
        conn.close()


def database_defaults(url: str, *settings: str) -> None:
    """Set ``settings`` ("name = value") as the defaults of ``url``'s database, as a DBA
    would: every session opened afterwards starts with them."""
    from arrowferry.urls import parse_url

    database = parse_url(url).database
    for setting in settings:
        sql(url, f'ALTER DATABASE "{database}" SET {setting}')


def with_database(url: str, name: str) -> str:
    from arrowferry.urls import Endpoint, parse_url

    e = parse_url(url)
    return Endpoint(e.dialect, name, e.host, e.port, e.username, e.password, e.ssl, e.params).url


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """URL of a new, empty database on ``server``, dropped on exit."""
    name = f"af_test_{uuid.uuid4().hex[:12]}"
    sql(server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a new, empty database on the test server, dropped after the test."""
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture
def chinook(tmp_path: Path) -> Path:
    target = tmp_path / "chinook.sqlite"
    shutil.copy(CHINOOK, target)
    target.chmod(0o644)
    return target


@pytest.fixture
def northwind(tmp_path: Path) -> Path:
    target = tmp_path / "northwind.db"
    shutil.copy(CORPUS / "northwind.db", target)
    target.chmod(0o644)
    return target


def make_sqlite(
    path: Path, script: str, rows: dict[str, list[tuple[Any, ...]]] | None = None
) -> Path:
    """A SQLite file from a DDL script plus rows inserted through the stdlib driver."""
    conn = sqlite3.connect(path)
    conn.executescript(script)
    for table, values in (rows or {}).items():
        if values:
            marks = ", ".join("?" for _ in values[0])
            conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    conn.commit()
    conn.close()
    return path


def pg_tables(url: str, schema: str = "public") -> list[str]:
    return [
        r[0]
        for r in sql(
            url, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]
        )
    ]
