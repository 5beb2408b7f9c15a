"""SQLite: catalog introspection, the storage-class profile and the typed batch reader.

Metadata is read with the standard library's ``sqlite3`` (row-shaped, small); data
is read with ``adbc_driver_sqlite`` as Arrow batches. The ADBC driver ignores declared
types and fixes each column's Arrow type from the first batch (driver-traps.md A), so
every column is read through an explicit ``CAST`` chosen from the profile, behind a
typed sentinel row that pins the types even when the first batch is all NULL.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from arrowferry.dialects.sqltext import (
    Definition,
    after_keyword,
    generated_expression,
    matching_paren,
    quote_ident,
    select_of_view,
    split_create_table,
    tokenize,
    words,
)
from arrowferry.errors import ReadTypeChanged, SourceError
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
from arrowferry.types import from_sqlite_declared
from arrowferry.urls import sqlite_uri

ReadAs = Literal["integer", "real", "text", "blob", "numeric"]
_INTERNAL_PREFIX = "sqlite_"
_ACTIONS = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}


def connect_metadata(path: Path) -> sqlite3.Connection:
    """Open the file read-only and prove it is a readable SQLite database."""
    if not path.exists():
        raise SourceError(f"SQLite file {str(path)!r} does not exist")
    if not path.is_file():
        raise SourceError(f"{str(path)!r} is not a file")
    try:
        conn = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as err:
        raise SourceError(_explain_open_error(path, err)) from err
    return conn


def _explain_open_error(path: Path, err: sqlite3.DatabaseError) -> str:
    text = str(err)
    if "not a database" in text:
        return f"{str(path)!r} is not a SQLite database ({text})"
    if "malformed" in text or "corrupt" in text:
        return f"SQLite file {str(path)!r} is corrupt ({text}); try `sqlite3 file .recover`"
    return f"cannot open SQLite file {str(path)!r}: {text}"


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
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
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
    for name, kind, without_rowid, strict in entries:
        if name.startswith(_INTERNAL_PREFIX):
            if name not in {"sqlite_schema", "sqlite_temp_schema"}:
                notes.append(f"skipped SQLite internal table {name!r}")
            continue
        if kind == "virtual" or name in virtual:
            notes.append(f"skipped virtual table {name!r} (its module is SQLite-only)")
            continue
        if kind == "shadow":
            notes.append(f"skipped virtual-table shadow table {name!r}")
            continue
        if kind == "table":
            tables.append(
                _table(conn, name, sql_of.get(name) or "", bool(without_rowid), bool(strict))
            )
    tables = [_resolve_fk_targets(t, tables) for t in tables]
    views = tuple(
        View(name, select_of_view(sql))
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"
        ).fetchall()
    )
    triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    if triggers:
        names = ", ".join(repr(r[0]) for r in triggers)
        notes.append(
            f"skipped {len(triggers)} trigger(s) ({names}): SQLite trigger bodies are not portable"
        )
    return Schema("sqlite", tuple(tables), views, tuple(notes))


def _table(
    conn: sqlite3.Connection, name: str, sql: str, without_rowid: bool, strict: bool
) -> Table:
    defs = split_create_table(sql)
    col_defs = {d.column_name.lower(): d for d in defs if d.is_column}
    xinfo = conn.execute(
        'SELECT cid, name, type, "notnull", dflt_value, pk, hidden '
        "FROM pragma_table_xinfo(?) ORDER BY cid",
        (name,),
    ).fetchall()
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
    uniques, indexes = _indexes(conn, name, defs)
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=primary_key,
        uniques=uniques,
        indexes=indexes,
        foreign_keys=_foreign_keys(conn, name, defs),
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
    dtype = from_sqlite_declared(declared)
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


_UNRESOLVED = DataType("other", raw="")
"""Placeholder for columns whose type only the data can tell (see ``from_sqlite_declared``)."""


def is_unresolved(column: Column) -> bool:
    return column.type == _UNRESOLVED


def needs_measures(table: Table) -> set[str]:
    """Columns whose plan needs lengths or magnitudes: varchar(n), unbounded decimals, untyped."""
    return {
        c.name
        for c in table.columns
        if needs_profile(c) or (c.type.kind == "text" and c.type.length is not None)
    }


def needs_profile(column: Column) -> bool:
    """Types only the data can settle: untyped columns, unbounded decimals, UUIDs."""
    kind = column.type.kind
    return (
        is_unresolved(column)
        or (kind == "decimal" and column.type.precision is None)
        or kind == "uuid"
    )


def _indexes(
    conn: sqlite3.Connection, table: str, defs: list[Definition]
) -> tuple[tuple[UniqueConstraint, ...], tuple[Index, ...]]:
    uniques: list[UniqueConstraint] = []
    indexes: list[Index] = []
    unique_names = [d.constraint_names["UNIQUE"] for d in defs if "UNIQUE" in d.constraint_names]
    sql_of = dict(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).fetchall()
    )
    rows = conn.execute(
        'SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY seq DESC',
        (table,),
    ).fetchall()
    for name, unique, origin, partial in rows:
        keys = _index_keys(conn, name, sql_of.get(name))
        if origin == "pk":
            continue
        if origin == "u" and not partial and all(not k.is_expression for k in keys):
            uname = unique_names.pop(0) if unique_names else None
            uniques.append(UniqueConstraint(tuple(k.expression for k in keys), name=uname))
            continue
        where = _partial_where(sql_of.get(name)) if partial else None
        indexes.append(Index(name, keys, unique=bool(unique), where=where))
    return tuple(uniques), tuple(sorted(indexes, key=lambda i: i.name))


def _index_keys(conn: sqlite3.Connection, index: str, sql: str | None) -> tuple[IndexKey, ...]:
    rows = conn.execute(
        'SELECT seqno, cid, name, "desc", coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno',
        (index,),
    ).fetchall()
    expressions = _index_expressions(sql) if sql else []
    keys = []
    for seqno, cid, name, desc, coll in rows:
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
    if not sql:
        return None
    toks = tokenize(sql)
    depth = 0
    for tok in toks:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.upper == "WHERE":
            return sql[tok.end :].strip().rstrip(";")
    return None


def _foreign_keys(
    conn: sqlite3.Connection, table: str, defs: list[Definition]
) -> tuple[ForeignKey, ...]:
    rows = conn.execute(
        'SELECT id, seq, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) '
        "ORDER BY id, seq",
        (table,),
    ).fetchall()
    fk_defs = [d for d in defs if "REFERENCES" in words(d)]
    grouped: dict[int, list[tuple[str, str | None, str, str, str]]] = {}
    for fid, _seq, ref, src, dst, on_update, on_delete in rows:
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


# --- storage-class profile -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """How many values of each SQLite storage class a column really holds."""

    integers: int = 0
    reals: int = 0
    texts: int = 0
    blobs: int = 0
    nulls: int = 0
    max_text_length: int = 0
    max_abs_number: float = 0.0
    min_abs_real: float = 0.0  # smallest non-zero REAL magnitude (0.0: none)

    @property
    def classes(self) -> tuple[str, ...]:
        pairs = (
            ("integer", self.integers),
            ("real", self.reals),
            ("text", self.texts),
            ("blob", self.blobs),
        )
        return tuple(name for name, count in pairs if count)

    def only(self, *classes: str) -> bool:
        return set(self.classes) <= set(classes)


_HIGH = 2**32  # two counts share one 64-bit sum: tables of fewer than 2**32 rows


def profile(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    extras: Collection[str] = (),
) -> tuple[int, dict[str, ColumnProfile]]:
    """Row count and a per-column storage-class profile, in one scan of the table.

    Two aggregates per column count the four storage classes (packed in pairs);
    columns in ``extras`` also get the longest text and the number magnitudes,
    which only some plans need. Kept lean: it runs over every row.
    """
    parts = ["count(*)"]
    for name in columns:
        q = quote_ident(name)
        parts += [
            f"sum(CASE typeof({q}) WHEN 'integer' THEN 1 WHEN 'real' THEN {_HIGH} END)",
            f"sum(CASE typeof({q}) WHEN 'text' THEN 1 WHEN 'blob' THEN {_HIGH} END)",
        ]
        if name in extras:
            parts += [
                f"max(CASE WHEN typeof({q}) = 'text' THEN length({q}) END)",
                # abs() of -2**63 overflows in SQLite; as REAL it cannot
                f"max(CASE WHEN typeof({q}) IN ('integer', 'real') THEN abs(CAST({q} AS REAL)) END)",
                f"min(CASE WHEN typeof({q}) = 'real' AND {q} != 0 THEN abs({q}) END)",
            ]
    sql = f"SELECT {', '.join(parts)} FROM {quote_ident(table)}"
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.DatabaseError as err:
        raise SourceError(f"cannot read table {table!r}: {err}") from err
    rows = int(row[0])
    values = iter(row[1:])
    result = {}
    for name in columns:
        numbers, texts = int(next(values) or 0), int(next(values) or 0)
        length, biggest, smallest = (
            (next(values), next(values), next(values)) if name in extras else (0, 0, 0)
        )
        counts = (numbers % _HIGH, numbers // _HIGH, texts % _HIGH, texts // _HIGH)
        result[name] = ColumnProfile(
            integers=counts[0],
            reals=counts[1],
            texts=counts[2],
            blobs=counts[3],
            nulls=rows - sum(counts),
            max_text_length=int(length or 0),
            max_abs_number=float(biggest or 0.0),
            min_abs_real=float(smallest or 0.0),
        )
    return rows, result


_DATE_FORMS = {
    "iso_space": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] *'",
    "iso_t": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt]*'",
    "date_only": "typeof({q}) = 'text' AND {q} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
    "with_fraction": "typeof({q}) = 'text' AND {q} GLOB '*:[0-9][0-9].[0-9]*'",
    "with_offset": "typeof({q}) = 'text' AND ({q} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR {q} GLOB '*[Zz]')",
    "epoch_seconds": "typeof({q}) IN ('integer', 'real') AND NOT (abs({q}) < 5373484.5) AND abs(CAST({q} AS REAL)) < 1e11",
    "epoch_milliseconds": "typeof({q}) = 'integer' AND abs(CAST({q} AS REAL)) >= 1e11",
    "julian_days": "typeof({q}) IN ('integer', 'real') AND {q} >= 0 AND {q} < 5373484.5",
}


def date_forms(conn: sqlite3.Connection, table: str, column: str) -> dict[str, int]:
    """How a date-like column's values are written (for the dry-run profile)."""
    q = quote_ident(column)
    parts = ", ".join(f"sum({cond.format(q=q)})" for cond in _DATE_FORMS.values())
    row = conn.execute(f"SELECT {parts} FROM {quote_ident(table)}").fetchone()
    return {name: int(v or 0) for name, v in zip(_DATE_FORMS, row, strict=True) if v}


