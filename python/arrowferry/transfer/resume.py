"""The pipeline's side of a run's state: start it, or continue an interrupted run.

A fresh run writes its first record with ``prepare`` (what a data-only load takes
away, to be put back). A resumed run prepares nothing again: it checks each table the
interrupted run completed by counting its rows, counts it as loaded, and hands the
finisher the statements already done; a table left half loaded (aside, or in the new
file) continues after its last committed piece, unless its plan changed (a retry had
changed a column's path), its pieces rejected rows (their reject records are not
kept), or its rows are not what the records say: those start again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.base import Statement
from arrowferry.dialects.journal import JournaledLoad
from arrowferry.errors import LeftoverStateError
from arrowferry.result import MigrationError
from arrowferry.transfer import state as journal
from arrowferry.transfer.state import PieceDone, Resumable, TableState
from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    from arrowferry.plan import TablePlan
    from arrowferry.transfer.finish import Finisher
    from arrowferry.transfer.pipeline import Loaded, Pipeline


class Resume:
    """What a pipeline keeps of its state, and what it continues from."""

    def __init__(self, pipeline: Pipeline, resumable: Resumable) -> None:
        self.p = pipeline
        self.fingerprint = resumable.fingerprint
        self.leftover = resumable.leftover
        self.carried = resumable.carried
        # tables with committed pieces, as this process knows them (a retry continues)
        self.partial: dict[str, TableState] = {}
        if self.leftover is not None:
            self.partial = {n: t for n, t in self.leftover.tables.items() if not t.complete}
        self.lock = pipeline.lock
        self.lost = False  # finishing statements could not run: the state must stay

    @property
    def finished(self) -> dict[str, dict[str, Any]]:
        return self.leftover.finished if self.leftover is not None else {}

    def complete(self, name: str) -> bool:
        found = self.leftover.tables.get(name) if self.leftover is not None else None
        return found is not None and found.complete

    # --- before the loads ---------------------------------------------------------------

    def prepare(self) -> list[Statement]:
        """A fresh run's ``prepare``, with its first record; a resumed run's checks."""
        p = self.p
        self._stale_rejects()
        if self.leftover is None:
            restore = p.target.prepare(
                p.plan.tables,
                p.plan.prepare,
                drop=p.options.drop_tables,
                data_only=p.options.data_only,
                rebuild_indexes=p.options.rebuild_indexes,
                views={s.name for s in p.plan.finish if s.kind in {"view", "native_view"}},
                state=lambda taken: [journal.run_record(self.fingerprint, [*taken, *self.carried])],
            )
            return [*restore, *self.carried]
        p.target.resume()
        self._check_counts()
        return list(self.leftover.restore)

    def _stale_rejects(self) -> None:
        """A killed run's unpublished reject files (``.partial``): this run writes its own."""
        from arrowferry.transfer.rejects import RejectFile

        folder = Path(self.p.options.reject_dir)
        if not folder.is_dir():
            return
        for table in self.p.plan.tables:
            RejectFile(folder, table.name, None, table.source.name).partial.unlink(missing_ok=True)

    def _check_counts(self) -> None:
        """Each table the interrupted run completed still holds the rows it loaded."""
        assert self.leftover is not None
        appended = self.p.options.data_only  # the table held rows of its own before
        for table in self.p.plan.tables:
            found = self.leftover.tables.get(table.name)
            if found is None or not found.complete:
                continue
            there = self.p.target.rows_in(table.name)
            if there == found.rows or (appended and there >= found.rows):
                continue
            raise LeftoverStateError(
                f"cannot resume: table {table.name!r} holds {there:,} rows in the target, but "
                f"the interrupted run loaded {found.rows:,}; the target changed since (pass "
                "--drop-tables without --resume to start over)",
                where=self.leftover.where,
            )

    def tables_done(self, finisher: Finisher) -> None:
        """Count the tables the interrupted run completed as loaded, in plan order."""
        if self.leftover is None:
            return
        skipped = []
        for table in self.p.plan.tables:
            found = self.leftover.tables.get(table.name)
            if found is None or not found.complete:
                continue
            loaded = self._as_loaded(table, found)
            self.p.table_in(loaded, 0.0)
            self.p.reporter.table_finished(table.name, loaded.rows, 0.0, True)
            finisher.table_loaded(table.name)
            skipped.append(table.name)
        going_on = [n for n in self.partial if any(t.name == n for t in self.p.plan.tables)]
        self.p._warn(
            f"resumed an interrupted run: {plural(len(skipped), 'table')} already complete "
            f"(rows counted), {plural(len(going_on), 'table')} continued from "
            f"{noun(len(going_on), 'its', 'their')} last committed key range, "
            f"{plural(len(self.leftover.finished), 'finishing statement')} already done"
        )

    def _as_loaded(self, table: TablePlan, found: TableState) -> Loaded:
        from arrowferry.transfer.pipeline import Loaded
        from arrowferry.transfer.rejects import RejectFile

        loaded = Loaded(table, rows=found.rows, prior_rejected=found.rejected)
        loaded.transform = self.p._transformer(table)
        journal.seed(loaded.transform, list(found.done.values()))
        if found.rejected:
            folder = Path(self.p.options.reject_dir)
            final = RejectFile(folder, table.name, None, table.source.name).final
            loaded.reject_file = final if final.exists() else None
        return loaded

    def prior(self, table: TablePlan) -> TableState | None:
        """What an interrupted run committed of ``table``, if the load can go on from it;
        otherwise what it left is removed and the table starts again."""
        found = self.partial.get(table.name)
        if found is None:
            return None
        load = self.p.target.table_load(table, 1, create=not self.p.options.data_only, resumed=True)
        why = None
        if found.plan != journal.table_hash(table):
            why = "its plan changed during the interrupted run (a column took its exact path)"
        elif found.rejected:
            why = "it rejected rows, whose records are not kept"
        elif load.rows_there() != found.rows:
            why = f"it does not hold the {found.rows:,} rows its committed key ranges say"
        if why is None:
            return found
        self.p._warn(f"table {table.name!r} loads again from its start: {why}")
        load.abort(keep=False)
        self.partial.pop(table.name, None)
        return None

    # --- during the loads -------------------------------------------------------------------

    def started(self, table: TablePlan, pieces: list[Any]) -> None:
        """A staged table exists (with its record) before any piece commits."""
        with self.lock:
            self.partial[table.name] = TableState(list(pieces), journal.table_hash(table), True)

    def committed(
        self, table: TablePlan, pieces: list[Any], load: JournaledLoad, index: int, done: PieceDone
    ) -> None:
        with self.lock:
            found = self.partial.setdefault(
                table.name, TableState(list(pieces), journal.table_hash(table), load.staged)
            )
            found.done[index] = done

    def carry(self, prior: TableState | None, loaded: Loaded) -> int:
        """The counters and rows of the pieces committed before: into this attempt's."""
        if prior is None:
            return 0
        assert loaded.transform is not None
        journal.seed(loaded.transform, list(prior.done.values()))
        self.p.reporter.advance(loaded.table.name, prior.rows)
        return prior.rows

    # --- after ------------------------------------------------------------------------------

    def worth_keeping(self) -> bool:
        """Whether a run that stops leaves anything for ``--resume``: a table in place, a
        table's committed pieces, statements that could not run (or it is a resumed run
        itself: what it resumes stays)."""
        return bool(self.leftover is not None or self.p.loaded or self.partial or self.lost)

    def finish_lost(self, finisher: Finisher) -> bool:
        """Finishing statements that could not run for a lost connection stop the run
        short of complete: ``--resume`` runs them."""
        if not finisher.lost:
            return False
        self.lost = True
        said = (
            f"{plural(len(finisher.lost), 'finishing statement')} ({', '.join(finisher.lost[:5])}) "
            "could not run: the connection to the target was lost; run the same command with "
            "--resume to finish"
        )
        self.p.result.errors.append(MigrationError(None, said, fatal=True))
        self.p.result.success = False
        return True


