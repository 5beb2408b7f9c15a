"""Write a table's batches to PostgreSQL in one transaction, after the whitelist check."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

import pyarrow as pa

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.postgresql import stage
from arrowferry.errors import RejectedByServer, WriterTypeError


class Capturing:
    """Wraps a batch iterator so the original exception survives the driver's C stream."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self.batches = batches
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.batches
        except BaseException as err:
            self.error = err
            raise


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
    real = pg.column_types(conn, schema, table)
    target = {**real, **{name: "text" for name in staged if name in real}}
    pg.check_arrow_fields(table, arrow_schema, target)

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            # the reader does not hold batches to its declared schema; the writer must
            if batch.schema != arrow_schema:
                pg.check_arrow_fields(table, batch.schema, target)
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
            return pg.ingest(conn, schema, table, reader)
        columns = arrow_schema.names
        pg.execute(conn, stage.create_stage_sql(schema, table, columns, staged))
        rows = stage.ingest_stage(conn, reader)
        casts = {name: real[name] for name in staged if name in real}
        pg.execute(conn, stage.insert_from_stage_sql(schema, table, columns, casts))
        pg.execute(conn, stage.drop_stage_sql())
        return rows
    except BaseException as err:
        if capture.error is not None:
            raise capture.error from None
        where = pg.rejected_column(err)
        if where is not None:
            column, line = where
            raise RejectedByServer(
                f"table {table!r}, column {column!r}: PostgreSQL refused the value in row {line} "
                f"of the load: {pg.driver_message(err)}",
                table=table,
                column=column,
                sqlstate=getattr(err, "sqlstate", None),
            ) from err
        raise
