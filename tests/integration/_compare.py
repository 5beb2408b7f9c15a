"""Whole-table comparison of a SQLite source with its PostgreSQL copy, value by value.

The expected PostgreSQL value of every SQLite value is computed here, independently
of the package, by one explicit conversion per target type (the README mapping):

==========================  ===============================================================
target type                 expected value of a SQLite value
==========================  ===============================================================
bigint                      the same int (an INTEGER storage class only)
double precision            the same float (an int becomes float(int)); NaN only if NaN
numeric(p,s)                Decimal of the shortest repr of a REAL (``Decimal(repr(x))``),
                            of an int, or of numeric text; rounded half away from zero
                            to s digits as PostgreSQL does; compared as exact text
numeric                     the same Decimal, not rounded; compared as exact text
text, character varying     the same str; an int becomes str(int); a REAL becomes text
                            that parses back to exactly the same double
bytea                       the same bytes
boolean                     0 -> False, 1 -> True (nothing else)
timestamp                   ISO text ('YYYY-MM-DD[( |T)HH:MM[:SS[.f{1,6}]]]') -> datetime
date                        'YYYY-MM-DD' -> date
time                        'HH:MM[:SS[.f{1,6}]]' -> time
jsonb                       JSON text -> the same JSON document (numbers compared exactly)
==========================  ===============================================================

A source value that the conversion does not cover raises :class:`Unconvertible`:
the test fails rather than guessing. PostgreSQL rows are read with
adbc_driver_postgresql (``fetch_arrow_table().to_pylist()``), so numeric arrives as
its exact text, timestamps as datetime, bytea as bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import math
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as pg_adbc


class Unconvertible(AssertionError):
    """The source holds a value the expected-conversion table does not cover."""


# --- matchers for values whose exact form is not a single Python value -----------------


class Matcher:
    def matches(self, actual: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class RoundTripsTo(Matcher):
    """Text that parses back to exactly this double (a REAL rendered as text)."""

    value: float

    def matches(self, actual: Any) -> bool:
        if not isinstance(actual, str):
            return False
        try:
            back = float(actual)
        except ValueError:
            return False
        return back == self.value and math.copysign(1, back) == math.copysign(1, self.value)

    def __repr__(self) -> str:
        return f"<text of {self.value!r}>"


@dataclass(frozen=True)
class Json(Matcher):
    """A jsonb value equal to this JSON document (numbers compared as Decimals)."""

    document: Any

    def matches(self, actual: Any) -> bool:
        if not isinstance(actual, str):
            return False  # SQL NULL is not JSON null
        try:
            return _json_equal(json.loads(actual, parse_float=Decimal), self.document)
        except ValueError:
            return False

    def __repr__(self) -> str:
        return f"<json {json.dumps(self.document, default=str, ensure_ascii=False)}>"


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)):
        return Decimal(a) == Decimal(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_doc(text: str) -> Json:
    return Json(json.loads(text, parse_float=Decimal))


def values_equal(expected: Any, actual: Any) -> bool:
    """Exact equality: same Python type (bool is not int), NaN equals NaN, -0.0 is not 0.0."""
    if isinstance(expected, Matcher):
        return expected.matches(actual)
    if expected is None or actual is None:
        return expected is None and actual is None
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return expected == actual and math.copysign(1, expected) == math.copysign(1, actual)
    return bool(expected == actual)


# --- expected conversions, one per target type ---------------------------------------------

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_NUMERIC_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _micro(fraction: str | None) -> int:
    return int((fraction or "").ljust(6, "0")) if fraction else 0


def _fail(value: Any, target: str) -> Unconvertible:
    return Unconvertible(
        f"no expected conversion of SQLite {type(value).__name__} {value!r} into {target}"
    )


def to_bigint(value: Any) -> Any:
    if type(value) is int:
        return value
    raise _fail(value, "bigint")


def to_double(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _fail(value, "double precision")


def exact_decimal(value: Any, target: str = "numeric") -> Decimal:
    """The decimal a SQLite number stands for: ints exactly, REALs by their shortest repr."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise _fail(value, target)
        return Decimal(repr(value))
    if type(value) is str and _NUMERIC_TEXT.match(value.strip()):
        return Decimal(value.strip())
    raise _fail(value, target)


def numeric_text(value: Decimal) -> str:
    """PostgreSQL's text for a numeric: plain notation, no exponent, no negative zero
    (-0.0032 rounded to 2 places is '0.00', not '-0.00')."""
    return format(abs(value) if value.is_zero() else value, "f")


