"""The storage-class profile of a long rowid table, scanned in rowid ranges at once,
equals the one scan's profile: counts, lengths, magnitudes and numeric(p,s) overflows."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrowferry.dialects import sqlite

profile_module = importlib.import_module("arrowferry.dialects.sqlite.profile")

VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.binary(max_size=6),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


def _file(path: Path, rows: list[tuple[Any, Any]], rowids: list[int]) -> Path:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (v ANY, d NUMERIC(6,2))")
        conn.executemany(
            "INSERT INTO t (rowid, v, d) VALUES (?, ?, ?)",
            [(r, *row) for r, row in zip(rowids, rows, strict=True)],
        )
    return path


def _both(path: Path) -> tuple[Any, Any]:
    conn = sqlite.connect_metadata(path)
    try:
        args: tuple[Any, ...] = (conn, "t", ["v", "d"], {"v", "d"}, {"d": (6, 2)})
        return sqlite.profile(*args), sqlite.profile(*args, rowid="rowid")
    finally:
        conn.close()


@pytest.fixture
def split_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any table is split, in three ranges (a middle one too), whatever the machine."""
    monkeypatch.setattr(profile_module, "SPLIT_ROWS", 0)
    monkeypatch.setattr(profile_module.os, "cpu_count", lambda: 3)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_ranges_profile_as_one_scan(
    tmp_path: Path, split_always: None, rows: list[tuple[Any, Any]], rnd: Any
) -> None:
    rowids = rnd.sample(range(-50, 10_000), len(rows))  # sparse, negative ones too
    whole, ranged = _both(_file(tmp_path / "p.db", rows, rowids))
    assert ranged == whole


def test_ranges_are_really_used(tmp_path: Path, split_always: None) -> None:
    path = _file(
        tmp_path / "p.db", [(i, "12345.5" if i == 7 else i) for i in range(30)], [*range(30)]
    )
    conn = sqlite.connect_metadata(path)
    try:
        wheres = profile_module._ranges(conn, "t", "rowid")
        assert len(wheres) == 3 and "<" in wheres[0] and ">=" in wheres[-1]
        count, found = sqlite.profile(conn, "t", ["v"], {"v"}, {"d": (6, 2)}, rowid="rowid")
    finally:
        conn.close()
    assert count == 30 and found["v"].integers == 30
    assert (
        found["d"].over_limit == 1 and found["d"].needed_digits == 5
    )  # 12345.5: 5 digits, 4 allowed


def test_short_table_and_one_core_scan_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path / "p.db", [(1, 1)] * 10, [*range(10)])
    conn = sqlite.connect_metadata(path)
    try:
        assert profile_module._ranges(conn, "t", "rowid") == []  # below SPLIT_ROWS
        monkeypatch.setattr(profile_module, "SPLIT_ROWS", 0)
        monkeypatch.setattr(profile_module.os, "cpu_count", lambda: 1)
        assert profile_module._ranges(conn, "t", "rowid") == []
    finally:
        conn.close()


def test_a_range_the_standard_library_cannot_read_falls_back_to_one_scan(
    tmp_path: Path, split_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path / "p.db", [(i, i) for i in range(30)], [*range(30)])
    whole, _ = _both(path)

    def refuses(_path: Path) -> sqlite3.Connection:
        raise sqlite3.OperationalError("no such module: fts9")  # what 3.40 says of a newer one

    monkeypatch.setattr(profile_module, "connect_metadata", refuses)
    _, ranged = _both(path)
    assert ranged == whole
