"""verify proves a copy right (issue 15, item 1): a correct migration always matches, and
one changed value, one missing row, one extra row or two values swapped between rows
never do, in every pair (SQLite -> PostgreSQL, PostgreSQL -> SQLite, PostgreSQL ->
PostgreSQL, SQLite -> SQLite); the corpus and every-type fixtures verify clean; rows a
migration rejected are accounted for from the reject files."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings

import arrowferry as af
from arrowferry.checksum import pairing
from arrowferry.cli import main
from tests.conftest import CHINOOK, REPO, fresh_database, sql
from tests.integration.test_roundtrip_hypothesis import FAMILIES, tables

ROWS = 1_200
SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY, name TEXT, price NUMERIC(10,2), qty INTEGER, score REAL,
    active BOOLEAN, created DATETIME, day DATE, doc JSON, tags JSON, data BLOB, uid UUID
);
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b));
CREATE TABLE loose (x INTEGER, y TEXT);
"""
PAIRS = ("sqlite->postgresql", "postgresql->sqlite", "postgresql->postgresql", "sqlite->sqlite")
Run = Callable[[str], None]


def _item(i: int) -> tuple[Any, ...]:
    return (
        i,
        None if i % 10 == 0 else f"item {i}",
        round(i * 1.25 + 0.005 * (i % 3), 2),
        i % 17,
        i / 7,
        i % 2,
        f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:{i % 59:02d}" + (".5" if i % 4 == 0 else ""),
        f"2023-12-{1 + i % 28:02d}",
        json.dumps({"n": i, "tag": f"t{i % 5}", "ok": i % 3 == 0}),
        json.dumps([f"x{i % 4}", i]),
        bytes([i % 256, 7, 0]),
        str(uuid.UUID(int=i)),
    )


