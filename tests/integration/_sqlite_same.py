"""Two SQLite files compared value by value, each value with its storage class: the test of
a SQLite -> SQLite copy (issue 12). ``assert_same_sqlite(a, b)`` passes only when ``b``
holds what ``a`` holds, aspect by aspect (any aspect can be left out with ``ignore``):

- ``rows``: per table, rows matched by rowid (by primary key in a WITHOUT ROWID table) and
  row counts; every cell compared as (storage class, value): INTEGER exactly, REAL by its
  64 bits (``-0.0`` is not ``0.0``; SQLite turns NaN into NULL, so there is none to meet),
  TEXT and BLOB by their bytes (``CAST(x AS BLOB)``: invalid UTF-8 and NUL bytes compare
  exactly, and no column collation applies). Generated columns are compared too; the
  hidden columns of a virtual table (FTS5's rank) are not.
- ``tables``: which tables exist; ``pragma table_xinfo`` (name, declared type verbatim,
  NOT NULL, default text, pk position, hidden: 2 virtual / 3 stored generated) and
  ``pragma table_list`` (table or virtual, WITHOUT ROWID, STRICT); a virtual table's
  ``CREATE VIRTUAL TABLE`` text, normalised.
- ``constraints``: what only the CREATE TABLE text holds (CHECK, COLLATE, the GENERATED
  expression, DEFERRABLE, AUTOINCREMENT, ON CONFLICT, constraint names), as normalised text
  per column and per table, in any order: ``NOT NULL DEFAULT 0`` equals ``DEFAULT 0 NOT NULL``.
- ``indexes``: ``pragma index_list`` (unique, origin, partial), ``pragma index_xinfo``
  (columns or expressions, DESC, collation, key) and the CREATE INDEX text normalised
  (expressions and the partial WHERE live only there).
- ``foreign_keys``: ``pragma foreign_key_list`` in any order, and ``pragma
  foreign_key_check``: a copy keeps the orphans its source has, no more and no fewer.
- ``views`` (names, normalised SQL, columns) and ``view_rows`` (each view's rows as a
  multiset, cells compared as above; a view both files fail to run the same way is equal).
- ``triggers``: name, table and normalised SQL.
- ``sequence``: the ``sqlite_sequence`` rows (AUTOINCREMENT counters), class and value.
- ``pragmas``: ``encoding`` (text bytes depend on it), ``user_version`` and
  ``application_id``. The last two matter: applications keep their schema version in
  ``user_version`` (Android's SQLiteOpenHelper, many migration tools) and file-format
  tags in ``application_id`` (GeoPackage, Fossil); a copy that resets them makes an
  application re-run its migrations or refuse the file.
- ``integrity``: ``pragma integrity_check`` of ``b`` finds nothing it does not also find in
  ``a`` (a source with text in a retyped INTEGER column fails the check, and its copy must
  fail it the same way; an index that disagrees with its table is found here).

Not compared, on purpose: the shadow tables of a virtual table (an FTS index's segments
depend on how the rows were inserted; the virtual table's rows are compared instead),
``sqlite_stat1``/``sqlite_stat4`` (ANALYZE statistics), and file layout (page_size,
auto_vacuum, journal_mode, the freelist).

Normalised SQL: comments and whitespace dropped, keywords and identifiers in lower case
(ASCII, as SQLite folds them), ``[x]``, ```x``` and ``"x"`` alike; string literals kept
exactly. SQLite stores the CREATE text as written, so a faithful copy has the same text;
the normalising only forgives a writer that quotes or spaces it otherwise.

The work is done in SQL over one connection (``a`` opened read-only, ``b`` attached
read-only), a table at a time with a join on its key, so millions of rows cost seconds,
and only the few differing rows come back to Python.
"""

from __future__ import annotations

import math
import re
import sqlite3
import struct
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

Aspect = Literal[
    "rows",
    "tables",
    "constraints",
    "indexes",
    "foreign_keys",
    "views",
    "view_rows",
    "triggers",
    "sequence",
    "pragmas",
    "integrity",
]
ASPECTS: tuple[str, ...] = get_args(Aspect)
SHOWN = 5  # differences listed per aspect; a sixth found is counted as "more"

Cell = tuple[str, Any]  # (storage class, value: int, float, bytes (TEXT and BLOB) or None)


