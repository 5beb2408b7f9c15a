"""What a PostgreSQL -> PostgreSQL copy does not carry, one sentence each: partitions,
inheritance, row-level security, objects left behind by the tables chosen, and names that
stay qualified with the source schema."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.postgresql.replica_queries import _Q_LEFT_BEHIND, _Q_USES
from arrowferry.dialects.postgresql.replica_sql import _left_behind_note, _names

if TYPE_CHECKING:
    from arrowferry.dialects.postgresql.replica import Replica


class _Notes:
    """The note-taking half of the replica reader."""

    schema: str
    quoted_schema: str
    names: list[str]
    notes: list[str]

    def fetch(self, sql: str, *, with_tables: bool = False) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _table_notes(
        self,
        name: str,
        partkey: str | None,
        children: list[str],
        parents: list[str],
        of_type: str | None,
        ident: str,
        space: str | None,
    ) -> None:
        if partkey is not None:
            parts = f"; partitions {_names(children)}" if children else ""
            self.notes.append(
                f"table {name} is partitioned (PARTITION BY {partkey}{parts}): it is created "
                "as one plain table holding every partition's rows; the partitions are not"
            )
        elif children:
            self.notes.append(
                f"table {name} has inheritance children ({_names(children)}): it is created "
                "as a plain table holding only its own rows"
            )
        if parents and partkey is None:
            self.notes.append(
                f"table {name} inherits from {_names(parents)}: it is created as a plain "
                "table with all its columns (INHERITS is not carried)"
            )
        if of_type:
            self.notes.append(
                f"table {name} is a typed table (OF {of_type}): created with its columns, not OF the type"
            )
        if ident not in {"d", "p"}:
            what = {"n": "NOTHING", "f": "FULL", "i": "USING INDEX"}.get(ident, ident)
            self.notes.append(f"table {name}'s REPLICA IDENTITY {what} is not carried")
        if space:
            self.notes.append(
                f"table {name} lives in tablespace {space}: it is created in the target's default"
            )

    def _rls_notes(self, name: str, rls: bool, force: bool, policies: list[str]) -> None:
        if not (rls or force or policies):
            return
        said = []
        if rls:
            said.append("ENABLE ROW LEVEL SECURITY")
        if force:
            said.append("FORCE ROW LEVEL SECURITY")
        if policies:
            said.append(f"{'policy' if len(policies) == 1 else 'policies'} {_names(policies)}")
        self.notes.append(
            f"row-level security on table {name} ({', '.join(said)}) is not carried: "
            "on the target every row is visible to whoever may read the table"
        )

    # --- sequences ----------------------------------------------------------------

    def _left_behind(self, tables: set[str], views: set[str], named: set[str]) -> None:
        owners: list[str] = []
        grants: list[str] = []
        for kind, name, rel, detail in self.fetch(_Q_LEFT_BEHIND):
            if kind == "owner":
                owners.append(name)
            elif kind == "grant":
                if name in tables | views or rel in {"S", "type"}:
                    grants.append(name)
            elif name in named and kind in {"extension", "function", "procedure", "aggregate"}:
                continue  # already named, with what needs it
            elif kind in {"trigger", "rule", "statistics", "publication"} and rel is not None:
                if rel in tables or rel in views:
                    self.notes.append(_left_behind_note(kind, name, rel, detail))
            else:
                self.notes.append(_left_behind_note(kind, name, rel, detail))
        if grants:
            self.notes.append(f"privileges (GRANT/REVOKE) on {_names(grants)} are not carried")
        if owners:
            self.notes.append(
                "owners are not carried: the copies belong to the role that creates them "
                f"(in the source: {_names(sorted(owners))})"
            )

    def _uses(self, relations: set[str]) -> set[str]:
        """Name what the copy needs from other schemas and extensions (it stays qualified),
        and the functions of this schema it calls; return the names given."""
        named: set[str] = set()
        used: dict[tuple[str, str, str, str | None], list[str]] = {}
        for rel, dependent, kind, identity, schema, extension in self.fetch(_Q_USES):
            if rel is None or rel in relations:
                key = (kind, identity, schema, extension)
                used.setdefault(key, []).append(dependent)
        extensions: dict[str, list[str]] = {}
        homes: dict[str, str] = {}
        for (kind, identity, schema, extension), dependents in used.items():
            by = _names(dependents, 3)
            if extension is not None:
                extensions.setdefault(extension, []).append(f"{kind} {identity} ({by})")
                homes[extension] = schema
            elif schema == self.quoted_schema:  # a function the schema's own objects call
                named.add(identity)
                self.notes.append(
                    f"{kind} {identity} is not carried, yet {by} uses it: create it on the "
                    "target, in the target schema, before the finishing statements"
                )
            else:
                self.notes.append(
                    f"{kind} {identity} of another schema is not created, yet {by} uses it: "
                    "it must exist on the target under that name"
                )
        for extension, what in sorted(extensions.items()):
            # the definitions name an extension of this schema unqualified: on the target
            # it must live in the target schema; elsewhere, in the schema of the same name
            where = (
                "SCHEMA <the target schema>"
                if homes[extension] == self.quoted_schema
                else f"SCHEMA {homes[extension]}"
            )
            self.notes.append(
                f"extension {extension} is not created ({'; '.join(what)}): run CREATE "
                f"EXTENSION {extension} {where} on the target first (arrowferry does not)"
            )
        return named | set(extensions)

    def _still_qualified(self, replica: Replica) -> None:
        """Name each statement that still spells the source schema (the trick missed it)."""
        pattern = re.compile(rf"(?<![\w$\".]){re.escape(self.quoted_schema)}\.(?=[\w\"])")
        statements = [
            (f"table {t.name}", s) for t in replica.tables for s in (t.create_sql, *t.alter_sql)
        ]
        for group in (
            replica.types,
            replica.sequences,
            replica.constraints,
            replica.indexes,
            replica.views,
            replica.view_indexes,
        ):
            statements += [(f"{d.kind.replace('_', ' ')} {d.name}", d.sql) for d in group]
        for label, sql in statements:
            found = pattern.search(sql)
            if found is not None:
                seen = " ".join(sql[max(0, found.start() - 40) : found.end() + 40].split())
                self.notes.append(
                    f"{label} still names schema {self.schema} explicitly (...{seen}...): "
                    "copied into a schema of another name it refers to the source's schema"
                )


# --- rendering helpers ----------------------------------------------------------------
