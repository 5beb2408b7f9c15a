"""Connections to one SQLite file, kept between the reads of a run.

A new connection parses the file's whole schema on its first statement: 8 ms for a file
of 1,000 tables, so a run that opened one or more per table spent time growing with the
square of its tables. A run (a migration's source, a verification's side) keeps its
connections instead: ADBC readers for the rows, sqlite3 connections for the small
queries (a rowid span, a count, an incremental bound). Each is used by one thread at a
time; a read's transaction ends with it, so an idle connection holds no lock and sees
what writers commit meanwhile, as a new one would. A read that fails or stops early
closes its connection; ``close`` closes the rest.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class Kept:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: dict[str, list[Any]] = {"reader": [], "metadata": []}
        self._lock = threading.Lock()

    def reader(self) -> contextlib.AbstractContextManager[Any]:
        """An ADBC reader (``read.open_reader``): pass it to ``read.read_batches``."""
        from arrowferry.dialects.sqlite import read

        return self._kept("reader", lambda: read.open_reader(self.path))

    def metadata(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read-only sqlite3 connection (autocommit: idle between queries)."""
        from arrowferry.dialects.sqlite.catalog import connect_metadata

        return self._kept("metadata", lambda: connect_metadata(self.path, shared=True))

    @contextlib.contextmanager
    def _kept(self, kind: str, opened: Callable[[], Any]) -> Iterator[Any]:
        with self._lock:
            idle = self._idle[kind]
            conn = idle.pop() if idle else None
        if conn is None:
            conn = opened()
        kept = False
        try:
            yield conn
            kept = True
        finally:
            if kept:
                with self._lock:
                    self._idle[kind].append(conn)
            else:  # a read that failed or stopped early: its connection goes
                with contextlib.suppress(Exception):
                    conn.close()

    def close(self) -> None:
        with self._lock:
            idle = [c for kind in self._idle.values() for c in kind]
            self._idle = {kind: [] for kind in self._idle}
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()
