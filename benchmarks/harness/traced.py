"""Run one migration method in a process of its own, its threads named for the OS.

Python 3.11 keeps a thread's name to itself: ``/proc/<pid>/task/<tid>/comm`` says
``python`` for every thread, so a sampler outside the process could not tell the reader
from a COPY lane. This worker wraps ``Thread._bootstrap_inner`` so each thread, as it
starts, sets its kernel name (``prctl(PR_SET_NAME)``, 15 bytes: ``arrowferry-`` becomes
``af-``) and records its full name by native id. Threads started by native code (Polars'
and Arrow's pools) keep the names their libraries gave them.

The outcome JSON adds wall-clock marks (``time.time()``, the sampler's clock): when the
timed part started and ended and, for arrowferry, the run's own phases.

Usage: ``python -m harness.traced '<Job as JSON>' RESULT.json ['<migrate() options as JSON>']``.
"""

from __future__ import annotations

import ctypes
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness.methods import METHODS, Job

PR_SET_NAME = 15
NAMES: dict[int, str] = {}


def kernel_name(name: str) -> str:
    """The 15 bytes the kernel keeps: the common prefix shortened so the rest shows."""
    short = name.replace("arrowferry-", "af-").replace("arrowferry_", "af_")
    return short.encode()[:15].decode(errors="ignore")


def _name_this_thread(name: str, kernel: bool = True) -> None:
    NAMES[threading.get_native_id()] = name
    if not kernel:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, kernel_name(name).encode(), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the recorded names still serve
        pass


def install() -> None:
    """Name every thread started from now on, and this one ``main``."""
    original = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def bootstrap(self: threading.Thread) -> None:
        _name_this_thread(self.name)
        original(self)

    threading.Thread._bootstrap_inner = bootstrap  # type: ignore[attr-defined]
    # recorded only: a native thread inherits its creator's kernel name, and the pools
    # the main thread starts would all be called "main"
    _name_this_thread("main", kernel=False)


def run(job: Job, options: dict[str, Any] | None = None) -> dict[str, Any]:
    marks: dict[str, Any] = {"process_start": time.time()}
    phases: dict[str, float] = {}
    if job.method == "arrowferry":
        import arrowferry

        # the facade imports its engine on first use: before the clock, as the harness does
        migrate = arrowferry.migrate
        source = f"sqlite:///{Path(job.sqlite_path).resolve()}"
        from arrowferry.progress import NullReporter

        class Marks(NullReporter):
            """When each phase began and each table's load started and ended."""

            def phase(self, name: str) -> None:
                marks.setdefault("phase_" + name, time.time())

            def table_started(self, table: str, total_rows: int) -> None:
                marks.setdefault("table_started", {})[table] = time.time()

            def table_finished(self, table: str, rows: int, seconds: float, ok: bool) -> None:
                marks.setdefault("table_finished", {})[table] = time.time()

        marks["started"] = time.time()
        result = migrate(source, job.target_url, reporter=Marks(), **(options or {}))
        marks["ended"] = time.time()
        if not result.success:
            raise SystemExit(f"migrate() failed: {result.errors}")
        phases = {k: float(v) for k, v in result.phases.items()}
        seconds = marks["ended"] - marks["started"]
    else:
        marks["started"] = time.time()
        outcome = METHODS[job.method](job)
        marks["ended"] = time.time()
        seconds = outcome.seconds
    return {
        "status": "ok",
        "seconds": seconds,
        "marks": marks,
        "phases": phases,
        "threads": {str(tid): name for tid, name in NAMES.items()},
    }


def main() -> None:
    install()
    job = Job(**json.loads(sys.argv[1]))
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    Path(sys.argv[2]).write_text(json.dumps(run(job, options)))


if __name__ == "__main__":
    main()
