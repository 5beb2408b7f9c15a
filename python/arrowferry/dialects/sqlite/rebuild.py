"""SQLite as the target of a schema sync: ``ALTER TABLE`` where SQLite can, the twelve-step
table rebuild where it cannot (https://www.sqlite.org/lang_altertable.html#otheralter).

SQLite's ``ALTER TABLE`` renames a table or column, adds a column (not a key, not a
NOT NULL one without a default, not one whose default is an expression) and drops a
column nothing else names. Every other change to a table (a type, a default, a NOT
NULL, a key, a CHECK, a foreign key) is made by building the table again, all of that
table's changes at once, in one transaction of its own: foreign keys off, the new table
created under another name, the rows copied, the old table dropped, the new one renamed
into place, its indexes and triggers made again, ``PRAGMA foreign_key_check`` before the
commit. The copy is ``INSERT ... SELECT`` of each column as stored, so every value keeps
its storage class (text in an INTEGER column stays text) unless the new declared type's
affinity converts it, as SQLite does on any insert; rowids are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from arrowferry.dialects.changes import (
    BODY_KINDS,
    Change,
    SyncStatement,
    TargetFacts,
    evolve,
    mentions,
)
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.defaults import _LITERAL
from arrowferry.dialects.sqlite.types import to_sqlite_ddl
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import Column, Index, Schema, Table

NEW_PREFIX = "__arrowferry_new_"
_FKS_OFF = "PRAGMA foreign_keys = OFF"  # outside any transaction, where SQLite heeds it
_KEYWORDS = {"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"}  # defaults without parentheses
_DIRECT_ALWAYS = {"create_index", "drop_index"}


def rowid_alias(table: Table) -> Column | None:
    """The column that is the rowid itself (``INTEGER PRIMARY KEY``), if there is one."""
    pk = table.primary_key
    if table.without_rowid or pk is None or len(pk.columns) != 1:
        return None
    column = next((c for c in table.columns if c.name == pk.columns[0]), None)
    if column is None or (column.declared or "").strip().upper() != "INTEGER":
        return None
    return column


def column_sql(table: Table, column: Column) -> str:
    alias = rowid_alias(table)
    key: sqlw.RowidKey = ""
    if alias is not None and alias.name == column.name:
        key = "autoincrement" if column.autoincrement else "rowid"
    sql = sqlw.column_sql(
        column.name,
        column.declared or to_sqlite_ddl(column.type),
        not_null=not column.nullable,
        default=None if column.generated else default_sql(column.default),
        key=key,
    )
    if column.collation:
        sql += f" COLLATE {column.collation}"
    if column.generated:
        kind = "STORED" if column.generated_stored else "VIRTUAL"
        sql += f" GENERATED ALWAYS AS ({column.generated}) {kind}"
    return sql


def default_sql(default: str | None) -> str | None:
    """A default as a column definition takes it: an expression in parentheses (PRAGMA
    table_info shows it without them), a literal or SQLite's clock keywords as they are."""
    if default is None:
        return None
    text = default.strip()
    if _LITERAL.match(text) or text.upper() in _KEYWORDS or text.startswith("("):
        return text
    return f"({text})"


def create_table_sql(table: Table, name: str | None = None) -> str:
    """CREATE TABLE with every column, key, CHECK and foreign key written into it (SQLite
    can add none of them afterwards), as the migration writes them."""
    body = [column_sql(table, c) for c in table.columns]
    pk = table.primary_key
    if pk is not None and rowid_alias(table) is None:
        body.append(sqlw.primary_key_sql(pk.columns))
    for unique in table.uniques:
        named = f"CONSTRAINT {quote_ident(unique.name)} " if unique.name else ""
        body.append(f"{named}UNIQUE ({', '.join(quote_ident(c) for c in unique.columns)})")
    body += [sqlw.check_sql(c.expression, c.name) for c in table.checks]
    body += [sqlw.foreign_key_sql(fk) for fk in table.foreign_keys]
    options = [
        o for o, on in (("WITHOUT ROWID", table.without_rowid), ("STRICT", table.strict)) if on
    ]
    sql = sqlw.create_table_sql(name or table.name, body)
    return sql + (" " + ", ".join(options) if options else "")


