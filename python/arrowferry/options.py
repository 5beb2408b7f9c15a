"""Options of a migration: the same names as keyword arguments and CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from arrowferry.errors import BadInputError

OnBadValue = Literal["reject", "null", "fail"]
SizeLimits = Literal["widen", "enforce"]


@dataclass(frozen=True)
class MigrationOptions:
    """What to migrate and how.

    Parameters
    ----------
    schema_only
        Create tables, keys, indexes and views; copy no rows.
    data_only
        Copy rows into tables that already exist in the target; create nothing.
    batch_size
        Rows per Arrow batch read from the source, at most; memory is bounded by it.
    batch_bytes
        Arrow bytes per batch, at most: tables with wide rows (measured on a sample of
        1,000 rows) are read in batches of fewer rows.
    workers
        Tables loaded in parallel, each on its own connections (None: one per core, at most 4).
    lanes
        COPY connections loading one large table at once, each reading and converting
        its own rowid ranges (None: as many as ``workers``; 1 loads every table in a
        single transaction).
    drop_tables
        Drop target tables of the same names first (with CASCADE).
    continue_on_error
        Keep migrating other tables when one fails; the failed table is rolled back.
    dry_run
        Build and return the full plan; connect read-only and write nothing.
    include_tables, exclude_tables
        Table names or glob patterns (``tmp_*``); excludes win.
    type_mappings
        Target types by declared type (``{"custom_type": "text"}``) or by
        ``table.column`` (``{"orders.total": "numeric(12,2)"}``).
    on_bad_value
        A value that cannot be stored exactly: ``"reject"`` (default) sends its whole
        row to ``<reject_dir>/<table>.jsonl`` and goes on; ``"null"`` stores NULL
        instead; ``"fail"`` stops the table at the first one, naming table, column,
        row and value. Every case is counted in the result.
    size_limits
        Declared sizes SQLite never enforced (``varchar(n)``, ``numeric(p,s)``):
        ``"widen"`` (default) gives a column the size its data needs (``text``; the
        precision its integer digits need once rounded to the scale, which stays),
        with a warning naming the column and the count; ``"enforce"`` keeps every
        declared size and sends what does not fit through ``on_bad_value``. A size
        chosen with ``type_mappings`` is always enforced.
    reject_dir
        Where reject files go (created only when a row is rejected).
    strip_nul, replace_invalid_utf8
        Clean text instead of rejecting it: drop NUL bytes, replace invalid UTF-8
        with U+FFFD. Each cleaned value is counted in the ledger.
    target_schema
        PostgreSQL schema to create the tables in (PostgreSQL targets).
    source_schema
        PostgreSQL schema to read the tables from (PostgreSQL sources).
    create_views
        Translate the source's views with sqlglot and create those that translate.
    verbose
        Report each statement as it runs.
    """

    schema_only: bool = False
    data_only: bool = False
    batch_size: int = 65_536
    batch_bytes: int = 3 * 1024 * 1024
    workers: int | None = None
    lanes: int | None = None
    drop_tables: bool = False
    continue_on_error: bool = False
    dry_run: bool = False
    include_tables: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()
    type_mappings: Mapping[str, str] = field(default_factory=dict)
    on_bad_value: OnBadValue = "reject"
    size_limits: SizeLimits = "widen"
    reject_dir: str = "arrowferry-rejects"
    strip_nul: bool = False
    replace_invalid_utf8: bool = False
    target_schema: str = "public"
    source_schema: str = "public"
    create_views: bool = True
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.schema_only and self.data_only:
            raise BadInputError("schema_only and data_only cannot both be set")
        if self.batch_size < 1:
            raise BadInputError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.batch_bytes < 1:
            raise BadInputError(f"batch_bytes must be at least 1, not {self.batch_bytes}")
        if self.workers is not None and self.workers < 1:
            raise BadInputError(f"workers must be at least 1, not {self.workers}")
        if self.lanes is not None and self.lanes < 1:
            raise BadInputError(f"lanes must be at least 1, not {self.lanes}")
        if self.on_bad_value not in ("reject", "null", "fail"):
            raise BadInputError(
                f"on_bad_value must be 'reject', 'null' or 'fail', not {self.on_bad_value!r}"
            )
        if self.size_limits not in ("widen", "enforce"):
            raise BadInputError(
                f"size_limits must be 'widen' or 'enforce', not {self.size_limits!r}"
            )
        object.__setattr__(self, "reject_dir", str(self.reject_dir))
        if not self.target_schema or not self.source_schema:
            raise BadInputError("target_schema and source_schema must not be empty")
        for name in ("include_tables", "exclude_tables"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))

    @property
    def parallelism(self) -> int:
        return self.workers or max(1, min(4, os.cpu_count() or 1))

    @property
    def lane_count(self) -> int:
        return self.lanes or self.parallelism

    @classmethod
    def from_kwargs(
        cls, options: MigrationOptions | None = None, **kwargs: Any
    ) -> MigrationOptions:
        """Options from keyword arguments, rejecting unknown names with a clear error."""
        base = options or cls()
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise BadInputError(
                f"unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}"
            )
        return replace(base, **kwargs) if kwargs else base


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
