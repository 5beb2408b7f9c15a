"""Schema sync: the statements that bring a target's schema in line with a desired one.

:func:`plan_sync` turns a :class:`~arrowferry.diff.SchemaComparison` (the desired
schema a against the target b) into :class:`~arrowferry.dialects.changes.Change` s,
each object translated into the target's terms (:mod:`arrowferry.sync_adopt`), marks
the destructive ones (a table or column dropped, a narrowing type change, a NOT NULL
on a column holding NULLs), orders them so every dependency holds (what depends on a
changed column dropped before it and made again after, referenced tables created first,
foreign keys and views last) and asks the target dialect to render them. Destructive
changes are left out unless allowed (migra's ``Statements.safe``); the target's SQL
lives in its dialect (``Dialect.sync_statements``), none here.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.changes import Change, SyncStatement, TargetFacts
from arrowferry.errors import BadInputError, UnsafeChangeError
from arrowferry.model import Schema
from arrowferry.sync_plan import Planner, order

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import polars as pl

    from arrowferry.dialects.base import Dialect
    from arrowferry.diff import SchemaComparison
    from arrowferry.urls import Endpoint

__all__ = ["SyncResult", "SyncStatement", "plan_sync", "run_sync", "sync_schema"]


@dataclass(frozen=True)
class SyncResult:
    """What a schema sync does to its target, in the target's dialect.

    ``statements`` run in order (``sql_statements`` is their SQL), each marked
    ``destructive`` or not, with the ``reason`` it is there and its ``table``;
    ``refused`` the destructive ones left out because they were not allowed
    (``allow_destructive``): with any of them, ``apply`` applies nothing.

    Examples
    --------
    >>> done = SyncResult("postgresql", (), ())
    >>> done.in_sync, done.safe, done.sql_statements
    (True, True, [])
    """

    target_dialect: str
    statements: tuple[SyncStatement, ...]
    refused: tuple[SyncStatement, ...]
    applied: bool = False
    allow_destructive: bool = False
    notes: tuple[str, ...] = ()
    comparison: SchemaComparison | None = field(default=None, repr=False)

    @property
    def sql_statements(self) -> list[str]:
        """The SQL of every statement to run, in order."""
        return [s.sql for s in self.statements]

    @property
    def safe(self) -> bool:
        """No destructive change was needed and refused."""
        return not self.refused

    @property
    def in_sync(self) -> bool:
        """Nothing to do: the target already has the desired schema."""
        return not self.statements and not self.refused

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the statements, the refused ones, notes and the comparison."""
        return {
            "target_dialect": self.target_dialect,
            "applied": self.applied,
            "allow_destructive": self.allow_destructive,
            "safe": self.safe,
            "in_sync": self.in_sync,
            "statements": [s.to_dict() for s in self.statements],
            "refused": [s.to_dict() for s in self.refused],
            "notes": list(self.notes),
            "comparison": self.comparison.to_dict() if self.comparison is not None else None,
        }

    def __str__(self) -> str:
        lines = [_headline(self)]
        lines += _script(self.statements)
        if self.refused:
            lines += [
                "",
                f"-- refused: {len(self.refused)} destructive statement(s) left out "
                "(allow_destructive=True, --allow-destructive, includes them):",
            ]
            lines += ["-- " + line for line in _script(self.refused) if not line.startswith("--")]
        lines += [f"-- note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_polars(self) -> dict[str, pl.DataFrame]:
        """``{"statements": DataFrame}``: number, table, column, sql, destructive,
        refused and reason, in order, the refused ones last (see :mod:`arrowferry.look`)."""
        from arrowferry.look import sync_frames

        return sync_frames(self)

    def _repr_html_(self) -> str:
        rows = []
        for i, s in enumerate(self.statements, 1):
            rows.append(_html_row(str(i), s))
        for s in self.refused:
            rows.append(_html_row("refused", s))
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<p>{html.escape(_headline(self).removeprefix('-- '))}</p>"
            "<table><thead><tr><th>#</th><th>table</th><th>statement</th><th>destructive</th>"
            f"<th>why</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
        )


