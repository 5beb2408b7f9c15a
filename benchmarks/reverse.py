"""Benchmark PostgreSQL -> SQLite: arrowferry against its limit and DuckDB, in one run.

Loads the generated app database (``gen_appdb.py``, the same ``--rows``/``--seed`` as
``run.py``) into one PostgreSQL database, with its keys, indexes and foreign key, and
materialises the ingest limit's Arrow files once. Then every method runs ``--repeat``
times, round-robin, each run in a worker process writing a fresh SQLite file. Every output
is checked against the PostgreSQL source with arrowferry's own ``verify`` (row counts and
every value, ``harness/content.py``). The limit is the sum of two
measured parts: reading every table into Arrow, and ingesting pre-materialised Arrow data
into SQLite and building the indexes. Prints a table and writes ``results/reverse.json``
and ``results/reverse.png``.

Usage::

    python benchmarks/reverse.py --rows 2200000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import arrowdata, content, describe, pg, report  # noqa: E402
from harness.reverse_methods import LABELS, METHODS, ReverseJob  # noqa: E402
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
from harness.schema import TABLES  # noqa: E402

LIMITS = ("read_limit", "ingest_limit")
OPTIONAL = tuple(m for m in METHODS if m not in LIMITS)
SOURCE_SCHEMA = "public"
ARROW_FORMAT = "v1"  # bump when arrowdata.py changes what it writes
RATIOS = (("x limit", "x_limit", 7), ("data x limit", "data_x_limit", 12))
TARGET = 1.3  # issue 4: arrowferry within 1.3x the limit


@dataclass
class ReverseSummary(report.MethodSummary):
    """A method's runs, with the ratios to the limit and what the SQLite file holds."""

    x_limit: float | None = None
    data_x_limit: float | None = None
    rows_read: dict[str, int] = field(default_factory=dict)
    phases: list[dict[str, float]] = field(default_factory=list)
    storage: dict[str, dict[str, int]] = field(default_factory=dict)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_line(
        __doc__.split("\n\n")[0], list(OPTIONAL), "the two limits", "reverse.json"
    )
    return settle(parser.parse_args(argv))


def selected_methods(spec: str) -> list[str]:
    return selected(spec, list(OPTIONAL), tuple(LIMITS))


def plan_tables(source_url: str) -> tuple[list[dict[str, Any]], list[tuple[str, tuple[str, ...]]]]:
    """arrowferry's DDL and index statements per table, and each table's read order."""
    from arrowferry import Migration
    from arrowferry.plan.model import MigrationPlan

    with tempfile.TemporaryDirectory() as tmp:
        plan = Migration(
            source_url, str(Path(tmp) / "plan.db"), dry_run=True, source_schema=SOURCE_SCHEMA
        ).plan()
    assert isinstance(plan, MigrationPlan)
    tables = [
        {
            "name": t.name,
            # the DDL arrowferry loads into: AUTOINCREMENT, which SQLite maintains on
            # every insert, is added after the load (create_sql has it, for older plans)
            "create_sql": getattr(t, "load_sql", t.create_sql),
            "indexes": [s.sql for s in t.finish if s.kind in ("unique", "index")],
        }
        for t in plan.tables
    ]
    return tables, [(t.name, tuple(t.order_by)) for t in plan.tables]


