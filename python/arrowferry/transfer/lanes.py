"""One table's pieces through its writer lanes, each piece committed with its record.

A lane is one writer. Its pieces (key ranges) are read and converted on prefetch
threads, in piece order, and written; each piece has a transformer of its own, so what
its values did (bad, cleaned, interpreted) is known per piece. Where the target builds
the table aside (a split PostgreSQL table) or in a file nobody sees yet (a new SQLite
file), every piece commits on its own with the state record that says so, and a
resumed run continues after the last one; otherwise the whole table commits at once
with every piece's record. The reject file is published just before the commit that
completes the table, so a table that is in place always has its whole reject file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.base import SourceSession
from arrowferry.dialects.journal import JournaledLoad, JournaledTarget
from arrowferry.errors import TransferError
from arrowferry.transfer.prefetch import Prefetch
from arrowferry.transfer.rejects import RejectedRow
from arrowferry.transfer.state import PieceDone, counters, piece_record
from arrowferry.transfer.transform import Transformer

if TYPE_CHECKING:
    from arrowferry.transfer.pipeline import Loaded

Piece = tuple[int, Any]  # (its index in the table's pieces, the key range)


@dataclass
class _End:
    """A piece was read whole: its index and its transformer's counters."""

    index: int
    transform: Transformer


class Cancelled(TransferError):
    """A lane stopped because another lane of the same table failed."""

    def __init__(self, table: str) -> None:
        super().__init__(f"table {table!r}: stopped, another lane failed", table=table)


class Lanes:
    """Writes one table's pieces (``Loaded``), over one lane or several."""

    def __init__(
        self,
        source: SourceSession,
        target: JournaledTarget,
        load: JournaledLoad,
        loaded: Loaded,
        transformer: Callable[[], Transformer],
        advance: Callable[[int], None],
        committed: Callable[[int, PieceDone], None],
    ) -> None:
        self.source = source
        self.load = load
        self.loaded = loaded
        self.transformer = transformer  # a new one for each piece
        self.advance = advance
        self.committed = committed  # told of each piece once it has committed
        # piece by piece: only where a half-loaded table is out of sight
        self.piecewise = load.staged or target.commits_pieces

    def many(self, transforms: list[Transformer], todo: list[Piece]) -> int:
        """Several writer lanes at once, each taking every n-th piece (the target builds
        the table aside and moves it into place once all lanes are in)."""
        lanes = len(transforms)
        cancel = threading.Event()
        table = self.loaded.table

        def lane(k: int) -> int:
            try:
                return self.one(transforms[k], todo[k::lanes], 1, cancel)
            except BaseException:
                cancel.set()
                raise

        with ThreadPoolExecutor(lanes, thread_name_prefix=f"arrowferry-{table.name}") as pool:
            futures = [pool.submit(lane, k) for k in range(lanes)]
            wait(futures)
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        if errors:  # the lane that failed first is the one that was not cancelled
            raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
        read = sum(t.rows_read for t in transforms)
        if read != table.rows:  # the ranges must cover the table exactly once
            raise TransferError(
                f"table {table.name!r}: read {read} rows in key ranges, but the table "
                f"has {table.rows}; was the source changed during the run?",
                table=table.name,
            )
        return sum(f.result() for f in futures)

    def one(
        self,
        transform: Transformer,
        todo: list[Piece],
        readers: int,
        cancel: threading.Event | None = None,
    ) -> int:
        """One writer: its pieces read and converted on ``readers`` prefetch threads,
        handed over in piece order (rows arrive in key order)."""
        if not todo:  # schema_only, a table without rows: the table is made, nothing read
            with self.load.lane():
                self._publish()
            return 0
        readers = max(1, min(readers, len(todo)))
        table, rejects = self.loaded.table, self.loaded.rejects
        rejected: dict[int, int] = {}

        def read(key_range: Any) -> Iterator[pa.RecordBatch]:
            return self.source.batches(table, key_range, self.loaded.batch_rows)

        def convert(piece: Piece) -> Iterator[tuple[pa.RecordBatch, list[RejectedRow]] | _End]:
            index, key_range = piece
            mine = self.transformer()
            ahead = self.source.read_ahead
            stream = iter(Prefetch([key_range], read, ahead)) if ahead else read(key_range)
            try:
                for batch in stream:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled(table.name)
                    yield mine.convert(batch)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()  # a read-ahead thread stops, and the cursor closes, now
            yield _End(index, mine)

        fetchers = [Prefetch(todo[k::readers], convert) for k in range(readers)]
        streams = [iter(f) for f in fetchers]
        ends: list[_End] = []

        def batches(first: int, last: int) -> Iterator[pa.RecordBatch]:
            for i in range(first, last):
                for item in streams[i % readers]:
                    if isinstance(item, _End):
                        ends.append(item)
                        break
                    batch, bad = item
                    if bad:
                        rejected[todo[i][0]] = rejected.get(todo[i][0], 0) + len(bad)
                        if rejects is not None:
                            rejects.write(bad, table.rowid)
                            self.advance(len(bad))  # progress counts rejected rows too
                    yield batch

        def done(rows: int) -> list[tuple[_End, PieceDone]]:
            """The pieces read since the last commit, with what each did."""
            found = [
                (end, PieceDone(0, end.transform.rows_read, rejected.get(end.index, 0)))
                for end in ends
            ]
            ends.clear()
            for end, piece in found:
                piece.counters = counters(end.transform)
            if found:  # rows written are known per ingest: the last piece takes the count
                found[-1][1].rows = rows
            return found

        try:
            written = 0
            steps = [(i, i + 1) for i in range(len(todo))] if self.piecewise else [(0, len(todo))]
            for first, last in steps:
                with self.load.lane() as writer:
                    rows = writer(transform.schema, batches(first, last), self.advance)
                    pieces = done(rows)
                    if last == len(todo):
                        self._publish()
                    writer.record([piece_record(table.name, e.index, d) for e, d in pieces])
                for end, piece in pieces:  # committed
                    transform.absorb(end.transform)
                    self.committed(end.index, piece)
                written += rows
            return written
        finally:
            for fetcher in fetchers:
                fetcher.close()

    def _publish(self) -> None:
        """The reject file, before the commit that completes a table in place."""
        if not self.load.staged:
            self.loaded.publish()
