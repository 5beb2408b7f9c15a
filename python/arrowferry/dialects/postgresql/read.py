"""PostgreSQL as a source: one consistent snapshot, typed reads, and what the plan needs.

Every table is read in one ``REPEATABLE READ`` transaction, so rows added while the
run goes on never make one table disagree with another. Values whose Arrow form is
unsafe are read as the server's own text instead (driver-traps.md D): numeric (exact
digits), date/time/timestamp (``infinity`` and out-of-range years wrap to garbage
through the binary path), interval (Polars cannot load month_day_nano), uuid, json,
and anything the driver hands over as opaque PostgreSQL wire bytes. Arrays go out as
``to_json`` text: the binary path flattens a 2-D array into a 1-D list. The session
settings below fix what that text looks like, whatever the server's defaults are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects import sqllog
from arrowferry.dialects.facts import Domain, Owner, SourceFacts
from arrowferry.dialects.postgresql import access
from arrowferry.dialects.postgresql.catalog import enum_labels
from arrowferry.dialects.postgresql.collations import locale_ordered
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.dialects.translate import is_constant
from arrowferry.errors import SchemaError, SourceError
from arrowferry.model import Column, DataType, Table
from arrowferry.urls import Endpoint

# beyond what every session fixes (``connection.FIXED``: UTC, ISO dates and intervals, hex
# bytea, exact floats, UTF-8): the run's snapshot idles between reads
SESSION = ("SET idle_in_transaction_session_timeout = 0",)

# kinds read in their binary form: the Arrow type the driver gives is exact
BINARY_KINDS = {"boolean", "int16", "int32", "int64", "float32", "float64", "text", "blob"}


def connect_snapshot(endpoint: Endpoint, snapshot: str | None = None) -> Any:
    """A read-only connection inside one REPEATABLE READ snapshot, with fixed text forms.

    ``snapshot``: join the snapshot another connection exported (:func:`export_snapshot`),
    so parallel readers see exactly the same rows.
    """
    conn = pg.connect(endpoint, read_only=True, autocommit=True)
    try:
        for sql in SESSION:
            pg.execute(conn, sql)
        pg.execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if snapshot is not None:
            pg.execute(conn, f"SET TRANSACTION SNAPSHOT {pg.literal(snapshot)}")
    except Exception as err:
        conn.close()
        raise SourceError(
            f"cannot start a read snapshot on {endpoint.masked_url}: "
            f"{pg.driver_message(err, endpoint)}"
        ) from None
    return conn


def export_snapshot(conn: Any) -> str:
    return str(pg.fetch(conn, "SELECT pg_export_snapshot()")[0][0])


def key_range(conn: Any, schema: str, table: str, column: str) -> tuple[int, int] | None:
    """(min, max) of an integer key, read through its index; None for an empty table."""
    q = quote_ident(column)
    low, high = pg.fetch(conn, f"SELECT min({q}), max({q}) FROM {pg.qname(schema, table)}")[0]
    return None if low is None else (int(low), int(high))


def end_snapshot(conn: Any, *, quietly: bool = False) -> None:
    """End a snapshot connection's transaction and close it (``quietly``: a lost one too)."""
    try:
        pg.execute(conn, "COMMIT")
    except Exception:
        if not quietly:
            raise
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def check_schema(conn: Any, schema: str, endpoint: Endpoint) -> None:
    if not pg.schema_exists(conn, schema):
        names = [n for (n,) in pg.fetch(conn, "SELECT nspname FROM pg_namespace ORDER BY 1")]
        shown = [n for n in names if not n.startswith("pg_") and n != "information_schema"]
        raise SchemaError(
            f"schema {schema!r} does not exist in {endpoint.masked_url}; it has "
            f"{', '.join(repr(n) for n in shown) or 'no user schemas'} (choose one with --source-schema)"
        )


def read_type(dtype: DataType) -> DataType:
    """The type a column is read and stored as: money is its amount, a decimal."""
    if dtype.kind == "other" and (dtype.raw or "").lower() == "money":
        return DataType("decimal", scale=2, raw="money")
    return dtype


def select_expression(column: str, dtype: DataType) -> str:
    """How a column is read: as itself when its Arrow form is exact, else as text."""
    q = quote_ident(column)
    kind = dtype.kind
    if kind in BINARY_KINDS:
        return q
    if kind == "array":
        return f"to_json({q})::text"
    if kind == "decimal" and dtype.raw == "money":
        return f"{q}::numeric::text"  # money's text carries a currency symbol and separators
    if kind == "other":
        # the type's own output (format's %s), as psql and pg_dump show it: inet's ::text
        # adds a netmask its output leaves out ('::ffff:1.2.3.4/128'); format turns NULL
        # into '', so NULL is kept apart, by num_nulls: a composite whose fields are all
        # NULL "IS NULL" too, but is the value '(,)'
        return f"CASE WHEN num_nulls({q}) = 1 THEN NULL ELSE format('%s', {q}) END"
    return f"{q}::text"


