"""The least time two cores need for a SQLite -> PostgreSQL migration, from what each
piece of its work costs in CPU, measured one piece at a time in one run.

A migration on one machine pays the client's work (ADBC's SQLite read, the conversion,
ADBC's COPY encoding) and the server's (parsing the COPY, then the indexes, keys and
checks), all on the same cores. However well the two overlap, the run cannot take less
than their sum divided by the cores. This script measures each piece on its own (the
client's with ``time.process_time``, the server's as the postmaster's and its children's
own CPU from ``/proc``, reaped backends included, so other work on the machine does not
count as the server's), in the cheapest form arrowferry could run it (every
table created and loaded in one transaction, so its COPY skips WAL; finishing statements
one after another, with no VACUUM), and sets the resulting floor beside the targets of
the performance issue, which are ratios to the COPY baselines measured in the same run.
Prints a table and writes ``results/floor.json``.

Usage::

    python benchmarks/floor.py --rows 2200000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import pg, report  # noqa: E402
from harness.methods import Job, copy_limit, copy_then_index  # noqa: E402
from harness.runner import log, source_db, wait_for_quiet, wait_quiet_option  # noqa: E402

TARGET_FULL = 0.8  # x COPY-then-index, the whole migration
TARGET_DATA = 1.0  # x COPY limit, the data phase


@dataclass
class Meter:
    """Wall time, this process's CPU and the server's CPU over a block."""

    wall: float = 0.0
    client: float = 0.0
    server: float = 0.0  # the postmaster's and its children's own CPU, nothing else's


@contextmanager
def metered(postmaster: int | None = None) -> Iterator[Meter]:
    meter = Meter()
    wall, cpu = time.perf_counter(), time.process_time()
    server = pg.server_cpu(postmaster) if postmaster is not None else 0.0
    yield meter
    meter.wall = time.perf_counter() - wall
    meter.client = time.process_time() - cpu
    if postmaster is not None:
        meter.server = pg.server_cpu(postmaster) - server


@dataclass
class Run:
    """One repetition: every piece, in seconds."""

    copy_limit: float = 0.0
    copy_then_index: float = 0.0
    read_cpu: float = 0.0
    convert_cpu: float = 0.0
    encode_cpu: float = 0.0
    copy_server_cpu: float = 0.0
    finish_server_cpu: float = 0.0
    finish_wall: float = 0.0
    per_table: dict[str, dict[str, float]] = field(default_factory=dict)


def _baseline(method: Callable[[Job], Any], job: Job) -> float:
    return float(method(job).seconds)


def _client_pieces(source: Path, url: str, run: Run) -> tuple[Any, dict[str, Any]]:
    """Read and convert every table as a default run does; the converted batches."""
    from arrowferry.api import Migration
    from arrowferry.dialects.sqlite.source import SqliteSource
    from arrowferry.transfer.transform import Transformer

    plan = Migration(f"sqlite:///{source}", url, dry_run=True).plan()
    options = Migration(f"sqlite:///{source}", url).options
    converted: dict[str, Any] = {}
    reader = SqliteSource(source, options.batch_size, options.batch_bytes)
    for table in plan.tables:
        rows = reader.batch_rows(table)
        with metered() as read:
            batches = list(reader.batches(table, None, rows))
        transform = Transformer(table, "reject", source=source)
        with metered() as convert:
            out = [transform(b) for b in batches]
        del batches
        if transform.rejected:
            raise SystemExit(f"{table.name}: {len(transform.rejected)} rows rejected")
        converted[table.name] = (table, transform.schema, out)
        run.read_cpu += read.client
        run.convert_cpu += convert.client
        run.per_table[table.name] = {
            "rows": table.rows,
            "read_cpu_s": round(read.client, 3),
            "convert_cpu_s": round(convert.client, 3),
        }
    return plan, converted


def _load(url: str, plan: Any, converted: dict[str, Any], run: Run, postmaster: int) -> None:
    """Each table created and COPYed in one transaction, then the finishing statements."""
    from arrowferry.dialects import postgresql as dialect
    from arrowferry.dialects.postgresql.write import write_table
    from arrowferry.urls import parse_url

    endpoint = parse_url(url)
    conn = dialect.connect(endpoint, autocommit=False)
    try:
        for name, (table, schema, batches) in converted.items():
            with metered(postmaster) as copy:
                dialect.execute(conn, table.create_sql)
                write_table(conn, table.schema, table.name, schema, iter(batches))
                conn.commit()
            run.encode_cpu += copy.client
            run.copy_server_cpu += copy.server
            run.per_table[name].update(
                encode_cpu_s=round(copy.client, 3), copy_server_cpu_s=round(copy.server, 3)
            )
    finally:
        conn.close()
    # VACUUM is left out: it pays for itself in a real run (faster index builds and
    # foreign-key check), but the floor is the least work that builds the same thing
    statements = [s for s in plan.finish if s.kind not in {"vacuum", "analyze"}]
    conn = dialect.connect(endpoint, autocommit=True)
    try:
        # parallel index builds spend more CPU in all to finish sooner: the floor counts
        # the least CPU, one process per build
        dialect.execute(conn, "SET max_parallel_maintenance_workers = 0")
        with metered(postmaster) as finish:
            for statement in statements:
                dialect.execute(conn, statement.sql)
    finally:
        conn.close()
    run.finish_server_cpu = finish.server
    run.finish_wall = finish.wall


def one_run(
    source: Path, admin_url: str, copy_dir: Path, work: Path, n: int, postmaster: int
) -> Run:
    run = Run()
    for name, method in (("copy_limit", copy_limit), ("copy_then_index", copy_then_index)):
        with pg.fresh_database(admin_url, f"floor_{name}") as url:
            job = Job(name, str(source), url, str(copy_dir), str(work), 0)
            setattr(run, name, _baseline(method, job))
    with pg.fresh_database(admin_url, "floor_pieces") as url:
        plan, converted = _client_pieces(source, url, run)
        _load(url, plan, converted, run, postmaster)
    log(
        f"run {n}: COPY limit {run.copy_limit:.2f} s, COPY-then-index {run.copy_then_index:.2f} s; "
        f"client CPU read {run.read_cpu:.2f} + convert {run.convert_cpu:.2f} + encode "
        f"{run.encode_cpu:.2f}; server CPU COPY {run.copy_server_cpu:.2f} + finishing "
        f"{run.finish_server_cpu:.2f}"
    )
    return run


def summarise(runs: list[Run], cores: int) -> dict[str, Any]:
    def median(name: str) -> float:
        return statistics.median(getattr(r, name) for r in runs)

    pieces = {
        name: round(median(name), 3)
        for name in (
            "copy_limit",
            "copy_then_index",
            "read_cpu",
            "convert_cpu",
            "encode_cpu",
            "copy_server_cpu",
            "finish_server_cpu",
            "finish_wall",
        )
    }
    client = pieces["read_cpu"] + pieces["convert_cpu"] + pieces["encode_cpu"]
    data_floor = (client + pieces["copy_server_cpu"]) / cores
    full_floor = (client + pieces["copy_server_cpu"] + pieces["finish_server_cpu"]) / cores
    return {
        "pieces": pieces,
        "client_cpu_s": round(client, 3),
        "data_floor_s": round(data_floor, 3),
        "full_floor_s": round(full_floor, 3),
        "data_target_s": round(TARGET_DATA * pieces["copy_limit"], 3),
        "full_target_s": round(TARGET_FULL * pieces["copy_then_index"], 3),
        "data_floor_x_copy_limit": round(data_floor / pieces["copy_limit"], 3),
        "full_floor_x_copy_then_index": round(full_floor / pieces["copy_then_index"], 3),
    }


def table_lines(summary: dict[str, Any], cores: int) -> list[str]:
    p = summary["pieces"]
    rows = [
        ("COPY limit (psql, wall)", p["copy_limit"], ""),
        ("COPY-then-index (psql, wall)", p["copy_then_index"], ""),
        ("client: ADBC SQLite read (CPU)", p["read_cpu"], ""),
        ("client: conversion (CPU)", p["convert_cpu"], ""),
        ("client: ADBC COPY encoding (CPU)", p["encode_cpu"], ""),
        ("server: COPY, no WAL (CPU)", p["copy_server_cpu"], ""),
        ("server: keys, indexes, FK, no VACUUM (CPU)", p["finish_server_cpu"], ""),
        (
            f"data phase floor = (client + COPY) / {cores} cores",
            summary["data_floor_s"],
            f"{summary['data_floor_x_copy_limit']:.2f}x COPY limit "
            f"(target {TARGET_DATA}x = {summary['data_target_s']:.2f} s)",
        ),
        (
            f"migration floor = all CPU / {cores} cores",
            summary["full_floor_s"],
            f"{summary['full_floor_x_copy_then_index']:.2f}x COPY-then-index "
            f"(target {TARGET_FULL}x = {summary['full_target_s']:.2f} s)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'piece':<{width}}  {'seconds':>8}  note", "-" * (width + 40)]
    lines += [f"{name:<{width}}  {value:>8.2f}  {note}" for name, value, note in rows]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="runs (the median is taken)")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "floor.json")
    parser.add_argument("--pgdata", type=Path, default=pg.DEFAULT_PGDATA)
    wait_quiet_option(parser)
    args = parser.parse_args(argv)
    source = source_db(args.cache_dir, args.rows, args.seed).resolve()
    admin_url = pg.server_url(args.pgdata)
    copy_dir = (args.cache_dir / f"{source.stem}-pgcopy").resolve()
    pg.materialise_copy_files(source, admin_url, copy_dir)
    warning, waited = wait_for_quiet(args.wait_quiet)
    if warning:
        log(f"warning: {warning}; the timings are inflated (the CPU figures are per process)")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as work:
        postmaster = pg.postmaster_pid(admin_url)
        runs = [
            one_run(source, admin_url, copy_dir, Path(work), n + 1, postmaster)
            for n in range(args.repeat)
        ]
    summary = summarise(runs, cores)
    lines = table_lines(summary, cores)
    print(f"{args.rows:,} rows, {cores} cores, median of {args.repeat}")
    print("\n".join(lines))
    payload = {
        "command": " ".join(["python", "benchmarks/floor.py", *(argv or sys.argv[1:])]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": args.rows,
        "seed": args.seed,
        "repeat": args.repeat,
        "busy_at_start": warning,
        "waited_for_quiet_s": waited,
        "machine": report.machine_info(),
        "server": pg.server_info(admin_url),
        **summary,
        "runs": [vars(r) for r in runs],
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(payload, indent=2) + "\n")
    log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
