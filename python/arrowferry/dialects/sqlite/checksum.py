"""SQLite's side of a content checksum: it has no hash function of its own, so its
rows go to the client as Arrow batches (the client hashes them, vectorised).

Each column is read the way its canonical form needs it, with the reader's typed
sentinel row (``read.sentinel_select``): as stored for integers and reals (a value of
another class raises :class:`~arrowferry.errors.ReadTypeChanged`, and the client reads
that column as text instead), through ``CAST`` for text and bytes, split by storage
class for decimals (REALs as doubles, so their shortest text is exact), and, between two
SQLite files, as (class, REAL, bytes): a value compares as stored, class included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from arrowferry.dialects.checks import CheckTable
from arrowferry.dialects.sqlite import read
from arrowferry.dialects.sqlite.catalog import connect_metadata
from arrowferry.dialects.sqlite.kept import Kept
from arrowferry.dialects.sqltext import quote_ident

ReadAs = Literal["integer", "real", "text", "blob", "numeric", "stored"]
Piece = tuple[int, int] | None  # an inclusive rowid range; None: the whole table
KeyRange = tuple[int, int]  # an inclusive range of an integer key

PIECE_ROWS = 262_144
BATCH_BYTES = 4 * 1024 * 1024  # Arrow bytes a batch holds, about: each lane keeps a few
ROWID = read.ROWID
CLASS_CODES = read.CLASS_CODES


def _items(table: CheckTable, reads: Sequence[ReadAs]) -> list[tuple[str, read.ReadAs, str]]:
    """(result name, Arrow kind, expression): the rowid, then ``c{i}`` (and its parts)."""
    items: list[tuple[str, read.ReadAs, str]] = []
    if table.rowid is not None:
        items.append((ROWID, "integer", table.rowid))
    for i, (col, how) in enumerate(zip(table.columns, reads, strict=True)):
        q = quote_ident(col.name)
        if how == "stored":
            codes = " ".join(f"WHEN '{k}' THEN {v}" for k, v in CLASS_CODES.items())
            items.append((f"c{i}", "integer", f"CASE typeof({q}) {codes} END"))
            items.append((f"c{i}_r", "real", f"CASE WHEN typeof({q}) = 'real' THEN {q} END"))
            # integers as their decimal text: exact, and a blob keeps its bytes
            items.append(
                (f"c{i}_b", "blob", f"CASE WHEN typeof({q}) <> 'real' THEN CAST({q} AS BLOB) END")
            )
        elif how == "numeric":
            items.append(
                (
                    f"c{i}",
                    "text",
                    f"CASE WHEN typeof({q}) = 'real' THEN NULL ELSE CAST({q} AS TEXT) END",
                )
            )
            items.append((f"c{i}_r", "real", f"CASE WHEN typeof({q}) = 'real' THEN {q} END"))
        elif how == "text":
            items.append((f"c{i}", "text", f"CAST({q} AS TEXT)"))
        elif how == "blob":
            items.append((f"c{i}", "blob", f"CAST({q} AS BLOB)"))
        else:
            items.append((f"c{i}", how, q))
    return items


def read_sql(
    table: CheckTable, reads: Sequence[ReadAs], piece: Piece = None, keys: KeyRange | None = None
) -> str:
    """The read of a table (one rowid piece, or one range of its integer key)."""
    where: list[str] = []
    if piece is not None:
        assert table.rowid is not None
        where.append(read.rowid_range(table.rowid, piece).removeprefix("WHERE "))
    if keys is not None:
        key = table.range_key
        assert key is not None
        where.append(f"{quote_ident(key.name)} BETWEEN {int(keys[0])} AND {int(keys[1])}")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return read.sentinel_select(table.name, _items(table, reads), clause)


class SqliteChecksum:
    """One SQLite file's side of a verification: it reads, the client hashes."""

    hashes_itself = False

    def __init__(self, path: Path, batch_rows: int = 65_536) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.rows_for: dict[tuple[str, tuple[ReadAs, ...]], int] = {}
        with closing(connect_metadata(path)):
            pass  # a missing or corrupt file fails here, before any work
        self.kept = Kept(path)  # a new connection per table parses the whole schema

    def key_span(self, table: CheckTable, column: str) -> tuple[int, int] | None:
        q, t = quote_ident(column), quote_ident(table.name)
        with self.kept.metadata() as conn:
            # one aggregate per SELECT: with both in one, SQLite scans the whole table
            low, high = conn.execute(
                f"SELECT (SELECT min({q}) FROM {t}), (SELECT max({q}) FROM {t})"
            ).fetchone()
        if not isinstance(low, int) or not isinstance(high, int):
            return None
        return low, high

    def estimated_rows(self, table: CheckTable) -> int:
        with self.kept.metadata() as conn:
            if table.rowid is not None:
                span = read.rowid_span(self.path, table.name, table.rowid, conn)
                return 0 if span is None else span[1] - span[0] + 1
            return int(
                conn.execute(f"SELECT count(*) FROM {quote_ident(table.name)}").fetchone()[0]
            )

    def pieces(self, table: CheckTable, lanes: int) -> list[Piece]:
        """Rowid ranges for ``lanes`` readers at once (one piece for a small table)."""
        if lanes < 2 or table.rowid is None:
            return [None]
        with self.kept.metadata() as conn:
            span = read.rowid_span(self.path, table.name, table.rowid, conn)
        if span is None or span[1] - span[0] < 2 * PIECE_ROWS:
            return [None]
        low, high = span
        width = max(PIECE_ROWS, -(-(high - low + 1) // (4 * lanes)))
        return [(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]

    def batches(
        self,
        table: CheckTable,
        reads: Sequence[ReadAs],
        piece: Piece = None,
        keys: KeyRange | None = None,
    ) -> Iterator[pa.RecordBatch]:
        sql = read_sql(table, reads, piece, keys)
        rows = self._batch_rows(table, reads)
        with self.kept.reader() as conn:
            yield from read.read_batches(self.path, sql, rows, conn)

    def _batch_rows(self, table: CheckTable, reads: Sequence[ReadAs]) -> int:
        """Rows per batch: fewer for wide rows, so memory stays flat (a 1,000-row sample)."""
        key = (table.name, tuple(reads))
        if key not in self.rows_for:
            with self.kept.reader() as conn:
                size = read.bytes_per_row(self.path, read_sql(table, reads), conn=conn)
            rows = self.batch_rows if not size else int(BATCH_BYTES / size)
            self.rows_for[key] = max(4_096, min(self.batch_rows, rows))
        return self.rows_for[key]

    def display_rows(
        self, table: CheckTable, keys: Sequence[Sequence[Any]]
    ) -> list[dict[str, Any] | None]:
        """Whole rows by key, as stored (for the examples of a report)."""
        names = [c.name for c in table.key_columns]
        return read.fetch_rows_by_key(self.path, table.name, names, keys)

    def rows_by_rowid(self, table: CheckTable, rowids: Sequence[int]) -> dict[int, dict[str, Any]]:
        assert table.rowid is not None
        return read.fetch_rows(self.path, table.name, table.rowid, rowids)

    def message(self, err: BaseException) -> str:
        return str(err)

    def close(self) -> None:
        """The connections kept between tables are closed."""
        self.kept.close()
