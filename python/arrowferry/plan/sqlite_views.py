"""The views of a PostgreSQL -> SQLite plan, and what SQLite cannot hold of them.

A view is translated only when every function it calls is PostgreSQL's own (pg_catalog):
one the source database defined (a user's ``group_concat`` aggregate, an extension's
function) has no SQLite counterpart, and a SQLite builtin of the same name computes
something else (SQLite's ``group_concat`` joins with ``','``). Computations over numeric
columns that SQLite does in floating point are named in a warning and in the ledger;
materialized views become tables only when asked (``materialize_views``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arrowferry.dialects.base import Dialect
from arrowferry.dialects.facts import Owner, SourceFacts
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.translate import TranslationError, translate_query
from arrowferry.dialects.translate.common import typed_relation
from arrowferry.dialects.translate.view_scope import out_of_reach
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import Statement


def user_calls(facts: SourceFacts, owner: Owner) -> str:
    """Why an expression is not translated: it calls what the source database defined
    itself ('' when it calls only PostgreSQL's own functions and operators)."""
    names = facts.user_routines.get(owner, ())
    if not names:
        return ""
    return (
        f"it calls {', '.join(names)}, defined in the source database rather than by "
        "PostgreSQL; SQLite has no such function (one of the same name, such as "
        "group_concat, computes something else)"
    )


@dataclass
class ViewPlan:
    statements: list[Statement] = field(default_factory=list)
    # view -> computations SQLite does in floating point (for the ledger, once created)
    inexact: dict[str, list[str]] = field(default_factory=dict)


def plan_views(
    schema: Schema,
    tables: Sequence[Table],
    facts: SourceFacts,
    options: MigrationOptions,
    claim: Callable[[str, str], str],
    warnings: list[str],
    source: Dialect,
    value_type: Callable[[Table, Column], DataType],
    name: Callable[[str], str] = str,
    migrated: Sequence[str] | None = None,
) -> ViewPlan:
    """Each view's SQLite statement; ``claim(name, what)`` gives its name in SQLite;
    ``value_type(table, column)``: the neutral type of a column's values as read;
    ``name``: a table's or column's name in SQLite (the run's identifier policy);
    ``migrated``: the tables the run creates (None: ``tables``)."""
    enums = set(facts.enums)
    collated = facts.locale_ordered
    relations = {
        t.name.lower(): typed_relation(
            name(t.name),
            [(c.name, value_type(t, c), c.declared) for c in t.columns],
            enums,
            name,
            {c.name: collated[(t.name, c.name)] for c in t.columns if (t.name, c.name) in collated},
        )
        for t in tables
    }
    for view in schema.views:
        typed = [
            (name, source.parse_type(declared) or DataType("other", raw=declared), declared)
            for name, declared in view.columns
        ]
        by_locale = {
            c: collated[(view.name, c)] for c, _ in view.columns if (view.name, c) in collated
        }
        relations.setdefault(
            view.name.lower(), typed_relation(name(view.name), typed, enums, name, by_locale)
        )
    rename = None if options.identifiers == "quote" else name
    made = [t.name for t in tables] if migrated is None else migrated
    left_out = out_of_reach(schema.views, made, source.name, options.source_schema)
    out = ViewPlan()
    for view in schema.views:
        if view.name in left_out:
            warnings.append(f"view {view.name!r} not created: {left_out[view.name]}")
            continue
        calls = user_calls(facts, ("view", view.name))
        if calls:
            warnings.append(f"view {view.name!r} not created: {calls}")
            continue
        notes: list[str] = []
        text_notes: list[str] = []
        try:
            sql = translate_query(
                view.sql,
                source.name,
                "sqlite",
                schema=options.source_schema,
                relations=relations,
                notes=notes,
                rename=rename,
                text_notes=text_notes,
            )
        except TranslationError as err:
            warnings.append(f"view {view.name!r} not created: {err}")
            continue
        claimed = claim(view.name, "view")
        out.statements.append(Statement("view", sqlw.create_view_sql(claimed, sql), None, claimed))
        if text_notes:
            warnings.append(
                f"view {view.name!r} may give other rows or values in SQLite, which has no "
                f"form of these: {'; '.join(dict.fromkeys(text_notes))}"
            )
        if notes:
            out.inexact[claimed] = [_inexact(n) for n in dict.fromkeys(notes)]
            warnings.append(
                f"view {view.name!r} computes with numeric values in floating point in SQLite "
                f"(they are stored as REAL), where PostgreSQL's numeric is exact: "
                f"{'; '.join(dict.fromkeys(notes))}; its values may differ in the last digits"
            )
    return out


def _inexact(note: str) -> str:
    return f"{note}: floating point in SQLite, exact numeric in PostgreSQL"


def view_ledger(name: str, notes: Sequence[str]) -> dict[str, Any]:
    """A created view's ledger entry: what SQLite computes in floating point."""
    return {
        "table": name,
        "column": None,
        "kind": "view",
        "source_type": "view",
        "target_type": "view",
        "read_as": None,
        "conversion": "translated view",
        "lossy": list(notes),
        "counts": {},
    }


def materialized_warnings(
    facts: SourceFacts, options: MigrationOptions, planned: set[str]
) -> list[str]:
    """Every materialized view, named: created as a table, or why not."""
    out = []
    for name, populated in facts.materialized.items():
        if name in planned:
            out.append(
                f"materialized view {name!r} is created as a table holding its rows at the "
                "snapshot (SQLite has no materialized views; nothing refreshes it)"
            )
        elif not options.materialize_views:
            out.append(
                f"materialized view {name!r} not migrated: SQLite has no materialized views "
                "(--materialize-views, materialize_views=True, creates it as a table holding "
                "its rows)"
            )
        elif not populated:
            out.append(
                f"materialized view {name!r} not migrated: it has never been populated "
                "(WITH NO DATA); REFRESH MATERIALIZED VIEW it first"
            )
        else:
            out.append(f"materialized view {name!r} not migrated: not among the chosen tables")
    return out
