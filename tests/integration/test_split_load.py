"""Large tables load over several COPY connections (lanes) without giving up exactness.

A split table is created in the staging schema, each lane commits its own rows, and the
table moves into the target schema only when every lane is in. These tests pin what
that must keep: every row exactly once, the same values as a one-connection load, no
table (and no staging leftover) after a failure, rejects complete across lanes, and a
table that is never visible in the target schema while it is half loaded.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.dialects.postgresql.target import STAGING_SCHEMA
from arrowferry.progress import NullReporter
from tests.conftest import make_sqlite, pg_tables, sql

ROWS = 20_000
BATCH = 1_000  # 20 pieces, so every lane gets several


def _source(path: Path, bad_rows: dict[int, str] | None = None, gaps: bool = False) -> Path:
    """A rowid table of ROWS rows (rowids with holes when ``gaps``), text timestamps."""
    bad = bad_rows or {}
    step = 7 if gaps else 1
    rows = [
        (
            i * step,
            f"name {i}",
            i * 0.5,
            bad.get(i, f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00"),
            f'{{"k": {i}}}',
        )
        for i in range(1, ROWS + 1)
    ]
    return make_sqlite(
        path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, x REAL, "
        "at TIMESTAMP, doc JSON);",
        {"t": rows},
    )


def _target_rows(url: str) -> list[tuple[Any, ...]]:
    return sql(url, "SELECT id, name, x, at::text, doc::text FROM t ORDER BY id")


def test_split_load_matches_one_connection_load(
    tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    from tests.conftest import fresh_database

    src = _source(tmp_path / "s.db", gaps=True)
    split = af.migrate(src, pg_url, batch_size=BATCH, lanes=3)
    assert split.success, split.errors
    with fresh_database(pg_server) as single_url:
        single = af.migrate(src, single_url, batch_size=BATCH, lanes=1)
        assert single.success, single.errors
        expected = _target_rows(single_url)
    got = _target_rows(pg_url)
    assert len(got) == ROWS
    assert got == expected  # same rows, same values, each once
    assert len({r[0] for r in got}) == ROWS
    # the table is in place with its key, and the staging schema is gone
    assert pg_tables(pg_url) == ["t"]
    assert sql(
        pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", [STAGING_SCHEMA]
    ) == [(0,)]
    assert sql(
        pg_url,
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.t'::regclass AND contype = 'p'",
    ) == [(1,)]
    # the identity sequence moved with the table and continues after the data
    assert sql(pg_url, "INSERT INTO t (name) VALUES ('new') RETURNING id") == [(ROWS * 7 + 1,)]


def test_a_failing_lane_leaves_no_table_and_no_staging(tmp_path: Path, pg_url: str) -> None:
    # a bad timestamp deep in the table: some lane meets it after others committed
    src = _source(tmp_path / "s.db", bad_rows={ROWS - 5: "2024-02-30 10:00:00"})
    result = af.migrate(src, pg_url, batch_size=BATCH, lanes=3, on_bad_value="fail")
    assert not result.success and len(result.errors) == 1
    message = result.errors[0].message
    assert result.errors[0].table == "t"
    assert "'at'" in message and "2024-02-30" in message, message
    assert pg_tables(pg_url) == []
    assert pg_tables(pg_url, STAGING_SCHEMA) == []
    assert sql(
        pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", [STAGING_SCHEMA]
    ) == [(0,)]


def test_rejects_are_complete_across_lanes(tmp_path: Path, pg_url: str) -> None:
    bad = {i: "not a date" for i in (3, 2_500, 9_999, 10_001, 19_998)}
    src = _source(tmp_path / "s.db", bad_rows=bad)
    rejects = tmp_path / "rejects"
    result = af.migrate(src, pg_url, batch_size=BATCH, lanes=3, reject_dir=str(rejects))
    assert result.rows_rejected == len(bad)
    lines = [json.loads(x) for x in (rejects / "t.jsonl").read_text().splitlines()]
    assert [line["rowid"] for line in lines] == sorted(
        bad
    )  # in rowid order, whatever the lanes did
    assert {line["row"]["at"] for line in lines} == {"not a date"}
    ids = {r[0] for r in sql(pg_url, "SELECT id FROM t")}
    assert ids == set(range(1, ROWS + 1)) - set(bad)


def test_storage_class_change_in_a_late_piece_is_retried_exactly(
    tmp_path: Path, pg_url: str
) -> None:
    src = _source(tmp_path / "s.db")
    conn = sqlite3.connect(src)
    conn.execute("UPDATE t SET x = 'seven' WHERE id = ?", (ROWS - 3,))  # REAL column, text value
    conn.commit()
    conn.close()
    result = af.migrate(src, pg_url, batch_size=BATCH, lanes=3)
    assert result.rows_rejected == 1  # 'seven' is not a double precision: rejected, not guessed
    assert sql(pg_url, "SELECT count(*) FROM t") == [(ROWS - 1,)]
    assert sql(pg_url, "SELECT x FROM t WHERE id = 2") == [(1.0,)]


class _Peek(NullReporter):
    """Looks at the target while the first rows are on their way."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[list[str], list[str]]] = []

    def advance(self, table: str, rows: int) -> None:
        if not self.seen:
            self.seen.append((pg_tables(self.url), pg_tables(self.url, STAGING_SCHEMA)))


