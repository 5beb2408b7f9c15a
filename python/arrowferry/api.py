"""The public facade: migrate, Migration, inspect_schema, map_type, migrate_table."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arrowferry import embedded, faults, targets
from arrowferry.config import merge as merge_config
from arrowferry.dialects.base import dialect_for
from arrowferry.errors import (
    BadInputError,
    DatabaseMissingError,
)
from arrowferry.hooks import Hooks
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan, plan_migration
from arrowferry.progress import NullReporter, Reporter, Watch, echo_statements, watching
from arrowferry.progress import ProgressCallback as OnProgress
from arrowferry.result import MigrationResult
from arrowferry.sync import sync_schema as sync_schema  # the facade's own, defined there
from arrowferry.transfer.pipeline import Pipeline
from arrowferry.transfer.predict import stops_before_load
from arrowferry.urls import Endpoint, parse_url

if TYPE_CHECKING:
    from arrowferry.checksum.report import VerificationReport
    from arrowferry.diff import SchemaComparison
    from arrowferry.sync import SyncResult

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
        source: UrlLike | MigrationConfig | None = None,
        target: UrlLike | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        options: MigrationOptions | None = None,
        reporter: Reporter | None = None,
        on_progress: OnProgress | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.settings = merge_config(config, source, target, kwargs, options)  # file, then these
        source, target, kwargs = self.settings.source, self.settings.target, self.settings.options
        if isinstance(source, MigrationConfig):
            self.source = source.source
            self.target = source.target if target is None else _target_endpoint(target)
            options = options or source.options
        else:
            self.source = _endpoint(source)
            self.target = _target_endpoint(target) if target is not None else None
        self.options = MigrationOptions.from_kwargs(options, **kwargs)
        self.reporter: Reporter = reporter or NullReporter()
        self.on_progress, self.progress = on_progress, progress  # see migrate()
        self._watch = Watch(self.reporter)
        self.verification: VerificationReport | None = None  # set by a run with verify=True
        if self.target is None and self.source.dialect != "sqlite":
            raise BadInputError(
                f"migrating from {self.source.masked_url} needs a target: a SQLite file or a "
                "PostgreSQL URL (for example: arrowferry migrate postgresql://me@db/app app.db)"
            )
        if self.target is not None and _same_place(self.source, self.target, self.options):
            raise BadInputError(
                f"the source and the target are the same database ({self.target.masked_url}"
                + (
                    f", schema {self.options.source_schema!r}"
                    if self.target.dialect == "postgresql"
                    else ""
                )
                + "): a copy needs another database, file or --target-schema"
            )
        into = dialect_for(self.target) if self.target is not None else None
        if (
            into is not None
            and not into.capabilities.schemas
            and self.options.target_schema != "public"
        ):
            raise BadInputError(
                f"--target-schema applies to a target with schemas; {into.name} has none"
            )

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **kwargs: Any) -> Migration:
        """From a TOML file (:mod:`arrowferry.config`), keywords over it: ``from_config(
        "migration.toml", dry_run=True)`` is ``Migration(config=..., dry_run=True)``."""
        return cls(config=path, **kwargs)

    # --- planning ---------------------------------------------------------------------

    def plan(self) -> MigrationPlan:
        """Introspect and profile the source and decide everything; writes nothing."""
        return plan_migration(self.source, self.target, self.options)

    # --- running ---------------------------------------------------------------------

    def migrate(self) -> MigrationResult:
        """Run the migration (or only plan it when ``dry_run``) and return the result.

        Bad input (a missing or corrupt file, an unreachable server, a table that
        does not exist) raises before anything is created in the target.
        """
        verbose = echo_statements() if self.options.verbose else nullcontext()
        with verbose, watching(self) as self._watch:
            try:
                result = self._migrate()
            except DatabaseMissingError as err:
                targets.missing_database_hint(err, self.target)
                raise
            self._watch.finished(result.success)
            return result

    def _migrate(self) -> MigrationResult:
        self._began = time.monotonic()  # a server that answered since is one seen this run
        with self._warming():
            result = self._run()
        result.warnings += self.settings.notes()
        # several tables, lanes or retries may meet the same thing: say it once
        result.warnings = list(dict.fromkeys(result.warnings))
        if self.options.verify and not self.options.dry_run and self.target is not None:
            self._watch.phase("verify")
            self.verification = self.verify()
            result.verification = self.verification.to_dict()
            result.success = result.success and self.verification.ok
        return result

    # --- checking ---------------------------------------------------------------------

    def verify(
        self, tables: Sequence[str] | None = None, *, examples: int = 5
    ) -> VerificationReport:
        """Compare every row and value of the source with the target this migration
        writes (its tables, reject files and bad-value policy): :func:`arrowferry.verify`.

        Examples
        --------
        >>> m = Migration("examples/chinook.sqlite", "postgresql://me@db/app")  # doctest: +SKIP
        >>> m.migrate(); print(m.verify())  # doctest: +SKIP
        """
        from arrowferry.verify import verify

        target = self.target if self.target is not None else self._resolve_target()
        if target is None:
            raise BadInputError("verify needs a target")
        return verify(
            self.source,
            target,
            tables if tables is not None else (self.options.include_tables or None),
            exclude=self.options.exclude_tables if tables is None else (),
            examples=examples,
            source_schema=self.options.source_schema,
            target_schema=self.options.target_schema,
            reject_dir=self.options.reject_dir,
            on_bad_value=self.options.on_bad_value,
            exclude_columns=tuple(self.options.transforms),  # changed on purpose
            identifiers=self.options.identifiers,
        )

    def _warming(self) -> AbstractContextManager[None]:
        """PostgreSQL connections opened while the source is planned (``warm``)."""
        from arrowferry.dialects.postgresql.warm import for_run

        return nullcontext() if self.options.dry_run else for_run(self.source, self.target)

    def _run(self) -> MigrationResult:
        start = time.perf_counter()
        retries: list[str] = []
        # the plan and checks write nothing (but a missing database): a server restarted
        # under them is planned and checked again
        ready = faults.again_if_lost(
            lambda: self._prepare(start),
            since=self._began,
            doing="while the run planned and checked",
            said=retries,
        )
        result, plan, target, resumable = ready
        result.warnings[:0] = retries
        if plan is not None and target is not None:
            self._transfer(plan, target, result, resumable)
        if self.options.dry_run:
            result.tables_processed = 0
        result.duration = time.perf_counter() - start
        result.success = not result.errors and result.rows_rejected == 0
        return result

    def _prepare(
        self, start: float
    ) -> tuple[MigrationResult, MigrationPlan | None, Endpoint | None, Any]:
        """Plan and check, writing nothing (a missing database aside, with --create-db):
        the result so far, and the plan, target and interrupted run to transfer (no
        plan when the run ends here)."""
        self._watch.phase("plan")
        if self._reads_target() and (not self.options.dry_run or embedded.is_running()):
            # into the embedded database an earlier run made: the plan follows its tables
            # (a dry run starts no server, but reads a running one)
            self.target = embedded.existing_database(embedded.database_name_for(self.source.path))
        plan = self.plan()
        plan.hooks = Hooks.load(self.options, self.target.dialect if self.target else "postgresql")
        self._watch.planned(plan, schema_only=self.options.schema_only)
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
            return result, None, None, None
        target = self._resolve_target()
        resumable = None
        if target is not None:
            targets.check_fits(target, plan, self.options)
        if target is not None and targets.ensure_database(target, self.options):
            result.target = target.masked_url
            result.warnings.append(  # a dry run: nothing there to look at yet
                f"database {target.database!r} does not exist on {target.masked_url}; "
                "the run will create it (--create-db)"
            )
        elif target is not None:
            resumable = targets.look_before_writing(self.source, target, plan, self.options, result)
            checked = self.options.dry_run or self.options.strict_schema
            if (
                self.options.data_only
                and checked
                and stops_before_load(self.source, plan, self.options, result)
            ):
                return result, None, None, None
        if self.options.dry_run or target is None:
            return result, None, None, None
        return result, plan, target, resumable

    def _transfer(self, plan: MigrationPlan, target: Endpoint, result: Any, resumable: Any) -> None:
        """Run the plan: the source's dialect reads, the target's writes, one pipeline."""
        source_dialect, target_dialect = dialect_for(self.source), dialect_for(target)
        one_writer = target_dialect.capabilities.writers == "one"
        readers = self.options.lanes or max(1, self.options.parallelism - 1) if one_writer else 1
        source = source_dialect.open_source(self.source, self.options, readers_per_writer=readers)
        try:
            sink = target_dialect.open_target(
                target, self.options, native=source_dialect is target_dialect
            )
        except BaseException:
            source.close()
            raise
        path = self.source.path if self.source.dialect == "sqlite" else None
        if self.options.incremental:  # only the changed rows, as upserts (issue 16)
            from arrowferry.transfer import incremental

            try:
                plan, source, sink, run = incremental.wrap(
                    plan, source, sink, self.source, target_dialect.name, self.options, result
                )
            except BaseException:
                source.close()
                sink.close(complete=False)
                raise
            Pipeline(plan, source, sink, self.options, self._watch, result, source_path=path).run()
            incremental.report(run, result)
            return
        kept = {"source_path": path, "resumable": resumable}  # resumable: transfer.state
        marks = None
        # the marks the incremental runs after this one start from (not after --resume:
        # rows the interrupted run read may have changed since, below a mark taken now)
        if self.options.cursor and not self.options.resume:
            from arrowferry.transfer import first_marks

            marks = first_marks.take(plan, source, self.source, self.options)
        Pipeline(plan, source, sink, self.options, self._watch, result, **kept).run()
        if marks:
            first_marks.record(marks, target, self.options, result)

    def compare_schemas(self, *, renames: Mapping[str, str] | None = None) -> SchemaComparison:
        """How the target's schema differs from the source's (the source is the desired
        state, a; the target is b). See :func:`compare_schemas`.

        Examples
        --------
        >>> m = Migration("examples/chinook.sqlite", "examples/chinook.sqlite.copy")  # doctest: +SKIP
        >>> m.compare_schemas().identical  # doctest: +SKIP
        True
        """
        if self.target is None:
            raise BadInputError(
                "comparing schemas needs a target: a SQLite file or a PostgreSQL URL"
            )
        return compare_schemas(
            self.source,
            self.target,
            renames=self.settings.renames if renames is None else renames,
            a_schema=self.options.source_schema if self.source.dialect == "postgresql" else None,
            b_schema=self.options.target_schema if self.target.dialect == "postgresql" else None,
            identifiers=self.options.identifiers,
        )

    def sync_schema(
        self,
        *,
        generate_sql: bool = True,
        apply: bool = False,
        allow_destructive: bool = False,
        renames: Mapping[str, str] | None = None,
    ) -> SyncResult:
        """Bring the target's schema in line with the source's (the model): see
        :func:`sync_schema`. ``Migration(a, b).sync_schema(apply=True)``."""
        if self.target is None:
            raise BadInputError("a schema sync needs a target: a SQLite file or a PostgreSQL URL")
        pg = {"postgresql"}
        return sync_schema(
            self.source,
            self.target,
            generate_sql=generate_sql,
            apply=apply,
            allow_destructive=allow_destructive,
            renames=self.settings.renames if renames is None else renames,
            desired_schema=self.options.source_schema if self.source.dialect in pg else None,
            target_schema=self.options.target_schema if self.target.dialect in pg else None,
            identifiers=self.options.identifiers,
        )

    def _reads_target(self) -> bool:
        """Whether the plan follows the embedded target's own tables (their columns and
        keys): a run into the default target that only adds rows."""
        embedded_default = self.target is None and self.source.dialect == "sqlite"
        return embedded_default and (self.options.data_only or self.options.incremental)

    def _resolve_target(self) -> Endpoint | None:
        if self.target is not None:
            return self.target
        if self.options.dry_run:
            return None  # a dry run starts no server
        name = embedded.database_name_for(self.source.path)
        self.target = embedded.ensure_database(name)
        return self.target


def _same_place(source: Endpoint, target: Endpoint, options: MigrationOptions) -> bool:
    if source.dialect != target.dialect:
        return False
    if source.dialect == "sqlite":
        return target.path.exists() and target.path.resolve() == source.path.resolve()
    return source.url == target.url and options.source_schema == options.target_schema


def migrate(
    source: UrlLike | MigrationConfig | None = None,
    target: UrlLike | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    reporter: Reporter | None = None,
    on_progress: OnProgress | None = None,
    progress: bool | None = None,
    **options: Any,
) -> MigrationResult:
    """Migrate a SQLite database into PostgreSQL, or a PostgreSQL schema into a SQLite
    file: schema, data, keys, indexes, foreign keys, sequences, views.

    Parameters
    ----------
    source
        ``sqlite:///path.db``, a path to an existing SQLite file, a
        ``postgresql://`` URL (its ``source_schema``, default ``public``), or a
        MigrationConfig (or None with ``config``).
    target
        For a SQLite source: ``postgresql://user:password@host:port/db?sslmode=...``, or
        None for the embedded PostgreSQL (a database named after the source file).
        For a PostgreSQL source: the SQLite file to create (or to add tables to).
    config
        A TOML file of settings (:mod:`arrowferry.config`); the arguments override it.
    reporter
        Progress observer (see :mod:`arrowferry.progress`); None reports nothing.
    on_progress, progress
        ``on_progress`` is called with each :class:`~arrowferry.MigrationProgress` (if
        it raises, the run stops). ``progress``: bars, live in Jupyter or on stderr
        (None: only in IPython or Jupyter, and without ``on_progress``; False: never).
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
    return Migration(
        source,
        target,
        config=config,
        reporter=reporter,
        on_progress=on_progress,
        progress=progress,
        **options,
    ).migrate()


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


# the schema half of the facade lives in its own module; these names stay importable here
from arrowferry.api_schema import compare_schemas, inspect_schema, map_type  # noqa: E402

__all__ = [
    "Migration",
    "MigrationConfig",
    "compare_schemas",
    "create_migration_manager",
    "inspect_schema",
    "map_type",
    "migrate",
    "migrate_table",
    "sync_schema",
]
