"""Progress as data and on screen (issue 17, items 1 and 2): on_progress events in order
with consistent totals from every pipeline (SQLite -> PostgreSQL with lanes, PostgreSQL
-> SQLite with its readers, a same-dialect copy), at a bounded rate; a callable that
raises stops the run; the terminal bars on a pseudo-terminal's stderr never touch
--json on stdout; the notebook display updates in place in a real kernel."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.progress import NullReporter
from tests.conftest import REPO, pg_tables, sql

BIG = 300_000  # rows enough for the load to last long enough for running events
BATCH = 10_000


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A large table to split over lanes, two small ones, and one of no rows."""
    path = tmp_path_factory.mktemp("progress") / "src.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, x REAL);"
        "CREATE TABLE small (id INTEGER PRIMARY KEY, label TEXT);"
        "CREATE TABLE tiny (id INTEGER PRIMARY KEY, big_id INTEGER REFERENCES big (id));"
        "CREATE TABLE empty (id INTEGER PRIMARY KEY);"
    )
    conn.executemany(
        "INSERT INTO big VALUES (?, ?, ?)", ((i, f"name {i}", i / 4) for i in range(1, BIG + 1))
    )
    conn.executemany("INSERT INTO small VALUES (?, ?)", ((i, f"l{i}") for i in range(1, 5001)))
    conn.executemany("INSERT INTO tiny VALUES (?, ?)", ((i, i) for i in range(1, 11)))
    conn.commit()
    conn.close()
    return path


ROWS = {"big": BIG, "small": 5000, "tiny": 10, "empty": 0}


class Lanes(NullReporter):
    """The threads each table's rows were reported from (the engine's own calls)."""

    def __init__(self) -> None:
        self.threads: dict[str, set[str]] = defaultdict(set)

    def advance(self, table: str, rows: int) -> None:
        self.threads[table].add(threading.current_thread().name)


def check_events(events: Sequence[af.MigrationProgress], rows: dict[str, int]) -> None:
    """Each table's events in order with a fixed total; the run's phases in order with
    fixed totals; every figure adds up; running events at least 0.1 s apart."""
    by_table: dict[str | None, list[af.MigrationProgress]] = defaultdict(list)
    for e in events:
        by_table[e.table].append(e)
    assert set(by_table) == {None, *rows}
    for name, count in rows.items():
        seq = by_table[name]
        assert seq[0].status == "started" and seq[-1].status == "done", name
        assert {e.status for e in seq[1:-1]} <= {"running"}, name
        assert [e.total for e in seq] == [count] * len(seq), name
        currents = [e.current for e in seq]
        assert currents == sorted(currents) and currents[-1] == count, (name, currents)
        percentages = [e.percentage for e in seq]
        assert percentages == sorted(percentages) and percentages[-1] == 100.0, name
        assert all(e.phase == "load" and not e.total_raised for e in seq), name
        running = [e for e in seq if e.status == "running"]
        gaps = [b.elapsed_seconds - a.elapsed_seconds for a, b in itertools.pairwise(running)]
        assert all(gap >= 0.1 - 1e-9 for gap in gaps), (name, gaps)
    run = by_table[None]
    assert [(e.phase, e.status) for e in run] == [
        ("plan", "started"),
        ("plan", "done"),
        ("load", "started"),
        ("finish", "started"),
        ("done", "done"),
    ]
    after_plan = events[1:]
    assert {(e.tables_total, e.rows_total) for e in after_plan} == {(len(rows), sum(rows.values()))}
    done = [e.rows_done for e in events]
    assert done == sorted(done)
    for e in events:  # the overall figures are the tables' figures added up
        assert 0 <= e.rows_done <= e.rows_total and 0 <= e.overall_percentage <= 100
    last = events[-1]
    assert (last.rows_done, last.tables_done, last.tables_failed) == (
        sum(rows.values()),
        len(rows),
        0,
    )
    assert last.overall_percentage == 100.0 and last.overall_eta_seconds == 0.0


