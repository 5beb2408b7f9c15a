"""SQLite's catalog: open a file safely, check it, and introspect it into the neutral model.

Metadata is read with the standard library's ``sqlite3`` (row-shaped, small).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from arrowferry.dialects import sqllog
from arrowferry.dialects.sqlite import virtual as vt
from arrowferry.dialects.sqlite.catalog_rows import CatalogRows, all_view_columns, with_counters
from arrowferry.dialects.sqlite.connection import explain_open_error as _explain_open_error
from arrowferry.dialects.sqlite.types import from_sqlite_declared
from arrowferry.dialects.sqltext import (
    Definition,
    after_keyword,
    after_top_level,
    generated_expression,
    matching_paren,
    quote_ident,
    select_of_view,
    split_create_table,
    tokenize,
    words,
)
from arrowferry.errors import SchemaError, SourceError
from arrowferry.model import (
    Check,
    Column,
    DataType,
    FkAction,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    View,
)
from arrowferry.urls import sqlite_uri
from arrowferry.wording import plural

_INTERNAL_PREFIX = "sqlite_"
_ACTIONS = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}


def connect_metadata(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """Open the file read-only and prove it is a readable SQLite database. ``shared``:
    usable from another thread than the one that opened it (one at a time: a pool's)."""
    if not path.exists():
        raise SourceError(f"SQLite file {str(path)!r} does not exist")
    if not path.is_file():
        raise SourceError(f"{str(path)!r} is not a file")
    try:
        uri = sqlite_uri(path, read_only=True)
        conn = sqllog.trace(sqlite3.connect(uri, uri=True, check_same_thread=not shared))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as err:
        raise SourceError(_explain_open_error(path, err)) from err
    return conn


QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024


def check_integrity(conn: sqlite3.Connection, path: Path) -> str | None:
    """A structural check, so a corrupt file fails before anything is created.

    ``PRAGMA quick_check`` reads every page: seconds for a file of hundreds of MB,
    as long as the load itself. Larger files get a check of every table's b-tree
    root and the schema instead (a corrupt page met later fails its table, which is
    rolled back); the returned note says so.
    """
    if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
        try:
            # a virtual table has no b-tree of its own (and its module may be missing)
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%'"
            ).fetchall():
                conn.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1").fetchall()
        except sqlite3.DatabaseError as err:
            raise SourceError(_explain_open_error(path, err)) from err
        return (
            f"{path.name} is larger than {QUICK_CHECK_MAX_BYTES // 2**20} MB, so PRAGMA quick_check "
            "was skipped; a corrupt page met during the load fails its table (rolled back)"
        )
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as err:
        raise SourceError(_explain_open_error(path, err)) from err
    problems = [" ".join(line.split()) for r in rows if r[0] != "ok" for line in r[0].splitlines()]
    problems = [p for p in problems if p and not p.startswith("***")]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise SourceError(
            f"SQLite file {str(path)!r} is corrupt: {'; '.join(problems[:3])}{more}; "
            "try `sqlite3 file .recover` first"
        )
    return None


# --- introspection ---------------------------------------------------------------------


def introspect(conn: sqlite3.Connection) -> Schema:
    """Read every table and view of the main schema into the neutral model."""
    notes: list[str] = []
    tables: list[Table] = []
    entries = conn.execute(
        "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main' ORDER BY name"
    ).fetchall()
    sql_of = dict(conn.execute("SELECT name, sql FROM sqlite_master").fetchall())
    virtual = {
        name for name, sql in sql_of.items() if sql and sql.upper().startswith("CREATE VIRTUAL")
    }
    # the driver's newer SQLite knows more modules, so more shadow tables
    newer = vt.driver_kinds(conn) if virtual else {}
    shadows: list[str] = []
    rows = CatalogRows.read(conn)
    for name, kind, without_rowid, strict in entries:
        if name.startswith(_INTERNAL_PREFIX):
            continue  # sqlite_sequence, sqlite_stat1...: SQLite's bookkeeping, not the user's data
        if kind == "virtual" or name in virtual:
            tables.append(_virtual_table(conn, name, sql_of.get(name) or ""))
            continue
        if kind == "shadow" or newer.get(name) == "shadow":
            shadows.append(name)
            continue
        if kind == "table":
            tables.append(
                _table(rows, name, sql_of.get(name) or "", bool(without_rowid), bool(strict))
            )
    notes += vt.shadow_notes(shadows, virtual)
    tables = [_resolve_fk_targets(t, tables) for t in tables]
    tables = with_counters(conn, tables, autoincrement_counters(conn))
    outputs = all_view_columns(conn)
    views = tuple(
        View(name, select_of_view(sql), outputs.get(name) or _view_columns(conn, name))
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"
        ).fetchall()
    )
    triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    if triggers:
        names = ", ".join(repr(r[0]) for r in triggers)
        notes.append(
            f"skipped {plural(len(triggers), 'trigger')} ({names}): SQLite trigger bodies are "
            "not portable"
        )
    return Schema("sqlite", tuple(tables), views, tuple(notes))


