"""Benchmark PostgreSQL -> PostgreSQL: arrowferry against pg_dump | pg_restore, in one run.

Loads the generated app database (``gen_appdb.py``, the same ``--rows``/``--seed`` as
``run.py``) once into a source database on the harness's server with
``arrowferry.migrate(sqlite, pg)``, cached there between runs. Then every method runs
``--repeat`` times, round-robin, each run in a worker process copying the source into a
fresh, empty database of the same server. Every copy is compared with its source, value by
value (row counts and per-column digests of every table) and object by object (NOT NULL,
defaults, identity, constraints, indexes, sequences' next values), see
``harness/pgcheck.py``; values with arrowferry's own ``verify`` (``harness/content.py``). Ratios are to ``pg_dump -Fd -j N`` + ``pg_restore -j N`` measured in
the same run. Prints a table and writes ``results/pg_to_pg.json`` and ``.png``.

Usage::

    python benchmarks/pg_to_pg.py --rows 2200000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import checks, content, pg, pgcheck, report  # noqa: E402
from harness.pg_methods import LABELS, METHODS, PgJob  # noqa: E402
from harness.runner import (  # noqa: E402
    command_line,
    git_state,
    log,
    run_context,
    run_worker,
    selected,
    settle,
    source_db,
    wait_for_quiet,
)
from harness.tools import pg_bin_dir, tool_version  # noqa: E402

BASELINE = "pg_dump_dir"
OPTIONAL = tuple(m for m in METHODS if m != BASELINE)
SOURCE_DB = "pg2pg_source"  # afbench_pg2pg_source, kept between runs
TABLES = ("users", "events")
COLUMNS = (("x dump|restore", "x_baseline", 14),)
MAX_RSS_MB = 300  # issue 12: faster than pg_dump | pg_restore at the same parallelism, <= 300 MB


@dataclass
class PgSummary(report.MethodSummary):
    """A method's runs, with the ratio to pg_dump -Fd | pg_restore and the structure
    compared with the source."""

    x_baseline: float | None = None
    snapshot_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_line(
        __doc__.split("\n\n")[0], list(OPTIONAL), "pg_dump -Fd | pg_restore", "pg_to_pg.json"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallelism of every parallel method (-j)"
    )
    parser.add_argument(
        "--fresh-source", action="store_true", help="reload the source database even if cached"
    )
    return settle(parser.parse_args(argv))


def source_marker(sqlite_path: Path) -> str:
    """What the cached source database was made from: the file and arrowferry's version."""
    import arrowferry

    return f"{sqlite_path.name} loaded by arrowferry {arrowferry.__version__}"


def prepare_source(sqlite_path: Path, admin_url: str, fresh: bool) -> tuple[str, dict[str, Any]]:
    """The source database, loaded once with ``arrowferry.migrate()`` and kept on the server
    (its COMMENT says from what) and settled with VACUUM (ANALYZE) and a CHECKPOINT."""
    import psycopg

    dbname = pg.DB_PREFIX + SOURCE_DB
    url = pg.with_database(admin_url, dbname)
    marker = source_marker(sqlite_path)
    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (dbname,),
        ).fetchone()
    setup: dict[str, Any] = {"database": dbname, "made_from": marker}
    if row is not None and row[0] == marker and not fresh:
        log(f"source database {dbname} cached ({marker})")
        setup["cached"] = True
    else:
        import arrowferry

        pg.admin_execute(
            admin_url,
            f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)',
            f'CREATE DATABASE "{dbname}"',
        )
        started = time.perf_counter()
        result = arrowferry.migrate(f"sqlite:///{sqlite_path.resolve()}", url)
        if result.errors:
            raise SystemExit(f"loading the source failed: {result.errors}")
        pg.admin_execute(url, "VACUUM (ANALYZE)", "CHECKPOINT")
        pg.admin_execute(admin_url, f"COMMENT ON DATABASE \"{dbname}\" IS '{marker}'")
        setup["cached"] = False
        setup["load_s"] = round(time.perf_counter() - started, 1)
        log(f"source loaded into {dbname} in {setup['load_s']} s (arrowferry, VACUUM)")
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    setup["postgres_mb"] = round(int(size[0] if size else 0) / 1e6, 1)
    return url, setup


