"""``migrate --resume`` after ``kill -9`` (issue 15, items 2 and 3).

A CLI process is killed at a point of its run chosen by a seed (between tables, inside
a table's key ranges, during the finishing statements), in both directions; the next
run without ``--resume`` is a clear error; ``--resume`` finishes it; and the result is
compared, relation for relation and value by value, with an uninterrupted run. Nothing
is left: no state, no staging table, no partial file, no session or lock.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.errors import LeftoverStateError
from tests.conftest import fresh_database, sql
from tests.integration._pg_same import assert_same_database
from tests.integration._resume_helpers import (
    EVENTS,
    SMALL_PIECES,
    USERS,
    Progress,
    assert_nothing_left,
    build_source,
    cli_process,
    kill_when,
    pg_progress,
    run_cli,
    sqlite_progress,
    visible_tables_are_whole,
)
from tests.integration._sqlite_same import assert_same_sqlite

ROWS = {"users": USERS, "events": EVENTS, "tags": 300}
INTO_PG = ["--batch-size", "2000", "--lanes", "2"]  # events: 4 key ranges over 2 lanes
EVENT_PIECES = {"postgresql": 4, "sqlite": 8}  # a PostgreSQL source cut by SMALL_PIECES


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("resume") / "app.db")


@pytest.fixture(scope="module")
def pg_source(pg_server: str, source: Path) -> Iterator[str]:
    """The same database in PostgreSQL, for the other direction."""
    with fresh_database(pg_server) as url:
        assert af.migrate(source, url).success
        yield url


@pytest.fixture(scope="module")
def baseline_pg(
    pg_server: str, source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        done = run_cli([str(source), url, *INTO_PG], tmp_path_factory.mktemp("base"))
        assert done.returncode == 0, done.stderr
        yield url


@pytest.fixture(scope="module")
def baseline_sqlite(pg_source: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base-sqlite")
    out = folder / "base.db"
    done = run_cli([pg_source, str(out)], folder, prelude=SMALL_PIECES)
    assert done.returncode == 0, done.stderr
    return out


def _point(point: str, seed: int, into: str) -> tuple[object, float]:
    """What the records must say before the kill, and a little more time to run on."""
    rng = random.Random(f"{point}-{seed}-{into}")
    pieces = EVENT_PIECES[into]
    if point == "inside a table":
        k = rng.randint(1, pieces - 1)
        ready = lambda p: p["piece:events"] >= k  # noqa: E731
    elif point == "between tables":
        # into PostgreSQL one table at a time (--workers 1), the largest first: events,
        # users, tags; into SQLite in the plan's order: events, tags, users
        after = rng.choice(["events", "users"] if into == "postgresql" else ["events", "tags"])
        ready = lambda p: p[f"piece:{after}"] >= (pieces if after == "events" else 1)  # noqa: E731
    else:
        # into SQLite the finishing statements run after the loads, for some 0.1 s here:
        # the kill must land before the file is renamed into place
        k = rng.randint(1, 4 if into == "postgresql" else 2)
        ready = lambda p: p["finished"] >= k  # noqa: E731
        return ready, 0.0 if into == "sqlite" else rng.choice([0.0, 0.005])
    return ready, rng.choice([0.0, 0.0, 0.005, 0.02])


POINTS = ["between tables", "inside a table", "during the finish"]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("point", POINTS)
def test_sqlite_to_postgresql_killed_and_resumed(
    point: str, seed: int, source: Path, baseline_pg: str, pg_url: str, tmp_path: Path
) -> None:
    ready, delay = _point(point, seed, "postgresql")
    args = [str(source), pg_url, *INTO_PG] + (
        ["--workers", "1"] if point == "between tables" else []
    )
    killed = kill_when(cli_process(args, tmp_path), pg_progress(pg_url), ready, delay=delay)  # type: ignore[arg-type]
    assert killed.at["run"] == 1 and not killed.missed
    visible_tables_are_whole(pg_url, ROWS)  # nothing half loaded looks complete

    again = run_cli(args, tmp_path)
    assert again.returncode == 2 and "--resume" in again.stderr and "--drop-tables" in again.stderr
    resumed = run_cli([*args, "--resume", "--json"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    result = json.loads(resumed.stdout)
    assert result["rows_migrated"] == sum(ROWS.values())
    assert {t["name"]: t["rows"] for t in result["tables"]} == ROWS

    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url, tmp_path)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("point", POINTS)
def test_postgresql_to_sqlite_killed_and_resumed(
    point: str, seed: int, pg_source: str, baseline_sqlite: Path, tmp_path: Path
) -> None:
    ready, delay = _point(point, seed, "sqlite")
    out = tmp_path / "out.db"
    partial = tmp_path / "out.db.arrowferry-partial"
    for _ in range(3):  # the finishing statements take some 0.1 s: a kill may come late
        proc = cli_process([pg_source, str(out)], tmp_path, prelude=SMALL_PIECES)
        killed = kill_when(proc, sqlite_progress(partial), ready, delay=delay)  # type: ignore[arg-type]
        if not killed.missed:
            break
        out.unlink()
        ready, delay = (lambda p: p["finished"] >= 1), 0.0
    assert killed.at["run"] == 1 and not killed.missed
    assert not out.exists() and partial.exists()  # nothing that looks complete

    again = run_cli([pg_source, str(out)], tmp_path, prelude=SMALL_PIECES)
    assert again.returncode == 2 and "--resume" in again.stderr, again.stderr
    resumed = run_cli([pg_source, str(out), "--resume", "--json"], tmp_path, prelude=SMALL_PIECES)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert json.loads(resumed.stdout)["rows_migrated"] == sum(ROWS.values())

    assert_same_sqlite(baseline_sqlite, out)
    assert_nothing_left(folder=tmp_path)


# --- what a resume refuses, and starting over ----------------------------------------------


def _killed_inside_events(source: Path, url: str, folder: Path, *extra: str) -> None:
    args = [str(source), url, *INTO_PG, *extra]
    killed = kill_when(
        cli_process(args, folder), pg_progress(url), lambda p: p["piece:events"] >= 1
    )
    assert killed.at["piece:events"] >= 1


def test_a_resume_of_another_run_is_refused(source: Path, pg_url: str, tmp_path: Path) -> None:
    _killed_inside_events(source, pg_url, tmp_path)
    with pytest.raises(LeftoverStateError) as info:
        af.migrate(source, pg_url, resume=True, on_bad_value="null", lanes=2)
    assert "on_bad_value was 'reject', now 'null'" in info.value.message
    other = build_source(tmp_path / "other.db", events=EVENTS + 1)
    with pytest.raises(LeftoverStateError) as info:
        af.migrate(other, pg_url, resume=True)
    message = info.value.message
    assert "other.db" in message and "app.db" in message and "--drop-tables" in message
    assert "events" in message  # its plan differs: one more row
    # the refusals changed nothing: the same run still resumes
    assert af.migrate(source, pg_url, resume=True, batch_size=2000).success


def test_drop_tables_starts_over(
    source: Path, pg_url: str, baseline_pg: str, tmp_path: Path
) -> None:
    _killed_inside_events(source, pg_url, tmp_path)
    result = af.migrate(source, pg_url, drop_tables=True, batch_size=2000, lanes=2)
    assert result.success, result.errors
    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url)


def test_resume_with_nothing_to_resume_is_a_run(
    source: Path, pg_url: str, baseline_pg: str
) -> None:
    result = af.migrate(source, pg_url, resume=True, batch_size=2000, lanes=2)
    assert result.success, result.errors
    assert_same_database(baseline_pg, "public", pg_url, "public")
    assert_nothing_left(pg_url)


def test_a_table_changed_since_is_refused(source: Path, pg_url: str, tmp_path: Path) -> None:
    args = [str(source), pg_url, *INTO_PG, "--workers", "1"]
    kill_when(cli_process(args, tmp_path), pg_progress(pg_url), lambda p: p["piece:users"] >= 1)
    sql(pg_url, "DELETE FROM users WHERE id = 1")  # a table the run completed
    with pytest.raises(LeftoverStateError, match="table 'users' holds 1,999 rows"):
        af.migrate(source, pg_url, resume=True)


def test_a_dry_run_says_a_run_was_interrupted(source: Path, pg_url: str, tmp_path: Path) -> None:
    _killed_inside_events(source, pg_url, tmp_path)
    result = af.migrate(source, pg_url, dry_run=True)
    assert any("--resume" in w and "interrupted" in w for w in result.warnings), result.warnings


def test_rejected_rows_are_kept_whole_across_a_resume(pg_server: str, tmp_path: Path) -> None:
    """A table that rejected rows in key ranges the killed run committed loads again whole
    (their reject records were not kept), so the reject file of the resumed run is the
    uninterrupted run's, and no reject file is left half written."""
    dirty = build_source(tmp_path / "dirty.db", bad_every=997)
    with fresh_database(pg_server) as base, fresh_database(pg_server) as url:
        (tmp_path / "base").mkdir()
        (tmp_path / "run").mkdir()
        done = run_cli([str(dirty), base, *INTO_PG], tmp_path / "base")
        assert done.returncode == 1, done.stderr  # rows were rejected
        args = [str(dirty), url, *INTO_PG]
        kill_when(
            cli_process(args, tmp_path / "run"), pg_progress(url), lambda p: p["piece:events"] >= 2
        )
        resumed = run_cli([*args, "--resume"], tmp_path / "run")
        assert resumed.returncode == 1, resumed.stderr
        assert "loads again from its start" in resumed.stdout + resumed.stderr
        assert_same_database(base, "public", url, "public")
        rejects = [
            p / "arrowferry-rejects" / "events.jsonl" for p in (tmp_path / "base", tmp_path / "run")
        ]
        expected = rejects[0].read_text().splitlines()
        assert len(expected) == len(range(0, EVENTS, 997))
        assert sorted(rejects[1].read_text().splitlines()) == sorted(expected)
        assert_nothing_left(url, tmp_path / "run")


