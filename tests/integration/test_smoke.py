from __future__ import annotations

from pathlib import Path

import arrowferry as af
from tests.conftest import pg_tables, sql


def test_chinook_migrates(chinook: Path, pg_url: str) -> None:
    result = af.migrate(chinook, pg_url)
    assert result.success, result.errors
    assert result.rows_migrated == 15607
    assert len(pg_tables(pg_url)) == 11
    assert sql(pg_url, 'SELECT count(*) FROM "Track"') == [(3503,)]
