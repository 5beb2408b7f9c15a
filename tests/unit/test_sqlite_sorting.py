"""SQLite target settings: a large page cache for the load, SQLite's own for index builds.

SQLite's sorter sorts runs as large as the page cache: the load's 64 MiB made index
builds twice as slow as SQLite's default (benchmarks/README.md), while a key kept up
during the load wants the large cache. Each statement of the index kinds runs under the
sorter's settings and hands the load's back, whatever happens to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arrowferry.dialects.base import FAILED, OK, Statement
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.finishing import SqliteFinishing


def _pragma(conn: Any, name: str) -> int:
    return int(sqlw.fetch(conn, f"PRAGMA {name}")[0][0])


@pytest.fixture
def conn(tmp_path: Path) -> Any:
    opened = sqlw.connect(tmp_path / "t.db", fresh=True)
    sqlw.execute(opened, "CREATE TABLE t (a INTEGER, b TEXT)")
    sqlw.execute(opened, "INSERT INTO t VALUES (2, 'x'), (1, 'y'), (2, 'z')")
    yield opened
    opened.close()


def test_the_writer_loads_with_the_large_cache_and_sorts_with_threads(conn: Any) -> None:
    assert _pragma(conn, "cache_size") == -sqlw.LOAD_CACHE_KIB
    assert _pragma(conn, "threads") == sqlw.SORT_THREADS


def test_sorting_sets_the_sorters_cache_and_gives_the_loads_back(conn: Any) -> None:
    with sqlw.sorting(conn):
        assert _pragma(conn, "cache_size") == -sqlw.SORT_CACHE_KIB
    assert _pragma(conn, "cache_size") == -sqlw.LOAD_CACHE_KIB
    with pytest.raises(RuntimeError), sqlw.sorting(conn):
        raise RuntimeError("an index that failed")
    assert _pragma(conn, "cache_size") == -sqlw.LOAD_CACHE_KIB


def test_index_statements_are_built_under_the_sorters_settings(
    conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    execute = sqlw.execute

    def watched(c: Any, sql: str, params: Any = None) -> None:
        if sql.startswith("CREATE"):
            seen.append(_pragma(c, "cache_size"))
        execute(c, sql, params)

    monkeypatch.setattr(sqlw, "execute", watched)
    finishing = SqliteFinishing(conn, [])
    made = Statement("index", "CREATE INDEX t_a ON t (a)", "t", "t_a")
    broken = Statement("unique", "CREATE UNIQUE INDEX t_u ON t (a)", "t", "t_u")
    outcomes = [finishing.run(conn, s) for s in (made, broken)]
    assert [r.outcome if r else None for r in outcomes] == [OK, FAILED]
    assert seen == [-sqlw.SORT_CACHE_KIB, -sqlw.SORT_CACHE_KIB]
    assert _pragma(conn, "cache_size") == -sqlw.LOAD_CACHE_KIB
    names = [r[1] for r in sqlw.fetch(conn, "PRAGMA index_list(t)")]
    assert names == ["t_a"]
    assert sqlw.fetch(conn, "SELECT a FROM t INDEXED BY t_a ORDER BY a") == [(1,), (2,), (2,)]