def _virtual_table(conn: sqlite3.Connection, name: str, sql: str) -> Table:
    """A virtual table as the plain table its rows are copied into (read through the
    module): its visible columns, plus the rowid an FTS or geopoly table gives its rows
    (a document id other tables often refer to), as the primary key."""
    module, _args = vt.module_of(sql)
    try:
        xinfo = vt.rows(
            conn,
            'SELECT cid, name, type, "notnull", dflt_value, pk, hidden '
            f"FROM pragma_table_xinfo({_literal(name)}) ORDER BY cid",
        )
    except SourceError as err:
        reason = vt.unreadable_reason(name, module, err, vt.available_modules(conn))
        return Table(name, (), module=module or "?", unreadable=reason)
    columns = [
        _column(n, t or "", 0, None, 0, None, "", identity=False, autoinc=False)
        for _cid, n, t, _nn, _d, _pk, hidden in xinfo
        if hidden != 1  # the table-named and rank columns of FTS, its docid alias
    ]
    key: tuple[str, ...] = ()
    names = {c.name.lower() for c in columns}
    if module in vt.RTREE and columns:
        key = (columns[0].name,)  # the id column is the R-tree's rowid
        columns[0] = replace(columns[0], nullable=False)
    elif "rowid" not in names and vt.has_rowid(conn, name):
        columns.insert(0, Column("rowid", DataType("int64"), nullable=False, declared="INTEGER"))
        key = ("rowid",)
    return Table(
        name,
        tuple(columns),
        primary_key=PrimaryKey(key) if key else None,
        module=module or "?",
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _table(rows: CatalogRows, name: str, sql: str, without_rowid: bool, strict: bool) -> Table:
    defs = split_create_table(sql)
    col_defs = {d.column_name.lower(): d for d in defs if d.is_column}
    xinfo = rows.xinfo.get(name, [])
    pk_cols = [r[1] for r in sorted((r for r in xinfo if r[5]), key=lambda r: r[5])]
    rowid_alias = (
        not without_rowid
        and len(pk_cols) == 1
        and next(r[2] for r in xinfo if r[1] == pk_cols[0]).strip().upper() == "INTEGER"
    )
    autoinc = "AUTOINCREMENT" in sql.upper()
    columns = []
    for _cid, cname, declared, notnull, default, _pk, hidden in xinfo:
        if hidden == 1:
            continue  # hidden columns of virtual tables
        definition = col_defs.get(cname.lower())
        columns.append(
            _column(
                cname,
                declared or "",
                notnull,
                default,
                hidden,
                definition,
                sql,
                identity=rowid_alias and cname == pk_cols[0],
                autoinc=autoinc,
            )
        )
    checks = tuple(Check(expr, name=cname) for d in defs for cname, expr in d.checks)
    pk_name = next(
        (d.constraint_names["PRIMARY"] for d in defs if "PRIMARY" in d.constraint_names), None
    )
    primary_key = PrimaryKey(tuple(pk_cols), name=pk_name) if pk_cols else None
    uniques, indexes = _indexes(rows, name, defs)
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=primary_key,
        uniques=uniques,
        indexes=indexes,
        foreign_keys=_foreign_keys(rows, name, defs),
        checks=checks,
        without_rowid=without_rowid,
        strict=strict,
    )


