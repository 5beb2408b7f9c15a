"""What a SQLite column default gives a new row, as SQLite itself computes it.

A default is stored through the column's affinity (https://www.sqlite.org/datatype3.html):
``TEXT DEFAULT 010`` holds the text ``'10'``, ``TEXT DEFAULT 1e3`` ``'1000.0'``,
``INTEGER DEFAULT '5'`` the integer 5, ``REAL DEFAULT 1`` the real 1.0 and
``DEFAULT ""`` (a double-quoted string) the empty text. Rather than re-implement those
rules, the default is evaluated by SQLite on an empty in-memory table of the same
affinity, and the value a new row would hold is read back with its storage class.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from arrowferry.dialects.sqlite.types import sqlite_affinity

# The defaults SQLite evaluates from its clock (UTC text), by what they write
CLOCK = {
    "CURRENT_TIMESTAMP": "timestamp",
    "DATETIME('NOW')": "timestamp",
    'DATETIME("NOW")': "timestamp",
    "CURRENT_DATE": "date",
    "DATE('NOW')": "date",
    'DATE("NOW")': "date",
    "CURRENT_TIME": "time",
    "TIME('NOW')": "time",
    'TIME("NOW")': "time",
    # what arrowferry writes for PostgreSQL's now() into a timestamptz column, back again
    "STRFTIME('%Y-%M-%D%H:%M:%F+00:00','NOW')": "timestamp",
}

# PostgreSQL's clock defaults as SQLite's clock writes the same text: the forms a migration
# from SQLite writes for CURRENT_TIMESTAMP/DATE/TIME (``postgresql.defaults._CLOCK``, as
# pg_get_expr prints them), and UTC readings of now() as applications write them
# (``timezone('utc', now())``). Keys: the expression lower-cased, without blanks or
# ``::text``, its UTC reading of the clock written U.
_PG_CLOCK: dict[str, tuple[str, frozenset[str]]] = {
    # key -> (SQLite's default, the column kinds whose values it writes as PostgreSQL does)
    "to_char(u,'yyyy-mm-ddhh24:mi:ss')": ("CURRENT_TIMESTAMP", frozenset({"text"})),
    "to_char(u,'yyyy-mm-dd')": ("CURRENT_DATE", frozenset({"text"})),
    "to_char(u,'hh24:mi:ss')": ("CURRENT_TIME", frozenset({"text"})),
    "date_trunc('second',u)": ("CURRENT_TIMESTAMP", frozenset({"timestamp", "text"})),
    "u::date": ("CURRENT_DATE", frozenset({"date", "text"})),
    "date_trunc('second',u)::timewithouttimezone": ("CURRENT_TIME", frozenset({"time", "text"})),
    "date_trunc('day',u)": ("datetime('now', 'start of day')", frozenset({"timestamp", "text"})),
    # a timestamptz's text, as a migration writes its values: '2024-01-02 03:04:05+00:00'
    "date_trunc('day',u)attimezone'utc'": (
        "strftime('%Y-%m-%d 00:00:00+00:00', 'now')",
        frozenset({"timestamptz"}),
    ),
    "date_trunc('second',now())": (
        "strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')",
        frozenset({"timestamptz"}),
    ),
    "u": ("strftime('%Y-%m-%d %H:%M:%f', 'now')", frozenset({"timestamp"})),
}
_UTC_NOW = re.compile(
    r"timezone\('utc',(now\(\)|current_timestamp)\)|(now\(\)|current_timestamp)attimezone'utc'"
)


def clock_from_postgresql(sql: str, kind: str) -> str | None:
    """SQLite's default for a PostgreSQL clock default (``pg_get_expr``'s text) on a column
    of ``kind``, writing the text a migration writes for that column's values, else None.

    >>> clock_from_postgresql(
    ...     "to_char((now() AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD'::text)", "text")
    'CURRENT_DATE'
    >>> clock_from_postgresql("timezone('utc'::text, now())", "timestamp")
    "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    """
    text = re.sub(r"\s+", "", sql.lower()).replace("::text", "")
    text = text.replace("current_timestamp", "now()")
    text = _UTC_NOW.sub("u", text)
    while True:  # parentheses around the whole, or around a U or a cast's operand
        bare = re.sub(r"\((u|date_trunc\('\w+',u\))\)", r"\1", text)
        bare = bare[1:-1] if _wraps(bare) else bare
        if bare == text:
            break
        text = bare
    found = _PG_CLOCK.get(text)
    if found is not None:
        return found[0] if kind in found[1] else None
    return _generated_from_postgresql(text.replace("(", "").replace(")", ""), kind)