@dataclass(frozen=True)
class Difference:
    aspect: str
    text: str

    def __str__(self) -> str:
        return f"[{self.aspect}] {self.text}"


def assert_same_sqlite(
    a: Path, b: Path, *, tables: Iterable[str] | None = None, ignore: Collection[str] = ()
) -> None:
    """Fail, naming up to five differences per aspect, unless ``b`` holds what ``a`` holds.

    ``tables`` limits the comparison to these tables and views (with their indexes,
    triggers, foreign keys and counters; the pragmas and ``integrity_check`` stay whole-file);
    ``ignore`` leaves out aspects (see ``ASPECTS``).
    """
    found = sqlite_differences(a, b, tables=tables, ignore=ignore)
    if found:
        lines = "\n".join(f"  {d}" for d in found)
        raise AssertionError(f"SQLite files differ (a = {a}, b = {b}):\n{lines}")


def sqlite_differences(
    a: Path, b: Path, *, tables: Iterable[str] | None = None, ignore: Collection[str] = ()
) -> list[Difference]:
    """The differences ``assert_same_sqlite`` reports, as data (for tests of this helper)."""
    unknown = set(ignore) - set(ASPECTS)
    if unknown:
        raise ValueError(f"unknown aspects {sorted(unknown)}; known: {ASPECTS}")
    for path in (a, b):
        if not Path(path).is_file():
            raise FileNotFoundError(path)
    found = _Found(ignore)
    encodings = (_encoding(a), _encoding(b))
    if encodings[0] != encodings[1]:
        # ATTACH refuses a second encoding, and the text bytes differ anyway
        found.add("pragmas", f"encoding: a {encodings[0]}, b {encodings[1]}")
        return found.result()
    scope = None if tables is None else set(tables)
    with closing(_open(a, b)) as conn:
        _Comparison(conn, found, scope).run()
    return found.result()


# --- collecting ---------------------------------------------------------------------------


class _Found:
    def __init__(self, ignore: Collection[str]) -> None:
        self.ignore = set(ignore)
        self.items: list[Difference] = []
        self.more: Counter[str] = Counter()

    def wants(self, aspect: str) -> bool:
        return aspect not in self.ignore

    def add(self, aspect: str, text: str) -> None:
        if aspect in self.ignore:
            return
        if sum(d.aspect == aspect for d in self.items) >= SHOWN:
            self.more[aspect] += 1
        else:
            self.items.append(Difference(aspect, text))

    def result(self) -> list[Difference]:
        more = [Difference(k, "... and more not shown") for k in sorted(self.more)]
        return self.items + more


# --- connection -------------------------------------------------------------------------


def _uri(path: Path) -> str:
    # read-only: the comparison can never change either file
    return Path(path).resolve().as_uri() + "?mode=ro"


def _encoding(path: Path) -> str:
    with closing(sqlite3.connect(_uri(path), uri=True)) as conn:
        return str(conn.execute("PRAGMA encoding").fetchone()[0])


def _signbit(x: Any) -> int | None:
    return int(math.copysign(1.0, x) < 0) if isinstance(x, float) else None


def _real_key(x: Any) -> str | None:
    return struct.pack(">d", x).hex() if isinstance(x, float) else None


