"""What the target already holds, looked at before anything is written.

A run refuses when tables are in the way (or, for ``data_only``, missing), and a
``data_only`` run into PostgreSQL reads the existing columns' types, whose sizes are what
a value must fit. One refusal rule for every target; each dialect only answers which
tables and columns are there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_for
from arrowferry.dialects.postgresql.collations import missing_collations
from arrowferry.dialects.postgresql.connection import MAX_COLUMNS
from arrowferry.errors import (
    BadInputError,
    ConnectError,
    DatabaseMissingError,
    SchemaError,
    SourceError,
    TargetExistsError,
)
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan
from arrowferry.plan.defaults import try_on_target
from arrowferry.result import MigrationResult
from arrowferry.urls import Endpoint
from arrowferry.wording import noun


def check_target(target: Endpoint, plan: MigrationPlan, options: MigrationOptions) -> None:
    """Refuse before writing when tables are in the way (or, for data_only, missing or
    lacking a column the rows need), whatever the target's dialect."""
    dialect = dialect_for(target)
    schema = options.target_schema if dialect.capabilities.schemas else None
    names = [t.name for t in plan.tables]
    try:
        found = dialect.existing_tables(target, schema, names)
    except SourceError as err:  # worded for a source: this file is where rows would go
        raise BadInputError(f"the target cannot be used: {err.message}") from err
    if dialect.capabilities.case_insensitive_names:
        spelled = {n.lower(): n for n in found}
        present = [spelled[n.lower()] for n in names if n.lower() in spelled]
        columns = {n: found[spelled[n.lower()]] for n in names if n.lower() in spelled}
    else:
        present = [n for n in names if n in found]
        columns = {n: found[n] for n in present}
    missing = sorted(set(names) - set(columns))
    where = (
        f"{target.masked_url} (schema {schema!r})" if schema is not None else repr(str(target.path))
    )
    _refuse(options, present, missing, where)
    if dialect.name == "postgresql":
        _collations_exist(target, plan, where)
    if options.data_only:
        for table in plan.tables:
            have = {c.lower() for c in columns[table.name]}
            lacking = [c.target for c in table.columns if c.target.lower() not in have]
            if lacking:
                raise SchemaError(
                    f"--data-only: table {table.name!r} in {where} has no column "
                    f"{', '.join(repr(c) for c in lacking)} (it has "
                    f"{', '.join(repr(c) for c in columns[table.name])}); nothing was written"
                )


def _collations_exist(target: Endpoint, plan: MigrationPlan, where: str) -> None:
    """A collation the columns to create name (``text_collation``) that the database
    lacks is refused before a table is dropped or created ("C" is in every database)."""
    wanted = sorted(
        {c.collation for t in plan.tables for c in t.target.columns if c.collation} - {"C"}
    )
    if not wanted:
        return
    conn = pg.connect(target, read_only=True)
    try:
        lacking = missing_collations(conn, wanted)
    finally:
        conn.close()
    if lacking:
        raise BadInputError(
            f"--text-collation {lacking[0]!r}: {where} has no such collation (SELECT collname "
            "FROM pg_collation lists those it has; 'C' compares text as SQLite does, "
            "'default' takes the database's own); nothing was written"
        )


def _refuse(
    options: MigrationOptions, present: Sequence[str], missing: Sequence[str], where: str
) -> None:
    if options.data_only and missing:
        raise SchemaError(
            f"--data-only: {_tables(missing)} {noun(len(missing), 'does', 'do')} not exist in "
            f"{where}; create {noun(len(missing), 'it', 'them')} first or leave out --data-only"
        )
    if present and not options.data_only and not options.drop_tables:
        them = noun(len(present), "it", "them")
        raise TargetExistsError(
            f"{_tables(present)} already {noun(len(present), 'exists', 'exist')} in {where}; "
            f"pass --drop-tables to replace {them}, or --data-only to append into {them}"
        )


def _tables(names: Sequence[str]) -> str:
    return f"{noun(len(names), 'table')} {', '.join(repr(n) for n in names)}"


def try_defaults(target: Endpoint, plan: MigrationPlan, result: MigrationResult) -> None:
    """A dry run tries its translated defaults, CHECKs and indexes on the target, as the
    run will (writing nothing), and says which the target refuses."""
    conn = pg.connect(target)
    try:
        notes = try_on_target(conn, plan)
    finally:
        conn.close()
    plan.warnings.extend(notes)
    result.warnings.extend(notes)
    result.plan = plan.to_dict()


