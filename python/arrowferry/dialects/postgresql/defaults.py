"""PostgreSQL column defaults: a value as a typed literal, and SQLite's clock as SQL.

A default is written as the value a migrated row holding SQLite's default would hold,
typed for its column, so PostgreSQL stores exactly that (``'1000.0'``, not ``'1e3'``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyarrow as pa

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.postgresql.types import to_pg_ddl
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import DataType, Table

_NOW_UTC = "(now() AT TIME ZONE 'UTC')"

# SQLite's clock writes UTC text to the second ('2024-01-02 03:04:05', '2024-01-02',
# '03:04:05'); each form as the column's conversion would store that text
_CLOCK: dict[tuple[str, str], str] = {
    ("timestamp", "timestamp"): f"date_trunc('second', {_NOW_UTC})",
    ("timestamp", "timestamptz"): "date_trunc('second', CURRENT_TIMESTAMP)",
    ("timestamp", "text"): f"to_char({_NOW_UTC}, 'YYYY-MM-DD HH24:MI:SS')",
    ("date", "date"): f"({_NOW_UTC})::date",
    ("date", "timestamp"): f"date_trunc('day', {_NOW_UTC})",
    ("date", "timestamptz"): f"(date_trunc('day', {_NOW_UTC}) AT TIME ZONE 'UTC')",
    ("date", "text"): f"to_char({_NOW_UTC}, 'YYYY-MM-DD')",
    ("time", "time"): f"(date_trunc('second', {_NOW_UTC}))::time",
    ("time", "text"): f"to_char({_NOW_UTC}, 'HH24:MI:SS')",
}


# Unix seconds, whole (SQLite's strftime('%s', 'now') and unixepoch() truncate)
_EPOCH = "floor(extract(epoch FROM now()))::bigint"
_GENERATED: dict[tuple[str, str], str] = {
    **{("epoch", k): _EPOCH for k in ("int16", "int32", "int64")},
    ("epoch", "decimal"): f"{_EPOCH}::numeric",
    ("epoch", "float64"): f"{_EPOCH}::double precision",
    ("epoch", "text"): f"{_EPOCH}::text",
    ("julianday", "float64"): "extract(epoch FROM now())::double precision / 86400 + 2440587.5",
    ("uuid4", "uuid"): "gen_random_uuid()",
    ("uuid4", "text"): "gen_random_uuid()::text",
}


def _random_hex(count: int) -> str:
    """2 x ``count`` random lower-case hex digits: the first 12 of each UUID v4 are all
    random (its version and variant digits come later), so every bit is random."""
    pieces = -(-2 * count // 12)
    one = "substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)"
    return f"substr({' || '.join([one] * pieces)}, 1, {2 * count})"


def _random_sql(what: str, kind: str) -> str | None:
    _, count, form = what.split(":")
    digits = _random_hex(int(count))
    if form == "blob" and kind == "blob":
        return f"decode({digits}, 'hex')"
    if form != "blob" and kind == "text":
        return digits if form == "lower" else f"upper({digits})"
    return None


def clock_default_sql(what: str, dtype: DataType) -> str:
    """SQLite's CURRENT_TIMESTAMP / CURRENT_DATE / CURRENT_TIME for a column of ``dtype``,
    or another per-row default it computes alike (``sqlite.defaults.clock_default``:
    Unix seconds, the Julian day, random bytes; gen_random_uuid() needs PostgreSQL 13).

    Raises ValueError when the column's values could not hold SQLite's value.
    """
    if what.startswith("random:"):
        found = _random_sql(what, dtype.kind)
        if found is None:
            raise ValueError(
                f"SQLite's random bytes cannot land in a {to_pg_ddl(dtype)} column alike"
            )
        return found
    if (what, dtype.kind) in _GENERATED:
        return _GENERATED[(what, dtype.kind)]
    if what == "uuid4":
        raise ValueError(f"a random UUID's text cannot land in a {to_pg_ddl(dtype)} column alike")
    if what in {"epoch", "julianday"}:
        raise ValueError(
            f"SQLite's {what} reading is a number, which a {to_pg_ddl(dtype)} column would "
            "take otherwise"
        )
    sql = _CLOCK.get((what, dtype.kind))
    if sql is None:
        raise ValueError(
            f"SQLite writes the current {what} as text, which a {to_pg_ddl(dtype)} "
            "column cannot hold"
        )
    return sql


def default_literal(scalar: pa.Scalar, dtype: DataType) -> str | None:
    """A converted value (the Arrow scalar the writer would send) as a literal of the
    column's type; None for NULL. Raises ValueError when it has no literal form here.
    """
    if not scalar.is_valid:
        return None
    if pa.types.is_timestamp(scalar.type) or pa.types.is_date32(scalar.type):
        try:
            value = scalar.as_py()
        except (ValueError, OverflowError):  # before year 1: Python's datetime stops there
            count = scalar.cast(pa.int64() if pa.types.is_timestamp(scalar.type) else pa.int32())
            raw = int(count.as_py())
            return _bc_literal(raw, dtype)
    else:
        value = scalar.as_py()
    return _literal(value, dtype)


def _literal(value: Any, dtype: DataType) -> str:
    ddl = to_pg_ddl(dtype)
    kind = dtype.kind
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = "NaN" if math.isnan(value) else repr(value).replace("inf", "Infinity")
        return f"{quote(text)}::{ddl}"
    if isinstance(value, decimal.Decimal):
        return f"{quote(_plain_decimal(value))}::{ddl}"
    if isinstance(value, uuid.UUID):
        return f"{quote(str(value))}::uuid"
    if isinstance(value, bytes) and kind == "blob":
        return f"'\\x{value.hex()}'::bytea"
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("it holds a NUL character, which PostgreSQL text cannot hold")
        return quote(value) if kind == "text" else f"{quote(value)}::{ddl}"
    if isinstance(value, dt.datetime):  # naive: the wall clock; aware: UTC
        text = value.replace(tzinfo=None).isoformat(sep=" ")
        return f"{quote(text + ('+00' if value.tzinfo else ''))}::{ddl}"
    if isinstance(value, (dt.date, dt.time)):
        return f"{quote(value.isoformat())}::{ddl}"
    raise ValueError(f"a {ddl} value has no literal form here")


def decimal_literal(value: decimal.Decimal, dtype: DataType) -> str:
    return f"{quote(_plain_decimal(value))}::{to_pg_ddl(dtype)}"


def _bc_literal(count: int, dtype: DataType) -> str:
    """A date (days) or timestamp (microseconds) since 1970-01-01 that lies before year 1."""
    days, rest = (count, 0) if dtype.kind == "date" else divmod(count, 86_400_000_000)
    year, month, day = _civil_from_days(days)
    text = f"{1 - year:04}-{month:02}-{day:02}"  # year 0 is 1 BC
    if dtype.kind != "date":
        seconds, fraction = divmod(rest, 1_000_000)
        text += f" {seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}.{fraction:06}"
        text += "+00" if dtype.kind == "timestamptz" else ""
    return f"{quote(text + ' BC')}::{to_pg_ddl(dtype)}"


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a day count from 1970-01-01; year 0 is 1 BC.

    Howard Hinnant's algorithm (http://howardhinnant.github.io/date_algorithms.html).
    """
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _plain_decimal(value: decimal.Decimal) -> str:
    """Positional text without trailing fraction zeros (``1000``, ``0.0001``), never ``1E+3``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- trying defaults, CHECKs and indexes on the server --------------------------------
#
# On an empty temporary table of the same columns, in transactions rolled back, on a
# connection in autocommit: the ADBC driver refuses a savepoint's rollback inside a
# transaction it manages, and the load's own transaction must never meet an error.


def refused_defaults(conn: Any, table: Table, defaults: Mapping[str, str]) -> dict[str, str]:
    """The defaults the server refuses for their columns, with its reason (nothing is kept).

    Each is set on its column and used by an INSERT, as a new row would use it: the
    column definition needs an assignment cast (``boolean DEFAULT 1`` is refused there)
    and the value must fit (``varchar(3) DEFAULT 'abcd'`` fails only on insert). One
    transaction when all pass; then one per default, to name each it refuses.
    """
    if not defaults:
        return {}
    loose = _loose(table)
    bare = pg.create_table_sql("pg_temp", loose, {})
    if _refused(conn, ["BEGIN", bare, "ROLLBACK"]) is not None:
        return _refused_casts(conn, table, defaults)  # no temporary table (no TEMP right)
    insert = f"INSERT INTO {pg.qname('pg_temp', table.name)} DEFAULT VALUES"
    whole = pg.create_table_sql("pg_temp", loose, dict(defaults))
    if _refused(conn, ["BEGIN", whole, insert, "ROLLBACK"]) is None:
        return {}
    refused = {}
    for column, sql in defaults.items():
        alter = (
            f"ALTER TABLE {pg.qname('pg_temp', table.name)} ALTER COLUMN "
            f"{quote_ident(column)} SET DEFAULT {sql}"
        )
        error = _refused(conn, ["BEGIN", bare, alter, insert, "ROLLBACK"])
        if error is not None:
            refused[column] = error
    return refused


def refused_statements(
    conn: Any, schema: str, table: Table, statements: Mapping[str, str]
) -> dict[str, str]:
    """Which of a table's CHECK / index statements (by name) the server refuses, and why:
    each is run against an empty temporary table of the same columns, then rolled back."""
    if not statements:
        return {}
    target = pg.qname(schema, table.name)
    bare = pg.create_table_sql("pg_temp", _loose(table), {})
    if _refused(conn, ["BEGIN", bare, "ROLLBACK"]) is not None:
        return {}  # no temporary table here: the run will say
    refused = {}
    for name, sql in statements.items():
        trial = sql.replace(target, pg.qname("pg_temp", table.name))
        error = _refused(conn, ["BEGIN", bare, trial, "ROLLBACK"])
        if error is not None:
            refused[name] = error
    return refused


def _loose(table: Table) -> Table:
    """The table with every column nullable: an INSERT of defaults only must not fail on
    a column that has none."""
    return replace(table, columns=tuple(replace(c, nullable=True) for c in table.columns))


def _refused_casts(conn: Any, table: Table, defaults: Mapping[str, str]) -> dict[str, str]:
    types = {c.name: to_pg_ddl(c.type) for c in table.columns}
    refused = {}
    for column, sql in defaults.items():
        error = _refused(conn, [f"SELECT CAST(({sql}) AS {types[column]})"])
        if error is not None:
            refused[column] = error
    return refused


def _refused(conn: Any, statements: list[str]) -> str | None:
    """None when every statement runs; else the server's message (and a rollback)."""
    try:
        for sql in statements:
            pg.execute(conn, sql)
    except Exception as err:
        with contextlib.suppress(Exception):
            pg.execute(conn, "ROLLBACK")
        return pg.driver_message(err)
    return None
