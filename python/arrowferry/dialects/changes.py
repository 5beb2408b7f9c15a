"""The schema changes a target dialect renders for ``sync_schema``, and what it renders.

``sync`` turns a schema comparison into an ordered list of :class:`Change`, each about
one object already in the target's own terms (types declared, defaults, CHECKs and views
translated into its dialect). The target dialect renders the list into
:class:`SyncStatement` (``Dialect.sync_statements``): PostgreSQL one ``ALTER`` or so per
change, SQLite what its ``ALTER TABLE`` can do directly and a table rebuild for the rest.
Frozen data and the standard library only, like :mod:`arrowferry.model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from arrowferry.model import (
    Check,
    Column,
    ForeignKey,
    PrimaryKey,
    Table,
    UniqueConstraint,
    View,
)

ChangeKind = Literal[
    "rename_table",
    "rename_column",
    "drop_view",
    "drop_foreign_key",
    "drop_check",
    "drop_unique",
    "drop_primary_key",
    "drop_index",
    "create_table",
    "add_column",
    "alter_type",
    "set_default",
    "drop_not_null",
    "set_not_null",
    "drop_column",
    "drop_table",
    "add_primary_key",
    "add_unique",
    "add_check",
    "create_index",
    "add_foreign_key",
    "create_view",
    "set_sequence",
]

CHANGE_ORDER: tuple[ChangeKind, ...] = (
    # renames first: every later change names the objects as the desired schema does
    "rename_table",
    "rename_column",
    # what depends on a changed object goes before the change (views, then foreign keys)
    "drop_view",
    "drop_foreign_key",
    "drop_check",
    "drop_unique",
    "drop_primary_key",
    "drop_index",
    "create_table",
    "add_column",
    "alter_type",
    "set_default",
    "drop_not_null",
    "set_not_null",  # after its default: a NULL can be filled from it
    "drop_column",
    "drop_table",
    "add_primary_key",
    "add_unique",
    "add_check",
    "create_index",
    # every table and key they need exists by now
    "add_foreign_key",
    "create_view",
    "set_sequence",
)
"""The order of a sync: each kind after everything it may depend on."""

# changes to a table's own definition (what a SQLite rebuild carries out at once)
BODY_KINDS = frozenset(
    {
        "drop_foreign_key",
        "drop_check",
        "drop_unique",
        "drop_primary_key",
        "drop_index",
        "add_column",
        "alter_type",
        "set_default",
        "drop_not_null",
        "set_not_null",
        "drop_column",
        "add_primary_key",
        "add_unique",
        "add_check",
        "create_index",
        "add_foreign_key",
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    """One change to the target, in its own terms.

    ``old`` is the object as the target has it and ``new`` as it should be (a Table,
    Column, PrimaryKey, UniqueConstraint, Check, Index, ForeignKey, View, or the int a
    sequence should have reached), None where there is none. ``table`` is the table's
    name once renames are made (the old name only in ``old`` of a ``rename_table``).
    """

    kind: ChangeKind
    table: str | None
    old: Any = None
    new: Any = None
    destructive: bool = False
    reason: str = ""

    @property
    def column(self) -> str | None:
        """The column a column change is about (its new name)."""
        for obj in (self.new, self.old):
            if isinstance(obj, Column):
                return obj.name
        return None

    @property
    def subject(self) -> str:
        """What the change is about, for people: ``table.column``, an index's name..."""
        obj = self.new if self.new is not None else self.old
        name = getattr(obj, "name", None)
        if isinstance(obj, (PrimaryKey, UniqueConstraint)):
            name = name or ", ".join(obj.columns)
        elif isinstance(obj, ForeignKey):
            name = name or f"({', '.join(obj.columns)}) -> {obj.ref_table}"
        elif isinstance(obj, Check):
            name = name or obj.expression
        if self.table is None or isinstance(obj, (Table, View)) or obj is None:
            return str(name or self.table)
        return f"{self.table}.{name}" if name else self.table