def index_sql(table: str, index: Index) -> str:
    keys = []
    for key in index.keys:
        text = key.expression if key.is_expression else quote_ident(key.expression)
        if key.collation:
            text += f" COLLATE {key.collation}"
        keys.append(text + (" DESC" if key.descending else ""))
    return sqlw.index_sql(table, index.name, keys, unique=index.unique, where=index.where)


def _can_add(column: Column) -> bool:
    """Whether ``ALTER TABLE ADD COLUMN`` takes the column (lang_altertable.html#altertabaddcol)."""
    default = (column.default or "").strip()
    if column.identity or (column.generated and column.generated_stored):
        return False
    if default and not _LITERAL.match(default):
        return False  # an expression, or one of the clock's keywords
    return column.nullable or default.upper() not in {"", "NULL"}


def _can_drop(table: Table, column: str, others: Sequence[str]) -> bool:
    """Whether ``ALTER TABLE DROP COLUMN`` takes it: nothing else may name the column
    (lang_altertable.html#altertabdropcol); ``others``: views' and triggers' SQL."""
    low = column.lower()
    if table.primary_key is not None and low in {c.lower() for c in table.primary_key.columns}:
        return False
    if any(low in {c.lower() for c in u.columns} for u in table.uniques):
        return False
    if any(low in {c.lower() for c in fk.columns} for fk in table.foreign_keys):
        return False
    if any(
        mentions(k.expression, column) or mentions(i.where, column)
        for i in table.indexes
        for k in i.keys
    ):
        return False
    texts = [c.expression for c in table.checks] + [c.generated or "" for c in table.columns]
    return not any(mentions(t, column) for t in [*texts, *others])


