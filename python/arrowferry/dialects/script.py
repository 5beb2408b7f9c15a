"""A file of SQL statements (a run's ``before_sql`` / ``after_sql``), cut into statements.

Each statement is run on its own, so an error names the one that failed and where it
starts in the file. The drivers cannot be asked to cut: ADBC's PostgreSQL driver
prepares what it executes, and PostgreSQL refuses several commands in one prepared
statement; its ``executescript`` sends them as one simple query, whose error does not
say which command failed. So the text is cut here, as each database's own shell
does: SQLite by ``sqlite3.complete_statement`` (which knows a trigger's ``BEGIN ...
END``), PostgreSQL by a scanner that knows what psql knows (quotes, ``$tag$`` bodies,
nested comments, ``BEGIN ATOMIC ... END`` function bodies).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_][\w$]*")


@dataclass(frozen=True)
class ScriptStatement:
    """One statement of a script: its text and the line it starts on (from 1)."""

    sql: str
    line: int


class ScriptError(Exception):
    """Statement ``index`` of a script failed (the transaction is rolled back)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def split_script(text: str, dialect: str) -> list[ScriptStatement]:
    """The statements of ``text`` in ``dialect`` ("sqlite" or "postgresql"), without
    empty ones and comments alone (a statement starts at its first word).

    >>> [s.sql for s in split_script("SELECT ';'; -- a; comment\\nSELECT $x$;$x$;", "postgresql")]
    ["SELECT ';'", 'SELECT $x$;$x$']
    >>> [s.line for s in split_script("SELECT 1;\\n\\nSELECT 2", "sqlite")]
    [1, 3]
    """
    cuts = _sqlite_cuts(text) if dialect == "sqlite" else _postgresql_cuts(text)
    out = []
    start = 0
    for end in [*cuts, len(text)]:
        piece = text[start:end]
        code = _code_start(piece)
        if code is not None:
            line = text.count("\n", 0, start + code) + 1
            out.append(ScriptStatement(piece[code:].strip(), line))
        start = end + 1
    return out


def _code_start(piece: str) -> int | None:
    """Where the first thing that is not blank or a comment is (None: nothing is)."""
    i, n = 0, len(piece)
    while i < n:
        if piece[i].isspace():
            i += 1
        elif piece.startswith("--", i):
            end = piece.find("\n", i)
            i = n if end < 0 else end
        elif piece.startswith("/*", i):
            i = _comment_end(piece, i)
        else:
            return i
    return None


def _sqlite_cuts(text: str) -> list[int]:
    """Offsets of the semicolons that end a statement, as the sqlite3 shell decides."""
    cuts, start = [], 0
    for i, c in enumerate(text):
        if c == ";" and sqlite3.complete_statement(text[start : i + 1]):
            cuts.append(i)
            start = i + 1
    return cuts


def _postgresql_cuts(text: str) -> list[int]:
    """Offsets of the semicolons that end a statement, as psql decides."""
    cuts: list[int] = []
    i, n = 0, len(text)
    words: list[str] = []  # the statement's first words, upper-case
    depth = 0  # BEGIN ATOMIC ... END of a function body
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            i = _comment_end(text, i)
        elif c in "'\"":
            i = _quote_end(text, i, c, escapes=c == "'" and _e_string(text, i))
        elif c == "$" and (m := _DOLLAR.match(text, i)) and not _in_word(text, i):
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        elif c == ";" and depth == 0:
            cuts.append(i)
            words, i = [], i + 1
        elif m := _WORD.match(text, i):
            word = m.group(0).upper()
            if len(words) < 8:
                words.append(word)
            if "CREATE" in words[:1] and ({"FUNCTION", "PROCEDURE"} & set(words)):
                if word in {"BEGIN", "CASE"} and (depth or word == "BEGIN"):
                    depth += 1
                elif word == "END" and depth:
                    depth -= 1
            i = m.end()
        else:
            i += 1
    return cuts


def _in_word(text: str, i: int) -> bool:
    """``$`` inside an identifier (``a$b``) or a parameter (``$1``) opens no body."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _e_string(text: str, i: int) -> bool:
    """``E'...'``: backslash escapes apply."""
    return (
        i > 0
        and text[i - 1] in "eE"
        and not (i > 1 and (text[i - 2].isalnum() or text[i - 2] == "_"))
    )


def _quote_end(text: str, i: int, quote: str, *, escapes: bool) -> int:
    j, n = i + 1, len(text)
    while j < n:
        if escapes and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            if j + 1 < n and text[j + 1] == quote:  # a doubled quote
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _comment_end(text: str, i: int) -> int:
    """PostgreSQL's block comments nest."""
    level, j, n = 0, i, len(text)
    while j < n:
        if text.startswith("/*", j):
            level, j = level + 1, j + 2
        elif text.startswith("*/", j):
            level, j = level - 1, j + 2
            if level == 0:
                return j
        else:
            j += 1
    return n
