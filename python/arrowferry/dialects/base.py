"""The contract every database provides, and ``dialect_for``, which picks one.

A dialect says, as data where it can, what its database is like (:class:`Capabilities`) and
how its declared types map to the neutral model and back (``parse_type`` / ``type_ddl``, in
the manner of sqlglot's per-dialect type maps and dlt's two-way type mappers). Its operations
come in two roles: as a **source** it introspects into the neutral model; as a **target** it
says which tables and columns are there already. The engine (``plan``, ``transfer``) holds no
SQL text: it asks the dialect.

Adding a database is one new package under ``dialects/`` with one object implementing
:class:`Dialect`, registered in ``_REGISTRY`` below.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from arrowferry.errors import BadInputError
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.urls import Endpoint

if TYPE_CHECKING:
    from arrowferry.dialects.changes import Change, SyncStatement, TargetFacts
    from arrowferry.dialects.checks import CheckTable
    from arrowferry.dialects.journal import Record, StateStore
    from arrowferry.options import MigrationOptions
    from arrowferry.plan.model import MigrationPlan, TablePlan
    from arrowferry.result import MigrationResult


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a database can do, as the engine needs to know it.

    Examples
    --------
    >>> from arrowferry.dialects.base import dialect_named
    >>> dialect_named("sqlite").capabilities.writers
    'one'
    >>> dialect_named("postgresql").capabilities.max_identifier_bytes
    63
    """

    writers: Literal["one", "many"]
    """One writer at a time (SQLite's database lock) or many sessions loading at once."""
    constraints_after_load: bool
    """Keys, foreign keys and CHECKs can be added to a loaded table (ALTER TABLE ... ADD),
    rather than only written inside CREATE TABLE."""
    not_valid: bool
    """A constraint can be added without checking existing rows (``NOT VALID``)."""
    transactional_ddl: bool
    """CREATE TABLE rolls back with the transaction it ran in."""
    max_identifier_bytes: int | None
    """Longer names are cut by the server (PostgreSQL: 63); None: no limit."""
    case_insensitive_names: bool
    """Two tables whose names differ only in case are the same table (SQLite)."""
    atomic_file: bool
    """The database is a file: a new one is built aside and renamed into place."""
    schemas: bool
    """Tables live in named schemas (``--source-schema`` / ``--target-schema`` apply)."""
    enforces_declared_types: bool
    """Every stored value has its column's declared type; without it (SQLite's type
    affinity), the data is profiled before the plan trusts a declared type."""
    shared_snapshot_readers: bool
    """Several connections can read one consistent snapshot (for parallel readers)."""
    default_schema: str | None = field(default=None)
    """The schema a URL means when none is given."""


@dataclass
class Statement:
    """A finishing statement and what it does, for the plan and the summary."""

    kind: str  # vacuum, key_index, index, primary_key, unique, check, foreign_key, sequence, view, analyze
    sql: str
    table: str | None
    name: str
    fallback_sql: str | None = None  # e.g. the NOT VALID form of a foreign key
    fallback_note: str = "existing rows violate it"  # why the fallback was needed
    depends: tuple[str, ...] = ()  # target tables that must have loaded
    requires: str | None = None  # a statement (by name) that must have fully succeeded
    diagnose_sql: str | None = None  # (count, examples) of the rows that need the fallback


class Capturing:
    """Wraps a batch iterator so the original exception survives the driver's C stream."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self.batches = batches
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.batches
        except BaseException as err:
            self.error = err
            raise


def prepended(head: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A batch stream with its first batch, already taken to learn its schema, put back."""
    yield head
    yield from rest


OK, WEAKER, FAILED = "ok", "weaker", "failed"


@dataclass(frozen=True)
class Ran:
    """What a target's own way of running a statement came to, for the Finisher to record."""

    outcome: str  # OK, WEAKER (kept, but the data breaks it) or FAILED
    warning: str | None = None
    issue: dict[str, Any] | None = None  # a constraint the data breaks, for the result