# the per-row defaults a migration from SQLite writes (``postgresql.defaults``), back
# (written without parentheses: pg_get_expr adds its own)
_PG_EPOCH = re.compile(r"^floorextractepochfromnow::(bigint|numeric|doubleprecision)$")
_PG_JULIAN = (
    "extractepochfromnow::doubleprecision/86400::doubleprecision+2440587.5::doubleprecision"
)
_PG_RANDOM = re.compile(
    r"^(?P<upper>upper)?(?P<blob>decode)?substr"
    r"(?P<pieces>(substrreplacegen_random_uuid,'-','',1,12(\|\|)?)+),1,(?P<digits>\d+)"
    r"(?(blob),'hex')$"
)
_NUMBERS = frozenset({"int16", "int32", "int64", "decimal", "float64", "text"})
# PostgreSQL's random UUIDs: its own (13+) and uuid-ossp's
_PG_UUID4 = frozenset({"gen_random_uuid", "uuid_generate_v4", "public.uuid_generate_v4"})


def generated_from_postgresql(sql: str, kind: str) -> str | None:
    """SQLite's default for one a migration from SQLite wrote for a per-row default
    (Unix seconds, the Julian day, random bytes) on a column of ``kind``, else None."""
    text = re.sub(r"\s+", "", sql.lower()).replace("::text", "")
    return _generated_from_postgresql(text.replace("(", "").replace(")", ""), kind)


def _generated_from_postgresql(bare: str, kind: str) -> str | None:
    if bare in _PG_UUID4 and kind in ("uuid", "text"):
        return UUID4
    if _PG_EPOCH.match(bare) and kind in _NUMBERS:
        return "CAST(strftime('%s', 'now') AS INTEGER)"
    if bare == _PG_JULIAN and kind == "float64":
        return "julianday('now')"
    random = _PG_RANDOM.match(bare)
    if random is None or int(random.group("digits")) % 2:
        return None
    count = int(random.group("digits")) // 2
    if random.group("pieces").count("gen_random_uuid") != -(-2 * count // 12):
        return None
    if random.group("blob") and not random.group("upper") and kind == "blob":
        return f"randomblob({count})"
    if not random.group("blob") and kind == "text":
        return f"{'upper' if random.group('upper') else 'lower'}(hex(randomblob({count})))"
    return None


# the strftime codes a migration writes into PostgreSQL code by code (``to_postgresql``)
_FORMAT_CODES = "dmYHMSjfsw"


def format_from_postgresql(sql: str) -> str | None:
    """The format of the SQLite ``strftime(format, 'now')`` a migration wrote as
    PostgreSQL text code by code (a ``to_char`` of the UTC clock per code, the text
    between as literals), read from ``pg_get_expr``'s text; None for anything else.

    >>> format_from_postgresql("((to_char((CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text), "
    ...     "'YYYY'::text) || '/'::text) || to_char((CURRENT_TIMESTAMP AT TIME ZONE "
    ...     "'UTC'::text), 'MM'::text))")
    '%Y/%m'
    """
    from sqlglot import exp

    lowered = sql.lower()
    if "current_timestamp" not in lowered and "now()" not in lowered:
        return None  # every piece reads the clock: no parse for the diff's other defaults
    tree = _pg_tree(sql)
    if tree is None:
        return None
    out, codes = [], 0
    for piece in _concatenated(tree):
        if isinstance(piece, exp.Literal) and piece.is_string:
            out.append(str(piece.this).replace("%", "%%"))
            continue
        code = _format_pieces().get(_piece_key(piece))
        if code is None:
            return None
        out.append(f"%{code}")
        codes += 1
    return "".join(out) if codes else None


def _pg_tree(sql: str) -> Any:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except (SqlglotError, ValueError, RecursionError):
        return None

    def bare(node: exp.Expr) -> exp.Expr:  # 'YYYY'::text is the literal
        return (
            node.this if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) else node
        )

    return tree.transform(bare)


