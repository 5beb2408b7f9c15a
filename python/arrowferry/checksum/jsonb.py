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
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
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

# a string without backslash or comma: every comma outside it separates two items
_SCALAR = r'(?:"[^"\\,]*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?|true|false|null)'
_FLAT_ARRAY = rf"^\s*\[\s*(?:{_SCALAR}\s*(?:,\s*{_SCALAR}\s*)*)?\]\s*$"
_NEGATIVE_ZERO = r"[\[:,]\s*-0(?:\.0+)?\s*[,\]\}]"


def canonical(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Each document's jsonb text (NULL stays NULL), and a mask of those jsonb refuses."""
    values = array.cast(pa.string())
    out: list[str | None] = values.to_pylist()
    bad = np.zeros(len(out), dtype=bool)
    fast = _fast_arrays(values)
    for i, doc in enumerate(out):
        if doc is None:
            continue
        done = fast[i]
        if done is not None:
            out[i] = done
            continue
        text = jsonb_text(doc)
        if text is None:
            bad[i] = True
        out[i] = text
    return pa.array(out, pa.string()), bad


def _fast_arrays(values: pa.Array) -> list[str | None]:
    """Flat arrays of plain scalars: spaces normalised by Arrow kernels (None: not one)."""
    shaped = pc.fill_null(pc.match_substring_regex(values, _FLAT_ARRAY), False)
    shaped = pc.and_(
        shaped, pc.invert(pc.fill_null(pc.match_substring_regex(values, _NEGATIVE_ZERO), False))
    )
    if not pc.any(shaped).as_py():
        return [None] * len(values)
    text = pc.if_else(shaped, values, pa.scalar(None, pa.string()))
    text = pc.utf8_trim_whitespace(text)
    text = pc.replace_substring_regex(text, r"\s*,\s*", ", ")
    text = pc.replace_substring_regex(text, r"^\[\s*", "[")
    text = pc.replace_substring_regex(text, r"\s*\]$", "]")
    out: list[str | None] = text.to_pylist()
    return out


Canonicaliser = Callable[[pa.Array], tuple[pa.Array, np.ndarray]]
