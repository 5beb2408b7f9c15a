"""The reject file: rows whose values could not be stored exactly, kept whole.

One JSON object per line in ``<reject_dir>/<table>.jsonl``: the row's rowid and key,
each problem (column, value as SQLite stores it, reason) and the complete original row
as SQLite stores it, so target rows plus reject rows reproduce the source. Records are
in rowid order, also when several lanes met the rows (up to ``SORT_LIMIT`` bytes). Bytes (and text that
is not valid UTF-8) are ``{"$base64": ...}``, non-finite reals ``{"$float": "inf"}``.
The file is written as ``.partial`` and renamed when the table's load commits, so a
file that looks complete always is.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from arrowferry.dialects import sqlite


@dataclass
class Problem:
    column: str
    value: Any
    reason: str


@dataclass
class RejectedRow:
    rowid: int | None
    key: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    row: dict[str, Any] | None = None  # as read, when the table has no rowid


def encode(value: Any) -> Any:
    """A JSON-safe, lossless form of a SQLite value."""
    if isinstance(value, sqlite.InvalidText):
        return {"$base64": base64.b64encode(value.raw).decode(), "$type": "text"}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    return value


def decode(value: Any) -> Any:
    """The original value of :func:`encode`'s output (for tests and tools)."""
    if isinstance(value, dict):
        if "$base64" in value:
            return base64.b64decode(value["$base64"])
        if "$float" in value:
            return float(value["$float"])
    return value


class RejectFile:
    """Collects a table's rejected rows for one load attempt."""

    def __init__(
        self,
        directory: Path,
        table: str,
        source: Path | None,
        source_table: str,
        key_columns: tuple[str, ...] = (),
    ) -> None:
        self.key_columns = key_columns
        self.final = directory / f"{_safe(table)}.jsonl"
        self.partial = self.final.with_name(self.final.name + ".partial")
        self.source = source
        self.source_table = source_table
        self.count = 0
        self._out: TextIO | None = None
        self._made_dir = False
        self._last_rowid: int | None = None
        self._in_order = True  # lanes write their pieces' rows as they meet them
        self._lock = threading.Lock()  # lanes of one table write concurrently

    def write(self, rows: list[RejectedRow], rowid: str | None) -> None:
        if not rows:
            return
        with self._lock:
            self._write(rows, rowid)

    def _write(self, rows: list[RejectedRow], rowid: str | None) -> None:
        originals = self._originals(rows, rowid)
        if self._out is None:
            self._made_dir = not self.final.parent.exists()
            self.final.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.partial.open("w", encoding="utf-8")
        for n, row in enumerate(rows):
            if row.rowid is not None:
                if self._last_rowid is not None and row.rowid < self._last_rowid:
                    self._in_order = False
                self._last_rowid = row.rowid
            stored = originals.get(row.rowid if rowid is not None else n)
            original = stored or row.row
            record = {
                "table": self.source_table,
                "rowid": row.rowid,
                "key": {k: encode(v) for k, v in row.key.items()},
                "problems": [
                    {
                        "column": p.column,
                        # as SQLite stores it, not as read (a double, a CAST's text)
                        "value": encode(
                            stored[p.column] if stored and p.column in stored else p.value
                        ),
                        "reason": p.reason,
                    }
                    for p in row.problems
                ],
                "row": {k: encode(v) for k, v in (original or {}).items()},
            }
            self._out.write(_one_line(json.dumps(record, ensure_ascii=False)) + "\n")
        self.count += len(rows)

    def _originals(
        self, rows: list[RejectedRow], rowid: str | None
    ) -> dict[Any, dict[str, Any] | None]:
        """The rows as SQLite stores them: by rowid, or by primary key (no rowid to use).

        A source that is not a SQLite file (``source`` None) hands over its rows as
        read, in their exact text forms: those are the originals.
        """
        if self.source is None:
            return {}
        if rowid is not None:
            rowids = [r.rowid for r in rows if r.rowid is not None]
            return dict(sqlite.fetch_rows(self.source, self.source_table, rowid, rowids))
        if not self.key_columns:
            return {}
        keys = [tuple(r.key[c] for c in self.key_columns) for r in rows]
        stored = sqlite.fetch_rows_by_key(self.source, self.source_table, self.key_columns, keys)
        return dict(enumerate(stored))

    def commit(self) -> Path | None:
        """Publish the file (or remove a stale one when nothing was rejected)."""
        if self._out is None:
            self.final.unlink(missing_ok=True)
            return None
        self._out.close()
        if not self._in_order and self.partial.stat().st_size <= SORT_LIMIT:
            _sort_by_rowid(self.partial)
        os.replace(self.partial, self.final)
        return self.final

    def discard(self) -> None:
        """The load failed: no file of this attempt, and no older one that could pass for it."""
        if self._out is not None:
            self._out.close()
        self.partial.unlink(missing_ok=True)
        self.final.unlink(missing_ok=True)
        if self._made_dir:  # no empty reject directory left behind by a failed load
            with contextlib.suppress(OSError):  # not empty: another table's file is there
                self.final.parent.rmdir()


SORT_LIMIT = 256 * 1024 * 1024  # a bigger file keeps the lanes' order (sorted by piece)


def _sort_by_rowid(path: Path) -> None:
    """Rewrite a reject file in rowid order (records of one table; each has a rowid)."""
    with path.open(encoding="utf-8") as lines:
        records = [(json.loads(line)["rowid"], line) for line in lines]
    records.sort(key=lambda pair: pair[0])
    with path.open("w", encoding="utf-8") as out:
        out.writelines(line for _, line in records)


# JSON leaves these unescaped, yet str.splitlines() and some JSON Lines readers break
# lines on them: escaped, every reader sees one record per line.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_. " else "_" for c in name) or "table"
