"""The sessions of an incremental run (``transfer.incremental``): a source that reads only
each table's changed rows, and a target that upserts them with their mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.base import Statement
from arrowferry.dialects.sqltext import quote_ident

# a table whose rows changed by more than this share is analyzed again (PostgreSQL's
# autovacuum_analyze_scale_factor is 0.1 too)
ANALYZE_SHARE = 0.1

if TYPE_CHECKING:
    from arrowferry.dialects.base import Capabilities, SourceSession, TableLoad, TargetSession
    from arrowferry.plan import TablePlan
    from arrowferry.transfer.incremental import DeltaReader, Run, UpsertWriter
    from arrowferry.urls import Endpoint


class DeltaSource:
    """The run's source, reading only each table's changed rows."""

    def __init__(self, inner: SourceSession, reader: DeltaReader, run: Run) -> None:
        self.inner, self.reader, self.run = inner, reader, run

    @property
    def endpoint(self) -> Endpoint | None:
        return self.inner.endpoint

    @property
    def readers_per_writer(self) -> int:
        return 1  # one piece per table: the changes are read in one stream

    @property
    def read_ahead(self) -> int:
        return self.inner.read_ahead

    def batch_rows(self, table: TablePlan) -> int:
        return self.inner.batch_rows(table)

    def pieces(self, table: TablePlan, lanes: int, batch_rows: int) -> list[Any]:
        """One piece, or none when nothing changed; the mark is taken here, in the
        source, just before the rows up to it are read."""
        follow = self.run.follows[table.name]
        if follow.column is not None:
            follow.upto = self.reader.bound(table, follow.column, follow.after)
        if follow.how == "full":
            return [None]  # read whole (rows past the mark come again next time: no harm)
        return [] if follow.upto is None else [None]

    def batches(self, table: TablePlan, piece: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
        follow = self.run.follows[table.name]
        if follow.how == "full":
            return self.inner.batches(table, None, batch_rows)
        assert follow.column is not None and follow.upto is not None
        return self.reader.batches(table, follow.column, follow.after, follow.upto, batch_rows)

    def message(self, err: BaseException) -> str:
        return self.inner.message(err)

    def close(self) -> None:
        self.inner.close()


class DeltaTarget:
    """The run's target, upserting each table's rows with its mark."""

    def __init__(self, inner: TargetSession, writer: UpsertWriter, run: Run) -> None:
        self.inner, self.writer, self.run = inner, writer, run

    @property
    def capabilities(self) -> Capabilities:
        """Tables linked by foreign keys are upserted one at a time, referenced first."""
        mine = self.inner.capabilities
        return replace(mine, writers="one") if self.run.one_at_a_time else mine

    @property
    def endpoint(self) -> Endpoint | None:
        return self.inner.endpoint

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def writable(self) -> Callable[[pa.DataType], bool] | None:
        return self.inner.writable

    @property
    def warn(self) -> Callable[[str], None]:
        return self.inner.warn

    @warn.setter
    def warn(self, value: Callable[[str], None]) -> None:
        self.inner.warn = value

    def prepare(self, tables: Sequence[TablePlan], *args: Any, **kwargs: Any) -> list[Statement]:
        """Nothing made, dropped or suspended: the target's foreign keys and indexes stay
        (``transfer.incremental_order``), unless the keys form a cycle between tables."""
        return self.inner.prepare(tables, (), drop=False, data_only=not self.run.keep_foreign_keys)

    def allow_lanes(self, say: Callable[[str], None]) -> bool:
        return False  # one transaction per table holds the rows and their mark

    def table_load(self, table: TablePlan, lanes: int, *, create: bool) -> TableLoad:
        return self.writer.load(table, self.run.follows[table.name])

    def owns(self, err: BaseException) -> bool:
        return self.inner.owns(err)

    def message(self, err: BaseException) -> str:
        return self.inner.message(err)

    def finishing(self, loaded: Any) -> Any:
        return self.inner.finishing(loaded)

    def statements(self, *args: Any) -> list[Statement]:
        """Sequences moved past the new keys, and what a cycle of foreign keys took; no
        ANALYZE (PostgreSQL's autovacuum analyzes a table its changes moved enough)."""
        return [s for s in self.inner.statements(*args) if s.kind not in ("analyze", "vacuum")]

    def statements_after(
        self, plan: Any, loaded: Sequence[TablePlan], options: Any, result: Any
    ) -> list[Statement]:
        """No full-table checks or ANALYZE of the whole file: only the tables whose rows
        changed by more than ``ANALYZE_SHARE`` are analyzed again."""
        skip = ("analyze", "check", "foreign_key_check")
        out = [
            s
            for s in self.inner.statements_after(plan, loaded, options, result)
            if s.kind not in skip
        ]
        if self.inner.capabilities.writers == "one":  # SQLite: nothing analyzes for it
            for table in loaded:
                follow = self.run.follows.get(table.name)
                if follow is None:
                    continue
                changed = follow.counts.get("inserted", 0) + follow.counts.get("updated", 0)
                changed += follow.deleted or 0
                if changed > ANALYZE_SHARE * max(1, table.rows):
                    sql = f"ANALYZE {quote_ident(table.name)}"
                    out.append(Statement("analyze", sql, table.name, sql))
        return out

    def views(self, *args: Any, **kwargs: Any) -> list[Statement]:
        return self.inner.views(*args, **kwargs)

    def run_script(self, statements: Sequence[str]) -> None:
        self.inner.run_script(statements)

    def close(self, *, complete: bool) -> str | None:
        return self.inner.close(complete=complete)
