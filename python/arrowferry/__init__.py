"""arrowferry: move whole databases between SQLite and PostgreSQL, fast and exactly.

>>> import arrowferry as af
>>> result = af.migrate("sqlite:///app.sqlite", "postgresql://me@db/app")  # doctest: +SKIP
"""

from __future__ import annotations

from arrowferry.api import (
    Migration,
    MigrationConfig,
    create_migration_manager,
    inspect_schema,
    map_type,
    migrate,
    migrate_table,
)
from arrowferry.errors import (
    ArrowferryError,
    BadInputError,
    ConnectError,
    ConversionError,
    SchemaError,
    SourceError,
    TargetExistsError,
    TransferError,
    UnsafeChangeError,
    UnsupportedTypeError,
    VerificationError,
    WriterTypeError,
)
from arrowferry.model import Column, DataType, ForeignKey, Index, Schema, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan import MigrationPlan
from arrowferry.result import MigrationError, MigrationResult, TableResult
from arrowferry.urls import Endpoint

__version__ = "0.1.0"

__all__ = [
    "ArrowferryError",
    "BadInputError",
    "Column",
    "ConnectError",
    "ConversionError",
    "DataType",
    "Endpoint",
    "ForeignKey",
    "Index",
    "Migration",
    "MigrationConfig",
    "MigrationError",
    "MigrationOptions",
    "MigrationPlan",
    "MigrationResult",
    "Schema",
    "SchemaError",
    "SourceError",
    "Table",
    "TableResult",
    "TargetExistsError",
    "TransferError",
    "UnsafeChangeError",
    "UnsupportedTypeError",
    "VerificationError",
    "WriterTypeError",
    "__version__",
    "create_migration_manager",
    "inspect_schema",
    "map_type",
    "migrate",
    "migrate_table",
]
