"""The embedded PostgreSQL: the default target when the user names none.

It is the server shipped in the ``pgserver`` wheel, kept in a per-user data directory
(``$ARROWFERRY_HOME/pgdata``; ``ARROWFERRY_HOME`` defaults to the user data dir) and
left running between runs, listening on a unix socket only.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from pathlib import Path
from typing import Any

from arrowferry.errors import ConnectError
from arrowferry.urls import Endpoint, parse_url


def home() -> Path:
    """Where arrowferry keeps its state (``ARROWFERRY_HOME`` or the user data directory)."""
    configured = os.environ.get("ARROWFERRY_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("arrowferry")).resolve()


def data_dir() -> Path:
    return home() / "pgdata"


def _pgserver() -> Any:
    try:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without
            # XDG_RUNTIME_DIR that warns and falls back to /tmp, which is fine
            warnings.simplefilter("ignore")
            import pgserver
            import pgserver._commands
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ConnectError(
            "the embedded PostgreSQL needs the 'pgserver' package: pip install pgserver"
        ) from err
    return pgserver


def _server() -> Any:
    pgserver = _pgserver()
    directory = data_dir()
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(directory, cleanup_mode=None)
    except Exception as err:
        raise ConnectError(
            f"could not start the embedded PostgreSQL in {directory}: {err}"
        ) from err
    _tune_for_bulk_loads(server)
    return server


# The embedded server is a private, local, single-user database: it needs crash
# safety, not replication or archiving, so it runs with the settings PostgreSQL
# recommends for populating a database. wal_level=minimal lets COPY into a table
# created in the same transaction, and index builds, skip writing WAL.
# https://www.postgresql.org/docs/current/populate.html#POPULATE-PITR
_BULK_SETTINGS = {"wal_level": "minimal", "max_wal_senders": "0", "maintenance_work_mem": "512MB"}


def _tune_for_bulk_loads(server: Any) -> None:
    from arrowferry.dialects import postgresql as pg

    endpoint = parse_url(str(server.get_uri("postgres")))
    conn = pg.connect(endpoint, autocommit=True)
    try:
        current = pg.settings(conn, list(_BULK_SETTINGS))
        if current.get("wal_level") == "minimal":
            return
        for name, value in _BULK_SETTINGS.items():
            pg.execute(conn, pg.alter_system_sql(name, value))
    finally:
        conn.close()
    # restart reuses the postmaster's original options (postmaster.opts: unix socket only)
    _pg_ctl(["-w", "-m", "fast", "-l", str(data_dir() / "log"), "restart"])


def _pg_ctl(args: list[str]) -> None:
    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        _pgserver()._commands.pg_ctl(args, pgdata=data_dir(), user=user)
    except subprocess.CalledProcessError as err:
        raise ConnectError(
            f"the embedded PostgreSQL failed to {args[-1] if args else 'run'}: {err}"
        ) from err


def server_url(database: str = "postgres") -> str:
    """Start (or reuse) the embedded server and return a URL for ``database``."""
    return str(_server().get_uri(database))


def is_running() -> bool:
    pidfile = data_dir() / "postmaster.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def database_name_for(source: Path) -> str:
    """A PostgreSQL database name from a source file name (``Chinook_Sqlite.sqlite`` -> ``chinook_sqlite``)."""
    stem = source.name.split(".")[0] or "arrowferry"
    name = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "arrowferry"
    if name[0].isdigit():
        name = "db_" + name
    return name[:63]


def ensure_database(name: str) -> Endpoint:
    """Create ``name`` in the embedded server if missing; return its endpoint."""
    found = existing_database(name, create=True)
    assert found is not None
    return found


def existing_database(name: str, *, create: bool = False) -> Endpoint | None:
    """The endpoint of ``name`` in the embedded server (started if need be), or None when
    it has no such database (``create``: make it instead)."""
    from arrowferry.dialects import postgresql as pg

    admin = parse_url(server_url("postgres"))
    conn = pg.connect(admin, autocommit=True)
    try:
        if not pg.database_exists(conn, name):
            if not create:
                return None
            pg.execute(conn, pg.create_database_sql(name))
    finally:
        conn.close()
    return parse_url(server_url(name))


def default_target(source: str) -> str:
    """The URL of the embedded database a run of SQLite file ``source`` with no target
    made (``arrowferry migrate app.db``), for the commands that read it afterwards
    (``verify app.db``, ``diff app.db``, ``sync app.db``); BadInputError when there is none."""
    from arrowferry.errors import BadInputError

    endpoint = parse_url(source, must_exist=False)
    if endpoint.dialect != "sqlite":
        raise BadInputError(
            "a second database is needed: only a SQLite file has a default target (the "
            "embedded PostgreSQL database named after it)"
        )
    name = database_name_for(endpoint.path)
    found = existing_database(name)
    if found is None:
        raise BadInputError(
            f"the embedded PostgreSQL has no database {name!r} to compare {source} with: "
            f"`arrowferry migrate {source}` makes it, or give the target"
        )
    return found.url


def stop() -> bool:
    """Stop the embedded server; False when it was not running."""
    if not is_running():
        return False
    _pg_ctl(["-w", "-m", "fast", "stop"])
    return True
