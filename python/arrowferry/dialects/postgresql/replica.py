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

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from arrowferry.dialects.postgresql.connection import fetch, literal
from arrowferry.dialects.postgresql.replica_notes import _Notes
from arrowferry.dialects.postgresql.replica_queries import (
    _Q_COLUMNS,
    _Q_COMMENTS,
    _Q_CONSTRAINTS,
    _Q_INDEXES,
    _Q_SEQUENCES,
    _Q_TABLES,
    _Q_TYPES,
    _Q_VIEWS,
)
from arrowferry.dialects.postgresql.replica_sql import (
    _REL_WORD,
    _VIEW_WORD,
    Ddl,
    _add_constraint,
    _column_settings,
    _column_sql,
    _domain,
    _names,
    _options,
    _range_options,
    _sequence_options,
    _topological,
    _type,
    _unqualify_index,
    _view_ddl,
)
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SchemaError

# what ruleutils' output depends on besides search_path: pg_dump's own settings, so a
# default's or a CHECK's constants read back the same on any server
_RENDER = {"DateStyle": "ISO", "IntervalStyle": "postgres", "extra_float_digits": "3"}


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

_CONSTRAINT_ORDER = {"p": 0, "u": 1, "c": 2, "x": 3, "f": 4}
_CONSTRAINT_KIND = {
    "p": "primary_key",
    "u": "unique",
    "c": "check",
    "x": "exclude",
    "f": "foreign_key",
}


class _Reader(_Notes):
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
