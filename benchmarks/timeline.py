"""A timeline of both sides of a SQLite -> PostgreSQL migration: where each core's time
goes, phase by phase, and when a thread or a backend idles or waits.

Each method runs once per ``--repeat`` in a worker process of its own
(``harness/traced.py``, which gives the client's threads their names in the kernel)
against a fresh database, while this process samples every ``--interval`` seconds:
every thread of the client (CPU and run-queue time from ``/proc/<pid>/task/*/schedstat``),
every child process of the postmaster (the same, plus its process title), the machine's
``/proc/stat`` (what other work took), and, on a separate connection,
``pg_stat_activity`` (each backend's state, wait event and statement). Prints, per run, a
table of where the cores' time went in each phase (data, indexes, keys, analyze) and
one of each lane's time in the data phase; writes the raw samples and the tables to
``results/timeline.json`` and draws ``results/timeline.png`` (a lane per thread/backend).

Usage::

    python benchmarks/timeline.py --rows 2200000                    # bulk-load server
    python benchmarks/timeline.py --rows 2200000 --server default   # PostgreSQL defaults
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import pg, spy, timeline_report  # noqa: E402
from harness.methods import Job  # noqa: E402
from harness.runner import (  # noqa: E402
    BENCHMARKS,
    REPO_PYTHON,
    command_line,
    log,
    run_context,
    settle,
    source_db,
    wait_for_quiet,
)
from harness.sampler import Sampler, compact  # noqa: E402

METHODS = ("arrowferry", "copy_limit")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_line(__doc__.split("\n\n")[0], list(METHODS), "nothing", "timeline.json")
    parser.add_argument("--interval", type=float, default=0.03, help="seconds between samples")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="also record the client's stacks with py-spy (what its threads wait on); "
        "costs CPU, so the timings of such a run are not the harness's",
    )
    parser.set_defaults(repeat=1)
    return settle(parser.parse_args(argv))


def method_and_options(spec: str) -> tuple[str, dict[str, Any]]:
    """``arrowferry[lanes=1;workers=2]``: the method and the options its run passes to
    ``migrate()`` (integers as integers), so variants can alternate in one run."""
    name, _, rest = spec.partition("[")
    options: dict[str, Any] = {}
    for item in rest.rstrip("]").split(";"):
        if "=" in item:
            key, value = (part.strip() for part in item.split("=", 1))
            options[key] = int(value) if value.lstrip("-").isdigit() else value
    if options and name != "arrowferry":
        raise SystemExit(f"{spec}: only arrowferry takes options")
    return name.strip(), options


def traced_run(
    job: Job, options: dict[str, Any], admin_url: str, postmaster: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Run ``job`` in ``harness.traced`` while sampling both sides; samples and outcome
    (and, with ``--py-spy``, what py-spy saw the client's threads do)."""
    interval, py_spy = args.interval, args.py_spy
    env = dict(os.environ)
    paths = [str(BENCHMARKS), env.get("PYTHONPATH", ""), str(REPO_PYTHON)]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    dbname = urlsplit(job.target_url).path.lstrip("/")
    with tempfile.NamedTemporaryFile(suffix=".json", dir=job.work_dir) as out:
        argv = [sys.executable, "-m", "harness.traced", json.dumps(asdict(job)), out.name]
        argv.append(json.dumps(options))
        proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        sampler = Sampler(proc.pid, postmaster, admin_url, dbname, interval)
        sampler.start()
        stacks = Path(out.name).with_suffix(".speedscope")
        recorder = spy.start(proc.pid, stacks) if py_spy else None
        _, stderr = proc.communicate()
        sampler.stop()
        text = Path(out.name).read_text()
        if recorder is not None:
            recorder.wait(timeout=60)
    if proc.returncode != 0 or not text:
        raise SystemExit(f"{job.method} exited {proc.returncode}: {stderr.strip()[-600:]}")
    outcome = json.loads(text)
    traced = {"outcome": outcome, "samples": sampler.to_json()}
    if recorder is not None and stacks.exists():
        traced["py_spy"] = spy.summarise(stacks, outcome["threads"])
        stacks.unlink()
    elif py_spy:
        log("py-spy asked for but not found or wrote nothing (pip install py-spy)")
    return traced


