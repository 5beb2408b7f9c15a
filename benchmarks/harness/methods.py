"""The migration methods, each timed inside a worker process (see ``worker.py``).

A method gets a ``Job`` and returns an ``Outcome``; it raises ``Unavailable`` when its tool is
missing or fails, so the run goes on and the report says why. Timing starts after imports
and setup that are not part of a migration (writing a load file, creating sample tables).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.schema import BOOLEANS, FINISH, TABLES
from harness.tools import pgloader_url, psql_path


class Unavailable(Exception):
    """The method can't run here; the message says why."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs; JSON-serialisable."""

    method: str
    sqlite_path: str
    target_url: str
    copy_dir: str
    work_dir: str
    sample_rows: int


@dataclass
class Outcome:
    """Seconds for the whole database (``scale`` > 1 when extrapolated from a sample).

    ``peak_rss_mb`` is set by methods that run an external tool (polled from /proc);
    for in-process methods the worker fills in its own peak.
    """

    seconds: float
    peak_rss_mb: float = 0.0
    external: bool = False
    scale: float = 1.0
    note: str = ""
    data_seconds: float | None = None  # until the rows are in, before keys and indexes


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """Peak RSS of a live process since its exec (Linux VmHWM), in MB; None if unknown.

    Unlike ``getrusage``'s ru_maxrss, VmHWM is not inherited from the parent across
    fork+exec, so a small worker started by a big harness reads its own peak.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def _run_tool(argv: list[str], log: Path) -> Outcome:
    """Run an external tool, logging its output; its wall time and polled peak RSS."""
    peak = 0.0
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid) or 0.0)
            # Returns as soon as the tool exits, so polling adds no latency.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.02)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise Unavailable(f"{Path(argv[0]).name} exited {proc.returncode}: {' | '.join(tail)}")
    return Outcome(seconds, peak_rss_mb=peak, external=True)


def _psql_load(job: Job, finish: bool) -> Outcome:
    psql = psql_path()
    if psql is None:
        raise Unavailable("psql not found (PATH or pgserver)")
    lines = [ddl + ";" for ddl in TABLES.values()]
    for table in TABLES:
        source = Path(job.copy_dir) / f"{table}.bin"
        lines.append(f"\\copy {table} FROM '{source}' WITH (FORMAT binary)")
    if finish:
        lines += [statement + ";" for statement in FINISH]
    script = Path(job.work_dir) / f"{job.method}.sql"
    script.write_text("\n".join(lines) + "\n")
    # --single-transaction: the tables are created in the transaction that loads them, so
    # with wal_level=minimal the COPY skips WAL, as pg_restore --single-transaction does
    argv = [psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    argv += ["-d", job.target_url, "-f", str(script)]
    return _run_tool(argv, Path(job.work_dir) / f"{job.method}.log")


def copy_limit(job: Job) -> Outcome:
    """``psql \\copy`` of pre-materialised binary COPY files into typed tables, no indexes."""
    outcome = _psql_load(job, finish=False)
    outcome.data_seconds = outcome.seconds
    return outcome


def copy_then_index(job: Job) -> Outcome:
    """The COPY limit, then PK, UNIQUE, FK, 2 indexes and identity sequences, in turn."""
    return _psql_load(job, finish=True)


def arrowferry_migrate(job: Job) -> Outcome:
    """``arrowferry.migrate()`` with default settings: schema, data, keys, indexes."""
    try:
        import arrowferry

        # the facade imports its engine on first use: before the clock starts
        migrate: Callable[..., Any] | None = getattr(arrowferry, "migrate", None)
    except Exception as err:  # the package is being written: report, don't crash
        raise Unavailable(f"import arrowferry failed: {type(err).__name__}: {err}") from err
    if migrate is None:
        raise Unavailable("arrowferry has no migrate() yet")
    source = f"sqlite:///{Path(job.sqlite_path).resolve()}"
    started = time.perf_counter()
    try:
        result = migrate(source, job.target_url)
    except Exception as err:
        raise Unavailable(f"migrate() raised {type(err).__name__}: {err}") from err
    seconds = time.perf_counter() - started
    where = Path(getattr(arrowferry, "__file__", None) or "?").parent
    finish = getattr(result, "phases", {}).get("finish")
    return Outcome(
        seconds,
        note=f"arrowferry {getattr(arrowferry, '__version__', '?')} ({where})",
        data_seconds=None if finish is None else seconds - finish,
    )


def _arrowferry_data_only(job: Job, rebuild_indexes: bool) -> Outcome:
    """Rows into a schema made beforehand with its keys, indexes and foreign keys in
    place (made by ``schema_only``, outside the clock): the cut-over case of issue 14."""
    import arrowferry

    source = f"sqlite:///{Path(job.sqlite_path).resolve()}"
    made = arrowferry.migrate(source, job.target_url, schema_only=True)
    if not made.success:
        raise Unavailable(f"schema_only failed: {made.errors}")
    started = time.perf_counter()
    result = arrowferry.migrate(
        source, job.target_url, data_only=True, rebuild_indexes=rebuild_indexes
    )
    seconds = time.perf_counter() - started
    if not result.success:
        raise Unavailable(f"data_only failed: {result.errors}")
    finish = result.phases.get("finish")
    return Outcome(seconds, data_seconds=None if finish is None else seconds - finish)


def arrowferry_data_only(job: Job) -> Outcome:
    """``migrate(data_only=True)`` into the made schema, its indexes kept in place."""
    return _arrowferry_data_only(job, rebuild_indexes=False)


def arrowferry_data_only_rebuild(job: Job) -> Outcome:
    """The same with ``rebuild_indexes=True``: indexes dropped for the load, built after."""
    return _arrowferry_data_only(job, rebuild_indexes=True)


PGLOADER_LOAD = """LOAD DATABASE
     FROM sqlite://{source}
     INTO {target}
