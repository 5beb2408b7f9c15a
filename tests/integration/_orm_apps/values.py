"""What an application reads back, made comparable across its two databases.

The ORM is the reference: a row is "the same object" when every attribute the ORM hands
back on one side equals the other side's, after one normalisation per kind of value:

- datetimes: aware ones compare as UTC instants. A naive value read from a column the
  application declared with a time zone is UTC (SQLAlchemy's SQLite convention: it
  stores the wall clock and hands it back naive; the copy reads text without an offset
  as UTC). A naive value from a naive column stays naive;
- Decimal by value (``1.50 == 1.5``), UUID as UUID, bytes from ``memoryview`` too;
- floats by their bits, but ``-0.0`` as ``0.0`` (a SQLite REAL column stores an integral
  real as an integer, so it keeps no negative zero), a ``real`` column after rounding
  both sides to float32, which is what the application declared;
- JSON documents: objects by key, numbers as exact Decimals (jsonb prints ``1e16`` as
  ``10000000000000000``, which Python reads back as an int), booleans kept apart from
  the numbers 0 and 1.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Rows = dict[Any, Row]  # by primary key


@dataclass(frozen=True)
class Float:
    """A float compared by its bits (NaN equals NaN), zero of either sign as 0.0."""

    bits: int

    @classmethod
    def of(cls, value: float) -> Float:
        # SQLite's REAL columns keep no -0.0 (an integral real is stored as an integer),
        # so neither side can tell it from 0.0 in every direction
        value = 0.0 if value == 0 else value
        return cls(struct.unpack("<q", struct.pack("<d", value))[0])

    def __repr__(self) -> str:
        return repr(struct.unpack("<d", struct.pack("<q", self.bits))[0])


@dataclass(frozen=True)
class Bool:
    """A JSON boolean, kept apart from the numbers 0 and 1 (``True == 1`` in Python)."""

    value: bool


def float32(value: float) -> float:
    """The float a PostgreSQL ``real`` holds for ``value``."""
    if math.isinf(value) or math.isnan(value):
        return value
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def json_value(value: Any) -> Any:
    """A JSON document with exact numbers and tagged booleans."""
    if isinstance(value, bool):
        return Bool(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def plain(value: Any, *, naive_is_utc: bool = False, real: bool = False) -> Any:
    """One attribute's value, comparable with the other database's (module docstring)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc) if naive_is_utc else value
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Float.of(float32(value) if real else value)
    if isinstance(value, dict | list):
        return json_value(value)
    return value


@contextmanager
def readable(table: str, where: str) -> Iterator[None]:
    """An application that cannot even load its rows fails the test naming the table."""
    try:
        yield
    except Exception as err:
        raise AssertionError(
            f"{table} ({where}): the application cannot read its rows back: "
            f"{type(err).__name__}: {err}"
        ) from err


def differences(
    table: str, expected: Rows, actual: Rows, *, sides: tuple[str, str] = ("SQLite", "PostgreSQL")
) -> list[str]:
    """Every way ``actual`` differs from ``expected``: missing and extra keys, then each
    differing attribute as ``table[key].attr: expected != actual``."""
    out: list[str] = []
    first, second = sides
    for key in sorted(set(expected) - set(actual), key=repr):
        out.append(f"{table}[{key!r}]: in {first}, missing from {second}")
    for key in sorted(set(actual) - set(expected), key=repr):
        out.append(f"{table}[{key!r}]: in {second}, not in {first}")
    for key in sorted(set(expected) & set(actual), key=repr):
        left, right = expected[key], actual[key]
        for name in sorted(set(left) | set(right)):
            a, b = left.get(name, "<no attribute>"), right.get(name, "<no attribute>")
            if not same(a, b):
                out.append(f"{table}[{key!r}].{name}: {first} {a!r} != {second} {b!r}")
    return out


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same kind where Python's ``==`` would mix kinds (1 == 1.0 == True)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def assert_same(
    found: Iterable[str], *, what: str, limit: int = 25, sides: str = "SQLite -> PostgreSQL"
) -> None:
    """Fail listing the first ``limit`` differences (each names table, key, attribute)."""
    found = list(found)
    if found:
        shown = "\n  ".join(found[:limit])
        more = f"\n  ... and {len(found) - limit} more" if len(found) > limit else ""
        raise AssertionError(f"{what} ({sides}): {len(found)} difference(s):\n  {shown}{more}")
