"""From a schema comparison to the ordered changes of a sync (:mod:`arrowferry.sync`).

Each difference becomes the changes that remove it, its objects translated into the
target's terms (:mod:`arrowferry.sync_adopt`); what a change must not break (a view that
reads a column whose type changes, a foreign key on a key that is replaced) is dropped
before it and made again after; :func:`order` puts every change after what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.changes import CHANGE_ORDER, Change, ChangeKind, evolve
from arrowferry.model import Column, ForeignKey, Schema, Table, View
from arrowferry.sync_adopt import Adopter

if TYPE_CHECKING:
    from arrowferry.dialects.base import Dialect
    from arrowferry.diff import Difference


class Planner:
    def __init__(
        self,
        desired: Schema,
        current: Schema,
        target: Dialect,
        namespace: str | None,
        differences: Sequence[Difference] = (),
        *,
        text_collation: str = "C",
    ) -> None:
        self.notes: list[str] = []
        # columns whose type changes (by a's names): that change sets their collation too
        self.retyped = {(d.table, d.name) for d in differences if d.kind == "column_type"}
        self.recollated = {(d.table, d.name) for d in differences if d.kind == "collation"}
        self.target = target
        self.adopt = Adopter(
            desired, target, self.notes, namespace=namespace, text_collation=text_collation
        )
        self.fold = "sqlite" in (desired.dialect, current.dialect)
        self.desired = {self.key(t.name): t for t in desired.tables}
        self.desired_views = {self.key(v.name): v for v in desired.views}
        self.state = {self.key(t.name): t for t in current.tables}
        self.views = {self.key(v.name): v for v in current.views}

    def key(self, name: str) -> str:
        return name.lower() if self.fold else name

    def table_name(self, name: str) -> str:
        """The target's name for a table of a: its own spelling where it has the table."""
        found = self.state.get(self.key(name))
        return found.name if found is not None else self.adopt.name(name)

    # renames first: later differences name tables and columns as a does

    def renames(self, differences: Sequence[Difference]) -> list[Change]:
        out = []
        for d in differences:
            if d.kind == "renamed_table":
                a, b = _table(d.a), _table(d.b)
                new = self.adopt.name(a.name)
                out.append(
                    Change(
                        "rename_table", new, old=b, new=a, reason=f"table {b.name} renamed to {new}"
                    )
                )
                self.state[self.key(new)] = replace(self.state.pop(self.key(b.name)), name=new)
        for d in differences:
            if d.kind == "renamed_column":
                table = self.table_name(d.table or "")
                old, new = _column(d.b), self.adopt.name(_column(d.a).name)
                change = Change(
                    "rename_column",
                    table,
                    old=old,
                    new=replace(old, name=new),
                    reason=f"column {table}.{old.name} renamed to {new}",
                )
                out.append(change)
                self.state[self.key(table)] = evolve(self.state[self.key(table)], change)
        return out

    def changes(self, d: Difference) -> list[Change]:
        name = d.table or ""
        table = self.table_name(name)
        desired = self.desired.get(self.key(name))
        if d.kind in {"renamed_table", "renamed_column"}:
            return []
        if d.kind == "missing_table":
            return self.created(_table(d.a))
        if d.kind == "extra_table":
            old = _table(d.b)
            return [
                Change(
                    "drop_table",
                    old.name,
                    old=old,
                    destructive=True,
                    reason=f"table {old.name} is not in the desired schema: dropping it deletes its rows",
                )
            ]
        if d.kind in {"missing_view", "extra_view", "view"}:
            return self.view_changes(d)
        assert desired is not None
        return self.table_changes(d, table, desired)

    def created(self, desired: Table) -> list[Change]:
        """A table of a made in the target: its foreign keys once every table is there,
        its counter where a's has moved on (as a migration carries it)."""
        new = self.adopt.table(desired)
        out = [Change("create_table", new.name, new=new, reason=f"table {new.name} created")]
        out += [
            Change(
                "add_foreign_key", new.name, new=fk, reason=f"foreign key of new table {new.name}"
            )
            for fk in new.foreign_keys
        ]
        if desired.sequence:
            out.append(
                Change(
                    "set_sequence",
                    new.name,
                    new=desired.sequence,
                    reason=f"the counter of new table {new.name} set to {desired.sequence}, as "
                    "in the desired schema",
                )
            )
        return out

    def table_changes(self, d: Difference, table: str, desired: Table) -> list[Change]:
        kind = d.kind
        if kind == "missing_column":
            new = self.adopt.column(desired, _column(d.a))
            return [Change("add_column", table, new=new, reason=f"column {table}.{new.name} added")]
        if kind == "extra_column":
            old = _column(d.b)
            return [
                Change(
                    "drop_column",
                    table,
                    old=old,
                    destructive=True,
                    reason=f"column {table}.{old.name} is not in the desired schema: dropping it "
                    "deletes its values",
                )
            ]
        if kind in {"column_type", "collation", "nullability", "default"}:
            return self.column_changes(d, table, desired)
        if kind == "sequence":
            held = self.state.get(self.key(table))
            if (
                self.target.name == "sqlite"
                and held is not None
                and not any(c.autoincrement for c in held.columns)
            ):
                # without AUTOINCREMENT SQLite hands out max(rowid) + 1 and keeps no counter
                # to move; giving it one means a rebuild the user did not ask for
                self.notes.append(
                    f"the counter of {table} is not moved on to {d.a}: the SQLite table has no "
                    "AUTOINCREMENT, so it counts from its largest rowid (the difference stays)"
                )
                return []
            return [
                Change(
                    "set_sequence",
                    table,
                    old=d.b,
                    new=d.a,
                    reason=f"the counter of {table} moved on to {d.a}, as in the desired schema",
                )
            ]
        return self.constraint_changes(d, table, desired)

    def column_changes(self, d: Difference, table: str, desired: Table) -> list[Change]:
        old = _column(d.b)
        new = replace(self.adopt.column(desired, _column(d.a)), name=old.name)
        where = f"{table}.{old.name}"
        if d.kind == "collation":
            return self.collation_changes(d, table, old)
        if d.kind == "column_type":
            from arrowferry.diff_rules import fits

            narrowing = not fits(old.type, new.type)
            if (
                new.type.kind == "text"
                and old.type.kind == "text"
                and ((d.table, d.name) not in self.recollated)
            ):
                new = replace(new, collation=old.collation)  # it compares as a's already
            elif new.type.kind == "text":  # text made to compare as a's does
                found, collation = self.adopt.collation_for(_column(d.a))
                new = replace(new, collation=collation) if found else new
            return [
                Change(
                    "alter_type",
                    table,
                    old=old,
                    new=new,
                    destructive=narrowing,
                    reason=f"column {where}: {old.declared or old.type} -> {new.declared or new.type}"
                    + (" (a narrowing: values may change or not fit)" if narrowing else ""),
                )
            ]
        if d.kind == "nullability":
            kind: ChangeKind = "drop_not_null" if new.nullable else "set_not_null"
            what = "nullable" if new.nullable else "NOT NULL"
            return [Change(kind, table, old=old, new=new, reason=f"column {where} made {what}")]
        if (new.identity, new.generated) != (old.identity, old.generated):
            self.notes.append(
                f"column {where}: its identity or generated expression differs from the desired "
                "schema's; sync changes neither (recreate the column to change it)"
            )
        if new.default == old.default or new.identity:
            return []
        said = f"DEFAULT {new.default}" if new.default is not None else "no default"
        return [
            Change("set_default", table, old=old, new=new, reason=f"column {where} given {said}")
        ]

    def collation_changes(self, d: Difference, table: str, old: Column) -> list[Change]:
        """The column's collation, so its text compares as a's: a type change of the same
        column carries it instead (it sets the collation too)."""
        from arrowferry.diff_rules import order_text, text_order

        if (d.table, d.name) in self.retyped:
            return []
        wanted = _column(d.a)
        how = order_text(text_order(wanted, self.adopt.source.name))
        found, collation = self.adopt.collation_for(wanted)
        where = f"{table}.{old.name}"
        if found and collation == old.collation:
            return []  # text_collation "default": the database's, as the column has it
        if not found:
            self.notes.append(
                f"column {where}: text there should compare {how}, and {self.target.name} "
                "has no collation that does; sync leaves it as it is (the difference stays)"
            )
            return []
        shown = f'COLLATE "{collation}"' if collation else "no COLLATE"
        return [
            Change(
                "alter_type",
                table,
                old=old,
                new=replace(old, collation=collation),
                reason=f"column {where} made to compare text {how} ({shown})",
            )
        ]

    def constraint_changes(self, d: Difference, table: str, desired: Table) -> list[Change]:
        what = {
            "primary_key": "primary key",
            "unique": "unique constraint",
            "index": "index",
            "foreign_key": "foreign key",
            "check": "CHECK",
        }[d.kind]
        drop: ChangeKind = "drop_index" if d.kind == "index" else f"drop_{d.kind}"  # type: ignore[assignment]
        add: ChangeKind = {
            "primary_key": "add_primary_key",
            "unique": "add_unique",
            "index": "create_index",
            "foreign_key": "add_foreign_key",
            "check": "add_check",
        }[d.kind]  # type: ignore[assignment]
        out = []
        if d.b is not None:
            out.append(Change(drop, table, old=d.b))
        if d.a is not None:
            new = self._adopted(d.kind, desired, d.a)
            if new is not None:
                out.append(Change(add, table, new=new))
        return [
            replace(c, reason=f"{what} {c.subject} {'dropped' if c.old is not None else 'added'}")
            for c in out
        ]

    def _adopted(self, kind: str, desired: Table, obj: Any) -> Any:
        if kind == "primary_key":
            return self.adopt.primary_key(obj)
        if kind == "unique":
            return self.adopt.unique(obj)
        if kind == "index":
            return self.adopt.index(desired, obj)
        if kind == "foreign_key":
            return self.adopt.foreign_key(obj)
        return self.adopt.check(desired, obj)

    def view_changes(self, d: Difference) -> list[Change]:
        out = []
        if d.b is not None:
            old = _view(d.b)
            out.append(Change("drop_view", None, old=old, reason=f"view {old.name} dropped"))
        if d.a is not None:
            new = self.adopt.view(_view(d.a))
            if new is not None:
                said = "made again as in the desired schema" if d.b is not None else "created"
                out.append(Change("create_view", None, new=new, reason=f"view {new.name} {said}"))
        return out

    # --- what a change must not break ----------------------------------------------------

    def dependents(self, changes: list[Change]) -> list[Change]:
        """Views and foreign keys that would refuse (or block) a change, dropped before it
        and made again after: PostgreSQL will not change the type of a column a view
        reads, drop a table or view another view reads, or drop a key a foreign key needs."""
        out: list[Change] = []
        dropped_views = {self.key(c.old.name) for c in changes if c.kind == "drop_view"}
        created_views = {self.key(c.new.name) for c in changes if c.kind == "create_view"}
        touched = {
            self.key(c.table or "")
            for c in changes
            if c.kind in {"alter_type", "drop_column", "drop_table"}
        } | dropped_views
        for view in self._readers(touched):
            key = self.key(view.name)
            if key in dropped_views:
                continue
            out.append(
                Change(
                    "drop_view",
                    None,
                    old=view,
                    reason=f"view {view.name} reads a changed table or view: dropped first",
                )
            )
            again = self.desired_views.get(key)
            adopted = self.adopt.view(again) if again is not None else None
            if adopted is not None and key not in created_views:
                out.append(
                    Change(
                        "create_view",
                        None,
                        new=adopted,
                        reason=f"view {view.name} made again after the change",
                    )
                )
        out += self._blocking_keys(changes)
        return out

    def _readers(self, names: set[str]) -> list[View]:
        """The target's views that read any of ``names``, directly or through another view."""
        found: dict[str, View] = {}
        reads = {
            k: {self.key(r) for r in self.target.view_relations(v.sql)}
            for k, v in self.views.items()
        }
        frontier = set(names)
        while frontier:
            new = {k for k, r in reads.items() if r & frontier and k not in found}
            for k in new:
                found[k] = self.views[k]
            frontier = new
        return list(found.values())

    def _blocking_keys(self, changes: list[Change]) -> list[Change]:
        out: list[Change] = []
        handled = {(c.table, c.old) for c in changes if c.kind == "drop_foreign_key"}
        for c in changes:
            if c.kind not in {"alter_type", "drop_primary_key", "drop_unique"}:
                continue
            for table in self.state.values():
                for fk in table.foreign_keys:
                    if (table.name, fk) in handled or not _blocks(c, table.name, fk):
                        continue
                    handled.add((table.name, fk))
                    out.append(
                        Change(
                            "drop_foreign_key",
                            table.name,
                            old=fk,
                            reason=f"foreign key on {table.name} blocks a change: dropped first",
                        )
                    )
                    if self._still_desired(table.name, fk):
                        out.append(
                            Change(
                                "add_foreign_key",
                                table.name,
                                new=fk,
                                reason=f"foreign key on {table.name} made again after the change",
                            )
                        )
        return out

    def _still_desired(self, table: str, fk: ForeignKey) -> bool:
        desired = self.desired.get(self.key(table))
        if desired is None:
            return False
        shape = (tuple(map(self.key, fk.columns)), self.key(fk.ref_table))
        return any(
            (tuple(map(self.key, f.columns)), self.key(f.ref_table)) == shape
            for f in desired.foreign_keys
        )


