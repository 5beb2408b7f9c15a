"""What a run keeps in its target so that ``--resume`` can finish it: the contract.

A run writes state records into the target in the same transaction as the work they
describe (a table created and loaded, one piece of a large table, a finishing
statement), so a crash at any moment leaves records that say exactly what is there.
The engine composes the records (``transfer.state``); a target only stores them
(``dialects/<name>/state.py``): PostgreSQL in a schema of its own, SQLite in a table
of the file being built, dropped before the file is put in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa


@dataclass(frozen=True)
class Record:
    """One line of a run's state: a ``kind`` of progress, what it is about, its
    details as JSON (the engine's to read)."""

    kind: str  # run, load, piece, placed, finished
    name: str  # a table, a statement's key; "" for the run itself
    piece: int  # a piece of a table; -1 when the record is not about one
    body: str


class StateStore(Protocol):
    """A run's state seen from outside the run (``Dialect.state_store``): read before
    a run starts, discarded to start over."""

    @property
    def where(self) -> str:
        """Where the state is, as a message names it."""

    def read(self) -> list[Record] | None:
        """What an interrupted run left (None: no interrupted run)."""

    def discard(self, staged: Sequence[str]) -> None:
        """Forget an interrupted run: its state, and the ``staged`` tables it was still
        building aside (the tables it completed stay: the new run replaces them)."""


class Writer(Protocol):
    """A lane's writer: called as an ``Ingest``; ``record`` keeps state records in the
    lane's transaction, so they commit exactly with the rows they describe."""

    def __call__(
        self,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        on_batch: Callable[[int], None],
    ) -> int: ...

    def record(self, records: Sequence[Record]) -> None: ...