# --- reading ---------------------------------------------------------------------------

READ_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "real": pa.float64(),
    "text": pa.string(),
    "blob": pa.binary(),
    "numeric": pa.string(),
}
"""The Arrow type the driver must produce for each way of reading a column."""

REAL_SUFFIX = "_r"
"""A ``numeric`` read also yields ``c{i}_r``: the column's REAL values, as doubles."""

_CAST = {
    "integer": "{q}",
    "real": "{q}",
    "text": "CAST({q} AS TEXT)",
    "blob": "CAST({q} AS BLOB)",
    "numeric": "CASE WHEN typeof({q}) = 'real' THEN NULL ELSE CAST({q} AS TEXT) END",
}
_SENTINEL = {"integer": "0", "real": "0.0", "text": "''", "blob": "x''", "numeric": "''"}
ROWID = "__arrowferry_rowid"
_TYPE_MISMATCH = re.compile(r"Type mismatch in column (?P<index>\d+): (?P<detail>[^\n.]*)")


def read_sql(
    table: str,
    columns: Sequence[tuple[str, ReadAs, bool]],
    *,
    with_rowid: bool,
    rowids: tuple[int, int] | None = None,
) -> str:
    """The SELECT that pins every column's Arrow type; column i is named ``c{i}``.

    ``rowids`` (first, last) reads one range of a rowid table, through the rowid b-tree.

    The first branch is a typed sentinel row (driver-traps.md A: the driver types a
    column from its first batch, and a NULL never upgrades it); the reader drops it.
    Numbers are never CAST to INTEGER or REAL, since SQLite's CAST never fails and
    silently turns 'abc' into 0. A ``numeric`` read splits the column in two: REAL
    values travel as doubles (``c{i}_r``), so they can be written with their
    shortest round-trip text, which SQLite's own CAST does not produce; everything
    else as SQLite's text.
    """
    heads: list[str] = []
    body: list[str] = []
    if with_rowid:
        heads.append(f"0 AS {quote_ident(ROWID)}")
        body.append("_rowid_")
    for i, (name, kind, cast) in enumerate(columns):
        q = quote_ident(name)
        heads.append(f"{_SENTINEL[kind]} AS {quote_ident(f'c{i}')}")
        body.append((_CAST[kind] if cast or kind == "numeric" else "{q}").format(q=q))
        if kind == "numeric":
            heads.append(f"0.0 AS {quote_ident(f'c{i}{REAL_SUFFIX}')}")
            body.append(f"CASE WHEN typeof({q}) = 'real' THEN {q} END")
    where = (
        "" if rowids is None else f" WHERE _rowid_ BETWEEN {int(rowids[0])} AND {int(rowids[1])}"
    )
    return (
        f"SELECT {', '.join(heads)} UNION ALL "
        f"SELECT {', '.join(body)} FROM {quote_ident(table)}{where}"
    )


