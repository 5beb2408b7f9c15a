"""Opening a SQLite file: what SQLite's refusal to open one means, in the user's words."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def explain_open_error(path: Path, err: sqlite3.DatabaseError) -> str:
    """One paragraph on why ``path`` cannot be read, naming the file and what to do."""
    text = str(err)
    beside = {suffix: Path(f"{path}{suffix}").exists() for suffix in ("-journal", "-wal", "-shm")}
    if beside["-journal"] and "readonly" in text:
        # SQLITE_READONLY_ROLLBACK: a writer died mid-transaction; the file holds its
        # half-written pages until a read-write open rolls the journal back
        # https://www.sqlite.org/lockingv3.html#hot_journals
        return (
            f"SQLite file {str(path)!r} has a hot journal ({path.name}-journal) left by a writer "
            "that did not finish: until SQLite rolls it back the file holds half-written pages, "
            "and arrowferry opens sources read-only, so it read nothing; open the file once "
            f"with sqlite3 (`sqlite3 {path.name} 'PRAGMA quick_check'`), which rolls it back"
        )
    if beside["-wal"] and not beside["-shm"] and "unable to open" in text:
        # reading a WAL needs its wal-index (-shm), which SQLite creates beside the file
        # https://www.sqlite.org/wal.html#readonly
        return (
            f"SQLite file {str(path)!r} is in WAL mode with committed rows in {path.name}-wal, "
            f"and SQLite cannot create {path.name}-shm (its index of the WAL) in "
            f"{str(path.parent)!r}: copy {path.name} and {path.name}-wal together to a "
            "writable directory and migrate the copy"
        )
    if "not a database" in text:
        return f"{str(path)!r} is not a SQLite database ({text})"
    if "malformed" in text or "corrupt" in text:
        return f"SQLite file {str(path)!r} is corrupt ({text}); try `sqlite3 file .recover`"
    return f"cannot open SQLite file {str(path)!r}: {text}"
