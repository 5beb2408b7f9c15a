"""JSON arrays in SQLite text into PostgreSQL arrays (when type_mappings asks for one).

Polars' ``json_decode`` is forgiving (2.7 into List(Int64) gives 2, a number into
List(String) gives its text, a scalar gives a one-element list) and fails a whole
batch on one bad document, so each value must first have the exact shape of a flat
JSON array of the element type; integers are decoded twice (as integers and as
floats) and must agree, so 2.7 is flagged instead of truncated.
"""

from __future__ import annotations

import polars as pl

from arrowferry.convert.base import Conversion, ReadAs, failed
from arrowferry.model import DataType

_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?"
_STRING = r'"(?:[^"\\]|\\.)*"'
_BOOLEAN = r"(?:true|false)"
_ELEMENTS: dict[str, tuple[pl.DataType, str]] = {
    "int16": (pl.Int16(), _NUMBER),
    "int32": (pl.Int32(), _NUMBER),
    "int64": (pl.Int64(), _NUMBER),
    "float32": (pl.Float32(), _NUMBER),
    "float64": (pl.Float64(), _NUMBER),
    "boolean": (pl.Boolean(), _BOOLEAN),
    "text": (pl.String(), _STRING),
}


def supports(element: DataType | None) -> bool:
    return element is not None and element.kind in _ELEMENTS


def _flat_array_of(item: str) -> str:
    entry = rf"(?:{item}|null)"
    return rf"^\[\s*(?:{entry}\s*(?:,\s*{entry}\s*)*)?\]$"


def to_array(c: pl.Expr, read_as: ReadAs, element: DataType) -> Conversion:
    dtype, item = _ELEMENTS[element.kind]
    text = c.cast(pl.String).str.strip_chars()
    shaped = pl.when(text.str.contains(_flat_array_of(item))).then(text)
    value: pl.Expr
    if element.kind.startswith("int"):
        ints = shaped.str.json_decode(pl.List(pl.Int64))
        floats = shaped.str.json_decode(pl.List(pl.Float64))
        exact = ints.list.eval(pl.element().cast(pl.Float64)) == floats
        narrow = ints.cast(pl.List(dtype), strict=False)
        fits = narrow.cast(pl.List(pl.Int64)) == ints
        value = pl.when(exact & fits).then(narrow)
    else:
        value = shaped.str.json_decode(pl.List(dtype))
    json_null = text == "null"  # no array at all: SQL NULL
    return Conversion(
        value,
        failed(c, value) & ~json_null.fill_null(False),
        f"JSON array -> {element.kind}[]",
        f"not a flat JSON array of {element.kind} values",
    )
