"""The PostgreSQL -> SQLite methods, each timed inside a worker process.

The same pattern as ``methods.py``: a method gets a ``ReverseJob`` and returns an
``Outcome``, raising ``Unavailable`` when it can't run. Each writes a new SQLite file at
``job.target_path`` (``read_limit`` writes nothing). Heavy imports happen inside the
methods, so each worker's peak RSS holds only what its method loads.

Usage: ``python -m harness.reverse_methods '<ReverseJob as JSON>' RESULT.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import arrowdata, worker
from harness.methods import Outcome, Unavailable, duckdb_connect

# What arrowferry's SQLite writer sets on a new file (dialects/sqlite/write.py), so the
# ingest limit builds its file, and its indexes, under the same settings.
INGEST_PRAGMAS = (
    "PRAGMA foreign_keys = OFF",
    "PRAGMA cache_size = -65536",
    f"PRAGMA threads = {min(4, os.cpu_count() or 1)}",
    "PRAGMA journal_mode = MEMORY",
    "PRAGMA synchronous = OFF",
)
# ... and around each index build (``write.sorting``): SQLite's sorter is fastest with
# its default cache
SORT_PRAGMA = "PRAGMA cache_size = -2000"


@dataclass(frozen=True)
class ReverseJob:
    """Everything a worker needs; JSON-serialisable.

    ``tables``: one ``{"name", "create_sql", "indexes"}`` per table, in load order, taken
    from arrowferry's plan (the DDL and index statements it runs).
    """

    method: str
    source_url: str
    source_schema: str
    target_path: str
    arrow_dir: str
    work_dir: str
    tables: list[dict[str, Any]]


@dataclass
class ReverseOutcome(Outcome):
    """An ``Outcome`` plus rows per table, a method's own phases and what it reported wrong."""

    rows: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sync(path: str) -> None:
    """The file's data on disk, as arrowferry leaves its output (SQLite synchronous=OFF
    skips every fsync until then)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_limit(job: ReverseJob) -> ReverseOutcome:
    """ADBC PostgreSQL ``SELECT *`` of every table, streamed into Arrow and dropped."""
    import adbc_driver_postgresql.dbapi as pg_adbc

    rows: dict[str, int] = {}
    started = time.perf_counter()
    with pg_adbc.connect(job.source_url) as conn:
        for table in job.tables:
            relation = f"{_quote(job.source_schema)}.{_quote(table['name'])}"
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {relation}")
                rows[table["name"]] = sum(b.num_rows for b in cur.fetch_record_batch())
        conn.rollback()
    return ReverseOutcome(time.perf_counter() - started, rows=rows)


def _execute(conn: Any, sql: str) -> None:
    with conn.cursor() as cur:
        cur.execute(sql)
        with contextlib.suppress(Exception):
            cur.fetchall()  # a PRAGMA answers with a row; step every statement to its end


def ingest_limit(job: ReverseJob) -> ReverseOutcome:
    """ADBC SQLite ``adbc_ingest(mode="append")`` of the pre-materialised Arrow files into
    arrowferry's tables, one transaction each, then its indexes, then an fsync."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc
    import pyarrow as pa

    rows: dict[str, int] = {}
    started = time.perf_counter()
    conn = sqlite_adbc.connect(job.target_path, autocommit=True)
    for pragma in INGEST_PRAGMAS:
        _execute(conn, pragma)
    for table in job.tables:
        _execute(conn, "BEGIN")
        _execute(conn, table["create_sql"])
        path = arrowdata.file_for(Path(job.arrow_dir), table["name"])
        with pa.OSFile(str(path)) as source, conn.cursor() as cur:
            rows[table["name"]] = cur.adbc_ingest(
                table["name"], pa.ipc.open_stream(source), mode="append"
            )
        _execute(conn, "COMMIT")
    loaded = time.perf_counter()
    _execute(conn, SORT_PRAGMA)
    for table in job.tables:
        for sql in table["indexes"]:
            _execute(conn, sql)
    conn.close()
    indexed = time.perf_counter()
    _sync(job.target_path)
    seconds = time.perf_counter() - started
    phases = {
        "load": loaded - started,
        "indexes": indexed - loaded,
        "fsync": started + seconds - indexed,
    }
    return ReverseOutcome(seconds, data_seconds=loaded - started, rows=rows, phases=phases)


def arrowferry_migrate(job: ReverseJob) -> ReverseOutcome:
    """``arrowferry.migrate(source_url, out)`` with default settings: the whole migration."""
    try:
        import arrowferry

        migrate = arrowferry.migrate  # the facade imports its engine on first use: not timed
    except Exception as err:
        raise Unavailable(f"import arrowferry failed: {type(err).__name__}: {err}") from err
    started = time.perf_counter()
    try:
        result = migrate(job.source_url, job.target_path, source_schema=job.source_schema)
    except Exception as err:
        raise Unavailable(f"migrate() raised {type(err).__name__}: {err}") from err
    seconds = time.perf_counter() - started
    problems = [f"{e.table or '-'}: {e.message}" for e in result.errors]
    if result.rows_rejected:
        problems.append(f"{result.rows_rejected} rows rejected")
    problems += [
        f"{i['table']}: {i['rows']} {i['kind']} violations" for i in result.constraint_issues
    ]
    finish = result.phases.get("finish")
    where = Path(arrowferry.__file__ or "?").parent
    return ReverseOutcome(
        seconds,
        note=f"arrowferry {arrowferry.__version__} ({where}); {len(result.warnings)} warnings",
        data_seconds=None if finish is None else seconds - finish,
        rows={t.name: t.rows for t in result.tables},
        phases={k: round(v, 3) for k, v in result.phases.items()},
        problems=problems,
    )


def duckdb_ctas(job: ReverseJob) -> ReverseOutcome:
    """DuckDB ATTACH postgres + sqlite, ``CREATE TABLE AS`` per table (no keys, indexes)."""
    conn = duckdb_connect()
    source = job.source_url.replace("'", "''")
    target = job.target_path.replace("'", "''")
    started = time.perf_counter()
    conn.execute(f"ATTACH '{source}' AS src (TYPE postgres, READ_ONLY)")
    conn.execute(f"ATTACH '{target}' AS dst (TYPE sqlite)")
    for table in job.tables:
        name = _quote(table["name"])
        conn.execute(
            f"CREATE TABLE dst.{name} AS SELECT * FROM src.{_quote(job.source_schema)}.{name}"
        )
    conn.execute("DETACH dst")
    conn.execute("DETACH src")
    seconds = time.perf_counter() - started
    conn.close()
    return ReverseOutcome(seconds, data_seconds=seconds)  # data only: nothing to finish


METHODS: dict[str, Callable[[ReverseJob], Outcome]] = {
    "read_limit": read_limit,
    "ingest_limit": ingest_limit,
    "arrowferry": arrowferry_migrate,
    "duckdb": duckdb_ctas,
}

LABELS: dict[str, str] = {
    "read_limit": "read limit (ADBC SELECT * -> Arrow)",
    "ingest_limit": "ingest limit (ADBC ingest + indexes)",
    "limit": "limit = read + ingest",
    "arrowferry": "arrowferry.migrate() (full)",
    "duckdb": "DuckDB ATTACH + CTAS (no keys)",
}


def main() -> None:
    job = ReverseJob(**json.loads(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(worker.run(job, METHODS)))


if __name__ == "__main__":
    main()
