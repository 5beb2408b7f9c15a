"""The schema half of the facade: look at a database's schema, map one declared type,
compare two schemas (SQLite and PostgreSQL, in any pair). Re-exported by
:mod:`arrowferry.api`; no SQL text and no driver here: each dialect introspects itself."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from arrowferry import faults
from arrowferry.api import UrlLike, _endpoint
from arrowferry.dialects.base import dialect_for, dialect_named
from arrowferry.errors import BadInputError
from arrowferry.model import Schema
from arrowferry.plan.identifiers import rename_schema
from arrowferry.types import TEXT, TypeMappings

if TYPE_CHECKING:
    from arrowferry.diff import SchemaComparison


def inspect_schema(url: UrlLike, *, schema: str = "public") -> Schema:
    """The neutral schema of a SQLite file or a PostgreSQL schema.

    Examples
    --------
    >>> s = inspect_schema("examples/chinook.sqlite")
    >>> s.table("Album").primary_key.columns
    ('AlbumId',)
    """
    endpoint = _endpoint(url)
    began = time.monotonic()  # a server restarted under the read: read again
    return faults.again_if_lost(
        lambda: dialect_for(endpoint).introspect(endpoint, schema),
        since=began,
        doing="while the schema was read",
    )


def map_type(
    type: str,
    source_dialect: str = "sqlite",
    target_dialect: str = "postgresql",
    *,
    type_mappings: Mapping[str, str] | None = None,
) -> str:
    """The target DDL type for a declared source type.

    ``type_mappings`` keys match as in a migration: case-insensitively, the whole
    declared text first (``varchar(10)``), then its name alone (``varchar``).

    Examples
    --------
    >>> map_type("NVARCHAR(40)")
    'varchar(40)'
    >>> map_type("integer auto_increment")
    'bigint'
    >>> map_type("character varying(40)", "postgresql", "sqlite")
    'VARCHAR(40)'
    >>> map_type("NVARCHAR(40)", type_mappings={"nvarchar": "text"})
    'text'
    """
    chosen = TypeMappings(type_mappings).for_type(type)
    if chosen is not None:
        return chosen
    source, target = dialect_named(source_dialect), dialect_named(target_dialect)
    if source is target:
        return type  # the same database keeps every type as declared
    dtype = source.parse_type(type)
    return target.type_ddl(dtype if dtype is not None else TEXT)


def compare_schemas(
    a: UrlLike | Schema,
    b: UrlLike | Schema,
    *,
    renames: Mapping[str, str] | None = None,
    a_schema: str | None = None,
    b_schema: str | None = None,
    identifiers: str = "quote",
) -> SchemaComparison:
    """How schema ``b`` differs from schema ``a``, in any pair of SQLite and PostgreSQL.

    ``a`` is the desired state (the model) and ``b`` the database compared with it.
    Types are compared after mapping through arrowferry's neutral types (SQLite
    ``INTEGER`` and PostgreSQL ``bigint`` are the same; ``TEXT`` and ``integer`` are not),
    and defaults, CHECKs, index expressions and views after translation into one
    dialect. Nothing is written.

    Parameters
    ----------
    a, b
        A SQLite file (path or ``sqlite:///`` URL), a ``postgresql://`` URL, an
        :class:`~arrowferry.urls.Endpoint`, or a :class:`~arrowferry.model.Schema`
        already introspected (:func:`inspect_schema`).
    renames
        Renames given, never guessed, keyed by b's (old) names: ``{"old_table":
        "new_table", "table.old_col": "new_col"}``, ``table`` being b's table name.
    a_schema, b_schema
        The PostgreSQL schema to read on each side (default ``public``).
    identifiers
        a's names as ``migrate(..., identifiers=...)`` made them (default: as they are).

    Returns
    -------
    SchemaComparison
        ``differences`` (each with ``kind``, ``table``, ``name``, both sides'
        definitions and ``lossless``), ``identical``, ``compatible`` (rows of a can move
        into b without loss), ``to_dict()``; ``str()`` is the report ``arrowferry diff``
        prints.

    Examples
    --------
    >>> import arrowferry as af
    >>> found = af.compare_schemas("examples/chinook.sqlite", "examples/chinook.sqlite")
    >>> found.identical, found.compatible
    (True, True)
    >>> af.compare_schemas("app.db", "postgresql://me@db/app").differences  # doctest: +SKIP
    """
    from arrowferry.diff import diff_schemas

    first = rename_schema(_schema_of(a, a_schema, "a"), identifiers)
    second = _schema_of(b, b_schema, "b")
    return diff_schemas(first, second, renames=renames)


def _schema_of(value: UrlLike | Schema, schema: str | None, side: str) -> Schema:
    if isinstance(value, Schema):
        return value
    endpoint = _endpoint(value)
    capabilities = dialect_for(endpoint).capabilities
    if schema is not None and not capabilities.schemas:
        raise BadInputError(
            f"--{side}-schema applies to a database with schemas; {endpoint.dialect} has none"
        )
    return inspect_schema(endpoint, schema=schema or capabilities.default_schema or "public")