def test_half_loaded_table_is_never_in_the_target_schema(tmp_path: Path, pg_url: str) -> None:
    src = _source(tmp_path / "s.db")
    peek = _Peek(pg_url)
    result = af.migrate(src, pg_url, batch_size=BATCH, lanes=2, reporter=peek)
    assert result.success
    assert peek.seen and all(seen == ([], ["t"]) for seen in peek.seen)  # lanes race to look
    assert pg_tables(pg_url) == ["t"]


def test_data_only_appends_in_one_transaction(tmp_path: Path, pg_url: str) -> None:
    """Appending to an existing table is never split: a failure must leave it as it was."""
    src = _source(tmp_path / "s.db", bad_rows={ROWS - 5: "2024-02-30 10:00:00"})
    af.migrate(src, pg_url, schema_only=True)
    sql(pg_url, "INSERT INTO t (id, name) VALUES (-1, 'kept')")
    result = af.migrate(src, pg_url, data_only=True, batch_size=BATCH, lanes=3, on_bad_value="fail")
    assert not result.success and result.errors[0].table == "t"
    assert sql(pg_url, "SELECT id, name FROM t") == [(-1, "kept")]


class _StagingWatch(NullReporter):
    """Every table seen in the staging schema while rows are on their way."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.staged: set[str] = set()

    def advance(self, table: str, rows: int) -> None:
        self.staged.update(pg_tables(self.url, STAGING_SCHEMA))


def test_spare_lanes_are_shared_so_streams_stay_bounded(tmp_path: Path, pg_url: str) -> None:
    """workers=2, lanes=2: two large tables load at once, but only one is split (at most
    workers + lanes - 1 = 3 COPY streams, so memory does not grow with a second big table)."""
    src = _source(tmp_path / "s.db")
    conn = sqlite3.connect(src)
    conn.execute("CREATE TABLE u AS SELECT * FROM t")
    conn.commit()
    conn.close()
    watch = _StagingWatch(pg_url)
    result = af.migrate(src, pg_url, batch_size=BATCH, workers=2, lanes=2, reporter=watch)
    assert result.success, result.errors
    assert len(watch.staged) == 1, watch.staged
    assert (
        sql(pg_url, "SELECT count(*) FROM t") == sql(pg_url, "SELECT count(*) FROM u") == [(ROWS,)]
    )


@pytest.mark.parametrize(
    ("shadows", "alias"),
    [(["_rowid_"], "rowid"), (["_rowid_", "rowid"], "oid"), (["_rowid_", "rowid", "oid"], None)],
)
def test_a_column_named_like_the_rowid_is_never_used_as_it(
    tmp_path: Path, pg_url: str, shadows: list[str], alias: str | None
) -> None:
    """Columns called _rowid_ (or rowid, oid: text, mostly NULL) shadow the rowid; a range
    or a reject lookup on them would skip rows or name the wrong one. The first free
    alias reaches the rowid (the table still splits); with none free, no split."""
    rows = [(i, *[None if i % 3 else f"r{i}" for _ in shadows]) for i in range(1, ROWS + 1)]
    cols = ", ".join(f'"{name}" TEXT' for name in shadows)
    src = make_sqlite(tmp_path / "s.db", f"CREATE TABLE w (id INTEGER, {cols});", {"w": rows})
    watch = _StagingWatch(pg_url)
    result = af.migrate(src, pg_url, batch_size=BATCH, lanes=3, reporter=watch)
    assert result.success, result.errors
    from arrowferry.dialects.sqlite import rowid_alias

    assert rowid_alias(af.Migration(src, pg_url).plan().tables[0].source) == alias
    assert ("w" in watch.staged) == (alias is not None)
    counts = ", ".join(f'count("{name}")' for name in shadows)
    assert sql(pg_url, f"SELECT count(*), {counts} FROM w") == [
        (ROWS, *[ROWS // 3 for _ in shadows])
    ]
    expected = sorted(rows)
    assert sql(pg_url, "SELECT * FROM w ORDER BY id") == expected


def test_a_reject_names_the_real_rowid_when_a_column_shadows_it(
    tmp_path: Path, pg_url: str
) -> None:
    src = make_sqlite(
        tmp_path / "s.db",
        'CREATE TABLE w (id INTEGER, "_rowid_" TEXT, v INTEGER);',
        {"w": [(1, "zz", 5), (2, "3", "abc"), (3, None, 7)]},
    )
    reject_dir = tmp_path / "rejects"
    result = af.migrate(src, pg_url, reject_dir=str(reject_dir))
    assert result.errors == [] and result.rows_rejected == 1  # success is False: a row was rejected
    (record,) = [json.loads(x) for x in (reject_dir / "w.jsonl").read_text().splitlines()]
    assert record["rowid"] == 2
    assert record["row"]["id"] == 2 and record["row"]["_rowid_"] == "3"