def to_numeric(precision: int | None, scale: int | None) -> Callable[[Any], Any]:
    target = "numeric" if precision is None else f"numeric({precision},{scale})"

    def convert(value: Any) -> Any:
        number = exact_decimal(value, target)
        if precision is None:
            return numeric_text(number)
        try:
            rounded = number.quantize(Decimal(1).scaleb(-(scale or 0)), rounding=ROUND_HALF_UP)
        except InvalidOperation as err:  # pragma: no cover - huge values
            raise _fail(value, target) from err
        if len(rounded.as_tuple().digits) > precision and rounded != 0:
            raise _fail(value, target)
        return numeric_text(rounded)

    return convert


def to_text(value: Any) -> Any:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return RoundTripsTo(value)
    raise _fail(value, "text")


def to_bytea(value: Any) -> Any:
    if type(value) is bytes:
        return value
    raise _fail(value, "bytea")


def to_boolean(value: Any) -> Any:
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise _fail(value, "boolean")


def to_timestamp(value: Any) -> Any:
    if type(value) is str:
        m = _TIMESTAMP.match(value)
        if m:
            y, mo, d, h, mi, s, f = m.groups()
            return dt.datetime(
                int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _micro(f)
            )
    raise _fail(value, "timestamp")


def to_date(value: Any) -> Any:
    if type(value) is str:
        m = _DATE.match(value)
        if m:
            return dt.date(*(int(g) for g in m.groups()))
    raise _fail(value, "date")


def to_time(value: Any) -> Any:
    if type(value) is str:
        m = _TIME.match(value)
        if m:
            h, mi, s, f = m.groups()
            return dt.time(int(h), int(mi), int(s or 0), _micro(f))
    raise _fail(value, "time")


def to_jsonb(value: Any) -> Any:
    if type(value) is str:
        return json_doc(value)
    if type(value) in (int, float):
        return Json(exact_decimal(value))  # NUMERIC affinity turned JSON '123' into 123
    raise _fail(value, "jsonb")


_NUMERIC_TYPE = re.compile(r"^numeric(?:\((\d+),(\d+)\))?$")
_VARCHAR = re.compile(r"^character varying(?:\(\d+\))?$")


def converter(pg_type: str) -> Callable[[Any], Any]:
    """The expected-conversion function for a PostgreSQL type as ``format_type`` prints it."""
    simple: dict[str, Callable[[Any], Any]] = {
        "bigint": to_bigint,
        "double precision": to_double,
        "text": to_text,
        "bytea": to_bytea,
        "boolean": to_boolean,
        "timestamp without time zone": to_timestamp,
        "date": to_date,
        "time without time zone": to_time,
        "jsonb": to_jsonb,
    }
    if pg_type in simple:
        return simple[pg_type]
    if _VARCHAR.match(pg_type):
        return to_text
    m = _NUMERIC_TYPE.match(pg_type)
    if m:
        return to_numeric(int(m[1]) if m[1] else None, int(m[2]) if m[2] else None)
    raise Unconvertible(f"the test has no expected conversion into {pg_type}")


def expected_value(value: Any, pg_type: str) -> Any:
    return None if value is None else converter(pg_type)(value)


# --- the README type mapping, for declared types the corpus uses ----------------------------

_README_SIMPLE = {
    "INTEGER": "bigint",
    "INT": "bigint",
    "BIGINT": "bigint",
    "REAL": "double precision",
    "DOUBLE": "double precision",
    "FLOAT": "double precision",
    "TEXT": "text",
    "CLOB": "text",
    "BLOB": "bytea",
    "BOOLEAN": "boolean",
    "DATETIME": "timestamp without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "DATE": "date",
    "TIME": "time without time zone",
    "NUMERIC": "numeric",
    "DECIMAL": "numeric",
    "JSON": "jsonb",
}


def readme_pg_type(declared: str) -> str:
    """The PostgreSQL type the README maps a (well-known) SQLite declared type to."""
    text = " ".join(declared.upper().split())
    if text in _README_SIMPLE:
        return _README_SIMPLE[text]
    m = re.fullmatch(r"(?:N?VARCHAR|N?CHAR|CHARACTER)\s*\((\d+)\)", text)
    if m:
        return f"character varying({m[1]})"
    m = re.fullmatch(r"(?:NUMERIC|DECIMAL)\s*\((\d+)\s*,\s*(\d+)\)", text)
    if m:
        return f"numeric({m[1]},{m[2]})"
    raise Unconvertible(f"the test has no README mapping for declared type {declared!r}")


