"""PostgreSQL -> PostgreSQL: every definition kept as its source wrote it.

Between two databases of the same dialect nothing goes through the neutral model: the
server renders each definition itself (``format_type``, ``pg_get_expr``,
``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_viewdef``), which is how
``pg_dump`` works. Those functions qualify a name only when the session's
``search_path`` does not reach it, so everything is read with ``search_path`` set to
the source schema alone (``pg_catalog`` is searched first, implicitly): the text names
the schema's own objects unqualified, and replayed in a session whose ``search_path``
is the target schema alone (:func:`search_path_sql`) it lands there, whatever that
schema is called. Objects of other schemas stay qualified and must exist on the
target; ``notes`` names them, and everything else that is not carried (triggers, rules,
row-level security, grants, partitions, ...).

``pg_get_indexdef`` is the exception: unless pretty-printing (which dumps avoid: its
fewer parentheses are not promised to read back the same), ruleutils names the table
with ``generate_qualified_relation_name``, so that one prefix is rewritten. Any other
schema-qualified name that survives (a function that a ``pg_catalog`` one of the same
name shadows, a name inside a string) is named in a note.

Replay order and the statement kinds: see :class:`Replica` and :class:`Ddl`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from arrowferry.dialects.postgresql.connection import fetch, literal
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SchemaError

# what ruleutils' output depends on besides search_path: pg_dump's own settings, so a
# default's or a CHECK's constants read back the same on any server
_RENDER = {"DateStyle": "ISO", "IntervalStyle": "postgres", "extra_float_digits": "3"}

_STORAGE = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}


@dataclass(frozen=True, slots=True)
class Ddl:
    """One statement of the copy; ``kind`` uses the finisher's words where they exist.

    Kinds: ``type``, ``domain``, ``create_sequence``, ``table``, ``alter_column``,
    ``owned_by``, ``primary_key``, ``unique``, ``check``, ``exclude``, ``foreign_key``,
    ``index``, ``sequence`` (a ``setval``), ``view``, ``materialized_view``, ``comment``.
    """

    kind: str
    sql: str
    name: str  # the object it makes or touches (as the source spells it)
    table: str | None = None  # the table (or view) it belongs to
    fallback_sql: str | None = None  # the NOT VALID form, for rows that violate it
    depends: tuple[str, ...] = ()  # other tables that must exist and be loaded


@dataclass(frozen=True, slots=True)
class ReplicaTable:
    name: str
    create_sql: str  # columns, defaults, identity, generated; no keys, no indexes
    columns: tuple[str, ...]  # the columns that take data, in COPY order
    generated: tuple[str, ...]  # GENERATED ALWAYS AS (...) STORED: computed by the target
    alter_sql: tuple[str, ...] = ()  # column settings run right after CREATE TABLE
    partitioned: bool = False  # a partitioned parent, created as one plain table


@dataclass(frozen=True, slots=True)
class Replica:
    """A schema's definitions, in replay order (each field after the previous ones).

    Replay every statement in a session whose search_path is the target schema alone
    (:func:`search_path_sql`). Before the data: ``types``, ``sequences``, ``tables``
    (``create_sql`` then ``alter_sql``), ``owned_by``. After it: ``constraints``
    (PRIMARY KEY, UNIQUE, CHECK, EXCLUDE, then FOREIGN KEY; a foreign key may need a
    unique index of ``indexes``, so run those first), ``indexes``, ``sequence_values``,
    ``views`` (views and materialized views, in dependency order), ``view_indexes``,
    ``comments``. ``notes``: one sentence per thing not carried.
    """

    schema: str
    types: tuple[Ddl, ...]
    sequences: tuple[Ddl, ...]
    tables: tuple[ReplicaTable, ...]
    owned_by: tuple[Ddl, ...]
    constraints: tuple[Ddl, ...]
    indexes: tuple[Ddl, ...]
    sequence_values: tuple[Ddl, ...]
    views: tuple[Ddl, ...]
    view_indexes: tuple[Ddl, ...]
    comments: tuple[Ddl, ...]
    notes: tuple[str, ...]

    def before_data(self) -> list[Ddl]:
        """Everything that must exist before the rows are copied, in order."""
        tables = [
            Ddl(kind, sql, t.name, t.name)
            for t in self.tables
            for kind, sql in (("table", t.create_sql), *(("alter_column", a) for a in t.alter_sql))
        ]
        return [*self.types, *self.sequences, *tables, *self.owned_by]

    def after_data(self) -> list[Ddl]:
        """Everything that follows the rows, in an order that works on one session."""
        keys = [d for d in self.constraints if d.kind != "foreign_key"]
        fks = [d for d in self.constraints if d.kind == "foreign_key"]
        return [
            *keys,
            *self.indexes,
            *fks,
            *self.sequence_values,
            *self.views,
            *self.view_indexes,
            *self.comments,
        ]


def search_path_sql(target_schema: str) -> str:
    """The setting a replay session needs: the target schema alone (pg_catalog first)."""
    return f"SET search_path = {quote_ident(target_schema)}"


def read_replica(conn: Any, schema: str, tables: Sequence[str]) -> Replica:
    """Read ``tables`` of ``schema`` and the schema's types, sequences and views.

    ``conn`` is a source connection, ideally inside the run's REPEATABLE READ snapshot.
    Its settings are changed only while reading and put back afterwards.

    Examples
    --------
    >>> replica = read_replica(conn, "app", ["users", "orders"])  # doctest: +SKIP
    >>> for ddl in replica.before_data():  # doctest: +SKIP
    ...     target.execute(ddl.sql)
    """
    with _rendering(conn, schema):
        found = fetch(
            conn,
            "SELECT oid::bigint, quote_ident(nspname) FROM pg_namespace WHERE nspname = $1",
            [schema],
        )
        if not found:
            raise SchemaError(f"schema {schema!r} does not exist in the source")
        return _Reader(conn, schema, found[0][1], list(tables)).read()


@contextmanager
def _rendering(conn: Any, schema: str) -> Iterator[None]:
    names = ["search_path", *_RENDER]
    saved = fetch(conn, "SELECT " + ", ".join(f"current_setting({literal(n)})" for n in names))
    _set(conn, dict(zip(names, [quote_ident(schema), *_RENDER.values()], strict=True)))
    try:
        yield
    except BaseException:
        # in an aborted transaction this fails, and the rollback restores them anyway
        with suppress(Exception):
            _set(conn, dict(zip(names, saved[0], strict=True)))
        raise
    _set(conn, dict(zip(names, saved[0], strict=True)))


def _set(conn: Any, settings: Mapping[str, str]) -> None:
    # session-wide (not LOCAL): the caller may be in autocommit, where a LOCAL setting
    # would end with the statement that made it
    fetch(
        conn,
        "SELECT "
        + ", ".join(
            f"set_config({literal(k)}, {literal(str(v))}, false)" for k, v in settings.items()
        ),
    )


# --- the catalog queries: one per kind of object, never one per column ----------------

_IN_SCHEMA = "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1"
_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = {cls}::regclass "
    "AND e.objid = {oid} AND e.deptype = 'e')"
)

_Q_TABLES = f"""
SELECT c.relname, c.relkind::text, c.relpersistence::text,
  coalesce(c.reloptions, '{{}}')::text[], coalesce(tc.reloptions, '{{}}')::text[],
  CASE WHEN c.relkind = 'r' AND am.amname <> 'heap' THEN am.amname::text END,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  ARRAY(SELECT k.relname::text FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
        WHERE i.inhparent = c.oid ORDER BY 1),
  ARRAY(SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid
        ORDER BY i.inhseqno),
  c.relrowsecurity, c.relforcerowsecurity,
  ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1),
  CASE WHEN c.reloftype <> 0 THEN c.reloftype::regtype::text END,
  c.relreplident::text,
  (SELECT s.spcname::text FROM pg_tablespace s WHERE s.oid = c.reltablespace),
  (SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
   WHERE x.indrelid = c.oid AND x.indisclustered)
