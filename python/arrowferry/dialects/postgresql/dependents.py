"""What ``DROP TABLE ... CASCADE`` takes with a table: foreign keys of other tables that
reference it, and views that read it (directly or through other views).

``drop_tables`` replaces only the migrated tables; these belong to the rest of the
target, so they are read from the catalog before the drop and re-created after the load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arrowferry.dialects import postgresql as pg


@dataclass(frozen=True)
class Dependent:
    kind: str  # foreign_key, view or materialized_view
    schema: str
    table: str  # the table holding the foreign key, or the view itself
    name: str
    definition: str  # pg_get_constraintdef / pg_get_viewdef

    @property
    def label(self) -> str:
        if self.kind == "foreign_key":
            return f"foreign key {self.name} of {self.schema}.{self.table}"
        return f"{self.kind.replace('_', ' ')} {self.schema}.{self.name}"

    def create_sql(self, *, valid: bool = True) -> str:
        if self.kind != "foreign_key":
            what = "VIEW" if self.kind == "view" else "MATERIALIZED VIEW"
            return f"CREATE {what} {pg.qname(self.schema, self.name)} AS {self.definition}"
        tail = "" if valid else " NOT VALID"
        return pg.add_constraint_sql(self.schema, self.table, self.name, self.definition + tail)


_TABLES = (
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = ANY($2)"
)


def dependents(conn: Any, schema: str, tables: Sequence[str]) -> list[Dependent]:
    """Foreign keys of other tables referencing ``tables``, and every view reading them
    (views over those views too), views in creation order."""
    keys = pg.fetch(
        conn,
        "SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE k.contype = 'f' AND k.confrelid IN ({_TABLES}) "
        f"AND k.conrelid NOT IN ({_TABLES}) ORDER BY 1, 2, 3",
        [schema, list(tables)],
    )
    views = pg.fetch(
        conn,
        # a view depends on a relation through its rewrite rule; walk up from the tables
        f"WITH RECURSIVE v(oid, depth) AS (SELECT oid, 0 FROM ({_TABLES}) t "
        "UNION SELECT r.ev_class, v.depth + 1 FROM v JOIN pg_depend d "
        "ON d.refobjid = v.oid AND d.classid = 'pg_rewrite'::regclass "
        "JOIN pg_rewrite r ON r.oid = d.objid AND r.ev_class <> v.oid WHERE v.depth < 100) "
        "SELECT n.nspname, c.relname, pg_get_viewdef(c.oid, true), c.relkind::text, "
        "max(v.depth) FROM v JOIN pg_class c ON c.oid = v.oid AND c.relkind IN ('v', 'm') "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "GROUP BY 1, 2, 3, 4 ORDER BY 5, 1, 2",
        [schema, list(tables)],
    )
    out = [Dependent("foreign_key", s, t, name, d) for s, t, name, d in keys]
    out += [
        Dependent("view" if k == "v" else "materialized_view", s, v, v, d.strip().rstrip(";"))
        for s, v, d, k, _ in views
    ]
    return out
