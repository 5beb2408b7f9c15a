"""Run one method in a process of its own and print one JSON line with the outcome.

A fresh process per run gives each method a clean peak-RSS reading
(``getrusage``: this process for in-process methods, its children for external tools)
and keeps a crash or a leak in one method from touching the next.

Usage: ``python -m harness.worker '<Job as JSON>' RESULT.json`` (a file, not stdout, so
whatever a tool prints can't garble the result).
"""

from __future__ import annotations

import json
import resource
import sys
import traceback
from pathlib import Path
from dataclasses import asdict
from typing import Any

from harness.methods import METHODS, Job, Unavailable


def peak_rss_mb(external: bool) -> float:
    """Peak resident set size in MB (Linux reports ru_maxrss in KiB)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if external:
        return children / 1024
    return max(children, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def run(job: Job) -> dict[str, Any]:
    """The outcome of ``job`` as a JSON-ready dict with a ``status``."""
    try:
        outcome = METHODS[job.method](job)
    except Unavailable as err:
        return {"status": "unavailable", "reason": str(err)}
    except Exception as err:
        traceback.print_exc()
        return {"status": "error", "reason": f"{type(err).__name__}: {err}"}
    result = asdict(outcome)
    result.update(status="ok", peak_rss_mb=round(peak_rss_mb(outcome.external), 1))
    return result


def main() -> None:
    job = Job(**json.loads(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(run(job)))


if __name__ == "__main__":
    main()
