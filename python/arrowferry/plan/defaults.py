"""A source column's default as the PostgreSQL default that gives new rows the same value.

SQLite evaluates the default (through the column's affinity: ``TEXT DEFAULT 1e3`` is
the text ``'1000.0'``); the value then takes the column's own conversion, exactly as a
migrated row holding it would, and is written as a literal of the target type. So a
row inserted after the migration equals a row SQLite would have filled and the
migration carried. A default SQLite computes per row is kept only for its clock
(``CURRENT_TIMESTAMP`` and friends, UTC text to the second); anything else, and a value
the column's conversion refuses, raises ValueError for the caller's warning.
"""

from __future__ import annotations

import decimal
from typing import Any

import polars as pl
import pyarrow as pa

from arrowferry.convert import ReadAs, build_conversion
from arrowferry.convert.base import as_arrow_type
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.postgresql import defaults as pgd
from arrowferry.dialects.postgresql.types import to_pg_ddl
from arrowferry.dialects.sqlite import READ_TYPES
from arrowferry.dialects.sqlite.defaults import StoredDefault
from arrowferry.model import Column
from arrowferry.plan.model import ColumnPlan, MigrationPlan, TablePlan
from arrowferry.plan.sides import SourceDefault

# How the reader's exact path reads a value of each storage class, per target kind
_DECIMAL_DIGITS = 76
_TEMPORAL = {"timestamp", "timestamptz", "date", "time"}
_NUMBERS = {"int16", "int32", "int64", "boolean"}


def translate_default(
    table: str,
    source: Column,
    plan: ColumnPlan,
    given: SourceDefault,
    notes: list[str] | None = None,
) -> str | None:
    """The PostgreSQL default for ``source`` travelling as ``plan``; None: no default.

    ``given`` is the default as the source side reads it: a clock, or a value as the
    source stores it. Raises ValueError, saying why, when no default gives new rows the
    same value. A value the conversion interprets (a number in a date column is a julian
    day or epoch seconds, text in a BLOB column its bytes) is kept as interpreted, said
    in ``notes``.
    """
    if given.kind == "clock":
        assert given.clock is not None
        return pgd.clock_default_sql(given.clock, plan.type)
    if given.kind == "expression" and given.storage is None and plan.type.kind == "text":
        from arrowferry.dialects.translate import TranslationError, translate_expression

        try:  # strftime(format, 'now') into text: the same text, code by code
            return translate_expression(given.sql, "sqlite", "postgresql")
        except TranslationError as err:
            raise ValueError(str(err)) from None
    if given.kind != "stored" or given.storage is None:
        raise ValueError(given.reason or "it is not one value PostgreSQL can store")
    stored = StoredDefault(given.storage, given.value, given.text)
    if plan.type.kind == "decimal" and stored.storage in {"integer", "real"}:
        # the exact decimal the reader's numeric path sends: an integer's digits, a
        # REAL's shortest round-trip text (numeric holds 1.5e300 and 4e-320 exactly)
        number = decimal.Decimal(repr(stored.value))
        if number.is_finite():
            return pgd.decimal_literal(number, plan.type)
    try:
        scalar = _converted(table, plan, stored)
    except ValueError:
        raise
    except Exception as err:  # one column's default never stops the planning of the rest
        raise ValueError(f"SQLite stores {_shown(stored)}, which did not convert ({err})") from None
    literal = pgd.default_literal(scalar, plan.type)
    kind = plan.type.kind
    if notes is not None and (
        (kind in _TEMPORAL and stored.storage in {"integer", "real"})
        or (kind == "blob" and stored.storage != "blob")
    ):
        notes.append(
            f"default {source.default} of {table}.{source.name}: SQLite stores "
            f"{_shown(stored)}, which the column's conversion reads as {literal}, as it "
            "reads such values in the data"
        )
    return literal


def refused_default_warning(table: TablePlan, column: str, message: str) -> str:
    """The warning for a translated default the target refused (named as in the source)."""
    source = table.columns[table.column_index(column)].source
    return (
        f"default of {table.source.name}.{source} dropped: PostgreSQL refused "
        f"{table.defaults[column]} ({message})"
    )