class FinishTarget(Protocol):
    """How finishing statements run on one target database."""

    # Stage of each kind: a statement waits for the earlier stages of the tables it
    # touches. A kind not listed is in the last stage; with none listed nothing waits.
    stages: Mapping[str, int]

    def connection(self) -> Any:
        """A connection for the calling worker thread (asked once per thread)."""

    def release(self, conn: Any) -> None:
        """The Finisher is done with ``conn``."""

    def execute(self, conn: Any, sql: str) -> None: ...

    def fetch(self, conn: Any, sql: str) -> list[tuple[Any, ...]]: ...

    def message(self, err: BaseException) -> str:
        """A driver error as the user reads it."""

    def probe_view(self, conn: Any, name: str) -> None:
        """Fail when a view just created cannot be read."""

    def drop_view(self, conn: Any, name: str) -> None:
        """Remove a view that failed (its CREATE or its probe), before it is retried."""

    def run(self, conn: Any, stmt: Statement) -> Ran | None:
        """Run a statement of a kind the target runs its own way; None: execute its
        SQL, with its fallback if it fails (the Finisher does that)."""

    def recorded(self, conn: Any, stmt: Statement) -> AbstractContextManager[list[Record]]:
        """The block's work on ``stmt``, with the records it adds kept exactly when the
        work is (one transaction, where the kind allows one: ``dialects.journal``)."""

    def note(self, conn: Any, record: Record) -> None:
        """Keep (or replace) a record on its own, after the work it describes."""


Ingest = Callable[[pa.Schema | None, Iterator[pa.RecordBatch], Callable[[int], None]], int]
"""Writes a stream of batches (their schema, when known) into a table, calling back with
each batch's rows; returns the rows written."""


