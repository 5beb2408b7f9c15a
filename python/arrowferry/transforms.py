"""Your own change to a column's values on the way (``transforms``, ``--transform``).

A transform is a Polars expression, or a SQL expression Polars parses (``pl.sql_expr``:
``"lower(email)"``, ``"CASE WHEN status = 'A' THEN 'active' ELSE status END"``), keyed
by ``table.column`` (the source's names). It runs on each batch after arrowferry's own
conversion, vectorised like the rest: the expression sees every column of the batch by
its source name, holding the values as the target will (a 0/1 SQLite column that became
``boolean`` is a Polars Boolean, a date text a Date), and its result replaces the
column's values. The result is held to the column's type: a value the type cannot take
exactly, or a NULL in a NOT NULL column, is a bad value like any other (rejected with its
row, stored as NULL, or stopping the table, per ``on_bad_value``), named with the
transform that gave it. The target's DDL is unchanged: to change a type too, pair it
with a type mapping.

Transforms apply between SQLite and PostgreSQL and in a PostgreSQL -> PostgreSQL copy (a
staging copy with its personal data masked), in full, incremental and resumed runs; not
between two SQLite files, whose copy moves each value with its storage class, text as bytes.
``verify`` after such a run leaves the transformed columns out and says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.errors import BadInputError, TransferError

if TYPE_CHECKING:
    import polars as pl

    from arrowferry.convert.column import ColumnKernel, Converted
    from arrowferry.plan.model import MigrationPlan, TablePlan

BECAUSE = "transform"  # the code of a bad value a transform gave (Converted.because)


def parse_transform_option(items: Sequence[str]) -> dict[str, str]:
    """The CLI's ``TABLE.COLUMN=SQL`` strings as ``{"table.column": "sql"}``."""
    from arrowferry.options import table_column_items

    return table_column_items(
        items, "--transform", "TABLE.COLUMN=SQL_EXPRESSION", "users.email=lower(email)"
    )


def text_of(transform: Any) -> str:
    """How a transform is shown (the plan, the ledger, a reason): SQL as given, a Polars
    expression as Polars prints it."""
    return transform if isinstance(transform, str) else str(transform)


def expression(transform: Any, key: str) -> pl.Expr:
    """A transform as a Polars expression (SQL parsed by ``pl.sql_expr``)."""
    import polars as pl

    if isinstance(transform, pl.Expr):
        return transform
    if not isinstance(transform, str) or not transform.strip():
        raise BadInputError(
            f"transform for {key!r}: expected a Polars expression or a SQL expression string, "
            f"not {type(transform).__name__}"
        )
    try:
        return pl.sql_expr(transform)
    except Exception as err:  # Polars' SQL errors have no common base worth naming
        raise BadInputError(
            f"transform for {key!r}: {transform!r} is no SQL expression Polars reads: {err}"
        ) from err


def checked(transforms: Mapping[str, Any]) -> dict[str, Any]:
    """The option's keys and values, each parsed once (so a typo fails before a run)."""
    out = {}
    for key, value in transforms.items():
        table, dot, column = str(key).rpartition(".")
        if not dot or not table or not column:
            raise BadInputError(
                f"transform key {key!r}: expected TABLE.COLUMN (the source's names), for "
                "example users.email"
            )
        expression(value, str(key))
        out[str(key)] = value
    return out


def attach(plan: MigrationPlan, transforms: Mapping[str, Any]) -> None:
    """Each transform onto the planned column it names (by the source's names, matched
    case-insensitively); a name the plan does not hold is an error naming the closest."""
    places = {t.source.name.lower(): n for n, t in enumerate(plan.tables)}
    for key, value in transforms.items():
        table_name, _, column_name = key.rpartition(".")
        n = places.get(table_name.lower())
        if n is None:
            raise BadInputError(
                f"transform for {key!r}: the run has no table {table_name!r}"
                + _closest(table_name, [t.source.name for t in plan.tables])
            )
        table = plan.tables[n]
        index = next(
            (i for i, c in enumerate(table.columns) if c.source.lower() == column_name.lower()),
            None,
        )
        if index is None:
            raise BadInputError(
                f"transform for {key!r}: table {table.source.name!r} has no column "
                f"{column_name!r}" + _closest(column_name, [c.source for c in table.columns])
            )
        _reads_known_columns(key, expression(value, key), table)
        column = table.columns[index]
        note = f"values replaced by the transform {text_of(value)}"
        columns = list(table.columns)
        columns[index] = replace(column, transform=value, lossy=(*column.lossy, note))
        plan.tables[n] = replace(table, columns=tuple(columns))


def _reads_known_columns(key: str, expr: pl.Expr, table: TablePlan) -> None:
    known = {c.source for c in table.columns}
    unknown = sorted(set(expr.meta.root_names()) - known)
    if unknown:
        raise BadInputError(
            f"transform for {key!r} reads {', '.join(repr(n) for n in unknown)}, which table "
            f"{table.source.name!r} does not have (columns are named as in the source, with "
            f"their case: {', '.join(sorted(known))})"
        )


def _closest(name: str, known: Sequence[str]) -> str:
    found = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


