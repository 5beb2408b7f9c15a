"""What the benchmark commands share: a log line, the cached source file, worker processes.

``run.py`` (SQLite -> PostgreSQL) and ``reverse.py`` (PostgreSQL -> SQLite) both generate
the same app database, run every method in a worker process of its own and warn when the
machine is busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gen_appdb import DEFAULT_ROWS, DEFAULT_SEED, GENERATOR_VERSION, generate

from harness import pg, report
from harness.tools import tool_version

BENCHMARKS = Path(__file__).resolve().parent.parent
REPO_PYTHON = BENCHMARKS.parent / "python"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def source_db(cache: Path, rows: int, seed: int) -> Path:
    """The generated database for (rows, seed), generated once and cached."""
    path = cache / f"appdb-v{GENERATOR_VERSION}-r{rows}-s{seed}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        log(f"generating {path.name}")
        started = time.perf_counter()
        generate(path, rows, seed)
        log(f"generated in {time.perf_counter() - started:.1f} s")
    return path


def run_worker(job: Any, timeout: float, module: str = "harness.worker") -> dict[str, Any]:
    """Run ``job`` (a dataclass with ``method`` and ``work_dir``) in ``python -m module``
    and return its JSON outcome."""
    env = dict(os.environ)
    # The caller's PYTHONPATH first (to benchmark another checkout), then this source tree,
    # so an arrowferry that is not installed is found too.
    paths = [str(BENCHMARKS), env.get("PYTHONPATH", ""), str(REPO_PYTHON)]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    with tempfile.NamedTemporaryFile(suffix=".json", dir=job.work_dir) as out:
        argv = [sys.executable, "-m", module, json.dumps(asdict(job)), out.name]
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
        text = Path(out.name).read_text()
    if not text:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"status": "error", "reason": f"worker exited {done.returncode}: {tail}"}
    if done.stderr.strip():
        (Path(job.work_dir) / f"{job.method}.stderr").write_text(done.stderr)
    return dict(json.loads(text))


def git_state() -> dict[str, Any]:
    """This checkout's commit, where arrowferry is imported from and, when that is this
    checkout, its uncommitted files (each worker imports arrowferry as it is on disk when
    its run starts; ``PYTHONPATH=<another checkout>/python`` benchmarks another copy)."""
    import importlib.util

    spec = importlib.util.find_spec("arrowferry")
    package = Path(spec.origin).parent if spec and spec.origin else None
    state: dict[str, Any] = {
        "commit": tool_version(["git", "-C", str(BENCHMARKS), "rev-parse", "HEAD"]) or None,
        "arrowferry": str(package),
    }
    tree = REPO_PYTHON
    if package is not None and package.is_relative_to(tree):
        changed = subprocess.run(
            ["git", "-C", str(BENCHMARKS), "status", "--porcelain", "--", str(tree)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        state["python_changes"] = [line[3:] for line in changed]
    return state


def busy_warning() -> str | None:
    """A warning when other work keeps the CPUs busy: timings would be inflated."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cores:
        return f"load average {load:.1f} on {cores} cores: other work is running"
    return None


def busy_now(seconds: float = 3.0) -> str | None:
    """A warning when other processes keep the CPUs busy right now.

    Measured from /proc/stat over ``seconds`` while this harness waits, so the load it
    just made itself (loading a source database raises the load average for a minute)
    does not count. Falls back to the load average where /proc/stat is missing.
    """

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # all, idle + iowait

    try:
        total, idle = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return busy_warning()
    cores = os.cpu_count() or 1
    used = cores * (1 - (idle_after - idle) / max(1, total_after - total))
    if used > 0.5:
        return f"other processes used {used:.1f} of {cores} cores in the {seconds:.0f} s before the runs"
    return None


