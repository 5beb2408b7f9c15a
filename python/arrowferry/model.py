"""The neutral schema model: what both dialects introspect into and generate from.

Frozen data, standard library only, so that diffs and plans test without a database.
Equality covers exactly what a schema diff should see; bookkeeping such as the
declared source text of a type or introspection notes is excluded from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TypeKind = Literal[
    "boolean",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "decimal",
    "text",
    "blob",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "json",
    "uuid",
    "interval",
    "array",
    "other",
]

FkAction = Literal["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"]


@dataclass(frozen=True, slots=True)
class DataType:
    """A logical column type, independent of any dialect.

    ``length`` applies to text (``varchar(n)``); ``precision``/``scale`` to decimal;
    ``element`` to array; ``raw`` keeps a dialect type that has no logical
    equivalent (``inet``, an enum name) for kind ``other``.
    """

    kind: TypeKind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    element: DataType | None = None
    raw: str | None = None

    def __str__(self) -> str:
        if self.kind == "decimal" and self.precision is not None:
            return f"decimal({self.precision},{self.scale or 0})"
        if self.kind == "text" and self.length is not None:
            return f"text({self.length})"
        if self.kind == "array" and self.element is not None:
            return f"{self.element}[]"
        if self.kind == "other":
            return f"other({self.raw})"
        return self.kind


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``default`` and ``generated`` are SQL text in the schema's dialect."""

    name: str
    type: DataType
    nullable: bool = True
    default: str | None = None
    identity: bool = False
    autoincrement: bool = False
    collation: str | None = None
    generated: str | None = None
    generated_stored: bool = False
    declared: str = field(default="", compare=False)
    # PostgreSQL: the locale a text column compares by ("en-US (ICU)", "en_US.utf8"),
    # through its own collation or the database's; None when it compares bytes (C, POSIX,
    # a C database's default), as SQLite's BINARY does. Read from the catalog, for a diff.
    ordering: str | None = field(default=None, compare=False)


def enum_labels(enums: Mapping[str, tuple[str, ...]], column: Column) -> tuple[str, ...] | None:
    """The labels of ``column``'s enum type (``Schema.enums``: by the name a column declares,
    also through a domain over the enum, whose base is the type's raw name), or None."""
    return enums.get(column.declared) or enums.get(column.type.raw or "")


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class IndexKey:
    """A key of an index: a column name, or an expression when ``is_expression``."""

    expression: str
    is_expression: bool = False
    descending: bool = False
    collation: str | None = None


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    keys: tuple[IndexKey, ...]
    unique: bool = False
    where: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(k.expression for k in self.keys if not k.is_expression)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: FkAction = "NO ACTION"
    on_update: FkAction = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False
    name: str | None = field(default=None, compare=False)
    # every row is known to satisfy it (PostgreSQL validated it); SQLite never promises that
    validated: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Check:
    expression: str
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: PrimaryKey | None = None
    uniques: tuple[UniqueConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    without_rowid: bool = field(default=False, compare=False)
    strict: bool = field(default=False, compare=False)
    # a SQLite virtual table's module (fts5, rtree...): copied as a plain table
    module: str | None = field(default=None, compare=False)
    # why a table cannot be read at all (a virtual table whose module is missing)
    unreadable: str | None = field(default=None, compare=False)
    # the last value its identity / serial / AUTOINCREMENT counter handed out (a rowid
    # table without AUTOINCREMENT: its largest rowid, which SQLite counts from); None:
    # no counter, or not read. Bookkeeping for a schema diff, not part of the shape.
    sequence: int | None = field(default=None, compare=False)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def identity_column(self) -> Column | None:
        return next((c for c in self.columns if c.identity), None)


@dataclass(frozen=True, slots=True)
class View:
    name: str
    sql: str
    # (name, declared type) of each output column, as the source engine reports them
    # (a view that cannot run there has none); how other views' SQL resolves its names
    columns: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Schema:
    """A whole database: its tables and views in one dialect's SQL.

    ``notes`` lists what introspection skipped or could not read, for the user;
    ``enums`` each enum type's labels, by its name as a column declares it (PostgreSQL),
    so a diff sees that a copy's ``CHECK (c IN (labels))`` is the enum it came from.
    """

    dialect: str
    tables: tuple[Table, ...]
    views: tuple[View, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r}")

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)
