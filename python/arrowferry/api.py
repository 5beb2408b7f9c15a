"""The public facade: migrate, Migration, inspect_schema, map_type, migrate_table."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from arrowferry import embedded, targets
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects import sqlite
from arrowferry.dialects.base import dialect_for, dialect_named
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.errors import (
    BadInputError,
    SchemaError,
    SourceError,
)
from arrowferry.model import Schema, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan, Planner, select_tables
from arrowferry.plan.to_sqlite import SqlitePlanner
from arrowferry.progress import NullReporter, Reporter, echo_statements
from arrowferry.result import MigrationResult
from arrowferry.transfer.pipeline import Pipeline
from arrowferry.transfer.to_sqlite import SqlitePipeline
from arrowferry.types import TEXT, TypeMappings
from arrowferry.urls import Endpoint, parse_url

UrlLike = str | os.PathLike[str] | Endpoint


@dataclass(frozen=True)
class MigrationConfig:
    """A migration described as in the reference API: two endpoints and options.

    Examples
    --------
    >>> config = MigrationConfig(
    ...     source=Endpoint("sqlite", "examples/chinook.sqlite"),
    ...     target=Endpoint("postgresql", "chinook", host="localhost", username="me"),
    ...     options=MigrationOptions(batch_size=50_000),
    ... )
    """

    source: Endpoint
    target: Endpoint | None = None
    options: MigrationOptions = field(default_factory=MigrationOptions)


def _endpoint(value: UrlLike) -> Endpoint:
    return value if isinstance(value, Endpoint) else parse_url(value)


def _target_endpoint(value: UrlLike) -> Endpoint:
    """A target: a SQLite file there may not exist yet."""
    return value if isinstance(value, Endpoint) else parse_url(value, must_exist=False)


class Migration:
    """One migration, planned then run: a SQLite file into PostgreSQL, or a PostgreSQL
    schema into a SQLite file (the source URL decides the direction).

    Build it from URLs (``Migration("app.db", "postgresql://me@db/app", workers=4)``,
    ``Migration("postgresql://me@db/app", "app.db")``) or from a :class:`MigrationConfig`.
    With a SQLite source and no target, it migrates into the embedded PostgreSQL, into a
    database named after the source file.

    Examples
    --------
    >>> m = Migration("examples/chinook.sqlite", dry_run=True)
    >>> plan = m.plan()                      # doctest: +SKIP
    >>> result = Migration("examples/chinook.sqlite", "postgresql://me@db/app").migrate()  # doctest: +SKIP
    """

    def __init__(
        self,
        source: UrlLike | MigrationConfig,
        target: UrlLike | None = None,
        *,
        options: MigrationOptions | None = None,
        reporter: Reporter | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(source, MigrationConfig):
            config = source
            self.source = config.source
            self.target = config.target if target is None else _target_endpoint(target)
            options = options or config.options
        else:
            self.source = _endpoint(source)
            self.target = _target_endpoint(target) if target is not None else None
        self.options = MigrationOptions.from_kwargs(options, **kwargs)
        self.reporter: Reporter = reporter or NullReporter()
        if self.source.dialect == "postgresql":
            if self.target is None:
                raise BadInputError(
                    f"migrating from {self.source.masked_url} needs a target SQLite file "
                    "(for example: arrowferry migrate postgresql://me@db/app app.db)"
                )
            if self.target.dialect != "sqlite":
                raise BadInputError(
                    f"a PostgreSQL source goes into a SQLite file; got {self.target.masked_url} "
                    "(PostgreSQL -> PostgreSQL is pg_dump's job)"
                )
            if self.options.target_schema != "public":
                raise BadInputError(
                    "--target-schema applies to a PostgreSQL target; SQLite has none"
                )
        elif self.target is not None and self.target.dialect != "postgresql":
            raise BadInputError(
                f"a SQLite source goes into PostgreSQL; got {self.target.masked_url} "
                "(SQLite -> SQLite is sqlite3's .backup)"
            )

    @property
    def to_sqlite(self) -> bool:
        """True for the PostgreSQL -> SQLite direction."""
        return self.source.dialect == "postgresql"

    # --- planning ---------------------------------------------------------------------

    def plan(self) -> MigrationPlan:
        """Introspect and profile the source and decide everything; writes nothing."""
        if self.to_sqlite:
            return self._plan_to_sqlite()
        path = self.source.path
        with sqlite.connect_metadata_ctx(path) as conn:
            note = sqlite.check_integrity(conn, path)
            schema = sqlite.introspect(conn)
            if note:
                schema = replace(schema, notes=(*schema.notes, note))
            tables = select_tables(schema, self.options.include_tables, self.options.exclude_tables)
            if not tables:
                raise BadInputError(f"{str(path)!r}: no tables to migrate")
            failed = {t.name: t.unreadable for t in tables if t.unreadable is not None}
            existing = targets.existing_types(self.target, tables, self.options)
            profiles = {}
            for t in tables:
                if t.name in failed:
                    continue
                # a column landing in an existing type is measured for that type
                landing = [c.name for c in t.columns if c.name in existing.get(t.name, {})]
                try:
                    profiles[t.name] = sqlite.profile(
                        conn,
                        t.name,
                        list(dict.fromkeys([*self._profiled_columns(t), *landing])),
                        self._measured_columns(t) | set(landing),
                        sqlite.size_limits(t),
                    )
                except SourceError as err:  # one table's problem, not the run's
                    failed[t.name] = err.message
            sequences = _sqlite_sequences(conn)
            plan = Planner(schema, profiles, self.options, sequences, existing).build(
                tables, failed
            )
            planned = [t for t in tables if t.name not in plan.failed]
            plan.warnings.extend(sqlite.virtual_notes(conn, planned, self.options.target_schema))
            if self.options.dry_run:
                for table in plan.tables:
                    for col in table.columns:
                        if col.type.kind in {"timestamp", "timestamptz", "date"}:
                            plan.date_forms[(table.name, col.target)] = sqlite.date_forms(
                                conn, table.source.name, col.source
                            )
        return plan

    def _plan_to_sqlite(self) -> MigrationPlan:
        """PostgreSQL -> SQLite: introspect and measure the source in a snapshot of its
        own (row counts are for the plan and progress; the load counts what it reads)."""
        conn = pgread.connect_snapshot(self.source)
        try:
            schema_name = self.options.source_schema
            pgread.check_schema(conn, schema_name, self.source)
            schema = pg.introspect(conn, schema_name)
            materialized = pgread.materialized_views(conn, schema_name)
            if self.options.materialize_views:
                held = [
                    pg.materialized_view_table(conn, schema_name, name)
                    for name, populated in materialized.items()
                    if populated
                ]
                schema = replace(schema, tables=schema.tables + tuple(held))
            tables = select_tables(schema, self.options.include_tables, self.options.exclude_tables)
            if not tables:
                raise BadInputError(
                    f"{self.source.masked_url}: no tables to migrate in schema {schema_name!r}"
                )
            facts = pgread.source_facts(conn, schema_name, tables, materialized)
        finally:
            pgread.end_snapshot(conn)
        return SqlitePlanner(schema, facts, self.options).build(tables)

    def _profiled_columns(self, table: Table) -> list[str]:
        """Columns whose plan needs their storage classes before the read.

        Everything else is read the fast way, and a surprise in the data makes the
        pipeline re-read that column exactly, so the profile costs no second scan of
        clean columns. A dry run profiles every column, to show it.
        """
        if self.options.dry_run:
            return list(table.column_names)
        mapped = self._mapped_columns(table)
        return [c.name for c in table.columns if sqlite.needs_profile(c) or c.name in mapped]

    def _measured_columns(self, table: Table) -> set[str]:
        return sqlite.needs_measures(table) | self._mapped_columns(table)

    def _mapped_columns(self, table: Table) -> set[str]:
        """Columns --type-map gives another type: the plan measures them as it measures
        a declared type of that kind (an unbounded numeric needs its values' widest
        magnitude, or a REAL of 123456789.5 would not fit its Arrow decimal)."""
        mappings = TypeMappings(self.options.type_mappings)
        return {c.name for c in table.columns if mappings.lookup(table.name, c.name, c.declared)}

    # --- running ---------------------------------------------------------------------

    def migrate(self) -> MigrationResult:
        """Run the migration (or only plan it when ``dry_run``) and return the result.

        Bad input (a missing or corrupt file, an unreachable server, a table that
        does not exist) raises before anything is created in the target.
        """
        with echo_statements() if self.options.verbose else nullcontext():
            return self._migrate()

    def _migrate(self) -> MigrationResult:
        result = self._run()
        # several tables, lanes or retries may meet the same thing: say it once
        result.warnings = list(dict.fromkeys(result.warnings))
        return result

    def _run(self) -> MigrationResult:
        start = time.perf_counter()
        plan = self.plan()
        result = MigrationResult(dry_run=self.options.dry_run, plan=plan.to_dict())
        result.phases["plan"] = time.perf_counter() - start
        result.warnings.extend(plan.warnings)
        stop = bool(plan.failed) and not self.options.continue_on_error
        for name, message in plan.failed.items():
            result.table_failed(name, message, fatal=stop)
        if stop and not self.options.dry_run:
            # a table that cannot be planned stops the run as any failure does, and here
            # before anything is written: nothing dropped, created or renamed
            for table in plan.tables:
                result.table_not_attempted(table.name)
            result.target = self.target.masked_url if self.target is not None else None
            result.duration = time.perf_counter() - start
            result.success = False
            return result
        if self.to_sqlite:
            self._migrate_to_sqlite(plan, result)
            result.duration = time.perf_counter() - start
            result.success = not result.errors and result.rows_rejected == 0
            return result
        target = self._resolve_target(plan)
        result.target = target.masked_url if target is not None else None
        if target is not None:
            targets.check_target(target, plan, self.options)
            if self.options.dry_run:
                targets.try_defaults(target, plan, result)
        if not self.options.dry_run and target is not None:
            Pipeline(plan, self.source.path, target, self.options, self.reporter, result).run()
        if self.options.dry_run:
            result.tables_processed = 0
        result.duration = time.perf_counter() - start
        result.success = not result.errors and result.rows_rejected == 0
        return result

    def _migrate_to_sqlite(self, plan: MigrationPlan, result: MigrationResult) -> None:
        assert self.target is not None
        path = self.target.path
        result.target = str(path)
        if not path.parent.is_dir():
            raise BadInputError(
                f"cannot create {str(path)!r}: directory {str(path.parent)!r} does not exist"
            )
        if path.exists():
            targets.check_target(self.target, plan, self.options)
        elif self.options.data_only:
            raise SchemaError(f"--data-only: the target file {str(path)!r} does not exist")
        if self.options.dry_run:
            result.tables_processed = 0
            return
        SqlitePipeline(plan, self.source, path, self.options, self.reporter, result).run()

    def _resolve_target(self, plan: MigrationPlan) -> Endpoint | None:
        if self.target is not None:
            return self.target
        if self.options.dry_run:
            return None  # a dry run starts no server
        name = embedded.database_name_for(self.source.path)
        self.target = embedded.ensure_database(name)
        return self.target


def _sqlite_sequences(conn: Any) -> dict[str, int]:
    try:
        return {
            name: int(seq or 0)
            for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")
        }
    except Exception:
        return {}  # no AUTOINCREMENT table: sqlite_sequence does not exist


def migrate(
    source: UrlLike | MigrationConfig,
    target: UrlLike | None = None,
    *,
    reporter: Reporter | None = None,
    **options: Any,
) -> MigrationResult:
    """Migrate a SQLite database into PostgreSQL, or a PostgreSQL schema into a SQLite
    file: schema, data, keys, indexes, foreign keys, sequences, views.

    Parameters
    ----------
    source
        ``sqlite:///path.db``, a path to an existing SQLite file, a
        ``postgresql://`` URL (its ``source_schema``, default ``public``), or a
        MigrationConfig.
    target
        For a SQLite source: ``postgresql://user:password@host:port/db?sslmode=...``, or
        None for the embedded PostgreSQL (a database named after the source file).
        For a PostgreSQL source: the SQLite file to create (or to add tables to).
    reporter
        Progress observer (see :mod:`arrowferry.progress`); None reports nothing.
    **options
        Any :class:`MigrationOptions` field: ``batch_size``, ``workers``, ``dry_run``,
        ``include_tables``, ``exclude_tables``, ``type_mappings``, ``drop_tables``...

    Returns
    -------
    MigrationResult
        ``rows_migrated``, ``tables`` (rows, seconds, rows/s each), ``errors``,
        ``warnings``, ``summary``.

    Examples
    --------
    >>> import arrowferry as af
    >>> result = af.migrate("sqlite:///app.sqlite", "postgresql://me@db/app", batch_size=50_000)  # doctest: +SKIP
    >>> print(result.rows_migrated, result.tables)  # doctest: +SKIP
    >>> back = af.migrate("postgresql://me@db/app", "copy.sqlite", source_schema="public")  # doctest: +SKIP
    """
    return Migration(source, target, reporter=reporter, **options).migrate()


create_migration_manager = Migration
"""Alias of :class:`Migration`, named as in the reference API."""


def migrate_table(
    source: UrlLike, target: UrlLike | None, table: str, **options: Any
) -> MigrationResult:
    """Migrate one table (exact name) with its keys and indexes.

    Examples
    --------
    >>> migrate_table("app.db", "postgresql://me@db/app", "orders", drop_tables=True)  # doctest: +SKIP
    """
    exact = re.sub(r"([*?\[])", r"[\1]", table)  # a table name, not a glob pattern
    return migrate(source, target, include_tables=(exact,), **options)


def inspect_schema(url: UrlLike, *, schema: str = "public") -> Schema:
    """The neutral schema of a SQLite file or a PostgreSQL schema.

    Examples
    --------
    >>> s = inspect_schema("examples/chinook.sqlite")
    >>> s.table("Album").primary_key.columns
    ('AlbumId',)
    """
    endpoint = _endpoint(url)
    return dialect_for(endpoint).introspect(endpoint, schema)


def map_type(
    type: str,
    source_dialect: str = "sqlite",
    target_dialect: str = "postgresql",
    *,
    type_mappings: Mapping[str, str] | None = None,
) -> str:
    """The target DDL type for a declared source type.

    ``type_mappings`` keys match as in a migration: case-insensitively, the whole
    declared text first (``varchar(10)``), then its name alone (``varchar``).

    Examples
    --------
    >>> map_type("NVARCHAR(40)")
    'varchar(40)'
    >>> map_type("integer auto_increment")
    'bigint'
    >>> map_type("character varying(40)", "postgresql", "sqlite")
    'VARCHAR(40)'
    >>> map_type("NVARCHAR(40)", type_mappings={"nvarchar": "text"})
    'text'
    """
    chosen = TypeMappings(type_mappings).for_type(type)
    if chosen is not None:
        return chosen
    source, target = dialect_named(source_dialect), dialect_named(target_dialect)
    if source is target:
        return type  # the same database keeps every type as declared
    dtype = source.parse_type(type)
    return target.type_ddl(dtype if dtype is not None else TEXT)