def compile_package() -> None:
    """Byte-compile the arrowferry every worker imports, as ``pip install`` does. A checkout
    has no ``.pyc`` until a run writes them, and none is ever written where
    ``PYTHONDONTWRITEBYTECODE`` is set (as on this machine): every worker process would
    then compile the package's sources, 0.15-0.3 s a process that no installed copy pays."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("arrowferry")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def wait_for_quiet(max_wait: float, poll: float = 10.0) -> tuple[str | None, float]:
    """Start the runs only on a quiet machine: while other processes use more than half
    the cores (``busy_now``), check again every ``poll`` seconds, for up to ``max_wait``.
    Every harness calls this right before its runs, so it also compiles the package
    (:func:`compile_package`).

    Returns the warning still true when the wait ran out (None: quiet) and the seconds
    waited, both recorded in the JSON: a figure from a busy machine says so.
    """
    compile_package()
    started = time.monotonic()
    warning = busy_now()
    while warning is not None and time.monotonic() - started < max_wait:
        log(f"machine busy ({warning}); checking again in {poll:.0f} s")
        time.sleep(poll)
        warning = busy_now()
    return warning, round(time.monotonic() - started, 1)


def wait_quiet_option(parser: argparse.ArgumentParser) -> None:
    """``--wait-quiet``: every harness's wait for a quiet machine (``wait_for_quiet``)."""
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=600,
        help="seconds to wait, before the runs, for other processes to use at most half "
        "the cores (0: start at once; either way the JSON records the load)",
    )


def command_line(
    description: str, methods: list[str], always: str, results: str
) -> argparse.ArgumentParser:
    """The options both benchmark commands take (each may add its own); ``results`` is the
    JSON's name against the bulk server (see ``settle``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="total rows to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (median taken)")
    parser.add_argument(
        "--methods",
        default=",".join(methods),
        help=f"comma-separated subset of: {', '.join(methods)} ({always} always run)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    wait_quiet_option(parser)
    parser.add_argument("--cache-dir", type=Path, default=BENCHMARKS / ".cache")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help=f"JSON report (default: results/{results}, or its -default twin with "
        "--server default)",
    )
    parser.add_argument("--no-chart", action="store_true", help="write the JSON only")
    parser.add_argument(
        "--server",
        choices=pg.SERVER_CONFIGS,
        default="bulk",
        help="embedded server set for bulk loads (wal_level=minimal, the default) or left "
        "at PostgreSQL's defaults (wal_level=replica)",
    )
    parser.add_argument(
        "--pgdata",
        type=Path,
        default=None,
        help=f"embedded server's data dir (default: {pg.PGDATA['bulk']} for bulk, "
        f"{pg.PGDATA['default']} for default; unused when ${pg.ENV_URL} is set)",
    )
    parser.set_defaults(results_name=results)
    return parser


def settle(args: argparse.Namespace) -> argparse.Namespace:
    """Fill in the defaults that depend on ``--server``: the data folder and the results
    file (``latest.json`` -> ``latest-default.json``), so both configurations' results can
    sit side by side."""
    if args.pgdata is None:
        args.pgdata = pg.PGDATA[args.server]
    if args.results is None:
        name = Path(args.results_name)
        if args.server != "bulk":
            name = name.with_name(f"{name.stem}-{args.server}{name.suffix}")
        args.results = BENCHMARKS / "results" / name
    return args


def server_config(args: argparse.Namespace) -> str:
    """The configuration the JSON records: ``--server``, or ``external`` for a server given
    by URL (its real settings are recorded beside it either way)."""
    return "external" if os.environ.get(pg.ENV_URL) else str(args.server)


def selected(spec: str, known: list[str], always: tuple[str, ...]) -> list[str]:
    """The methods named in ``spec`` (validated), after the ones that always run."""
    wanted = [m.strip() for m in spec.split(",") if m.strip()]
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise SystemExit(f"unknown methods: {', '.join(unknown)}")
    return [*always, *(m for m in known if m in wanted and m not in always)]


def run_context(
    script: str,
    args: argparse.Namespace,
    source: Path,
    admin_url: str,
    tables: Iterable[str],
    *,
    top: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    source_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a results JSON records besides the methods: the command, parameters, the
    source file and its row counts, the server and the machine (``top``, ``params`` and
    ``source_extra`` add a command's own keys)."""
    with sqlite3.connect(source) as conn:
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    return {
        "command": " ".join(["python", f"benchmarks/{script}", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(top or {}),
        "params": {"rows": args.rows, "seed": args.seed, "repeat": args.repeat, **(params or {})},
        "source": {
            "file": source.name,
            "size_mb": round(source.stat().st_size / 1e6, 1),
            "rows": counts,
            **(source_extra or {}),
        },
        "server_config": server_config(args),
        "server": {"url": pg.mask(admin_url), **pg.server_info(admin_url)},
        "machine": report.machine_info(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
