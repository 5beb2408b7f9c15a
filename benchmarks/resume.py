"""Benchmark ``migrate --resume``: a run killed half way, resumed, against a fresh run.

For each direction (SQLite -> PostgreSQL, PostgreSQL -> SQLite) on the generated app
database (``gen_appdb.py``): a fresh run is timed; a second run into an empty target is
killed with SIGKILL at ``--kill-at`` of the fresh run's time, what its state says was
committed is noted, and ``migrate --resume`` is timed finishing it. The resumed target
is checked against the fresh one, table by table (rows and a digest of every row,
computed by the database). Every run is the CLI in a process of its own, timed from
start to exit (Python's start-up included). Prints a table and writes
``results/resume.json``.

Usage::

    python benchmarks/resume.py --rows 2200000
    python benchmarks/resume.py --rows 220000 --direction sqlite-to-postgresql
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
from harness import pg  # noqa: E402
from harness.runner import compile_package, git_state, log, source_db  # noqa: E402

DIRECTIONS = ("sqlite-to-postgresql", "postgresql-to-sqlite")
TABLES = ("users", "events")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the fresh run")
    parser.add_argument("--direction", choices=[*DIRECTIONS, "both"], default="both")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "resume.json")
    return parser.parse_args(argv)


def cli(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "arrowferry", "migrate", *args, "--quiet"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = cli(args, cwd)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"arrowferry migrate {' '.join(args)} failed: {err[-2000:]}")
    return time.perf_counter() - start


def killed(args: list[str], cwd: Path, after: float) -> float:
    start = time.perf_counter()
    proc = cli(args, cwd)
    try:
        proc.wait(timeout=after)
        raise SystemExit("the run ended before the kill: lower --kill-at")
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    return time.perf_counter() - start


def committed(records: list[tuple[str, str, int, str]], rows: dict[str, int]) -> dict[str, Any]:
    """What the killed run's state says: complete tables, and rows in committed pieces."""
    pieces: dict[str, int] = {}
    done_rows = 0
    for kind, name, _piece, body in records:
        if kind == "load":
            pieces[name] = len(json.loads(body)["pieces"])
        if kind == "piece":
            done_rows += int(json.loads(body)["rows"])
    finished = sum(1 for r in records if r[0] == "finished")
    return {
        "rows_committed": done_rows,
        "rows_committed_share": round(done_rows / max(1, sum(rows.values())), 3),
        "pieces": {t: n for t, n in pieces.items()},
        "pieces_committed": {t: sum(1 for r in records if r[:2] == ("piece", t)) for t in pieces},
        "finishing_statements_done": finished,
    }


# --- each direction ------------------------------------------------------------------------


def _database(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg.with_database(admin, name)


def _pg_digest(url: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(url) as conn:
        return {
            t: tuple(  # type: ignore[misc]
                conn.execute(
                    f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {t} t"
                ).fetchone()
            )
            for t in TABLES
        }


def _sqlite_same(a: Path, b: Path) -> bool:
    conn = sqlite3.connect(a)
    conn.execute("ATTACH ? AS b", (str(b),))
    try:
        for t in TABLES:
            for x, y in (("main", "b"), ("b", "main")):
                extra = conn.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {x}.{t} EXCEPT SELECT * FROM {y}.{t})"
                ).fetchone()[0]
                if extra:
                    return False
            counts = [
                conn.execute(f"SELECT count(*) FROM {s}.{t}").fetchone()[0] for s in ("main", "b")
            ]
            if counts[0] != counts[1]:
                return False
        return True
    finally:
        conn.close()


def into_postgresql(
    source: Path, admin: str, kill_at: float, work: Path, rows: dict[str, int]
) -> dict[str, Any]:
    fresh_url = _database(admin, "afbench_resume_fresh")
    fresh = timed([str(source), fresh_url], work)
    log(f"into PostgreSQL: fresh run {fresh:.2f} s")
    url = _database(admin, "afbench_resume_killed")
    at = killed([str(source), url], work, kill_at * fresh)
    with psycopg.connect(url) as conn:
        records = conn.execute(
            "SELECT kind, name, piece, body FROM arrowferry_state.journal"
        ).fetchall()
    state = committed(records, rows)
    log(
        f"into PostgreSQL: killed at {at:.2f} s; {state['rows_committed_share']:.0%} of the rows committed"
    )
    resumed = timed([str(source), url, "--resume"], work)
    same = _pg_digest(fresh_url) == _pg_digest(url)
    log(f"into PostgreSQL: resumed in {resumed:.2f} s; same as the fresh run: {same}")
    for name in ("afbench_resume_fresh", "afbench_resume_killed"):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"fresh_s": fresh, "killed_at_s": at, "resume_s": resumed, "same": same, **state}


def into_sqlite(
    source: Path, admin: str, kill_at: float, work: Path, rows: dict[str, int]
) -> dict[str, Any]:
    src_url = _database(admin, "afbench_resume_source")
    log("into SQLite: loading the source database into PostgreSQL")
    timed([str(source), src_url], work)
    fresh_file = work / "fresh.db"
    fresh = timed([src_url, str(fresh_file)], work)
    log(f"into SQLite: fresh run {fresh:.2f} s")
    out = work / "resumed.db"
    at = killed([src_url, str(out)], work, kill_at * fresh)
    conn = sqlite3.connect(str(out) + ".arrowferry-partial")  # rolls back the killed transaction
    records = conn.execute('SELECT kind, name, piece, body FROM "__arrowferry_state"').fetchall()
    conn.close()
    state = committed(records, rows)
    log(
        f"into SQLite: killed at {at:.2f} s; {state['rows_committed_share']:.0%} of the rows committed"
    )
    resumed = timed([src_url, str(out), "--resume"], work)
    same = _sqlite_same(fresh_file, out)
    log(f"into SQLite: resumed in {resumed:.2f} s; same as the fresh run: {same}")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "afbench_resume_source" WITH (FORCE)')
    return {"fresh_s": fresh, "killed_at_s": at, "resume_s": resumed, "same": same, **state}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    source = source_db(args.cache_dir, args.rows, args.seed)
    with sqlite3.connect(source) as conn:
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    admin = pg.server_url()
    compile_package()
    directions = DIRECTIONS if args.direction == "both" else (args.direction,)
    runs = {
        "sqlite-to-postgresql": into_postgresql,
        "postgresql-to-sqlite": into_sqlite,
    }
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="afbench-resume-") as folder:
        for direction in directions:
            results[direction] = runs[direction](source, admin, args.kill_at, Path(folder), rows)
    print(f"\n{args.rows:,} rows, killed at {args.kill_at:.0%} of the fresh run, then --resume\n")
    print(
        "| direction | fresh s | killed at s | rows committed | resume s | resume / fresh | same |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for direction, r in results.items():
        ratio = r["resume_s"] / r["fresh_s"]
        r["resume_over_fresh"] = round(ratio, 3)
        print(
            f"| {direction} | {r['fresh_s']:.2f} | {r['killed_at_s']:.2f} | "
            f"{r['rows_committed_share']:.0%} | {r['resume_s']:.2f} | {ratio:.2f} | "
            f"{'ok' if r['same'] else 'DIFFERS'} |"
        )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "rows": args.rows,
        "seed": args.seed,
        "kill_at": args.kill_at,
        "git": git_state(),
        "results": results,
    }
    args.results.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
