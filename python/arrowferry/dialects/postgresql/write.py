"""PostgreSQL as a target: what exists already, the writer's Arrow whitelist, COPY ingest.

Data goes in through ``adbc_driver_postgresql``'s ``adbc_ingest(mode="append")``, which
streams binary COPY. Binary COPY sends each value in the Arrow field's own width and
PostgreSQL reinterprets whatever bytes arrive (driver-traps.md C3: float64 into bigint,
a 16-character string into uuid, an int64 epoch into timestamp are all silently
accepted), so :func:`check_arrow_fields` holds every field to an exact whitelist for
the target column's real type before a byte is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import pyarrow as pa

from arrowferry.dialects import sqllog
from arrowferry.dialects.base import Capturing
from arrowferry.dialects.postgresql import stage
from arrowferry.dialects.postgresql.connection import driver_message, execute, fetch
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.errors import RejectedByServer, WriterTypeError


def existing_tables(conn: Any, schema: str, names: Iterable[str]) -> list[str]:
    wanted = list(names)
    if not wanted:
        return []
    rows = fetch(
        conn,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        [schema],
    )
    present = {r[0] for r in rows}
    return [n for n in wanted if n in present]


def schema_exists(conn: Any, schema: str) -> bool:
    return bool(fetch(conn, "SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]))


def column_types(conn: Any, schema: str, table: str) -> dict[str, str]:
    """Each column's type exactly as the server knows it (``format_type``)."""
    rows = fetch(
        conn,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [schema, table],
    )
    return {name: typ for name, typ in rows}


# --- the writer's whitelist ----------------------------------------------------------


def accepts(target_type: str, arrow_type: pa.DataType) -> bool:
    """Whether binary COPY of ``arrow_type`` into ``target_type`` stores the same value.

    Exact, per driver-traps.md C2: anything of another width or family is refused,
    because the server would reinterpret its bytes instead of failing.
    """
    dtype = parse_pg_type(target_type)
    kind = dtype.kind
    if kind == "array":
        if not (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)):
            return False
        assert dtype.element is not None
        return accepts(to_pg_ddl(dtype.element), arrow_type.value_type)
    if isinstance(arrow_type, pa.BaseExtensionType):
        name = getattr(arrow_type, "extension_name", "")
        if kind == "json":
            return name == "arrow.json"
        if kind == "uuid":
            return name == "arrow.uuid"
        return False
    check = _WHITELIST.get(kind)
    return bool(check and check(arrow_type))


_WHITELIST: dict[str, Any] = {
    "boolean": pa.types.is_boolean,
    "int16": pa.types.is_int16,
    "int32": pa.types.is_int32,
    "int64": pa.types.is_int64,
    "float32": pa.types.is_float32,
    "float64": pa.types.is_float64,
    "decimal": lambda t: pa.types.is_decimal128(t) or pa.types.is_decimal256(t),
    "text": lambda t: (
        pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    ),
    "blob": lambda t: (
        pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
    ),
    "date": pa.types.is_date32,
    "time": lambda t: t == pa.time64("us"),
    "timestamp": lambda t: t == pa.timestamp("us"),
    "timestamptz": lambda t: t == pa.timestamp("us", tz="UTC"),
    "uuid": lambda t: t == pa.binary(16),
}


def check_arrow_fields(table: str, arrow_schema: pa.Schema, target: dict[str, str]) -> None:
    """Refuse to send any field whose Arrow type the target column would misread."""
    for field in arrow_schema:
        if field.name not in target:
            raise WriterTypeError(
                f"table {table!r}: the data has a column {field.name!r} that the target table lacks",
                table=table,
                column=field.name,
                arrow_type=str(field.type),
                target="(missing)",
            )
        if not accepts(target[field.name], field.type):
            raise WriterTypeError(
                f"table {table!r}, column {field.name!r}: refusing to send Arrow {field.type} into "
                f"PostgreSQL {target[field.name]}: binary COPY would store reinterpreted bytes, "
                "not the value",
                table=table,
                column=field.name,
                arrow_type=str(field.type),
                target=target[field.name],
            )


_COPY_CONTEXT = re.compile(r"COPY (?P<table>.+?), line (?P<line>\d+), column (?P<column>[^:\n]+)")


def rejected_column(err: BaseException) -> tuple[str, int] | None:
    """(column, line) of a value the server refused during COPY, from the error's CONTEXT."""
    match = _COPY_CONTEXT.search(str(err))
    if match is None:
        return None
    return match["column"].strip(), int(match["line"])


def ingest(conn: Any, schema: str, table: str, data: pa.RecordBatchReader | pa.Table) -> int:
    """Append through binary COPY in the connection's current transaction."""
    sqllog.copy_in("postgresql", schema, table)
    with conn.cursor() as cur:
        return int(cur.adbc_ingest(table, data, mode="append", db_schema_name=schema))


# --- introspection -------------------------------------------------------------------


def write_table(
    conn: Any,
    schema: str,
    table: str,
    arrow_schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    on_batch: Callable[[int], None] | None = None,
    staged: Collection[str] = (),
) -> int:
    """Stream ``batches`` into ``schema.table`` through binary COPY.

    The caller owns the transaction. Every field is checked against the column's
    real type first (the table may predate this run, as with data_only). ``staged``
    columns arrive as exact text that the server casts (``dialects.postgresql.stage``).
    """
    real = column_types(conn, schema, table)
    target = {**real, **{name: "text" for name in staged if name in real}}
    check_arrow_fields(table, arrow_schema, target)

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            # the reader does not hold batches to its declared schema; the writer must
            if batch.schema != arrow_schema:
                check_arrow_fields(table, batch.schema, target)
                raise WriterTypeError(
                    f"table {table!r}: a batch does not match the checked schema "
                    f"({batch.schema.to_string(show_schema_metadata=False)!r})",
                    table=table,
                    column="",
                    arrow_type=str(batch.schema),
                    target=str(target),
                )
            if on_batch is not None:
                on_batch(batch.num_rows)
            yield batch

    capture = Capturing(counted())
    reader = pa.RecordBatchReader.from_batches(arrow_schema, iter(capture))
    try:
        if not staged:
            return ingest(conn, schema, table, reader)
        columns = arrow_schema.names
        execute(conn, stage.create_stage_sql(schema, table, columns, staged))
        rows = stage.ingest_stage(conn, reader)
        casts = {name: real[name] for name in staged if name in real}
        execute(conn, stage.insert_from_stage_sql(schema, table, columns, casts))
        execute(conn, stage.drop_stage_sql())
        return rows
    except BaseException as err:
        if capture.error is not None:
            raise capture.error from None
        where = rejected_column(err)
        if where is not None:
            column, line = where
            raise RejectedByServer(
                f"table {table!r}, column {column!r}: PostgreSQL refused the value in row {line} "
                f"of the load: {driver_message(err)}",
                table=table,
                column=column,
                sqlstate=getattr(err, "sqlstate", None),
            ) from err
        raise