def select_sql(
    schema: str,
    table: str,
    expressions: Sequence[str],
    order_by: Sequence[str] = (),
    *,
    only: bool = True,
    key_range: tuple[int, int] | None = None,
) -> str:
    """The read of one table. ``only``: without the rows of tables that inherit from it
    (each is migrated as itself); a partitioned table is read whole (``only=False``).
    ``key_range``: only rows whose (single, integer) ``order_by`` key is in [low, high)."""
    cols = ", ".join(f"{e} AS c{i}" for i, e in enumerate(expressions))
    order = f" ORDER BY {', '.join(quote_ident(c) for c in order_by)}" if order_by else ""
    source = ("ONLY " if only else "") + pg.qname(schema, table)
    where = ""
    if key_range is not None:
        key = quote_ident(order_by[0])
        where = f" WHERE {key} >= {int(key_range[0])} AND {key} < {int(key_range[1])}"
    return f"SELECT {cols} FROM {source}{where}{order}"


def partitioned_tables(conn: Any, schema: str) -> set[str]:
    return {
        name
        for (name,) in pg.fetch(
            conn,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'p'",
            [schema],
        )
    }


def triggers(conn: Any, schema: str) -> list[str]:
    """User triggers (table.trigger): PL/pgSQL has no SQLite translation."""
    return [
        f"{table}.{name}"
        for table, name in pg.fetch(
            conn,
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY 1, 2",
            [schema],
        )
    ]


def read_batches(conn: Any, sql: str, batch_bytes: int) -> Iterator[pa.RecordBatch]:
    """Stream a query's batches through the driver's binary COPY, each ``batch_bytes`` or so."""
    cur = conn.cursor()
    try:
        cur.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(batch_bytes)}
        )
        sqllog.statement("postgresql", sql)
        cur.execute(sql)
        reader = cur.fetch_record_batch()
        yield from reader
    finally:
        cur.close()


_DOUBLE_MAX = "1.7976931348623157e308"
_DOUBLE_MIN = "2.2250738585072014e-308"  # the smallest normal double


def measure(
    conn: Any, schema: str, table: str, wide: Sequence[str], *, only: bool = True
) -> tuple[int, dict[str, int]]:
    """A table's rows and, per numeric column in ``wide``, how many values SQLite's
    NUMERIC affinity would round, in one scan.

    SQLite turns numeric text into INTEGER when it is integral and fits 64 bits, else
    into REAL, keeping 15 significant digits only; such values are counted.
    """
    parts = ["count(*)"]
    for col in wide:
        q = quote_ident(col)
        digits = f"length(trim(both '0' from translate(abs({q})::text, '.', '')))"
        integral = f"({q} = trunc({q}) AND abs({q}) <= 9223372036854775807)"
        # a double keeps 15 digits only in its normal range: 1e-330 would become 0.0
        finite = f"({q} <> 'NaN' AND abs({q}) <> 'Infinity')"
        outside = (
            f"({finite} AND (abs({q}) > {_DOUBLE_MAX} OR ({q} <> 0 AND abs({q}) < {_DOUBLE_MIN})))"
        )
        parts.append(f"count(*) FILTER (WHERE NOT {integral} AND ({digits} > 15 OR {outside}))")
    source = ("ONLY " if only else "") + pg.qname(schema, table)
    try:
        rows, *counts = pg.fetch(conn, f"SELECT {', '.join(parts)} FROM {source}")[0]
    except Exception as err:  # refused or failed: one paragraph naming the table
        raise access.table_error(table, err) from err
    return int(rows), {col: int(n) for col, n in zip(wide, counts, strict=True)}


def estimated_rows(conn: Any, schema: str, table: str) -> int | None:
    """The server's estimate of a table's rows (None: never analyzed, nor vacuumed)."""
    found = pg.fetch(
        conn,
        "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = {pg.literal(schema)} AND c.relname = {pg.literal(table)}",
    )
    if not found or found[0][0] is None or float(found[0][0]) < 0:
        return None
    return int(float(found[0][0]))


def standalone_sequences(conn: Any, schema: str) -> list[str]:
    """Sequences no column owns (SQLite has nothing to carry them into)."""
    return [
        name
        for (name,) in pg.fetch(
            conn,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
            "WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) ORDER BY 1",
            [schema],
        )
    ]


