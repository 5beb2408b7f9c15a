"""Benchmark ``migrate --incremental``: runs after little or no change, against a full run.

For each direction (SQLite -> PostgreSQL, PostgreSQL -> SQLite) on the generated app
database (``gen_appdb.py``, 2.2 M rows), given an ``updated_at`` cursor column (the
generator's rows get their creation time, indexed, as an application keeping a sync
cursor would): a full migration given ``--cursor updated_at`` (so it records the marks)
is timed; then (a) incremental runs with no change in the source, without and with
``--detect-deletes``; then 1% of the rows are updated (their cursor moved), 1% inserted and
0.1% deleted, and (b) an incremental run with ``--detect-deletes`` brings the target in
step, which is then checked against the source (counts and sums of every table). Each
round is repeated ``--repeat`` times; each run is the CLI in a process of its own,
timed from start to exit (Python's start-up and imports included: a cron job's figure)
and inside the process (the ``migrate`` call alone, its modules imported before the clock
starts: what a notebook or a scheduler's long-lived worker pays), its peak RSS read from
the worker's own VmHWM (never ``ru_maxrss``, which a child inherits from its parent
across exec). The changed run's time is split by the result's own per-table seconds:
finding and deleting the keys that left the source, and the merge (the staged rows into
place and the commit: the server's work that any tool applying the same changes pays).
Ratios are against the full migration of the same round. Prints a table, writes
``results/incremental.json``.

Usage::

    python benchmarks/incremental.py --rows 2200000 --cache-dir /work/main/benchmarks/.cache
    python benchmarks/incremental.py --rows 220000 --direction sqlite-to-postgresql --repeat 1
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

DIRECTIONS = ("sqlite-to-postgresql", "postgresql-to-sqlite")
TABLES = ("users", "events")
CHANGED, DELETED = 0.01, 0.001  # the share of rows updated (and inserted), and deleted
TARGETS = {"no_change": 0.05, "changed": 0.15}
KINDS = ("full", "no_change_plain", "no_change", "changed")
RSS_LIMIT_MB = 300.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from harness.runner import wait_quiet_option

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--direction", choices=[*DIRECTIONS, "both"], default="both")
    parser.add_argument(
        "--changes",
        choices=["scattered", "recent"],
        default="scattered",
        help="which rows change: every 100th (scattered over every page) or the newest 1%%",
    )
    wait_quiet_option(parser)
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.results is None:
        name = "incremental.json" if args.changes == "scattered" else "incremental-recent.json"
        args.results = HERE / "results" / name
    return args


# --- one run: the CLI in a process of its own --------------------------------------------

WORKER = """
import io, json, sys, time
from contextlib import redirect_stdout
from pathlib import Path
begun = time.perf_counter()
# the data path's modules, imported before the clock starts: the call's figure is what a
# notebook or a scheduler's long-lived worker pays (the wall figure adds them back)
import arrowferry.api, arrowferry.targets, arrowferry.transfer.incremental
import arrowferry.dialects.sqlite, arrowferry.dialects.postgresql
from arrowferry.cli import main
imports = time.perf_counter() - begun
start = time.perf_counter()
code = 0
printed = io.StringIO()
try:
    with redirect_stdout(printed):
        main(sys.argv[2:], standalone_mode=False)
except SystemExit as err:
    code = err.code or 0
seconds = time.perf_counter() - start
hwm = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines()
           if l.startswith("VmHWM:"))
parts = {}
for done in json.loads(printed.getvalue()).get("incremental", {}).values():
    for part, s in done.get("seconds", {}).items():
        parts[part] = parts.get(part, 0.0) + s
Path(sys.argv[1]).write_text(json.dumps({"call_s": seconds, "imports_s": imports,
                                         "peak_rss_mb": hwm / 1024, "code": code,
                                         "parts_s": parts}))
