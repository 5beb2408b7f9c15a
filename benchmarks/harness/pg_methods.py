"""The PostgreSQL -> PostgreSQL methods, each timed inside a worker process.

The same pattern as ``methods.py``: a method gets a ``PgJob`` and returns an ``Outcome``,
raising ``Unavailable`` when it can't run. Each fills the empty database at
``job.target_url`` from the one at ``job.source_url``.

The external tools fork: ``pg_dump -j`` and ``pg_restore -j`` start a worker process per
job, pgcopydb starts several and runs pg_dump and pg_restore itself, and a pipe runs two
programs at once. So a tool's peak RSS here is the peak of the summed resident memory of
every process it started (polled from /proc), not one process's VmHWM. Forked workers share
pages with their parent, which a sum counts twice: an upper bound.

Usage: ``python -m harness.pg_methods '<PgJob as JSON>' RESULT.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harness import worker
from harness.methods import Outcome, Unavailable, vm_hwm_mb


@dataclass(frozen=True)
class PgJob:
    """Everything a worker needs; JSON-serialisable.

    ``bin_dir`` holds pg_dump, pg_restore and psql of the server's major version (pg_dump
    refuses a server newer than itself). ``jobs`` is the parallelism every parallel method
    gets (``-j``, pgcopydb's table and index jobs).
    """

    method: str
    source_url: str
    target_url: str
    work_dir: str
    jobs: int
    bin_dir: str


POLL_S = 0.02
RESCAN_EVERY = 5  # look for new descendants every 5th poll (100 ms): a /proc scan is ~1 ms


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _descendants(known: set[int]) -> set[int]:
    """``known`` plus every live process whose parent is in it (repeated to a fixpoint)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name, in parentheses, may hold spaces: split after its last ')'
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = set(known)
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    return found


class TreeWatch:
    """Polls the summed VmRSS of some processes and all they start; keeps the peak."""

    def __init__(self, roots: list[subprocess.Popen[bytes]]) -> None:
        self.roots = roots
        self.known = {p.pid for p in roots}
        self.peak_sum = 0.0
        self.peak_one = 0.0
        self.polls = 0

    def sample(self) -> None:
        if self.polls % RESCAN_EVERY == 0:
            self.known = _descendants(self.known)
        self.polls += 1
        total = 0.0
        for pid in self.known:
            total += _status_mb(pid, "VmRSS")
            self.peak_one = max(self.peak_one, vm_hwm_mb(pid) or 0.0)
        self.peak_sum = max(self.peak_sum, total)

    def wait(self) -> None:
        while any(p.poll() is None for p in self.roots):
            self.sample()
            # returns as soon as the last tool exits, so polling adds no latency
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.roots[-1].wait(timeout=POLL_S)

    @property
    def peak_mb(self) -> float:
        # a single process's VmHWM catches a spike between two polls of the sum
        return max(self.peak_sum, self.peak_one)


def run_tools(argvs: list[list[str]], log: Path, env: dict[str, str] | None = None) -> Outcome:
    """Run one command, or two joined by a pipe (``argvs[0] | argvs[1]``), logging their
    output; the wall time and the peak summed RSS of every process they started."""
    started = time.perf_counter()
    with log.open("wb") as out:
        first = subprocess.Popen(
            argvs[0],
            stdout=subprocess.PIPE if len(argvs) > 1 else out,
            stderr=out,
            env=env,
        )
        procs = [first]
        if len(argvs) > 1:
            pipe: IO[bytes] | None = first.stdout
            procs.append(subprocess.Popen(argvs[1], stdin=pipe, stdout=out, stderr=out, env=env))
            assert pipe is not None
            pipe.close()  # the reader holds the only copy: the writer sees EPIPE if it dies
        watch = TreeWatch(procs)
        watch.wait()
    seconds = time.perf_counter() - started
    for argv, proc in zip(argvs, procs, strict=True):
        if proc.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            name = Path(argv[0]).name
            raise Unavailable(f"{name} exited {proc.returncode}: {' | '.join(tail)}")
    return Outcome(seconds, peak_rss_mb=watch.peak_mb, external=True)


def _tool(job: PgJob, name: str) -> str:
    path = Path(job.bin_dir) / name
    if not path.exists():
        raise Unavailable(f"{name} not found in {job.bin_dir}")
    return str(path)


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _dump_restore(job: PgJob, extra: list[str]) -> Outcome:
    """``pg_dump -Fd -j N`` into a folder on local disk, then ``pg_restore -j N`` from it
    into the empty target: timed together, peak RSS the larger of the two."""
    work = Path(job.work_dir)
    dump = _fresh_dir(work / f"{job.method}.dump")
    jobs = ["-j", str(job.jobs)]
    try:
        dumped = run_tools(
            [[_tool(job, "pg_dump"), "-Fd", *jobs, *extra, "-f", str(dump), job.source_url]],
            work / f"{job.method}.pg_dump.log",
        )
        size = _dir_mb(dump)
        restored = run_tools(
            [[_tool(job, "pg_restore"), *jobs, "-d", job.target_url, str(dump)]],
            work / f"{job.method}.pg_restore.log",
        )
    finally:
        shutil.rmtree(dump, ignore_errors=True)
    return Outcome(
        dumped.seconds + restored.seconds,
        peak_rss_mb=max(dumped.peak_rss_mb, restored.peak_rss_mb),
        external=True,
        note=f"dump {dumped.seconds:.2f} s ({size:.0f} MB on disk), "
        f"restore {restored.seconds:.2f} s",
    )


def pg_dump_dir(job: PgJob) -> Outcome:
    """``pg_dump -Fd -j N`` + ``pg_restore -j N``, pg_dump's default compression (gzip)."""
    return _dump_restore(job, [])


def pg_dump_dir_z0(job: PgJob) -> Outcome:
    """The same without compression (``-Z 0``): less CPU, more disk."""
    return _dump_restore(job, ["-Z", "0"])


def pg_dump_psql(job: PgJob) -> Outcome:
    """``pg_dump | psql --single-transaction``: one plain-SQL stream, no file, no
    parallelism. In one transaction the tables are created by the transaction that loads
    them, so on a wal_level=minimal server their COPY skips WAL."""
    psql = [_tool(job, "psql"), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    return run_tools(
        [[_tool(job, "pg_dump"), job.source_url], [*psql, "-d", job.target_url]],
        Path(job.work_dir) / f"{job.method}.log",
    )


def pgcopydb(job: PgJob) -> Outcome:
    """``pgcopydb clone`` with ``--table-jobs N --index-jobs N``: COPY streams straight from
    source to target, no dump file, indexes built as each table's data lands."""
    binary = shutil.which("pgcopydb")
    if binary is None:
        raise Unavailable("pgcopydb not on PATH (Debian: apt-get install pgcopydb)")
    work = _fresh_dir(Path(job.work_dir) / "pgcopydb")
    # pgcopydb runs pg_dump and pg_restore from PATH: the server's own major version first
    env = {**os.environ, "PATH": os.pathsep.join([job.bin_dir, os.environ.get("PATH", "")])}
    jobs = str(job.jobs)
    argv = [binary, "clone", "--source", job.source_url, "--target", job.target_url]
    argv += ["--table-jobs", jobs, "--index-jobs", jobs, "--dir", str(work)]
    try:
        outcome = run_tools([argv], Path(job.work_dir) / "pgcopydb.log", env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    version = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    outcome.note = version.splitlines()[0] if version else ""
    return outcome


def arrowferry_migrate(job: PgJob) -> Outcome:
    """``arrowferry.migrate(source_url, target_url)`` with default settings."""
    try:
        import arrowferry

        migrate = arrowferry.migrate  # the facade imports its engine on first use: not timed
    except Exception as err:
        raise Unavailable(f"import arrowferry failed: {type(err).__name__}: {err}") from err
    started = time.perf_counter()
    try:
        result: Any = migrate(job.source_url, job.target_url)
    except Exception as err:
        reason = " ".join(str(err).split())
        raise Unavailable(f"migrate() raised {type(err).__name__}: {reason}") from err
    seconds = time.perf_counter() - started
    finish = getattr(result, "phases", {}).get("finish")
    errors = [f"{e.table or '-'}: {e.message}" for e in getattr(result, "errors", [])]
    where = Path(arrowferry.__file__ or "?").parent
    note = f"arrowferry {arrowferry.__version__} ({where})"
    if errors:
        note += "; errors: " + "; ".join(errors)
    return Outcome(seconds, note=note, data_seconds=None if finish is None else seconds - finish)


METHODS: dict[str, Callable[[PgJob], Outcome]] = {
    "pg_dump_dir": pg_dump_dir,
    "pg_dump_dir_z0": pg_dump_dir_z0,
    "pg_dump_psql": pg_dump_psql,
    "pgcopydb": pgcopydb,
    "arrowferry": arrowferry_migrate,
}

# labels for the table; ``{jobs}`` is replaced by the parallelism of the run
LABELS: dict[str, str] = {
    "pg_dump_dir": "pg_dump -Fd -j {jobs} + pg_restore -j {jobs}",
    "pg_dump_dir_z0": "the same, -Z 0 (no compression)",
    "pg_dump_psql": "pg_dump | psql (plain, one stream)",
    "pgcopydb": "pgcopydb clone ({jobs} table + {jobs} index jobs)",
    "arrowferry": "arrowferry.migrate(pg, pg)",
}


def main() -> None:
    job = PgJob(**json.loads(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(worker.run(job, METHODS)))


if __name__ == "__main__":
    main()