# Every expression PostgreSQL stores records what it calls in pg_depend: a view through its
# rewrite rule, a CHECK through its constraint, a default through pg_attrdef, an index
# expression through the index. Only pg_catalog's functions and operators have a
# translation (sqlglot knows PostgreSQL's builtins); anything else was defined in the source
# database, by a user or by an extension, and SQLite has no function of its own to call
# instead (a same-named builtin, such as group_concat, would be another function).
_USER_ROUTINES = """
WITH deps AS (
  SELECT d.classid, d.objid, d.objsubid,
         format('%I.%I', pn.nspname, p.proname) AS routine
  FROM pg_depend d JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE pn.nspname <> 'pg_catalog'
  UNION ALL
  SELECT d.classid, d.objid, d.objsubid,
         format('operator %s.%s', pn.nspname, o.oprname) AS routine
  FROM pg_depend d JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass
    AND o.oid = d.refobjid
  JOIN pg_namespace pn ON pn.oid = o.oprnamespace WHERE pn.nspname <> 'pg_catalog'
)
SELECT 'view', c.relname, '', deps.routine FROM deps
  JOIN pg_rewrite r ON deps.classid = 'pg_rewrite'::regclass AND r.oid = deps.objid
  JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1
UNION ALL
SELECT 'check', c.relname, k.conname, deps.routine FROM deps
  JOIN pg_constraint k ON deps.classid = 'pg_constraint'::regclass AND k.oid = deps.objid
  JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1
UNION ALL
SELECT 'domain', format_type(k.contypid, NULL), k.conname, deps.routine FROM deps
  JOIN pg_constraint k ON deps.classid = 'pg_constraint'::regclass AND k.oid = deps.objid
  WHERE k.contypid <> 0
UNION ALL
SELECT 'domain', format_type(t.oid, NULL), '', deps.routine FROM deps
  JOIN pg_type t ON deps.classid = 'pg_type'::regclass AND t.oid = deps.objid
  WHERE t.typtype = 'd'
UNION ALL
SELECT 'default', c.relname, a.attname, deps.routine FROM deps
  JOIN pg_attrdef ad ON deps.classid = 'pg_attrdef'::regclass AND ad.oid = deps.objid
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  JOIN pg_class c ON c.oid = ad.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1
UNION ALL
SELECT 'index', c.relname, '', deps.routine FROM deps
  JOIN pg_class c ON deps.classid = 'pg_class'::regclass AND c.oid = deps.objid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relkind = 'i'
"""


def user_routines(conn: Any, schema: str) -> dict[Owner, tuple[str, ...]]:
    """What calls a function or operator defined in the source database (not in
    pg_catalog): each view, CHECK, domain CHECK or default, default and index expression,
    with the names it calls, sorted."""
    found: dict[Owner, set[str]] = {}
    for kind, owner, part, routine in pg.fetch(conn, _USER_ROUTINES, [schema]):
        key: Owner = (kind, owner, part) if part else (kind, owner)
        found.setdefault(key, set()).add(routine)
    return {key: tuple(sorted(names)) for key, names in found.items()}


def materialized_views(conn: Any, schema: str) -> dict[str, bool]:
    """Each materialized view of the schema, and whether it holds rows (WITH NO DATA: not)."""
    return {
        name: bool(populated)
        for name, populated in pg.fetch(
            conn,
            "SELECT c.relname, c.relispopulated FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'm' ORDER BY 1",
            [schema],
        )
    }


def array_dimensions(conn: Any, schema: str | None) -> dict[tuple[str, str], int]:
    """(table, column) -> dimensions, for each array column of ``schema`` declared with
    more than one (``integer[][]``; format_type says ``integer[]`` for any number)."""
    where = "current_schema()" if schema is None else pg.literal(schema)
    return {
        (table, column): int(dims)
        for table, column, dims in pg.fetch(
            conn,
            "SELECT c.relname, a.attname, a.attndims FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {where} AND a.attndims > 1 AND a.attnum > 0 "
            "AND NOT a.attisdropped",
        )
    }


def domains(conn: Any) -> dict[str, Domain]:
    """Every domain, named as format_type names it in a column's declared type.

    A column of a domain type is held to the domain's CHECKs and NOT NULL, and takes its
    default, although none of them shows on the column itself.
    """
    rows = {
        oid: (name, base, not_null, default, tuple(zip(names or (), defs or (), strict=True)))
        for oid, name, base, not_null, default, names, defs in pg.fetch(
            conn,
            "SELECT t.oid::int8, format_type(t.oid, NULL), t.typbasetype::int8, t.typnotnull, "
            "t.typdefault, "
            "ARRAY(SELECT c.conname FROM pg_constraint c WHERE c.contypid = t.oid "
            "AND c.contype = 'c' ORDER BY c.conname)::text[], "
            "ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)::text[] "
            "FROM pg_type t WHERE t.typtype = 'd'",
        )
    }
    out = {}
    for oid, (name, *_rest) in rows.items():
        not_null, default, checks, at, chain = False, None, [], oid, []
        while at in rows:  # outermost first: its default wins
            link, base, nn, dflt, cons = rows[at]
            not_null = not_null or bool(nn)
            default = default if default is not None else dflt
            checks += [(cname, pg.check_body(definition)) for cname, definition in cons]
            chain.append(link)
            at = base
        out[name] = Domain(not_null, default, tuple(checks), tuple(chain))
    return out


