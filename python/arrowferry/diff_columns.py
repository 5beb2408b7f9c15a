"""The columns of one table of a against the same table of b: each column missing,
extra, or of another type, nullability, default or text order (collation). The base of
:class:`arrowferry.diff_tables.TableComparison`, which adds keys, indexes, foreign keys,
CHECKs and the identity counter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arrowferry import diff_rules as rules
from arrowferry import diff_sql
from arrowferry.dialects.sqltext import in_list_sql
from arrowferry.diff import Difference, DifferenceKind
from arrowferry.diff_report import column_sql, default_sql, type_sql
from arrowferry.model import Column, Table, enum_labels

if TYPE_CHECKING:
    from arrowferry.diff_compare import Sides


class ColumnComparison:
    """The columns of table a (desired) against table b's, both under a's name."""

    def __init__(self, ta: Table, tb: Table, sides: Sides) -> None:
        self.ta, self.tb, self.s = ta, tb, sides
        self.name = ta.name
        self.out: list[Difference] = []

    def add(
        self,
        kind: DifferenceKind,
        name: str | None,
        a: object | None,
        b: object | None,
        a_sql: str | None,
        b_sql: str | None,
        lossless: bool,
        detail: str,
    ) -> None:
        self.out.append(Difference(kind, self.name, name, a, b, a_sql, b_sql, lossless, detail))

    def columns(self) -> None:
        s, ta, tb = self.s, self.ta, self.tb
        b_cols = {s.key(c.name): c for c in tb.columns}
        a_keys = set(s.keys(ta.column_names))
        for ca in ta.columns:
            cb = b_cols.get(s.key(ca.name))
            if cb is None:
                self.add(
                    "missing_column",
                    ca.name,
                    ca,
                    None,
                    column_sql(ca, s.a),
                    None,
                    False,
                    f"column {ca.name} is in a only: its values have nowhere to go",
                )
            else:
                self.column(ca, cb)
        for cb in tb.columns:
            if s.key(cb.name) not in a_keys:
                fills = cb.nullable or bool(cb.default or cb.identity or cb.generated)
                self.add(
                    "extra_column",
                    cb.name,
                    None,
                    cb,
                    None,
                    column_sql(cb, s.b),
                    fills,
                    f"column {cb.name} is in b only"
                    + ("" if fills else ", NOT NULL without a default: rows of a cannot fill it"),
                )

    def column(self, ca: Column, cb: Column) -> None:
        s = self.s
        same, lossless = self.same_type(ca, cb)
        if not lossless and self._held_to_labels(ca, cb):
            lossless = True  # a's CHECK admits only the labels of b's enum
        if not same:
            shown_a, shown_b = type_sql(ca), type_sql(cb)
            self.add(
                "column_type",
                ca.name,
                ca,
                cb,
                shown_a,
                shown_b,
                lossless,
                f"column {ca.name}: {shown_a} in a, {shown_b} in b"
                + (" (every value of a fits)" if lossless else " (values of a may not fit)"),
            )
        in_key = set(s.keys(self.ta.primary_key.columns if self.ta.primary_key else ()))
        key_b = set(s.keys(self.tb.primary_key.columns if self.tb.primary_key else ()))
        # a key column cannot hold NULL in PostgreSQL, whatever SQLite let it declare
        null_a = ca.nullable and not (s.cross and s.key(ca.name) in in_key)
        null_b = cb.nullable and not (s.cross and s.key(cb.name) in key_b)
        if null_a != null_b:
            self.add(
                "nullability",
                ca.name,
                ca,
                cb,
                "NULL" if null_a else "NOT NULL",
                "NULL" if null_b else "NOT NULL",
                not null_a,
                f"column {ca.name} is {'nullable' if null_a else 'NOT NULL'} in a, "
                f"{'nullable' if null_b else 'NOT NULL'} in b",
            )
        self.collation(ca, cb)
        self.default(ca, cb)

    def collation(self, ca: Column, cb: Column) -> None:
        """Text that compares and sorts by other rules in b than in a: ``ORDER BY``,
        ``<``, ``min()``/``max()``, CHECKs and views on it give other results, and a
        unique key in b that ignores case or trailing spaces may refuse rows of a."""
        s = self.s
        if ca.type.kind != "text" or cb.type.kind != "text":
            return
        order_a, order_b = rules.text_order(ca, s.a), rules.text_order(cb, s.b)
        if order_a == order_b:
            return
        folds = order_b in ("NOCASE", "RTRIM") and self._unique_in_b(cb.name)
        self.add(
            "collation",
            ca.name,
            ca,
            cb,
            type_sql(ca),
            type_sql(cb),
            not folds,
            f"column {ca.name} compares text {rules.order_text(order_a)} in a, "
            f"{rules.order_text(order_b)} in b: sorts, comparisons, min()/max(), CHECKs and "
            "views on it give other results"
            + (
                f"; b's unique key on it calls values equal that a does not ({order_b}), so "
                "rows of a may not fit"
                if folds
                else ""
            ),
        )

    def _unique_in_b(self, name: str) -> bool:
        tb = self.tb
        keys = [tb.primary_key.columns] if tb.primary_key else []
        keys += [u.columns for u in tb.uniques]
        keys += [i.column_names for i in tb.indexes if i.unique]
        return any(name in k for k in keys)

    def same_type(self, ca: Column, cb: Column) -> tuple[bool, bool]:
        """(equivalent after mapping, every value of a fits b)."""
        s = self.s
        if not s.cross:
            if ca.declared and cb.declared:
                same = rules.declared_key(ca.declared, s.a) == rules.declared_key(cb.declared, s.b)
            else:
                same = ca.type == cb.type
            return same, rules.fits(ca.type, cb.type)
        if rules.unresolved(ca.type) or rules.unresolved(cb.type):
            return True, True  # the migration takes such a column's type from its data
        there = rules.mapped(ca.type, s.b)
        return there == cb.type, rules.fits(there, cb.type)

    def default(self, ca: Column, cb: Column) -> None:
        s = self.s
        kind = ca.type.kind
        key_a = rules.default_key(ca.default, s.a, kind)
        key_b = rules.default_key(cb.default, s.b, kind)
        if key_a[0] == "expr" or key_b[0] == "expr":
            key_a = (
                ("expr", self.expression(ca.default or "", s.a, self.ta)) if ca.default else key_a
            )
            key_b = (
                ("expr", self.expression(cb.default or "", s.b, self.tb, b_side=True))
                if cb.default
                else key_b
            )
        generated_a = (
            self.expression(ca.generated, s.a, self.ta) if ca.generated else None,
            ca.generated_stored,
        )
        generated_b = (
            self.expression(cb.generated, s.b, self.tb, b_side=True) if cb.generated else None,
            cb.generated_stored,
        )
        counter_a = (ca.identity, ca.autoincrement and not s.cross)
        counter_b = (cb.identity, cb.autoincrement and not s.cross)
        if (key_a, generated_a, counter_a) == (key_b, generated_b, counter_b):
            return
        shown_a, shown_b = default_sql(ca, s.a), default_sql(cb, s.b)
        # a value b computes itself replaces a's: those values would be lost
        lossless = generated_b[0] is None or generated_a[0] == generated_b[0]
        self.add(
            "default",
            ca.name,
            ca,
            cb,
            shown_a,
            shown_b,
            lossless,
            f"column {ca.name}: {shown_a or 'no default'} in a, {shown_b or 'no default'} in b",
        )

    def sqlite_form(self, sql: str, dialect: str, table: Table, b_side: bool) -> object:
        """An expression in SQLite's terms (``diff_sql.sqlite_key``); one with no SQLite
        form matches nothing."""
        enums = self.s.enums_b if b_side else self.s.enums_a
        kinds = tuple(
            (c.name, "enum" if enum_labels(enums, c) else c.type.kind) for c in table.columns
        )
        found = diff_sql.sqlite_key(sql, dialect, columns=table.column_names, kinds=kinds)
        return found if found is not None else object()

    def expression(
        self,
        sql: str,
        dialect: str,
        table: Table,
        *,
        b_side: bool = False,
        condition: bool = False,
    ) -> str:
        """``condition``: read as true or false (a CHECK, an index predicate)."""
        s = self.s
        return diff_sql.expression_key(
            sql,
            dialect,
            cross=s.cross,
            columns=table.column_names,
            kinds=tuple((c.name, c.type.kind) for c in table.columns),
            aliases=s.aliases.get(s.key(self.name), ()) if b_side else (),
            condition=condition,
        )

    def _held_to_labels(self, ca: Column, cb: Column) -> bool:
        """Whether b's column is an enum and a's CHECK holds the column to its labels."""
        labels = enum_labels(self.s.enums_b, cb)
        if not labels or not self.s.cross:
            return False
        wanted = self.expression(in_list_sql(ca.name, labels), self.s.a, self.ta, condition=True)
        return any(
            self.expression(c.expression, self.s.a, self.ta, condition=True) == wanted
            for c in self.ta.checks
        )
