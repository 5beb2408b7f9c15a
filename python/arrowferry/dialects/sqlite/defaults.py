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
    return found[0] if found is not None and kind in found[1] else None


def expression_from_postgresql(sql: str, kind: str) -> str:
    """A PostgreSQL default expression as SQLite's, for a column of ``kind``: a clock
    reading as the text SQLite's clock writes (:func:`clock_from_postgresql`; now() into
    a timestamptz column as its values' text), anything else through the translator
    (which raises TranslationError for what has no SQLite form)."""
    from arrowferry.dialects.translate import translate_expression

    clock = clock_from_postgresql(sql, kind)
    if clock is not None:
        return clock
    expr = translate_expression(sql, "postgresql", "sqlite")
    if kind == "timestamptz" and expr.upper() == "CURRENT_TIMESTAMP":
        # the same text as the migrated values, not CURRENT_TIMESTAMP's offset-less form
        expr = "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
    return expr


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


def clock_default(default: str) -> str | None:
    """``timestamp``, ``date`` or ``time`` when the default is SQLite's clock, else None."""
    return CLOCK.get(_bare(default).upper().replace(" ", ""))


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
