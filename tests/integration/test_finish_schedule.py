"""The finisher starts a table's indexes and keys as soon as that table is loaded.

Driven by hand against the real server: table ``a`` is reported loaded while ``b`` is
not, so ``a``'s own work must complete and nothing that needs ``b`` (its indexes, the
foreign key a -> b, ``a``'s ANALYZE, which waits for that foreign key) may start.
"""

from __future__ import annotations

import time
from pathlib import Path

import arrowferry as af
from arrowferry.plan import Statement
from arrowferry.progress import NullReporter
from arrowferry.result import Summary
from arrowferry.transfer.finish import Finisher, _waits_for
from arrowferry.urls import parse_url
from tests.conftest import make_sqlite, sql


def _stmt(kind: str, sql_text: str, table: str | None, name: str, **kw: object) -> Statement:
    return Statement(kind, sql_text, table, name, **kw)  # type: ignore[arg-type]


def _statements() -> list[Statement]:
    return [
        _stmt("key_index", "CREATE UNIQUE INDEX a_pkey ON a (id)", "a", "a_pkey"),
        _stmt("key_index", "CREATE UNIQUE INDEX b_pkey ON b (id)", "b", "b_pkey"),
        _stmt("index", "CREATE INDEX a_b_idx ON a (b_id)", "a", "a_b_idx"),
        _stmt(
            "primary_key",
            "ALTER TABLE a ADD CONSTRAINT a_pkey PRIMARY KEY USING INDEX a_pkey",
            "a",
            "a_pk",
            requires="a_pkey",
        ),
        _stmt(
            "primary_key",
            "ALTER TABLE b ADD CONSTRAINT b_pkey PRIMARY KEY USING INDEX b_pkey",
            "b",
            "b_pk",
            requires="b_pkey",
        ),
        _stmt(
            "foreign_key",
            "ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b (id)",
            "a",
            "a_b_fk",
            depends=("b",),
        ),
        _stmt("analyze", "ANALYZE a", "a", "a"),
        _stmt("analyze", "ANALYZE b", "b", "b"),
    ]


def _wait_for(finisher: Finisher, names: set[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not names <= set(finisher.outcome):
        assert time.monotonic() < deadline, f"still waiting for {names - set(finisher.outcome)}"
        time.sleep(0.02)


def test_work_starts_per_table_and_waits_for_what_it_needs(pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE b (id bigint NOT NULL)")
    sql(pg_url, "CREATE TABLE a (id bigint NOT NULL, b_id bigint)")
    sql(pg_url, "INSERT INTO b SELECT g FROM generate_series(1, 100) g")
    sql(pg_url, "INSERT INTO a SELECT g, 1 + g % 100 FROM generate_series(1, 1000) g")
    warnings: list[str] = []
    finisher = Finisher(parse_url(pg_url), 2, NullReporter(), Summary(), warnings.append)
    finisher.add(_statements())
    finisher.table_loaded("a")
    _wait_for(finisher, {"a_pkey", "a_b_idx", "a_pk"})
    time.sleep(0.3)  # anything wrongly released would have started by now
    assert set(finisher.outcome) == {"a_pkey", "a_b_idx", "a_pk"}
    assert {s.name for s in finisher.pending} == {"b_pkey", "b_pk", "a_b_fk", "a", "b"}
    finisher.table_loaded("b")
    finisher.loading_done(set())
    finisher.close([])
    assert warnings == []
    assert set(finisher.outcome.values()) == {"ok"}
    assert len(finisher.outcome) == 8
    assert sql(
        pg_url,
        "SELECT conname FROM pg_constraint WHERE contype IN ('p', 'f') "
        "AND conrelid IN ('a'::regclass, 'b'::regclass) ORDER BY 1",
    ) == [
        ("a_b_fk",),
        ("a_pkey",),
        ("b_pkey",),
    ]


def test_a_failed_table_drops_its_work_and_names_the_foreign_key(pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE a (id bigint NOT NULL, b_id bigint)")
    warnings: list[str] = []
    finisher = Finisher(parse_url(pg_url), 2, NullReporter(), Summary(), warnings.append)
    finisher.add(_statements())
    finisher.table_loaded("a")
    finisher.loading_done({"b"})
    finisher.close([])
    assert finisher.outcome == {"a_pkey": "ok", "a_b_idx": "ok", "a_pk": "ok", "a": "ok"}
    assert warnings == ["foreign key a_b_fk skipped: a table it needs failed to load"]


def test_ordering_rules() -> None:
    by_name = {s.name: s for s in _statements()}
    assert _waits_for(by_name["a_pk"], by_name["a_pkey"])  # key after its index
    assert not _waits_for(by_name["a_pk"], by_name["b_pkey"])  # other tables don't matter
    assert _waits_for(by_name["a_b_fk"], by_name["b_pk"])  # FK after both tables' keys
    assert _waits_for(by_name["a_b_fk"], by_name["a_b_idx"])
    assert _waits_for(by_name["a"], by_name["a_b_fk"])  # ANALYZE a after the FK touching a
    assert _waits_for(by_name["b"], by_name["a_b_fk"])  # ...and b, its parent
    assert not _waits_for(by_name["a_pkey"], by_name["a_b_fk"])  # never backwards


def test_tables_come_out_vacuumed_and_analyzed(tmp_path: Path, pg_url: str) -> None:
    """VACUUM (ANALYZE) runs first (visibility map and statistics in one pass); a table
    with an expression index is analyzed again at the end, for the expression's stats."""
    src = make_sqlite(
        tmp_path / "s.db",
        "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id), tag TEXT);"
        "CREATE INDEX c_tag_lower ON c (lower(tag));",
        {
            "p": [(i, f"p{i}") for i in range(1, 201)],
            "c": [(i, 1 + i % 200, f"Tag{i % 7}") for i in range(1, 2001)],
        },
    )
    # one table at a time: a load transaction still open elsewhere would keep VACUUM from
    # marking the rows of a table that committed after it began all-visible
    result = af.migrate(src, pg_url, workers=1)
    assert result.success, result.errors
    stats = sql(
        pg_url,
        "SELECT relname, vacuum_count + autovacuum_count > 0, analyze_count + autoanalyze_count "
        "FROM pg_stat_user_tables ORDER BY relname",
    )
    assert [(name, vacuumed) for name, vacuumed, _ in stats] == [("c", True), ("p", True)]
    analyzed = {name: count for name, _, count in stats}
    assert analyzed["p"] >= 1 and analyzed["c"] >= 2
    # every page all-visible: index-only scans work without a first autovacuum
    assert sql(
        pg_url,
        "SELECT relname, relpages > 0 AND relallvisible = relpages FROM pg_class "
        "WHERE relname IN ('c', 'p') ORDER BY 1",
    ) == [("c", True), ("p", True)]
    assert sql(pg_url, "SELECT count(*) > 0 FROM pg_stats WHERE tablename = 'c_tag_lower'") == [
        (True,)
    ]
