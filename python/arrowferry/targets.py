"""What the target already holds, looked at before anything is written.

A run refuses when tables are in the way (or, for ``data_only``, missing), and a
``data_only`` run into PostgreSQL reads the existing columns' types, whose sizes are what
a value must fit. One refusal rule for every target; each dialect only answers which
tables and columns are there.
"""

from __future__ import annotations

from collections.abc import Sequence

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import dialect_for
from arrowferry.errors import SchemaError, TargetExistsError
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
    found = dialect.existing_tables(target, schema, names)
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
