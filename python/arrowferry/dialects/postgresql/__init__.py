"""PostgreSQL, as a source and as a target.

``connection`` opens sessions and words driver errors; ``catalog`` introspects into the neutral
model; ``read`` reads one consistent snapshot as Arrow; ``ddl`` renders statements; ``write``
holds the writer's Arrow whitelist and COPY ingest; ``stage`` casts exact text server-side;
``defaults`` and ``dependents`` serve CREATE TABLE and DROP ... CASCADE. ``DIALECT`` is the one
object the engine talks to (see :mod:`arrowferry.dialects.base`).
"""

from __future__ import annotations

from arrowferry.dialects.postgresql.catalog import (
    check_body,
    introspect,
    materialized_view_table,
)
from arrowferry.dialects.postgresql.connection import (
    MAX_IDENTIFIER_BYTES,
    connect,
    driver_message,
    execute,
    fetch,
    literal,
    qname,
    truncate_identifier,
)
from arrowferry.dialects.postgresql.ddl import (
    add_constraint_sql,
    advance_sequence_sql,
    alter_system_sql,
    analyze_sql,
    check_sql,
    check_violations_sql,
    column_ddl,
    constraint_using_index_sql,
    create_database_sql,
    create_schema_sql,
    create_table_sql,
    create_view_sql,
    database_exists,
    drop_constraint_sql,
    drop_empty_schema_sql,
    drop_table_sql,
    duplicate_keys_sql,
    foreign_key_sql,
    foreign_keys_touching,
    index_sql,
    null_keys_sql,
    orphans_sql,
    restart_identity_sql,
    set_schema_sql,
    settings,
    vacuum_analyze_sql,
)
from arrowferry.dialects.postgresql.write import (
    accepts,
    check_arrow_fields,
    column_types,
    existing_tables,
    ingest,
    rejected_column,
    schema_exists,
)

__all__ = [
    "MAX_IDENTIFIER_BYTES",
    "accepts",
    "add_constraint_sql",
    "advance_sequence_sql",
    "alter_system_sql",
    "analyze_sql",
    "check_arrow_fields",
    "check_body",
    "check_sql",
    "check_violations_sql",
    "column_ddl",
    "column_types",
    "connect",
    "constraint_using_index_sql",
    "create_database_sql",
    "create_schema_sql",
    "create_table_sql",
    "create_view_sql",
    "database_exists",
    "driver_message",
    "drop_constraint_sql",
    "drop_empty_schema_sql",
    "drop_table_sql",
    "duplicate_keys_sql",
    "execute",
    "existing_tables",
    "fetch",
    "foreign_key_sql",
    "foreign_keys_touching",
    "index_sql",
    "ingest",
    "introspect",
    "literal",
    "materialized_view_table",
    "null_keys_sql",
    "orphans_sql",
    "qname",
    "rejected_column",
    "restart_identity_sql",
    "schema_exists",
    "set_schema_sql",
    "settings",
    "truncate_identifier",
    "vacuum_analyze_sql",
]