# --- reading both sides -------------------------------------------------------------------


def qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_connect(url: str, *, autocommit: bool = True) -> Any:
    return pg_adbc.connect(url, autocommit=autocommit)


def pg_query(url: str, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts, through Arrow (numeric as exact text, bytea as bytes)."""
    conn = pg_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetch_arrow_table().to_pylist())
    finally:
        conn.close()


def pg_column_types(url: str, table: str, schema: str = "public") -> dict[str, str]:
    rows = pg_query(
        url,
        "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [schema, table],
    )
    return {r["name"]: r["type"] for r in rows}


def sqlite_readonly(path: Path) -> sqlite3.Connection:
    """The stdlib driver on ``path``, read-only (the corpus files are inputs, never written)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def sqlite_columns(path: Path, table: str) -> list[tuple[str, str, bool, int]]:
    """(name, declared type, notnull, pk position) per column, in order."""
    conn = sqlite_readonly(path)
    try:
        return [
            (r[1], r[2] or "", bool(r[3]), int(r[5]))
            for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))
        ]
    finally:
        conn.close()


def sqlite_tables(path: Path) -> list[str]:
    conn = sqlite_readonly(path)
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
    finally:
        conn.close()


def sqlite_rows(path: Path, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    conn = sqlite_readonly(path)
    try:
        select = ", ".join(qi(c) for c in columns)
        return [tuple(r) for r in conn.execute(f"SELECT {select} FROM {qi(table)}")]
    finally:
        conn.close()


def _short(value: Any, width: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 20]}... ({len(text)} chars)"


