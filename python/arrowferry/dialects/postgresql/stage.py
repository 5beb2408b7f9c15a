"""PostgreSQL: the staging table for columns that no Arrow type carries exactly.

The driver's binary COPY writes numeric only from Arrow decimals (76 digits at most)
and integers; it refuses text and binary ("COPY Writer from Arrow type 'binary' to
PostgreSQL numeric is not implemented"). A numeric column whose values span more
digits (1.5e300 and 4e-320 in one NUMERIC) travels as exact text into a temporary
table, and the server casts it while copying the rows into place, in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from arrowferry.dialects.postgresql.connection import qname
from arrowferry.dialects.sqltext import quote_ident

STAGE_TABLE = "arrowferry_stage"  # temporary: one per session, dropped at commit


def create_stage_sql(schema: str, table: str, columns: Sequence[str], staged: Iterable[str]) -> str:
    """A temporary table shaped like ``columns`` of the target, ``staged`` ones as text."""
    text = set(staged)
    select = ", ".join(
        f"{quote_ident(c)}::text AS {quote_ident(c)}" if c in text else quote_ident(c)
        for c in columns
    )
    return (
        f"CREATE TEMPORARY TABLE {quote_ident(STAGE_TABLE)} ON COMMIT DROP AS "
        f"SELECT {select} FROM {qname(schema, table)} WITH NO DATA"
    )


def insert_from_stage_sql(
    schema: str, table: str, columns: Sequence[str], casts: Mapping[str, str]
) -> str:
    """Move the staged rows into place, casting each staged column to its real type."""
    names = ", ".join(quote_ident(c) for c in columns)
    select = ", ".join(
        f"{quote_ident(c)}::{casts[c]}" if c in casts else quote_ident(c) for c in columns
    )
    # OVERRIDING SYSTEM VALUE: an identity column GENERATED ALWAYS takes the copied
    # values, as COPY gives them (INSERT refuses them without it)
    return (
        f"INSERT INTO {qname(schema, table)} ({names}) OVERRIDING SYSTEM VALUE "
        f"SELECT {select} FROM {quote_ident(STAGE_TABLE)}"
    )


def drop_stage_sql() -> str:
    return f"DROP TABLE {quote_ident(STAGE_TABLE)}"


def ingest_stage(conn: Any, data: pa.RecordBatchReader | pa.Table) -> int:
    """Append into this session's staging table through binary COPY."""
    with conn.cursor() as cur:
        return int(cur.adbc_ingest(STAGE_TABLE, data, mode="append", temporary=True))
