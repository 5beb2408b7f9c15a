"""One table of a against the same table of b: columns, keys, indexes, foreign keys,
CHECKs and the identity counter, each split into added / removed / changed by a key
that ignores what is not the shape (constraint and index names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from arrowferry.dialects.sqltext import in_list_sql
from arrowferry.diff import Difference
from arrowferry.diff_columns import ColumnComparison
from arrowferry.diff_report import fk_sql, index_sql, key_sql
from arrowferry.model import Check, ForeignKey, Index, Table, UniqueConstraint, enum_labels

T = TypeVar("T")


class TableComparison(ColumnComparison):
    """Table a (desired) against table b, both under a's name."""

    def run(self) -> list[Difference]:
        self.columns()
        self.primary_key()
        self.uniques()
        self.indexes()
        self.foreign_keys()
        self.checks()
        self.sequence()
        return self.out

    # --- keys ------------------------------------------------------------------------

    def primary_key(self) -> None:
        pa, pb = self.ta.primary_key, self.tb.primary_key
        ka = self.s.keys(pa.columns) if pa else None
        kb = self.s.keys(pb.columns) if pb else None
        if ka == kb:
            return
        # a's rows are unique on its key, so on any b key holding it
        lossless = kb is None or (ka is not None and set(ka) <= set(kb))
        self.add(
            "primary_key",
            pa.name if pa else pb.name if pb else None,
            pa,
            pb,
            key_sql("PRIMARY KEY", pa),
            key_sql("PRIMARY KEY", pb),
            lossless,
            f"primary key ({', '.join(pa.columns) if pa else 'none'}) in a, "
            f"({', '.join(pb.columns) if pb else 'none'}) in b",
        )

    def unique_in_a(self, columns: Sequence[str]) -> bool:
        """Whether a already keeps ``columns`` unique (a key of a within them)."""
        want = set(self.s.keys(columns))
        ta = self.ta
        keys = [ta.primary_key.columns] if ta.primary_key else []
        keys += [u.columns for u in ta.uniques]
        keys += [i.column_names for i in ta.indexes if _plain_unique(i)]
        return any(k and set(self.s.keys(k)) <= want for k in keys)

    def uniques(self) -> None:
        s = self.s
        a_only, b_only = _split(self.ta.uniques, self.tb.uniques, lambda u: s.keys(u.columns))
        if s.cross:  # a UNIQUE constraint in one engine may be a unique index in the other
            a_only = [u for u in a_only if not self.index_holds(self.tb, u)]
            b_only = [u for u in b_only if not self.index_holds(self.ta, u)]
        for u in a_only:
            self.add(
                "unique",
                u.name,
                u,
                None,
                key_sql("UNIQUE", u),
                None,
                True,
                f"unique ({', '.join(u.columns)}) is in a only",
            )
        for u in b_only:
            self.add(
                "unique",
                u.name,
                None,
                u,
                None,
                key_sql("UNIQUE", u),
                self.unique_in_a(u.columns),
                f"unique ({', '.join(u.columns)}) is in b only",
            )

    def index_holds(self, table: Table, unique: UniqueConstraint) -> bool:
        want = self.s.keys(unique.columns)
        return any(_plain_unique(i) and self.s.keys(i.column_names) == want for i in table.indexes)

    def index_key(
        self, index: Index, table: Table, b_side: bool, *, sqlite: bool = False
    ) -> tuple[object, ...]:
        """What an index is, up to its name; ``sqlite``: its expressions in SQLite's terms
        (the second key a comparison across the two engines tries)."""
        s = self.s
        dialect = s.b if b_side else s.a

        def form(sql: str, condition: bool = False) -> object:
            if sqlite:
                return self.sqlite_form(sql, dialect, table, b_side)
            return self.expression(sql, dialect, table, b_side=b_side, condition=condition)

        keys = tuple(
            (
                form(k.expression) if k.is_expression else s.key(k.expression),
                k.is_expression,
                k.descending,
                None if s.cross else (k.collation or "").lower(),
            )
            for k in index.keys
        )
        where = form(index.where, condition=True) if index.where else None
        return keys, index.unique, where

    def indexes(self) -> None:
        s = self.s
        a_idx = [i for i in self.ta.indexes if not (s.cross and self.is_constraint(i, self.tb))]
        b_idx = [i for i in self.tb.indexes if not (s.cross and self.is_constraint(i, self.ta))]
        a_only, b_only = _split(
            a_idx,
            b_idx,
            lambda i: self.index_key(i, self.ta, False),
            lambda i: self.index_key(i, self.tb, True),
        )
        if s.cross and a_only and b_only:  # as a migration into SQLite writes them
            a_only, b_only = _split(
                a_only,
                b_only,
                lambda i: self.index_key(i, self.ta, False, sqlite=True),
                lambda i: self.index_key(i, self.tb, True, sqlite=True),
            )
        b_by_name = {s.key(i.name): i for i in b_only}
        for ia in a_only:
            ib = b_by_name.pop(s.key(ia.name), None)
            lossless = ib is None or not ib.unique or self.unique_in_a(_index_columns(ib))
            self.add(
                "index",
                ia.name,
                ia,
                ib,
                index_sql(ia, self.ta.name),
                None if ib is None else index_sql(ib, self.tb.name),
                lossless,
                f"index {ia.name} is in a only"
                if ib is None
                else f"index {ia.name} is defined differently in a and b",
            )
        for ib in b_by_name.values():
            lossless = not ib.unique or self.unique_in_a(_index_columns(ib))
            self.add(
                "index",
                ib.name,
                None,
                ib,
                None,
                index_sql(ib, self.tb.name),
                lossless,
                f"index {ib.name} is in b only",
            )

    def is_constraint(self, index: Index, other: Table) -> bool:
        """A plain unique index matching the other side's UNIQUE constraint: the same
        uniqueness, held by a constraint there (compared as one by ``uniques``)."""
        if not _plain_unique(index):
            return False
        want = self.s.keys(index.column_names)
        return any(self.s.keys(u.columns) == want for u in other.uniques)

    def foreign_keys(self) -> None:
        s = self.s

        def where(fk: ForeignKey) -> tuple[object, ...]:
            return s.keys(fk.columns), s.key(fk.ref_table)

        def shape(fk: ForeignKey) -> tuple[object, ...]:
            return (
                *where(fk),
                s.keys(fk.ref_columns),
                fk.on_delete,
                fk.on_update,
                fk.deferrable,
                fk.initially_deferred,
            )

        a_only, b_only = _split(self.ta.foreign_keys, self.tb.foreign_keys, shape)
        b_by_where = {where(fk): fk for fk in b_only}
        for fa in a_only:
            fb = b_by_where.pop(where(fa), None)
            # only the actions differ: every row that lands still satisfies it
            lossless = fb is None or s.keys(fa.ref_columns) == s.keys(fb.ref_columns)
            self.add(
                "foreign_key",
                fa.name or (fb.name if fb else None),
                fa,
                fb,
                fk_sql(fa),
                fk_sql(fb) if fb else None,
                lossless,
                f"foreign key ({', '.join(fa.columns)}) -> {fa.ref_table} "
                + ("is in a only" if fb is None else "is defined differently in a and b"),
            )
        for fb in b_by_where.values():
            self.add(
                "foreign_key",
                fb.name,
                None,
                fb,
                None,
                fk_sql(fb),
                False,
                f"foreign key ({', '.join(fb.columns)}) -> {fb.ref_table} is in b only: rows "
                "of a may break it",
            )

    def checks(self) -> None:
        key_a = lambda c: self.expression(c.expression, self.s.a, self.ta, condition=True)  # noqa: E731
        key_b = lambda c: self.expression(  # noqa: E731
            c.expression, self.s.b, self.tb, b_side=True, condition=True
        )
        a_only, b_only = _split(self.ta.checks, self.tb.checks, key_a, key_b)
        if self.s.cross and a_only and b_only:  # as a migration into SQLite writes them
            a_only, b_only = _split(
                a_only,
                b_only,
                lambda c: self.sqlite_form(c.expression, self.s.a, self.ta, False),
                lambda c: self.sqlite_form(c.expression, self.s.b, self.tb, True),
            )
        # the CHECK a copy into SQLite holds an enum column's text to its labels with is
        # the enum type of the other side, not a constraint of its own
        a_only = [
            c for c in a_only if not self._enum_check(c, self.ta, self.tb, self.s.enums_b, key_a)
        ]
        b_only = [
            c for c in b_only if not self._enum_check(c, self.tb, self.ta, self.s.enums_a, key_b)
        ]
        b_by_name = {self.s.key(c.name): c for c in b_only if c.name}
        for ca in a_only:
            cb = b_by_name.pop(self.s.key(ca.name), None) if ca.name else None
            if cb is not None:
                b_only.remove(cb)
            self.add(
                "check",
                ca.name or (cb.name if cb else None),
                ca,
                cb,
                _check_sql(ca),
                _check_sql(cb),
                cb is None,
                f"CHECK ({ca.expression}) is in a only"
                if cb is None
                else f"CHECK {ca.name} is defined differently in a and b",
            )
        for cb in b_only:
            self.add(
                "check",
                cb.name,
                None,
                cb,
                None,
                _check_sql(cb),
                False,
                f"CHECK ({cb.expression}) is in b only: rows of a may break it",
            )

    def _enum_check(
        self,
        check: Check,
        table: Table,
        other: Table,
        enums: Mapping[str, tuple[str, ...]],
        key: Callable[[Check], object],
    ) -> bool:
        """Whether ``check`` of ``table`` is ``col IN (labels)`` of a column that is an
        enum of those labels in ``other``."""
        if not enums:
            return False
        theirs = {self.s.key(c.name): c for c in other.columns}
        for col in table.columns:
            there = theirs.get(self.s.key(col.name))
            if there is None:
                continue
            labels = enum_labels(enums, there)
            if labels and key(Check(in_list_sql(col.name, labels))) == key(check):
                return True
        return False

    def sequence(self) -> None:
        ra, rb = self.ta.sequence, self.tb.sequence
        if ra is None or rb is None or rb >= ra:
            return
        self.add(
            "sequence",
            self.name,
            ra,
            rb,
            str(ra),
            str(rb),
            True,
            f"b's counter for new rows of {self.name} is at {rb}, behind a's {ra}: new rows "
            "there would be given keys a has already handed out",
        )


def _check_sql(check: Check | None) -> str | None:
    return None if check is None else f"CHECK ({check.expression})"


def _plain_unique(index: Index) -> bool:
    return index.unique and index.where is None and all(not k.is_expression for k in index.keys)


def _index_columns(index: Index) -> tuple[str, ...]:
    return index.column_names if all(not k.is_expression for k in index.keys) else ("\0",)


def _split(
    a: Iterable[T],
    b: Iterable[T],
    key_a: Callable[[T], object],
    key_b: Callable[[T], object] | None = None,
) -> tuple[list[T], list[T]]:
    """The items of a with no equal in b and of b with none in a (as multisets)."""
    key_b = key_b or key_a
    pending: dict[object, list[T]] = {}
    for item in b:
        pending.setdefault(key_b(item), []).append(item)
    a_only = []
    for item in a:
        found = pending.get(key_a(item))
        if found:
            found.pop(0)
        else:
            a_only.append(item)
    return a_only, [item for items in pending.values() for item in items]
