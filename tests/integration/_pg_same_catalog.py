"""Read one schema's catalog for ``_pg_same``: every object a copy must keep, as plain data.

Each reader returns names without the schema (the session's ``search_path`` is the schema,
and ``unqualify`` removes what ``pg_get_indexdef`` and ``pg_get_functiondef`` qualify anyway),
so two schemas of different names compare equal. ``skip`` holds the ``except_`` kinds of
``_pg_same``: their objects are left out here, on both sides alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

SESSION = (
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
    "SET DateStyle = 'ISO, MDY'",
    "SET IntervalStyle = 'postgres'",
    "SET TimeZone = 'UTC'",
    "SET lc_monetary = 'C'",
    "SET client_encoding = 'UTF8'",
)


class Conn:
    """A psycopg connection in one read-only snapshot, with the comparison's settings."""

    def __init__(self, url: str, schema: str) -> None:
        self.schema = schema
        self.conn = psycopg.connect(url, autocommit=True)
        found = self.conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        if found.fetchone() is None:
            self.conn.close()
            raise AssertionError(f"schema {schema!r} does not exist at {url}")
        for statement in SESSION:
            self.conn.execute(statement.encode())
        self.conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Parameters go to psycopg only when there are some: given any (even none),
        psycopg reads every ``%`` of the query as a placeholder, and a query that embeds
        a name (quoted by ``sql.Identifier``) may hold a table named ``'%s'`` or ``'50%'``.
        Queries with parameters name nothing of the user's."""
        return self.conn.execute(query.encode(), list(params) if params else None).fetchall()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unqualifier(schema: str) -> Callable[[str | None], str | None]:
    """Remove ``schema.`` (quoted or not) before a name, wherever a definition prints it."""
    quoted = re.escape('"' + schema.replace('"', '""') + '".')
    plain = re.escape(schema + ".")
    pattern = re.compile(rf'(?<![\w$"])(?:{quoted}|{plain})')

    def unqualify(text: str | None) -> str | None:
        return None if text is None else pattern.sub("", text)

    return unqualify


@dataclass
class Column:
    name: str
    type: str
    base: str  # typname of the base type (through domains), to choose the key ordering
    not_null: bool
    default: str | None
    identity: str
    generated: str
    collation: str | None


@dataclass
class Relation:
    name: str
    kind: str  # r table, p partitioned table, v view, m materialized view, f foreign table
    stored_kind: str  # the kind in the catalog (``kind`` is "r" for a partitioned table
    # when partitioning is not compared)
    is_partition: bool
    populated: bool
    row_security: tuple[bool, bool]
    partition_key: str | None
    partition_bound: str | None
    parents: tuple[str, ...]  # inheritance or partition parent(s), in order
    view_def: str | None
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()


@dataclass
class Catalog:
    schema: str
    relations: dict[str, Relation]
    constraints: dict[tuple[str, str], tuple[str, str]]  # (table, name) -> (type, definition)
    indexes: dict[tuple[str, str], str]  # (table, name) -> definition
    sequences: dict[str, dict[str, Any]]
    comments: dict[str, str]  # object description -> comment
    enums: dict[str, list[str]]
    domains: dict[str, dict[str, Any]]
    composites: dict[str, list[tuple[str, str]]]
    triggers: dict[tuple[str, str], str]
    policies: dict[tuple[str, str], tuple[Any, ...]]
    functions: dict[str, str]

    @classmethod
    def read(cls, c: Conn, schema: str, skip: frozenset[str]) -> Catalog:
        unq = unqualifier(schema)
        relations = _relations(c, schema, unq, skip)
        return cls(
            schema=schema,
            relations=relations,
            constraints=_constraints(c, schema, unq, skip, relations),
            indexes=_indexes(c, schema, unq, skip, relations),
            sequences=_sequences(c, schema, unq),
            comments=_comments(c, schema, skip, relations),
            enums=_enums(c, schema),
            domains=_domains(c, schema, unq),
            composites=_composites(c, schema),
            triggers=_triggers(c, schema, unq, relations),
            policies=_policies(c, schema, relations),
            functions=_functions(c, schema, unq),
        )


def _relations(
    c: Conn, schema: str, unq: Callable[[str | None], str | None], skip: frozenset[str]
) -> dict[str, Relation]:
    out: dict[str, Relation] = {}
    for row in c.rows(
        """SELECT c.oid, c.relname, c.relkind, c.relispartition, c.relispopulated,
                  c.relrowsecurity, c.relforcerowsecurity, pg_get_partkeydef(c.oid),
                  pg_get_expr(c.relpartbound, c.oid),
                  ARRAY(SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                        WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
                  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')""",
        [schema],
    ):
        oid, name, kind, is_partition, populated, rls, force, pkey, bound, parents, vdef = row
        if is_partition and "partitioning" in skip:
            continue
        rel = Relation(
            name=name,
            kind="r" if kind == "p" and "partitioning" in skip else kind,
            stored_kind=kind,
            is_partition=is_partition,
            populated=populated,
            row_security=(False, False) if "row_security" in skip else (rls, force),
            partition_key=None if "partitioning" in skip else pkey,
            partition_bound=None if "partitioning" in skip else bound,
            # a partition's parent is partitioning (skipped above); anyone else's is inheritance
            parents=() if not is_partition and "inheritance" in skip else tuple(parents),
            view_def=unq(vdef),
        )
        out[name] = rel
        rel.columns = _columns(c, oid, unq, skip)
        rel.primary_key = tuple(
            r[0]
            for r in c.rows(
                """SELECT a.attname FROM pg_index x
                   CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, pos)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                   WHERE x.indrelid = %s AND x.indisprimary ORDER BY k.pos""",
                [oid],
            )
        )
    return out


