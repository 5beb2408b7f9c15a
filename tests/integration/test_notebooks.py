"""The notebooks run, top to bottom, in a fresh kernel (nbclient), against the embedded
PostgreSQL of the test session (ARROWFERRY_HOME is inherited by the kernel), and say what
they claim: the quickstart's verifications pass and its sync converges; the benchmarks
notebook charts every harness and names a missing result instead of failing."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
RESULTS = REPO / "benchmarks" / "results"


def _execute(path: Path) -> Any:
    """Run ``path`` in a fresh kernel from its own folder; returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback
    return notebook


def _outputs(notebook: Any) -> list[dict[str, Any]]:
    return [o for cell in notebook.cells for o in cell.get("outputs", [])]


def _text(notebook: Any) -> str:
    """Everything the notebook printed or displayed as text or markdown, as a reader sees
    it. A cell's stream outputs are joined as they were written: the kernel sends a print
    in as many messages as it flushed (a busy machine can split one line in two), and
    nbclient keeps each message as an output of its own."""
    parts: list[str] = []
    for cell in notebook.cells:
        streamed = ""
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                streamed += output["text"]
                continue
            for kind in ("text/plain", "text/markdown"):
                parts.append(output.get("data", {}).get(kind, ""))
        parts.append(streamed)
    return "\n".join(parts)


def test_a_line_printed_in_two_messages_reads_as_one() -> None:
    import nbformat

    cell = nbformat.v4.new_code_cell("print('identical after sync:', True)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="identical after sync:"),
        nbformat.v4.new_output("stream", name="stdout", text=" True\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert "identical after sync: True" in _text(notebook)


def _images(notebook: Any) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(notebook))


@pytest.fixture(scope="module")
def embedded_stopped_after(arrowferry_home: Path) -> Iterator[None]:
    """The quickstart starts the embedded server in the session's home when no test has
    (its default target); stop it afterwards, or it outlives the home that is removed."""
    from arrowferry import embedded

    was_running = embedded.is_running()
    yield
    if not was_running:
        embedded.stop()


@pytest.fixture(scope="module")
def executed(embedded_stopped_after: None) -> dict[str, Any]:
    """Each notebook, executed once for the tests of this module."""
    return {path.name: _execute(path) for path in NOTEBOOKS}


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "benchmarks.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, executed: dict[str, Any]) -> None:
    errors = [o for o in _outputs(executed[path.name]) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_its_outputs(path: Path) -> None:
    """A notebook on GitHub shows what it did: every code cell was run and saved, in order."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert sum(not c.outputs for c in code) <= 1  # only an imports-and-helpers cell shows nothing
    assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"]


@pytest.mark.parametrize("which", ["executed", "committed"])
def test_quickstart_says_what_it_did(which: str, executed: dict[str, Any]) -> None:
    """The run in this test, and the outputs saved in the repository, show the same story."""
    import nbformat

    path = REPO / "notebooks" / "quickstart.ipynb"
    notebook = executed[path.name] if which == "executed" else nbformat.read(path, as_version=4)
    text = _text(notebook)
    # verify into PostgreSQL (11 tables), and back (12: the synced Review table too)
    assert "done 11/11 tables" in text  # the progress board's last frame, kept in the notebook
    assert "all 11 tables match" in text
    assert "all 12 tables match" in text
    assert "3 differences" in text  # the table, column and index added to the copy
    assert "identical after sync: True" in text
    # the incremental run moved exactly the rows added since: two genres, one artist
    assert "'Genre': {'how': 'key', 'cursor': 'GenreId', 'inserted': 2, 'updated': 0" in text
    assert "'Artist': {'how': 'key', 'cursor': 'ArtistId', 'inserted': 1, 'updated': 0" in text
    assert "no differences" in text
    assert "(2328.6, ['ArtistId', 'Name', 'Country'])" in text  # Invoice total; Country came back
    assert "dropped chinook_" in text
    assert _images(notebook) == 1  # result.plot()


def test_benchmarks_charts_every_harness(executed: dict[str, Any]) -> None:
    notebook = executed["benchmarks.ipynb"]
    # run (bulk and default), reverse, pg_to_pg (both), verify, diff_schemas, scaling,
    # floor, profile_cost
    assert _images(notebook) == 8
    assert "every harness has a result" in _text(notebook)


def _made(report: Path) -> str | None:
    """When a report was written (scaling's: its latest size), as the notebook shows it."""
    if not report.exists():
        return None  # the notebook says so; test_benchmarks_names_a_missing_result
    data = json.loads(report.read_text())
    return data.get("created") or max((s["created"] for s in data.get("sizes", [])), default=None)


def test_saved_benchmarks_show_the_latest_results() -> None:
    """The saved charts are of the results in the repository: a harness that writes a new
    report makes this fail until the notebook is saved again."""
    import nbformat

    path = REPO / "notebooks" / "benchmarks.ipynb"
    notebook = nbformat.read(path, as_version=4)
    text = _text(notebook)
    charted = re.findall(r'load\("([^"]+)"', "\n".join(c.source for c in notebook.cells))
    assert sorted(charted) == [
        "diff_schemas.json",
        "floor.json",
        "latest-default.json",
        "latest.json",
        "pg_to_pg-default.json",
        "pg_to_pg.json",
        "profile_cost.json",
        "reverse.json",
        "scaling.json",
        "verify.json",
    ]
    stale = [name for name in charted if (made := _made(RESULTS / name)) and made not in text]
    assert not stale, f"{stale} newer than the saved notebook: python notebooks/save.py {path}"


def test_benchmarks_names_a_missing_result(tmp_path: Path) -> None:
    """Without reverse.json the notebook still runs, says so, and charts the rest; a method
    that did not run is named with its reason, and its harness's chart still draws."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "benchmarks.ipynb", tmp_path / "notebooks")
    shutil.copytree(
        RESULTS,
        tmp_path / "benchmarks" / "results",
        ignore=shutil.ignore_patterns("reverse.json", "*.png"),
    )
    latest = tmp_path / "benchmarks" / "results" / "latest.json"
    report = json.loads(latest.read_text())
    pgloader = next(m for m in report["methods"] if m["name"] == "pgloader")
    pgloader.update(status="failed", reason="timed out after 3600 s", median_s=None)
    latest.write_text(json.dumps(report))
    notebook = _execute(tmp_path / "notebooks" / "benchmarks.ipynb")
    text = _text(notebook)
    assert "*bulk server*: `pgloader` did not run (failed: timed out after 3600 s)." in text
    assert (
        "**PostgreSQL -> SQLite**: no result yet (`benchmarks/results/reverse.json` is missing)."
        in text
    )
    assert "no result yet for: `reverse.json`" in text
    assert _images(notebook) == 7