class Bench:
    """One benchmark run: the loaded source, and the per-method results."""

    def __init__(
        self,
        args: argparse.Namespace,
        source_url: str,
        arrow_dir: Path,
        tables: list[dict[str, Any]],
    ) -> None:
        self.args = args
        self.source_url = source_url
        self.arrow_dir = arrow_dir
        self.tables = tables
        self.work_dir = args.cache_dir / "work" / "reverse"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.summaries = {m: ReverseSummary(m, LABELS[m]) for m in selected_methods(args.methods)}
        self.rows = pg_row_counts(source_url)

    def job(self, method: str, target: Path) -> ReverseJob:
        return ReverseJob(
            method,
            self.source_url,
            SOURCE_SCHEMA,
            str(target),
            str(self.arrow_dir.resolve()),
            str(self.work_dir.resolve()),
            self.tables,
        )

    def run_once(self, method: str, index: int) -> None:
        summary = self.summaries[method]
        if summary.status != "ok":
            return
        with tempfile.TemporaryDirectory(prefix="afbench-reverse-") as tmp:
            target = Path(tmp) / f"{method}.db"
            outcome = run_worker(
                self.job(method, target), self.args.timeout, module="harness.reverse_methods"
            )
            if outcome["status"] != "ok":
                summary.status, summary.reason = outcome["status"], outcome["reason"]
                log(f"{method}: {summary.status}: {summary.reason}")
                return
            summary.seconds.append(float(outcome["seconds"]))
            if outcome.get("data_seconds") is not None:
                summary.data_seconds.append(float(outcome["data_seconds"]))
            summary.peak_rss_mb.append(float(outcome["peak_rss_mb"]))
            summary.phases.append(outcome["phases"])
            summary.rows_read = outcome["rows"]
            summary.note = str(outcome.get("note", ""))
            summary.problems += outcome["problems"]
            if method == "read_limit":
                summary.problems += self.missing_rows(outcome["rows"])
            else:
                self.check(summary, target, first=index == 0)
        log(
            f"{method} #{index + 1}: {summary.seconds[-1]:.2f} s, "
            f"{summary.peak_rss_mb[-1]:.0f} MB, check {summary.check}"
        )

    def missing_rows(self, rows: dict[str, int]) -> list[str]:
        """Row counts read that differ from the source's (a read writes nothing to check)."""
        return [
            f"{table}: {rows.get(table)} rows read, expected {count}"
            for table, count in self.rows.items()
            if rows.get(table) != count
        ]

    def check(self, summary: ReverseSummary, target: Path, first: bool) -> None:
        """Every value of the SQLite file against the PostgreSQL source (arrowferry.verify);
        on a method's first run, what it built too."""
        problems, seconds = content.differences(
            self.source_url, target, source_schema=SOURCE_SCHEMA
        )
        summary.problems += problems
        log(f"{summary.name}: verified in {seconds:.1f} s")
        if first:
            summary.storage = describe.storage_classes(target, TABLES)
            summary.types = describe.sqlite_types(target, TABLES, summary.storage)
            summary.structure = describe.sqlite_structure(target)

    def run(self) -> list[ReverseSummary]:
        for index in range(self.args.repeat):
            for method in self.summaries:
                self.run_once(method, index)
        return list(self.summaries.values())


def add_limit(summaries: list[ReverseSummary], rows: int, source_mb: float) -> None:
    """Insert ``limit`` = read limit + ingest limit (sum of the medians) after its parts,
    and set every method's ratios to it."""
    parts = {s.name: s for s in summaries if s.name in LIMITS}
    read, ingest = parts["read_limit"], parts["ingest_limit"]
    limit = ReverseSummary("limit", LABELS["limit"])
    limit.note = "sum of the two medians; RSS: the larger of the two processes"
    if read.median_s is None or ingest.median_s is None:
        limit.status, limit.reason = "unavailable", "a part of the limit did not run"
        summaries.insert(2, limit)
        return
    limit.seconds = [r + i for r, i in zip(read.seconds, ingest.seconds, strict=False)]
    limit.median_s = read.median_s + ingest.median_s
    limit.rows_per_s = rows / limit.median_s
    limit.mb_per_s = source_mb / limit.median_s
    limit.data_median_s = read.median_s + (ingest.data_median_s or ingest.median_s)
    limit.peak_rss_mb = [max(read.peak_rss_mb + ingest.peak_rss_mb)]
    limit.problems = read.problems + ingest.problems
    summaries.insert(2, limit)
    for s in summaries:
        if s.median_s is not None:
            s.x_limit = s.median_s / limit.median_s
        if s.data_median_s is not None and s.name not in LIMITS:
            s.data_x_limit = s.data_median_s / limit.data_median_s


def verdict(summaries: list[ReverseSummary]) -> dict[str, Any]:
    """arrowferry's ratio to the limit against the target."""
    ratio = next((s.x_limit for s in summaries if s.name == "arrowferry"), None)
    return {
        "max_x_limit": TARGET,
        "arrowferry_x_limit": None if ratio is None else round(ratio, 3),
        "met": None if ratio is None else ratio <= TARGET,
    }