def try_on_target(conn: Any, plan: MigrationPlan) -> list[str]:
    """What the target refuses of the plan, tried as the run will try it (writing
    nothing): refused defaults leave the plan, with a warning; a refused CHECK or index
    stays (the run tries it again and leaves it out), with a warning."""
    notes = []
    for table in plan.tables:
        refused = pgd.refused_defaults(conn, table.target, table.defaults)
        notes += [refused_default_warning(table, c, message) for c, message in refused.items()]
        if refused:
            table.defaults = {c: d for c, d in table.defaults.items() if c not in refused}
            table.create_sql = pg.create_table_sql(table.schema, table.target, table.defaults)
        statements = {s.name: s.sql for s in table.finish if s.kind in {"check", "index"}}
        for name, message in pgd.refused_statements(
            conn, table.schema, table.target, statements
        ).items():
            kind = next(s.kind for s in table.finish if s.name == name)
            notes.append(
                f"{'CHECK' if kind == 'check' else 'index'} {name} on {table.source.name} "
                f"will not be created: PostgreSQL refuses it ({message})"
            )
    return notes


def _converted(table: str, plan: ColumnPlan, stored: StoredDefault) -> pa.Scalar:
    """The value as the column's conversion turns it into what the writer sends."""
    read_as, value = _as_read(plan, stored)
    arrow, scale = plan.arrow_type, plan.decimal_scale
    if plan.type.kind == "decimal":  # wide enough for this value, whatever the data needs
        arrow, scale = _decimal_for(value)
    conversion = build_conversion(
        "c0",
        read_as,
        plan.type,
        table=table,
        decimal_scale=scale,
        decimal_digits=getattr(arrow, "precision", 38),
    )
    frame = pl.from_arrow(pa.table({"c0": pa.array([value], READ_TYPES[read_as])}))
    assert isinstance(frame, pl.DataFrame)
    bad = conversion.bad if conversion.bad is not None else pl.lit(False)
    out = frame.select(conversion.value.alias("v"), bad.alias("bad"))
    result = out.get_column("v").to_arrow()
    if out.get_column("bad")[0]:
        recheck = conversion.recheck
        if not (recheck is not None and isinstance(value, str) and recheck(value)):
            raise ValueError(
                f"SQLite stores {_shown(stored)}, which {to_pg_ddl(plan.type)} cannot hold "
                f"exactly ({conversion.reason})"
            )
        result = pa.array([value]).cast(result.type)
    return as_arrow_type(result, arrow)[0]


def _decimal_for(value: object) -> tuple[pa.DataType, int]:
    """A decimal256 with every digit the value has before the point, the rest after it."""
    try:
        number = decimal.Decimal(str(value))
        whole = max(1, number.adjusted() + 1) if number.is_finite() else 1
    except decimal.InvalidOperation:
        whole = 1  # not a number: the conversion says so
    scale = max(0, _DECIMAL_DIGITS - whole)
    return pa.decimal256(_DECIMAL_DIGITS, scale), scale


def _as_read(plan: ColumnPlan, stored: StoredDefault) -> tuple[ReadAs, object]:
    """(read_as, value as read): the exact path the reader takes for this storage class."""
    kind = plan.type.kind
    if stored.storage == "integer" and kind in _NUMBERS | {"float32", "float64"}:
        return ("integer" if kind in _NUMBERS else "real"), stored.value
    if stored.storage == "real" and kind in {"float32", "float64"}:
        return "real", stored.value
    if kind == "decimal" and stored.storage in {"integer", "real"}:
        # as the reader's numeric path: an integer's digits, a REAL's shortest round-trip text
        return "text", repr(stored.value) if stored.storage == "real" else str(stored.value)
    if stored.storage == "blob" and (kind == "blob" or kind == "uuid"):
        return "blob", stored.value
    assert stored.text is not None
    try:
        return "text", stored.text.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"SQLite stores {_shown(stored)}, which is not valid UTF-8 text") from None


def _shown(stored: StoredDefault) -> str:
    value = stored.value
    if isinstance(value, bytes) and stored.storage == "text":
        shown = repr(value.decode("utf-8", errors="replace"))
    elif isinstance(value, bytes):
        shown = f"x'{value.hex()}'"
    else:
        shown = repr(value)
    return f"the {stored.storage} {shown}"