def _sort_key(row: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
    out = []
    for p in positions:
        v = row[p]
        if isinstance(v, Matcher):
            v = repr(v)
        out.append((v is None, type(v).__name__, v if v is not None else 0))
    return tuple(out)


def compare_table(
    sqlite_path: Path,
    pg_url: str,
    table: str,
    pg_types: Mapping[str, str],
    *,
    schema: str = "public",
    limit: int = 25,
) -> list[str]:
    """Every mismatch between the whole SQLite table and the whole PostgreSQL table.

    ``pg_types`` is the expected PostgreSQL type of each column: it picks the
    expected conversion. Rows are matched by primary key (or by whole row when the
    table has none), after converting the source row.
    """
    cols = sqlite_columns(sqlite_path, table)
    names = [c[0] for c in cols]
    pk = [names.index(c[0]) for c in sorted((c for c in cols if c[3]), key=lambda c: c[3])]
    key_positions = pk or list(range(len(names)))
    source = sqlite_rows(sqlite_path, table, names)
    problems: list[str] = []
    expected = []
    for row in source:
        try:
            expected.append(
                tuple(expected_value(v, pg_types[n]) for v, n in zip(row, names, strict=True))
            )
        except Unconvertible as err:
            problems.append(f"{table}: source row {row!r}: {err}")
            if len(problems) >= limit:
                return problems
    select = ", ".join(qi(n) for n in names)
    actual = [
        tuple(r[n] for n in names)
        for r in pg_query(pg_url, f"SELECT {select} FROM {qi(schema)}.{qi(table)}")
    ]
    if len(actual) != len(source):
        problems.append(f"{table}: {len(source)} rows in SQLite, {len(actual)} in PostgreSQL")
    expected.sort(key=lambda r: _sort_key(r, key_positions))
    actual.sort(key=lambda r: _sort_key(r, key_positions))
    for exp, act in zip(expected, actual, strict=False):
        key = tuple(act[p] for p in key_positions) if pk else "(row)"
        for name, e, a in zip(names, exp, act, strict=True):
            if not values_equal(e, a):
                problems.append(
                    f"{table} {key}: column {name!r} ({pg_types[name]}): expected {_short(e)}, got {_short(a)}"
                )
                if len(problems) >= limit:
                    return problems
    return problems


# --- resources left behind ---------------------------------------------------------------


@contextlib.contextmanager
def finalizer_errors() -> Iterator[list[str]]:
    """Collect what goes wrong while objects are finalized (an ADBC cursor or connection
    left open, a generator whose cleanup raises) instead of leaving it to pytest's
    unraisable-exception hook, which reports it on whatever test runs next."""
    caught: list[str] = []
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        name = unraisable.exc_type.__name__ if unraisable.exc_type else "?"
        caught.append(f"{name}: {unraisable.exc_value} (while finalizing {unraisable.object!r})")

    sys.unraisablehook = hook
    try:
        yield caught
        gc.collect()
    finally:
        sys.unraisablehook = previous


# --- the rows of a view, as a multiset, in both engines -------------------------------------

_MOMENT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def _moment_text(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    text = moment.strftime("%Y-%m-%d %H:%M:%S") + (
        f".{moment.microsecond:06d}" if moment.microsecond else ""
    )
    return text + ("+00:00" if moment.tzinfo is not None else "")


def _moment(text: str) -> str | None:
    m = _MOMENT.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, f, zone = m.groups()
    tz = None
    if zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "") if zone != "Z" else "0000"
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = dt.timezone(sign * offset)
    moment = dt.datetime(
        int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _micro(f), tzinfo=tz
    )
    return _moment_text(moment)


def normalised(value: Any) -> Any:
    """A value as the same thing in either engine: numbers by value (``440.0`` and ``440``
    and numeric ``440.00``; a numeric and the double nearest it), booleans as 1/0 (SQLite's
    form), dates and timestamps as one text (``2016-07-04`` is ``2016-07-04 00:00:00``,
    an aware moment in UTC). Text that is not a moment is compared exactly
    (``'a, b'`` is not ``'a,b'``, ``'1.50'`` is not ``'1.5'``)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        if isinstance(value, Decimal) and not value.is_finite():
            return ("special", str(value))
        if isinstance(value, float) and not math.isfinite(value):
            return ("special", str(value))
        if value == value.to_integral_value() if isinstance(value, Decimal) else value.is_integer():
            return int(value)
        return float(value)
    if isinstance(value, dt.datetime):
        return _moment_text(value)
    if isinstance(value, dt.date):
        return _moment_text(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, str):
        moment = _moment(value)
        return moment if moment is not None else value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return value


def multiset_difference(
    want: Sequence[Sequence[Any]], got: Sequence[Sequence[Any]], limit: int = 5
) -> str:
    """'' when both row lists hold the same rows as many times each (normalised), else
    what is missing and what is extra."""
    from collections import Counter

    a = Counter(tuple(normalised(v) for v in row) for row in want)
    b = Counter(tuple(normalised(v) for v in row) for row in got)
    if a == b:
        return ""
    missing = list((a - b).elements())[:limit]
    extra = list((b - a).elements())[:limit]
    return (
        f"{len(want)} rows expected, {len(got)} got; expected but missing: {missing!r}; "
        f"got but not expected: {extra!r}"
    )


def sqlite_view_rows(path: Path, view: str) -> list[tuple[Any, ...]]:
    conn = sqlite_readonly(path)
    try:
        return [tuple(r) for r in conn.execute(f"SELECT * FROM {qi(view)}")]
    finally:
        conn.close()


def pg_view_rows(url: str, view: str, schema: str = "public") -> list[tuple[Any, ...]]:
    """A view's rows through ADBC (numeric as Decimal, timestamps as datetime)."""
    conn = pg_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {qi(schema)}.{qi(view)}")
            table = cur.fetch_arrow_table()
    finally:
        conn.close()
    numeric = [
        (f.metadata or {}).get(b"POSTGRESQL:type") in (b"numeric", b"money") for f in table.schema
    ]
    return [
        tuple(
            Decimal(v) if is_numeric and v is not None else v
            for v, is_numeric in zip(r.values(), numeric, strict=True)
        )
        for r in table.to_pylist()
    ]


def pg_date_text(when: dt.datetime, shift: int, *, date_only: bool = False, zone: str = "") -> str:
    """PostgreSQL's text of ``when`` moved by ``shift`` years (whole 400-year cycles, so
    the calendar is the same): year 0 is 1 BC, written '0001-... BC'."""
    year = when.year + shift
    text = f"{1 - year if year <= 0 else year:04d}-{when.month:02d}-{when.day:02d}"
    if not date_only:
        text += f" {when.hour:02d}:{when.minute:02d}:{when.second:02d}"
        if when.microsecond:
            text += "." + f"{when.microsecond:06d}".rstrip("0")
        text += zone
    return text + (" BC" if year <= 0 else "")