class Renderer:
    def __init__(self, current: Schema, facts: TargetFacts) -> None:
        self.facts = facts
        self.tables = {t.name: t for t in current.tables}
        self.views = {v.name: v.sql for v in current.views}
        self.out: list[SyncStatement] = []
        self.group: list[SyncStatement] = []

    # --- deciding ----------------------------------------------------------------------

    def plan(self, changes: Sequence[Change]) -> tuple[dict[str, int], dict[str, Table], set[str]]:
        """(each rebuilt table -> the index of its last change, its state before its
        first; the tables created here), walking a copy of the schema through the changes.
        A table rebuilt takes every change to its definition into its rebuild."""
        tables = dict(self.tables)
        views = dict(self.views)
        last: dict[str, int] = {}
        initial: dict[str, Table] = {}
        rebuilt: set[str] = set()
        created: set[str] = set()
        for i, change in enumerate(changes):
            name = change.table or ""
            if change.kind == "rename_table":
                tables[name] = replace(tables.pop(change.old.name), name=name)
            elif change.kind == "create_table":
                tables[name] = change.new
                created.add(name)
            elif change.kind == "drop_table":
                tables.pop(name, None)
            elif change.kind == "create_view":
                views[change.new.name] = change.new.sql
            elif change.kind == "drop_view":
                views.pop(change.old.name, None)
            elif change.kind == "rename_column" and name in tables:
                tables[name] = evolve(tables[name], change)
            elif change.kind in BODY_KINDS and name in tables and name not in created:
                state = tables[name]
                initial.setdefault(name, state)
                last[name] = i
                others = [*views.values(), *self.facts.triggers.get(name, ())]
                if self._needs_rebuild(change, state, others):
                    rebuilt.add(name)
                tables[name] = evolve(state, change)
        return (
            {n: last[n] for n in rebuilt},
            {n: initial[n] for n in rebuilt},
            created,
        )

    def _needs_rebuild(self, change: Change, table: Table, others: Sequence[str]) -> bool:
        if change.kind in _DIRECT_ALWAYS:
            return False
        if change.kind == "add_column":
            return not _can_add(change.new)
        if change.kind == "drop_column":
            return not _can_drop(table, change.old.name, others)
        return True

    # --- rendering ---------------------------------------------------------------------

    def render(self, changes: Sequence[Change]) -> list[SyncStatement]:
        last, before, created = self.plan(changes)
        finals: dict[str, Table] = {}
        pending: dict[str, list[Change]] = {}
        for i, change in enumerate(changes):
            name = change.table or ""
            if name in last and change.kind in BODY_KINDS:
                pending.setdefault(name, []).append(change)
                finals[name] = evolve(finals.get(name, before[name]), change)
                if last[name] == i:
                    self.flush()
                    self.rebuild(before[name], finals[name], pending[name])
                continue
            if change.kind == "add_foreign_key" and name in created:
                continue  # written into its CREATE TABLE
            self.direct(change, name)
        self.flush()
        if self.out and self.out[0].sql != _FKS_OFF:
            why = "foreign keys are checked by PRAGMA foreign_key_check, not per statement"
            self.out.insert(0, _control(_FKS_OFF, why))
        return self.out

    def emit(self, change: Change, sql: str) -> None:
        view = change.kind == "create_view"
        table = change.new.name if view else change.table
        self.group.append(
            SyncStatement(
                sql, change.destructive, change.reason, table, change.column, optional=view
            )
        )

    def flush(self) -> None:
        if self.group:
            self.out += [_control("BEGIN"), *self.group, _control("COMMIT")]
            self.group = []

    def direct(self, change: Change, table: str) -> None:
        kind = change.kind
        if kind == "rename_table":
            self.emit(
                change, f"ALTER TABLE {quote_ident(change.old.name)} RENAME TO {quote_ident(table)}"
            )
            self.tables[table] = replace(self.tables.pop(change.old.name), name=table)
            return
        if kind == "rename_column":
            self.emit(
                change,
                f"ALTER TABLE {quote_ident(table)} RENAME COLUMN {quote_ident(change.old.name)} "
                f"TO {quote_ident(change.new.name)}",
            )
        elif kind == "create_table":
            self.emit(change, create_table_sql(change.new))
            for index in change.new.indexes:
                self.emit(change, index_sql(table, index))
            self.tables[table] = change.new
            return
        elif kind == "drop_table":
            self.emit(change, f"DROP TABLE {quote_ident(table)}")
            self.tables.pop(table, None)
            return
        elif kind == "create_view":
            self.emit(change, sqlw.create_view_sql(change.new.name, change.new.sql))
            return
        elif kind == "drop_view":
            self.emit(change, f"DROP VIEW {quote_ident(change.old.name)}")
            return
        elif kind == "set_sequence":
            self._sequence(change, table)
            return
        elif kind == "create_index":
            self.emit(change, index_sql(table, change.new))
        elif kind == "drop_index":
            self.emit(change, f"DROP INDEX {quote_ident(change.old.name)}")
        elif kind == "add_column":
            self.emit(
                change,
                f"ALTER TABLE {quote_ident(table)} ADD COLUMN {column_sql(self.tables[table], change.new)}",
            )
        elif kind == "drop_column":
            self.emit(
                change,
                f"ALTER TABLE {quote_ident(table)} DROP COLUMN {quote_ident(change.old.name)}",
            )
        if table in self.tables:
            self.tables[table] = evolve(self.tables[table], change)

    def _sequence(self, change: Change, table: str) -> None:
        alias = rowid_alias(self.tables[table])
        if alias is None or not alias.autoincrement:
            return  # without AUTOINCREMENT SQLite counts from the largest rowid: nothing to set
        for sql in sqlw.set_sequence_sql(table, int(change.new)):
            self.emit(change, sql)

    # --- the rebuild ---------------------------------------------------------------------

    def rebuild(self, old: Table, new: Table, changes: Sequence[Change]) -> None:
        name = new.name
        temp = NEW_PREFIX + name
        done = "; ".join(dict.fromkeys(c.reason for c in changes if c.reason))
        why = f"table {name} rebuilt (SQLite's ALTER TABLE cannot make it): {done}"
        destructive = any(c.destructive for c in changes)

        def step(sql: str, *, guard: str | None = None, check: bool = False) -> SyncStatement:
            return SyncStatement(sql, destructive, why, name, guard=guard, check=check)

        columns, values = self._copy(old, new)
        steps = [
            _control(_FKS_OFF, why),
            _control("BEGIN", why),
            # a view or trigger naming the table would make the rename fail ("error in view
            # v: no such table") while the table is away; in legacy mode the rename leaves
            # them alone, and they find the new table under the old name
            step("PRAGMA legacy_alter_table = ON"),
            step(create_table_sql(new, temp)),
            step(
                f"INSERT INTO {quote_ident(temp)} ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM {quote_ident(name)}",
                guard=self._copy_guard(old, new),
            ),
            *[step(s) for s in _keep_counter(old, new, temp)],
            step(f"DROP TABLE {quote_ident(name)}"),
            step(f"ALTER TABLE {quote_ident(temp)} RENAME TO {quote_ident(name)}"),
            step("PRAGMA legacy_alter_table = OFF"),
            *[step(index_sql(name, i)) for i in new.indexes],
            *[step(t) for t in self.facts.triggers.get(name, ())],
        ]
        children = sorted(
            t.name
            for t in self.tables.values()
            if t.name != name and any(fk.ref_table.lower() == name.lower() for fk in t.foreign_keys)
        )
        steps += [step(sqlw.foreign_key_check_sql(t), check=True) for t in [name, *children]]
        steps.append(_control("COMMIT", why))
        self.out += steps
        self.tables[name] = new

    def _copy(self, old: Table, new: Table) -> tuple[list[str], list[str]]:
        """The columns of the new table filled from the old, and what fills each."""
        stored = {c.name for c in old.columns if not c.generated}
        columns, values = [], []
        alias = rowid_alias(new)
        if not (old.without_rowid or new.without_rowid) and (
            alias is None or alias.name not in stored
        ):
            columns.append("rowid")
            values.append("rowid")
        for col in new.columns:
            if col.generated or col.name not in stored:
                continue
            value = quote_ident(col.name)
            if not col.nullable and col.default is not None and old.column(col.name).nullable:
                value = f"coalesce({value}, {col.default})"
            columns.append(quote_ident(col.name))
            values.append(value)
        return columns, values

    def _copy_guard(self, old: Table, new: Table) -> str | None:
        """The first row the copy would refuse for a NOT NULL it cannot fill."""
        key = row_key(old)
        stored = {c.name: c for c in old.columns}
        probes = []
        for col in new.columns:
            if col.nullable or col.generated or col.default is not None:
                continue
            was = stored.get(col.name)
            where = "" if was is None else f" WHERE {quote_ident(col.name)} IS NULL"
            if was is not None and not was.nullable:
                continue
            probes.append(
                f"SELECT * FROM (SELECT {key}, NULL, '{col.name.replace(chr(39), chr(39) * 2)}' "
                f"FROM {quote_ident(old.name)}{where} LIMIT 1)"
            )
        return " UNION ALL ".join(probes) if probes else None