def pg_row_counts(url: str) -> dict[str, int]:
    """Rows per table of the source (what a read must have read)."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            table: int(
                conn.execute(f'SELECT count(*) FROM "{SOURCE_SCHEMA}"."{table}"').fetchone()[0]
            )  # type: ignore[index]
            for table in TABLES
        }


def postgres_size_mb(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            (SOURCE_SCHEMA,),
        ).fetchone()
    return round(int(row[0] if row else 0) / 1e6, 1)


def context(
    args: argparse.Namespace, source: Path, admin_url: str, setup: dict[str, Any]
) -> dict[str, Any]:
    """What the JSON records besides the methods: parameters, source, server, machine."""
    return run_context("reverse.py", args, source, admin_url, TABLES, source_extra=setup)


def prepare_source(
    source: Path, admin_url: str, url: str, cache: Path
) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    """Load the source database, plan, materialise the Arrow files.

    Returns the Arrow folder, the tables as planned and what the setup took.
    """
    copy_dir = cache / f"{source.stem}-pgcopy"
    log(f"server {pg.mask(admin_url)}; materialising binary COPY files")
    pg.materialise_copy_files(source, admin_url, copy_dir)
    started = time.perf_counter()
    pg.load_copy_files(url, copy_dir)
    loaded = time.perf_counter() - started
    log(f"source loaded into PostgreSQL in {loaded:.1f} s (COPY, keys, indexes, VACUUM)")
    tables, order = plan_tables(url)
    arrow_dir = cache / f"{source.stem}-sqlite-arrow-{ARROW_FORMAT}"
    started = time.perf_counter()
    arrowdata.materialise(url, SOURCE_SCHEMA, order, arrow_dir)
    log(f"Arrow files ready in {time.perf_counter() - started:.1f} s: {arrow_dir.name}")
    setup = {
        "postgres_mb": postgres_size_mb(url),
        "postgres_load_s": round(loaded, 1),
        "arrow_files": arrow_dir.name,
        "arrow_mb": round(sum(f.stat().st_size for f in arrow_dir.iterdir()) / 1e6, 1),
    }
    return arrow_dir, tables, setup


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    source = source_db(args.cache_dir, args.rows, args.seed)
    admin_url = pg.server_url(args.pgdata, args.server)
    with pg.fresh_database(admin_url, "reverse_source") as url:
        arrow_dir, tables, setup = prepare_source(source, admin_url, url, args.cache_dir)
        bench = Bench(args, url, arrow_dir, tables)
        warning, waited = wait_for_quiet(args.wait_quiet)
        if warning:
            log(f"warning: {warning}")
        started = git_state()
        summaries = bench.run()
        ended = git_state()
        payload = {
            **context(args, source, admin_url, setup),
            "busy_at_start": warning,
            "waited_for_quiet_s": waited,
        }
    payload["git"] = started if started == ended else {"at_start": started, "at_end": ended}
    if started != ended:
        log("warning: arrowferry's code changed during the run (see 'git' in the JSON)")
    rows = sum(payload["source"]["rows"].values())
    size_mb = payload["source"]["size_mb"]
    report.finalise(summaries, rows, size_mb, reference="ingest_limit")
    add_limit(summaries, rows, size_mb)
    title = (
        f"{rows:,} rows PostgreSQL {payload['server']['server_version']} "
        f"(wal_level={payload['server']['wal_level']}) -> SQLite, "
        f"{payload['machine']['cores']} cores, median of {args.repeat}"
        + (" (machine busy: noisy)" if warning else "")
    )
    print(title)
    print("\n".join(report.table_lines(summaries, RATIOS)))
    payload["target"] = verdict(summaries)
    if payload["target"]["met"] is not None:
        met = "met" if payload["target"]["met"] else "NOT met"
        print(
            f"arrowferry: {payload['target']['arrowferry_x_limit']:.2f}x the limit "
            f"(target <= {TARGET}x): {met}"
        )
    report.write_json(args.results, payload, summaries)
    chart_problem = (
        "not asked for"
        if args.no_chart
        else report.write_chart(
            args.results.with_suffix(".png"), summaries, title, "x_limit", "limit"
        )
    )
    chart = chart_problem or str(args.results.with_suffix(".png"))
    log(f"wrote {args.results}; chart: {chart}")


if __name__ == "__main__":
    main()