FROM pg_class c LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
LEFT JOIN pg_am am ON am.oid = c.relam
{_IN_SCHEMA} AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""

_Q_COLUMNS = f"""
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
  pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
  CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END,
  CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END,
  coalesce(a.attstattarget, -1)::int, coalesce(a.attoptions, '{{}}')::text[],
  ids.relname, ids.seqstart, ids.seqincrement, ids.seqmin, ids.seqmax, ids.seqcache,
  ids.seqcycle
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
  AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL (
  SELECT s.relname::text, q.* FROM pg_depend dp JOIN pg_class s ON s.oid = dp.objid
  JOIN pg_sequence q ON q.seqrelid = s.oid
  WHERE dp.classid = 'pg_class'::regclass AND dp.refclassid = 'pg_class'::regclass
    AND dp.refobjid = c.oid AND dp.refobjsubid = a.attnum AND dp.deptype = 'i' LIMIT 1
) ids ON a.attidentity <> ''
{_IN_SCHEMA} AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""

_Q_SEQUENCES = f"""
SELECT c.relname, c.relpersistence::text, format_type(q.seqtypid, NULL), q.seqstart,
  q.seqincrement, q.seqmin, q.seqmax, q.seqcache, q.seqcycle, dp.deptype::text,
  t.relname, ta.attname,
  EXISTS (SELECT 1 FROM pg_depend u JOIN pg_attrdef d ON d.oid = u.objid
          JOIN pg_class k ON k.oid = d.adrelid
          WHERE u.classid = 'pg_attrdef'::regclass AND u.refclassid = 'pg_class'::regclass
            AND u.refobjid = c.oid AND k.relnamespace = c.relnamespace AND k.relname = ANY($2))
