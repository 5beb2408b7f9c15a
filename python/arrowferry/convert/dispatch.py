"""Pick the conversion of a column for any (source, target) pair: the kernel of a
planned column (``column_kernel``), and within the strict kernel the conversion for a
(how it is read, target logical type) pair (``build_conversion``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, cast

import polars as pl
import pyarrow as pa

from arrowferry.convert import array_text, arrays, numeric, temporal, text
from arrowferry.convert.base import Conversion, ReadAs
from arrowferry.errors import UnsupportedTypeError
from arrowferry.model import DataType

if TYPE_CHECKING:
    from arrowferry.convert.column import ColumnKernel


def build_conversion(
    column: str | pl.Expr,
    read_as: ReadAs,
    target: DataType,
    *,
    table: str,
    decimal_scale: int = 0,
    decimal_digits: int = 38,
    decimal_as_text: bool = False,
    max_length: int | None = None,
    labels: tuple[str, ...] | None = None,
    fixed: bool = False,
    array_as_text: bool = False,
) -> Conversion:
    """``column``: a column's name, or the expression the values come from (an array's
    elements). ``array_as_text``: an array travels as PostgreSQL array text."""
    c = pl.col(column) if isinstance(column, str) else column
    kind = target.kind
    if kind in {"int16", "int32", "int64"}:
        return numeric.to_integer(c, read_as, kind)
    if kind in {"float32", "float64"}:
        return numeric.to_float(c, read_as, kind)
    if kind == "decimal":
        return numeric.to_decimal(
            c,
            read_as,
            decimal_scale,
            rounds_later=target.precision is not None,
            digits=decimal_digits,
            limit=None if target.precision is None else (target.precision, target.scale or 0),
            as_text=decimal_as_text,
        )
    if kind == "boolean":
        conversion = numeric.to_boolean(c, read_as)
        if read_as != "text":
            return conversion
        # 't', 'yes', 'true', '1.0'... are read as booleans: say how many
        word = ~c.cast(pl.String).str.strip_chars().is_in(["0", "1"])
        return replace(conversion, interpreted=(("word_as_boolean", word),))
    if kind in {"timestamp", "timestamptz"}:
        return temporal.to_timestamp(c, read_as, tz=kind == "timestamptz")
    if kind == "date":
        return temporal.to_date(c, read_as)
    if kind == "time":
        return temporal.to_time(c, read_as)
    if kind == "interval":
        return temporal.to_interval(c, read_as)
    if kind == "text":
        rule = "the target column's declared size" if fixed else "--size-limits enforce"
        return text.to_text(c, read_as, max_length, labels, rule)
    if kind == "json":
        return text.to_json(c, read_as)
    if kind == "uuid":
        return text.to_uuid(c, read_as)
    if kind == "blob":
        return text.to_blob(c, read_as)
    if kind == "array" and array_as_text and target.element is not None:
        return array_text.to_array_literal(
            c, target.element, _element_kernel(array_text.innermost(target.element), labels, table)
        )
    if kind == "array" and arrays.supports(target.element):
        assert target.element is not None
        return arrays.to_array(c, read_as, target.element)
    name = column if isinstance(column, str) else "an array's elements"
    raise UnsupportedTypeError(
        f"table {table!r}, column {name!r}: no conversion into {target} yet; "
        f"map it to another type with --type-map (for example '{table}.<column>=text')",
        table=table,
        column=name,
        type=str(target),
    )


def _element_kernel(
    element: DataType, labels: tuple[str, ...] | None, table: str
) -> array_text.ElementKernel | None:
    """The strict conversion from text of an array's elements (None: the type has no
    kernel here, e.g. ``inet`` or a domain, and the server's cast checks it)."""
    if element.kind in {"other", "interval", "json", "array"}:
        return None
    if element.kind == "decimal" and element.precision is None:
        return None  # unconstrained numeric: any JSON number is one, the server reads it

    def kernel(values: pl.Expr) -> Conversion:
        return build_conversion(
            values,
            "text",
            element,
            table=table,
            decimal_scale=element.scale or 0,
            decimal_as_text=element.kind == "decimal",
            max_length=element.length if element.kind == "text" else None,
            labels=labels,
            fixed=True,
        )

    return kernel


class PlannedColumn(Protocol):
    """What a kernel needs of a planned column (``plan.model.ColumnPlan`` has it)."""

    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def read_as(self) -> str: ...
    @property
    def type(self) -> DataType: ...
    @property
    def arrow_type(self) -> pa.DataType | None: ...
    @property
    def ddl(self) -> str: ...
    @property
    def decimal_scale(self) -> int: ...
    @property
    def decimal_as_text(self) -> bool: ...
    @property
    def max_length(self) -> int | None: ...
    @property
    def validate(self) -> bool: ...
    @property
    def kernel(self) -> str | None: ...
    @property
    def limit(self) -> tuple[int, int] | None: ...
    @property
    def not_storable(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...] | None: ...


def column_kernel(
    index: int,
    column: PlannedColumn,
    *,
    table: str,
    nullable: bool,
    classes: bool = False,
    strip_nul: bool = False,
    replace_invalid_utf8: bool = False,
    fixed: str | None = None,
) -> ColumnKernel:
    """The kernel of one planned column, for any (source, target) pair.

    A column the plan gave an Arrow ``kernel`` holds values a typed source read exactly,
    and takes :class:`~arrowferry.convert.to_sqlite.SqliteColumn` (typed values into
    storage classes). One planned by its target type alone comes from a source that does
    not enforce its declared types, and takes :class:`~arrowferry.convert.exact.ExactColumn`,
    the strict interpretation of each storage class into that type (``classes``: the read
    also yields each value's storage class, for the ledger). A copy between databases of
    one dialect plans every column with the ``same`` kernel: nothing is converted.
    ``fixed``: the target table, when it is someone else's (its types are not ours to
    change, and an error says so).
    """
    # the kernels build their conversions through this module: imported here, not above
    from arrowferry.convert.exact import ExactColumn
    from arrowferry.convert.reading import positional, sqlite_column
    from arrowferry.convert.to_sqlite import Kernel, SqliteColumn
    from arrowferry.dialects.sqlite import READ_TYPES

    if column.kernel is not None:
        return SqliteColumn(
            positional(index),
            table=table,
            source=column.source,
            target=column.target,
            nullable=nullable,
            kind=column.type.kind,
            kernel=cast(Kernel, column.kernel),
            limit=column.limit,
            not_storable=column.not_storable,
        )
    read_as = cast(ReadAs, column.read_as)
    assert column.arrow_type is not None, "a column planned by its target type has its Arrow type"
    return ExactColumn(
        index,
        sqlite_column(
            table,
            index,
            READ_TYPES[read_as],
            numeric=read_as == "numeric",
            classes=classes,
        ),
        table=table,
        source=column.source,
        target=column.target,
        nullable=nullable,
        # the numeric read is text with REALs as their shortest round-trip form: merged
        read_as=cast(ReadAs, "text" if read_as == "numeric" else read_as),
        target_type=column.type,
        arrow_type=column.arrow_type,
        ddl=column.ddl,
        decimal_scale=column.decimal_scale,
        decimal_as_text=column.decimal_as_text,
        max_length=column.max_length,
        # a label check has no Arrow fast path: every batch takes the strict one
        validate=column.validate or column.labels is not None,
        labels=column.labels,
        fixed=fixed,
        strip_nul=strip_nul,
        replace_invalid_utf8=replace_invalid_utf8,
    )
