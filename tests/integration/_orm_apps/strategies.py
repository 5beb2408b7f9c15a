"""Hypothesis strategies for the values applications store, with their edge cases.

Text is any Unicode a PostgreSQL ``text`` can hold (no NUL, no lone surrogate; a SQLite
file may hold those, but no application could then read them from PostgreSQL either).
Each strategy mixes drawn values with a fixed set of edges (``one_of`` puts them early,
so shrinking moves towards them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")

EDGE_TEXTS = (
    "",
    " ",
    "O'Brien",
    'say "hi"',
    "back\\slash",
    "\\N",  # COPY's NULL in text format
    "NULL",
    "null",
    "tab\there\nnewline\r\nend",
    "e\u0301 café",
    "日本語のテキスト",
    "😀🎉",
    "a,b;{c}",
    "\u200bzero width",
    "  padded  ",
    "1e5",
    "true",
)

UTC = dt.timezone.utc
ZONES = (
    UTC,
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
    dt.timezone(dt.timedelta(hours=14)),
    dt.timezone(dt.timedelta(hours=-12)),
)
EDGE_INSTANTS = (
    dt.datetime(1970, 1, 1, tzinfo=UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(2000, 2, 29, 12, 0, 0, 1, tzinfo=ZONES[1]),
    dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
    dt.datetime(1900, 1, 1, tzinfo=ZONES[2]),
    dt.datetime(2, 1, 1, 12, tzinfo=UTC),
    dt.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
)
EDGE_WALL_CLOCKS = (
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    dt.datetime(1970, 1, 1),
    dt.datetime(2024, 2, 29, 23, 59, 59),
)
INT64 = (-(2**63), 2**63 - 1)
MONEY_MAX = Decimal("9999999999.99")  # the boundary of numeric(12,2)


def texts(max_size: int) -> st.SearchStrategy[str]:
    edges = [t for t in EDGE_TEXTS if len(t) <= max_size]
    return st.one_of(st.sampled_from(edges), st.text(CHARS, max_size=max_size))


def instants() -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes in several offsets, years 2..9998 (every offset stays in range)."""
    drawn = st.datetimes(
        min_value=dt.datetime(2, 1, 1),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.sampled_from(ZONES),
    )
    return st.one_of(st.sampled_from(EDGE_INSTANTS), drawn)


def wall_clocks() -> st.SearchStrategy[dt.datetime]:
    return st.one_of(st.sampled_from(EDGE_WALL_CLOCKS), st.datetimes())


def dates() -> st.SearchStrategy[dt.date]:
    edges = (dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2000, 2, 29), dt.date(1970, 1, 1))
    return st.one_of(st.sampled_from(edges), st.dates())


def times() -> st.SearchStrategy[dt.time]:
    edges = (dt.time(0), dt.time(23, 59, 59, 999999), dt.time(12, 0, 0, 1))
    return st.one_of(st.sampled_from(edges), st.times())


def money(limit: Decimal = MONEY_MAX, places: int = 2) -> st.SearchStrategy[Decimal]:
    step = Decimal(1).scaleb(-places)
    edges = (Decimal(0), step, -step, limit, -limit, Decimal("0.10"), Decimal(-1))
    drawn = st.decimals(min_value=-limit, max_value=limit, places=places)
    return st.one_of(st.sampled_from(edges), drawn)


def int64() -> st.SearchStrategy[int]:
    edges = (*INT64, 0, -1, 2**53 + 1, -(2**53) - 1, 2**31, -(2**31) - 1)
    return st.one_of(st.sampled_from(edges), st.integers(*INT64))


def doubles() -> st.SearchStrategy[float]:
    edges = (0.0, -0.0, 5e-324, -1.7976931348623157e308, float("inf"), 0.1, 1e16)
    return st.one_of(st.sampled_from(edges), st.floats(allow_nan=False))


def json_documents() -> st.SearchStrategy[Any]:
    """A JSON object as applications keep them: nested, any scalar, exact int64s."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(*INT64),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(CHARS, max_size=20),
    )
    keys = st.text(CHARS, max_size=10)
    nested = st.recursive(
        scalars,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=4),
        max_leaves=8,
    )
    return st.dictionaries(keys, nested, max_size=5)


TAG_EDGES = ("", "NULL", "null", "a,b", '"quoted"', "{braces}", "back\\slash", " spaced ", "ü")


def tags() -> st.SearchStrategy[list[str]]:
    """Tag lists: array elements that need quoting in PostgreSQL's array text."""
    tag = st.one_of(st.sampled_from(TAG_EDGES), st.text(CHARS, max_size=64))
    return st.lists(tag, max_size=5)