"""


def run(args: list[str], work: Path) -> dict[str, Any]:
    """``arrowferry migrate ARGS`` in a fresh process: wall and in-process seconds, peak RSS."""
    out = work / "run.json"
    out.unlink(missing_ok=True)
    argv = [sys.executable, "-c", WORKER, str(out), "migrate", *args, "--quiet", "--json"]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"arrowferry migrate {' '.join(args)} failed: {done.stderr[-3000:]}")
    got = json.loads(out.read_text())
    if got["code"]:
        raise SystemExit(f"arrowferry migrate {' '.join(args)} exited {got['code']}")
    return {
        "wall_s": wall,
        "call_s": got["call_s"],
        "imports_s": got["imports_s"],
        "peak_rss_mb": round(got["peak_rss_mb"], 1),
        # summed over the tables: "deletes" (finding and deleting the keys that left the
        # source) and "merge" (the staged rows into place and the commit: the server's own
        # work, which any tool applying the same changes pays)
        "parts_s": got["parts_s"],
    }


# --- the source and its changes -------------------------------------------------------------


def cursor_source(cache: Path, rows: int, seed: int) -> Path:
    """The app database with an indexed ``updated_at`` cursor, made once and cached."""
    from harness.runner import source_db

    base = source_db(cache, rows, seed)
    path = base.with_name(base.stem + "-cursor.db")
    if path.exists():
        return path
    partial = path.with_name(path.name + ".partial")
    shutil.copyfile(base, partial)
    with sqlite3.connect(partial) as conn:
        for table, since in (("users", "created_at"), ("events", "happened_at")):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN updated_at TEXT")
            conn.execute(f"UPDATE {table} SET updated_at = {since}")
            conn.execute(f"CREATE INDEX {table}_updated_at ON {table} (updated_at)")
    partial.rename(path)
    return path


def change_statements(
    counts: dict[str, int], highs: dict[str, int], recent: bool = False
) -> list[str]:
    """1% of each table's rows updated (cursor moved), 1% inserted, 0.1% of all rows
    deleted (events: no user loses rows another table points at). The same text runs in
    SQLite and PostgreSQL; rows are picked by key arithmetic, so both pick the same.

    ``recent``: the updated and deleted rows are the newest ones (the last 1% of each
    table's keys; every other key of the last 0.2% of events deleted), as an application
    mostly touches its recent rows; otherwise every 100th row, scattered over every page
    of the table (the worst case for the server applying them)."""
    stamp = "'2099-01-01 00:00:00.000'"
    users, events = counts["users"], counts["events"]
    out = []
    step = int(1 / CHANGED)

    def picked(n: int, rest: int) -> str:
        return f"id > {n - n // step}" if recent else f"id % {step} = {rest}"

    out.append(
        f"UPDATE users SET name = 'renamed ' || id, updated_at = {stamp} WHERE {picked(users, 3)}"
    )
    out.append(
        f"UPDATE events SET score = 0.5, kind = 'changed', updated_at = {stamp} "
        f"WHERE {picked(events, 5)}"
    )
    new_users = users // step
    out.append(
        "INSERT INTO users (id, email, name, is_active, created_at, balance, updated_at) "
        f"SELECT id + {highs['users']}, 'new' || id || '@example.com', 'new', is_active, "
        f"created_at, balance, {stamp} FROM users WHERE id <= {new_users}"
    )
    out.append(
        "INSERT INTO events (id, user_id, kind, payload, tags, score, happened_at, amount, "
        f"flag, updated_at) SELECT id + {highs['events']}, user_id, kind, payload, tags, score, "
        f"happened_at, amount, flag, {stamp} FROM events WHERE id <= {events // step}"
    )
    gone = int((users + events) * DELETED)
    if recent:
        low = highs["events"] - 2 * gone
        out.append(
            f"DELETE FROM events WHERE id > {low} AND id % 2 = 0 AND id <= {highs['events']}"
        )
    else:
        every = max(2, events // gone)
        out.append(f"DELETE FROM events WHERE id % {every} = 7 AND id <= {highs['events']}")
    return out


def sqlite_facts(path: Path) -> dict[str, list[Any]]:
    with sqlite3.connect(path) as conn:
        return {
            t: list(
                conn.execute(
                    f"SELECT count(*), sum(id), max(updated_at), "
                    f"sum(CASE WHEN updated_at >= '2099' THEN id END) FROM {t}"
                ).fetchone()
            )
            for t in TABLES
        }


def pg_facts(url: str) -> dict[str, list[Any]]:
    import psycopg

    with psycopg.connect(url) as conn:
        out = {}
        for t in TABLES:
            row = conn.execute(
                f"SELECT count(*), sum(id), max(updated_at)::text, "
                f"sum(CASE WHEN updated_at >= '2099' THEN id END) FROM {t}"
            ).fetchone()
            assert row is not None
            out[t] = [int(row[0]), int(row[1]), str(row[2]), int(row[3] or 0) or None]
        return out


def _database(admin: str, name: str) -> str:
    import psycopg
    from harness import pg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg.with_database(admin, name)


def _drop(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _highs(facts: dict[str, list[Any]], counts: dict[str, int]) -> dict[str, int]:
    return {t: counts[t] for t in TABLES}  # the generator's keys are 1..count


INCREMENTAL = ["--incremental", "--cursor", "updated_at"]


def _round(
    full: list[str], again: list[str], change: Any, same: Any, work: Path, log: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"full": run(full, work)}
    log(f"  full {out['full']['wall_s']:.2f} s")
    out["no_change_plain"] = run(again + INCREMENTAL, work)
    log(f"  no change, without --detect-deletes {out['no_change_plain']['wall_s']:.2f} s")
    out["no_change"] = run(again + INCREMENTAL + ["--detect-deletes"], work)
    log(f"  no change {out['no_change']['wall_s']:.2f} s")
    change()
    out["changed"] = run(again + INCREMENTAL + ["--detect-deletes"], work)
    log(f"  changed {out['changed']['wall_s']:.2f} s")
    out["target_equals_source"] = same()
    return out


def into_postgresql(
    source: Path, admin: str, work: Path, counts: dict[str, int], log: Any, recent: bool
) -> dict[str, Any]:
    src = work / "src.db"
    shutil.copyfile(source, src)
    url = _database(admin, "afbench_incremental_target")
    highs = _highs({}, counts)

    def change() -> None:
        with sqlite3.connect(src) as conn:
            for statement in change_statements(counts, highs, recent):
                conn.execute(statement)

    def same() -> bool:
        return sqlite_facts(src) == pg_facts(url)

    try:
        return _round(
            [str(src), url, "--cursor", "updated_at"], [str(src), url], change, same, work, log
        )
    finally:
        _drop(admin, "afbench_incremental_target")
        src.unlink()


def into_sqlite(
    source: Path, admin: str, work: Path, counts: dict[str, int], log: Any, recent: bool
) -> dict[str, Any]:
    import psycopg

    src_url = _database(admin, "afbench_incremental_source")
    run([str(source), src_url], work)  # the source, loaded from the same file
    out = work / "target.db"
    highs = _highs({}, counts)

    def change() -> None:
        with psycopg.connect(src_url) as conn:
            for statement in change_statements(counts, highs, recent):
                conn.execute(statement)

    def same() -> bool:
        return sqlite_facts(out) == pg_facts(src_url)

    try:
        return _round(
            [src_url, str(out), "--cursor", "updated_at"],
            [src_url, str(out)],
            change,
            same,
            work,
            log,
        )
    finally:
        _drop(admin, "afbench_incremental_source")
        for leftover in work.glob("target.db*"):
            leftover.unlink()


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds, each ratio taken within its round."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        for clock in ("wall_s", "call_s"):
            seconds = [r[kind][clock] for r in rounds]
            out[f"{kind}_{clock}"] = round(statistics.median(seconds), 3)
            out[f"{kind}_{clock[:-2]}_range_s"] = [round(min(seconds), 3), round(max(seconds), 3)]
        out[f"{kind}_peak_rss_mb"] = max(r[kind]["peak_rss_mb"] for r in rounds)
    for kind in KINDS[1:]:
        for clock in ("wall_s", "call_s"):
            ratios = [r[kind][clock] / r["full"][clock] for r in rounds]
            out[f"{kind}_over_full_{clock[:-2]}"] = round(statistics.median(ratios), 4)
    for part in ("deletes", "merge"):
        seconds = [r["changed"]["parts_s"].get(part, 0.0) for r in rounds]
        out[f"changed_{part}_s"] = round(statistics.median(seconds), 3)
    out["imports_s"] = round(statistics.median(r["full"]["imports_s"] for r in rounds), 3)
    out["target_equals_source"] = all(r["target_equals_source"] for r in rounds)
    return out


def main(argv: list[str] | None = None) -> None:
    from harness import pg
    from harness.runner import git_state, log, wait_for_quiet

    args = parse_args(argv)
    source = cursor_source(args.cache_dir, args.rows, args.seed)
    with sqlite3.connect(source) as conn:
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    admin = pg.server_url()
    warning, waited = wait_for_quiet(args.wait_quiet)
    if warning:
        log(f"warning: {warning}")
    directions = DIRECTIONS if args.direction == "both" else (args.direction,)
    runs = {"sqlite-to-postgresql": into_postgresql, "postgresql-to-sqlite": into_sqlite}
    results: dict[str, Any] = {}
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="afbench-incremental-") as folder:
        for direction in directions:
            rounds = []
            for i in range(args.repeat):
                log(f"{direction}: round {i + 1} of {args.repeat}")
                rounds.append(
                    runs[direction](
                        source, admin, Path(folder), counts, log, args.changes == "recent"
                    )
                )
                load.append(os.getloadavg())
            results[direction] = {"summary": summarize(rounds), "rounds": rounds}
    print(
        f"\n{sum(counts.values()):,} rows; (a) no change, (b) {CHANGED:.0%} updated, "
        f"{CHANGED:.0%} inserted, {DELETED:.1%} deleted ({args.changes} rows), --detect-deletes; "
        f"medians of {args.repeat}\n"
    )
    print(
        "| direction | full s (range) | no change s (range): ratio wall / call "
        "| no change, --detect-deletes | changed, --detect-deletes | peak RSS MB "
        "| target = source |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for direction, r in results.items():
        s = r["summary"]
        rss = max(s[f"{k}_peak_rss_mb"] for k in KINDS[1:])

        def cell(k: str, s: dict[str, Any] = s) -> str:
            low, high = s[f"{k}_wall_range_s"]
            return f"{s[f'{k}_wall_s']:.2f} ({low:.2f}-{high:.2f})"

        cells = [
            f"{cell(k)}: {s[f'{k}_over_full_wall']:.1%} / {s[f'{k}_over_full_call']:.1%}"
            for k in KINDS[1:]
        ]
        print(
            f"| {direction} | {cell('full')} | {' | '.join(cells)} | "
            f"{rss:.0f} (full {s['full_peak_rss_mb']:.0f}) | "
            f"{'ok' if s['target_equals_source'] else 'DIFFERS'} |"
        )
    print(
        "\nwall: the CLI from start to exit; call: the migrate call, modules imported "
        "(a notebook's or a long-lived worker's figure)"
    )
    for direction, r in results.items():
        s = r["summary"]
        print(
            f"{direction}: changed run's deletes {s['changed_deletes_s']:.2f} s, merge "
            f"{s['changed_merge_s']:.2f} s of {s['changed_call_s']:.2f} s; imports "
            f"{s['imports_s']:.2f} s"
        )
    print(f"\nload average (1 min) over the runs: {', '.join(f'{x[0]:.2f}' for x in load)}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "rows": sum(counts.values()),
        "changes": args.changes,
        "seed": args.seed,
        "repeat": args.repeat,
        "targets": {**TARGETS, "peak_rss_mb": RSS_LIMIT_MB},
        "load_average": load,
        "busy_at_start": warning,
        "waited_for_quiet_s": waited,
        "git": git_state(),
        "results": results,
    }
    args.results.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
