"""The comparison behind :func:`arrowferry.diff.diff_schemas`: tables matched by name
(after the renames given), each pair compared by :mod:`arrowferry.diff_tables`, and
the views by :mod:`arrowferry.diff_views`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from arrowferry.diff import Difference, DifferenceKind
from arrowferry.diff_report import table_sql
from arrowferry.errors import BadInputError
from arrowferry.model import Column, IndexKey, Schema, Table


@dataclass
class Sides:
    """The two dialects, and how names and expressions are matched between them."""

    a: str
    b: str
    # b's column renames per (a-side) table: (old, new), for b's expressions
    aliases: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # each side's enum types' labels (Schema.enums), by the name a column declares
    enums_a: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enums_b: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def cross(self) -> bool:
        return self.a != self.b

    @property
    def fold(self) -> bool:
        """SQLite matches names case-insensitively, so a pair with it does too."""
        return "sqlite" in (self.a, self.b)

    def key(self, name: str) -> str:
        return name.lower() if self.fold else name

    def keys(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.key(n) for n in names)


def compare(a: Schema, b: Schema, renames: Mapping[str, str]) -> list[Difference]:
    # the modules below build on Sides, defined here
    from arrowferry.diff_tables import TableComparison
    from arrowferry.diff_views import compare_views

    sides = Sides(a.dialect, b.dialect, enums_a=a.enums, enums_b=b.enums)
    b, out = _renamed(a, b, renames, sides)
    a_tables = {sides.key(t.name): t for t in a.tables}
    b_tables = {sides.key(t.name): t for t in b.tables}
    for key, ta in a_tables.items():
        tb = b_tables.get(key)
        if tb is None:
            out.append(_table_diff("missing_table", ta, sides))
        else:
            out += TableComparison(ta, tb, sides).run()
    out += [
        _table_diff("extra_table", tb, sides) for k, tb in b_tables.items() if k not in a_tables
    ]
    out += compare_views(a, b, sides)
    return out


def _table_diff(kind: DifferenceKind, table: Table, sides: Sides) -> Difference:
    if kind == "missing_table":
        return Difference(
            kind,
            table.name,
            None,
            table,
            None,
            table_sql(table, sides.a),
            None,
            False,
            f"table {table.name} is in a but not in b: its rows have nowhere to go",
        )
    return Difference(
        kind,
        table.name,
        None,
        None,
        table,
        None,
        table_sql(table, sides.b),
        True,
        f"table {table.name} is in b only",
    )


# --- renames -------------------------------------------------------------------------


def _renamed(
    a: Schema, b: Schema, renames: Mapping[str, str], sides: Sides
) -> tuple[Schema, list[Difference]]:
    """b with the given renames applied, and a difference for each."""
    if not renames:
        return b, []
    b_tables = {sides.key(t.name): t for t in b.tables}
    a_tables = {sides.key(t.name): t for t in a.tables}
    tables: dict[str, str] = {}  # b key -> a name
    columns: dict[str, dict[str, str]] = {}  # b table key -> b column key -> a name
    for old, new in renames.items():
        table, dot, column = old.rpartition(".")
        if not dot or sides.key(old) in b_tables:
            _known(b_tables, sides.key(old), f"rename {old!r}: b has no table {old!r}")
            _known(a_tables, sides.key(new), f"rename {old!r}: a has no table {new!r}")
            tables[sides.key(old)] = a_tables[sides.key(new)].name
            continue
        tb = _known(b_tables, sides.key(table), f"rename {old!r}: b has no table {table!r}")
        if sides.key(column) not in sides.keys(tb.column_names):
            raise BadInputError(f"rename {old!r}: b's table {tb.name!r} has no column {column!r}")
        columns.setdefault(sides.key(table), {})[sides.key(column)] = new
    out: list[Difference] = []
    renamed = []
    for tb in b.tables:
        tkey = sides.key(tb.name)
        name = tables.get(tkey, tb.name)
        ta = a_tables.get(sides.key(name))
        if name != tb.name and ta is not None:
            out.append(
                Difference(
                    "renamed_table",
                    ta.name,
                    None,
                    ta,
                    tb,
                    ta.name,
                    tb.name,
                    True,
                    f"table {tb.name} in b is table {ta.name} in a (a rename given)",
                )
            )
        cols = columns.get(tkey, {})
        for ckey, new in cols.items():
            cb = next(c for c in tb.columns if sides.key(c.name) == ckey)
            ca = None if ta is None else _find(ta.columns, new, sides)
            if ca is None:
                raise BadInputError(
                    f"rename {tb.name}.{cb.name}: a's table {name!r} has no column {new!r}"
                )
            out.append(
                Difference(
                    "renamed_column",
                    name,
                    ca.name,
                    ca,
                    cb,
                    ca.name,
                    cb.name,
                    True,
                    f"column {cb.name} of {tb.name} in b is column {ca.name} in a (a rename given)",
                )
            )
            sides.aliases[sides.key(name)] = (
                *sides.aliases.get(sides.key(name), ()),
                (cb.name, ca.name),
            )
        renamed.append(_rename_table(tb, name, tables, columns, sides))
    return replace(b, tables=tuple(renamed)), out


def _known(found: Mapping[str, Table], key: str, message: str) -> Table:
    if key not in found:
        raise BadInputError(message)
    return found[key]


def _find(items: Iterable[Column], name: str, sides: Sides) -> Column | None:
    return next((c for c in items if sides.key(c.name) == sides.key(name)), None)


def _rename_table(
    t: Table,
    name: str,
    tables: Mapping[str, str],
    columns: Mapping[str, Mapping[str, str]],
    sides: Sides,
) -> Table:
    own = columns.get(sides.key(t.name), {})

    def col(c: str, table: str | None = None) -> str:
        found = columns.get(sides.key(table), {}) if table is not None else own
        return found.get(sides.key(c), c)

    def key(k: IndexKey) -> IndexKey:
        return k if k.is_expression else replace(k, expression=col(k.expression))

    return replace(
        t,
        name=name,
        columns=tuple(replace(c, name=col(c.name)) for c in t.columns),
        primary_key=None
        if t.primary_key is None
        else replace(t.primary_key, columns=tuple(map(col, t.primary_key.columns))),
        uniques=tuple(replace(u, columns=tuple(map(col, u.columns))) for u in t.uniques),
        indexes=tuple(replace(i, keys=tuple(map(key, i.keys))) for i in t.indexes),
        foreign_keys=tuple(
            replace(
                fk,
                columns=tuple(map(col, fk.columns)),
                ref_table=tables.get(sides.key(fk.ref_table), fk.ref_table),
                ref_columns=tuple(col(c, fk.ref_table) for c in fk.ref_columns),
            )
            for fk in t.foreign_keys
        ),
    )
