"""JSON text as PostgreSQL's ``jsonb`` prints it, so a SQLite document and the jsonb it
became hash alike.

jsonb keeps one value per key (the last), sorts an object's keys by their length in
bytes and then bytewise, writes ``", "`` between items and ``": "`` after a key, keeps
a number's digits as ``numeric`` prints them (``1.50`` stays, ``1e2`` becomes ``100``,
``-0`` becomes ``0``) and escapes only ``"``, ``\\`` and control characters
(``\\u00XX``, lowercase), writing every other character as itself (jsonb.c, json.c
``escape_json``). A document jsonb refuses (``\\u0000``, a lone surrogate, NaN) is None.

Most documents an application stores are flat objects or arrays whose strings hold no
backslash: those are rewritten by Arrow's string kernels, many at once, and only the
others go through Python's parser (about 10 us each).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["canonical", "jsonb_text"]


class _Number(str):
    """A JSON number, kept as the text it was written with."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)  # a repeated key keeps its last value, as jsonb does


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=_Number, parse_int=_Number, parse_constant=_refuse
)
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m[0], f"\\u{ord(m[0]):04x}"), text) + '"'


def numeric_text(text: str) -> str:
    """A JSON number as PostgreSQL's numeric prints it: its own digits, no exponent."""
    number = Decimal(text)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    digits = max(0, -exponent)
    out = f"{number:.{digits}f}"
    return out[1:] if out.startswith("-") and number == 0 else out


