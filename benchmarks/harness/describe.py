"""What a method built in a SQLite file, to show beside the numbers: each column's
declared type and storage classes, and the keys, indexes, views and AUTOINCREMENT
counters (a description; whether the values are right is ``content.py``'s question)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

STORAGE_CLASSES = ("integer", "real", "text", "blob")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def storage_classes(path: Path, tables: Iterable[str]) -> dict[str, dict[str, int]]:
    """``table.column -> {storage class: values}`` (one scan per table)."""
    out: dict[str, dict[str, int]] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({_quoted(table)})")]
            exprs = [
                f"sum(typeof({_quoted(c)}) = '{kind}')" for c in columns for kind in STORAGE_CLASSES
            ]
            if not exprs:
                continue
            row = conn.execute(f"SELECT {', '.join(exprs)} FROM {_quoted(table)}").fetchone()
            pairs = [(c, kind) for c in columns for kind in STORAGE_CLASSES]
            for (column, kind), n in zip(pairs, row, strict=True):
                if n:
                    out.setdefault(f"{table}.{column}", {})[kind] = int(n)
    return out


def sqlite_types(
    path: Path, tables: Iterable[str], storage: dict[str, dict[str, int]]
) -> dict[str, str]:
    """``table.column -> 'DECLARED TYPE [storage classes]'``, to show what each tool chose."""
    out = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for table in tables:
            for _, name, declared, *_ in conn.execute(f"PRAGMA table_info({_quoted(table)})"):
                classes = ",".join(sorted(storage.get(f"{table}.{name}", {}))) or "all NULL"
                out[f"{table}.{name}"] = f"{declared or '(none)'} [{classes}]"
    return out


def sqlite_structure(path: Path) -> dict[str, int]:
    """What the method built besides data: keys, unique indexes, FKs, plain indexes,
    AUTOINCREMENT counters and views."""
    counts = dict.fromkeys(
        ("primary_keys", "unique", "foreign_keys", "indexes", "autoincrement", "views"), 0
    )
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = conn.execute(f"PRAGMA table_info({_quoted(table)})").fetchall()
            counts["primary_keys"] += any(c[5] for c in columns)
            for _, _, unique, origin, _ in conn.execute(f"PRAGMA index_list({_quoted(table)})"):
                if origin != "pk":
                    counts["unique" if unique else "indexes"] += 1
            fks = conn.execute(f"PRAGMA foreign_key_list({_quoted(table)})").fetchall()
            counts["foreign_keys"] += len({fk[0] for fk in fks})
        counts["views"] = conn.execute(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'view'"
        ).fetchone()[0]
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").fetchone():
            counts["autoincrement"] = conn.execute(
                "SELECT count(*) FROM sqlite_sequence"
            ).fetchone()[0]
    return counts
