"""Helpers of the schema-sync tests: databases built from DDL, their contents read
value by value (with SQLite's storage class), and the convergence check (migra's
discipline: apply, compare again, no difference left)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arrowferry as af
from arrowferry.diff import diff_schemas
from arrowferry.sync import SyncResult
from tests.conftest import admin_connect, fresh_database

# statements that frame the others (transactions, session settings): left out of goldens
CONTROL = ("BEGIN", "COMMIT", "PRAGMA foreign_keys = OFF", "SET search_path")


@dataclass(frozen=True)
class Case:
    """One golden case: the target before, the desired schema, rows, the statements."""

    name: str
    before: str
    after: str
    sql: Sequence[str]
    rows: Mapping[str, Sequence[tuple[Any, ...]]] = field(default_factory=dict)
    renames: Mapping[str, str] = field(default_factory=dict)
    destructive: bool = False
    # "table.column" -> its contents after the sync, where the sync changes values
    changed: Mapping[str, Sequence[tuple[Any, ...]]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def run_script(dialect: str, where: str, script: str) -> None:
    """Run a DDL script (statements separated by ';' at line ends) on a database."""
    if dialect == "sqlite":
        conn = sqlite3.connect(where)
        conn.executescript(script)
        conn.commit()
        conn.close()
        return
    conn = admin_connect(where)
    try:
        with conn.cursor() as cur:
            for stmt in [s for s in script.split(";\n") if s.strip()]:
                cur.execute(stmt)
    finally:
        conn.close()


def insert(dialect: str, where: str, rows: Mapping[str, Sequence[tuple[Any, ...]]]) -> None:
    for table, values in rows.items():
        if not values:
            continue
        if dialect == "sqlite":
            conn = sqlite3.connect(where)
            marks = ", ".join("?" for _ in values[0])
            conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
            conn.commit()
            conn.close()
        else:
            conn = admin_connect(where)
            try:
                with conn.cursor() as cur:
                    marks = ", ".join(f"${i + 1}" for i in range(len(values[0])))
                    for row in values:
                        cur.execute(f'INSERT INTO "{table}" VALUES ({marks})', list(row))
            finally:
                conn.close()


@contextmanager
def database(dialect: str, tmp: Path, server: str, script: str = "") -> Iterator[str]:
    """A new SQLite file or PostgreSQL database holding ``script``: its URL or path."""
    with ExitStack() as stack:
        if dialect == "sqlite":
            where = str(tmp / f"db_{uuid.uuid4().hex[:8]}.sqlite")
            sqlite3.connect(where).close()
        else:
            where = stack.enter_context(fresh_database(server))
        if script.strip():
            run_script(dialect, where, script)
        yield where


def contents(dialect: str, where: str) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every table's columns, each as the sorted list of (row key, value as text,
    storage class) of its rows: SQLite's class is kept, PostgreSQL's values compared as
    their text. The row key is the first column's text."""
    schema = af.inspect_schema(where)
    out: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    if dialect == "sqlite":
        conn = sqlite3.connect(where)
        try:
            for t in schema.tables:
                key = _text(t.columns[0].name)
                out[t.name] = {
                    c.name: sorted(
                        conn.execute(
                            f'SELECT {key}, {_text(c.name)}, typeof("{c.name}") FROM "{t.name}"'
                        ).fetchall(),
                        key=str,
                    )
                    for c in t.columns
                }
        finally:
            conn.close()
        return out
    conn = admin_connect(where)
    try:
        with conn.cursor() as cur:
            for t in schema.tables:
                first = t.columns[0].name
                out[t.name] = {}
                for c in t.columns:
                    cur.execute(f'SELECT "{first}"::text, "{c.name}"::text FROM "{t.name}"')
                    out[t.name][c.name] = sorted(cur.fetchall(), key=str)
    finally:
        conn.close()
    return out


def _text(column: str) -> str:
    """A SQLite value as text (a BLOB as its hex digits: it may be no valid UTF-8)."""
    col = f'"{column}"'
    return f"CASE typeof({col}) WHEN 'blob' THEN 'x' || hex({col}) ELSE CAST({col} AS TEXT) END"


def still_there(
    before: Mapping[str, Mapping[str, list[tuple[Any, ...]]]],
    after: Mapping[str, Mapping[str, list[tuple[Any, ...]]]],
    renames: Mapping[str, str],
    *,
    retyped: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
    changed: Mapping[str, Sequence[tuple[Any, ...]]] | None = None,
) -> None:
    """Every row of every table and column the sync kept holds the value it held (its
    storage class too, unless the column's type changed), but for the columns in
    ``changed`` ("table.column"), which must hold exactly what it says."""
    changed = changed or {}
    for name, expected in changed.items():
        table, _, column = name.partition(".")
        assert after[table][column] == list(expected), f"{name}: {after[table][column]}"
    for table, columns in before.items():
        new_table = renames.get(table, table)
        if new_table not in after:
            continue
        for column, values in columns.items():
            new_col = renames.get(f"{table}.{column}", column)
            if new_col not in after[new_table] or f"{new_table}.{new_col}" in changed:
                continue
            now = after[new_table][new_col]
            if (new_table, new_col) in retyped:
                now = [v[:2] for v in now]
                values = [v[:2] for v in values]
            assert now == values, f"{new_table}.{new_col}: {values} became {now}"


def converged(desired: str, target: str) -> None:
    """No difference is left between the desired schema and the target."""
    left = diff_schemas(af.inspect_schema(desired), af.inspect_schema(target))
    assert left.identical, f"not converged:\n{left}"


def retyped(result: SyncResult) -> set[tuple[str, str]]:
    """(table, column) of each column whose type the sync changes."""
    assert result.comparison is not None
    return {
        (d.table or "", d.name or "")
        for d in result.comparison.differences
        if d.kind == "column_type"
    }


def statements(result: SyncResult) -> list[str]:
    """The statements of a result, without the ones that frame them."""
    return [s.sql for s in result.statements if not s.sql.startswith(CONTROL)]