def effective_default(col: Column, domains: Mapping[str, Domain]) -> str | None:
    """The default a new row gets: the column's own, else its domain's (identity: none)."""
    if col.identity:
        return None
    if col.default is not None:
        return col.default
    domain = domains.get(col.declared)
    return domain.default if domain is not None else None


def constant_defaults(
    conn: Any, tables: Sequence[Table], domains: Mapping[str, Domain]
) -> dict[str, dict[str, pa.Array]]:
    """Each constant default (a literal, cast or not), evaluated by PostgreSQL and read
    exactly as the column's values are, so it can be converted like them: translated,
    ``'{}'::jsonb`` would become ``CAST('{}' AS JSONB)``, which SQLite evaluates to 0."""
    out: dict[str, dict[str, pa.Array]] = {}
    for table in tables:
        for col in table.columns:
            default = effective_default(col, domains)
            if default is None or not is_constant(default, "postgresql"):
                continue
            value = _evaluate(
                conn,
                f"SELECT {select_expression(col.name, read_type(col.type))} FROM "
                f"(SELECT ({default})::{col.declared} AS {quote_ident(col.name)}) AS d",
            )
            if value is not None:
                out.setdefault(table.name, {})[col.name] = value
    return out


def _evaluate(conn: Any, sql: str) -> pa.Array | None:
    """One value, or None when PostgreSQL refuses it (the snapshot goes on regardless)."""
    pg.execute(conn, "SAVEPOINT arrowferry_default")
    try:
        with conn.cursor() as cur:
            sqllog.statement("postgresql", sql)
            cur.execute(sql)
            value = cur.fetch_arrow_table().column(0).combine_chunks()
    except Exception:
        pg.execute(conn, "ROLLBACK TO SAVEPOINT arrowferry_default")
        value = None
    pg.execute(conn, "RELEASE SAVEPOINT arrowferry_default")
    return value


class Measured(NamedTuple):
    facts: SourceFacts
    failed: dict[str, str]  # table -> why the login cannot read it (its error, not the run's)
    notes: list[str]


def source_facts(
    conn: Any,
    schema: str,
    tables: Sequence[Table],
    materialized: Mapping[str, bool],
    *,
    estimate: bool = False,
) -> Measured:
    """What the plan needs from the source, in ``conn``'s snapshot; a table the login may
    not read is left out, with its error. ``estimate`` (an incremental run, which reads
    only what changed): each table's rows from the server's statistics, not a scan of
    every row, and no count of wide decimals (the target's types are already fixed)."""
    partitioned = partitioned_tables(conn, schema)
    refused = access.unreadable_tables(conn, schema, tables, partitioned)
    tables = [t for t in tables if t.name not in refused]
    notes = []

    def identity_key(table: Table) -> str | None:
        pk = table.primary_key
        if pk is None or len(pk.columns) != 1 or not table.column(pk.columns[0]).identity:
            return None
        return pk.columns[0]

    def may_be_wide(dtype: DataType) -> bool:
        return dtype.kind == "decimal" and (dtype.precision is None or dtype.precision > 15)

    sequences = {}
    rows: dict[str, int] = {}
    wide: dict[str, dict[str, int]] = {}
    for table in tables:
        key = identity_key(table)
        if key is not None:
            try:
                sequences[table.name] = access.sequence_value(conn, schema, table.name, key) or 0
            except SourceError as err:
                notes.append(
                    f"table {table.name!r}: cannot read the counter of its column {key!r} ({err}); "
                    "the target's counter continues after the largest value loaded"
                )
        guess = estimated_rows(conn, schema, table.name) if estimate else None
        if guess is not None:
            rows[table.name], wide[table.name] = guess, {}
            continue
        rows[table.name], wide[table.name] = measure(
            conn,
            schema,
            table.name,
            [c.name for c in table.columns if may_be_wide(c.type)],
            only=table.name not in partitioned,
        )
    rules = domains(conn)
    facts = SourceFacts(
        rows=rows,
        wide_decimals=wide,
        sequences=sequences,
        partitioned=frozenset(partitioned),
        loose_sequences=tuple(standalone_sequences(conn, schema)),
        triggers=tuple(triggers(conn, schema)),
        enums=enum_labels(conn),
        domains=rules,
        defaults=constant_defaults(conn, tables, rules),
        user_routines=user_routines(conn, schema),
        materialized=dict(materialized),
        locale_ordered=locale_ordered(conn, schema),
    )
    return Measured(facts, {name: err.message for name, err in refused.items()}, notes)