def _headline(result: SyncResult) -> str:
    if result.in_sync:
        return f"-- the {result.target_dialect} target already has the desired schema"
    done = "applied" if result.applied else "to run"
    destructive = sum(s.destructive for s in result.statements)
    return (
        f"-- {len(result.statements)} statement(s) {done} on {result.target_dialect}"
        + (f", {destructive} destructive" if destructive else "")
        + (f"; {len(result.refused)} destructive refused" if result.refused else "")
    )


def _script(statements: Iterable[SyncStatement]) -> list[str]:
    lines: list[str] = []
    said = None
    for s in statements:
        if s.reason != said:
            lines.append(f"-- {'DESTRUCTIVE: ' if s.destructive else ''}{s.reason}")
            said = s.reason
        lines.append(s.sql + ";")
    return lines


def _html_row(number: str, s: SyncStatement) -> str:
    return (
        f"<tr><td>{number}</td><td>{html.escape(s.table or '')}</td>"
        f"<td><pre>{html.escape(s.sql)}</pre></td><td>{'yes' if s.destructive else ''}</td>"
        f"<td>{html.escape(s.reason)}</td></tr>"
    )


# --- the plan ------------------------------------------------------------------------------


def plan_sync(
    comparison: SchemaComparison,
    desired: Schema,
    current: Schema,
    target: Dialect,
    *,
    allow_destructive: bool = False,
    facts: Callable[[Sequence[Change]], TargetFacts] | None = None,
    namespace: str | None = None,
    desired_namespace: str | None = None,
    text_collation: str = "C",
) -> SyncResult:
    """The statements that make ``current`` (the target's schema, in ``target``'s
    dialect) match ``desired``, from their comparison.

    Parameters
    ----------
    comparison
        ``diff_schemas(desired, current, renames=...)``.
    facts
        Reads what the live target's data says about the planned changes (NULLs under a
        NOT NULL, rows a new NOT NULL column would need filled); None: only the schemas
        are known.
    namespace, desired_namespace
        The PostgreSQL schema of the target, and of the desired side.
    text_collation
        The collation of PostgreSQL text made to compare as SQLite's does (``sync_schema``).

    Examples
    --------
    >>> from arrowferry.diff import diff_schemas
    >>> from arrowferry.dialects.base import dialect_named
    >>> from arrowferry.model import Column, DataType, Schema, Table
    >>> a = Schema("postgresql", (Table("t", (Column("id", DataType("int64"), declared="bigint"),
    ...     Column("note", DataType("text"), declared="text"))),))
    >>> b = Schema("postgresql", (Table("t", (Column("id", DataType("int64"), declared="bigint"),)),))
    >>> result = plan_sync(diff_schemas(a, b), a, b, dialect_named("postgresql"))
    >>> [(s.reason, s.destructive) for s in result.statements]
    [('names resolve in schema public', False), ('column t.note added', False)]
    """
    planner = Planner(
        desired,
        current,
        target,
        desired_namespace,
        comparison.differences,
        text_collation=text_collation,
    )
    changes = planner.renames(comparison.differences)
    for d in comparison.differences:
        changes += planner.changes(d)
    known = facts(order(changes, target, current.views)) if facts is not None else TargetFacts()
    changes = [_weighed(c, known) for c in changes]
    renames = [c for c in changes if c.kind in {"rename_table", "rename_column"}]
    kept = [c for c in changes if allow_destructive or not c.destructive]
    refused = [c for c in changes if c.destructive and not allow_destructive]
    if target.sync_drops_dependents():
        kept += planner.dependents(kept)
    statements = target.sync_statements(
        order(kept, target, current.views), current, known, namespace=namespace
    )
    shown: list[SyncStatement] = []
    if refused:
        rendered = target.sync_statements(
            order(renames + refused, target, current.views), current, known, namespace=namespace
        )
        shown = [s for s in rendered if s.destructive]
    return SyncResult(
        target.name,
        tuple(statements),
        tuple(shown),
        allow_destructive=allow_destructive,
        notes=tuple(dict.fromkeys(planner.notes)),
        comparison=comparison,
    )