def _concatenated(node: Any) -> list[Any]:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.DPipe):
        return _concatenated(node.this) + _concatenated(node.expression)
    return [node]


def _piece_key(node: Any) -> str:
    text = re.sub(r"\s+", "", node.sql(dialect="postgres").lower())
    text = _UTC_NOW.sub("u", text.replace("current_timestamp", "now()"))
    # %s rounds by half a millisecond, an interval PostgreSQL prints in the session's
    # IntervalStyle (postgres, sql_standard, postgres_verbose, iso_8601)
    text = _HALF_MS.sub("'halfms'", text)
    return text.replace("(", "").replace(")", "")


_HALF_MS = re.compile(r"'(?:0\.5milliseconds|0?0:00:00\.0005|@0\.0005secs?|pt0\.0005s)'")


@lru_cache(maxsize=1)
def _format_pieces() -> dict[str, str]:
    """Each code's PostgreSQL piece, as the translator writes it, by ``_piece_key``."""
    from arrowferry.dialects.translate import translate_expression

    found = {}
    for code in _FORMAT_CODES:
        pg = translate_expression(f"strftime('%{code}', 'now')", "sqlite", "postgresql")
        tree = _pg_tree(pg)
        assert tree is not None
        found[_piece_key(_concatenated(tree)[0])] = code
    return found


def expression_from_postgresql(sql: str, kind: str) -> str:
    """A PostgreSQL default expression as SQLite's, for a column of ``kind``: a clock
    reading as the text SQLite's clock writes (:func:`clock_from_postgresql`; now() into
    a timestamptz column as its values' text), anything else through the translator
    (which raises TranslationError for what has no SQLite form)."""
    from arrowferry.dialects.translate import translate_expression

    clock = clock_from_postgresql(sql, kind)
    if clock is not None:
        return clock
    pattern = format_from_postgresql(sql) if kind == "text" else None
    if pattern is not None:
        return f"strftime({_quoted(pattern)}, 'now')"
    expr = translate_expression(sql, "postgresql", "sqlite")
    if kind == "timestamptz" and expr.upper() == "CURRENT_TIMESTAMP":
        # the same text as the migrated values, not CURRENT_TIMESTAMP's offset-less form
        expr = "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
    return expr


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wraps(text: str) -> bool:
    """Whether the first parenthesis of ``text`` closes at its end."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


_LITERAL = re.compile(
    r"""^[+-]?(\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9A-Fa-f]+)$"""
    r"""|^'([^']|'')*'$|^"([^"]|"")*"$|^[xX]'[0-9A-Fa-f]*'$|^(?i:null|true|false)$"""
)


class DefaultNotConstant(ValueError):
    """A default SQLite computes per row (or cannot compute): it has no single value."""


@dataclass(frozen=True)
class StoredDefault:
    """The value a new row gets: its storage class, the value (text as raw bytes,
    possibly invalid UTF-8) and its ``CAST(... AS TEXT)``, as the reader's text path sees it."""

    storage: str  # integer, real, text, blob or null
    value: int | float | bytes | None
    text: bytes | None


# Per-row defaults applications write that another database computes alike: the Unix
# time in whole seconds (strftime('%s') is text, unixepoch() an integer: the column's
# affinity stores the same), the Julian day, and random bytes as a blob or as their hex.
_EPOCH = re.compile(
    r"^(?:(?i:cast)\s*\(\s*)?(?:(?i:strftime)\s*\(\s*'%s'\s*,\s*'now'\s*\)"
    r"|(?i:unixepoch)\s*\(\s*(?:'now')?\s*\))(?:\s+(?i:as)\s+(?i:integer|int)\s*\))?$"
)
_JULIAN = re.compile(r"^(?i:julianday)\s*\(\s*'now'\s*\)$")
_RANDOM = re.compile(
    r"^(?:(?P<case>(?i:lower|upper))\s*\(\s*)?(?P<hex>(?i:hex)\s*\(\s*)?"
    r"(?i:randomblob)\s*\(\s*(?P<n>\d+)\s*\)\s*\)?\s*\)?$"
)