def bytes_per_row(path: Path, sql: str, sample: int = 1_000) -> float | None:
    """Average Arrow size of a row of ``sql``'s first ``sample`` rows (None when empty)."""
    rows = bytes_ = 0
    for batch in read_batches(path, f"SELECT * FROM ({sql}) LIMIT {int(sample) + 1}", sample + 1):
        rows += batch.num_rows
        bytes_ += batch.nbytes
    return bytes_ / rows if rows else None


def rowid_span(path: Path, table: str) -> tuple[int, int] | None:
    """The smallest and largest rowid of a rowid table (two b-tree seeks); None if empty."""
    with closing(connect_metadata(path)) as conn:
        # one aggregate per SELECT: with both in one, SQLite scans the whole table
        q = quote_ident(table)
        low, high = conn.execute(
            f"SELECT (SELECT min(_rowid_) FROM {q}), (SELECT max(_rowid_) FROM {q})"
        ).fetchone()
    return None if low is None else (int(low), int(high))


def read_batches(path: Path, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Stream the query's batches from adbc_driver_sqlite, without the sentinel row.

    The cursor and connection are closed however the stream ends, including when the
    consumer stops early (a conversion error, a retry): ADBC refuses to close a
    connection whose statement is still open.
    """
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    with (
        closing(sqlite_adbc.connect(sqlite_uri(path, read_only=True))) as conn,
        closing(conn.cursor()) as cur,
    ):
        try:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(max(1, batch_rows))}
            )
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            first = True
            for batch in reader:
                if first:
                    batch = batch.slice(1)
                    first = False
                if batch.num_rows:
                    yield batch
        except Exception as err:  # the driver raises OSError/adbc errors: keep them typed
            raise _read_error(path, err) from err


def _read_error(path: Path, err: Exception) -> Exception:
    if isinstance(err, SourceError):
        return err
    mismatch = _TYPE_MISMATCH.search(str(err))
    if mismatch:
        return ReadTypeChanged(str(path), int(mismatch["index"]), mismatch["detail"])
    return SourceError(f"reading {str(path)!r} failed: {err}")


@dataclass(frozen=True, slots=True)
class InvalidText:
    """A TEXT value whose bytes are not valid UTF-8 (SQLite never checks)."""

    raw: bytes


def _text(raw: bytes) -> str | InvalidText:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidText(raw)


def fetch_rows(path: Path, table: str, rowids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Whole rows by rowid, exactly as stored (for the reject file; an error path only)."""
    if not rowids:
        return {}
    with closing(connect_metadata(path)) as conn:
        conn.text_factory = _text
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(rowids), 500):
            chunk = list(rowids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            cur = conn.execute(
                f"SELECT _rowid_ AS {quote_ident(ROWID)}, * FROM {quote_ident(table)} "
                f"WHERE _rowid_ IN ({marks})",
                chunk,
            )
            names = [d[0] for d in cur.description]
            for values in cur:
                record = dict(zip(names, values, strict=True))
                out[int(record.pop(ROWID))] = record
        return out


def fetch_rows_by_key(
    path: Path, table: str, columns: Sequence[str], keys: Sequence[Sequence[Any]]
) -> list[dict[str, Any] | None]:
    """Whole rows of a WITHOUT ROWID table by primary key, as stored (error path only)."""
    where = " AND ".join(f"{quote_ident(c)} = ?" for c in columns)
    out: list[dict[str, Any] | None] = []
    with closing(connect_metadata(path)) as conn:
        conn.text_factory = _text
        for key in keys:
            cur = conn.execute(f"SELECT * FROM {quote_ident(table)} WHERE {where}", list(key))
            names = [d[0] for d in cur.description]
            found = cur.fetchone()
            out.append(dict(zip(names, found, strict=True)) if found else None)
    return out


def connect_metadata_ctx(path: Path) -> closing[sqlite3.Connection]:
    return closing(connect_metadata(path))