@dataclass(frozen=True, slots=True)
class SyncStatement:
    """One statement of a sync, in the target's dialect.

    ``destructive``: it drops or may change data (a table or column dropped, a narrowing
    type change, NULLs filled for a NOT NULL). ``guard``: a query run just before it when
    applying; a row it returns (the row's key, the value) stops the apply there, naming
    that row. ``check``: the statement is itself a check (``PRAGMA foreign_key_check``):
    any row it returns stops the apply. ``optional``: a view, which the target may refuse
    (a translation it cannot run); it is then left out with a note, as a migration leaves
    it out, and the rest goes on.

    Examples
    --------
    >>> s = SyncStatement('DROP TABLE "old"', True, "table old is not desired", "old")
    >>> s.to_dict()["destructive"]
    True
    """

    sql: str
    destructive: bool
    reason: str
    table: str | None
    column: str | None = None
    guard: str | None = field(default=None, repr=False)
    check: bool = False
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "destructive": self.destructive,
            "reason": self.reason,
            "table": self.table,
            "column": self.column,
        }


@dataclass(frozen=True)
class TargetFacts:
    """What the target's data says about the changes planned for it.

    Read from the live database before the plan is final (``Dialect.sync_facts``);
    empty when the target is only a schema.
    """

    rows: Mapping[str, int] = field(default_factory=dict)  # table -> row count
    # (table, column) -> (rows holding NULL, the key of one of them)
    nulls: Mapping[tuple[str, str], tuple[int, str | None]] = field(default_factory=dict)
    # (table, column) -> (the key of a row whose value the new type cannot take, the value)
    unconvertible: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # table -> the CREATE TRIGGER text of each of its triggers (a SQLite rebuild remakes them)
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    live: bool = False


def evolve(table: Table, change: Change) -> Table:
    """``table`` once ``change`` (one of :data:`BODY_KINDS` on it) is made."""
    kind, old, new = change.kind, change.old, change.new
    if kind == "add_column":
        return replace(table, columns=(*table.columns, new))
    if kind in {"alter_type", "set_default", "drop_not_null", "set_not_null"}:
        return replace(table, columns=tuple(_merge(c, change) for c in table.columns))
    if kind == "drop_column":
        return replace(table, columns=tuple(c for c in table.columns if c.name != old.name))
    if kind == "rename_column":
        renamed = tuple(
            replace(c, name=new.name) if c.name == old.name else c for c in table.columns
        )
        return replace(table, columns=renamed)
    if kind == "drop_primary_key":
        return replace(table, primary_key=None)
    if kind == "add_primary_key":
        return replace(table, primary_key=new)
    if kind in {"drop_unique", "add_unique"}:
        kept = tuple(u for u in table.uniques if u.columns != (old or new).columns)
        return replace(table, uniques=kept if kind == "drop_unique" else (*kept, new))
    if kind in {"drop_check", "add_check"}:
        kept_checks = tuple(c for c in table.checks if c != old)
        return replace(table, checks=kept_checks if kind == "drop_check" else (*table.checks, new))
    if kind in {"drop_index", "create_index"}:
        name = (old or new).name
        kept_ix = tuple(i for i in table.indexes if i.name != name)
        return replace(table, indexes=kept_ix if kind == "drop_index" else (*kept_ix, new))
    if kind in {"drop_foreign_key", "add_foreign_key"}:
        kept_fk = tuple(f for f in table.foreign_keys if f != (old or new))
        return replace(
            table, foreign_keys=kept_fk if kind == "drop_foreign_key" else (*kept_fk, new)
        )
    return table


def _merge(column: Column, change: Change) -> Column:
    """A column with the one property a column change is about taken from ``new``."""
    if column.name != change.old.name:
        return column
    new: Column = change.new
    if change.kind == "alter_type":
        return replace(column, type=new.type, declared=new.declared, collation=new.collation)
    if change.kind == "set_default":
        return replace(column, default=new.default)
    return replace(column, nullable=change.kind == "drop_not_null")


def mentions(sql: str | None, name: str) -> bool:
    """Whether SQL text may name ``name`` (a conservative, case-insensitive test)."""
    return sql is not None and name.lower() in sql.lower()


__all__ = [
    "BODY_KINDS",
    "CHANGE_ORDER",
    "Change",
    "ChangeKind",
    "SyncStatement",
    "TargetFacts",
    "evolve",
    "mentions",
]