;
"""


def pgloader(job: Job) -> Outcome:
    """pgloader with its defaults (create tables, indexes, FKs, reset sequences)."""
    binary = shutil.which("pgloader")
    if binary is None:
        raise Unavailable("pgloader not on PATH (Debian: apt-get install pgloader)")
    load = Path(job.work_dir) / "pgloader.load"
    source = Path(job.sqlite_path).resolve()
    load.write_text(PGLOADER_LOAD.format(source=source, target=pgloader_url(job.target_url)))
    return _run_tool([binary, str(load)], Path(job.work_dir) / "pgloader.log")


def sample_sizes(sqlite_path: str, sample_rows: int) -> tuple[dict[str, int], int]:
    """Rows per table in a sample of ``sample_rows`` (same users:events mix) and the total."""
    with sqlite3.connect(sqlite_path) as conn:
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}
    total = sum(counts.values())
    share = min(1.0, sample_rows / total) if total else 1.0
    return {t: max(1, round(n * share)) for t, n in counts.items()}, total


def _boolean_positions(table: str, columns: list[str]) -> list[int]:
    return [i for i, c in enumerate(columns) if c in BOOLEANS.get(table, ())]


def _insert_sample(conn: Any, source: sqlite3.Connection, table: str, limit: int) -> None:
    cursor = source.execute(f"SELECT * FROM {table} ORDER BY id LIMIT {int(limit)}")
    columns = [d[0] for d in cursor.description]
    bools = _boolean_positions(table, columns)
    rows = []
    for raw in cursor:
        row = list(raw)
        for i in bools:  # SQLite's 0/1: psycopg would send int8, which boolean refuses
            row[i] = None if row[i] is None else bool(row[i])
        rows.append(row)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    conn.cursor().executemany(sql, rows)


def psycopg_executemany(job: Job) -> Outcome:
    """Row-by-row INSERT via psycopg ``executemany`` on a sample, extrapolated linearly."""
    import psycopg

    sizes, total = sample_sizes(job.sqlite_path, job.sample_rows)
    with psycopg.connect(job.target_url) as conn:
        for ddl in TABLES.values():
            conn.execute(ddl)
        conn.commit()
        source = sqlite3.connect(job.sqlite_path)
        started = time.perf_counter()
        for table, limit in sizes.items():
            _insert_sample(conn, source, table, limit)
        conn.commit()
        seconds = time.perf_counter() - started
        source.close()
    sampled = sum(sizes.values())
    note = f"extrapolated from {sampled:,} rows"
    return Outcome(seconds * total / sampled, scale=total / sampled, note=note)


def _duckdb_extension_dir(version: str) -> str | None:
    """Folder of the ``duckdb-ext-*`` wheels' extensions, when they match this DuckDB."""
    try:
        import duckdb_ext  # namespace package installed by duckdb-ext-sqlite/-postgres
    except ImportError:
        return None
    for root in getattr(duckdb_ext, "__path__", []):
        folder = Path(root) / "extensions"
        if (folder / f"v{version}").is_dir():
            return str(folder)
    return None


