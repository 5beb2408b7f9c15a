"""What a run keeps in its target so that ``--resume`` can finish it: the contract.

A run writes state records into the target in the same transaction as the work they
describe (a table created and loaded, one piece of a large table, a finishing
statement), so a crash at any moment leaves records that say exactly what is there.
The engine composes the records (``transfer.state``); a target only stores them
(``dialects/<name>/state.py``): PostgreSQL in a schema of its own, SQLite in a table
of the file being built, dropped before the file is put in place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pyarrow as pa

from arrowferry.dialects.base import Statement, TableLoad, TargetSession

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan


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


class JournaledLoad(TableLoad, Protocol):
    """A table's load that keeps its state records with its rows."""

    staged: bool  # built aside (its lanes commit piece by piece), put in place by complete

    def start(self, record: Record) -> None:
        """The table's first record (kept with the staging table, or the first lane)."""

    def lane(self) -> AbstractContextManager[Writer]:
        """A writer in its own transaction, committed when the block ends cleanly; the
        first lane creates the table (entered once per piece where pieces commit)."""

    def rows_there(self) -> int | None:
        """Rows in the table an interrupted run left (None: it is not there)."""

    def complete(self, record: Record | None = None) -> None:
        """Every lane is in: put the table in place (with ``record``)."""

    def abort(self, *, keep: bool = False) -> None:
        """A lane failed: leave nothing that looks like the table (``keep``: what the
        lanes committed stays out of sight, for a retry or ``--resume``)."""


@runtime_checkable
class JournaledTarget(TargetSession, Protocol):
    """A target session that keeps a run's state, so that ``--resume`` can finish it."""

    # one writer that commits a large table piece by piece, out of sight until the run
    # completes (``--resume`` continues the table where it stopped)
    commits_pieces: bool

    def prepare(
        self,
        tables: Sequence[TablePlan],
        before: Sequence[Statement],
        *,
        drop: bool,
        data_only: bool,
        rebuild_indexes: bool = False,
        views: Collection[str] = (),
        state: Callable[[Sequence[Statement]], Sequence[Record]] | None = None,
    ) -> list[Statement]:
        """``TargetSession.prepare``; ``state``: the run's first records (given what must
        be put back), kept in its transaction."""

    def resume(self) -> None:
        """Instead of ``prepare``: continue the interrupted run whose state is there."""

    def table_load(
        self, table: TablePlan, lanes: int, *, create: bool, resumed: bool = False
    ) -> JournaledLoad:
        """``resumed``: continue the table an interrupted run left (aside or in place)."""

    def rows_in(self, table: str) -> int:
        """Rows of a table in place (a resumed run checks those it skips)."""

    def reconnect(self) -> None:
        """Forget idle connections (the server was lost: they are dead)."""

    def close(self, *, complete: bool, keep: bool = True) -> str | None:
        """End the run; a run that is not complete keeps its state for ``--resume``
        unless ``keep`` is False (nothing in it worth resuming)."""
