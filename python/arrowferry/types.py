"""The neutral types' constants, declared-type parsing and user type mappings.

Each dialect's own type map (declared text <-> neutral type) lives in its package:
:mod:`arrowferry.dialects.sqlite.types`, :mod:`arrowferry.dialects.postgresql.types`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from arrowferry.errors import BadInputError
from arrowferry.model import DataType

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


def decimal_type(precision: int | None, scale: int | None) -> DataType:
    if precision is None or not 1 <= precision <= 1000:
        return DECIMAL
    scale = scale or 0
    if not 0 <= scale <= precision:
        return DECIMAL
    return DataType("decimal", precision=precision, scale=scale)


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