# --- data-only: what it took away comes back ----------------------------------------------


SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE NOT NULL, name text,
    created_at timestamp, balance numeric(12,2));
CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),
    kind text NOT NULL, payload jsonb, score double precision, flag boolean);
CREATE INDEX events_kind ON events (kind);
CREATE TABLE tags (name text PRIMARY KEY, n bigint);
"""


def test_a_data_only_run_puts_back_what_it_took_away(
    source: Path, pg_server: str, tmp_path: Path
) -> None:
    with fresh_database(pg_server) as base, fresh_database(pg_server) as url:
        for target in (base, url):
            for statement in SCHEMA.split(";")[:-1]:
                sql(target, statement)
        assert af.migrate(source, base, data_only=True, rebuild_indexes=True).success
        args = [str(source), url, "--data-only", "--rebuild-indexes", "--workers", "1"]
        kill_when(cli_process(args, tmp_path), pg_progress(url), lambda p: p["piece:events"] >= 1)
        # the foreign key and the index are gone until the run is finished
        assert sql(url, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == [(0,)]
        again = run_cli(args, tmp_path)
        assert again.returncode == 2
        assert "events_user_id_fkey" in again.stderr and "events_kind" in again.stderr
        assert "--resume" in again.stderr and "--drop-tables" not in again.stderr
        resumed = run_cli([*args, "--resume"], tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert_same_database(base, "public", url, "public")
        assert_nothing_left(url)


# --- an existing SQLite file, added to ---------------------------------------------------------


def test_tables_added_to_an_existing_file_resume(
    pg_source: str, baseline_sqlite: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.db"
    sqlite3.connect(out).close()  # an existing (empty) file: tables go in one by one
    proc = cli_process([pg_source, str(out)], tmp_path, prelude=SMALL_PIECES)

    def progress() -> Progress:
        return sqlite_progress(out)()

    kill_when(proc, progress, lambda p: p["piece:events"] >= 1)
    resumed = run_cli([pg_source, str(out), "--resume"], tmp_path, prelude=SMALL_PIECES)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_sqlite(baseline_sqlite, out, ignore=("pragmas",))
    conn = sqlite3.connect(out)
    assert conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name LIKE '%arrowferry%'"
    ).fetchone() == (0,)
    conn.close()