def _column(
    name: str,
    declared: str,
    notnull: int,
    default: str | None,
    hidden: int,
    definition: Definition | None,
    sql: str,
    *,
    identity: bool,
    autoinc: bool,
) -> Column:
    collation = None
    generated = None
    stored = False
    if definition is not None:
        tok = after_keyword(definition, "COLLATE")
        collation = tok.name.upper() if tok is not None else None
        if hidden in (2, 3):
            found = generated_expression(definition, sql)
            if found:
                generated, stored = found
    dtype = _declared_type(declared)
    return Column(
        name=name,
        type=dtype if dtype is not None else _UNRESOLVED,
        nullable=not notnull and not identity,
        default=default,
        identity=identity,
        autoincrement=identity and autoinc,
        collation=collation,
        generated=generated,
        generated_stored=stored,
        declared=declared,
    )


# a file declares few distinct types across its columns: each is read once
_declared_type = lru_cache(maxsize=1024)(from_sqlite_declared)

_UNRESOLVED = DataType("other", raw="")
"""Placeholder for columns whose type only the data can tell (see ``from_sqlite_declared``)."""


def is_unresolved(column: Column) -> bool:
    return column.type == _UNRESOLVED


def _indexes(
    rows: CatalogRows, table: str, defs: list[Definition]
) -> tuple[tuple[UniqueConstraint, ...], tuple[Index, ...]]:
    uniques: list[UniqueConstraint] = []
    indexes: list[Index] = []
    unique_names = [d.constraint_names["UNIQUE"] for d in defs if "UNIQUE" in d.constraint_names]
    sql_of = rows.index_sql
    for name, unique, origin, partial in rows.index_list.get(table, []):
        keys = _index_keys(rows.index_keys.get(name, []), sql_of.get(name))
        if origin == "pk":
            continue
        if origin == "u" and not partial and all(not k.is_expression for k in keys):
            uname = unique_names.pop(0) if unique_names else None
            uniques.append(UniqueConstraint(tuple(k.expression for k in keys), name=uname))
            continue
        where = _partial_where(sql_of.get(name)) if partial else None
        indexes.append(Index(name, keys, unique=bool(unique), where=where))
    return tuple(uniques), tuple(sorted(indexes, key=lambda i: i.name))


def _index_keys(rows: list[tuple[Any, ...]], sql: str | None) -> tuple[IndexKey, ...]:
    # the key expressions live only in the CREATE INDEX text: read it only then
    expressions = _index_expressions(sql) if sql and any(r[1] == -2 for r in rows) else []
    keys = []
    for seqno, cid, name, desc, coll, _key in rows:
        collation = coll.upper() if coll and coll.upper() != "BINARY" else None
        if cid == -2:
            expr = expressions[seqno] if seqno < len(expressions) else "?"
            keys.append(
                IndexKey(expr, is_expression=True, descending=bool(desc), collation=collation)
            )
        else:
            keys.append(IndexKey(name or "rowid", descending=bool(desc), collation=collation))
    return tuple(keys)


def _index_expressions(sql: str) -> list[str]:
    """The key expressions of ``CREATE INDEX ... ON t (k1, k2 DESC) WHERE ...``."""
    toks = tokenize(sql)
    on = next((i for i, t in enumerate(toks) if t.upper == "ON"), None)
    if on is None:
        return []
    open_i = next(i for i in range(on, len(toks)) if toks[i].text == "(")
    close_i = matching_paren(toks, open_i)
    parts: list[str] = []
    depth, begin = 0, toks[open_i].end
    for tok in toks[open_i + 1 : close_i]:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.text == "," and depth == 0:
            parts.append(sql[begin : tok.start])
            begin = tok.end
    parts.append(sql[begin : toks[close_i].start])
    return [_strip_order(p.strip()) for p in parts]


def _strip_order(expr: str) -> str:
    toks = tokenize(expr)
    while toks and toks[-1].upper in {"ASC", "DESC"}:
        toks.pop()
    if len(toks) >= 2 and toks[-2].upper == "COLLATE":
        toks = toks[:-2]
    return expr[: toks[-1].end].strip() if toks else expr


