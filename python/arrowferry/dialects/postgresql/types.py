"""PostgreSQL's type map: ``format_type`` text <-> neutral type."""

from __future__ import annotations

from arrowferry.model import DataType
from arrowferry.types import (
    BLOB,
    BOOLEAN,
    DATE,
    FLOAT32,
    FLOAT64,
    INT16,
    INT32,
    INT64,
    INTERVAL,
    JSON,
    TEXT,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    UUID,
    DeclaredType,
    decimal_type,
)

_PG_SIMPLE: dict[str, DataType] = {
    "BOOLEAN": BOOLEAN,
    "BOOL": BOOLEAN,
    "SMALLINT": INT16,
    "INT2": INT16,
    "INTEGER": INT32,
    "INT": INT32,
    "INT4": INT32,
    "BIGINT": INT64,
    "INT8": INT64,
    "REAL": FLOAT32,
    "FLOAT4": FLOAT32,
    "DOUBLE PRECISION": FLOAT64,
    "FLOAT8": FLOAT64,
    "FLOAT": FLOAT64,
    "TEXT": TEXT,
    "BYTEA": BLOB,
    "DATE": DATE,
    "TIME": TIME,
    "TIME WITHOUT TIME ZONE": TIME,
    "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP WITHOUT TIME ZONE": TIMESTAMP,
    "TIMESTAMPTZ": TIMESTAMPTZ,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
    "JSON": JSON,
    "JSONB": JSON,
    "UUID": UUID,
    "INTERVAL": INTERVAL,
}
_PG_VARCHAR = {"VARCHAR", "CHARACTER VARYING", "CHAR", "CHARACTER", "BPCHAR"}


def parse_pg_type(ddl: str) -> DataType:
    """The logical type of a PostgreSQL type as ``format_type`` or a user writes it.

    >>> parse_pg_type("numeric(12,2)")
    DataType(kind='decimal', length=None, precision=12, scale=2, element=None, raw=None)
    """
    text = ddl.strip()
    if text.endswith("[]"):
        return DataType("array", element=parse_pg_type(text[:-2]))
    parsed = DeclaredType.parse(text)
    name = parsed.name
    # timestamp(3) / time(0): the precision sits between the name and "with time zone"
    if name in _PG_SIMPLE:
        base = _PG_SIMPLE[name]
        if base.kind == "json" and name == "JSON":
            return DataType("json", raw="json")
        return base
    if name in {"NUMERIC", "DECIMAL"}:
        return decimal_type(parsed.first, parsed.second)
    if name in _PG_VARCHAR:
        return DataType("text", length=parsed.first) if parsed.first else TEXT
    return DataType("other", raw=text)


def to_pg_ddl(dtype: DataType) -> str:
    """The PostgreSQL DDL for a logical type (``jsonb`` for json, ``varchar(n)`` for text(n))."""
    kind = dtype.kind
    if kind == "decimal":
        if dtype.precision is None:
            return "numeric"
        return f"numeric({dtype.precision},{dtype.scale or 0})"
    if kind == "text":
        return f"varchar({dtype.length})" if dtype.length else "text"
    if kind == "json":
        return "json" if dtype.raw == "json" else "jsonb"
    if kind == "array":
        assert dtype.element is not None
        return to_pg_ddl(dtype.element) + "[]"
    if kind == "other":
        return dtype.raw or "text"
    return _PG_DDL[kind]


_PG_DDL = {
    "boolean": "boolean",
    "int16": "smallint",
    "int32": "integer",
    "int64": "bigint",
    "float32": "real",
    "float64": "double precision",
    "blob": "bytea",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "uuid": "uuid",
    "interval": "interval",
}