FROM pg_class c JOIN pg_sequence q ON q.seqrelid = c.oid
LEFT JOIN pg_depend dp ON dp.classid = 'pg_class'::regclass AND dp.objid = c.oid
  AND dp.refclassid = 'pg_class'::regclass AND dp.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = dp.refobjid AND t.relnamespace = c.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = t.oid AND ta.attnum = dp.refobjsubid
{_IN_SCHEMA} AND c.relkind = 'S' AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
ORDER BY c.relname
"""

_ATTRS = "FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
_DOMAIN_CHECKS = "FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'"
_Q_TYPES = f"""
SELECT t.oid::bigint, t.typname, t.typtype::text,
  ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
        ORDER BY e.enumsortorder),
  format_type(t.typbasetype, t.typtypmod), t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
  CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation
       THEN t.typcollation::regcollation::text END,
  ARRAY(SELECT k.conname::text {_DOMAIN_CHECKS} ORDER BY k.conname),
  ARRAY(SELECT pg_get_constraintdef(k.oid) {_DOMAIN_CHECKS} ORDER BY k.conname),
  ARRAY(SELECT a.attname::text {_ATTRS} ORDER BY a.attnum),
  ARRAY(SELECT format_type(a.atttypid, a.atttypmod) {_ATTRS} ORDER BY a.attnum),
  ARRAY(SELECT coalesce(CASE WHEN a.attcollation <> (SELECT x.typcollation FROM pg_type x
        WHERE x.oid = a.atttypid) THEN a.attcollation::regcollation::text END, '')
        {_ATTRS} ORDER BY a.attnum),
  format_type(r.rngsubtype, NULL),
  CASE WHEN NOT o.opcdefault THEN CASE WHEN pg_opclass_is_visible(o.oid)
    THEN quote_ident(o.opcname) ELSE quote_ident(opn.nspname) || '.' || quote_ident(o.opcname)
    END END,
  CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
       THEN r.rngcollation::regcollation::text END,
  NULLIF(r.rngcanonical, 0)::regproc::text, NULLIF(r.rngsubdiff, 0)::regproc::text,
  r.rngmultitypid::regtype::text,
  ARRAY(SELECT DISTINCT (CASE WHEN x.typcategory = 'A' AND x.typelem <> 0 THEN x.typelem
        ELSE x.oid END)::bigint FROM pg_type x WHERE x.oid IN (
    SELECT t.typbasetype UNION ALL SELECT r.rngsubtype UNION ALL SELECT a.atttypid {_ATTRS}
    UNION ALL SELECT d.refobjid FROM pg_depend d WHERE d.refclassid = 'pg_type'::regclass
      AND ((d.classid = 'pg_type'::regclass AND d.objid = t.oid)
        OR (d.classid = 'pg_constraint'::regclass
            AND d.objid IN (SELECT k.oid {_DOMAIN_CHECKS})))))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_class tr ON tr.oid = t.typrelid
LEFT JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_type st ON st.oid = r.rngsubtype
LEFT JOIN pg_opclass o ON o.oid = r.rngsubopc
LEFT JOIN pg_namespace opn ON opn.oid = o.opcnamespace
WHERE n.nspname = $1 AND {_NOT_EXTENSION.format(cls="'pg_type'", oid="t.oid")}
  AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND tr.relkind = 'c')
       OR (t.typtype = 'b' AND t.typcategory <> 'A'))
ORDER BY t.typname
"""

_Q_CONSTRAINTS = f"""
SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), f.relname,
  f.relnamespace = c.relnamespace
FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid
LEFT JOIN pg_class f ON f.oid = k.confrelid
{_IN_SCHEMA} AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
  AND k.contype IN ('p', 'u', 'c', 'x', 'f')
