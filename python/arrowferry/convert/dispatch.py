"""Pick the conversion for a (how it is read, target logical type) pair."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from arrowferry.convert import arrays, numeric, temporal, text
from arrowferry.convert.base import Conversion, ReadAs
from arrowferry.errors import UnsupportedTypeError
from arrowferry.model import DataType


def build_conversion(
    column: str,
    read_as: ReadAs,
    target: DataType,
    *,
    table: str,
    decimal_scale: int = 0,
    decimal_digits: int = 38,
    decimal_as_text: bool = False,
    max_length: int | None = None,
) -> Conversion:
    c = pl.col(column)
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
    if kind == "text":
        return text.to_text(c, read_as, max_length)
    if kind == "json":
        return text.to_json(c, read_as)
    if kind == "uuid":
        return text.to_uuid(c, read_as)
    if kind == "blob":
        return text.to_blob(c, read_as)
    if kind == "array" and arrays.supports(target.element):
        assert target.element is not None
        return arrays.to_array(c, read_as, target.element)
    raise UnsupportedTypeError(
        f"table {table!r}, column {column!r}: no conversion into {target} yet; "
        f"map it to another type with --type-map (for example '{table}.<column>=text')",
        table=table,
        column=column,
        type=str(target),
    )
