"""SQLite's type map: declared text <-> neutral type, and the affinity rules.

SQLite declared types are free text (``intege``, ``smallint unsigned``, ``text nocase``,
``integer auto_increment`` all occur in the wild), so they are read by SQLite's own
affinity rules (https://www.sqlite.org/datatype3.html#determination_of_column_affinity)
after a few well-known names (BOOLEAN, DATETIME, JSON, UUID...) that affinity would blur.
"""

from __future__ import annotations

from typing import Literal

from arrowferry.model import DataType
from arrowferry.types import (
    BLOB,
    BOOLEAN,
    DATE,
    FLOAT64,
    INT64,
    JSON,
    TEXT,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    UUID,
    DeclaredType,
    decimal_type,
)

Affinity = Literal["INTEGER", "TEXT", "BLOB", "REAL", "NUMERIC"]


def sqlite_affinity(declared: str) -> Affinity:
    """SQLite's column affinity for a declared type, by the five documented rules."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "REAL"
    return "NUMERIC"


_DECIMAL_NAMES = {"NUMERIC", "DECIMAL", "NUMBER", "MONEY", "CURRENCY", "SMALLMONEY", "DEC"}
_TEXT_NAMES = {"STRING", "VARCHAR2", "NVARCHAR2", "CITEXT", "ENUM", "SET"}


def from_sqlite_declared(declared: str) -> DataType | None:
    """The logical type of a SQLite declared type, or None when only the data can tell.

    None is returned for an empty declared type (BLOB affinity: values keep their
    storage class) and for unknown names with NUMERIC affinity (``STRING``-like typos
    are common, and their values are often text): the caller decides from the
    column's storage-class profile.
    """
    parsed = DeclaredType.parse(declared)
    name = parsed.name
    words = set(name.replace("_", " ").split())
    if "BOOL" in name:
        return BOOLEAN
    if "TIMESTAMPTZ" in name or ("TIMESTAMP" in name and "WITH TIME ZONE" in name):
        return TIMESTAMPTZ
    if "DATETIME" in name or name.startswith("TIMESTAMP"):
        return TIMESTAMP
    if name == "DATE":
        return DATE
    if name in {"TIME", "TIME WITHOUT TIME ZONE"}:
        return TIME
    if words & {"JSON", "JSONB"}:
        return JSON
    if words & {"UUID", "GUID", "UNIQUEIDENTIFIER"}:
        return UUID
    if name in _TEXT_NAMES:
        return TEXT
    if "TEXT" in words and words & _DECIMAL_NAMES:  # DECIMAL_TEXT(p,s): digits kept as text
        return decimal_type(parsed.first, parsed.second)
    affinity = sqlite_affinity(declared)
    if affinity == "INTEGER":
        return INT64  # SQLite integers are 64-bit whatever the declared width
    if affinity == "TEXT":
        if ("CHAR" in name) and parsed.first is not None and parsed.first > 0:
            return DataType("text", length=parsed.first)
        return TEXT
    if affinity == "REAL":
        return FLOAT64
    if affinity == "BLOB":
        return BLOB if "BLOB" in name else None
    if name.split()[0] in _DECIMAL_NAMES:
        return decimal_type(parsed.first, parsed.second)
    return None


def to_sqlite_ddl(dtype: DataType) -> str:
    """The SQLite declared type that keeps a logical type recognisable on the way back."""
    kind = dtype.kind
    if kind == "decimal":
        if dtype.precision is None:
            return "NUMERIC"
        return f"NUMERIC({dtype.precision},{dtype.scale or 0})"
    if kind == "text":
        return f"VARCHAR({dtype.length})" if dtype.length else "TEXT"
    return _SQLITE_DDL.get(kind, "TEXT")


_SQLITE_DDL = {
    "boolean": "BOOLEAN",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "INTEGER",
    "float32": "REAL",
    "float64": "REAL",
    "blob": "BLOB",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "DATETIME",
    "timestamptz": "TIMESTAMPTZ",
    # TEXT affinity: a JSON document that is a bare number must not become a number
    "json": "JSON TEXT",
    "uuid": "UUID",
    "interval": "TEXT",
    "array": "JSON TEXT",
}
