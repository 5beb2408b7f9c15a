"""SQLite, the source dialect: its catalog, the storage-class profile and the batch reader.

``catalog`` opens a file and introspects it into the neutral model (``sqlite3``, row-
shaped, small); ``profile`` counts what each column really holds; ``read`` streams the
data as Arrow batches through ``adbc_driver_sqlite``, with every column's type pinned.
"""

from arrowferry.dialects.facts import ColumnProfile
from arrowferry.dialects.sqlite.catalog import (
    QUICK_CHECK_MAX_BYTES,
    autoincrement_counters,
    check_integrity,
    column_names,
    connect_metadata,
    connect_metadata_ctx,
    introspect,
    is_unresolved,
    relation_names,
)
from arrowferry.dialects.sqlite.profile import (
    date_forms,
    needs_measures,
    needs_profile,
    profile,
    size_limits,
)
from arrowferry.dialects.sqlite.read import (
    CLASS_CODES,
    CLASS_SUFFIX,
    READ_TYPES,
    REAL_SUFFIX,
    ROWID,
    ROWID_ALIASES,
    InvalidText,
    ReadAs,
    bytes_per_row,
    fetch_rows,
    fetch_rows_by_key,
    read_batches,
    read_sql,
    rowid_alias,
    rowid_span,
)
from arrowferry.dialects.sqlite.virtual import virtual_notes

__all__ = [
    "CLASS_CODES",
    "CLASS_SUFFIX",
    "QUICK_CHECK_MAX_BYTES",
    "READ_TYPES",
    "REAL_SUFFIX",
    "ROWID",
    "ROWID_ALIASES",
    "ColumnProfile",
    "InvalidText",
    "ReadAs",
    "autoincrement_counters",
    "bytes_per_row",
    "check_integrity",
    "column_names",
    "connect_metadata",
    "connect_metadata_ctx",
    "date_forms",
    "fetch_rows",
    "fetch_rows_by_key",
    "introspect",
    "is_unresolved",
    "needs_measures",
    "needs_profile",
    "profile",
    "read_batches",
    "read_sql",
    "relation_names",
    "rowid_alias",
    "rowid_span",
    "size_limits",
    "virtual_notes",
]