class SourceSession(Protocol):
    """A source opened for one run (``Dialect.open_source``): reads planned tables."""

    @property
    def endpoint(self) -> Endpoint | None:
        """Whose password no message may show."""

    @property
    def readers_per_writer(self) -> int:
        """Readers that may feed one writer at once."""

    @property
    def read_ahead(self) -> int:
        """Batches read ahead of their conversion, on a thread of their own (0: none)."""

    def batch_rows(self, table: TablePlan) -> int:
        """Rows per batch (0: the session cuts batches by bytes)."""

    def pieces(self, table: TablePlan, lanes: int, batch_rows: int) -> list[Any]:
        """Key ranges for ``lanes`` parallel readers, in key order ([None]: the whole table)."""

    def batches(self, table: TablePlan, piece: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """One piece's batches, every column of the Arrow type the plan reads it as."""

    def message(self, err: BaseException) -> str: ...

    def close(self) -> None: ...


class TableLoad(Protocol):
    """One table's load into the target (``TargetSession.table_load``)."""

    def lane(self) -> AbstractContextManager[Ingest]:
        """A writer in its own transaction, committed when the block ends cleanly; the
        first (or only) lane creates the table."""

    def complete(self) -> None:
        """Every lane is in: put the table in place."""

    def abort(self) -> None:
        """A lane failed: leave nothing that looks like the table."""


class TargetSession(Protocol):
    """A target opened for one run (``Dialect.open_target``): creates, loads and finishes."""

    warn: Callable[[str], None]  # set by the pipeline: said once, kept in the result

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def endpoint(self) -> Endpoint | None: ...

    @property
    def name(self) -> str:
        """What errors call the target."""

    @property
    def writable(self) -> Callable[[pa.DataType], bool] | None:
        """The Arrow types it binds exactly (None: its writer checks each field itself)."""

    def prepare(
        self,
        tables: Sequence[TablePlan],
        before: Sequence[Statement],
        *,
        drop: bool,
        data_only: bool,
        rebuild_indexes: bool = False,
        views: Collection[str] = (),  # the run's own: replace a view of their name
    ) -> list[Statement]:
        """Before any table: drop or suspend what is in the way, run ``before``; returns what to
        put back after the load (``rebuild_indexes``: a data-only load's own indexes too)."""

    def allow_lanes(self, say: Callable[[str], None]) -> bool:
        """Whether large tables may load over several writers at once."""

    def table_load(self, table: TablePlan, lanes: int, *, create: bool) -> TableLoad: ...

    def owns(self, err: BaseException) -> bool:
        """Whether a driver error came from this side."""

    def message(self, err: BaseException) -> str: ...

    def finishing(self, loaded: Callable[[], Sequence[TablePlan]]) -> FinishTarget: ...

    def statements(
        self, plan: MigrationPlan, options: MigrationOptions, restore: Sequence[Statement]
    ) -> list[Statement]:
        """Finishing statements that may run while tables still load."""

    def statements_after(
        self,
        plan: MigrationPlan,
        loaded: Sequence[TablePlan],
        options: MigrationOptions,
        result: MigrationResult,
    ) -> list[Statement]:
        """Finishing statements that run once every table is loaded."""

    def views(
        self,
        plan: MigrationPlan,
        options: MigrationOptions,
        restore: Sequence[Statement],
        *,
        stopped: bool,
    ) -> list[Statement]:
        """What runs last, in order (views and what depends on them)."""

    def run_script(self, statements: Sequence[str]) -> None:
        """A user's statements (``before_sql``/``after_sql``) in one transaction, one by
        one; on a failure, roll back and raise :class:`~arrowferry.dialects.script.ScriptError`
        with its index (``len(statements)``: the COMMIT)."""

    def close(self, *, complete: bool) -> str | None:
        """End the run; a note for the result when the run leaves nothing behind."""


class ChecksumSession(Protocol):
    """A database opened for a content checksum (``Dialect.open_checksum``), in one
    consistent state. With ``hashes_itself`` it computes segment sums and row hashes
    itself (``segment_sums``, ``row_hashes``, ``display_rows``); without, it hands the
    client Arrow batches to hash (``pieces``, ``batches``, ``display_rows``)."""

    hashes_itself: bool

    def key_span(self, table: CheckTable, column: str) -> tuple[int, int] | None:
        """(min, max) of an integer key (None: an empty table, or a key that is not one)."""

    def estimated_rows(self, table: CheckTable) -> int:
        """About how many rows the table holds (to size its segments)."""

    def message(self, err: BaseException) -> str: ...

    def close(self) -> None: ...


class Dialect(ABC):
    """One database, in both roles. Subclasses are stateless singletons."""

    name: str
    label: str
    """The database's name as people write it ("PostgreSQL"), for messages."""
    capabilities: Capabilities

    # --- the type map, both ways ----------------------------------------------------

    @abstractmethod
    def parse_type(self, declared: str) -> DataType | None:
        """The neutral type of a declared type; None when only the data can tell."""

    @abstractmethod
    def type_ddl(self, dtype: DataType) -> str:
        """The declared type this database gives a neutral type."""

    def column_ddl_type(self, column: Column, source: Dialect) -> str:
        """The type a source column is declared with here.

        Between two databases of the same dialect every type is kept as it was declared
        (an enum, a domain, ``numeric(40,7)``, a SQLite type name no rule knows);
        across dialects the neutral type is rendered in this dialect's terms.
        """
        if source.name == self.name and column.declared:
            return column.declared
        return self.type_ddl(column.type)

    def identifier(self, name: str) -> str:
        """The name this database will store for ``name`` (cut to its byte limit)."""
        limit = self.capabilities.max_identifier_bytes
        raw = name.encode("utf-8")
        if limit is None or len(raw) <= limit:
            return name
        return raw[:limit].decode("utf-8", errors="ignore")

    # --- as a source ----------------------------------------------------------------

    @abstractmethod
    def introspect(self, endpoint: Endpoint, schema: str | None = None) -> Schema:
        """The neutral schema of the database (one schema of it, where it has schemas)."""

    @abstractmethod
    def open_source(self, endpoint: Endpoint, options: Any, *, readers_per_writer: int = 1) -> Any:
        """A session reading planned tables as Arrow batches (``batch_rows``, ``pieces``:
        key ranges for parallel readers, ``batches``, ``message``, ``close``)."""

    # --- as a target ----------------------------------------------------------------

    @abstractmethod
    def open_target(
        self, endpoint: Endpoint, options: Any, *, native: bool = False
    ) -> TargetSession:
        """A session writing planned tables (``prepare``, ``table_load`` with its writer
        lanes, ``finishing`` with its statements and views, ``close``). ``native``: the
        plan replays a same-dialect source's own definitions."""

    # --- a copy into another database of the same dialect ---------------------------------

    def read_native(self, endpoint: Endpoint, options: Any) -> tuple[Schema, Any, dict[str, int]]:
        """The source's tables, its own definitions (a ``NativeSchema``: ``tables`` by name,
        ``before``, ``after``, ``last`` statements, ``notes``) and row counts, read in one
        snapshot: what a copy into another database of this dialect replays."""
        raise NotImplementedError(f"{self.name} cannot be copied into itself yet")

    def column_read(self, column: Column) -> tuple[str | None, bool]:
        """For a same-dialect copy: (the expression a column is read by, or None: as the
        source session reads it; whether the target server casts it from its text)."""
        return None, False

    def key_column(self, table: Table) -> str | None:
        """For a same-dialect copy: the single integer key a large table is read in ranges by."""
        return None

    def state_store(self, endpoint: Endpoint, options: Any) -> StateStore:
        """Where a run into ``endpoint`` keeps its state (``dialects/<name>/state.py``)."""
        module = importlib.import_module(f"{__package__}.{self.name}.state")
        store: StateStore = module.store(endpoint, options)
        return store

    # --- a content checksum (verify) -----------------------------------------------------

    def open_checksum(self, endpoint: Endpoint, schema: str | None) -> ChecksumSession:
        """This database's side of a content checksum (``arrowferry.verify``): SQL that
        hashes on the server, or batches the client hashes (``dialects/checks.py``)."""
        raise NotImplementedError(f"{self.name} cannot be verified yet")

    @abstractmethod
    def existing_tables(
        self, endpoint: Endpoint, schema: str | None, names: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Of ``names``, the tables already there (as the target spells them), each with
        its column names. Nothing is created: a missing database or file holds none."""

    # --- as the target of a schema sync (sync_schema) ---------------------------------

    def sync_statements(
        self,
        changes: Sequence[Change],
        current: Schema,
        facts: TargetFacts,
        *,
        namespace: str | None,
    ) -> list[SyncStatement]:
        """The statements that make ``changes`` (ordered, in this database's terms) on a
        database whose schema is ``current``, each marked destructive as its change is."""
        raise NotImplementedError(f"{self.name} cannot be the target of a schema sync yet")

    def sync_facts(
        self,
        endpoint: Endpoint,
        namespace: str | None,
        current: Schema,
        changes: Sequence[Change],
    ) -> TargetFacts:
        """What the target's data says about ``changes``: NULLs under a NOT NULL, values a
        new type cannot take, the rows of a table, what a rebuild must remake."""
        from arrowferry.dialects.changes import TargetFacts

        return TargetFacts()

    def sync_apply(
        self, endpoint: Endpoint, namespace: str | None, statements: Sequence[SyncStatement]
    ) -> list[str]:
        """Run a sync's statements; on an error nothing of the failing transaction stays,
        and the error names the table (column and row where known). Returns a note for
        each optional statement (a view) the target refused and that was left out."""
        raise NotImplementedError(f"{self.name} cannot be the target of a schema sync yet")

    def sync_drops_dependents(self) -> bool:
        """Whether a view or foreign key on a column whose type changes (or on a key that
        is replaced) must be dropped before and recreated after (PostgreSQL refuses the
        change otherwise); False where the dialect's own rendering keeps them."""
        return True

    def view_relations(self, sql: str) -> frozenset[str]:
        """The tables and views a view's query reads, by lower-cased name (none known
        when the query does not parse)."""
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        from arrowferry.dialects.translate.common import DIALECT

        try:
            tree = sqlglot.parse_one(sql, read=DIALECT[self.name])
        except SqlglotError:
            return frozenset()
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        return frozenset(t.name.lower() for t in tree.find_all(exp.Table)) - ctes

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


# name -> "module:attribute" of its dialect object, imported on first use so that
# asking for SQLite never loads the PostgreSQL driver
_REGISTRY = {
    "sqlite": "arrowferry.dialects.sqlite.dialect:DIALECT",
    "postgresql": "arrowferry.dialects.postgresql.dialect:DIALECT",
}


def dialect_named(name: str) -> Dialect:
    """The dialect object for a name (``"sqlite"``, ``"postgresql"``).

    Examples
    --------
    >>> dialect_named("postgresql").name
    'postgresql'
    """
    where = _REGISTRY.get(name)
    if where is None:
        raise BadInputError(f"no dialect {name!r}: arrowferry knows {', '.join(sorted(_REGISTRY))}")
    module, _, attribute = where.partition(":")
    dialect = getattr(importlib.import_module(module), attribute)
    assert isinstance(dialect, Dialect)
    return dialect


def dialect_for(endpoint: Endpoint | str) -> Dialect:
    """The dialect of a URL or an :class:`~arrowferry.urls.Endpoint`.

    Examples
    --------
    >>> dialect_for("postgresql://me@db/app").name
    'postgresql'
    """
    if isinstance(endpoint, str):
        from arrowferry.urls import parse_url

        endpoint = parse_url(endpoint, must_exist=False)
    return dialect_named(endpoint.dialect)