def _open(a: Path, b: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(_uri(a), uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS b", (_uri(b),))
        # REAL '=' is exact IEEE equality except that -0.0 = 0.0: the sign is asked only
        # of zeros. af_real_key gives a REAL's 64 bits where no join partner exists (views).
        conn.create_function("af_signbit", 1, _signbit, deterministic=True)
        conn.create_function("af_real_key", 1, _real_key, deterministic=True)
    except BaseException:
        conn.close()
        raise
    return conn


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# --- cells --------------------------------------------------------------------------------


def _differs(x: str, y: str) -> str:
    """SQL: true when cell ``x`` and cell ``y`` differ in class or exact value."""
    return (
        f"(typeof({x}) IS NOT typeof({y}) OR CASE typeof({x})"
        f" WHEN 'null' THEN 0"
        f" WHEN 'integer' THEN +{x} <> +{y}"  # '+' drops affinity: no conversion
        # a nested CASE, because SQLite evaluates both sides of an OR that is a value
        f" WHEN 'real' THEN CASE WHEN +{x} <> +{y} THEN 1"
        f" WHEN +{x} = 0 THEN af_signbit({x}) <> af_signbit({y}) ELSE 0 END"
        # REAL -> TEXT keeps 15 digits only (0.30000000000000004 is '0.3'), hence not CAST
        f" ELSE CAST({x} AS BLOB) <> CAST({y} AS BLOB) END)"
    )


def _fetch(x: str) -> str:
    """SQL: the two result columns (class, value) of a cell, TEXT as its bytes."""
    return f"typeof({x}), CASE typeof({x}) WHEN 'text' THEN CAST({x} AS BLOB) ELSE {x} END"


def _key(x: str) -> str:
    """SQL: two result columns keying a cell exactly (class, and its bytes or a REAL's bits),
    for GROUP BY and EXCEPT, which compare blobs byte by byte."""
    return (
        f"typeof({x}), CASE typeof({x}) WHEN 'real' THEN af_real_key({x})"
        f" ELSE CAST({x} AS BLOB) END"
    )


def _from_key(cls: str, raw: Any) -> Cell:
    if cls == "real":
        return cls, struct.unpack(">d", bytes.fromhex(raw))[0]
    if cls == "integer":
        return cls, int(raw.decode())
    return cls, raw


def same_cell(x: Cell, y: Cell) -> bool:
    if x[0] != y[0]:
        return False
    if x[0] == "real":
        return bool(struct.pack("<d", x[1]) == struct.pack("<d", y[1]))
    return bool(x[1] == y[1])


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def show(cell: Cell) -> str:
    """A cell as a report shows it: ``(integer, 42)``, ``(real, 0.1 = 0x1.999999999999ap-4)``."""
    cls, value = cell
    if cls == "null":
        return "(null)"
    if cls == "real":
        return f"(real, {value!r} = {float(value).hex()})"
    if cls == "text":
        try:
            return f"(text, {_clip(repr(value.decode('utf-8')))})"
        except UnicodeDecodeError:
            return f"(text, invalid UTF-8 {_clip(repr(value))})"
    if cls == "blob":
        more = "..." if len(value) > 24 else ""
        return f"(blob, x'{value[:24].hex()}'{more}, {len(value)} bytes)"
    return f"({cls}, {value!r})"


def _where(x: Cell, y: Cell) -> str:
    """Where two byte strings of one class part, when they are long."""
    if x[0] != y[0] or x[0] not in ("text", "blob") or max(len(x[1]), len(y[1])) <= 24:
        return ""
    at = next((i for i, (p, r) in enumerate(zip(x[1], y[1], strict=False)) if p != r), None)
    if at is None:
        return f" (lengths {len(x[1])} and {len(y[1])})"
    return f" (first differ at byte {at}: 0x{x[1][at]:02x} and 0x{y[1][at]:02x})"


# --- SQL text -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<str>'(?:[^']|'')*')
  | (?P<blob>[xX]'[0-9a-fA-F]*')
  | (?P<dq>"(?:[^"]|"")*")
  | (?P<bq>`(?:[^`]|``)*`)
  | (?P<br>\[[^\]]*\])
  | (?P<num>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)
  | (?P<op>\|\||<<|>>|<=|>=|==|!=|<>|->>|->|.)
    """,
    re.S | re.X,
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, id (any quoted identifier), str, blob, num, op
    text: str  # as written (an identifier unquoted)
    canon: str  # as compared

    def word(self) -> str:
        return self.canon if self.kind == "word" else ""


def _canon_name(name: str) -> str:
    low = name.translate(_ASCII_LOWER)  # SQLite folds ASCII only
    return low if _PLAIN.fullmatch(low) else q(low)


def tokens(sql: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(sql):
        kind, text = m.lastgroup or "op", m.group()
        if kind == "space":
            continue
        if kind in ("dq", "bq", "br"):
            name = text[1:-1].replace(text[0] * 2, text[0]) if kind != "br" else text[1:-1]
            out.append(_Tok("id", name, _canon_name(name)))
        elif kind == "word":
            out.append(_Tok("word", text, text.translate(_ASCII_LOWER)))
        elif kind in ("num", "blob"):
            out.append(_Tok(kind, text, text.lower()))
        elif kind == "op":
            out.append(_Tok("op", text, {"==": "=", "!=": "<>"}.get(text, text)))
        else:
            out.append(_Tok(kind, text, text))
    return out


def _join(toks: Sequence[_Tok]) -> str:
    out = ""
    for t in toks:
        glue = not out or out[-1] in "(." or t.canon in (")", ",", ".")
        out += t.canon if glue else " " + t.canon
    return out


def normalise_sql(sql: str | None) -> str | None:
    return None if sql is None else _join(tokens(sql))


_TABLE_CONSTRAINT = {"constraint", "primary", "unique", "check", "foreign"}
_COLUMN_CONSTRAINT = {
    "constraint",
    "primary",
    "not",
    "null",
    "unique",
    "check",
    "default",
    "collate",
    "references",
    "generated",
    "as",
}


def _split_top(toks: Sequence[_Tok]) -> list[list[_Tok]]:
    """The comma-separated items of the first parenthesised list."""
    start = next((i for i, t in enumerate(toks) if t.canon == "("), None)
    if start is None:
        return []
    items: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks[start + 1 :]:
        if t.canon == ")" and depth == 0:
            break
        depth += {"(": 1, ")": -1}.get(t.canon, 0)
        if t.canon == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(t)
    return [i for i in items if i]


def _starts_constraint(current: list[_Tok], toks: Sequence[_Tok], i: int) -> bool:
    word, prev = toks[i].word(), current[-1].word() if current else ""
    if word not in _COLUMN_CONSTRAINT or not current:
        return word in _COLUMN_CONSTRAINT
    if current[0].word() == "constraint" and len(current) == 2:
        return False  # CONSTRAINT name PRIMARY KEY ...: one constraint
    if word == "null" and prev in ("not", "set", "default"):
        return False
    if word == "not" and i + 1 < len(toks) and toks[i + 1].word() == "deferrable":
        return False
    return not (word == "as" and prev == "always")


def _column_constraints(item: Sequence[_Tok]) -> list[str]:
    """``name type constraint...`` -> each constraint's normalised text (the type skipped)."""
    parts: list[list[_Tok]] = []
    current: list[_Tok] = []
    in_type, depth = True, 0
    for i in range(1, len(item)):
        t = item[i]
        if depth == 0 and _starts_constraint(current, item, i):
            if current:
                parts.append(current)
            current, in_type = [], False
        depth += {"(": 1, ")": -1}.get(t.canon, 0)
        if not in_type:
            current.append(t)
    if current:
        parts.append(current)
    return [_join(p) for p in parts]


def table_constraints(sql: str) -> Counter[str]:
    """What a CREATE TABLE text says beyond the pragmas, one normalised entry per constraint."""
    out: Counter[str] = Counter()
    for item in _split_top(tokens(sql)):
        if item[0].word() in _TABLE_CONSTRAINT:
            out[f"table constraint: {_join(item)}"] += 1
        else:
            for text in _column_constraints(item):
                out[f"column {item[0].text}: {text}"] += 1
    return out


# --- the comparison -------------------------------------------------------------------------


def _counter_diff(found: _Found, aspect: str, where: str, a: Counter[str], b: Counter[str]) -> None:
    for text in sorted((a - b).elements()):
        found.add(aspect, f"{where}: {text} only in a")
    for text in sorted((b - a).elements()):
        found.add(aspect, f"{where}: {text} only in b")


def _row_key(kind: tuple[str, int, int], cols: list[tuple[Any, ...]]) -> list[str] | None:
    """What rows are matched by: the primary key of a WITHOUT ROWID table, else the rowid
    under a name no column has taken (None when ``rowid``, ``_rowid_`` and ``oid`` all are)."""
    if kind[1]:
        return [c[0] for c in sorted(cols, key=lambda c: c[4]) if c[4]]
    taken = {c[0].lower() for c in cols}
    alias = next((r for r in ("rowid", "_rowid_", "oid") if r not in taken), None)
    return None if alias is None else [alias]


class _Comparison:
    def __init__(self, conn: sqlite3.Connection, found: _Found, scope: set[str] | None) -> None:
        self.conn = conn
        self.found = found
        self.scope = scope

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(query, params)]

    def in_scope(self, name: str) -> bool:
        return self.scope is None or name in self.scope

    def run(self) -> None:
        objects = {s: self.objects(s) for s in ("main", "b")}
        kinds = {s: self.kinds(s) for s in ("main", "b")}
        if self.scope is not None:
            for name in sorted(self.scope - set(kinds["main"]) - set(objects["main"]["view"])):
                self.found.add("tables", f"{q(name)} (asked for in tables=) is not in a")
        self.tables(kinds, objects)
        self.views(objects["main"]["view"], objects["b"]["view"])
        self.named_sql("triggers", "trigger", objects)
        self.sequence()
        if self.found.wants("pragmas"):
            for pragma in ("user_version", "application_id"):
                x, y = (self.rows(f"PRAGMA {s}.{pragma}")[0][0] for s in ("main", "b"))
                if x != y:
                    self.found.add("pragmas", f"{pragma}: a {x}, b {y}")
        if self.found.wants("integrity"):
            self.integrity()
        if self.found.wants("foreign_keys"):
            self.orphans()

    # catalogue ---------------------------------------------------------------------------

    def kinds(self, schema: str) -> dict[str, tuple[str, int, int]]:
        """Table name -> (table or virtual, WITHOUT ROWID, STRICT); internal and shadow
        tables left out."""
        return {
            name: (kind, wr, strict)
            for name, kind, wr, strict in self.rows(
                "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = ?"
                " AND type IN ('table', 'virtual') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                (schema,),
            )
            if self.in_scope(name)
        }

    def objects(self, schema: str) -> dict[str, dict[str, tuple[str, str | None]]]:
        """type -> name -> (table name, SQL) for views, triggers, indexes and tables."""
        out: dict[str, dict[str, tuple[str, str | None]]] = {
            k: {} for k in ("table", "view", "trigger", "index")
        }
        for kind, name, table, sql in self.rows(
            f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master"
        ):
            if self.in_scope(table) and kind in out:
                out[kind][name] = (table, sql)
        return out

    def xinfo(self, schema: str, name: str) -> list[tuple[Any, ...]]:
        return self.rows(
            'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?)'
            " ORDER BY cid",
            (name, schema),
        )

    # tables ------------------------------------------------------------------------------

    def tables(
        self,
        kinds: dict[str, dict[str, tuple[str, int, int]]],
        objects: dict[str, dict[str, dict[str, tuple[str, str | None]]]],
    ) -> None:
        ka, kb = kinds["main"], kinds["b"]
        for name in sorted(set(ka) - set(kb)):
            self.found.add("tables", f"table {q(name)} only in a")
        for name in sorted(set(kb) - set(ka)):
            self.found.add("tables", f"table {q(name)} only in b")
        for name in sorted(set(ka) & set(kb)):
            sql_a = objects["main"]["table"][name][1] or ""
            sql_b = objects["b"]["table"][name][1] or ""
            try:
                cols_a, cols_b = self.xinfo("main", name), self.xinfo("b", name)
            except sqlite3.Error as err:
                # a virtual table of a module this SQLite lacks: only its text can be seen
                self.unreadable("tables", f"table {q(name)}", name, err)
                if normalise_sql(sql_a) != normalise_sql(sql_b):
                    self.found.add(
                        "tables", f"table {q(name)}: definition a {sql_a!r}, b {sql_b!r}"
                    )
                continue
            self.table_shape(name, ka[name], kb[name], cols_a, cols_b, sql_a, sql_b)
            if self.found.wants("foreign_keys"):
                self.foreign_keys(name)
            if self.found.wants("indexes"):
                self.indexes(name, objects)
            if self.found.wants("rows"):
                self.table_rows(name, (ka[name], kb[name]), cols_a, cols_b)

    def table_shape(
        self,
        name: str,
        kind_a: tuple[str, int, int],
        kind_b: tuple[str, int, int],
        cols_a: list[tuple[Any, ...]],
        cols_b: list[tuple[Any, ...]],
        sql_a: str,
        sql_b: str,
    ) -> None:
        where = f"table {q(name)}"
        for label, x, y in zip(("kind", "WITHOUT ROWID", "STRICT"), kind_a, kind_b, strict=True):
            if x != y:
                self.found.add("tables", f"{where}: {label} a {x!r}, b {y!r}")
        fields = ("name", "declared type", "NOT NULL", "default", "pk position", "hidden")
        if [c[0] for c in cols_a] != [c[0] for c in cols_b]:
            self.found.add(
                "tables", f"{where}: columns a {[c[0] for c in cols_a]}, b {[c[0] for c in cols_b]}"
            )
        by_name = {c[0]: c for c in cols_b}
        for col in cols_a:
            other = by_name.get(col[0])
            for label, x, y in zip(fields[1:], col[1:], (other or col)[1:], strict=True):
                if x != y:
                    self.found.add(
                        "tables", f"{where} column {q(col[0])}: {label} a {x!r}, b {y!r}"
                    )
        if kind_a[0] == "virtual" or kind_b[0] == "virtual":
            if normalise_sql(sql_a) != normalise_sql(sql_b):
                self.found.add(
                    "tables",
                    f"{where}: definition a {normalise_sql(sql_a)!r}, b {normalise_sql(sql_b)!r}",
                )
        elif self.found.wants("constraints"):
            _counter_diff(
                self.found, "constraints", where, table_constraints(sql_a), table_constraints(sql_b)
            )

    def foreign_keys(self, name: str) -> None:
        def fks(schema: str) -> Counter[str]:
            groups: dict[int, list[tuple[Any, ...]]] = {}
            for row in self.rows(
                'SELECT id, seq, "table", "from", "to", on_update, on_delete, match'
                " FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq",
                (name, schema),
            ):
                groups.setdefault(row[0], []).append(row)
            return Counter(
                f"({', '.join(str(r[3]) for r in g)}) REFERENCES {q(g[0][2])}"
                f"({', '.join(str(r[4]) for r in g)}) ON UPDATE {g[0][5]} ON DELETE {g[0][6]}"
                f" MATCH {g[0][7]}"
                for g in groups.values()
            )

        _counter_diff(self.found, "foreign_keys", f"table {q(name)}", fks("main"), fks("b"))

    def indexes(
        self, table: str, objects: dict[str, dict[str, dict[str, tuple[str, str | None]]]]
    ) -> None:
        def listing(schema: str) -> dict[str, dict[str, Any]]:
            out = {}
            for name, unique, origin, partial in self.rows(
                'SELECT name, "unique", origin, partial FROM pragma_index_list(?, ?)',
                (table, schema),
            ):
                out[name] = {
                    "unique": unique,
                    "origin": origin,
                    "partial": partial,
                    "columns (index_xinfo)": self.rows(
                        'SELECT seqno, cid, name, "desc", coll, key'
                        " FROM pragma_index_xinfo(?, ?) ORDER BY seqno",
                        (name, schema),
                    ),
                    "sql": normalise_sql(objects[schema]["index"].get(name, ("", None))[1]),
                }
            return out

        ia, ib = listing("main"), listing("b")
        for name in sorted(set(ia) | set(ib)):
            where = f"index {q(name)} on {q(table)}"
            if name not in ib or name not in ia:
                self.found.add("indexes", f"{where} only in {'a' if name in ia else 'b'}")
                continue
            for label, x in ia[name].items():
                if x != ib[name][label]:
                    self.found.add("indexes", f"{where}: {label} a {x!r}, b {ib[name][label]!r}")

    # rows --------------------------------------------------------------------------------

    def table_rows(
        self,
        name: str,
        kinds: tuple[tuple[str, int, int], tuple[str, int, int]],
        cols_a: list[tuple[Any, ...]],
        cols_b: list[tuple[Any, ...]],
    ) -> None:
        where = f"table {q(name)}"
        in_b = {c[0] for c in cols_b if c[5] != 1}
        columns = [c[0] for c in cols_a if c[5] != 1 and c[0] in in_b]  # 1: a vtab's hidden
        try:
            counts = self.rows(
                f"SELECT (SELECT count(*) FROM main.{q(name)}), (SELECT count(*) FROM b.{q(name)})"
            )[0]
            if counts[0] != counts[1]:
                self.found.add("rows", f"{where}: a has {counts[0]} rows, b has {counts[1]}")
            keys = _row_key(kinds[0], cols_a)
            if keys is None or keys != _row_key(kinds[1], cols_b):
                # no key both sides share (every rowid name a column, or a WITHOUT ROWID
                # table on one side only): the rows can still be compared as a multiset
                self.multiset("rows", where, name, columns)
            else:
                self.matched_rows(name, keys, columns, bool(kinds[0][1]))
        except sqlite3.Error as err:
            self.unreadable("rows", where, name, err)

    def matched_rows(self, name: str, keys: list[str], columns: list[str], by_pk: bool) -> None:
        def on(x: str, y: str) -> str:
            return " AND ".join(f"{y}.{q(k)} = {x}.{q(k)}" for k in keys)

        def key_cells(x: str) -> str:
            return ", ".join(_fetch(f"{x}.{q(k)}") for k in keys)

        def label(row: Sequence[Any]) -> str:
            cells = [(row[2 * i], row[2 * i + 1]) for i in range(len(keys))]
            if not by_pk:
                return f"table {q(name)} rowid {cells[0][1]}"
            inner = ", ".join(f"{k}={show(c)}" for k, c in zip(keys, cells, strict=True))
            return f"table {q(name)} key ({inner})"

        for side, this, other in (("a", "main", "b"), ("b", "b", "main")):
            for row in self.rows(
                f"SELECT {key_cells('X')} FROM {this}.{q(name)} AS X WHERE NOT EXISTS"
                f" (SELECT 1 FROM {other}.{q(name)} AS Y WHERE {on('X', 'Y')})"
                f" LIMIT {SHOWN + 1}"
            ):
                self.found.add("rows", f"{label(row)} only in {side}")
        if not columns:
            return
        pred = " OR ".join(_differs(f"A.{q(c)}", f"B.{q(c)}") for c in columns)
        cells = ", ".join(f"{_fetch(f'A.{q(c)}')}, {_fetch(f'B.{q(c)}')}" for c in columns)
        for row in self.rows(
            f"SELECT {key_cells('A')}, {cells} FROM main.{q(name)} AS A JOIN b.{q(name)} AS B"
            f" ON {on('A', 'B')} WHERE {pred} LIMIT {SHOWN + 1}"
        ):
            base = 2 * len(keys)
            for i, col in enumerate(columns):
                x = (row[base + 4 * i], row[base + 4 * i + 1])
                y = (row[base + 4 * i + 2], row[base + 4 * i + 3])
                if not same_cell(x, y):
                    self.found.add(
                        "rows",
                        f"{label(row)} column {q(col)}: a has {show(x)}, b has {show(y)}"
                        f"{_where(x, y)}",
                    )

    def multiset(self, aspect: str, where: str, name: str, columns: list[str]) -> None:
        """Rows of ``name`` compared as a multiset (views, and tables without a usable key)."""
        if not columns:
            return
        keys = ", ".join(_key(q(c)) for c in columns)
        groups = ", ".join(str(i) for i in range(1, 2 * len(columns) + 1))
        try:
            # each side run once, into a temporary table (the files stay read-only)
            for s, tmp in (("main", "af_a"), ("b", "af_b")):
                self.conn.execute(f"DROP TABLE IF EXISTS temp.{tmp}")
                self.conn.execute(
                    f"CREATE TEMP TABLE {tmp} AS SELECT {keys}, count(*) AS n"
                    f" FROM {s}.{q(name)} GROUP BY {groups}"
                )
        except sqlite3.Error as err:
            self.unreadable(aspect, where, name, err)
            return
        extra = {
            side: {
                tuple(r[:-1]): r[-1]
                for r in self.rows(f"SELECT * FROM {x} EXCEPT SELECT * FROM {y} LIMIT {SHOWN + 1}")
            }
            for side, x, y in (("a", "af_a", "af_b"), ("b", "af_b", "af_a"))
        }
        for row in sorted(set(extra["a"]) | set(extra["b"]), key=repr):
            cells = [_from_key(row[i], row[i + 1]) for i in range(0, len(row), 2)]
            shown = ", ".join(show(c) for c in cells)
            self.found.add(
                aspect,
                f"{where}: row [{_clip(shown, 240)}] appears {extra['a'].get(row, 0)}"
                f" times in a, {extra['b'].get(row, 0)} in b",
            )

    def unreadable(self, aspect: str, where: str, name: str, err: sqlite3.Error) -> None:
        """A relation that cannot be read on one side, or on each side another way."""
        errors = []
        for s in ("main", "b"):
            try:
                self.rows(f"SELECT count(*) FROM {s}.{q(name)}")
                errors.append("")
            except sqlite3.Error as e:
                errors.append(str(e))
        if errors[0] != errors[1] or not errors[0]:
            self.found.add(
                aspect, f"{where}: rows not comparable ({err}): a {errors[0]!r}, b {errors[1]!r}"
            )

    # views, triggers, counters, integrity -------------------------------------------------

    def views(
        self, va: dict[str, tuple[str, str | None]], vb: dict[str, tuple[str, str | None]]
    ) -> None:
        for name in sorted(set(va) ^ set(vb)):
            self.found.add("views", f"view {q(name)} only in {'a' if name in va else 'b'}")
        for name in sorted(set(va) & set(vb)):
            where = f"view {q(name)}"
            sa, sb = normalise_sql(va[name][1]), normalise_sql(vb[name][1])
            if sa != sb:
                self.found.add(
                    "views", f"{where}: SQL a {_clip(str(sa), 300)!r}, b {_clip(str(sb), 300)!r}"
                )
            cols = [self.view_columns(s, name) for s in ("main", "b")]
            if cols[0] != cols[1]:
                self.found.add("views", f"{where}: columns a {cols[0]}, b {cols[1]}")
            if self.found.wants("view_rows") and cols[0] is not None and cols[0] == cols[1]:
                self.multiset("view_rows", where, name, [c[0] for c in cols[0]])

    def view_columns(self, schema: str, name: str) -> list[tuple[Any, ...]] | None:
        try:
            return [c[:2] for c in self.xinfo(schema, name)]
        except sqlite3.Error:
            return None  # a view that does not compile (its columns are unknowable)

    def named_sql(
        self,
        aspect: str,
        kind: str,
        objects: dict[str, dict[str, dict[str, tuple[str, str | None]]]],
    ) -> None:
        if not self.found.wants(aspect):
            return
        xa, xb = objects["main"][kind], objects["b"][kind]
        for name in sorted(set(xa) ^ set(xb)):
            self.found.add(aspect, f"{kind} {q(name)} only in {'a' if name in xa else 'b'}")
        for name in sorted(set(xa) & set(xb)):
            ta, sa = xa[name][0], normalise_sql(xa[name][1])
            tb, sb = xb[name][0], normalise_sql(xb[name][1])
            if (ta, sa) != (tb, sb):
                self.found.add(
                    aspect, f"{kind} {q(name)}: a on {q(ta)}: {sa!r}; b on {q(tb)}: {sb!r}"
                )

    def sequence(self) -> None:
        if not self.found.wants("sequence"):
            return
        seq: list[dict[str, Cell]] = []
        for schema in ("main", "b"):
            there = self.rows(
                f"SELECT 1 FROM {schema}.sqlite_master WHERE name = 'sqlite_sequence'"
            )
            rows = (
                self.rows(f"SELECT name, {_fetch('seq')} FROM {schema}.sqlite_sequence")
                if there
                else []
            )
            seq.append({r[0]: (r[1], r[2]) for r in rows if self.in_scope(r[0])})
        for name in sorted(set(seq[0]) | set(seq[1])):
            x, y = seq[0].get(name, ("null", None)), seq[1].get(name, ("null", None))
            if not same_cell(x, y) or (name in seq[0]) != (name in seq[1]):
                sx = show(x) if name in seq[0] else "no row"
                sy = show(y) if name in seq[1] else "no row"
                self.found.add("sequence", f"sqlite_sequence {q(name)}: a {sx}, b {sy}")

    def integrity(self) -> None:
        checks = [
            Counter(str(r[0]) for r in self.rows(f"PRAGMA {s}.integrity_check"))
            for s in ("main", "b")
        ]
        for line in sorted((checks[1] - checks[0]).elements()):
            if line != "ok":
                self.found.add("integrity", f"b: {line}")

    def orphans(self) -> None:
        orphans = []
        for s in ("main", "b"):
            try:
                orphans.append(
                    Counter(
                        f"{q(str(r[0]))} rowid {r[1]} -> {q(str(r[2]))}"
                        for r in self.rows(f"PRAGMA {s}.foreign_key_check")
                        if self.in_scope(str(r[0]))
                    )
                )
            except sqlite3.Error as err:
                orphans.append(Counter({f"error: {err}": 1}))
        _counter_diff(self.found, "foreign_keys", "foreign_key_check", orphans[0], orphans[1])