def title_for(payload: dict[str, Any], load: list[float], busy: str | None) -> str:
    rows = sum(payload["source"]["rows"].values())
    server = payload["server"]
    return (
        f"{rows:,} rows SQLite -> PostgreSQL {server['server_version']} "
        f"(wal_level={server['wal_level']}), {payload['machine']['cores']} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f} at the start"
        + (f" (busy: {busy})" if busy else "")
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = {m for m in methods if method_and_options(m)[0] not in METHODS}
    if unknown:
        raise SystemExit(f"unknown methods: {', '.join(sorted(unknown))} (known: {METHODS})")
    source = source_db(args.cache_dir, args.rows, args.seed).resolve()
    admin_url = pg.server_url(args.pgdata, args.server)
    copy_dir = (args.cache_dir / f"{source.stem}-pgcopy").resolve()
    if "copy_limit" in methods:
        pg.materialise_copy_files(source, admin_url, copy_dir)
    work = args.cache_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    postmaster = pg.postmaster_pid(admin_url)
    busy, waited = wait_for_quiet(args.wait_quiet)
    load = [round(x, 2) for x in os.getloadavg()]
    if busy:
        log(f"warning: {busy}; run queue and other-work lanes show how much")
    cores = os.cpu_count() or 1
    runs: list[dict[str, Any]] = []
    for index in range(args.repeat):
        for method in methods:
            with pg.fresh_database(admin_url, f"timeline_{method}") as url:
                name, options = method_and_options(method)
                job = Job(name, str(source), url, str(copy_dir), str(work.resolve()), 0)
                started_load = round(os.getloadavg()[0], 2)
                wal_before = pg.wal_lsn(admin_url)
                traced = traced_run(job, options, admin_url, postmaster, args)
                wal_mb = round((pg.wal_lsn(admin_url) - wal_before) / 1e6, 1)
            analysis = timeline_report.analyse(traced["samples"], traced["outcome"], cores)
            seconds = float(traced["outcome"]["seconds"])
            log(f"{method} #{index + 1}: {seconds:.2f} s (load {started_load}, WAL {wal_mb} MB)")
            print(
                f"\n{method} #{index + 1}: {seconds:.2f} s, load average {started_load}, "
                f"WAL {wal_mb} MB (every session's)"
            )
            print("\n".join(timeline_report.phase_lines(analysis)))
            print("\n".join(timeline_report.lane_lines(analysis)))
            if "py_spy" in traced:
                print("\n".join(spy.lines(traced["py_spy"])))
            runs.append(
                {
                    "method": method,
                    "index": index,
                    "load_at_start": started_load,
                    "wal_mb": wal_mb,
                    **traced,
                    "analysis": analysis,
                }
            )
    payload = run_context("timeline.py", args, source, admin_url, ("users", "events"))
    payload.update(
        busy_at_start=busy,
        waited_for_quiet_s=waited,
        load_average_at_start=load,
        interval=args.interval,
    )
    title = title_for(payload, load, busy)
    panels = []
    for method in methods:
        mine = sorted(
            (r for r in runs if r["method"] == method), key=lambda r: r["outcome"]["seconds"]
        )
        chosen = mine[len(mine) // 2]  # the median run
        name = f"{method}: {chosen['outcome']['seconds']:.2f} s (load {chosen['load_at_start']})"
        panels.append((name, chosen["analysis"]))
    chart = args.results.with_suffix(".png")
    problem = None if args.no_chart else timeline_report.draw(chart, panels, title)
    for run in runs:  # the series are the samples again, only reduced: not written twice
        run["samples"] = compact(run["samples"])
        run["analysis"] = {
            k: v for k, v in run["analysis"].items() if k not in ("other_work", "runnable")
        }
        for lane in run["analysis"]["lanes"]:
            lane.pop("series")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({**payload, "title": title, "runs": runs}) + "\n")
    log(f"wrote {args.results}; chart: {problem or ('not asked for' if args.no_chart else chart)}")


if __name__ == "__main__":
    main()
