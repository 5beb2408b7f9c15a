"""Target names: one claiming rule for every target dialect.

A name is what the target will store (cut to its byte limit: PostgreSQL keeps 63 bytes)
and is compared as the target compares names (SQLite: case-insensitively). Tables,
indexes and constraints share one namespace, as they do in both PostgreSQL (per schema)
and SQLite. Two tables the target would give one name refuse the whole run, naming both:
which of them would win is not arrowferry's to guess. Two columns of one table that
collide are that table's error.

A run's identifier policy (``identifiers``: :mod:`arrowferry.plan.identifiers`) is
applied here, before the target's limits, to every name handed out; what it renamed is
kept (:meth:`TargetNames.mapping`) for the plan and the result. Two names the policy
makes one (``UserId`` and ``user_id`` under ``snake_case``) clash like any other pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arrowferry.dialects.base import Dialect
from arrowferry.errors import SchemaError
from arrowferry.model import Table
from arrowferry.options import Identifiers, flag
from arrowferry.plan.identifiers import native_name


class TargetNames:
    """Hands out table, column, index and constraint names the target keeps apart.

    Every renaming is explained in ``warnings`` (shared with the planner).
    """

    def __init__(
        self, dialect: Dialect, warnings: list[str], identifiers: Identifiers = "quote"
    ) -> None:
        self.dialect = dialect
        self.warnings = warnings
        self.label = dialect.label
        self.folds = dialect.capabilities.case_insensitive_names
        self.relation_names: dict[str, str] = {}
        self.policy = identifiers
        # what the policy renamed, old -> new: tables, columns per (source) table, the rest
        self.renamed: dict[str, dict[str, Any]] = {"tables": {}, "columns": {}, "other": {}}

    def name(self, wanted: str) -> str:
        """What the target stores for ``wanted``: the policy's spelling, within its limits."""
        return self.dialect.identifier(native_name(wanted, self.policy))

    def mapping(self) -> dict[str, Any]:
        """The policy and every name it changed (empty under ``quote``), for the plan."""
        if self.policy == "quote":
            return {}
        return {"policy": self.policy, **self.renamed}

    def _key(self, name: str) -> str:
        return name.lower() if self.folds else name

    def _clash(self, first: str, second: str, stored: str) -> str:
        if self.policy != "quote" and native_name(first, self.policy) == native_name(
            second, self.policy
        ):
            return (
                f"would both be named {stored!r} under {flag('identifiers', self.policy)} "
                "(--identifiers quote keeps the names as they are)"
            )
        if self.folds and first.lower() == second.lower():
            return (
                f"differ only in case; {self.label} names are case-insensitive, so they cannot "
                "both exist there"
            )
        return (
            f"would both be named {stored!r} in {self.label}, which keeps only the first "
            f"{self.dialect.capabilities.max_identifier_bytes} bytes of a name"
        )

    def claim_tables(self, tables: Sequence[Table]) -> dict[str, str]:
        """Each table's target name (source name -> target name); SchemaError on a clash."""
        seen: dict[str, str] = {}
        names: dict[str, str] = {}
        for table in tables:
            short = self.name(table.name)
            clash = seen.get(self._key(short))
            if clash is not None:
                raise SchemaError(
                    f"tables {clash!r} and {table.name!r} {self._clash(clash, table.name, short)}; "
                    "rename one, or migrate them separately with --include/--exclude"
                )
            seen[self._key(short)] = table.name
            if short != table.name:
                self.renamed["tables"][table.name] = short
            if short != native_name(table.name, self.policy):
                self.warnings.append(
                    f"table {table.name!r} is named {short!r} in {self.label} "
                    f"({self.dialect.capabilities.max_identifier_bytes}-byte limit)"
                )
            # indexes and constraints are compared case-insensitively: a safe superset
            self.relation_names[short.lower()] = table.name
            names[table.name] = short
        return names

    def relation_name(self, wanted: str, what: str) -> str:
        """A unique index, constraint or view name in the tables' namespace."""
        limit = self.dialect.capabilities.max_identifier_bytes
        base = self.name(wanted)
        name, n = base, 1
        while name.lower() in self.relation_names:
            suffix = f"_{n}"
            head = base if limit is None else base[: limit - len(suffix)]
            name = self.dialect.identifier(head + suffix)
            n += 1
        if name != wanted:
            self.renamed["other"][wanted] = name
        if name != native_name(wanted, self.policy):
            self.warnings.append(
                f"{what} {wanted!r} is named {name!r} in {self.label} (name taken or too long)"
            )
        self.relation_names[name.lower()] = wanted
        return name

    def column_names(self, table: Table) -> dict[str, str]:
        """Each column's target name; SchemaError (this table's) when two collide."""
        names: dict[str, str] = {}
        seen: dict[str, str] = {}
        for col in table.columns:
            short = self.name(col.name)
            clash = seen.get(self._key(short))
            if clash is not None:
                raise SchemaError(
                    f"table {table.name!r}: columns {clash!r} and {col.name!r} "
                    f"{self._clash(clash, col.name, short)}; rename one first"
                )
            if short != native_name(col.name, self.policy):
                self.warnings.append(
                    f"column {table.name}.{col.name} is named {short!r} in {self.label}"
                )
            seen[self._key(short)] = col.name
            names[col.name] = short
        changed = {old: new for old, new in names.items() if old != new}
        if changed:
            self.renamed["columns"][table.name] = changed
        return names

    def view_name(self, wanted: str) -> str:
        """A view's name where the target does not claim it among the relations."""
        name = self.name(wanted)
        if name != wanted:
            self.renamed["other"][wanted] = name
        return name