def test_sqlite_to_postgresql_with_lanes(source: Path, pg_url: str) -> None:
    events: list[af.MigrationProgress] = []
    lanes = Lanes()
    result = af.migrate(
        source, pg_url, batch_size=BATCH, lanes=3, on_progress=events.append, reporter=lanes
    )
    assert result.success, result.errors
    assert len(lanes.threads["big"]) >= 2, lanes.threads  # the big table went over lanes
    check_events(events, ROWS)
    assert [e for e in events if e.table == "big" and e.status == "running"], "no running event"
    for name, count in ROWS.items():  # the figures are the target's counts
        assert sql(pg_url, f"SELECT count(*) FROM {name}") == [(count,)]


def test_postgresql_to_sqlite_with_readers(source: Path, pg_url: str, tmp_path: Path) -> None:
    af.migrate(source, pg_url, progress=False)
    events: list[af.MigrationProgress] = []
    out = tmp_path / "back.db"
    result = af.migrate(pg_url, out, batch_size=BATCH, lanes=3, on_progress=events.append)
    assert result.success, result.errors
    check_events(events, ROWS)
    conn = sqlite3.connect(out)
    try:
        for name, count in ROWS.items():
            assert conn.execute(f"SELECT count(*) FROM {name}").fetchone() == (count,)
    finally:
        conn.close()


def test_a_same_dialect_copy(source: Path, tmp_path: Path) -> None:
    events: list[af.MigrationProgress] = []
    result = af.migrate(source, tmp_path / "copy.db", on_progress=events.append)
    assert result.success, result.errors
    check_events(events, ROWS)


def test_rejected_rows_count_as_dealt_with(tmp_path: Path, pg_url: str) -> None:
    src = tmp_path / "dirty.db"
    conn = sqlite3.connect(src)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at DATE)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, "2024-01-02"), (2, "not a date")])
    conn.commit()
    conn.close()
    events: list[af.MigrationProgress] = []
    result = af.migrate(
        src, pg_url, reject_dir=str(tmp_path / "rejects"), on_progress=events.append
    )
    assert result.rows_rejected == 1 and sql(pg_url, "SELECT id FROM t") == [(1,)]
    last = [e for e in events if e.table == "t"][-1]
    assert (last.status, last.current, last.total, last.percentage) == ("done", 2, 2, 100.0)
    assert events[-1].status == "failed"  # the run did not succeed: a row was rejected


def test_a_callable_that_raises_stops_the_run(source: Path, tmp_path: Path) -> None:
    seen: list[af.MigrationProgress] = []

    def fussy(event: af.MigrationProgress) -> None:
        seen.append(event)
        if event.table is not None:
            raise KeyError("a bug in the caller's callable")

    out = tmp_path / "stopped.db"
    with pytest.raises(af.ProgressCallbackError, match="KeyError") as raised:
        af.migrate(source, out, on_progress=fussy)
    assert isinstance(raised.value.__cause__, KeyError)
    assert not out.exists()  # a new SQLite file appears only when complete
    assert [e.table for e in seen if e.table is not None] == [seen[-1].table]  # called no more


