"""Two schemas compared: the differences between them, each of a closed set of kinds.

``diff_schemas(a, b)`` takes two neutral schemas (:mod:`arrowferry.model`), of any pair
of dialects, and says how ``b`` differs from ``a``, ``a`` being the desired state (the
model) and ``b`` the database that would be brought in line. Pure: no database, no
pyarrow; the one engine of the dialects decides what is the same (types after mapping,
SQL after translation: :mod:`arrowferry.diff_rules`). Renames are never guessed: they
are given (``renames``), keyed by b's old name.

Examples
--------
>>> from arrowferry.model import Column, DataType, Schema, Table
>>> a = Schema("sqlite", (Table("t", (Column("id", DataType("int64"), declared="INTEGER"),
...     Column("name", DataType("text"), declared="TEXT"))),))
>>> b = Schema("postgresql", (Table("t", (Column("id", DataType("int64"), declared="bigint"),
...     Column("name", DataType("int32"), declared="integer"))),))
>>> result = diff_schemas(a, b)
>>> [(d.kind, d.table, d.name, d.lossless) for d in result.differences]
[('column_type', 't', 'name', False)]
>>> result.compatible
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from arrowferry.model import Schema

if TYPE_CHECKING:
    import polars as pl

DifferenceKind = Literal[
    "missing_table",  # in a (the desired side) and not in b
    "extra_table",  # in b only
    "renamed_table",  # only from renames given by the caller, never guessed
    "renamed_column",
    "missing_column",
    "extra_column",
    "column_type",  # types equivalent after mapping are not a difference
    "collation",  # text compares by other rules (bytes, NOCASE, a locale)
    "nullability",
    "default",
    "primary_key",
    "unique",
    "index",
    "foreign_key",
    "check",
    "missing_view",
    "extra_view",
    "view",
    "sequence",  # b's identity/serial/AUTOINCREMENT counter behind a's
]

KIND_ORDER: tuple[DifferenceKind, ...] = (
    "missing_table",
    "extra_table",
    "renamed_table",
    "renamed_column",
    "missing_column",
    "extra_column",
    "column_type",
    "collation",
    "nullability",
    "default",
    "primary_key",
    "unique",
    "index",
    "foreign_key",
    "check",
    "missing_view",
    "extra_view",
    "view",
    "sequence",
)
"""The order differences of one table are listed in (and the sort key after the table)."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One way b differs from a.

    ``a`` and ``b`` are the model objects on each side (Table, Column, Index,
    UniqueConstraint, PrimaryKey, ForeignKey, Check, View, or an int for a sequence
    position), None where absent; ``a_sql``/``b_sql`` their definitions as text in each
    side's dialect. ``lossless``: rows of a can still land in b, all their values kept.
    """

    kind: DifferenceKind
    table: str | None
    name: str | None
    a: object | None
    b: object | None
    a_sql: str | None
    b_sql: str | None
    lossless: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        from arrowferry.diff_report import difference_dict

        return difference_dict(self)


@dataclass(frozen=True, slots=True)
class SchemaComparison:
    """The differences between schema a (the desired state) and schema b.

    Examples
    --------
    >>> from arrowferry.model import Schema
    >>> same = diff_schemas(Schema("sqlite", ()), Schema("postgresql", ()))
    >>> same.identical, same.compatible
    (True, True)
    """

    a_dialect: str
    b_dialect: str
    differences: tuple[Difference, ...]

    @property
    def compatible(self) -> bool:
        """Whether rows of a can move into b without loss."""
        return all(d.lossless for d in self.differences)

    @property
    def identical(self) -> bool:
        """Whether no difference was found."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the dialects, ``identical``, ``compatible`` and each difference."""
        return {
            "a_dialect": self.a_dialect,
            "b_dialect": self.b_dialect,
            "identical": self.identical,
            "compatible": self.compatible,
            "differences": [d.to_dict() for d in self.differences],
        }

    def to_polars(self) -> dict[str, pl.DataFrame]:
        """``{"differences": DataFrame}``: table, kind, name, lossless, detail and each
        side's SQL, one row per difference (see :mod:`arrowferry.look`)."""
        from arrowferry.look import comparison_frames

        return comparison_frames(self)

    def _repr_html_(self) -> str:
        from arrowferry.diff_report import comparison_html

        return comparison_html(self)

    def __str__(self) -> str:
        from arrowferry.diff_report import comparison_text

        return comparison_text(self)


def diff_schemas(
    a: Schema, b: Schema, *, renames: Mapping[str, str] | None = None
) -> SchemaComparison:
    """How schema ``b`` differs from schema ``a`` (the desired state).

    Parameters
    ----------
    a, b
        Neutral schemas of any dialects (SQLite or PostgreSQL, either order or the same).
    renames
        Renames given, never guessed, keyed by b's (old) names: ``{"old_table":
        "new_table", "table.old_col": "new_col"}``, ``table`` being b's table name.

    Returns
    -------
    SchemaComparison
        ``differences`` sorted by table, then kind (:data:`KIND_ORDER`), then name.

    Examples
    --------
    >>> from arrowferry.model import Column, DataType, Schema, Table
    >>> a = Schema("sqlite", (Table("users", (Column("email", DataType("text")),)),))
    >>> b = Schema("sqlite", (Table("people", (Column("mail", DataType("text")),)),))
    >>> found = diff_schemas(a, b, renames={"people": "users", "people.mail": "email"})
    >>> [(d.kind, d.table, d.name) for d in found.differences]
    [('renamed_table', 'users', None), ('renamed_column', 'users', 'email')]
    """
    from arrowferry.diff_compare import compare  # it builds on the types above

    found = compare(a, b, dict(renames or {}))
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    ordered = sorted(found, key=lambda d: (d.table or "", rank[d.kind], d.name or ""))
    return SchemaComparison(a.dialect, b.dialect, tuple(ordered))
