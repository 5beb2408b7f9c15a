"""A schema of many tables costs in proportion to its tables, not to their square.

A file of 1,000 small tables did not finish in 12 minutes: each table loaded or
statement done made the finisher weigh every pending statement against every other
(some 5,000), and each table's read opened a SQLite connection that parsed the whole
schema again (8 ms). Counted here, not timed (the timing is ``benchmarks/many_tables.py``):
the scheduler's comparisons per statement, and the SQLite connections a run opens.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.dialects.base import OK, Ran
from arrowferry.dialects.postgresql.finishing import STAGES
from arrowferry.plan import Statement
from arrowferry.progress import NullReporter
from arrowferry.result import Summary
from arrowferry.transfer import finish
from tests.conftest import make_sqlite, sql


class _Target:
    """A finishing target that records the order statements ran in."""

    stages = STAGES

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.lock = threading.Lock()

    def connection(self) -> Any:
        return object()

    def release(self, conn: Any) -> None:
        pass

    def execute(self, conn: Any, sql: str) -> None:
        pass

    def fetch(self, conn: Any, sql: str) -> list[tuple[Any, ...]]:
        return []

    def message(self, err: BaseException) -> str:
        return str(err)

    def probe_view(self, conn: Any, name: str) -> None:
        pass

    def drop_view(self, conn: Any, name: str) -> None:
        pass

    def run(self, conn: Any, stmt: Statement) -> Ran | None:
        with self.lock:
            self.ran.append(stmt.name)
        return Ran(OK)

    @contextlib.contextmanager
    def recorded(self, conn: Any, stmt: Statement) -> Iterator[list[Any]]:
        yield []

    def note(self, conn: Any, record: Any) -> None:
        pass


def _statements(tables: int) -> list[Statement]:
    out = []
    for i in range(tables):
        t = f"t{i}"
        out += [
            Statement("key_index", "", t, f"{t}_pkey"),
            Statement("index", "", t, f"{t}_name"),
            Statement("primary_key", "", t, f"{t}_pk", requires=f"{t}_pkey"),
            Statement("sequence", "", t, f"{t}_seq"),
            Statement("analyze", "", t, f"{t}_analyze"),
        ]
        if i:  # a foreign key to the table before
            out.append(Statement("foreign_key", "", t, f"{t}_fk", depends=(f"t{i - 1}",)))
    return out


@pytest.mark.parametrize("tables", [100, 400])
def test_the_finisher_weighs_each_statement_against_its_tables_only(
    tables: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    original = finish._waits_for

    def counted(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        return original(*args)

    monkeypatch.setattr(finish, "_waits_for", counted)
    target = _Target()
    warnings: list[str] = []
    finisher = finish.Finisher(target, 2, NullReporter(), Summary(), warnings.append)  # type: ignore[arg-type]
    statements = _statements(tables)
    finisher.add(statements)
    for i in range(tables):
        finisher.table_loaded(f"t{i}")
    finisher.loading_done(set())
    finisher.close([])
    assert not warnings and sorted(target.ran) == sorted(s.name for s in statements)
    # the order every statement's stage asks for, table by table
    at = {name: n for n, name in enumerate(target.ran)}
    for i in range(tables):
        t = f"t{i}"
        assert at[f"{t}_pkey"] < at[f"{t}_pk"] < at[f"{t}_analyze"]
        assert at[f"{t}_name"] < at[f"{t}_analyze"]
        if i:
            fk = at[f"{t}_fk"]
            assert at[f"{t}_pk"] < fk and at[f"t{i - 1}_pk"] < fk < at[f"{t}_analyze"]
    # linear: a few dozen comparisons a statement, whatever the schema's size (the
    # scheduler before weighed each against all pending: ~len(statements) each)
    assert calls < 40 * len(statements), calls


def test_a_run_reuses_its_sqlite_readers(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "".join(
        f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        f"CREATE INDEX t{i}_name ON t{i} (name);"
        for i in range(60)
    )
    rows = {f"t{i}": [(j, f"n{i}.{j}") for j in range(5)] for i in range(60)}
    source = make_sqlite(tmp_path / "many.db", script, rows)

    from arrowferry.dialects.sqlite import read

    opened: list[Any] = []
    original = read.open_reader

    def counted(path: Path) -> Any:
        conn = original(path)
        opened.append(conn)
        return conn

    monkeypatch.setattr(read, "open_reader", counted)
    result = af.migrate(source, pg_url)
    assert result.success, result.to_dict()
    assert result.summary.tables_created == 60
    assert sql(pg_url, 'SELECT count(*), min(name), max(name) FROM "t59"') == [
        (5, "n59.0", "n59.4")
    ]
    # a reader per thread reading at once, not one per table
    assert 1 <= len(opened) <= 4, len(opened)
    import adbc_driver_manager

    for conn in opened:  # all closed at the end of the run
        with pytest.raises(adbc_driver_manager.ProgrammingError, match=r"closed|Init first"):
            conn.cursor()


def test_an_incremental_run_reuses_its_metadata_connection(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each table's bound (its cursor's or key's high-water mark) was read on a new
    connection: 1,000 tables, 1,000 schema parses, most of a run with no change."""
    script = "".join(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT);" for i in range(40))
    rows = {f"t{i}": [(j, f"v{j}") for j in range(3)] for i in range(40)}
    source = make_sqlite(tmp_path / "many.db", script, rows)
    assert af.migrate(source, pg_url).success
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO t39 VALUES (3, 'new')")

    from arrowferry.dialects.sqlite import catalog, delta

    opened = 0
    original = catalog.connect_metadata

    def counted(path: Path, **kw: Any) -> Any:
        nonlocal opened
        opened += 1
        return original(path, **kw)

    for module in (catalog, delta):  # the kept connections are opened through catalog's
        monkeypatch.setattr(module, "connect_metadata", counted)
    result = af.migrate(source, pg_url, mode="incremental")
    assert result.success, result.to_dict()
    assert result.incremental["t39"]["inserted"] == 1, result.incremental["t39"]
    assert all(result.incremental[f"t{i}"]["inserted"] == 0 for i in range(39))
    assert sql(pg_url, "SELECT v FROM t39 WHERE id = 3") == [("new",)]
    assert 1 <= opened <= 4, opened


def test_verify_reuses_its_sqlite_connections(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify opened five SQLite connections a table (its span twice, a count, a sample
    of its rows, its rows): 45 s for 1,000 small tables, now 7."""
    script = "".join(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT);" for i in range(40))
    rows = {f"t{i}": [(j, f"v{j}") for j in range(3)] for i in range(40)}
    source = make_sqlite(tmp_path / "many.db", script, rows)
    assert af.migrate(source, pg_url).success

    from arrowferry.dialects.sqlite import catalog, read

    opened = 0
    metadata, reader = catalog.connect_metadata, read.open_reader

    def counted(real: Any) -> Any:
        def open_one(*args: Any, **kw: Any) -> Any:
            nonlocal opened
            opened += 1
            return real(*args, **kw)

        return open_one

    monkeypatch.setattr(catalog, "connect_metadata", counted(metadata))
    monkeypatch.setattr(read, "open_reader", counted(reader))
    report = af.verify(source, pg_url)
    assert report.ok and len(report.tables) == 40, report
    sql(pg_url, "UPDATE t7 SET v = 'changed' WHERE id = 1")
    assert not af.verify(source, pg_url).ok  # the same connections still see every value
    assert opened <= 16, opened
