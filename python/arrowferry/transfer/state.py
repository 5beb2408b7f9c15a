"""A run's state in its target, as the engine writes and reads it, and ``--resume``.

Every run keeps records in the target, each written in the transaction of the work it
describes (``dialects.journal``): the run itself (what was planned, and what a
data-only run took away to put back), each table's pieces (key ranges) as they commit,
a table put in place, each finishing statement done. So after ``kill -9``, a power loss
or a server restart the records say exactly what is in the target, and ``--resume``
skips what is complete (checked by count), continues the interrupted table from its
last committed piece, and runs the finishing statements not yet done. The records go
when the run completes.

A resumed run must be the same run: the source, the options that change the plan,
and each table's plan are compared with what the interrupted run recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.base import Statement, dialect_for
from arrowferry.dialects.journal import Record
from arrowferry.errors import LeftoverStateError
from arrowferry.transfer.rejects import decode, encode
from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    from arrowferry.options import MigrationOptions
    from arrowferry.plan import MigrationPlan, TablePlan
    from arrowferry.plan.model import ColumnPlan
    from arrowferry.urls import Endpoint

VERSION = 1
# options that change what a run does to the target; the others (workers, lanes,
# batch sizes, where rejects go...) may differ between a run and its resume
PLAN_OPTIONS = (
    "schema_only",
    "data_only",
    "include_tables",
    "exclude_tables",
    "type_mappings",
    "column_mappings",
    "transforms",
    "ignore_missing_columns",
    "rebuild_indexes",
    "on_bad_value",
    "size_limits",
    "strip_nul",
    "replace_invalid_utf8",
    "target_schema",
    "source_schema",
    "create_views",
    "materialize_views",
)


# --- what a table's pieces did --------------------------------------------------------


@dataclass
class PieceDone:
    """One committed piece of a table: rows written and read, rows rejected, and the
    transformer's counters (bad, cleaned and interpreted values) for the ledger."""

    rows: int
    read: int = 0
    rejected: int = 0
    counters: dict[str, Any] = field(default_factory=dict)


def counters(transform: Any) -> dict[str, Any]:
    """A transformer's counters as JSON (examples kept losslessly)."""
    return {
        "bad": dict(transform.bad_counts),
        "cleaned": dict(transform.cleaned),
        "interpreted": {k: dict(v) for k, v in transform.interpreted.items()},
        "examples": {k: [encode(x) for x in v] for k, v in transform.examples.items()},
    }


def seed(transform: Any, pieces: Sequence[PieceDone]) -> None:
    """Add the counters of pieces an earlier attempt committed to ``transform``."""
    for done in pieces:
        transform.rows_read += done.read
        found = done.counters
        for mine, theirs in (
            (transform.bad_counts, found.get("bad", {})),
            (transform.cleaned, found.get("cleaned", {})),
        ):
            for column, count in theirs.items():
                mine[column] = mine.get(column, 0) + int(count)
        for column, kinds in found.get("interpreted", {}).items():
            counts = transform.interpreted.setdefault(column, {})
            for kind, count in kinds.items():
                counts[kind] = counts.get(kind, 0) + int(count)
        for key, values in found.get("examples", {}).items():
            seen = transform.examples.get(key, [])
            transform.examples[key] = (seen + [decode(v) for v in values])[:3]


@dataclass
class TableState:
    """A table as the records say: its pieces, those committed, whether it was built
    aside (staged) and put in place."""

    pieces: list[Any]
    plan: str  # the table's plan when it started (a retry may have changed it)
    staged: bool
    done: dict[int, PieceDone] = field(default_factory=dict)
    placed: bool = False

    @property
    def complete(self) -> bool:
        return len(self.done) == len(self.pieces) and (self.placed or not self.staged)

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.done.values())

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.done.values())

    def todo(self) -> list[tuple[int, Any]]:
        return [(i, p) for i, p in enumerate(self.pieces) if i not in self.done]


