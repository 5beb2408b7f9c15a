"""The PostgreSQL server the benchmark runs against, its URLs and throwaway databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from harness.schema import FINISH, TABLES

ENV_URL = "ARROWFERRY_BENCH_PG_URL"
DEFAULT_PGDATA = Path("/tmp/pgbench_data")
DB_PREFIX = "afbench_"


# What PostgreSQL's "Populating a Database" page recommends for bulk loads, and what
# arrowferry's own embedded server runs with: every method meets the same server.
# wal_level=minimal lets COPY into a table created in the same transaction, and index
# builds, skip WAL. https://www.postgresql.org/docs/current/populate.html
BULK_SETTINGS = {"wal_level": "minimal", "max_wal_senders": "0", "maintenance_work_mem": "512MB"}

# The server configurations a harness can run against (``--server``): ``bulk`` is set to
# BULK_SETTINGS; ``default`` is left at what initdb writes (wal_level=replica,
# max_wal_senders=10, maintenance_work_mem=64MB), as most production servers run, where a
# COPY into a new table is WAL-logged whoever sends it. Each has a data folder of its own,
# so both can stay up and neither is restarted to switch.
SERVER_CONFIGS = ("bulk", "default")
PGDATA = {"bulk": DEFAULT_PGDATA, "default": Path("/tmp/pgbench_default")}
EXPECTED_WAL_LEVEL = {"bulk": "minimal", "default": "replica"}


def server_url(pgdata: Path | None = None, config: str = "bulk") -> str:
    """The admin URL: ``$ARROWFERRY_BENCH_PG_URL`` (used as configured), else an embedded
    pgserver in ``pgdata`` (by default ``PGDATA[config]``) left running, set to
    ``config``: BULK_SETTINGS for ``bulk``, PostgreSQL's defaults for ``default``."""
    if config not in SERVER_CONFIGS:
        raise ValueError(f"unknown server configuration {config!r}")
    url = os.environ.get(ENV_URL)
    if url:
        return url
    pgdata = pgdata or PGDATA[config]
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # platformdirs, harmless
    from pgserver.postgres_server import get_server

    # cleanup_mode=None: keep the server up between runs; restarting it costs seconds.
    url = str(get_server(str(pgdata), cleanup_mode=None).get_uri("postgres"))
    _configure(url, pgdata, config)
    wal_level = server_info(url)["wal_level"]
    if wal_level != EXPECTED_WAL_LEVEL[config]:
        raise SystemExit(f"server in {pgdata} runs wal_level={wal_level}, not the {config} setup")
    return url


def _configure(url: str, pgdata: Path, config: str) -> None:
    """Set BULK_SETTINGS (``bulk``) or reset them to the defaults (``default``), restarting
    the server only when something changes (wal_level needs a restart)."""
    with psycopg.connect(url, autocommit=True) as conn:
        current = dict(
            conn.execute(
                "SELECT name, source FROM pg_settings WHERE name = ANY(%s)", (list(BULK_SETTINGS),)
            ).fetchall()
        )
        wal_level = conn.execute("SELECT current_setting('wal_level')").fetchone()
        if config == "bulk":
            if wal_level and wal_level[0] == BULK_SETTINGS["wal_level"]:
                return
            for name, value in BULK_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        else:
            # 'default' means what initdb wrote: anything ALTER SYSTEM set goes
            changed = [name for name, source in current.items() if source != "default"]
            if not changed:
                return
            for name in changed:
                conn.execute(f"ALTER SYSTEM RESET {name}")
    import pgserver._commands

    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    pgserver._commands.pg_ctl(
        ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"], pgdata=pgdata, user=user
    )


