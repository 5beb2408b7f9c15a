"""Is a method's output right? arrowferry's own ``verify`` says, value by value.

One implementation: the content checksum lives in the package (``arrowferry.verify``:
every value in a canonical form both engines share, PostgreSQL hashing its own side);
the harness asks it about every method's output, whatever tool wrote it. A tool that
chose other types than arrowferry is held to what those types mean (pgloader's
``timestamptz`` holds UTC instants of the SQLite text, its ``real`` must equal the
double it came from).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

EXAMPLES = 3


def differences(source: str | Path, target: str | Path, **options: Any) -> tuple[list[str], float]:
    """What differs between a source and a method's copy (empty: every value matches),
    and the seconds the check took."""
    import arrowferry as af

    started = time.perf_counter()
    report = af.verify(str(source), str(target), examples=EXAMPLES, **options)
    problems = []
    for table in report.failed:
        problems.append(f"{table.source}: {table.summary()}")
        problems += [f"{table.source}: {example}" for example in table.examples]
    return problems, time.perf_counter() - started


def sample_source(source: Path, sizes: Mapping[str, int], out: Path) -> Path:
    """A copy of the first ``sizes[table]`` rows (by id) of each table: the source a
    method that loads only a sample is checked against."""
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with closing(sqlite3.connect(tmp)) as conn:
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
        for table, rows in sizes.items():
            (ddl,) = conn.execute(
                "SELECT sql FROM src.sqlite_schema WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            conn.execute(ddl)
            conn.execute(
                f'INSERT INTO "{table}" SELECT * FROM src."{table}" ORDER BY id LIMIT ?', (rows,)
            )
        conn.commit()
    tmp.rename(out)
    return out
