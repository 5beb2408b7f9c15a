"""A 1,000,000-row table migrates with the client's peak RSS under 400 MB.

The migration runs in a child process (``sys.executable -c ...``) that reports its own
peak RSS as Linux's VmHWM. Not ``getrusage``'s ru_maxrss: the kernel carries the old
address space's high-water mark across exec, so a child spawned by a pytest process that
has grown to 500 MB over the suite reports 500 MB however little it used (it failed CI
that way at 506 MB while the migration's own peak was ~230 MB).
The source is generated inside SQLite by a recursive CTE, in about a second.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import arrowferry  # noqa: F401  (imported here, in the parent, only so pytest's setup does not compile it)
from tests.conftest import sql

ROWS = 1_000_000
LIMIT_MB = 400

_CHILD = textwrap.dedent(
    """
    import json, sys, time
    import arrowferry as af

    start = time.perf_counter()
    result = af.migrate(sys.argv[1], sys.argv[2])
    seconds = time.perf_counter() - start
    print(json.dumps({
        "maxrss_kb": next(
            int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")
        ),
        "success": result.success,
        "errors": [e.message for e in result.errors],
        "rows_migrated": result.rows_migrated,
        "tables": {t.name: t.rows for t in result.tables},
        "seconds": seconds,
    }))
    """
)


def _generate(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        CREATE TABLE big (
            id INTEGER PRIMARY KEY,
            n INTEGER NOT NULL,
            label TEXT,
            ratio REAL,
            created DATETIME,
            amount NUMERIC(12,2)
        );
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS})
        INSERT INTO big
        SELECT x,
               x * 7919 - 4000000000,
               'label ' || x || ' ünïcödé',
               x / 8.0,
               datetime(1700000000 + x * 37, 'unixepoch'),
               (x % 1000000) / 100.0
        FROM c;
        """
    )
    conn.commit()
    conn.close()


def _source_aggregates(path: Path) -> tuple[object, ...]:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT count(*), sum(n), min(n), max(n), sum(length(label)), sum(ratio), "
            "min(created), max(created), count(DISTINCT created) FROM big"
        ).fetchone()
        return tuple(row)
    finally:
        conn.close()


@pytest.mark.slow
def test_million_rows_under_400_mb(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "big.sqlite"
    started = time.perf_counter()
    _generate(path)
    generated = time.perf_counter() - started
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), pg_url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_mb = report["maxrss_kb"] / 1024
    print(
        f"generated in {generated:.1f} s; migrated in {report['seconds']:.1f} s; peak RSS {peak_mb:.0f} MB"
    )
    assert report["errors"] == []
    assert report["success"] is True
    assert report["rows_migrated"] == ROWS
    assert report["tables"] == {"big": ROWS}
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB >= {LIMIT_MB} MB"

    assert sql(pg_url, "SELECT count(*) FROM big") == [(ROWS,)]
    (
        count,
        n_sum,
        n_min,
        n_max,
        label_chars,
        ratio_sum,
        created_min,
        created_max,
        created_distinct,
    ) = _source_aggregates(path)
    got = sql(
        pg_url,
        "SELECT count(*), sum(n)::text, min(n), max(n), sum(length(label))::bigint, sum(ratio), "
        "to_char(min(created), 'YYYY-MM-DD HH24:MI:SS'), to_char(max(created), 'YYYY-MM-DD HH24:MI:SS'), "
        "count(DISTINCT created), sum(amount)::text, count(amount), "
        "sum(CASE WHEN amount = ((id % 1000000) / 100.0)::numeric(12,2) THEN 1 ELSE 0 END) FROM big",
    )[0]
    assert got[:9] == (
        count,
        str(n_sum),
        n_min,
        n_max,
        label_chars,
        ratio_sum,
        created_min,
        created_max,
        created_distinct,
    )
    # amounts are x % 1e6 / 100: the exact decimal sum is known in closed form
    expected_amount = (
        sum(range(1_000_000)) // 100
    )  # cents of 0..999999 -> 4999995000.00 (x=1e6 gives 0)
    assert got[9] == f"{expected_amount}.{sum(range(1_000_000)) % 100:02d}"
    assert got[10:] == (ROWS, ROWS)