class Bench:
    """One benchmark run: the source, and the per-method results."""

    def __init__(
        self, args: argparse.Namespace, admin_url: str, source_url: str, bin_dir: Path
    ) -> None:
        self.args = args
        self.admin_url = admin_url
        self.source_url = source_url
        self.bin_dir = bin_dir
        self.work_dir = args.cache_dir / "work" / "pg_to_pg"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        names = selected(args.methods, list(OPTIONAL), (BASELINE,))
        self.summaries = {m: PgSummary(m, LABELS[m].format(jobs=args.jobs)) for m in names}
        started = time.perf_counter()
        self.tables = pgcheck.tables(source_url)
        self.snapshot = pgcheck.snapshot(source_url)
        self.types = pgcheck.column_types(source_url)
        log(f"source described in {time.perf_counter() - started:.1f} s")

    def job(self, method: str, url: str) -> PgJob:
        return PgJob(
            method,
            self.source_url,
            url,
            str(self.work_dir.resolve()),
            self.args.jobs,
            str(self.bin_dir),
        )

    def run_once(self, method: str, index: int) -> None:
        summary = self.summaries[method]
        if summary.status != "ok":
            return
        with pg.fresh_database(self.admin_url, f"pg2pg_{method}_{index}") as url:
            summary.load_at_start.append(round(os.getloadavg()[0], 2))
            wal_before = pg.wal_lsn(self.admin_url)
            outcome = run_worker(self.job(method, url), self.args.timeout, "harness.pg_methods")
            wal_mb = (pg.wal_lsn(self.admin_url) - wal_before) / 1e6
            if outcome["status"] != "ok":
                summary.status, summary.reason = outcome["status"], outcome["reason"]
                log(f"{method}: {summary.status}: {summary.reason}")
                return
            summary.seconds.append(float(outcome["seconds"]))
            if outcome.get("data_seconds") is not None:
                summary.data_seconds.append(float(outcome["data_seconds"]))
            summary.peak_rss_mb.append(float(outcome["peak_rss_mb"]))
            summary.wal_mb.append(round(wal_mb, 1))
            summary.note = str(outcome.get("note", ""))
            summary.notes.append(summary.note)
            self.check(summary, url, first=index == 0)
        log(
            f"{method} #{index + 1}: {summary.seconds[-1]:.2f} s, "
            f"{summary.peak_rss_mb[-1]:.0f} MB, WAL {wal_mb:.0f} MB, check {summary.check}"
            + (f" ({summary.note})" if summary.note else "")
        )

    def check(self, summary: PgSummary, url: str, first: bool) -> None:
        """Every run's copy against the source: values, extra tables and structure."""
        problems, seconds = content.differences(self.source_url, url)
        summary.problems += problems
        log(f"{summary.name}: verified in {seconds:.1f} s")
        summary.problems += pgcheck.extra_tables(url, self.tables)
        differences = pgcheck.compare_snapshots(pgcheck.snapshot(url), self.snapshot)
        summary.problems += differences
        if first:
            summary.snapshot_problems = differences
            summary.structure = checks.structure(url)
            summary.types = pgcheck.column_types(url)

    def run(self) -> list[PgSummary]:
        for index in range(self.args.repeat):
            for method in self.summaries:
                self.run_once(method, index)
        return list(self.summaries.values())


def finalise(summaries: list[PgSummary], rows: int, size_mb: float, types: dict[str, str]) -> None:
    """Medians and throughput, the ratio to the baseline, and the types compared with the
    source's (not with a method's)."""
    report.finalise(summaries, rows, size_mb, reference=BASELINE)
    base = next((s.median_s for s in summaries if s.name == BASELINE), None)
    for s in summaries:
        s.type_changes = report.type_changes(s.types, types) if s.types else {}
        if s.median_s is not None and base:
            s.x_baseline = s.median_s / base