def _weighed(change: Change, facts: TargetFacts) -> Change:
    """A change with what the target's data says about it: a NOT NULL over NULLs is
    destructive (its NULLs take the default, or the change fails on them)."""
    table = change.table or ""
    if change.kind == "set_not_null":
        count, key = facts.nulls.get((table, change.old.name), (0, None))
        if count:
            fill = (
                f"they take its default {change.new.default}"
                if change.new.default is not None
                else "with no default to fill them, the change fails there"
            )
            return replace(
                change,
                destructive=True,
                reason=f"{change.reason}, though {count} row(s) hold NULL (one has the key {key}): {fill}",
            )
    if change.kind == "add_column" and not change.new.nullable and change.new.default is None:
        rows = facts.rows.get(table, 0)
        if rows:
            return replace(
                change,
                destructive=True,
                reason=f"{change.reason}, NOT NULL without a default, though the table holds "
                f"{rows} row(s): the change fails on them",
            )
    if change.kind == "alter_type":
        found = facts.unconvertible.get((table, change.old.name))
        if found is not None:
            return replace(
                change,
                reason=f"{change.reason}; the row whose key is {found[0]} holds {found[1]!r}, "
                "which the new type cannot take: the change fails there",
            )
    return change


def run_sync(
    desired: Schema,
    current: Schema,
    target: Dialect,
    endpoint: Endpoint | None,
    *,
    renames: Mapping[str, str] | None = None,
    allow_destructive: bool = False,
    apply: bool = False,
    namespace: str | None = None,
    desired_namespace: str | None = None,
    text_collation: str = "C",
) -> SyncResult:
    """Compare, plan against the live target's data (``endpoint``; None: the schemas
    alone), and apply when asked: all of it, or with a destructive change needed and not
    allowed, nothing (:class:`~arrowferry.errors.UnsafeChangeError`)."""
    from arrowferry.diff import diff_schemas

    comparison = diff_schemas(desired, current, renames=renames)
    facts = None
    if endpoint is not None:
        live = endpoint

        def facts(changes: Sequence[Change]) -> TargetFacts:
            return target.sync_facts(live, namespace, current, changes)

    result = plan_sync(
        comparison,
        desired,
        current,
        target,
        allow_destructive=allow_destructive,
        facts=facts,
        namespace=namespace,
        desired_namespace=desired_namespace,
        text_collation=text_collation,
    )
    if not apply:
        return result
    if endpoint is None:
        raise BadInputError("applying a sync needs the target database, not only its schema")
    if result.refused:
        reasons = list(dict.fromkeys(s.reason for s in result.refused))
        raise UnsafeChangeError(
            f"{len(reasons)} destructive change(s) needed and not allowed, so nothing was "
            f"applied: {'; '.join(reasons)}. Allow them with allow_destructive=True "
            "(--allow-destructive)"
        )
    notes = target.sync_apply(endpoint, namespace, result.statements) if result.statements else []
    return replace(result, applied=True, notes=(*result.notes, *notes))


