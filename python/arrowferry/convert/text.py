"""Text, JSON, UUID and bytes."""

from __future__ import annotations

import polars as pl

from arrowferry.convert.base import Conversion, ReadAs, failed

_HEX32 = r"^[0-9a-fA-F]{32}$"


def to_text(c: pl.Expr, read_as: ReadAs) -> Conversion:
    # PostgreSQL text cannot hold NUL; COPY would fail the whole table on one value
    text = c if read_as == "text" else c.cast(pl.String)
    nul = text.str.contains("\x00", literal=True).fill_null(False)
    return Conversion(text, nul, "text", "contains a NUL byte, which PostgreSQL text cannot hold")


def to_json(c: pl.Expr, read_as: ReadAs) -> Conversion:
    """JSON text, validated here so one bad document does not fail the COPY."""
    text = c if read_as == "text" else c.cast(pl.String)
    parses = text.str.json_path_match("$").is_not_null() | (text.str.strip_chars() == "null")
    value = pl.when(parses).then(text)
    return Conversion(value, failed(c, value), "JSON text -> jsonb (validated)", "not valid JSON")


def to_uuid(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as == "blob":
        sized = pl.when(c.bin.size() == 16).then(c)
        return Conversion(sized, failed(c, sized), "16-byte blob -> uuid", "not a 16-byte UUID")
    hex_text = c.str.strip_chars().str.strip_chars("{}").str.replace_all("-", "", literal=True)
    value = pl.when(hex_text.str.contains(_HEX32)).then(hex_text).str.decode("hex")
    return Conversion(value, failed(c, value), "UUID text -> uuid", "not a UUID")


def to_blob(c: pl.Expr, read_as: ReadAs) -> Conversion:
    value = c if read_as == "blob" else c.cast(pl.Binary)
    return Conversion(value, None, "bytes")