def _blocks(change: Change, table: str, fk: ForeignKey) -> bool:
    """Whether ``fk`` (of ``table``) stands in the way of ``change``: a column whose type
    changes is in it, or the key it refers to is dropped."""
    if change.kind == "alter_type":
        column = change.old.name
        own = table == change.table and column in fk.columns
        return own or (fk.ref_table == change.table and column in fk.ref_columns)
    return fk.ref_table == change.table and set(fk.ref_columns) == set(change.old.columns)


def _table(obj: object) -> Table:
    assert isinstance(obj, Table)
    return obj


def _column(obj: object) -> Column:
    assert isinstance(obj, Column)
    return obj


def _view(obj: object) -> View:
    assert isinstance(obj, View)
    return obj


# --- ordering ------------------------------------------------------------------------------


def order(changes: Sequence[Change], target: Dialect, views: Sequence[View] = ()) -> list[Change]:
    """Every change after what it depends on (:data:`CHANGE_ORDER`); within a kind, tables
    referenced by foreign keys created first and dropped last, views read by other views
    likewise, also through a view that stays (``views``: the target's)."""
    rank = {kind: i for i, kind in enumerate(CHANGE_ORDER)}
    reads = {v.name.lower(): set(target.view_relations(v.sql)) for v in views}
    reads.update(
        {
            c.new.name.lower(): set(target.view_relations(c.new.sql))
            for c in changes
            if c.kind == "create_view"
        }
    )

    def needs(sql: str) -> set[str]:
        found: set[str] = set()
        todo = set(target.view_relations(sql))
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo |= reads.get(name, set())
        return found

    created = [c for c in changes if c.kind == "create_table"]
    tables = _topological(
        created, lambda c: c.new.name, lambda c: {fk.ref_table for fk in c.new.foreign_keys}
    )
    dropped = [c for c in changes if c.kind == "drop_table"]
    drops = _topological(
        dropped, lambda c: c.old.name, lambda c: {fk.ref_table for fk in c.old.foreign_keys}
    )
    made = [c for c in changes if c.kind == "create_view"]
    made_order = _topological(made, lambda c: c.new.name, lambda c: needs(c.new.sql))
    unmade = [c for c in changes if c.kind == "drop_view"]
    view_drops = _topological(unmade, lambda c: c.old.name, lambda c: needs(c.old.sql))
    within: dict[int, int] = {}
    for seq in (tables, made_order):
        within.update({id(c): i for i, c in enumerate(seq)})
    for seq in (drops, view_drops):
        within.update({id(c): -i for i, c in enumerate(seq)})
    return sorted(
        changes,
        key=lambda c: (rank[c.kind], within.get(id(c), 0), (c.table or "").lower(), c.subject),
    )


def _topological(
    items: Sequence[Change],
    name: Callable[[Change], str],
    needs: Callable[[Change], set[str]],
) -> list[Change]:
    """``items`` with each after those it needs (by lower-cased name); cycles as found."""
    by_name = {name(c).lower(): c for c in items}
    done: list[Change] = []
    seen: set[str] = set()

    def visit(c: Change) -> None:
        key = name(c).lower()
        if key in seen:
            return
        seen.add(key)
        for dep in sorted(n.lower() for n in needs(c)):
            if dep in by_name:
                visit(by_name[dep])
        done.append(c)

    for c in sorted(items, key=lambda c: name(c).lower()):
        visit(c)
    return done
