"""The values applications store, drawn by hypothesis, with their edge cases.

A cut-over test needs a few hundred rows per application, and hypothesis's buffer holds
about a hundred rows' worth of drawn values. So each kind of value (:class:`Kind`) is a
fixed tuple of edges plus a hypothesis strategy; :func:`picker` draws, per kind, a pool
of a few values added to every edge, and a seeded ``Random`` (drawn too, so an example
replays) that hands pool values out to as many rows as the test builds. Every edge is in
every example's pool; the drawn values differ from example to example.

Text is any Unicode a PostgreSQL ``text`` can hold (no NUL, no lone surrogate; a SQLite
file may hold those, but no application could then read them from PostgreSQL either).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Kind:
    """One kind of value: edges every example uses, and a strategy for the rest."""

    edges: Sequence[Any]
    drawn: st.SearchStrategy[Any]


@dataclass
class Pick:
    """Values for many rows: pools of drawn values and edges, handed out at random."""

    rnd: random.Random
    pools: dict[str, list[Any]]

    def __call__(self, kind: str) -> Any:
        return self.rnd.choice(self.pools[kind])

    def maybe(self, kind: str, none: float = 0.25) -> Any:
        """A value of ``kind``, or None (a nullable column) once in four."""
        return None if self.rnd.random() < none else self(kind)

    def flag(self, p: float = 0.5) -> bool:
        return self.rnd.random() < p

    def count(self, low: int, high: int) -> int:
        return self.rnd.randint(low, high)

    def index(self, n: int) -> int:
        return self.rnd.randrange(n)


@st.composite
def picker(draw: st.DrawFn, kinds: dict[str, Kind]) -> Pick:
    pools = {
        name: [*kind.edges, *draw(st.lists(kind.drawn, min_size=1, max_size=8))]
        for name, kind in kinds.items()
    }
    return Pick(draw(st.randoms(use_true_random=True)), pools)


def texts(max_size: int) -> Kind:
    edges = [t for t in EDGE_TEXTS if len(t) <= max_size]
    if max_size >= 255:
        edges.append("😀" * max_size)  # varchar(n) counts characters: n emoji fit
    return Kind(edges, st.text(CHARS, max_size=max_size))


def instants() -> Kind:
    """Aware datetimes in several offsets, years 2..9998 (every offset stays in range)."""
    drawn = st.datetimes(
        min_value=dt.datetime(2, 1, 1),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.sampled_from(ZONES),
    )
    return Kind(EDGE_INSTANTS, drawn)


def wall_clocks() -> Kind:
    return Kind(EDGE_WALL_CLOCKS, st.datetimes())


def dates() -> Kind:
    edges = (dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2000, 2, 29), dt.date(1970, 1, 1))
    return Kind(edges, st.dates())


def times() -> Kind:
    return Kind((dt.time(0), dt.time(23, 59, 59, 999999), dt.time(12, 0, 0, 1)), st.times())


def money(limit: Decimal = MONEY_MAX, places: int = 2) -> Kind:
    step = Decimal(1).scaleb(-places)
    edges = (Decimal(0), step, -step, limit, -limit, Decimal("0.10"), Decimal(-1))
    return Kind(edges, st.decimals(min_value=-limit, max_value=limit, places=places))


def int64() -> Kind:
    edges = (*INT64, 0, -1, 2**53 + 1, -(2**53) - 1, 2**31, -(2**31) - 1)
    return Kind(edges, st.integers(*INT64))


def ints(low: int, high: int) -> Kind:
    return Kind((low, high, 0) if low <= 0 <= high else (low, high), st.integers(low, high))


def doubles() -> Kind:
    edges = (0.0, -0.0, 5e-324, -1.7976931348623157e308, float("inf"), 0.1, 1e16)
    return Kind(edges, st.floats(allow_nan=False))


def json_documents() -> Kind:
    """JSON objects as applications keep them: nested, any scalar, exact int64s."""
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
    edges = (
        {},
        {"big": 2**63 - 1, "neg": -(2**63), "f": 1e16, "tiny": 5e-324, "nested": [[], {}]},
        {"": "", "é": "\\N", "true": True, "zero": 0, "one": 1.0, "null": None},
    )
    return Kind(edges, st.dictionaries(keys, nested, max_size=5))


TAG_EDGES = ("", "NULL", "null", "a,b", '"quoted"', "{braces}", "back\\slash", " spaced ", "ü")


@st.composite
def _grid(draw: st.DrawFn) -> list[list[int | None]]:
    rows, columns = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    cell = st.none() | st.integers(-(2**31), 2**31 - 1)
    return [[draw(cell) for _ in range(columns)] for _ in range(rows)]


def grids() -> Kind:
    """Rectangular 2-D integer arrays (PostgreSQL has no ragged or empty sub-array)."""
    return Kind(([[1]], [[None, 2**31 - 1], [-(2**31), 0]]), _grid())


def tags() -> Kind:
    """Tag lists: array elements that need quoting in PostgreSQL's array text."""
    tag = st.one_of(st.sampled_from(TAG_EDGES), st.text(CHARS, max_size=64))
    return Kind(([], list(TAG_EDGES), ["x"]), st.lists(tag, max_size=5))