# --- a target that keeps no state of its own (an incremental run's upserts) ----------------


class Unjournaled:
    """A target session without a run's state (an incremental run keeps its own marks,
    committed with its rows): it takes the pipeline's calls and keeps nothing."""

    commits_pieces = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def warn(self) -> Any:
        return self.inner.warn

    @warn.setter
    def warn(self, value: Any) -> None:
        self.inner.warn = value

    def prepare(self, *args: Any, state: Any = None, **kwargs: Any) -> list[Statement]:
        result: list[Statement] = self.inner.prepare(*args, **kwargs)
        return result

    def resume(self) -> None:
        """Never asked: an incremental run does not resume."""

    def reconnect(self) -> None:
        if hasattr(self.inner, "reconnect"):
            self.inner.reconnect()

    def table_load(self, table: Any, lanes: int, *, create: bool, resumed: bool = False) -> Any:
        return _PlainLoad(self.inner.table_load(table, lanes, create=create))

    def close(self, *, complete: bool, keep: bool = True) -> str | None:
        note: str | None = self.inner.close(complete=complete)
        return note


class _PlainLoad:
    staged = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def start(self, record: Any) -> None:
        """No state: nothing to keep."""

    @contextlib.contextmanager
    def lane(self) -> Iterator[Any]:
        with self.inner.lane() as ingest:
            yield _PlainWriter(ingest)

    def rows_there(self) -> int | None:
        return None

    def complete(self, record: Any = None) -> None:
        self.inner.complete()

    def abort(self, *, keep: bool = False) -> None:
        self.inner.abort()


class _PlainWriter:
    def __init__(self, ingest: Any) -> None:
        self.ingest = ingest

    def __call__(self, *args: Any) -> int:
        return int(self.ingest(*args))

    def record(self, records: Any) -> None:
        """No state: nothing to keep."""