def wal_lsn(admin_url: str) -> int:
    """The server's current WAL insert position in bytes: the difference between two
    readings is the WAL written in between, by every session."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at another database (libpq URL; the socket dir may sit in the query)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def mask(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def admin_execute(admin_url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE, CHECKPOINT)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """Create database ``name`` (dropping a leftover), yield its URL, drop it afterwards.

    A CHECKPOINT after the drop flushes the previous run's dirty pages now, so the next
    run is not charged for them.
    """
    dbname = DB_PREFIX + name
    drop = f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'
    admin_execute(admin_url, drop, f'CREATE DATABASE "{dbname}"', "CHECKPOINT")
    try:
        yield with_database(admin_url, dbname)
    finally:
        admin_execute(admin_url, drop, "CHECKPOINT")


def postmaster_pid(admin_url: str) -> int:
    """The server's postmaster, from its data folder's ``postmaster.pid``: its children
    are the backends (a server on another machine cannot be measured from /proc)."""
    folder = server_info(admin_url)["data_directory"]
    pid_file = Path(folder) / "postmaster.pid" if folder else None
    if pid_file is None or not pid_file.exists():
        raise SystemExit("the server's data folder is not readable here: run it on this machine")
    return int(pid_file.read_text().split("\n", 1)[0])


def server_cpu(postmaster: int) -> float:
    """CPU-seconds the server has used: the postmaster's own, its reaped children's
    (``cutime``/``cstime``: every backend and worker that has ended) and its live
    children's. A difference of two readings is the server's work between them, whatever
    else the machine ran (not the machine's busy time less the client's)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(pid: str) -> list[str] | None:
        try:
            text = (Path("/proc") / pid / "stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2 :].split()

    own = fields(str(postmaster))
    if own is None:
        raise SystemExit(f"the postmaster {postmaster} is not running here")
    total = sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = fields(entry.name)
            if child is not None and int(child[1]) == postmaster:
                total += int(child[11]) + int(child[12])
    return total / ticks


def server_info(admin_url: str) -> dict[str, str]:
    """Server version and the settings that matter for bulk loads, as the server reports
    them (``current_setting``, i.e. SHOW), not as the harness asked for them."""
    names = (
        "server_version",
        "shared_buffers",
        "max_wal_size",
        "maintenance_work_mem",
        "work_mem",
        "fsync",
        "synchronous_commit",
        "wal_level",
        "max_wal_senders",
        "wal_compression",
        "full_page_writes",
        "checkpoint_timeout",
        "max_parallel_maintenance_workers",
        "max_parallel_workers",
        "data_directory",
    )
    with psycopg.connect(admin_url) as conn:
        # through pg_settings: a setting this user may not read (data_directory, unless
        # superuser) is left out instead of failing the query
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            (list(names),),
        ).fetchall()
    found = {str(name): str(value) for name, value in rows}
    return {name: found.get(name, "") for name in names}


def _load_reference(sqlite_path: Path, url: str) -> None:
    """Text-COPY the SQLite rows, as stored, into the typed tables: PostgreSQL parses them.

    Independent of arrowferry on purpose: plain stdlib sqlite3 rows and PostgreSQL's own
    input functions ('1' -> true, ISO text -> timestamp, JSON text -> jsonb).
    """
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(url) as conn:
        for table, ddl in TABLES.items():
            conn.execute(ddl)
            cursor = source.execute(f"SELECT * FROM {table} ORDER BY id")
            columns = ", ".join(d[0] for d in cursor.description)
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in cursor:
                    copy.write_row(row)
    source.close()


def _dump_binary(url: str, out_dir: Path) -> None:
    with psycopg.connect(url) as conn:
        for table in TABLES:
            target = out_dir / f"{table}.bin"
            with (
                target.open("wb") as out,
                conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy,
            ):
                for block in copy:
                    out.write(block)


def materialise_copy_files(sqlite_path: Path, admin_url: str, out_dir: Path) -> Path:
    """PostgreSQL binary COPY files of the typed data, built once and cached in ``out_dir``."""
    if all((out_dir / f"{t}.bin").exists() for t in TABLES):
        return out_dir
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with fresh_database(admin_url, "reference") as url:
        _load_reference(sqlite_path, url)
        _dump_binary(url, tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def load_copy_files(url: str, copy_dir: Path) -> None:
    """The typed tables loaded from the binary COPY files, finished (keys, UNIQUE, FK,
    indexes, identity columns), then VACUUM (ANALYZE): a settled database to read from.

    The VACUUM sets the hint bits and the visibility map now, so the first method to
    read the tables does not pay for writing them.
    """
    with psycopg.connect(url) as conn:
        for table, ddl in TABLES.items():
            conn.execute(ddl)
            with (
                (copy_dir / f"{table}.bin").open("rb") as source,
                conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy,
            ):
                while block := source.read(1 << 20):
                    copy.write(block)
        for statement in FINISH:
            conn.execute(statement)
    admin_execute(url, "VACUUM (ANALYZE)", "CHECKPOINT")