def _piece(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# --- records ---------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def run_record(plan: Mapping[str, Any], restore: Sequence[Statement]) -> Record:
    body = {"version": VERSION, "plan": plan, "restore": [asdict(s) for s in restore]}
    return Record("run", "", -1, _json(body))


def load_record(table: TablePlan, pieces: Sequence[Any], staged: bool) -> Record:
    body = {"pieces": list(pieces), "plan": table_hash(table), "staged": staged}
    return Record("load", table.name, -1, _json(body))


def piece_record(table: str, index: int, done: PieceDone) -> Record:
    return Record("piece", table, index, _json(asdict(done)))


def placed_record(table: str) -> Record:
    return Record("placed", table, -1, "{}")


def finished_record(
    key: str, outcome: str, note: str | None = None, issue: dict[str, Any] | None = None
) -> Record:
    return Record("finished", key, -1, _json({"outcome": outcome, "note": note, "issue": issue}))


TABLE_KINDS = ("load", "piece", "placed")  # what a table started over forgets


def statement_key(stmt: Statement) -> str:
    """The name a finishing statement is recorded under (its kind, table and text)."""
    text = "\x00".join([stmt.kind, stmt.table or "", stmt.name, stmt.sql])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# --- what an interrupted run left ----------------------------------------------------------


@dataclass
class Leftover:
    """An interrupted run, as its records say."""

    where: str
    plan: dict[str, Any]
    restore: list[Statement]
    tables: dict[str, TableState]
    finished: dict[str, dict[str, Any]]

    @property
    def data_only(self) -> bool:
        return bool(self.plan.get("options", {}).get("data_only"))

    def complete(self) -> list[str]:
        return [name for name, t in self.tables.items() if t.complete]

    def staged(self) -> list[str]:
        return [name for name, t in self.tables.items() if t.staged and not t.placed]


def parse(records: Sequence[Record], where: str) -> Leftover:
    run = next(r for r in records if r.kind == "run")
    body = json.loads(run.body)
    restore = [Statement(**{**s, "depends": tuple(s["depends"])}) for s in body["restore"]]
    tables: dict[str, TableState] = {}
    for r in records:
        if r.kind == "load":
            b = json.loads(r.body)
            tables[r.name] = TableState([_piece(p) for p in b["pieces"]], b["plan"], b["staged"])
    finished: dict[str, dict[str, Any]] = {}
    for r in records:
        table = tables.get(r.name)
        if r.kind == "piece" and table is not None:
            table.done[r.piece] = PieceDone(**json.loads(r.body))
        elif r.kind == "placed" and table is not None:
            table.placed = True
        elif r.kind == "finished":
            finished[r.name] = json.loads(r.body)
    return Leftover(where, body["plan"], restore, tables, finished)


# --- the same run? ----------------------------------------------------------------------


def table_hash(table: TablePlan) -> str:
    """What a table's load depends on: names, rows, DDL, and how each column travels."""
    shape = {
        "names": [table.source.name, table.name, table.schema],
        "rows": table.rows,
        "ddl": [table.create_sql, table.load_sql, sorted(table.defaults.items())],
        "read": [table.rowid, list(table.order_by), table.only, list(table.key), table.sequence],
        "columns": [_column_shape(c) for c in table.columns],
    }
    return hashlib.sha256(_json(shape).encode()).hexdigest()[:24]


def _column_shape(c: ColumnPlan) -> list[Any]:
    travel = [c.read_as, str(c.arrow_type), c.cast, c.validate, c.enforce_length, c.kernel]
    shape = [c.source, c.target, c.ddl, *travel, c.limit, c.server_cast, c.select]
    return shape if c.transform is None else [*shape, str(c.transform)]


def fingerprint(plan: MigrationPlan, options: MigrationOptions, source: Endpoint) -> dict[str, Any]:
    """What a resumed run must share with the run it continues."""
    where = str(source.path.resolve()) if source.dialect == "sqlite" else source.masked_url
    finish = [[s.kind, s.table, s.sql] for s in plan.finish]
    return {
        "source": where,
        "options": json.loads(_json({k: getattr(options, k) for k in PLAN_OPTIONS})),
        "tables": {t.name: table_hash(t) for t in plan.tables},
        "finish": hashlib.sha256(_json(finish).encode()).hexdigest()[:24],
    }


def differences(was: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """How this run differs from the interrupted one, one phrase each."""
    out = []
    if was.get("source") != now["source"]:
        out.append(f"it read {was.get('source')!r}, this run reads {now['source']!r}")
    old, new = was.get("options", {}), now["options"]
    for name in PLAN_OPTIONS:
        if old.get(name) != new.get(name):
            out.append(f"option {name} was {old.get(name)!r}, now {new.get(name)!r}")
    tables_was, tables_now = was.get("tables", {}), now["tables"]
    gone = sorted(set(tables_was) - set(tables_now))
    added = sorted(set(tables_now) - set(tables_was))
    if gone:
        out.append(f"it moved {noun(len(gone), 'table')} {', '.join(gone)} that this run does not")
    if added:
        out.append(f"this run moves {noun(len(added), 'table')} {', '.join(added)} that it did not")
    changed = sorted(n for n in set(tables_was) & set(tables_now) if tables_was[n] != tables_now[n])
    if changed:
        out.append(
            f"{noun(len(changed), 'table')} {', '.join(changed)} "
            f"{noun(len(changed), 'is', 'are')} planned differently (the source's rows or "
            "definitions changed since)"
        )
    if not out and was.get("finish") != now["finish"]:
        out.append("its keys, indexes, foreign keys or views are planned differently")
    return out


@dataclass
class Resumable:
    """What a run keeps state with: its fingerprint; the interrupted run it continues
    (None: a fresh run); what an interrupted run it starts over from had taken away
    (foreign keys and views of other tables that DROP ... CASCADE took), put back by
    this run."""

    fingerprint: dict[str, Any]
    leftover: Leftover | None = None
    carried: list[Statement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the result (a dry run's warning)

    @property
    def done(self) -> set[str]:
        """The tables the interrupted run completed."""
        return set(self.leftover.complete()) if self.leftover is not None else set()


def interrupted_run(
    source: Endpoint, target: Endpoint, plan: MigrationPlan, options: MigrationOptions
) -> Resumable:
    """This run's fingerprint, and the interrupted run it continues (``--resume``).

    Without ``--resume`` an interrupted run's state is an error that says what to do
    (``--drop-tables`` forgets it and starts over, except after a data-only run, whose
    rows are in the tables already); a resume of another run (source, options,
    tables) is refused the same way.
    """
    now = fingerprint(plan, options, source)
    if options.incremental:  # its marks, committed with its rows, are its state
        return Resumable(now)
    store = dialect_for(target).state_store(target, options)
    records = store.read()
    if records is None:
        return Resumable(now)
    left = parse(records, store.where)
    done = left.complete()
    said = (
        f"an interrupted run left its state in {store.where} "
        f"({len(done)} of {plural(len(left.plan.get('tables', {})), 'table')} complete"
        f"{_what_was_taken(left)})"
    )
    if options.dry_run:
        note = f"{said}; the run needs --resume (or --drop-tables to start over)"
        return Resumable(now, left, notes=[note])  # its complete tables are expected there
    if not options.resume:
        if options.drop_tables and not left.data_only:
            store.discard(left.staged())
            return Resumable(now, carried=left.restore)
        fix = (
            "pass --resume to finish it and put them back"
            if left.data_only
            else "pass --resume to finish it, or --drop-tables to start over"
        )
        raise LeftoverStateError(f"{said}; {fix}", where=store.where)
    found = differences(left.plan, now)
    if found:
        again = (
            "resume with the same source and options, to put back what it took away"
            if left.data_only
            else "resume with the same source and options, or pass --drop-tables (without "
            "--resume) to start over"
        )
        raise LeftoverStateError(
            f"cannot resume the interrupted run in {store.where}: {'; '.join(found)}; {again}",
            where=store.where,
        )
    return Resumable(now, left)


def _what_was_taken(left: Leftover) -> str:
    taken = [s.name for s in left.restore if s.kind in {"foreign_key", "index"}]
    if not taken or not left.data_only:
        return ""
    return f"; it dropped {', '.join(taken)} for the load, not yet put back"
