"""Run notebooks top to bottom in a fresh kernel and save them with their outputs.

    python notebooks/save.py                          # every notebook here
    python notebooks/save.py notebooks/benchmarks.ipynb

Run it after changing a notebook, or after a benchmark harness writes new results (the
test suite fails while the saved benchmarks notebook shows an older run). The quickstart
uses the embedded PostgreSQL of ``ARROWFERRY_HOME`` and drops the database it makes.

``jupyter execute --inplace`` does the same, but stamps every cell with execution times,
which would make each save a diff of every cell.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def save(path: Path) -> float:
    """Execute ``path`` from its own folder, save it, and return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        coalesce_streams=True,  # a print the kernel flushed in two messages is saved as one
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(Path(__file__).parent.glob("*.ipynb"))
    for path in paths:
        print(f"{path}: {save(path):.1f} s, {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