_FORMATS_NOW = re.compile(r"^(?i:strftime)\s*\(\s*'(?P<format>(?:[^']|'')*)'\s*,\s*'now'\s*\)$")


def formats_now(default: str) -> bool:
    """Whether the default is ``strftime(format, 'now')``: the clock's UTC reading as text
    of the format's codes, which the translator writes code by code."""
    return format_of(default) is not None


def format_of(default: str) -> str | None:
    """The format of a ``strftime(format, 'now')`` default, else None."""
    found = _FORMATS_NOW.match(_bare(default))
    return None if found is None else found.group("format").replace("''", "'")


# A random (version 4) UUID as lower-case text, as PostgreSQL's gen_random_uuid() prints
# one: 122 random bits, the version digit 4 and a variant digit of 8, 9, a or b
UUID4 = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
)
_UUID4_KEY = re.sub(r"\s+", "", UUID4.lower())


def clock_default(default: str) -> str | None:
    """What a per-row default another database can compute alike reads, else None:
    ``timestamp``, ``date`` or ``time`` (SQLite's clock), ``epoch`` (Unix seconds),
    ``julianday``, ``random:N:blob|upper|lower`` (N random bytes, or their hex), or
    ``uuid4`` (:data:`UUID4`, what a migration writes for ``gen_random_uuid()``)."""
    bare = _bare(default)
    found = CLOCK.get(bare.upper().replace(" ", ""))
    if found is not None:
        return found
    if re.sub(r"\s+", "", bare.lower()) == _UUID4_KEY:
        return "uuid4"
    if _EPOCH.match(bare):
        return "epoch"
    if _JULIAN.match(bare):
        return "julianday"
    random = _RANDOM.match(bare)
    if random is not None and bare.count("(") == bare.count(")"):
        hexed, case = random.group("hex"), (random.group("case") or "").lower()
        count = int(random.group("n"))
        if 1 <= count <= 1024 and (hexed or not case):
            return f"random:{count}:{(case or 'upper') if hexed else 'blob'}"
    return None


def evaluate_default(default: str, declared: str) -> StoredDefault:
    """The value SQLite stores for ``default`` in a column declared ``declared``.

    Raises DefaultNotConstant for a default that is not one value: a clock reading,
    ``random()``, or something SQLite cannot evaluate on its own (an unknown function).
    """
    affinity = sqlite_affinity(declared)
    conn = sqlite3.connect(":memory:")
    conn.text_factory = bytes  # text may be invalid UTF-8: judged by the caller
    try:
        if not _LITERAL.match(_bare(default)):
            # table_info shows an expression without the parentheses it needs
            default = f"({default})"
            _refuse_nondeterministic(conn, default)
        conn.execute(f"CREATE TABLE d (c {affinity} DEFAULT {default})")
        conn.execute("INSERT INTO d DEFAULT VALUES")
        value, storage, text = conn.execute(
            "SELECT c, typeof(c), CAST(c AS TEXT) FROM d"
        ).fetchone()
    except sqlite3.Error as err:
        raise DefaultNotConstant(f"SQLite cannot evaluate it on its own ({err})") from None
    finally:
        conn.close()
    return StoredDefault(storage.decode(), value, text)


def _refuse_nondeterministic(conn: sqlite3.Connection, default: str) -> None:
    # SQLite refuses a non-deterministic function (random(), datetime('now')) in an
    # index expression: the same judgement as its own, without listing the functions.
    # The date functions are judged only when evaluated, so the probe holds a row.
    conn.execute("CREATE TABLE probe (x)")
    conn.execute("INSERT INTO probe VALUES (1)")
    try:
        conn.execute(f"CREATE INDEX probe_x ON probe ({default})")
    except sqlite3.Error as err:
        if "non-deterministic" in str(err):
            # strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') is the clock too (arrowferry writes
            # it for a PostgreSQL timestamptz default); the caller asks clock_default first
            raise DefaultNotConstant(
                "SQLite computes it for each row (a non-deterministic function), and it has "
                "no PostgreSQL equivalent here"
            ) from None
        raise DefaultNotConstant(f"SQLite cannot evaluate it on its own ({err})") from None


def _bare(default: str) -> str:
    text = default.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text