def row_key(table: Table) -> str:
    if not table.without_rowid:
        return "rowid"
    cols = [
        f"quote({quote_ident(c)})" for c in (table.primary_key.columns if table.primary_key else ())
    ]
    return " || ', ' || ".join(cols) if cols else "NULL"


def _keep_counter(old: Table, new: Table, temp: str) -> list[str]:
    """AUTOINCREMENT's counter is the table's row in sqlite_sequence, which DROP TABLE
    deletes: the new table's row takes the larger of the two counters."""
    alias, was = rowid_alias(new), rowid_alias(old)
    if alias is None or not alias.autoincrement or was is None or not was.autoincrement:
        return []
    name, new_name = sqlw.literal_sql(old.name), sqlw.literal_sql(temp)
    return [
        f"UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(seq) FROM "
        f"sqlite_sequence WHERE name = {name}), 0)) WHERE name = {new_name}",
        f"INSERT INTO sqlite_sequence (name, seq) SELECT {new_name}, max(seq) FROM "
        f"sqlite_sequence WHERE name = {name} AND NOT EXISTS (SELECT 1 FROM sqlite_sequence "
        f"WHERE name = {new_name}) HAVING max(seq) IS NOT NULL",
    ]


def _control(sql: str, reason: str = "transaction") -> SyncStatement:
    return SyncStatement(sql, False, reason, None)


def render(changes: Sequence[Change], current: Schema, facts: TargetFacts) -> list[SyncStatement]:
    """The statements of ``changes`` (ordered), on a database whose schema is ``current``."""
    return Renderer(current, facts).render(changes)