def check_fits(target: Endpoint, plan: MigrationPlan, options: MigrationOptions) -> None:
    """What PostgreSQL cannot hold, refused by name before anything is created rather
    than by CREATE midway: more than 1,600 columns in a table (SQLite allows 2,000), and
    an empty name (SQLite takes ``""``). With ``continue_on_error`` the CREATE fails that
    table alone, with the server's words, and the others go on.
    """
    if target.dialect != "postgresql" or options.continue_on_error:
        return
    wide = [(t.name, len(t.columns)) for t in plan.tables if len(t.columns) > MAX_COLUMNS]
    if wide:
        names = ", ".join(f"{name!r} ({count:,} columns)" for name, count in wide)
        raise SchemaError(
            f"{noun(len(wide), 'table')} {names} cannot be created in {target.masked_url}: "
            f"PostgreSQL allows at most {MAX_COLUMNS:,} columns in a table; nothing was "
            f"written (leave {noun(len(wide), 'it', 'them')} out with --exclude, or pass "
            "--continue-on-error to migrate the other tables)"
        )
    unnamed = [
        f"table {t.source.name!r}" if not t.name else f"a column of table {t.name!r}"
        for t in plan.tables
        if not t.name or not all(c.target for c in t.columns)
    ]
    if unnamed:
        raise SchemaError(
            f"{', '.join(unnamed)}: the name is empty, which PostgreSQL does not allow; "
            "nothing was written (rename it in the source, or pass --continue-on-error to "
            "migrate the other tables)"
        )


# --- a target database that does not exist ----------------------------------------------

_MAINTENANCE_DATABASES = ("postgres", "template1")


def ensure_database(target: Endpoint, options: MigrationOptions) -> bool:
    """``create_db``: create the target PostgreSQL database when it is missing.

    Returns True when it is missing and stays so (a dry run creates nothing). The name is
    quoted as an identifier (a name holding quotes, semicolons or spaces creates exactly
    that database and runs nothing else).
    """
    if target.dialect != "postgresql" or not options.create_db:
        return False
    try:
        pg.connect(target).close()
        return False
    except DatabaseMissingError:
        pass
    if len(target.database.encode("utf-8")) > pg.MAX_IDENTIFIER_BYTES:
        raise BadInputError(
            f"cannot create database {target.database!r}: PostgreSQL names are at most "
            f"{pg.MAX_IDENTIFIER_BYTES} bytes"
        )
    conn = _maintenance_connection(target)
    try:
        if pg.database_exists(conn, target.database):
            return False  # created meanwhile by someone else
        if options.dry_run:
            return True
        try:
            pg.execute(conn, pg.create_database_sql(target.database))
        except Exception as err:
            if pg.database_exists(conn, target.database):
                return False  # a concurrent run created it first
            raise ConnectError(
                f"cannot create database {target.database!r} on {target.masked_url}: "
                f"{pg.driver_message(err, target)}"
            ) from err
    finally:
        conn.close()
    return False


def _maintenance_connection(target: Endpoint) -> Any:
    """The same server and login, on a database that is always there."""
    for name in _MAINTENANCE_DATABASES:
        try:
            return pg.connect(replace(target, database=name), autocommit=True)
        except DatabaseMissingError:
            continue
    raise ConnectError(
        f"cannot create database {target.database!r}: the server at {target.masked_url} has "
        f"neither a {' nor a '.join(repr(n) for n in _MAINTENANCE_DATABASES)} database to "
        "connect to; create it yourself"
    )


def missing_database_hint(err: DatabaseMissingError, target: Endpoint | None) -> None:
    """Raise ``err`` again, with the hint to pass --create-db when it is the target's."""
    if target is None or target.dialect != "postgresql" or err.url != target.masked_url:
        return
    raise DatabaseMissingError(
        f"{err.message}; create it, or pass --create-db (create_db=True) to have arrowferry "
        "create it",
        database=err.database,
        url=err.url,
    ) from err


def look_before_writing(
    source: Endpoint,
    target: Endpoint,
    plan: MigrationPlan,
    options: MigrationOptions,
    result: MigrationResult,
) -> Any:
    """What the target holds, before anything is written: an interrupted run first (its
    ``Resumable``, returned), then the tables in the way or missing (:func:`check_target`),
    and a dry run's defaults tried on the server."""
    from arrowferry.transfer.state import interrupted_run

    resumable = interrupted_run(source, target, plan, options)
    result.warnings.extend(resumable.notes)
    plan = replace(plan, tables=[t for t in plan.tables if t.name not in resumable.done])
    dialect = dialect_for(target)
    if dialect.capabilities.atomic_file:
        path = target.path
        result.target = str(path)
        if not path.parent.is_dir():
            raise BadInputError(
                f"cannot create {str(path)!r}: directory {str(path.parent)!r} does not exist"
            )
        if not path.exists():
            if options.data_only:
                raise SchemaError(f"--data-only: the target file {str(path)!r} does not exist")
            return resumable
    else:
        result.target = target.masked_url
    check_target(target, plan, options)
    if options.dry_run and dialect.name == "postgresql" and not plan.prepare:
        try_defaults(target, plan, result)
    return resumable
