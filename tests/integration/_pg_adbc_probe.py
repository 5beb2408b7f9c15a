"""What adbc_driver_postgresql makes of each column type of the every-type schema.

Not a test: a probe to re-run when the driver changes. It reads ``SELECT * FROM ONLY t``
for every table of the schema through ``adbc_driver_postgresql.dbapi`` and
``fetch_arrow_table``, then prints one line per PostgreSQL type: the Arrow type, whether
``to_pylist()`` and ``polars.from_arrow`` take the column, and the value of the row with the
smallest id next to PostgreSQL's own text of it (the first value that differs when there is
one). Usage::

    python -m tests.integration._pg_adbc_probe URL [SCHEMA]
"""

from __future__ import annotations

import sys
from typing import Any

import adbc_driver_postgresql.dbapi as pg_adbc
import polars as pl
import psycopg
import pyarrow as pa

from tests.integration._pg_fixture import SCHEMA
from tests.integration._pg_same_catalog import SESSION


def _arrow_name(t: pa.DataType) -> str:
    if isinstance(t, pa.ExtensionType):
        name = t.extension_name
        storage = t.storage_type
        extra = ""
        if name == "arrow.opaque":
            extra = f", type_name={t.type_name}"
        return f"{name}[{storage}{extra}]"
    return str(t)


def _short(v: Any, width: int = 44) -> str:
    text = repr(v)
    return text if len(text) <= width else text[: width - 3] + "..."


def _read(adbc: Any, query: str) -> pa.Table | Exception:
    try:
        with adbc.cursor() as cur:
            cur.execute(query)
            table: pa.Table = cur.fetch_arrow_table()
            return table
    except Exception as err:  # the driver refuses a value: report it, go on
        adbc.rollback()
        return err


def _describe(typ: str, column: pa.ChunkedArray, texts: list[str | None], note: str) -> Row:
    try:
        values = column.to_pylist()
        pylist = "ok"
    except Exception as err:
        values = None
        pylist = f"FAILS {type(err).__name__}: {err}"[:60]
    try:
        pl.from_arrow(pa.table({"c": column}))
        polars = "ok"
    except BaseException as err:  # polars panics (PanicException is no Exception) on some
        if isinstance(err, KeyboardInterrupt):
            raise
        polars = f"FAILS {type(err).__name__}"
    sample = ""
    if values is not None:
        pairs = [(v, t) for v, t in zip(values, texts, strict=True) if t is not None]
        differing = [p for p in pairs if str(p[0]) != p[1]]
        if differing or pairs:
            v, t = (differing or pairs)[0]
            sample = f"{_short(v)} <- {_short(t)}"
    return (typ, note + _arrow_name(column.type), pylist, polars, sample)


Row = tuple[str, str, str, str, str]


def probe(url: str, schema: str = SCHEMA) -> list[Row]:
    """(pg type, arrow type, to_pylist, polars, sample) for each distinct column type."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SESSION:
            conn.execute(statement.encode())
        conn.execute(f'SET search_path = "{schema}"'.encode())
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace "
                "AND relkind IN ('r', 'p') ORDER BY relname",
                [schema],
            )
        ]
        seen: dict[str, Row] = {}
        adbc = pg_adbc.connect(url)
        try:
            for table in tables:
                cols = conn.execute(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                    "ORDER BY attnum",
                    [f'"{schema}"."{table}"'],
                ).fetchall()
                # t.id: an output column of the same name would order by its text
                order = "t.id" if any(c == "id" for c, _ in cols) else "1"
                source = f'FROM ONLY "{schema}"."{table}" t ORDER BY {order}'
                as_text = ", ".join(f't."{c}"::text' for c, _ in cols)
                texts = conn.execute(f"SELECT {as_text} {source}".encode()).fetchall()
                whole = _read(adbc, f"SELECT * {source}")
                for pos, (name, typ) in enumerate(cols):
                    if typ in seen and "FAILS" not in seen[typ][1]:
                        continue
                    note = ""
                    result = whole
                    if isinstance(whole, Exception):
                        note = f"(SELECT * FROM {table} fails) "
                        result = _read(adbc, f'SELECT t."{name}" {source}')
                    if isinstance(result, Exception):
                        seen[typ] = (typ, f"{note}READ FAILS: {result}"[:160], "", "", "")
                        continue
                    seen[typ] = _describe(typ, result.column(name), [t[pos] for t in texts], note)
        finally:
            adbc.close()
    return sorted(seen.values())


def main() -> None:
    url = sys.argv[1]
    schema = sys.argv[2] if len(sys.argv) > 2 else SCHEMA
    rows = probe(url, schema)
    print(
        "| PostgreSQL type | Arrow type (ADBC) | to_pylist | polars | first value differing from PG text: arrow <- PG text |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(x.replace("|", "\\|") for x in row) + " |")


if __name__ == "__main__":
    main()
