"""What a reject reason suggests: the option that would keep the value.

A user reading ``not an integer`` in a reject file wants to know what to pass instead;
the answer names the CLI flag (the keyword of the same name, :func:`arrowferry.options.flag`).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from arrowferry import decimals
from arrowferry.options import flag, type_map_hint


def remedy(
    table: str,
    column: str,
    ddl: str,
    *,
    cleaning: str | None,
    value: Any,
    fixed: str | None = None,
) -> str:
    """The sentence that follows a reason: how to keep this value.

    ``cleaning``: the option that cleans such a value instead (``strip_nul``,
    ``replace_invalid_utf8``), when one does. ``fixed``: the target column the value
    lands in, when its type is not arrowferry's to choose (a data-only run into a table
    someone else made).
    """
    if cleaning == "strip_nul":
        return f"{flag(cleaning)} drops the NUL bytes"
    keep = keeping_type(value)
    if keep == ddl:  # the type holds such values: this one is not of them
        keep = "text"
    if fixed is not None:
        return (
            f"the target column {fixed} ({ddl}) would need a type that holds it, such as "
            f"{keep}; or fix the value in the source"
        )
    if cleaning == "replace_invalid_utf8":
        return (
            f"{flag(cleaning)} replaces the bad bytes with U+FFFD, or "
            f"{type_map_hint(table, column, 'bytea')} keeps the bytes"
        )
    return f"{type_map_hint(table, column, keep)} would keep it"


def sqlite_remedy(table: str, column: str, kernel: str) -> str:
    """What keeps a PostgreSQL value SQLite cannot store as planned ("" when nothing does:
    SQLite has no NaN, and a REAL column turns one into NULL)."""
    if kernel == "numeric_text":
        return f"; {type_map_hint(table, column, 'TEXT')} would keep every digit"
    return ""


def keeping_type(value: Any) -> str:
    """The PostgreSQL type that holds ``value`` as SQLite stores it, exactly."""
    if isinstance(value, bytes | bytearray):
        return "bytea"
    if isinstance(value, bool):
        return "text"
    if isinstance(value, int | Decimal):
        return "numeric"
    if isinstance(value, float):
        return "numeric" if math.isfinite(value) else "double precision"
    if isinstance(value, str) and _is_number(value):
        return "numeric"
    return "text"


def _is_number(text: str) -> bool:
    # the literals PostgreSQL's numeric reads ('1_000' and '١٢' are not among them)
    return decimals.parse(text) is not None
