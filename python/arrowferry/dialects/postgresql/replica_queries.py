"""The catalog queries of a PostgreSQL -> PostgreSQL copy (read with the source schema on search_path)."""

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
