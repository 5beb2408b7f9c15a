"""How a kernel fetches its column from a batch as the source's reader hands it over.

SQLite's reads (``dialects/sqlite/read.py``) name column i ``c{i}``, pair a NUMERIC
column read as exact text with its REAL values (``c{i}_r``), and can carry each value's
storage class (``c{i}_k``); the driver fixes a column's Arrow type from its first batch,
so every read is type-checked and a surprise sends the table down the exact path
(:class:`~arrowferry.errors.ReadTypeChanged`). PostgreSQL's reads are positional.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert.column import Read, Reader
from arrowferry.dialects.sqlite import CLASS_SUFFIX, REAL_SUFFIX
from arrowferry.errors import ReadTypeChanged


def sqlite_column(
    table: str, index: int, read_type: pa.DataType, *, numeric: bool, classes: bool
) -> Reader:
    """Column ``index`` of a SQLite read: type-checked, a ``numeric`` pair merged into
    exact text, and with its storage classes when ``classes``."""
    name = f"c{index}"

    def read(batch: pa.RecordBatch) -> Read:
        array = batch.column(name)
        if array.type != read_type:
            raise ReadTypeChanged(table, index, f"read as {array.type}")
        if numeric:
            reals = batch.column(name + REAL_SUFFIX)
            if reals.type != pa.float64():
                raise ReadTypeChanged(table, index, f"REAL part read as {reals.type}")
            # Arrow writes a double with its shortest round-trip text (0.7999999999999999, 1e-25)
            array = pc.coalesce(array, reals.cast(pa.string()))
        if not classes:
            return Read(array)
        codes = batch.column(name + CLASS_SUFFIX)
        if codes.type != pa.int64():
            raise ReadTypeChanged(table, index, f"storage classes read as {codes.type}")
        return Read(array, codes)

    return read


def positional(index: int) -> Reader:
    """Column ``index`` of the batch, as it is."""

    def read(batch: pa.RecordBatch) -> Read:
        return Read(batch.column(index))

    return read