ORDER BY c.relname, k.conname
"""

_Q_INDEXES = f"""
SELECT c.relname, i.relname, pg_get_indexdef(i.oid), x.indisunique, quote_ident(i.relname),
  quote_ident(n.nspname) || '.' || quote_ident(c.relname), x.indisvalid, i.reltablespace <> 0
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
{_IN_SCHEMA} AND ((c.relkind IN ('r', 'p') AND c.relname = ANY($2)) OR c.relkind = 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid
                  AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY c.relname, i.relname
"""

_Q_VIEWS = f"""
SELECT c.relname, c.relkind::text, pg_get_viewdef(c.oid), coalesce(c.reloptions, '{{}}')::text[],
  c.relispopulated,
  ARRAY(SELECT DISTINCT k.relname::text FROM pg_rewrite r JOIN pg_depend d
        ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
        JOIN pg_class k ON k.oid = d.refobjid
        WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid <> c.oid AND k.relnamespace = c.relnamespace)
FROM pg_class c {_IN_SCHEMA} AND c.relkind IN ('v', 'm')
  AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
ORDER BY c.relname
"""

_Q_COMMENTS = """
SELECT 'rel', c.relkind::text, c.relname::text, a.attname::text, d.description, NULL::text
FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE n.nspname = $1 AND (d.objsubid = 0 OR a.attnum IS NOT NULL)
UNION ALL
SELECT 'type', t.typtype::text, t.typname::text, NULL, d.description, NULL
FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1
UNION ALL
SELECT 'constraint', CASE WHEN k.contypid <> 0 THEN 'd' ELSE 'r' END, k.conname::text, NULL,
  d.description, coalesce(c.relname, t.typname)::text
FROM pg_description d JOIN pg_constraint k
  ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid
JOIN pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
WHERE n.nspname = $1
ORDER BY 1, 3, 4
"""

# (kind, name, relation, detail) of what the copy leaves behind
_Q_LEFT_BEHIND = """
SELECT 'trigger', g.tgname::text, c.relname::text, g.tgfoid::regprocedure::text
FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT g.tgisinternal
UNION ALL
SELECT 'rule', r.rulename::text, c.relname::text, NULL FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'statistics', s.stxname::text, c.relname::text, NULL FROM pg_statistic_ext s
JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
UNION ALL
SELECT 'publication', p.pubname::text, c.relname::text, NULL FROM pg_publication_rel pr
JOIN pg_publication p ON p.oid = pr.prpubid JOIN pg_class c ON c.oid = pr.prrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
UNION ALL
SELECT 'publication', p.pubname::text, NULL, 'FOR ALL TABLES' FROM pg_publication p
WHERE p.puballtables
UNION ALL
SELECT 'publication', p.pubname::text, NULL, 'FOR TABLES IN SCHEMA'
FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE n.nspname = $1
UNION ALL
SELECT 'event trigger', e.evtname::text, NULL, e.evtfoid::regprocedure::text
FROM pg_event_trigger e
UNION ALL
SELECT 'grant', c.relname::text, c.relkind::text, NULL FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT 'grant', t.typname::text, 'type', NULL FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typacl IS NOT NULL
UNION ALL
SELECT DISTINCT 'owner', pg_get_userbyid(c.relowner)::text, NULL, NULL FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
  (pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity, NULL, NULL FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
-- a range type's constructors are internal to it: CREATE TYPE makes them
WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend e
  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
UNION ALL
SELECT 'extension', x.extname::text, NULL, NULL FROM pg_extension x
JOIN pg_namespace n ON n.oid = x.extnamespace WHERE n.nspname = $1
UNION ALL
SELECT 'foreign table', c.relname::text, NULL, NULL FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'f'
UNION ALL
SELECT o.kind, o.name, NULL, NULL FROM (
  SELECT 'operator' AS kind, x.oid::regoperator::text AS name, x.oprnamespace AS ns,
    'pg_operator'::regclass AS cls, x.oid FROM pg_operator x
  UNION ALL SELECT 'collation', x.collname::text, x.collnamespace, 'pg_collation'::regclass,
    x.oid FROM pg_collation x
  UNION ALL SELECT 'text search configuration', x.cfgname::text, x.cfgnamespace,
    'pg_ts_config'::regclass, x.oid FROM pg_ts_config x
) o JOIN pg_namespace n ON n.oid = o.ns WHERE n.nspname = $1 AND NOT EXISTS (
  SELECT 1 FROM pg_depend e WHERE e.classid = o.cls AND e.objid = o.oid AND e.deptype = 'e')
"""

# what the schema's objects use from other schemas or from extensions: the relation
# they belong to (0: a type), the dependent, the object used and its extension
_Q_USES = f"""
WITH rel AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
), mine(classid, objid, relid) AS (
  SELECT 'pg_class'::regclass, rel.oid, rel.oid FROM rel
  UNION ALL SELECT 'pg_attrdef'::regclass, d.oid, d.adrelid FROM pg_attrdef d
    JOIN rel ON rel.oid = d.adrelid
  UNION ALL SELECT 'pg_constraint'::regclass, k.oid, k.conrelid FROM pg_constraint k
    JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1
  UNION ALL SELECT 'pg_rewrite'::regclass, r.oid, r.ev_class FROM pg_rewrite r
    JOIN rel ON rel.oid = r.ev_class
  UNION ALL SELECT 'pg_type'::regclass, t.oid, t.typrelid FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = $1 AND {_NOT_EXTENSION.format(cls="'pg_type'", oid="t.oid")}
)
SELECT DISTINCT (SELECT c.relname::text FROM pg_class c WHERE c.oid = m.relid),
  pg_describe_object(d.classid, d.objid, d.objsubid), u.type, u.identity, u.schema,
  x.extname::text
FROM mine m JOIN pg_depend d ON d.classid = m.classid AND d.objid = m.objid
  AND d.deptype = 'n'
CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) u
LEFT JOIN pg_depend e ON e.classid = d.refclassid AND e.objid = d.refobjid AND e.deptype = 'e'
LEFT JOIN pg_extension x ON x.oid = e.refobjid
WHERE u.schema NOT IN ('pg_catalog', 'information_schema')
  -- pg_identify_object quotes the schema name where it needs quotes
  AND (u.schema <> quote_ident($1) OR x.oid IS NOT NULL OR d.refclassid = 'pg_proc'::regclass)