def _dump(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return "{" + ", ".join(f"{_string(k)}: {_dump(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    if isinstance(value, _Number):
        return numeric_text(value)
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    return "true" if value else "false"


def jsonb_text(document: str) -> str | None:
    """``document::jsonb::text``, or None when jsonb would refuse it."""
    try:
        parsed = _DECODER.decode(document)
        text = _dump(parsed)
        text.encode("utf-8")  # a lone surrogate escape parses in Python, never in jsonb
    except (ValueError, UnicodeEncodeError, InvalidOperation, RecursionError):
        return None
    return None if "\\u0000" in text else text


# --- many documents at once -------------------------------------------------------------

# A scalar as jsonb prints it unchanged: a string without escapes, a number without an
# exponent or a negative zero, true, false, null. RE2 (Arrow's regex engine) rewrites a
# document made only of these in one pass per shape ("template": the keys of an object in
# their order, or the length of an array), much as a printf would. Rust's regex syntax.
_STRING = r'"[^"\\\x00-\x1f]*"'
_NUMBER = r"(?:-(?:0\.[0-9]*[1-9][0-9]*|[1-9][0-9]*(?:\.[0-9]+)?)|0(?:\.[0-9]+)?|[1-9][0-9]*(?:\.[0-9]+)?)"
_SCALAR = rf"({_STRING}|{_NUMBER}|true|false|null)"
_WS = r"[ \t\n\r]*"  # JSON's whitespace (Rust's \s is Unicode's: slower, and wrong)
_MARK = "\x01"  # leads every rewritten document (no JSON text starts with it)
MAX_GROUPS = 16  # values one template rewrites (more: the document goes through Python)
MAX_TEMPLATES = 64
_SAMPLE = 64  # documents of an unknown shape looked at per batch


Shape = Any  # "s" (a scalar), ("o", ((key, Shape), ...)) or ("a", (Shape, ...))
Pieces = list[tuple[np.ndarray, pa.Array]]  # (row positions, their jsonb texts)


@dataclass
class _Template:
    """One shape's rewrite. ``needle``: text every document of the shape holds (a key
    few other shapes have), ``commas``: the commas of an array of this length; either
    picks the documents worth trying, so each one meets about one regex."""

    shape: Shape
    pattern: str
    replacement: str
    needle: str | None = None
    commas: int | None = None
    hits: int = 0
    flat: list[_Flat] | None = None  # a flat object or array of scalars: no regex captures


class Canonicaliser:
    """Rewrites a column's documents into jsonb's text, learning their shapes as it goes
    (thread-safe: lanes of one table share it)."""

    def __init__(self) -> None:
        self.templates: list[_Template] = []
        self.shapes: set[Shape] = set()
        self.lock = threading.Lock()

    def __call__(self, array: pa.Array) -> tuple[Pieces, np.ndarray]:
        """The documents' jsonb texts as pieces (row positions, texts) that together cover
        every document jsonb takes, and a mask of those it refuses."""
        values = array.cast(pa.string())
        pieces, left = self._rewrite(values)
        if len(left) and self._learn(values.take(pa.array(left[:_SAMPLE]))):
            more, left = self._rewrite(values, left)
            pieces += more
        bad = np.zeros(len(values), dtype=bool)
        if len(left):
            slow = [jsonb_text(v) for v in values.take(pa.array(left)).to_pylist()]
            refused = np.array([v is None for v in slow], dtype=bool)
            bad[left[refused]] = True
            kept = [v for v in slow if v is not None]
            pieces.append((left[~refused], pa.array(kept, pa.string())))
        return pieces, bad

    def _rewrite(
        self, values: pa.Array, rows: np.ndarray | None = None
    ) -> tuple[Pieces, np.ndarray]:
        """What the templates rewrite of ``rows`` (default: every document), and the rows
        left. Polars' regex (Rust's) rewrites about 3x faster than Arrow's RE2 here; each
        template tries only the documents its needle or comma count picks."""
        series = pl.Series(values)
        left = np.asarray(series.is_not_null().to_numpy(), dtype=bool)
        if rows is not None:
            only = np.zeros(len(left), dtype=bool)
            only[rows] = True
            left &= only
        pieces: Pieces = []
        with self.lock:
            templates = sorted(self.templates, key=lambda t: -t.hits)
        for t in templates:
            if not left.any():
                break
            if t.flat is not None:
                for done, texts in _flat_rewrite(t.flat, series, left):
                    pieces.append((done, texts))
                    t.hits += len(done)
            # the documents still left (after the flat path, a few): the needle or the
            # comma count picks those worth the regex
            rows_left = np.flatnonzero(left)
            if not len(rows_left):
                break
            docs = series if len(rows_left) == len(series) else series.gather(rows_left)
            pick = np.ones(len(rows_left), dtype=bool)
            if t.needle is not None:
                found = docs.str.contains(t.needle, literal=True).fill_null(False)
                pick &= np.asarray(found.to_numpy(), dtype=bool)
            if t.commas is not None:
                counted = docs.str.count_matches(",", literal=True).fill_null(-1)
                pick &= np.asarray(counted.to_numpy(), dtype=np.int64) == t.commas
            tried = rows_left[pick]
            if not len(tried):
                continue
            out = series.gather(tried).str.replace(t.pattern, t.replacement)
            ok = np.asarray(out.str.starts_with(_MARK).fill_null(False).to_numpy(), bool)
            if ok.any():
                texts = out.filter(pl.Series(ok)).str.slice(1).to_arrow().cast(pa.large_string())
                pieces.append((tried[ok], texts))
                left[tried[ok]] = False
                t.hits += int(ok.sum())
        return pieces, np.flatnonzero(left)

    def _learn(self, sample: pa.Array) -> bool:
        learnt = False
        for doc in sample.to_pylist():
            shape = _shape(doc)
            with self.lock:
                if shape is None or shape in self.shapes or len(self.templates) >= MAX_TEMPLATES:
                    continue
                self.shapes.add(shape)
                pattern, replacement = _template(shape)
                self.templates.append(_Template(shape, pattern, replacement, flat=_flat(shape)))
                _needles(self.templates)
                learnt = True
        return learnt


# --- flat documents without captures ---------------------------------------------------

# Rust's regex captures groups several times slower than it decides a match (a DFA). A flat
# object or array of scalars written in one of the two usual styles (compact, as most
# encoders write, or with jsonb's own ", " and ": ") is recognised by a match alone, then
# cut at its separators (a literal split) and put back together in jsonb's key order.
_STYLES = ((",", ":"), (", ", ": "))
# a compact document's strings: no comma at the end (an object: ``,"`` occurs only between
# items) or none at all (an array: every comma separates items)
_NO_END_COMMA = r'"(?:[^"\\\x00-\x1f]*[^",\\\x00-\x1f])?"'
_NO_COMMA = r'"[^",\\\x00-\x1f]*"'


@dataclass(frozen=True)
class _Flat:
    """One style of a flat shape. ``pattern`` matches a document written in it exactly;
    ``split`` (an object's item separator and the quote after it) occurs only between
    items in a document it matches, unless ``count`` (then it must occur ``cuts`` times);
    ``keys``: an object's keys in the source's order (None: an array or ``{}``)."""

    pattern: str
    split: str
    cuts: int
    keys: tuple[str, ...] | None
    key_sep: str
    count: bool = False


def _flat(shape: Shape) -> list[_Flat] | None:
    if shape == "s" or not all(p == "s" for p in _parts(shape)):
        return None
    if not shape[1]:  # [] or {}: printed as written
        return [_Flat(r"^\[\]$" if shape[0] == "a" else r"^\{\}$", ", ", 0, None, ": ")]
    out = []
    for item_sep, key_sep in _STYLES:
        compact = item_sep == ","
        if shape[0] == "a":
            scalar = _SCALAR.replace(_STRING, _NO_COMMA) if compact else _SCALAR
            # any length: the first array template takes every flat array of the batch
            one = scalar.replace("(", "(?:", 1)
            body = rf"(?:{one}(?:{re.escape(item_sep)}{one})*)?"
            out.append(_Flat(rf"^\[{body}\]$", item_sep, 0, None, key_sep))
            continue
        keys = tuple(k for k, _ in shape[1])
        if any("," in k for k in keys):
            continue  # a key's own comma would look like a separator
        scalar = (_SCALAR.replace(_STRING, _NO_END_COMMA) if compact else _SCALAR).replace(
            "(", "(?:", 1
        )
        body = re.escape(item_sep).join(
            f'"{re.escape(k)}"{re.escape(key_sep)}{scalar}' for k in keys
        )
        split = item_sep + '"'
        out.append(_Flat(rf"^\{{{body}\}}$", split, len(keys) - 1, keys, key_sep, not compact))
    return out or None


def _parts(shape: Shape) -> list[Shape]:
    return [p[1] for p in shape[1]] if shape[0] == "o" else list(shape[1])


def _flat_rewrite(styles: list[_Flat], series: pl.Series, left: np.ndarray) -> Pieces:
    """The documents still ``left`` written in one of ``styles``, in jsonb's text (their
    rows are taken off ``left``). A match fails within a few bytes on a document of
    another shape, so every document left is tried, without a needle's pass first."""
    done: Pieces = []
    for style in styles:
        rows = np.flatnonzero(left)
        if not len(rows):
            break
        # the documents left only: after the commonest shape, a fraction of the batch
        docs = series if len(rows) == len(series) else series.gather(rows)
        fits = docs.str.contains(style.pattern).fill_null(False)
        if style.count:  # a split is safe when the separator occurs only between items
            fits &= docs.str.count_matches(style.split, literal=True) == style.cuts
        ok = np.asarray(fits.to_numpy(), dtype=bool)
        if not ok.any():
            continue
        texts = _flat_text(style, docs.filter(fits))
        done.append((rows[ok], texts.to_arrow().cast(pa.large_string())))
        left[rows[ok]] = False
    return done


def _flat_text(style: _Flat, docs: pl.Series) -> pl.Series:
    if style.keys is None:  # an array (or {}): jsonb's separator between its scalars
        return docs if style.split == ", " else docs.str.replace_all(",", ", ", literal=True)
    keys = style.keys
    order = sorted(range(len(keys)), key=lambda i: (len(keys[i].encode()), keys[i].encode()))
    if style.key_sep == ": " and order == list(range(len(keys))):
        return docs  # written as jsonb prints it already
    fields = docs.str.split_exact(style.split, len(keys) - 1).struct.unnest()
    values = []
    for i, key in enumerate(keys):
        # each piece is [{"]key"<key_sep>value[}]: the value is what follows its key
        skip = len(key) + 1 + len(style.key_sep) + (2 if i == 0 else 0)
        value = pl.col(fields.columns[i]).str.slice(skip)
        values.append(value.str.head(-1) if i == len(keys) - 1 else value)
    parts: list[pl.Expr] = []
    for j, i in enumerate(order):
        parts += [pl.lit(("{" if j == 0 else ", ") + f'"{keys[i]}": '), values[i]]
    return fields.select(pl.concat_str([*parts, pl.lit("}")])).to_series()


def _needles(templates: list[_Template]) -> None:
    """Each object shape's needle: its key the fewest other shapes have (the longest of
    those); an array's comma count."""
    keys_of = [
        {k for k, _ in t.shape[1]} if t.shape != "s" and t.shape[0] == "o" else set()
        for t in templates
    ]
    for t, keys in zip(templates, keys_of, strict=True):
        if t.shape != "s" and t.shape[0] == "a":
            t.commas = max(0, len(t.shape[1]) - 1) if all(p == "s" for p in t.shape[1]) else None
            continue
        if keys:
            best = min(keys, key=lambda k: (sum(k in other for other in keys_of), -len(k)))
            t.needle = f'"{best}"'


def _valid(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


class _Pairs(list[tuple[str, Any]]):
    """An object's (key, value) pairs as written."""


def _simple(value: Any) -> bool:
    """A scalar jsonb prints as the source wrote it, in the fast path's forms."""
    if isinstance(value, str):
        return not _NEEDS_ESCAPE.search(value)
    return value is None or isinstance(value, bool | int | float)


def _shape(doc: str | None) -> Shape | None:
    """A document's shape: its objects' keys in order and its arrays' lengths, down to
    scalars jsonb prints unchanged (at most ``MAX_GROUPS`` of them); None otherwise."""
    if doc is None:
        return None
    try:
        value = json.loads(doc, object_pairs_hook=_Pairs)
    except ValueError:
        return None
    shape = _shape_of(value)
    return shape if shape is not None and _leaves(shape) <= MAX_GROUPS else None


def _shape_of(value: Any) -> Shape | None:
    if isinstance(value, _Pairs):
        keys = [k for k, _ in value]
        if len(set(keys)) != len(keys) or not all(_simple(k) for k in keys):
            return None  # a repeated key: jsonb keeps the last one; Python decides
        parts = [(k, _shape_of(v)) for k, v in value]
        return None if any(p is None for _, p in parts) else ("o", tuple(parts))
    if isinstance(value, list):
        items = [_shape_of(v) for v in value]
        return None if any(p is None for p in items) else ("a", tuple(items))
    return "s" if _simple(value) else None


def _leaves(shape: Shape) -> int:
    if shape == "s":
        return 1
    kind, parts = shape
    return sum(_leaves(p[1] if kind == "o" else p) for p in parts)


def _template(shape: Shape) -> tuple[str, str]:
    pattern, replacement = _render(shape, [0])
    return rf"^{_WS}{pattern}{_WS}$", _MARK + replacement


def _render(shape: Shape, count: list[int]) -> tuple[str, str]:
    """(pattern, replacement) of a shape; groups are numbered in the source's order and
    placed, in the replacement, in jsonb's (an object's keys by byte length, then bytes)."""
    ws = _WS
    if shape == "s":
        count[0] += 1
        return _SCALAR, f"${{{count[0]}}}"
    kind, parts = shape
    rendered = [_render(p[1] if kind == "o" else p, count) for p in parts]
    if kind == "a":
        items = f"{ws},{ws}".join(pattern for pattern, _ in rendered)
        return rf"\[{ws}{items}{ws}\]", "[" + ", ".join(r for _, r in rendered) + "]"
    keys = [k for k, _ in parts]
    pairs = f"{ws},{ws}".join(
        f'"{re.escape(k)}"{ws}:{ws}{pattern}'
        for k, (pattern, _) in zip(keys, rendered, strict=True)
    )
    order = sorted(range(len(keys)), key=lambda i: (len(keys[i].encode()), keys[i].encode()))
    body = ", ".join(f'"{_dollars(keys[i])}": {rendered[i][1]}' for i in order)
    return rf"\{{{ws}{pairs}{ws}\}}", "{" + body + "}"


def _dollars(text: str) -> str:
    return text.replace("$", "$$")  # a literal $ in a Polars replacement


def canonical(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Each document's jsonb text (NULL stays NULL, and a document jsonb refuses), and a
    mask of those jsonb refuses (for tests and tools: verify hashes the pieces)."""
    pieces, bad = Canonicaliser()(array)
    out: list[str | None] = [None] * len(array)
    for rows, texts in pieces:
        for row, text in zip(rows.tolist(), texts.to_pylist(), strict=True):
            out[row] = text
    return pa.array(out, pa.string()), bad
