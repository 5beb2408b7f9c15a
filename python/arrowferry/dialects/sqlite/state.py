"""SQLite keeps a run's state in the file it writes: the table ``__arrowferry_state``.

A new file is built as ``<name>.arrowferry-partial``: the state lives in it and is
dropped just before the file is renamed into place, so the final file never holds it.
An existing file being added to keeps the state until the run completes. Each record
is written in the transaction of the rows it describes (one writer: one connection).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from arrowferry.dialects.journal import Record
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import BadInputError

STATE_TABLE = "__arrowferry_state"
_TABLE = quote_ident(STATE_TABLE)


def ensure(conn: Any) -> None:
    sqlw.execute(
        conn,
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (kind TEXT NOT NULL, name TEXT NOT NULL, "
        "piece INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, name, piece))",
    )


def put(conn: Any, records: Iterable[Record]) -> None:
    """Keep ``records`` in the connection's current transaction (replacing older ones)."""
    for r in records:
        sqlw.execute(
            conn,
            f"INSERT OR REPLACE INTO {_TABLE} (kind, name, piece, body) VALUES (?, ?, ?, ?)",
            (r.kind, r.name, r.piece, r.body),
        )


def forget(conn: Any, name: str, kinds: Sequence[str]) -> None:
    for kind in kinds:
        sqlw.execute(conn, f"DELETE FROM {_TABLE} WHERE name = ? AND kind = ?", (name, kind))


def has_state(conn: Any) -> bool:
    rows = sqlw.fetch(
        conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STATE_TABLE,)
    )
    return bool(rows)


def drop(conn: Any) -> None:
    sqlw.execute(conn, f"DROP TABLE IF EXISTS {_TABLE}")


def file_has_state(path: Path) -> bool:
    """Whether ``path`` holds a run's state (opened for writing: SQLite rolls back the
    transaction a killed run left in its journal before anything is read)."""
    try:
        return read_file(path) is not None
    except BadInputError:  # not a file a run can continue: a leftover to replace
        return False


def read_file(path: Path, *, ours: bool = True) -> list[Record] | None:
    """The records in ``path``; ``ours``: a partial file, whose damage is this run's to
    report (the target file's own damage is for the target's checks to word)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            known = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STATE_TABLE,)
            ).fetchall()
            if not known:
                return None
            rows = conn.execute(
                f"SELECT kind, name, piece, body FROM {_TABLE} ORDER BY kind, name, piece"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as err:
        if not ours:
            return None
        raise BadInputError(
            f"the state of an interrupted run in {str(path)!r} cannot be read ({err}); pass "
            "--drop-tables to start over"
        ) from None
    found = [Record(str(k), str(n), int(p), str(b)) for k, n, p, b in rows]
    return found if any(r.kind == "run" for r in found) else None


class SqliteStateStore:
    """The state of a run into one SQLite file (the new file's partial, or the file)."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = sqlw.partial_path(final)

    @property
    def path(self) -> Path:
        return self.final if self.final.exists() else self.partial

    @property
    def where(self) -> str:
        return repr(str(self.path))

    def read(self) -> list[Record] | None:
        return read_file(self.path, ours=not self.final.exists())

    def discard(self, staged: Sequence[str]) -> None:
        if not self.final.exists():  # a new file that never appeared: start it again
            for leftover in (self.partial, Path(f"{self.partial}-journal")):
                leftover.unlink(missing_ok=True)
            return
        conn = sqlite3.connect(self.final, timeout=5)
        try:
            with contextlib.closing(conn.cursor()) as cur:
                cur.execute(f"DROP TABLE IF EXISTS {_TABLE}")
            conn.commit()
        finally:
            conn.close()


def store(endpoint: Any, options: Any) -> SqliteStateStore:
    return SqliteStateStore(endpoint.path)
