"""PostgreSQL's catalog read into the neutral model (tables, keys, indexes, checks, views)."""

from __future__ import annotations

import re
from typing import Any

from arrowferry.dialects.postgresql.connection import fetch
from arrowferry.dialects.postgresql.types import parse_pg_type
from arrowferry.model import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    View,
)


def introspect(conn: Any, schema: str = "public") -> Schema:
    """Read a PostgreSQL schema from pg_catalog into the neutral model."""
    tables = []
    for (name,) in fetch(
        conn,
        # a partition's rows are its parent's: the parent stands for the whole table
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "ORDER BY c.relname",
        [schema],
    ):
        tables.append(_pg_table(conn, schema, name))
    views = tuple(
        View(name, sql.strip().rstrip(";"), tuple(zip(names, types, strict=True)))
        for name, sql, names, types in fetch(
            conn,
            "SELECT c.relname, pg_get_viewdef(c.oid, true), "
            "ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text[], "
            "ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum)::text[] "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'v' ORDER BY c.relname",
            [schema],
        )
    )
    return Schema("postgresql", tuple(tables), views)


def materialized_view_table(conn: Any, schema: str, name: str) -> Table:
    """A materialized view as the table that holds its rows: its columns and indexes."""
    return _pg_table(conn, schema, name)


def _pg_table(conn: Any, schema: str, name: str) -> Table:
    oid_sql = "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)"
    cols = fetch(
        conn,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        # "char" columns as text: the driver reads an empty "char" as '\x00', which is truthy
        "pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, "
        # a domain is its base type (its own name stays the declared text); a domain over
        # a domain: the innermost type, with the typmod declared there (varchar(10))
        f"CASE WHEN t.typtype = 'd' THEN ({_DOMAIN_BASE}) END "
        f"FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "JOIN pg_type t ON t.oid = a.atttypid "
        f"WHERE a.attrelid = {oid_sql} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [schema, name],
    )
    columns = tuple(
        Column(
            cname,
            parse_pg_type(base or typ),
            nullable=not notnull,
            default=None if (ident or gen) else default,
            identity=bool(ident) or bool(default and str(default).startswith("nextval(")),
            generated=default if gen else None,
            generated_stored=bool(gen),
            declared=typ,
        )
        for cname, typ, notnull, default, ident, gen, base in cols
    )
    cons = fetch(
        conn,
        "SELECT conname, contype, pg_get_constraintdef(oid), "
        "ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = conrelid AND attnum = k.n ORDER BY k.o)::text[] "
        f"FROM pg_constraint WHERE conrelid = {oid_sql} ORDER BY conname",
        [schema, name],
    )
    pk = None
    uniques, checks, fks = [], [], []
    for cname, ctype, definition, keys in cons:
        keys = tuple(keys or ())
        if ctype == "p":
            pk = PrimaryKey(keys, name=cname)
        elif ctype == "u":
            uniques.append(UniqueConstraint(keys, name=cname))
        elif ctype == "c":
            checks.append(Check(check_body(definition), name=cname))
        elif ctype == "f":
            fks.append(_parse_fk(cname, keys, definition))
    indexes = _pg_indexes(conn, schema, name, oid_sql)
    return Table(name, columns, pk, tuple(uniques), indexes, tuple(fks), tuple(checks))


_DOMAIN_BASE = (
    "WITH RECURSIVE d(oid, mod, depth) AS (SELECT t.typbasetype, t.typtypmod, 0 "
    "UNION ALL SELECT b.typbasetype, b.typtypmod, d.depth + 1 FROM d "
    "JOIN pg_type b ON b.oid = d.oid AND b.typtype = 'd') "
    "SELECT format_type(oid, mod) FROM d ORDER BY depth DESC LIMIT 1"
)


def check_body(definition: str) -> str:
    body = definition[len("CHECK ") :] if definition.startswith("CHECK ") else definition
    body = body.removesuffix(" NOT VALID")
    return body[1:-1] if body.startswith("(") and body.endswith(")") else body


_FK = re.compile(
    r"FOREIGN KEY \((?P<cols>.*?)\) REFERENCES (?P<ref>.+?)\((?P<refcols>.*?)\)(?P<rest>.*)$", re.S
)


def _parse_fk(name: str, keys: tuple[str, ...], definition: str) -> ForeignKey:
    match = _FK.match(definition)
    if match is None:
        return ForeignKey(keys, "", (), name=name)
    rest = match["rest"].upper()

    def action(kind: str) -> Any:
        found = re.search(rf"ON {kind} (NO ACTION|RESTRICT|CASCADE|SET NULL|SET DEFAULT)", rest)
        return found.group(1) if found else "NO ACTION"

    ref = match["ref"].strip().split(".")[-1].strip('"')
    refcols = tuple(c.strip().strip('"') for c in match["refcols"].split(","))
    return ForeignKey(
        keys,
        ref,
        refcols,
        action("DELETE"),
        action("UPDATE"),
        "DEFERRABLE" in rest and "NOT DEFERRABLE" not in rest,
        "INITIALLY DEFERRED" in rest,
        name=name,
        validated="NOT VALID" not in rest,
    )


def _pg_indexes(conn: Any, schema: str, name: str, oid_sql: str) -> tuple[Index, ...]:
    rows = fetch(
        conn,
        "SELECT i.relname, x.indisunique, pg_get_expr(x.indpred, x.indrelid), x.indnkeyatts, "
        "ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) k)::text[], "
        "ARRAY(SELECT (x.indoption[k-1] & 1) = 1 FROM generate_series(1, x.indnkeyatts) k)::bool[] "
        f"FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = {oid_sql} "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
        # a foreign key's conindid is the index it references: that index stays an index
        "AND c.contype IN ('p', 'u', 'x') AND c.conrelid = x.indrelid) "
        "ORDER BY i.relname",
        [schema, name],
    )
    indexes = []
    for iname, unique, where, _n, keys, desc in rows:
        parsed = []
        for key, is_desc in zip(keys, desc, strict=False):
            is_col = bool(re.fullmatch(r'"?[^"()]+"?', key))
            parsed.append(IndexKey(key.strip('"') if is_col else key, not is_col, bool(is_desc)))
        indexes.append(Index(iname, tuple(parsed), bool(unique), where))
    return tuple(indexes)