def duckdb_connect() -> Any:
    try:
        import duckdb
    except ImportError as err:
        raise Unavailable("duckdb not installed (pip install duckdb==1.4.4)") from err
    config: dict[str, Any] = {"autoinstall_known_extensions": False}
    folder = _duckdb_extension_dir(duckdb.__version__)
    if folder:
        config["extension_directory"] = folder
    conn = duckdb.connect(config=config)
    for name in ("sqlite_scanner", "postgres_scanner"):
        try:
            conn.execute(f"LOAD {name}")
        except duckdb.Error as err:
            hint = "pip install duckdb-ext-sqlite duckdb-ext-postgres (same DuckDB version)"
            raise Unavailable(f"duckdb {duckdb.__version__}: LOAD {name} failed ({hint})") from err
    return conn


def duckdb_ctas(job: Job) -> Outcome:
    """DuckDB ATTACH sqlite + postgres, ``CREATE TABLE AS`` per table (no keys, indexes)."""
    conn = duckdb_connect()
    source = str(Path(job.sqlite_path).resolve()).replace("'", "''")
    target = job.target_url.replace("'", "''")
    started = time.perf_counter()
    conn.execute(f"ATTACH '{source}' AS src (TYPE sqlite, READ_ONLY)")
    conn.execute(f"ATTACH '{target}' AS dst (TYPE postgres)")
    for table in TABLES:
        conn.execute(f"CREATE TABLE dst.public.{table} AS SELECT * FROM src.{table}")
    conn.execute("DETACH dst")
    seconds = time.perf_counter() - started
    conn.close()
    return Outcome(seconds)


METHODS: dict[str, Callable[[Job], Outcome]] = {
    "copy_limit": copy_limit,
    "copy_then_index": copy_then_index,
    "arrowferry": arrowferry_migrate,
    "arrowferry_data_only": arrowferry_data_only,
    "arrowferry_data_only_rebuild": arrowferry_data_only_rebuild,
    "pgloader": pgloader,
    "psycopg_executemany": psycopg_executemany,
    "duckdb": duckdb_ctas,
}

LABELS: dict[str, str] = {
    "copy_limit": "COPY limit (binary \\copy, no indexes)",
    "copy_then_index": "COPY-then-index (+PK, UNIQUE, FK, 2 idx)",
    "arrowferry": "arrowferry.migrate() (full)",
    "arrowferry_data_only": "arrowferry data-only (indexes kept)",
    "arrowferry_data_only_rebuild": "arrowferry data-only --rebuild-indexes",
    "pgloader": "pgloader defaults (full)",
    "psycopg_executemany": "psycopg executemany (extrapolated)",
    "duckdb": "DuckDB ATTACH + CTAS (no keys)",
}
