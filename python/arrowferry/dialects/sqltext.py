"""A small tokenizer for SQLite CREATE statements.

PRAGMAs give columns, keys and indexes, but CHECK expressions, constraint names,
collations, AUTOINCREMENT and generated-column expressions live only in the
``sqlite_master.sql`` text. This splits that text at top level, respecting every
SQLite quoting style (``"x"``, ```x```, ``[x]``, ``'s'``) and nested parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from arrowferry.model import ForeignKey

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<op>.)
    """,
    re.S | re.X,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier this token spells, unquoted."""
        if self.kind == "qid":
            inner = self.text[1:-1]
            quote = self.text[0]
            return inner if quote == "[" else inner.replace(quote * 2, quote)
        if self.kind == "str":
            return self.text[1:-1].replace("''", "'")
        return self.text


def tokenize(sql: str) -> list[Token]:
    return [
        Token(m.lastgroup or "op", m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(sql)
        if m.lastgroup != "ws"
    ]


@dataclass
class Definition:
    """One top-level item of a CREATE TABLE body: a column or a table constraint."""

    tokens: list[Token]
    sql: str
    is_column: bool = True
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    constraint_names: dict[str, str] = field(default_factory=dict)

    @property
    def column_name(self) -> str:
        return self.tokens[0].name


_TABLE_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def split_create_table(sql: str) -> list[Definition]:
    """Split ``CREATE TABLE x (...)`` into its column and constraint definitions."""
    tokens = tokenize(sql)
    start = next((i for i, t in enumerate(tokens) if t.text == "("), None)
    if start is None:
        return []  # CREATE TABLE ... AS SELECT: no definitions
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens[start + 1 :]:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            if depth == 0:
                break
            depth -= 1
        elif tok.text == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(tok)
    defs = []
    for item in items:
        if not item:
            continue
        definition = Definition(item, sql[item[0].start : item[-1].end])
        definition.is_column = item[0].upper not in _TABLE_CONSTRAINTS
        _collect_constraints(definition, sql)
        defs.append(definition)
    return defs


def _collect_constraints(definition: Definition, sql: str) -> None:
    toks = definition.tokens
    pending_name: str | None = None
    i = 0
    while i < len(toks):
        word = toks[i].upper
        if word == "CONSTRAINT" and i + 1 < len(toks):
            pending_name = toks[i + 1].name
            i += 2
            continue
        if word in {"CHECK", "PRIMARY", "UNIQUE", "FOREIGN", "REFERENCES"}:
            if pending_name is not None:
                definition.constraint_names.setdefault(word, pending_name)
            if word == "CHECK" and i + 1 < len(toks) and toks[i + 1].text == "(":
                close = matching_paren(toks, i + 1)
                expr = sql[toks[i + 1].end : toks[close].start].strip()
                definition.checks.append((pending_name, expr))
                pending_name = None
                i = close + 1
                continue
            pending_name = None
        i += 1


def matching_paren(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(tokens)):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def words(definition: Definition) -> list[str]:
    return [t.upper for t in definition.tokens if t.kind == "word"]


def after_keyword(definition: Definition, keyword: str) -> Token | None:
    """The token right after ``keyword`` (``COLLATE nocase`` -> ``nocase``)."""
    toks = definition.tokens
    for i, tok in enumerate(toks[:-1]):
        if tok.upper == keyword:
            return toks[i + 1]
    return None


def generated_expression(definition: Definition, sql: str) -> tuple[str, bool] | None:
    """``(expr, stored)`` of a generated column, or None."""
    toks = definition.tokens
    for i, tok in enumerate(toks):
        if tok.upper == "AS" and i + 1 < len(toks) and toks[i + 1].text == "(":
            close = matching_paren(toks, i + 1)
            expr = sql[toks[i + 1].end : toks[close].start].strip()
            stored = any(t.upper == "STORED" for t in toks[close + 1 :])
            return expr, stored
    return None


def after_top_level(sql: str, keyword: str) -> str | None:
    """The text after the first ``keyword`` outside parentheses (no trailing ';'), or None."""
    depth = 0
    for tok in tokenize(sql):
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.upper == keyword:
            return sql[tok.end :].strip().rstrip(";")
    return None


def select_of_view(sql: str) -> str:
    """The SELECT of ``CREATE VIEW name [(cols)] AS SELECT ...``."""
    select = after_top_level(sql, "AS")
    return sql if select is None else select


def quote_ident(name: str) -> str:
    """Double-quote an identifier for SQLite or PostgreSQL."""
    return '"' + name.replace('"', '""') + '"'


def in_list_sql(column: str, values: Sequence[str]) -> str:
    """``"column" IN ('a', 'b')``, as both dialects write it (an enum's labels as a CHECK)."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{quote_ident(column)} IN ({listed})"


def foreign_key_actions(fk: ForeignKey) -> str:
    """The ON DELETE / ON UPDATE / DEFERRABLE tail of a foreign key, as both dialects write it."""
    text = ""
    if fk.on_delete != "NO ACTION":
        text += f" ON DELETE {fk.on_delete}"
    if fk.on_update != "NO ACTION":
        text += f" ON UPDATE {fk.on_update}"
    if fk.deferrable:
        text += " DEFERRABLE INITIALLY " + ("DEFERRED" if fk.initially_deferred else "IMMEDIATE")
    return text
