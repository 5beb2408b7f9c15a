"""Benchmark SQLite -> PostgreSQL migrations side by side, in one run, against one server.

Generates (or reuses) the app database, materialises the PostgreSQL binary COPY files once,
then runs every method ``--repeat`` times, round-robin, each run in a worker process against
a fresh database. Every load is checked against the SQLite source with arrowferry's own
``verify`` (row counts and every value, ``harness/content.py``). Prints a table and writes ``results/latest.json`` and ``results/latest.png``.

Usage::

    python benchmarks/run.py --rows 2200000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import checks, content, pg, report  # noqa: E402
from harness.methods import LABELS, METHODS, Job, sample_sizes  # noqa: E402
from harness.runner import (  # noqa: E402
    command_line,
    log,
    run_context,
    run_worker,
    selected,
    settle,
    source_db,
    wait_for_quiet,
)
from harness.tools import tool_version  # noqa: E402

BASELINES = ("copy_limit", "copy_then_index")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_line(__doc__.split("\n\n")[0], list(METHODS), "COPY baselines", "latest.json")
    parser.add_argument("--sample-rows", type=int, default=50_000, help="psycopg sample size")
    return settle(parser.parse_args(argv))


def selected_methods(spec: str) -> list[str]:
    return selected(spec, list(METHODS), BASELINES)


class Bench:
    """One benchmark run: the shared context and the per-method results."""

    def __init__(self, args: argparse.Namespace, source: Path, admin_url: str) -> None:
        self.args = args
        self.source = source
        self.admin_url = admin_url
        key = source.stem
        self.copy_dir = args.cache_dir / f"{key}-pgcopy"
        self.work_dir = args.cache_dir / "work"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.summaries = {
            m: report.MethodSummary(m, LABELS[m]) for m in selected_methods(args.methods)
        }
        sizes, _ = sample_sizes(str(source), args.sample_rows)
        # the psycopg method loads the first rows of each table: it is checked against those
        self.sample = content.sample_source(
            source, sizes, self.work_dir / f"{source.stem}-sample-{args.sample_rows}.db"
        )

    def job(self, method: str, url: str) -> Job:
        return Job(
            method,
            str(self.source),
            url,
            str(self.copy_dir.resolve()),
            str(self.work_dir.resolve()),
            self.args.sample_rows,
        )

    def run_once(self, method: str, index: int) -> None:
        summary = self.summaries[method]
        if summary.status != "ok":
            return
        with pg.fresh_database(self.admin_url, f"{method}_{index}") as url:
            summary.load_at_start.append(round(os.getloadavg()[0], 2))
            wal_before = pg.wal_lsn(self.admin_url)
            outcome = run_worker(self.job(method, url), self.args.timeout)
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
            self.check(method, url, first=index == 0)
        log(
            f"{method} #{index + 1}: {summary.seconds[-1]:.2f} s, "
            f"{summary.peak_rss_mb[-1]:.0f} MB, WAL {wal_mb:.0f} MB, check {summary.check}"
        )

    def check(self, method: str, url: str, first: bool) -> None:
        """Every value of the load against the SQLite source (arrowferry.verify)."""
        summary = self.summaries[method]
        sampled = method == "psycopg_executemany"
        problems, seconds = content.differences(self.sample if sampled else self.source, url)
        summary.problems += problems
        log(f"{method}: verified in {seconds:.1f} s")
        if first:
            summary.structure = checks.structure(url)
            summary.types = checks.column_types(url)

    def run(self) -> list[report.MethodSummary]:
        for index in range(self.args.repeat):
            for method in self.summaries:
                self.run_once(method, index)
        return list(self.summaries.values())


def context(args: argparse.Namespace, source: Path, admin_url: str) -> dict[str, Any]:
    """What the JSON records besides the methods: parameters, source, server, machine."""
    commit = tool_version(["git", "-C", str(HERE), "rev-parse", "HEAD"]) or None
    return run_context(
        "run.py",
        args,
        source,
        admin_url,
        ("users", "events"),
        top={"git_commit": commit},
        params={"sample_rows": args.sample_rows},
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    source = source_db(args.cache_dir, args.rows, args.seed)
    admin_url = pg.server_url(args.pgdata, args.server)
    log(f"server {pg.mask(admin_url)} ({args.server}); materialising binary COPY files")
    bench = Bench(args, source, admin_url)
    pg.materialise_copy_files(source, admin_url, bench.copy_dir)
    warning, waited = wait_for_quiet(args.wait_quiet)
    if warning:
        log(f"warning: {warning}")
    summaries = bench.run()
    payload = {
        **context(args, source, admin_url),
        "busy_at_start": warning,
        "waited_for_quiet_s": waited,
    }
    rows = sum(payload["source"]["rows"].values())
    report.finalise(summaries, rows, payload["source"]["size_mb"])
    title = (
        f"{rows:,} rows, {payload['source']['size_mb']} MB SQLite -> PostgreSQL "
        f"{payload['server']['server_version']} (wal_level={payload['server']['wal_level']}), "
        f"{payload['machine']['cores']} cores, "
        f"median of {args.repeat}" + (" (machine busy: noisy)" if warning else "")
    )
    print(title)
    print("\n".join(report.table_lines(summaries, report.COPY_RATIOS + report.WAL_COLUMN)))
    report.write_json(args.results, payload, summaries)
    chart_problem = (
        "not asked for"
        if args.no_chart
        else report.write_chart(
            args.results.with_suffix(".png"),
            summaries,
            title.replace("), ", ")\n", 1),  # after the server: too wide for one line
        )
    )
    chart = chart_problem or str(args.results.with_suffix(".png"))
    log(f"wrote {args.results}; chart: {chart}")


if __name__ == "__main__":
    main()
