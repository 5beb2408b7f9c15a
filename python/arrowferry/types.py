"""Logical types <-> each dialect's DDL, SQLite affinity, and user type mappings.

SQLite declared types are free text (``intege``, ``smallint unsigned``, ``text nocase``,
``integer auto_increment`` all occur in the wild), so they are read by SQLite's own
affinity rules (https://www.sqlite.org/datatype3.html#determination_of_column_affinity)
after a few well-known names (BOOLEAN, DATETIME, JSON, UUID...) that affinity would blur.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from arrowferry.errors import BadInputError
from arrowferry.model import DataType

Affinity = Literal["INTEGER", "TEXT", "BLOB", "REAL", "NUMERIC"]

BOOLEAN = DataType("boolean")
INT16 = DataType("int16")
INT32 = DataType("int32")
INT64 = DataType("int64")
FLOAT32 = DataType("float32")
FLOAT64 = DataType("float64")
DECIMAL = DataType("decimal")
TEXT = DataType("text")
BLOB = DataType("blob")
DATE = DataType("date")
TIME = DataType("time")
TIMESTAMP = DataType("timestamp")
TIMESTAMPTZ = DataType("timestamptz")
JSON = DataType("json")
UUID = DataType("uuid")
INTERVAL = DataType("interval")

_PARAMS = re.compile(
    r"^(?P<name>[^(]*)(?:\(\s*(?P<a>[+-]?\d+)\s*(?:,\s*(?P<b>[+-]?\d+)\s*)?\))?(?P<rest>.*)$", re.S
)


@dataclass(frozen=True, slots=True)
class DeclaredType:
    """A declared type split into its name and numeric parameters."""

    name: str
    first: int | None
    second: int | None

    @classmethod
    def parse(cls, declared: str) -> DeclaredType:
        match = _PARAMS.match(declared.strip())
        assert match is not None  # the pattern matches any text
        name = " ".join((match["name"] + " " + match["rest"]).upper().split())
        first = int(match["a"]) if match["a"] else None
        second = int(match["b"]) if match["b"] else None
        return cls(name, first, second)


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
        return _decimal(parsed.first, parsed.second)
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
        return _decimal(parsed.first, parsed.second)
    return None


def _decimal(precision: int | None, scale: int | None) -> DataType:
    if precision is None or not 1 <= precision <= 1000:
        return DECIMAL
    scale = scale or 0
    if not 0 <= scale <= precision:
        return DECIMAL
    return DataType("decimal", precision=precision, scale=scale)


# --- PostgreSQL -------------------------------------------------------------------------

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
        return _decimal(parsed.first, parsed.second)
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


# --- user type mappings -----------------------------------------------------------------


class TypeMappings:
    """User overrides, keyed by declared type (``custom_type``) or ``table.column``.

    A ``table.column`` key wins over a declared-type key; a declared-type key matches
    the whole declared text first (``varchar(10)``), then its name alone (``varchar``).
    Keys compare case-insensitively. Values are target DDL types.
    """

    def __init__(self, mappings: Mapping[str, str] | None = None) -> None:
        self._by_type: dict[str, str] = {}
        self._by_column: dict[tuple[str, str], str] = {}
        self._spelled: dict[str, str] = {}  # normalised key -> the user's spelling
        for key, value in (mappings or {}).items():
            if not value.strip():
                raise BadInputError(f"type mapping {key!r} has an empty target type")
            if "." in key and "(" not in key:
                table, _, column = key.rpartition(".")
                self._by_column[(table.lower(), column.lower())] = value
                self._spelled[f"{table.lower()}.{column.lower()}"] = key
            else:
                self._by_type[_norm(key)] = value
                self._spelled[_norm(key)] = key
        self.used: set[str] = set()

    def lookup(self, table: str, column: str, declared: str) -> str | None:
        """The target DDL the user asked for this column, if any."""
        hit = self._by_column.get((table.lower(), column.lower()))
        if hit is not None:
            self.used.add(f"{table.lower()}.{column.lower()}")
            return hit
        return self.for_type(declared)

    def for_type(self, declared: str) -> str | None:
        """The target DDL the user asked for a declared type, whatever column holds it."""
        for key in (_norm(declared), _norm(DeclaredType.parse(declared).name)):
            if key in self._by_type:
                self.used.add(key)
                return self._by_type[key]
        return None

    def unused(self) -> list[str]:
        """The user's keys (as spelled) that matched no column."""
        return [spelled for key, spelled in self._spelled.items() if key not in self.used]

    def __bool__(self) -> bool:
        return bool(self._by_type or self._by_column)


def _norm(declared: str) -> str:
    return " ".join(declared.lower().replace(" (", "(").split())


def parse_type_map_option(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse CLI ``--type-map key=type`` items into a mapping."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise BadInputError(
                f"--type-map {item!r} is not of the form KEY=TYPE (for example "
                "custom_type=text or orders.total=numeric(12,2))"
            )
        result[key.strip()] = value.strip()
    return result
