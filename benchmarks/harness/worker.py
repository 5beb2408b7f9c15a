"""Run one method in a process of its own and write its outcome as JSON.

A fresh process per run gives each method a clean peak-RSS reading (this process's VmHWM
for in-process methods, the tool's own, polled, for external tools) and keeps a crash or a
leak in one method from touching the next.

Usage: ``python -m harness.worker '<Job as JSON>' RESULT.json`` (a file, not stdout, so
whatever a tool prints can't garble the result). ``harness.reverse_methods`` is the same
entry point for the PostgreSQL -> SQLite methods.
"""

from __future__ import annotations

import json
import resource
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.methods import METHODS, Job, Outcome, Unavailable, vm_hwm_mb


def own_peak_rss_mb() -> float:
    """Peak RSS in MB of this process or of the largest child it started and reaped.

    ru_maxrss (KiB on Linux) is inherited across fork+exec, so this process's own figure
    comes from VmHWM; a child's inherited part is at most this process's size when it was
    started, so taking the max with RUSAGE_CHILDREN stays exact.
    """
    own = vm_hwm_mb()
    if own is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def run(job: Any, methods: Mapping[str, Callable[[Any], Outcome]] = METHODS) -> dict[str, Any]:
    """The outcome of ``job`` (run by ``methods[job.method]``) as a JSON-ready dict with a
    ``status``."""
    try:
        outcome = methods[job.method](job)
    except Unavailable as err:
        return {"status": "unavailable", "reason": str(err)}
    except Exception as err:
        traceback.print_exc()
        return {"status": "error", "reason": f"{type(err).__name__}: {err}"}
    if not outcome.external:
        outcome.peak_rss_mb = own_peak_rss_mb()
    outcome.peak_rss_mb = round(outcome.peak_rss_mb, 1)
    return {**asdict(outcome), "status": "ok"}


def main() -> None:
    job = Job(**json.loads(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(run(job)))


if __name__ == "__main__":
    main()