def _columns(
    c: Conn, oid: int, unq: Callable[[str | None], str | None], skip: frozenset[str]
) -> list[Column]:
    out = []
    for name, typ, base, not_null, default, identity, generated, coll in c.rows(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                  coalesce(bt.typname, t.typname), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                  CASE WHEN a.attcollation <> t.typcollation THEN
                       quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
           FROM pg_attribute a
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           LEFT JOIN pg_collation co ON co.oid = a.attcollation
           LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
           WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""",
        [oid],
    ):
        if generated and "generated_columns" in skip:
            generated, default = "", None
        out.append(Column(name, typ, base, not_null, unq(default), identity, generated, coll))
    return out


def _constraints(
    c: Conn,
    schema: str,
    unq: Callable[[str | None], str | None],
    skip: frozenset[str],
    relations: dict[str, Relation],
) -> dict[tuple[str, str], tuple[str, str]]:
    out = {}
    for table, name, contype, definition in c.rows(
        """SELECT r.relname, con.conname, con.contype, pg_get_constraintdef(con.oid, true)
           FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = %s""",
        [schema],
    ):
        if table not in relations or (contype == "x" and "exclusion_constraints" in skip):
            continue
        out[(table, name)] = (contype, unq(definition) or "")
    return out


def _indexes(
    c: Conn,
    schema: str,
    unq: Callable[[str | None], str | None],
    skip: frozenset[str],
    relations: dict[str, Relation],
) -> dict[tuple[str, str], str]:
    out = {}
    for table, name, definition, backs in c.rows(
        """SELECT t.relname, i.relname, pg_get_indexdef(i.oid),
                  (SELECT con.contype FROM pg_constraint con
                   WHERE con.conindid = i.oid AND con.conrelid = t.oid
                     AND con.contype IN ('p', 'u', 'x'))
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s""",
        [schema],
    ):
        if table not in relations or (backs == "x" and "exclusion_constraints" in skip):
            continue
        definition = unq(definition) or ""
        if "partitioning" in skip:
            # an index on a partitioned table prints "ON ONLY"; on the plain table that replaces it, "ON"
            definition = definition.replace(" ON ONLY ", " ON ", 1)
        out[(table, name)] = definition
    return out


def _sequences(
    c: Conn, schema: str, unq: Callable[[str | None], str | None]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in c.rows(
        """SELECT s.sequencename, format_type(s.data_type, NULL), s.start_value, s.min_value,
                  s.max_value, s.increment_by, s.cycle, s.cache_size,
                  (SELECT CASE d.deptype WHEN 'i' THEN 'identity of ' ELSE 'owned by ' END
                          || t.relname || '.' || a.attname
                   FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = q.oid
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
           FROM pg_sequences s
           JOIN pg_namespace n ON n.nspname = s.schemaname
           JOIN pg_class q ON q.relname = s.sequencename AND q.relnamespace = n.oid
           WHERE s.schemaname = %s""",
        [schema],
    ):
        name, typ, start, lo, hi, inc, cycle, cache, owner = row
        # read from the sequence itself: pg_sequences hides is_called, nextval would consume
        last, called = c.rows(
            sql.SQL("SELECT last_value, is_called FROM {}")
            .format(sql.Identifier(schema, name))
            .as_string(c.conn)
        )[0]
        if not called:
            nxt: int | str = last
        elif (inc > 0 and last > hi - inc) or (inc < 0 and last < lo - inc):
            nxt = (lo if inc > 0 else hi) if cycle else "none (exhausted)"
        else:
            nxt = last + inc
        out[name] = {
            "type": typ,
            "start": start,
            "min": lo,
            "max": hi,
            "increment": inc,
            "cycle": cycle,
            "cache": cache,
            "owner": owner,
            "last_value": last,
            "is_called": called,
            "next nextval": nxt,
        }
    return out


def _comments(
    c: Conn, schema: str, skip: frozenset[str], relations: dict[str, Relation]
) -> dict[str, str]:
    rows = c.rows(
        """SELECT CASE WHEN d.objsubid > 0 THEN 'column' WHEN c.relkind = 'S' THEN 'sequence'
                      WHEN c.relkind IN ('i', 'I') THEN 'index' WHEN c.relkind = 'v' THEN 'view'
                      WHEN c.relkind = 'm' THEN 'materialized view' ELSE 'table' END,
                  c.relname || coalesce('.' || a.attname, ''), d.description,
                  CASE WHEN c.relkind <> 'S' THEN coalesce(xt.relname, c.relname) END
           FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_index x ON x.indexrelid = c.oid
           LEFT JOIN pg_class xt ON xt.oid = x.indrelid
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
           WHERE n.nspname = %(s)s
         UNION ALL
           SELECT 'type', t.typname, d.description, NULL
           FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
           JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %(s)s
         UNION ALL
           SELECT CASE WHEN con.contype = 'x' THEN 'exclusion constraint' ELSE 'constraint' END,
                  coalesce(r.relname, ty.typname) || '.' || con.conname, d.description, r.relname
           FROM pg_description d
           JOIN pg_constraint con ON d.classoid = 'pg_constraint'::regclass AND con.oid = d.objoid
           JOIN pg_namespace n ON n.oid = con.connamespace
           LEFT JOIN pg_class r ON r.oid = con.conrelid LEFT JOIN pg_type ty ON ty.oid = con.contypid
           WHERE n.nspname = %(s)s
         UNION ALL
           SELECT 'trigger', r.relname || '.' || t.tgname, d.description, r.relname
           FROM pg_description d JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND t.oid = d.objoid
           JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
           WHERE n.nspname = %(s)s
         UNION ALL
           SELECT 'policy', r.relname || '.' || p.polname, d.description, r.relname
           FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND p.oid = d.objoid
           JOIN pg_class r ON r.oid = p.polrelid JOIN pg_namespace n ON n.oid = r.relnamespace
           WHERE n.nspname = %(s)s
         UNION ALL
           SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                  d.description, NULL
           FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s""".replace(
            "%(s)s", "%s"
        ),
        [schema] * 6,
    )
    skipped_kinds = {
        "trigger": "triggers",
        "policy": "row_security",
        "function": "functions",
        "exclusion constraint": "exclusion_constraints",
    }
    out = {}
    for kind, name, text, table in rows:
        # the owning table is left out when partitions are not compared
        if skipped_kinds.get(kind, "") in skip or (table is not None and table not in relations):
            continue
        out[f"{kind} {name}"] = text
    return out


def _enums(c: Conn, schema: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, label in c.rows(
        """SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
           JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %s
           ORDER BY t.typname, e.enumsortorder""",
        [schema],
    ):
        out.setdefault(name, []).append(label)
    return out


def _domains(
    c: Conn, schema: str, unq: Callable[[str | None], str | None]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for oid, name, base, not_null, default, coll in c.rows(
        """SELECT t.oid, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                  pg_get_expr(t.typdefaultbin, 0), co.collname
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> 100
           WHERE n.nspname = %s AND t.typtype = 'd'""",
        [schema],
    ):
        out[name] = {
            "base type": unq(base),
            "not null": not_null,
            "default": unq(default),
            "collation": coll,
        }
        for con, definition in c.rows(
            "SELECT conname, pg_get_constraintdef(oid, true) FROM pg_constraint "
            "WHERE contypid = %s",
            [oid],
        ):
            out[name][f"constraint {con}"] = unq(definition)
    return out


def _composites(c: Conn, schema: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for name, att, typ in c.rows(
        """SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod)
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
           JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = %s ORDER BY t.typname, a.attnum""",
        [schema],
    ):
        out.setdefault(name, []).append((att, typ))
    return out


def _triggers(
    c: Conn,
    schema: str,
    unq: Callable[[str | None], str | None],
    relations: dict[str, Relation],
) -> dict[tuple[str, str], str]:
    return {
        (table, name): f"{unq(definition)} [enabled={enabled}]"
        for table, name, definition, enabled in c.rows(
            """SELECT r.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled
               FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
               JOIN pg_namespace n ON n.oid = r.relnamespace
               WHERE n.nspname = %s AND NOT t.tgisinternal""",
            [schema],
        )
        if table in relations
    }


def _policies(
    c: Conn, schema: str, relations: dict[str, Relation]
) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (table, name): tuple(rest)
        for table, name, *rest in c.rows(
            """SELECT r.relname, p.polname, p.polcmd, p.polpermissive,
                      ARRAY(SELECT CASE WHEN o = 0 THEN 'public' ELSE pg_get_userbyid(o) END
                            FROM unnest(p.polroles) o ORDER BY 1),
                      pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
               FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid
               JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = %s""",
            [schema],
        )
        if table in relations
    }


def _functions(c: Conn, schema: str, unq: Callable[[str | None], str | None]) -> dict[str, str]:
    return {
        f"{name}({args})": unq(definition) or ""
        for name, args, definition in c.rows(
            """SELECT p.proname, pg_get_function_identity_arguments(p.oid),
                      CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid)
                           ELSE p.prokind::text END
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = %s""",
            [schema],
        )
    }
