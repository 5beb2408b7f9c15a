"""What the login may read, found before anything is read.

A table the login may not SELECT (or only some of its columns) is that table's error,
in the server's own words, and the other tables are planned and copied as usual; a
serial or identity counter it may not read is a note, since the target's counter can
still continue after the largest key loaded.

The catalog says which tables to doubt in one query for the whole schema. Each doubted
table is then read for no rows inside a savepoint: PostgreSQL checks every privilege a
read needs (schema, table, each column) before it reads a row, and a refused statement
would otherwise abort the snapshot the rest of the plan is measured in.
https://www.postgresql.org/docs/current/ddl-priv.html
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SourceError
from arrowferry.model import Table

# tables whose schema the login may not use, or that it may not SELECT whole: neither the
# table nor every one of its columns granted
_DOUBTED = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm', 'f', 'v')
  AND (NOT has_schema_privilege(n.oid, 'USAGE')
       OR (NOT has_table_privilege(c.oid, 'SELECT')
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                       AND NOT a.attisdropped
                       AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT'))))
"""


def unreadable_tables(
    conn: Any, schema: str, tables: Sequence[Table], partitioned: Collection[str]
) -> dict[str, SourceError]:
    """Each of ``tables`` the login may not read whole, and why (SQLSTATE kept);
    ``conn`` stays usable inside its snapshot."""
    doubted = {name for (name,) in pg.fetch(conn, _DOUBTED, [schema])}
    refused = {}
    for table in tables:
        if table.name in doubted:
            err = _try_read(conn, schema, table, only=table.name not in partitioned)
            if err is not None:
                refused[table.name] = err
    return refused


def _try_read(conn: Any, schema: str, table: Table, *, only: bool) -> SourceError | None:
    columns = ", ".join(quote_ident(c) for c in table.column_names) or "1"
    source = ("ONLY " if only else "") + pg.qname(schema, table.name)
    pg.execute(conn, "SAVEPOINT arrowferry_access")
    try:
        pg.execute(conn, f"SELECT {columns} FROM {source} LIMIT 0")
    except Exception as err:  # the driver's error: worded for the table, SQLSTATE kept
        pg.execute(conn, "ROLLBACK TO SAVEPOINT arrowferry_access")
        return table_error(table.name, err)
    pg.execute(conn, "RELEASE SAVEPOINT arrowferry_access")
    return None


def table_error(table: str, err: BaseException) -> SourceError:
    """A driver error met reading ``table``, as one paragraph naming it."""
    return SourceError(
        f"cannot read table {table!r}: {pg.driver_message(err)}",
        sqlstate=getattr(err, "sqlstate", None),
    )


def sequence_value(conn: Any, schema: str, table: str, column: str) -> int | None:
    """The last value handed out by a serial or identity column's sequence (None: unused).

    Raises :class:`SourceError` (SQLSTATE 42501) when the login may not read the
    sequence; asked first, so the snapshot is not aborted.
    """
    rows = pg.fetch(
        conn,
        "SELECT CASE WHEN allowed THEN pg_sequence_last_value(s) END, allowed, s::text "
        "FROM (SELECT s, has_sequence_privilege(s, 'SELECT, USAGE') AS allowed "
        "FROM (SELECT pg_get_serial_sequence($1, $2)::regclass AS s) AS q) AS r",
        [pg.qname(schema, table), column],
    )
    if not rows or rows[0][2] is None:
        return None
    value, allowed, name = rows[0]
    if not allowed:
        raise SourceError(f"permission denied for sequence {name}", sqlstate="42501")
    return int(value) if value is not None else None
