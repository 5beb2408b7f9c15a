"""The transformer of a copy between two databases of one dialect: nothing to convert.

Every value goes as the source stores it (the same dialect declares the same types), so
there is no bad value and no reject; only the batch's column names may need the target's.
It answers the pipeline as :class:`~arrowferry.transfer.transform.Transformer` does.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from arrowferry.plan import TablePlan
from arrowferry.transfer.rejects import RejectedRow


class Passthrough:
    """A copy between databases of one dialect: every value goes as it is stored, so
    there is nothing to convert and no bad value (the counters stay at zero)."""

    schema = None  # the batches say their own types

    def __init__(self, table: TablePlan) -> None:
        self.table = table
        self.rows_read = 0
        self.bad_counts: dict[str, int] = {}
        self.cleaned: dict[str, int] = {}
        self.interpreted: dict[str, dict[str, int]] = {}
        self.examples: dict[str, list[Any]] = {}

    def convert(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[RejectedRow]]:
        self.rows_read += batch.num_rows
        if not self.table.native.rename_batches:
            return batch, []
        return batch.rename_columns([c.target for c in self.table.columns]), []

    def absorb(self, other: Passthrough) -> None:
        self.rows_read += other.rows_read
        other.rows_read = 0

    def conversion_name(self, target: str) -> str:
        return "copied as stored"