def _partial_where(sql: str | None) -> str | None:
    return after_top_level(sql, "WHERE") if sql else None


def _foreign_keys(rows: CatalogRows, table: str, defs: list[Definition]) -> tuple[ForeignKey, ...]:
    listed = rows.foreign_keys.get(table, [])
    if not listed:
        return ()  # the common case: no definition need be read
    fk_defs = [d for d in defs if "REFERENCES" in words(d)]
    grouped: dict[int, list[tuple[str, str | None, str, str, str]]] = {}
    for fid, _seq, ref, src, dst, on_update, on_delete in listed:
        grouped.setdefault(fid, []).append((ref, dst, src, on_update, on_delete))
    fks = []
    # pragma ids count down from the last declared constraint
    for position, fid in enumerate(sorted(grouped, reverse=True)):
        parts = grouped[fid]
        definition = fk_defs[position] if position < len(fk_defs) else None
        text = " ".join(words(definition)) if definition else ""
        name = None
        if definition is not None:
            name = definition.constraint_names.get("FOREIGN") or definition.constraint_names.get(
                "REFERENCES"
            )
        fks.append(
            ForeignKey(
                columns=tuple(p[2] for p in parts),
                ref_table=parts[0][0],
                ref_columns=tuple(p[1] or "" for p in parts),
                on_delete=_action(parts[0][4]),
                on_update=_action(parts[0][3]),
                deferrable="DEFERRABLE" in text and "NOT DEFERRABLE" not in text,
                initially_deferred="INITIALLY DEFERRED" in text,
                name=name,
            )
        )
    return tuple(fks)


def _action(text: str | None) -> FkAction:
    upper = (text or "NO ACTION").upper()
    return upper if upper in _ACTIONS else "NO ACTION"  # type: ignore[return-value]


def _view_columns(conn: sqlite3.Connection, name: str) -> tuple[tuple[str, str], ...]:
    """A view's output columns; none when SQLite cannot run it (a table it reads is gone)."""
    try:
        rows = conn.execute(f"PRAGMA table_info({quote_ident(name)})").fetchall()
    except sqlite3.Error:
        return ()
    return tuple((str(r[1]), str(r[2] or "")) for r in rows)


def _resolve_fk_targets(table: Table, tables: Sequence[Table]) -> Table:
    """``REFERENCES parent`` without columns means the parent's primary key."""
    if all(all(fk.ref_columns) for fk in table.foreign_keys):
        return table
    by_name = {t.name.lower(): t for t in tables}
    fixed = []
    for fk in table.foreign_keys:
        parent = by_name.get(fk.ref_table.lower())
        if not all(fk.ref_columns) and parent is not None and parent.primary_key is not None:
            fk = ForeignKey(
                fk.columns,
                fk.ref_table,
                parent.primary_key.columns,
                fk.on_delete,
                fk.on_update,
                fk.deferrable,
                fk.initially_deferred,
                fk.name,
            )
        fixed.append(fk)
    return replace(table, foreign_keys=tuple(fixed))


def connect_metadata_ctx(path: Path) -> closing[sqlite3.Connection]:
    return closing(connect_metadata(path))


def relation_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Tables and views by lower-cased name (SQLite compares names case-insensitively)."""
    return {
        name.lower(): name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')"
        )
    }


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        found = vt.rows(conn, f"SELECT name FROM pragma_table_xinfo({_literal(table)})")
    except SourceError as err:  # a virtual table whose module neither SQLite has
        raise SchemaError(
            f"SQLite table {table!r} cannot be read ({err}); it cannot be replaced or appended "
            "to: drop it with a SQLite that has its module, or choose another target"
        ) from err
    return [str(row[0]) for row in found]


def autoincrement_counters(conn: sqlite3.Connection) -> dict[str, int]:
    """Each AUTOINCREMENT table's counter (``sqlite_sequence``), by table."""
    try:
        return {
            name: int(seq or 0)
            for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")
        }
    except Exception:
        return {}  # no AUTOINCREMENT table: sqlite_sequence does not exist
