"""Many small tables: does a run's time grow with its tables, or with their square?

Schemas of hundreds or thousands of tables are common (one table per tenant, ERP
schemas); each table costs a handful of statements however few its rows. For each
``--tables`` count this builds a SQLite file of that many tables (an integer key, two
text columns, a REAL, a clock default and an index each; ``--rows`` rows apiece), runs
``arrowferry migrate`` (the CLI, a fresh process) into a fresh database of the bench
server, checks every value with ``arrowferry.verify`` (not timed), and, with pgloader on
PATH, runs pgloader the same way. It prints a table and writes
``results/many_tables.json``: seconds, milliseconds per table, and the per-table cost at
each size against the smallest (1.0 is linear).

Usage::

    python benchmarks/many_tables.py --tables 100,300,1000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import pg  # noqa: E402
from harness.report import machine_info  # noqa: E402
from harness.tools import pgloader_url  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default="100,300,1000", help="comma-separated counts")
    parser.add_argument("--rows", type=int, default=20, help="rows per table")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method and count")
    parser.add_argument("--server", choices=pg.SERVER_CONFIGS, default="bulk")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "many_tables.json")
    return parser.parse_args(argv)


def build(path: Path, tables: int, rows: int) -> Path:
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    for i in range(tables):
        conn.execute(
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, "
            "price REAL, created DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        conn.execute(f"CREATE INDEX t{i}_name ON t{i} (name)")
        conn.executemany(
            f"INSERT INTO t{i} (name, note, price, created) VALUES (?, ?, ?, ?)",
            [
                (f"name {i}.{j}", None if j % 3 else f"note {j}", j * 0.25, "2024-01-02 03:04:05")
                for j in range(rows)
            ],
        )
    conn.commit()
    conn.close()
    partial.rename(path)
    return path


def arrowferry_run(source: Path, url: str) -> float:
    argv = [sys.executable, "-m", "arrowferry", "migrate", str(source), url, "--no-progress"]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"arrowferry failed:\n{done.stderr[-2000:]}")
    import arrowferry as af

    report = af.verify(source, url)  # every value, not timed
    if not report.ok:
        raise SystemExit(f"verify found differences after arrowferry: {report}")
    return seconds


def pgloader_run(source: Path, url: str, work: Path) -> float:
    load = work / "many.load"
    load.write_text(f"LOAD DATABASE\n FROM sqlite://{source}\n INTO {pgloader_url(url)}\n;\n")
    started = time.perf_counter()
    done = subprocess.run(["pgloader", str(load)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pgloader failed:\n{done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(c) for c in args.tables.split(",")]
    admin = pg.server_url(config=args.server)
    cache = HERE / ".cache"
    cache.mkdir(exist_ok=True)
    methods = ["arrowferry"] + (["pgloader"] if shutil.which("pgloader") else [])
    results: dict[str, Any] = {"sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            source = build(cache / f"many-t{count}-r{args.rows}.db", count, args.rows)
            runs: dict[str, list[float]] = {m: [] for m in methods}
            for n in range(args.repeat):
                for method in methods:  # alternated, so a slow moment hits both
                    with pg.fresh_database(admin, f"many_{n}") as url:
                        if method == "arrowferry":
                            runs[method].append(arrowferry_run(source, url))
                        else:
                            runs[method].append(pgloader_run(source, url, Path(tmp)))
                print(
                    f"[many_tables] {count} tables, run {n + 1}: "
                    + ", ".join(f"{m} {runs[m][-1]:.2f} s" for m in methods),
                    flush=True,
                )
            size = {"tables": count, "rows_per_table": args.rows}
            for method, seconds in runs.items():
                size[method] = {
                    "median_s": statistics.median(seconds),
                    "runs_s": seconds,
                    "ms_per_table": 1000 * statistics.median(seconds) / count,
                }
            results["sizes"].append(size)
    base = results["sizes"][0]["arrowferry"]["ms_per_table"]
    print()
    print(
        "| tables | arrowferry s (range) | ms/table | x linear |"
        + (" pgloader s | pgloader / arrowferry |" if "pgloader" in methods else "")
    )
    print("|---:|---:|---:|---:|" + ("---:|---:|" if "pgloader" in methods else ""))
    for size in results["sizes"]:
        a = size["arrowferry"]
        size["arrowferry"]["x_linear"] = a["ms_per_table"] / base
        line = (
            f"| {size['tables']:,} | {a['median_s']:.2f} ({min(a['runs_s']):.2f}-{max(a['runs_s']):.2f})"
            f" | {a['ms_per_table']:.1f} | {a['x_linear']:.2f} |"
        )
        if "pgloader" in size:
            p = size["pgloader"]
            line += f" {p['median_s']:.2f} | {p['median_s'] / a['median_s']:.2f} |"
        print(line)
    results.update(
        {
            "machine": machine_info(),
            "server": args.server,
            "load_at_start": os.getloadavg()[0],
            "methods": methods,
        }
    )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