def verdict(summaries: list[PgSummary]) -> dict[str, Any]:
    """arrowferry against issue 12's target: faster than the baseline, peak RSS <= 300 MB."""
    s = next((s for s in summaries if s.name == "arrowferry"), None)
    if s is None or s.x_baseline is None:
        reason = "not run" if s is None else f"{s.status}: {s.reason}"
        return {"max_x_baseline": 1.0, "max_rss_mb": MAX_RSS_MB, "met": None, "why": reason}
    rss = max(s.peak_rss_mb)
    return {
        "max_x_baseline": 1.0,
        "max_rss_mb": MAX_RSS_MB,
        "arrowferry_x_baseline": round(s.x_baseline, 3),
        "arrowferry_rss_mb": rss,
        "met": s.x_baseline < 1.0 and rss <= MAX_RSS_MB and s.check.startswith("ok"),
    }


def server_major(admin_url: str) -> int:
    import psycopg

    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sqlite_path = source_db(args.cache_dir, args.rows, args.seed)
    admin_url = pg.server_url(args.pgdata, args.server)
    major = server_major(admin_url)
    bin_dir = pg_bin_dir(major)
    if bin_dir is None:
        raise SystemExit(f"no pg_dump/pg_restore/psql of PostgreSQL {major} found")
    log(f"server {pg.mask(admin_url)} ({args.server}); client tools from {bin_dir}")
    source_url, setup = prepare_source(sqlite_path, admin_url, args.fresh_source)
    bench = Bench(args, admin_url, source_url, bin_dir)
    warning, waited = wait_for_quiet(args.wait_quiet)
    if warning:
        log(f"warning: {warning}")
    started = git_state()
    summaries = bench.run()
    ended = git_state()
    payload = run_context(
        "pg_to_pg.py",
        args,
        sqlite_path,
        admin_url,
        TABLES,
        params={"jobs": args.jobs},
        source_extra=setup,
    )
    payload["busy_at_start"] = warning
    payload["waited_for_quiet_s"] = waited
    payload["git"] = started if started == ended else {"at_start": started, "at_end": ended}
    payload["tools"] = {
        "bin_dir": str(bin_dir),
        "pg_dump": tool_version([str(bin_dir / "pg_dump"), "--version"]),
        "pgcopydb": tool_version(["pgcopydb", "--version"]) or None,
    }
    payload["source_structure"] = bench.snapshot
    rows = sum(payload["source"]["rows"].values())
    size_mb = setup["postgres_mb"]
    finalise(summaries, rows, size_mb, bench.types)
    title = (
        f"{rows:,} rows, {size_mb:.0f} MB PostgreSQL {payload['server']['server_version']} -> "
        f"PostgreSQL (wal_level={payload['server']['wal_level']}), "
        f"{payload['machine']['cores']} cores, -j {args.jobs}, median of {args.repeat}"
        + (" (machine busy: noisy)" if warning else "")
    )
    print(title)
    print("\n".join(report.table_lines(summaries, COLUMNS + report.WAL_COLUMN)))
    payload["target"] = verdict(summaries)
    if payload["target"]["met"] is not None:
        met = "met" if payload["target"]["met"] else "NOT met"
        print(
            f"arrowferry: {payload['target']['arrowferry_x_baseline']:.2f}x pg_dump|pg_restore, "
            f"{payload['target']['arrowferry_rss_mb']:.0f} MB (target < 1x, <= {MAX_RSS_MB} MB): "
            f"{met}"
        )
    report.write_json(args.results, payload, summaries)
    chart_problem = (
        "not asked for"
        if args.no_chart
        else report.write_chart(
            args.results.with_suffix(".png"),
            summaries,
            title.replace(" -> PostgreSQL ", " -> PostgreSQL\n", 1),  # too wide for one line
            "x_baseline",
            "dump|restore",
        )
    )
    chart = chart_problem or str(args.results.with_suffix(".png"))
    log(f"wrote {args.results}; chart: {chart}")


if __name__ == "__main__":
    main()