def sync_schema(
    desired: str | os.PathLike[str] | Endpoint | Schema,
    target: str | os.PathLike[str] | Endpoint | Schema,
    *,
    generate_sql: bool = True,
    apply: bool = False,
    allow_destructive: bool = False,
    renames: Mapping[str, str] | None = None,
    desired_schema: str | None = None,
    target_schema: str | None = None,
    identifiers: str = "quote",
    text_collation: str = "C",
) -> SyncResult:
    """The SQL that brings ``target``'s schema in line with ``desired``'s (the model), in
    the target's dialect, within or across SQLite and PostgreSQL; applied if ``apply``.

    Each statement says why it is there and whether it is destructive (it drops a table
    or column, narrows a type, or sets NOT NULL over NULLs). Destructive statements are
    left out unless ``allow_destructive``; with one needed and not allowed, ``apply``
    applies nothing and raises :class:`~arrowferry.errors.UnsafeChangeError`. PostgreSQL
    applies all in one transaction; SQLite rebuilds each table its ``ALTER TABLE`` cannot
    change (twelve steps, every row kept), one transaction per table.

    Parameters
    ----------
    desired, target
        SQLite files, ``postgresql://`` URLs, Endpoints, or Schemas (:func:`inspect_schema`;
        a target given as a Schema gives the SQL but cannot be applied).
    generate_sql
        Return the statements (the reference API's flag; False needs ``apply``).
    apply, allow_destructive
        Run the statements on ``target``; include (and run) the destructive ones.
    renames
        Renames given, never guessed, keyed by the target's old names (``{"old_table":
        "new_table", "table.old_col": "new_col"}``): a RENAME keeps the data.
    desired_schema, target_schema
        The PostgreSQL schema of each side (default ``public``).
    identifiers
        The desired schema's names as a migration under this policy made them
        (``"lower"``, ``"snake_case"``; default ``"quote"``: as they are).
    text_collation
        From SQLite into PostgreSQL, the collation of text columns added or changed to
        compare as SQLite's do (default ``"C"``: bytes); ``"default"`` leaves them at the
        database's own, as a migration with ``text_collation="default"`` made them.

    Returns
    -------
    SyncResult
        ``statements`` (``sql``, ``destructive``, ``reason``, ``table``), ``sql_statements``,
        ``refused``, ``applied``, ``notes``, ``to_dict()``; ``str()`` is the script
        ``arrowferry sync`` prints.

    Examples
    --------
    >>> import arrowferry as af
    >>> result = af.sync_schema("app.db", "postgresql://me@db/app")  # doctest: +SKIP
    >>> for sql in result.sql_statements:  # doctest: +SKIP
    ...     print(sql)
    >>> af.sync_schema("app.db", "postgresql://me@db/app", apply=True,
    ...                renames={"users.mail": "email"})  # doctest: +SKIP
    """
    if not generate_sql and not apply:
        raise BadInputError("generate_sql=False and apply=False: there is nothing to do")
    from arrowferry import faults
    from arrowferry.dialects.base import dialect_named
    from arrowferry.plan.identifiers import rename_schema

    def sync() -> SyncResult:
        wanted, wanted_ns, _ = _side(desired, desired_schema)
        wanted = rename_schema(wanted, identifiers)
        current, namespace, endpoint = _side(target, target_schema)
        return run_sync(
            wanted,
            current,
            dialect_named(current.dialect),
            endpoint,
            renames=renames,
            allow_destructive=allow_destructive,
            apply=apply,
            namespace=namespace,
            desired_namespace=wanted_ns,
            text_collation=text_collation,
        )

    # read, compared and applied again after a lost connection: PostgreSQL applies in one
    # transaction (undone when lost), and a sync does what the comparison finds missing
    retries: list[str] = []
    began = time.monotonic()
    done = faults.again_if_lost(sync, since=began, doing="while the schemas synced", said=retries)
    return replace(done, notes=(*retries, *done.notes)) if retries else done


def _side(
    value: str | os.PathLike[str] | Endpoint | Schema, schema: str | None
) -> tuple[Schema, str | None, Endpoint | None]:
    """(its schema, the namespace it lives in where its dialect has them, its endpoint)."""
    from arrowferry.dialects.base import dialect_for, dialect_named
    from arrowferry.urls import Endpoint, parse_url

    if isinstance(value, Schema):
        dialect = dialect_named(value.dialect)
        endpoint = None
    else:
        endpoint = value if isinstance(value, Endpoint) else parse_url(value)
        dialect = dialect_for(endpoint)
    if not dialect.capabilities.schemas:
        if schema is not None:
            raise BadInputError(
                f"a schema name applies to a database with schemas; {dialect.name} has none"
            )
        namespace = None
    else:
        namespace = schema or dialect.capabilities.default_schema
    if isinstance(value, Schema):
        return value, namespace, None
    assert endpoint is not None
    return dialect.introspect(endpoint, namespace), namespace, endpoint