ORDER BY 4, 2
"""


# --- reading and rendering ------------------------------------------------------------

_CONSTRAINT_ORDER = {"p": 0, "u": 1, "c": 2, "x": 3, "f": 4}
_CONSTRAINT_KIND = {
    "p": "primary_key",
    "u": "unique",
    "c": "check",
    "x": "exclude",
    "f": "foreign_key",
}


class _Reader:
    """One read of one schema; each method reads one kind of object."""

    def __init__(self, conn: Any, schema: str, quoted_schema: str, tables: list[str]) -> None:
        self.conn = conn
        self.schema = schema
        self.quoted_schema = quoted_schema  # as the server writes it (quote_ident)
        self.names = tables
        self.notes: list[str] = []

    def fetch(self, sql: str, *, with_tables: bool = False) -> list[tuple[Any, ...]]:
        return fetch(self.conn, sql, [self.schema, self.names] if with_tables else [self.schema])

    def read(self) -> Replica:
        tables = self._tables()
        carried = {t.name for t in tables}
        sequences, owned_by, values = self._sequences(carried)
        constraints = self._constraints(carried)
        indexes = self._indexes(carried)
        views, views_carried = self._views(carried | {s.name for s in values})
        view_indexes = tuple(d for d in indexes if d.table in views_carried)
        indexes = tuple(d for d in indexes if d.table in carried)
        types = self._types()
        type_names = {d.name for d in types}
        relations = (
            carried
            | views_carried
            | type_names  # a composite type's columns are a pg_class relation's
            | {d.name for d in (*values, *indexes, *view_indexes)}
            | {d.name for d in constraints if d.kind in {"primary_key", "unique", "exclude"}}
        )
        comments = self._comments(
            relations, type_names, {(d.table or "", d.name) for d in constraints}
        )
        named = self._uses(relations)
        self._left_behind(carried, views_carried, named)
        replica = Replica(
            self.schema,
            types,
            sequences,
            tables,
            owned_by,
            constraints,
            indexes,
            values,
            views,
            view_indexes,
            comments,
            (),
        )
        self._still_qualified(replica)
        return replace(replica, notes=tuple(self.notes))

    # --- tables -------------------------------------------------------------------

    def _tables(self) -> tuple[ReplicaTable, ...]:
        rows = self.fetch(_Q_TABLES, with_tables=True)
        missing = sorted(set(self.names) - {r[0] for r in rows})
        if missing:
            raise SchemaError(
                f"no table {', '.join(missing)} in schema {self.schema!r} of the source"
            )
        columns: dict[str, list[tuple[Any, ...]]] = {}
        for row in self.fetch(_Q_COLUMNS, with_tables=True):
            columns.setdefault(row[0], []).append(row[1:])
        tables = []
        for name, kind, persistence, options, toast, method, partkey, *rest in rows:
            children, parents, rls, force_rls, policies, of_type, ident, space, cluster = rest
            self._table_notes(name, partkey, children, parents, of_type, ident, space)
            if cluster is not None:
                self.notes.append(f"table {name} is CLUSTERed ON index {cluster}: not carried")
            self._rls_notes(name, rls, force_rls, policies)
            cols = columns.get(name, [])
            with_ = [*options, *(f"toast.{o}" for o in toast)]
            tail = f" USING {quote_ident(method)}" if method else ""
            tail += f" WITH ({_options(with_)})" if with_ else ""
            body = ",\n  ".join(_column_sql(c) for c in cols)
            unlogged = "UNLOGGED " if persistence == "u" else ""
            tables.append(
                ReplicaTable(
                    name,
                    f"CREATE {unlogged}TABLE {quote_ident(name)} (\n  {body}\n){tail}",
                    tuple(c[0] for c in cols if not c[5]),
                    tuple(c[0] for c in cols if c[5]),
                    tuple(s for c in cols for s in _column_settings(name, c)),
                    partitioned=kind == "p",
                )
            )
        return tuple(tables)

    def _table_notes(
        self,
        name: str,
        partkey: str | None,
        children: list[str],
        parents: list[str],
        of_type: str | None,
        ident: str,
        space: str | None,
    ) -> None:
        if partkey is not None:
            parts = f"; partitions {_names(children)}" if children else ""
            self.notes.append(
                f"table {name} is partitioned (PARTITION BY {partkey}{parts}): it is created "
                "as one plain table holding every partition's rows; the partitions are not"
            )
        elif children:
            self.notes.append(
                f"table {name} has inheritance children ({_names(children)}): it is created "
                "as a plain table holding only its own rows"
            )
        if parents and partkey is None:
            self.notes.append(
                f"table {name} inherits from {_names(parents)}: it is created as a plain "
                "table with all its columns (INHERITS is not carried)"
            )
        if of_type:
            self.notes.append(
                f"table {name} is a typed table (OF {of_type}): created with its columns, not OF the type"
            )
        if ident not in {"d", "p"}:
            what = {"n": "NOTHING", "f": "FULL", "i": "USING INDEX"}.get(ident, ident)
            self.notes.append(f"table {name}'s REPLICA IDENTITY {what} is not carried")
        if space:
            self.notes.append(
                f"table {name} lives in tablespace {space}: it is created in the target's default"
            )

    def _rls_notes(self, name: str, rls: bool, force: bool, policies: list[str]) -> None:
        if not (rls or force or policies):
            return
        said = []
        if rls:
            said.append("ENABLE ROW LEVEL SECURITY")
        if force:
            said.append("FORCE ROW LEVEL SECURITY")
        if policies:
            said.append(f"{'policy' if len(policies) == 1 else 'policies'} {_names(policies)}")
        self.notes.append(
            f"row-level security on table {name} ({', '.join(said)}) is not carried: "
            "on the target every row is visible to whoever may read the table"
        )

    # --- sequences ----------------------------------------------------------------

    def _sequences(
        self, carried: set[str]
    ) -> tuple[tuple[Ddl, ...], tuple[Ddl, ...], tuple[Ddl, ...]]:
        creates, owned, kept = [], [], []
        for name, persistence, typ, *numbers, deptype, table, column, called_by_copy in self.fetch(
            _Q_SEQUENCES, with_tables=True
        ):
            if table is not None and table not in carried:
                if deptype == "i" or not called_by_copy:
                    continue  # it belongs to a table that is not copied
                table = None  # a copied table's default calls it: made, owned by no one
            kept.append((name, table))
            if deptype == "i":
                continue  # the identity column's CREATE TABLE makes it
            unlogged = "UNLOGGED " if persistence == "u" else ""
            creates.append(
                Ddl(
                    "create_sequence",
                    f"CREATE {unlogged}SEQUENCE {quote_ident(name)} AS {typ} "
                    + _sequence_options(*numbers),
                    name,
                    table,
                )
            )
            if table is not None:
                owned.append(
                    Ddl(
                        "owned_by",
                        f"ALTER SEQUENCE {quote_ident(name)} OWNED BY "
                        f"{quote_ident(table)}.{quote_ident(column)}",
                        name,
                        table,
                    )
                )
            elif deptype == "a":
                self.notes.append(
                    f"sequence {name} is created without its OWNED BY: the table that owns "
                    "it is not copied"
                )
        return tuple(creates), tuple(owned), self._sequence_values(kept)

    def _sequence_values(self, sequences: list[tuple[str, str | None]]) -> tuple[Ddl, ...]:
        if not sequences:
            return ()
        # last_value and is_called live only in each sequence's own row (pg_dump reads
        # them the same way); one UNION ALL reads them all in one round trip
        rows = fetch(
            self.conn,
            " UNION ALL ".join(
                f"SELECT {i}, last_value, is_called FROM {self.quoted_schema}.{quote_ident(name)}"
                for i, (name, _) in enumerate(sequences)
            ),
        )
        values = []
        for i, last, called in sorted(rows):
            name, table = sequences[i]
            sql = (
                f"SELECT pg_catalog.setval({literal(quote_ident(name))}, {int(last)}, "
                f"{'true' if called else 'false'})"
            )
            values.append(Ddl("sequence", sql, name, table))
        return tuple(values)

    # --- after the load: constraints, indexes, views --------------------------------

    def _constraints(self, carried: set[str]) -> tuple[Ddl, ...]:
        found = []
        for table, name, kind, definition, ref, same_schema in self.fetch(
            _Q_CONSTRAINTS, with_tables=True
        ):
            if kind == "f" and same_schema and ref not in carried:
                self.notes.append(
                    f"foreign key {name} of table {table} is not created: it references "
                    f"table {ref}, which is not copied"
                )
                continue
            fallback = None
            if kind in {"c", "f"} and not definition.endswith(" NOT VALID"):
                fallback = _add_constraint(table, name, definition + " NOT VALID")
            depends = (ref,) if kind == "f" and same_schema and ref != table else ()
            ddl = Ddl(
                _CONSTRAINT_KIND[kind],
                _add_constraint(table, name, definition),
                name,
                table,
                fallback,
                depends,
            )
            found.append((_CONSTRAINT_ORDER[kind], table, name, ddl))
        return tuple(d for *_, d in sorted(found))

    def _indexes(self, carried: set[str]) -> tuple[Ddl, ...]:
        indexes = []
        for (
            table,
            name,
            definition,
            unique,
            quoted,
            qualified,
            valid,
            spaced,
        ) in self.fetch(_Q_INDEXES, with_tables=True):
            if not valid:
                self.notes.append(
                    f"index {name} of {table} is not created: it is invalid in the source "
                    "(a failed CREATE INDEX CONCURRENTLY)"
                )
                continue
            if spaced:
                self.notes.append(
                    f"index {name} lives in a tablespace: it is created in the target's default"
                )
            sql = _unqualify_index(definition, bool(unique), quoted, qualified, table)
            indexes.append(Ddl("index", sql, name, table))
        return tuple(indexes)

    def _views(self, available: set[str]) -> tuple[tuple[Ddl, ...], set[str]]:
        rows = {r[0]: r for r in self.fetch(_Q_VIEWS)}
        done: dict[str, bool] = {}
        order: list[str] = []

        def visit(name: str) -> bool:
            if name in done:
                return done[name]
            done[name] = False  # a cycle (impossible in PostgreSQL) would stop here
            lacking = []
            for used in rows[name][5]:
                if used in rows:
                    if not visit(used):
                        lacking.append(used)
                elif used not in available:
                    lacking.append(used)
            if lacking:
                self.notes.append(
                    f"{_VIEW_WORD[rows[name][1]]} {name} is not created: it reads "
                    f"{_names(lacking)}, which {'is' if len(lacking) == 1 else 'are'} not copied"
                )
            else:
                order.append(name)
            done[name] = not lacking
            return done[name]

        for name in rows:
            visit(name)
        return tuple(_view_ddl(*rows[name][:5]) for name in order), set(order)

    # --- types --------------------------------------------------------------------

    def _types(self) -> tuple[Ddl, ...]:
        made: dict[int, list[Ddl]] = {}
        deps: dict[int, list[int]] = {}
        for oid, name, kind, labels, base, notnull, default, collation, *rest in self.fetch(
            _Q_TYPES
        ):
            check_names, check_defs, attnames, atttypes, attcolls, *rng, uses = rest
            if kind == "b":
                self.notes.append(
                    f"base type {name} is not created: it needs its C input and output "
                    "functions (CREATE TYPE ... (INPUT = ...)) on the target first"
                )
                continue
            deps[oid] = list(uses)
            q = quote_ident(name)
            if kind == "e":
                made[oid] = [
                    _type(name, f"CREATE TYPE {q} AS ENUM ({', '.join(map(literal, labels))})")
                ]
            elif kind == "c":
                fields = ", ".join(
                    f"{quote_ident(a)} {t}" + (f" COLLATE {c}" if c else "")
                    for a, t, c in zip(attnames, atttypes, attcolls, strict=True)
                )
                made[oid] = [_type(name, f"CREATE TYPE {q} AS ({fields})")]
            elif kind == "r":
                made[oid] = [_type(name, f"CREATE TYPE {q} AS RANGE ({_range_options(*rng)})")]
            else:
                made[oid] = _domain(
                    name, base, collation, default, notnull, check_names, check_defs
                )
        return tuple(d for oid in _topological(deps) for d in made[oid])

    # --- comments -----------------------------------------------------------------

    def _comments(
        self, relations: set[str], types: set[str], constraints: set[tuple[str, str]]
    ) -> tuple[Ddl, ...]:
        comments = []
        for what, kind, name, column, text, parent in self.fetch(_Q_COMMENTS):
            target = None
            if what == "rel" and name in relations:
                if column is not None:
                    target = f"COLUMN {quote_ident(name)}.{quote_ident(column)}"
                elif kind in _REL_WORD:
                    target = f"{_REL_WORD[kind]} {quote_ident(name)}"
            elif what == "type" and name in types:
                target = f"{'DOMAIN' if kind == 'd' else 'TYPE'} {quote_ident(name)}"
            elif what == "constraint" and (
                (kind == "d" and parent in types) or (parent, name) in constraints
            ):
                on = "DOMAIN " if kind == "d" else ""
                target = f"CONSTRAINT {quote_ident(name)} ON {on}{quote_ident(parent)}"
            if target is not None:
                comments.append(
                    Ddl("comment", f"COMMENT ON {target} IS {literal(text)}", name, parent or name)
                )
        return tuple(comments)

    # --- what is not carried ------------------------------------------------------

    def _left_behind(self, tables: set[str], views: set[str], named: set[str]) -> None:
        owners: list[str] = []
        grants: list[str] = []
        for kind, name, rel, detail in self.fetch(_Q_LEFT_BEHIND):
            if kind == "owner":
                owners.append(name)
            elif kind == "grant":
                if name in tables | views or rel in {"S", "type"}:
                    grants.append(name)
            elif name in named and kind in {"extension", "function", "procedure", "aggregate"}:
                continue  # already named, with what needs it
            elif kind in {"trigger", "rule", "statistics", "publication"} and rel is not None:
                if rel in tables or rel in views:
                    self.notes.append(_left_behind_note(kind, name, rel, detail))
            else:
                self.notes.append(_left_behind_note(kind, name, rel, detail))
        if grants:
            self.notes.append(f"privileges (GRANT/REVOKE) on {_names(grants)} are not carried")
        if owners:
            self.notes.append(
                "owners are not carried: the copies belong to the role that creates them "
                f"(in the source: {_names(sorted(owners))})"
            )

    def _uses(self, relations: set[str]) -> set[str]:
        """Name what the copy needs from other schemas and extensions (it stays qualified),
        and the functions of this schema it calls; return the names given."""
        named: set[str] = set()
        used: dict[tuple[str, str, str, str | None], list[str]] = {}
        for rel, dependent, kind, identity, schema, extension in self.fetch(_Q_USES):
            if rel is None or rel in relations:
                key = (kind, identity, schema, extension)
                used.setdefault(key, []).append(dependent)
        extensions: dict[str, list[str]] = {}
        homes: dict[str, str] = {}
        for (kind, identity, schema, extension), dependents in used.items():
            by = _names(dependents, 3)
            if extension is not None:
                extensions.setdefault(extension, []).append(f"{kind} {identity} ({by})")
                homes[extension] = schema
            elif schema == self.quoted_schema:  # a function the schema's own objects call
                named.add(identity)
                self.notes.append(
                    f"{kind} {identity} is not carried, yet {by} uses it: create it on the "
                    "target, in the target schema, before the finishing statements"
                )
            else:
                self.notes.append(
                    f"{kind} {identity} of another schema is not created, yet {by} uses it: "
                    "it must exist on the target under that name"
                )
        for extension, what in sorted(extensions.items()):
            # the definitions name an extension of this schema unqualified: on the target
            # it must live in the target schema; elsewhere, in the schema of the same name
            where = (
                "SCHEMA <the target schema>"
                if homes[extension] == self.quoted_schema
                else f"SCHEMA {homes[extension]}"
            )
            self.notes.append(
                f"extension {extension} is not created ({'; '.join(what)}): run CREATE "
                f"EXTENSION {extension} {where} on the target first (arrowferry does not)"
            )
        return named | set(extensions)

    def _still_qualified(self, replica: Replica) -> None:
        """Name each statement that still spells the source schema (the trick missed it)."""
        pattern = re.compile(rf"(?<![\w$\".]){re.escape(self.quoted_schema)}\.(?=[\w\"])")
        statements = [
            (f"table {t.name}", s) for t in replica.tables for s in (t.create_sql, *t.alter_sql)
        ]
        for group in (
            replica.types,
            replica.sequences,
            replica.constraints,
            replica.indexes,
            replica.views,
            replica.view_indexes,
        ):
            statements += [(f"{d.kind.replace('_', ' ')} {d.name}", d.sql) for d in group]
        for label, sql in statements:
            found = pattern.search(sql)
            if found is not None:
                seen = " ".join(sql[max(0, found.start() - 40) : found.end() + 40].split())
                self.notes.append(
                    f"{label} still names schema {self.schema} explicitly (...{seen}...): "
                    "copied into a schema of another name it refers to the source's schema"
                )


# --- rendering helpers ----------------------------------------------------------------

_REL_WORD = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
    "i": "INDEX",
    "I": "INDEX",
}
_VIEW_WORD = {"v": "view", "m": "materialized view"}


def _names(names: Sequence[str], most: int | None = None) -> str:
    shown = list(names) if most is None else list(names)[:most]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _options(options: Sequence[str]) -> str:
    """Storage parameters (``fillfactor=70``) as a WITH list, each value quoted."""
    parts = []
    for option in options:
        key, _, value = option.partition("=")
        parts.append(f"{key}={literal(value)}")
    return ", ".join(parts)


def _sequence_options(
    start: int, increment: int, low: int, high: int, cache: int, cycle: bool
) -> str:
    return (
        f"START WITH {start} INCREMENT BY {increment} MINVALUE {low} MAXVALUE {high} "
        f"CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
    )


def _column_sql(column: tuple[Any, ...]) -> str:
    name, typ, notnull, default, identity, generated, collation, compression = column[:8]
    seq, *numbers = column[11:]
    parts = [quote_ident(name), typ]
    if compression:
        parts.append(f"COMPRESSION {compression}")
    if collation:
        parts.append(f"COLLATE {collation}")
    if generated:
        parts.append(f"GENERATED ALWAYS AS ({default}) STORED")
    elif identity:
        how = "ALWAYS" if identity == "a" else "BY DEFAULT"
        parts.append(
            f"GENERATED {how} AS IDENTITY (SEQUENCE NAME {quote_ident(seq)} "
            f"{_sequence_options(*numbers)})"
        )
    elif default is not None:
        parts.append(f"DEFAULT {default}")
    if notnull:
        parts.append("NOT NULL")
    return " ".join(parts)


def _column_settings(table: str, column: tuple[Any, ...]) -> list[str]:
    name, storage, statistics, options = column[0], column[8], column[9], column[10]
    alter = f"ALTER TABLE {quote_ident(table)} ALTER COLUMN {quote_ident(name)} "
    sql = []
    if storage:
        sql.append(alter + f"SET STORAGE {_STORAGE[storage]}")
    if statistics >= 0:
        sql.append(alter + f"SET STATISTICS {statistics}")
    if options:
        sql.append(alter + f"SET ({_options(options)})")
    return sql


def _add_constraint(table: str, name: str, definition: str) -> str:
    return f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} {definition}"


def _unqualify_index(definition: str, unique: bool, quoted: str, qualified: str, table: str) -> str:
    """pg_get_indexdef's text with its table unqualified (it always qualifies it), and
    without ``ONLY`` (a partitioned parent becomes a plain table)."""
    head = f"CREATE {'UNIQUE ' if unique else ''}INDEX {quoted} ON "
    rest = definition[len(head) :] if definition.startswith(head) else None
    if rest is not None:
        rest = rest.removeprefix("ONLY ")
    if rest is None or not rest.startswith(f"{qualified} USING "):
        raise SchemaError(f"unexpected index definition from the server: {definition!r}")
    return f"{head}{quote_ident(table)}{rest[len(qualified) :]}"


def _view_ddl(name: str, kind: str, definition: str, options: list[str], populated: bool) -> Ddl:
    body = definition.strip().rstrip(";")
    with_ = f" WITH ({_options(options)})" if options else ""
    if kind == "v":
        return Ddl("view", f"CREATE VIEW {quote_ident(name)}{with_} AS {body}", name, name)
    data = "WITH DATA" if populated else "WITH NO DATA"
    sql = f"CREATE MATERIALIZED VIEW {quote_ident(name)}{with_} AS {body} {data}"
    return Ddl("materialized_view", sql, name, name)


def _type(name: str, sql: str) -> Ddl:
    return Ddl("type", sql, name)


def _range_options(
    subtype: str,
    opclass: str | None,
    collation: str | None,
    canonical: str | None,
    diff: str | None,
    multirange: str | None,
) -> str:
    parts = [f"SUBTYPE = {subtype}"]
    for key, value in (
        ("SUBTYPE_OPCLASS", opclass),
        ("COLLATION", collation),
        ("CANONICAL", canonical),
        ("SUBTYPE_DIFF", diff),
        ("MULTIRANGE_TYPE_NAME", multirange),
    ):
        if value is not None:
            parts.append(f"{key} = {value}")
    return ", ".join(parts)


def _domain(
    name: str,
    base: str,
    collation: str | None,
    default: str | None,
    notnull: bool,
    check_names: list[str],
    check_defs: list[str],
) -> list[Ddl]:
    q = quote_ident(name)
    sql = f"CREATE DOMAIN {q} AS {base}"
    if collation:
        sql += f" COLLATE {collation}"
    if default is not None:
        sql += f" DEFAULT {default}"
    if notnull:
        sql += " NOT NULL"
    later = []
    for check, definition in zip(check_names, check_defs, strict=True):
        if definition.endswith(" NOT VALID"):  # CREATE DOMAIN takes no NOT VALID
            later.append(
                Ddl(
                    "domain",
                    f"ALTER DOMAIN {q} ADD CONSTRAINT {quote_ident(check)} {definition}",
                    name,
                )
            )
        else:
            sql += f" CONSTRAINT {quote_ident(check)} {definition}"
    return [Ddl("domain", sql, name), *later]


def _topological(deps: Mapping[int, Sequence[int]]) -> list[int]:
    """Keys ordered so each comes after the keys it depends on (others ignored)."""
    order: list[int] = []
    seen: set[int] = set()

    def visit(key: int) -> None:
        if key in seen:
            return
        seen.add(key)
        for dep in deps[key]:
            if dep in deps and dep != key:
                visit(dep)
        order.append(key)

    for key in deps:
        visit(key)
    return order


def _left_behind_note(kind: str, name: str, rel: str | None, detail: str | None) -> str:
    if kind == "trigger":
        return (
            f"trigger {name} on {rel} (EXECUTE FUNCTION {detail}) is not carried, nor its "
            "function: create both on the target"
        )
    if kind == "rule":
        return f"rule {name} on {rel} is not carried"
    if kind == "statistics":
        return f"extended statistics object {name} on {rel} is not carried (CREATE STATISTICS)"
    if kind == "publication":
        where = f"table {rel}" if rel else f"this schema ({detail})"
        return f"publication {name}, which publishes {where}, is not carried"
    if kind == "event trigger":
        return f"event trigger {name} (EXECUTE FUNCTION {detail}) of the source database is not carried"
    if kind == "extension":
        return (
            f"extension {name} is installed in this schema and is not created: run "
            f"CREATE EXTENSION {name} on the target first (arrowferry does not)"
        )
    return f"{kind} {name} of this schema is not carried"
