"""arrowferry: move whole databases between SQLite and PostgreSQL, fast and exactly.

>>> import arrowferry as af
>>> result = af.migrate("sqlite:///app.sqlite", "postgresql://me@db/app")  # doctest: +SKIP

The public names are resolved on first use (PEP 562): ``import arrowferry`` loads none
of pyarrow, polars, numpy or the ADBC drivers, so the command line answers ``--help``
and ``--version`` without paying for them.
"""

from __future__ import annotations

import importlib
import sys
import types as _types  # `types` is a submodule's name here
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arrowferry.api import (
        Migration,
        MigrationConfig,
        compare_schemas,
        create_migration_manager,
        inspect_schema,
        map_type,
        migrate,
        migrate_table,
        sync_schema,
    )
    from arrowferry.dialects.changes import SyncStatement
    from arrowferry.diff import Difference, SchemaComparison
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
    from arrowferry.progress_events import MigrationProgress, ProgressCallbackError
    from arrowferry.result import MigrationError, MigrationResult, TableResult
    from arrowferry.sync import SyncResult
    from arrowferry.urls import Endpoint
    from arrowferry.verify import VerificationReport, verify

__version__ = "0.1.0"

__all__ = [
    "ArrowferryError",
    "BadInputError",
    "Column",
    "ConnectError",
    "ConversionError",
    "DataType",
    "Difference",
    "Endpoint",
    "ForeignKey",
    "Index",
    "Migration",
    "MigrationConfig",
    "MigrationError",
    "MigrationOptions",
    "MigrationPlan",
    "MigrationProgress",
    "MigrationResult",
    "ProgressCallbackError",
    "Schema",
    "SchemaComparison",
    "SchemaError",
    "SourceError",
    "SyncResult",
    "SyncStatement",
    "Table",
    "TableResult",
    "TargetExistsError",
    "TransferError",
    "UnsafeChangeError",
    "UnsupportedTypeError",
    "VerificationError",
    "VerificationReport",
    "WriterTypeError",
    "__version__",
    "compare_schemas",
    "create_migration_manager",
    "inspect_schema",
    "map_type",
    "migrate",
    "migrate_table",
    "sync_schema",
    "verify",
]

# Every public name and the submodule that defines it; must agree with the
# TYPE_CHECKING imports above (tests/unit/test_import_cost.py checks both ways).
_SUBMODULE_OF: dict[str, str] = {
    **dict.fromkeys(
        (
            "Migration",
            "MigrationConfig",
            "compare_schemas",
            "create_migration_manager",
            "inspect_schema",
            "map_type",
            "migrate",
            "migrate_table",
            "sync_schema",
        ),
        "arrowferry.api",
    ),
    **dict.fromkeys(
        (
            "ArrowferryError",
            "BadInputError",
            "ConnectError",
            "ConversionError",
            "SchemaError",
            "SourceError",
            "TargetExistsError",
            "TransferError",
            "UnsafeChangeError",
            "UnsupportedTypeError",
            "VerificationError",
            "WriterTypeError",
        ),
        "arrowferry.errors",
    ),
    **dict.fromkeys(
        ("Column", "DataType", "ForeignKey", "Index", "Schema", "Table"), "arrowferry.model"
    ),
    **dict.fromkeys(("Difference", "SchemaComparison"), "arrowferry.diff"),
    "MigrationOptions": "arrowferry.options",
    "MigrationPlan": "arrowferry.plan",
    **dict.fromkeys(("MigrationProgress", "ProgressCallbackError"), "arrowferry.progress_events"),
    **dict.fromkeys(("MigrationError", "MigrationResult", "TableResult"), "arrowferry.result"),
    "Endpoint": "arrowferry.urls",
    "SyncResult": "arrowferry.sync",
    "SyncStatement": "arrowferry.dialects.changes",
    **dict.fromkeys(("VerificationReport", "verify"), "arrowferry.verify"),
}


def _resolve(name: str) -> Any:
    """Import a public name's submodule on first access, then keep the name here."""
    try:
        submodule = _SUBMODULE_OF[name]
    except KeyError:
        # AttributeError, not KeyError: ``from arrowferry import embedded`` relies on it
        # to fall back to importing the submodule, and hasattr() on it to say False
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(submodule), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The public names too, before their first use (for completion and help())."""
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """``arrowferry.verify`` names a submodule and the function it defines. Importing the
    submodule makes Python set the package's attribute to the module; the facade keeps
    the function there instead (``sys.modules`` still holds the module)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "verify" and isinstance(value, _types.ModuleType):
            value = value.verify
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if not TYPE_CHECKING:
    # Hidden from type checkers: a visible module __getattr__ makes mypy accept any
    # attribute of arrowferry as Any, so a typo such as ``af.migrat`` would pass.
    __getattr__ = _resolve