def test_a_callable_that_raises_while_planning_writes_nothing(source: Path, pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE big (kept int)")

    def fussy(event: af.MigrationProgress) -> None:
        raise RuntimeError("stop")

    with pytest.raises(af.ProgressCallbackError, match="RuntimeError: stop"):
        af.migrate(source, pg_url, drop_tables=True, on_progress=fussy)
    assert pg_tables(pg_url) == ["big"]  # not dropped: the run stopped before writing
    assert sql(
        pg_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'big'"
    ) == [("kept",)]


# --- the command line on a pseudo-terminal ---------------------------------------------


def on_ptys(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stdout and stderr each on its own pseudo-terminal (both look
    like a terminal to it): exit code, stdout, stderr (newlines as the pty writes them)."""
    out_main, out_tty = pty.openpty()
    err_main, err_tty = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "arrowferry", *args],
        stdin=subprocess.DEVNULL,
        stdout=out_tty,
        stderr=err_tty,
        env=env,
        cwd=REPO,
    )
    os.close(out_tty)
    os.close(err_tty)
    got = {out_main: b"", err_main: b""}
    reading = set(got)
    while reading:
        ready, _, _ = select.select(list(reading), [], [], 1.0)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the other side closed (Linux reports EIO)
                data = b""
            if data:
                got[fd] += data
            else:
                reading.discard(fd)
        if not ready and proc.poll() is not None:
            break
    code = proc.wait(timeout=300)
    for fd in got:
        os.close(fd)
    text = {fd: data.decode().replace("\r\n", "\n") for fd, data in got.items()}
    # stderr read as seen (colours and cursor moves out); stdout exactly as written
    return code, text[out_main], ANSI.sub("", text[err_main])


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


BAR = "━"


def test_terminal_bars_go_to_stderr_and_the_summary_to_stdout(source: Path, pg_url: str) -> None:
    code, out, err = on_ptys("migrate", str(source), pg_url, "--batch-size", str(BATCH))
    assert code == 0, err
    assert BAR in err and "rows/s" in err and "ETA" in err
    assert "big" in err and "/300,000 rows" in err  # the active table's own bar
    assert "done 4/4 tables" in err and "305,010/305,010 rows" in err  # the overall bar
    assert "ETA" not in out and "305,010/305,010" not in out  # no bar: rich tables use ━ too
    assert "migration summary" in out and "300,000" in out


@pytest.mark.parametrize(
    "flags", [["--json"], ["--json", "--verbose"]], ids=["json", "json-verbose"]
)
def test_json_stays_one_object_on_a_terminal(source: Path, pg_url: str, flags: list[str]) -> None:
    code, out, err = on_ptys("migrate", str(source), pg_url, "--drop-tables", *flags)
    assert code == 0, err
    data = json.loads(out)  # the whole of stdout is one JSON object
    assert data["success"] is True and data["rows_migrated"] == sum(ROWS.values())
    assert BAR not in err
    if "--verbose" in flags:  # every phase and statement is logged, on stderr
        for line in ("phase: plan", "phase: load", "phase: finish", "COPY", "CREATE TABLE"):
            assert line in err, line
    else:
        assert err.strip() == ""


@pytest.mark.parametrize("flag", ["--no-progress", "--quiet"])
def test_no_progress_and_quiet_draw_no_bars(source: Path, pg_url: str, flag: str) -> None:
    code, out, err = on_ptys("migrate", str(source), pg_url, "--drop-tables", flag)
    assert code == 0, err
    assert BAR not in err and "rows/s" not in err and err.strip() == ""
    assert "migration summary" in out


def test_verbose_logs_phases_beside_the_bars(source: Path, pg_url: str) -> None:
    code, out, err = on_ptys("migrate", str(source), pg_url, "--drop-tables", "-v")
    assert code == 0, err
    assert BAR in err and "phase: load" in err and "table big: done, 300000 rows" in err
    assert "phase" not in out


# --- Jupyter ----------------------------------------------------------------------------


def test_a_notebook_shows_the_board_live_by_default(source: Path, pg_url: str) -> None:
    import nbformat
    from nbclient import NotebookClient

    kinds: list[str] = []

    class Recording(NotebookClient):  # type: ignore[misc]
        def process_message(self, msg: dict, cell: object, cell_index: int) -> object:  # type: ignore[type-arg]
            kinds.append(msg["msg_type"])
            return super().process_message(msg, cell, cell_index)

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import arrowferry as af\n"
            f"result = af.migrate({str(source)!r}, {pg_url!r}, batch_size={BATCH})"
        ),
        nbformat.v4.new_code_cell(
            f"quiet = af.migrate({str(source)!r}, {pg_url!r}, drop_tables=True, progress=False)"
        ),
        nbformat.v4.new_code_cell("result.success, quiet.success"),
    ]
    client = Recording(notebook, timeout=300, kernel_name="python3")
    client.execute()
    first, second, third = (cell.outputs for cell in notebook.cells)
    assert [o.output_type for o in first] == ["display_data"]  # one output, updated in place
    frame = first[0].data
    assert "done 4/4 tables" in frame["text/plain"]
    assert "305,010/305,010 rows" in frame["text/plain"]
    assert "<pre" in frame["text/html"] and "305,010" in frame["text/html"]
    assert kinds.count("update_display_data") >= 3
    assert second == []  # progress=False: nothing shown
    assert third[0].data["text/plain"] == "(True, True)"