def build_source(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(SCHEMA)
        conn.executemany(
            f"INSERT INTO items VALUES ({', '.join('?' * 12)})", map(_item, range(1, ROWS + 1))
        )
        conn.executemany(
            "INSERT INTO pairs VALUES (?, ?, ?)", [(f"a{i % 10}", i, f"v{i}") for i in range(300)]
        )
        conn.executemany("INSERT INTO loose VALUES (?, ?)", [(i % 50, f"y{i}") for i in range(300)])
        conn.commit()
    return path


def _sqlite_runner(path: Path) -> Run:
    def run(statement: str) -> None:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute(statement)
            conn.commit()

    return run


@contextmanager
def copied(kind: str, tmp_path: Path, server: str) -> Iterator[tuple[str, str, Run]]:
    """(source, target, run SQL on the target): a correct copy for one pair."""
    lite = build_source(tmp_path / "source.db")
    with ExitStack() as stack:
        if kind.startswith("postgresql"):
            pg_source = stack.enter_context(fresh_database(server))
            assert af.migrate(lite, pg_source).success
            source = pg_source
        else:
            source = str(lite)
        if kind.endswith("->postgresql"):
            target = stack.enter_context(fresh_database(server))
            run: Run = lambda statement: sql(target, statement)  # noqa: E731
        else:
            path = tmp_path / "target.db"
            target, run = str(path), _sqlite_runner(path)
        result = af.migrate(source, target)
        assert result.success, result.to_dict()
        yield source, target, run


def _report(source: str, target: str) -> af.VerificationReport:
    return af.verify(source, target, examples=3)


def _table(report: af.VerificationReport, name: str) -> Any:
    return next(t for t in report.tables if t.source == name)


@pytest.fixture(autouse=True)
def _small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of 256 rows: the 1,200-row table spans several, as large tables do."""
    monkeypatch.setattr(pairing, "SEGMENT_ROWS", 256)


@pytest.mark.parametrize("kind", PAIRS)
def test_a_correct_copy_matches_and_each_difference_is_caught(
    kind: str, tmp_path: Path, pg_server: str
) -> None:
    with copied(kind, tmp_path, pg_server) as (source, target, run):
        report = _report(source, target)
        assert report.ok, str(report)
        assert [(t.source, t.source_rows, t.target_rows) for t in report.tables] == [
            ("items", ROWS, ROWS),
            ("loose", 300, 300),
            ("pairs", 300, 300),
        ]

        # one changed value: the column named, the key shown with both values
        run("UPDATE items SET name = 'changed' WHERE id = 7")
        items = _table(_report(source, target), "items")
        assert not items.ok and items.columns == ["name"] and items.changed_rows == 1
        (example,) = items.examples
        assert (example.kind, example.key, example.columns) == (
            "changed",
            {"id": 7},
            {"name": ("item 7", "changed")},
        )
        run("UPDATE items SET name = 'item 7' WHERE id = 7")
        assert _report(source, target).ok

        # one missing row
        run("DELETE FROM items WHERE id = 11")
        items = _table(_report(source, target), "items")
        assert (items.missing_rows, items.extra_rows, items.changed_rows) == (1, 0, 0)
        assert items.target_rows == ROWS - 1
        assert [(e.kind, e.key) for e in items.examples] == [("missing", {"id": 11})]

        # one extra row
        run("INSERT INTO pairs (a, b, v) VALUES ('zz', 999, 'new')")
        report = _report(source, target)
        pairs = _table(report, "pairs")
        assert (pairs.missing_rows, pairs.extra_rows) == (0, 1)
        assert [(e.kind, e.key) for e in pairs.examples] == [("extra", {"a": "zz", "b": 999})]

        # two values swapped between rows: every count still agrees
        run("UPDATE loose SET y = CASE y WHEN 'y1' THEN 'y2' ELSE 'y1' END WHERE y IN ('y1', 'y2')")
        run("UPDATE items SET qty = CASE id WHEN 3 THEN 4 ELSE 3 END WHERE id IN (3, 4)")
        report = _report(source, target)
        items, loose = _table(report, "items"), _table(report, "loose")
        assert items.columns == ["qty"] and items.changed_rows == 2
        assert sorted(e.key["id"] for e in items.examples if e.kind == "changed") == [3, 4]
        # no key: the two rows are one missing and one extra row each
        assert not loose.ok and loose.source_rows == loose.target_rows
        assert (loose.missing_rows, loose.extra_rows) == (2, 2)
        assert not report.ok and len(report.failed) == 3


@pytest.mark.parametrize("kind", PAIRS)
@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("UPDATE items SET price = price + 0.01 WHERE id = 5", "price"),
        ("UPDATE items SET score = score * 1.0000000001 WHERE id = 5", "score"),
        ("UPDATE items SET active = 1 - active WHERE id = 5", "active"),
        ("UPDATE items SET day = '2020-02-29' WHERE id = 5", "day"),
        ("UPDATE items SET data = NULL WHERE id = 5", "data"),
    ],
)
def test_one_changed_value_of_any_type_is_caught(
    kind: str, statement: str, column: str, tmp_path: Path, pg_server: str
) -> None:
    if kind.endswith("->postgresql") and column == "active":
        statement = "UPDATE items SET active = NOT active WHERE id = 5"
    with copied(kind, tmp_path, pg_server) as (source, target, run):
        run(statement)
        items = _table(_report(source, target), "items")
        assert items.columns == [column] and items.changed_rows == 1, items.to_dict()


def test_a_timestamp_moved_by_a_microsecond_and_json_reordered(tmp_path: Path, pg_url: str) -> None:
    """jsonb's own key order and spacing match the SQLite text; one microsecond does not."""
    source = build_source(tmp_path / "source.db")
    assert af.migrate(source, pg_url).success
    sql(
        pg_url,
        "UPDATE items SET doc = jsonb_build_object('tag', 't2', 'n', 2, 'ok', false) WHERE id = 2",
    )
    assert af.verify(source, pg_url).ok  # the same document, rebuilt
    sql(pg_url, "UPDATE items SET created = created + interval '1 microsecond' WHERE id = 2")
    sql(pg_url, "UPDATE items SET doc = jsonb_set(doc, '{n}', '-3') WHERE id = 3")  # a sign
    items = _table(af.verify(source, pg_url), "items")
    assert items.columns == ["created", "doc"] and items.changed_rows == 2


@pytest.mark.parametrize("corpus", ["chinook", "northwind"], ids=["chinook", "northwind"])
def test_corpus_migrations_verify_clean_in_every_pair(
    corpus: str, tmp_path: Path, pg_server: str, request: pytest.FixtureRequest
) -> None:
    lite = request.getfixturevalue(corpus)
    with fresh_database(pg_server) as pg, fresh_database(pg_server) as pg_copy:
        for source, target in (
            (lite, pg),
            (pg, tmp_path / "back.db"),
            (pg, pg_copy),
            (lite, tmp_path / "copy.db"),
        ):
            result = af.migrate(source, target, reject_dir=tmp_path / "rejects")
            assert result.success, result.to_dict()
            report = af.verify(source, target, reject_dir=tmp_path / "rejects")
            assert report.ok, str(report)
            assert sum(t.target_rows for t in report.tables) > 1_000


def test_the_shared_corpus_chinook_verifies(tmp_path: Path, pg_url: str) -> None:
    shared = REPO.parent / "shared" / "corpus" / "Chinook_Sqlite.sqlite"
    source = shared if shared.exists() else CHINOOK
    assert af.migrate(source, pg_url).success
    assert af.verify(source, pg_url).ok


def test_rows_in_the_reject_file_are_accounted_for(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "dirty.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, at DATETIME)")
        rows = [(i, i, f"2024-01-01 00:00:{i % 60:02d}") for i in range(1, 101)]
        rows[41] = (42, "forty-two", "2024-01-01")  # text in an INTEGER column
        rows[42] = (43, 43, "not a date")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        conn.commit()
    rejects = tmp_path / "rejects"
    result = af.migrate(path, pg_url, reject_dir=rejects)
    assert result.rows_rejected == 2
    report = af.verify(path, pg_url, reject_dir=rejects)
    assert report.ok, str(report)
    (t,) = report.tables
    assert (t.source_rows, t.rejected_rows, t.target_rows) == (100, 2, 98)
    assert "2 rejected rows accounted for" in str(report)
    # without the reject files, the two rows are missing
    missing = af.verify(path, pg_url, reject_dir=None).tables[0]
    assert missing.missing_rows == 2 and {e.key["id"] for e in missing.examples} == {42, 43}
    # a rejected row that is in the target after all is an extra row
    sql(pg_url, "INSERT INTO t VALUES (42, 0, '2024-01-01')")
    extra = af.verify(path, pg_url, reject_dir=rejects).tables[0]
    assert extra.extra_rows == 1 and extra.examples[0].key == {"id": 42}


def test_bad_values_stored_as_null_match_a_null(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "nulls.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 1), (2, "maybe"), (3, 0)])
        conn.commit()
    assert af.migrate(path, pg_url, on_bad_value="null").rows_migrated == 3
    assert af.verify(path, pg_url, on_bad_value="null").ok
    assert not af.verify(path, pg_url).ok  # the policy decides what 'maybe' became


def test_every_type_verifies_clean_across_engines(pg_server: str, tmp_path: Path) -> None:
    """The every-type PostgreSQL fixture, copied into SQLite (rejects accounted for) and
    into PostgreSQL; the dirty SQLite fixture into PostgreSQL, back, and into SQLite."""
    from tests.integration._pg_fixture import SCHEMA as EVERY
    from tests.integration._pg_fixture import build_every_type_schema
    from tests.integration._sqlite_fixture import build_dirty_sqlite
    from tests.integration.test_dirty_data import build_source as build_traps

    rejects = tmp_path / "rejects"
    with fresh_database(pg_server) as src, fresh_database(pg_server) as dst:
        build_every_type_schema(src, lane_rows=2_000)
        for target, schema in ((tmp_path / "every.db", None), (dst, EVERY)):
            extra = {"target_schema": schema} if schema else {}
            af.migrate(src, target, source_schema=EVERY, reject_dir=rejects, **extra)
            report = af.verify(src, target, source_schema=EVERY, reject_dir=rejects, **extra)
            # a composite whose fields are all NULL arrives as '(,,,)' (verify found it
            # arriving as NULL once: row IS NULL is true for it)
            assert report.ok, str(report)
    traps, dirty = tmp_path / "traps.db", tmp_path / "dirty.db"
    build_traps(traps)
    build_dirty_sqlite(dirty)
    with fresh_database(pg_server) as pg:
        assert af.migrate(traps, pg, reject_dir=rejects).rows_rejected > 0
        assert af.verify(traps, pg, reject_dir=rejects).ok
        assert af.migrate(pg, tmp_path / "traps_back.db").success
        assert af.verify(pg, tmp_path / "traps_back.db").ok
    assert af.migrate(dirty, tmp_path / "dirty_copy.db").success
    assert af.verify(dirty, tmp_path / "dirty_copy.db").ok


def test_migration_verify_and_the_command_line(tmp_path: Path, pg_url: str) -> None:
    source = build_source(tmp_path / "source.db")
    migration = af.Migration(source, pg_url, include=["items", "pairs"], verify=True)
    result = migration.migrate()
    assert result.success and result.verification is not None
    assert result.verification["ok"] and [t["source"] for t in result.verification["tables"]] == [
        "items",
        "pairs",
    ]
    assert migration.verify().ok
    runner = CliRunner()
    done = runner.invoke(main, ["verify", str(source), pg_url, "--tables", "items", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["ok"] is True
    sql(pg_url, "UPDATE items SET name = 'x' WHERE id = 1")
    done = runner.invoke(
        main, ["verify", str(source), pg_url, "--tables", "it*", "--examples", "1"]
    )
    assert done.exit_code == 1 and "id=1: name: 'item 1' -> 'x'" in done.output
    done = runner.invoke(main, ["verify", str(source), str(tmp_path / "nothing.db")])
    assert done.exit_code == 2
    target = tmp_path / "copy.db"
    done = runner.invoke(main, ["migrate", str(source), str(target), "--verify", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["verification"]["ok"] is True


@pytest.fixture(scope="module")
def round_trip_databases(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example is two migrations
)
@given(case=tables())
def test_verify_passes_on_every_hypothesis_round_trip(
    case: tuple[list[str], list[list[Any]], int],
    round_trip_databases: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The round trip's random tables of every type family (NULLs and extremes): SQLite ->
    PostgreSQL -> SQLite, each hop verified clean."""
    families, rows, batch_size = case
    folder = tmp_path_factory.mktemp("verify_roundtrip")
    path = folder / "r.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        names = [f"c{i}" for i in range(len(families))]
        columns = ", ".join(
            f"{n} {FAMILIES[f].declared}" for n, f in zip(names, families, strict=True)
        )
        conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
        for i, row in enumerate(rows, start=1):
            exprs = ", ".join("NULL" if c is None else c.expr for c in row)
            params = [c.param for c in row if c is not None and "?" in c.expr]
            conn.execute(f"INSERT INTO t VALUES ({i}, {exprs})", params)
        conn.commit()
    pg = round_trip_databases
    rejects = folder / "rejects"
    assert af.migrate(path, pg, batch_size=batch_size, drop_tables=True, reject_dir=rejects).success
    there = af.verify(path, pg, reject_dir=rejects)
    assert there.ok, str(there)
    back = folder / "back.sqlite"
    assert af.migrate(pg, back).success
    again = af.verify(pg, back)
    assert again.ok, str(again)


# --- faults during a verification ------------------------------------------------------


def test_a_lost_connection_is_compared_again_on_a_new_one(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL backend terminated under verify's sums: the table is compared again
    on a new session of that side, and the report says so."""
    import psycopg

    from arrowferry.dialects.postgresql.checksum import PostgresChecksum
    from arrowferry.dialects.postgresql.connection import fetch

    with copied("sqlite->postgresql", tmp_path, pg_url) as (source, target, _run):
        original, killed = PostgresChecksum.segment_sums, []

        def cut(self: PostgresChecksum, table: Any) -> Any:
            if not killed:
                pid = fetch(self.conn, "SELECT pg_backend_pid()")[0][0]
                with psycopg.connect(target, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                killed.append(pid)
            return original(self, table)

        monkeypatch.setattr(PostgresChecksum, "segment_sums", cut)
        report = _report(source, target)
    assert killed
    assert report.ok, str(report)
    assert any("compared again on a new connection" in w for w in report.warnings), report.warnings


def test_a_side_that_fails_for_good_is_not_compared_and_said_so(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arrowferry.dialects.postgresql.checksum import PostgresChecksum

    def refused(self: PostgresChecksum, table: Any) -> Any:
        raise RuntimeError(
            f"IO: Failed to prepare query: ERROR:  permission denied for table {table.name}\n\n"
            "Query was: SELECT seg ..."
        )

    with copied("sqlite->postgresql", tmp_path, pg_url) as (source, target, _run):
        monkeypatch.setattr(PostgresChecksum, "segment_sums", refused)
        report = _report(source, target)
    assert not report.ok and report.warnings == []
    assert str(report).splitlines()[0].endswith("3 of 3 tables could not be compared")
    items = _table(report, "items")
    assert not items.compared
    assert items.problem == (
        "could not be compared: the target failed: permission denied for table items"
    )