@dataclass(frozen=True)
class Applied:
    """A table's transforms, ready for its batches: (column index, expression, text)."""

    table: str
    steps: tuple[tuple[int, pl.Expr, str], ...]

    @classmethod
    def for_columns(
        cls, table: str, kernels: Sequence[ColumnKernel], transforms: Sequence[Any]
    ) -> Applied:
        steps = tuple(
            (i, expression(t, kernels[i].source).alias(f"__arrowferry_transform_{i}"), text_of(t))
            for i, t in enumerate(transforms)
            if t is not None
        )
        return cls(table, steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    def _failed(self, kernels: Sequence[ColumnKernel], frame: pl.DataFrame, err: Exception) -> str:
        read = sorted({n for _, expr, _ in self.steps for n in expr.meta.root_names()})
        shown = ", ".join(f"{n} ({frame.schema[n]})" for n in read if n in frame.schema)
        texts = "; ".join(f"{kernels[i].source}: {t}" for i, _, t in self.steps)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return (
            f"table {self.table!r}: a transform failed ({texts}): {first}. The columns it "
            f"reads arrive as {shown or 'given'}: the values the target is sent"
        )

    def reason(self, index: int, given: Any, kernel: ColumnKernel) -> str:
        """Why a value of column ``index`` is bad: what its transform gave instead."""
        text = next(t for i, _, t in self.steps if i == index)
        if given is None:
            return f"the transform {text} gave NULL, and the column is NOT NULL"
        return f"the transform {text} gave {given!r}, which cannot be stored{kernel.stored_as}"

    def apply(self, kernels: Sequence[ColumnKernel], done: list[Converted]) -> list[Converted]:
        """The converted columns with each transformed one replaced by its expression's
        values, held to the column's Arrow type; a value it cannot hold is flagged bad."""
        import polars as pl

        frame = pl.from_arrow(
            pa.table({k.source: _plain(c.array) for k, c in zip(kernels, done, strict=True)})
        )
        assert isinstance(frame, pl.DataFrame)
        try:
            out = frame.select([expr for _, expr, _ in self.steps])
        except Exception as err:  # Polars raises several kinds, none more telling
            raise TransferError(self._failed(kernels, frame, err), table=self.table) from err
        done = list(done)
        for (i, _, _), series in zip(self.steps, out.get_columns(), strict=True):
            wanted = done[i].array.type
            given = series.to_arrow()
            array, bad = _held_to(given, wanted)
            if not kernels[i].nullable:
                bad |= ~array.is_valid().to_numpy(zero_copy_only=False)
            flags = bad if done[i].bad is None else (done[i].bad | bad)
            because = dict(done[i].because)
            if bad.any():
                because[BECAUSE] = bad
            done[i] = replace(done[i], array=array, bad=flags, because=because, given=given)
        return done


def _plain(array: pa.Array) -> pa.Array:
    """An extension array (uuid, json) as its storage, which Polars reads."""
    return array.storage if isinstance(array.type, pa.BaseExtensionType) else array


def _held_to(given: pa.Array, wanted: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """``given`` as an Arrow array of type ``wanted``, and where a value did not fit."""
    storage = wanted.storage_type if isinstance(wanted, pa.BaseExtensionType) else wanted
    if isinstance(given, pa.ChunkedArray):
        given = given.combine_chunks()
    try:
        cast = pc.cast(given, storage, safe=True)
        bad = np.zeros(len(given), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        cast, bad = _cast_each(given, storage)
    bad |= _forgiven(given, cast, storage)
    if isinstance(wanted, pa.BaseExtensionType):
        cast = pa.ExtensionArray.from_storage(wanted, cast)
    return cast, bad


def _forgiven(given: pa.Array, cast: pa.Array, storage: pa.DataType) -> np.ndarray:
    """Where Arrow's "safe" cast changed a value anyway: an integer other than 0 or 1
    into a boolean (2 is true), a double a float or a decimal cannot hold exactly
    (rounded); every other cast it calls safe keeps the value or raises (driver-traps.md:
    forgiving casts)."""
    if pa.types.is_boolean(storage) and pa.types.is_integer(given.type):
        return _mask(pc.invert(pc.is_in(given, pa.array([0, 1], given.type))), given)
    narrowed = pa.types.is_float32(storage) or pa.types.is_decimal(storage)
    if narrowed and pa.types.is_floating(given.type):
        # a double into a float, or into a decimal of fewer places (0.30000000000000004
        # into numeric(12,2) is 0.30): the value read back is not the value given
        back = pc.cast(cast, given.type)
        changed = pc.and_(pc.not_equal(back, given), pc.invert(pc.is_nan(given)))
        return _mask(changed, given)
    return np.zeros(len(given), dtype=bool)


def _mask(flags: pa.Array, given: pa.Array) -> np.ndarray:
    """True where flagged and the value is not NULL."""
    out = pc.and_(pc.fill_null(flags, False), given.is_valid())
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=bool)


def _cast_each(given: pa.Array, storage: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """A cast that failed as a whole, value by value: those that do not fit become NULL
    and are flagged (only batches with a misfit come here)."""
    values, bad = [], np.zeros(len(given), dtype=bool)
    for index, value in enumerate(given):
        try:
            values.append(pc.cast(pa.array([value.as_py()], given.type), storage, safe=True)[0])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            values.append(None)
            bad[index] = True
    return pa.array([v.as_py() if v is not None else None for v in values], storage), bad
