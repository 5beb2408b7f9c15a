"""Dirty SQLite data, one table per trap (issue 3, driver-traps.md): every value lands
exactly, or its row is in the reject file with the right reason, and the counts add up.

Each trap table is ``(id INTEGER PRIMARY KEY, v <declared type>)``; every row says what
must happen to its value: :class:`Ok` (the exact PostgreSQL value, read back through
Arrow) or :class:`Bad` (the row is rejected, with a reason starting with the given text).
Most tables start with a dozen clean rows, so with ``batch_size=5`` the dirty values come
after the first batch (the driver fixes a column's Arrow type from its first batch);
``batch_size=1`` sends every value through the fast Arrow path on its own (a clean batch
never meets the strict Polars path); ``batch_size=65536`` reads each table in one batch.

The whole fixture is migrated once per batch size (a module-scoped database); the
checks are per (batch size, table), so one broken trap does not hide the others.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import arrowferry as af
from arrowferry.cli import main as cli_main
from arrowferry.result import MigrationResult
from arrowferry.transfer.rejects import decode
from tests.conftest import sql, with_database
from tests.integration._compare import (
    Json,
    Matcher,
    RoundTripsTo,
    json_doc,
    pg_connect,
    pg_query,
    values_equal,
)

# --- expectations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ok:
    """The value lands, and reads back from PostgreSQL as exactly ``value``."""

    value: Any


@dataclass(frozen=True)
class Bad:
    """The row goes to the reject file; the problem's reason starts with ``reason``."""

    reason: str


@dataclass(frozen=True)
class Num(Matcher):
    """A numeric that PostgreSQL prints as exactly ``text`` (scale included: '12.0')."""

    text: str

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, str) and actual == self.text

    def __repr__(self) -> str:
        return f"<numeric {self.text}>"


INT = "not an integer that fits the column"
NUM = "not a number"
TS = "not a date/time"
DATE = "not a date"
BOOL = "not a boolean"
BOOL01 = "not 0 or 1"
JSON_ = "not valid JSON"
UTF8 = "not valid UTF-8"
NUL = "contains a NUL byte"


def ts(*parts: int) -> Ok:
    return Ok(dt.datetime(*parts))  # type: ignore[arg-type]


def j(text: str) -> Ok:
    return Ok(json_doc(text))


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Trap:
    name: str
    declared: str
    rows: list[tuple[str, Ok | Bad]]  # (SQL expression for v, expectation)
    pad: list[tuple[str, Ok | Bad]] = field(default_factory=list)  # clean rows first

    @property
    def all_rows(self) -> list[tuple[int, str, Ok | Bad]]:
        return [(i, e, x) for i, (e, x) in enumerate(self.pad + self.rows, start=1)]

    @property
    def bad(self) -> int:
        return sum(isinstance(x, Bad) for _, _, x in self.all_rows)

    @property
    def ok(self) -> int:
        return sum(isinstance(x, Ok) for _, _, x in self.all_rows)


PAD_INT = [(str(i * 1000), Ok(i * 1000)) for i in range(1, 13)]
PAD_REAL = [(f"{i}.5", Ok(i + 0.5)) for i in range(1, 13)]
PAD_NUM2 = [(f"{i}.5", Ok(Num(f"{i}.50"))) for i in range(1, 13)]  # into a numeric(p,2)
PAD_NULL = [("NULL", Ok(None)) for _ in range(12)]
PAD_TEXT = [(q(f"clean {i}"), Ok(f"clean {i}")) for i in range(1, 13)]
PAD_ISO = [(q(f"2020-01-{d:02d} 00:00:00"), ts(2020, 1, d)) for d in range(1, 13)]

TRAPS: list[Trap] = [
    # a storage class that changes after the first batch, and text in an INTEGER column
    Trap(
        "int_mixed_after_first_batch",
        "INTEGER",
        [
            (q("abc"), Bad(INT)),
            (q("12abc"), Bad(INT)),
            (q("0x1F"), Bad(INT)),  # Arrow's string->int64 cast reads hex: never 31
            (q("0xFFFFFFFFFFFFFFFF"), Bad(INT)),  # ... nor -1
            ("2.5", Bad(INT)),
            ("1e20", Bad(INT)),  # REAL, integral, far beyond int64
            ("x'01'", Bad(INT)),
            (q(""), Bad(INT)),
            (q("9223372036854775808"), Bad(INT)),  # SQLite made it REAL 9.2e18
            ("9223372036854775807", Ok(9223372036854775807)),
            ("-9223372036854775808", Ok(-9223372036854775808)),
            ("NULL", Ok(None)),
            ("42", Ok(42)),
        ],
        PAD_INT,
    ),
    Trap(
        "text_in_integer",
        "INTEGER",
        [
            ("1", Ok(1)),
            (q("abc"), Bad(INT)),
            (q("1e3"), Ok(1000)),  # INTEGER affinity stored it as the integer 1000
            (q(" 5"), Ok(5)),  # ... and this as 5
            (q("5 apples"), Bad(INT)),
            (q("١٢"), Bad(INT)),  # Arabic-Indic digits are not an integer here
        ],
    ),
    # leading NULLs (the driver types an all-NULL first batch as int64), then other classes
    Trap(
        "leading_nulls_int",
        "INTEGER",
        [(q("abc"), Bad(INT)), ("7", Ok(7)), (q("8"), Ok(8))],
        PAD_NULL,
    ),
    Trap(
        "leading_nulls_real",
        "REAL",
        [("1.5", Ok(1.5)), (q("x"), Bad(NUM)), ("3", Ok(3.0)), ("0.1", Ok(0.1))],
        PAD_NULL,
    ),
    Trap(
        "leading_nulls_untyped",
        "",
        [
            (q("hello"), Ok("hello")),
            ("3", Ok("3")),
            ("2.5", Ok(RoundTripsTo(2.5))),
            (q("ünïcødé 😀"), Ok("ünïcødé 😀")),
        ],
        PAD_NULL,
    ),
    Trap(
        "real_text_after_first_batch",
        "REAL",
        [(q("abc"), Bad(NUM)), ("1e308", Ok(1e308)), (q("1.25"), Ok(1.25)), ("7", Ok(7.0))],
        PAD_REAL,
    ),
    # reals then text in the first batch: the driver would print the reals with C's %e
    Trap(
        "reals_then_text",
        "",
        [
            ("0.30000000000000004", Ok(RoundTripsTo(0.30000000000000004))),
            ("12345.678901", Ok(RoundTripsTo(12345.678901))),
            ("1e-7", Ok(RoundTripsTo(1e-7))),
            (q("abc"), Ok("abc")),
            ("5", Ok("5")),
        ],
    ),
    Trap(
        "reals_then_text_numeric",
        "NUMERIC",
        [
            ("0.30000000000000004", Ok(Num("0.30000000000000004"))),
            ("12345.678901", Ok(Num("12345.678901"))),
            ("1e-7", Ok(Num("0.0000001"))),
            (q("abc"), Bad(NUM)),
            ("5", Ok(Num("5"))),
        ],
    ),
    # integers above 2**53 next to reals: never through a double
    Trap(
        "big_ints_integer",
        "INTEGER",
        [
            ("9007199254740993", Ok(9007199254740993)),
            ("2.5", Bad(INT)),
            ("9007199254740995", Ok(9007199254740995)),
            ("-9007199254740993", Ok(-9007199254740993)),
            ("3.0", Ok(3)),
        ],
    ),
    Trap(
        "big_ints_numeric",
        "NUMERIC",
        [
            ("9007199254740993", Ok(Num("9007199254740993"))),
            ("0.1", Ok(Num("0.1"))),
            ("-9223372036854775808", Ok(Num("-9223372036854775808"))),
            ("2.5", Ok(Num("2.5"))),
        ],
    ),
    Trap(
        "big_ints_untyped",
        "",
        [
            ("9007199254740993", Ok(Num("9007199254740993"))),
            ("0.1", Ok(Num("0.1"))),
            ("9223372036854775807", Ok(Num("9223372036854775807"))),
            ("-2.5", Ok(Num("-2.5"))),
        ],
    ),
    # dates: epoch seconds, epoch ms and ISO text in one column, after the first batch
    Trap(
        "datetime_epoch_iso",
        "DATETIME",
        [
            ("1700000000", ts(2023, 11, 14, 22, 13, 20)),
            ("1700000000123", ts(2023, 11, 14, 22, 13, 20, 123000)),
            ("1700000000.5", ts(2023, 11, 14, 22, 13, 20, 500000)),
            (q("2024-01-02 03:04:05"), ts(2024, 1, 2, 3, 4, 5)),
            (q("2024-01-02T03:04:05.123456"), ts(2024, 1, 2, 3, 4, 5, 123456)),
            (q("2024-01-02T03:04:05.1"), ts(2024, 1, 2, 3, 4, 5, 100000)),
            (q("2024-01-02 03:04"), ts(2024, 1, 2, 3, 4)),
            (q("2024-01-02"), ts(2024, 1, 2)),
            (q("not a date"), Bad(TS)),
            (q("2024-02-30 00:00:00"), Bad(TS)),
            (q("2024-01-02 25:00:00"), Bad(TS)),
            (q("2024-01-02 03:04:05.1234567"), Bad(TS)),  # beyond microseconds
            (q("2024-01-02 03"), Bad(TS)),  # an hour alone is no ISO form SQLite reads
            (q(""), Bad(TS)),
            ("NULL", Ok(None)),
        ],
        PAD_ISO,
    ),
    Trap(
        "julian_days",
        "DATETIME",
        [
            ("2460000.5", ts(2023, 2, 25)),
            ("2460000.25", ts(2023, 2, 24, 18)),
            ("julianday('2024-01-02 03:04:05.123')", ts(2024, 1, 2, 3, 4, 5, 123000)),
            ("2451544.5", ts(2000, 1, 1)),
            ("1721425.5", ts(1, 1, 1)),
            # far from 1970 the microsecond count exceeds 2**53: still exact to the ms
            ("julianday('8514-04-10 23:23:48.001')", ts(8514, 4, 10, 23, 23, 48, 1000)),
            ("julianday('1500-06-15 12:00:00.007')", ts(1500, 6, 15, 12, 0, 0, 7000)),
            (q("2024-06-01 12:00:00"), ts(2024, 6, 1, 12)),
        ],
        PAD_ISO,
    ),
    Trap(
        "offsets",
        "DATETIME",
        [
            (q("2024-01-02T03:04:05+02:00"), ts(2024, 1, 2, 1, 4, 5)),
            (q("2024-01-02 03:04:05-05:30"), ts(2024, 1, 2, 8, 34, 5)),
            (q("2024-01-02T03:04:05Z"), ts(2024, 1, 2, 3, 4, 5)),
            (q("2024-01-02T03:04:05.5Z"), ts(2024, 1, 2, 3, 4, 5, 500000)),
            (q("2024-01-01T23:30:00-01:00"), ts(2024, 1, 2, 0, 30)),
            (q("2024-01-02 03:04+01:00"), ts(2024, 1, 2, 2, 4)),
            (q("2024-01-02 03:04:05"), ts(2024, 1, 2, 3, 4, 5)),  # naive, same column
        ],
        PAD_ISO,
    ),
    Trap(
        "bad_dates",
        "DATE",
        [
            (q("2024-01-02"), Ok(dt.date(2024, 1, 2))),
            (q("2024-01-02 00:00:00"), Ok(dt.date(2024, 1, 2))),
            (q("2024-02-29"), Ok(dt.date(2024, 2, 29))),
            ("2460000.5", Ok(dt.date(2023, 2, 25))),  # a julian day at midnight
            (q("2023-02-29"), Bad(DATE)),
            (q("2024-13-01"), Bad(DATE)),
            (q("2024-01-02 10:00:00"), Bad(DATE)),  # a time of day would be lost
            (q("yesterday"), Bad(DATE)),
        ],
    ),
    # every boolean spelling, and the bad ones (never "true")
    Trap(
        "booleans",
        "BOOLEAN",
        [
            ("0", Ok(False)),
            ("1", Ok(True)),
            (q("t"), Ok(True)),
            (q("f"), Ok(False)),
            (q("true"), Ok(True)),
            (q("false"), Ok(False)),
            (q("TRUE"), Ok(True)),
            (q("False"), Ok(False)),
            (q("yes"), Ok(True)),
            (q("no"), Ok(False)),
            (q("YES"), Ok(True)),
            (q("No"), Ok(False)),
            (q("1"), Ok(True)),  # NUMERIC affinity: stored as the integer 1
            ("NULL", Ok(None)),
            (q("maybe"), Bad(BOOL)),
            ("2", Bad(BOOL)),
            ("-1", Bad(BOOL)),
            (q("tru"), Bad(BOOL)),
            (q(""), Bad(BOOL)),
            ("0.5", Bad(BOOL)),
            (q("2"), Bad(BOOL)),
        ],
    ),
    Trap(
        "booleans_int",
        "BOOLEAN",
        [
            ("0", Ok(False)),
            ("1", Ok(True)),
            ("2", Bad(BOOL01)),
            ("-1", Bad(BOOL01)),
            ("NULL", Ok(None)),
        ],
        [("1", Ok(True)), ("0", Ok(False))] * 6,
    ),
    # text PostgreSQL cannot hold
    Trap(
        "invalid_utf8",
        "TEXT",
        [
            ("CAST(x'ff41' AS TEXT)", Bad(UTF8)),
            ("CAST(x'c328' AS TEXT)", Bad(UTF8)),
            ("CAST(x'e282' AS TEXT)", Bad(UTF8)),
            (q("ünïcødé 😀"), Ok("ünïcødé 😀")),
            ("CAST(x'c3a9' AS TEXT)", Ok("é")),
        ],
        PAD_TEXT,
    ),
    Trap(
        "nul_bytes",
        "TEXT",
        [
            ("'a' || char(0) || 'b'", Bad(NUL)),
            ("CAST(x'610062' AS TEXT)", Bad(NUL)),
            ("char(0)", Bad(NUL)),
            (q("clean"), Ok("clean")),
        ],
        PAD_TEXT,
    ),
    Trap(
        "bad_json",
        "JSON",
        [
            (q('{"a": 1}'), j('{"a": 1}')),
            (q("[1, 2.7]"), j("[1, 2.7]")),
            (q("null"), Ok(Json(None))),  # JSON null, not SQL NULL
            (q('"s"'), j('"s"')),
            (q(" [1] "), j("[1]")),
            (
                q('{"k": "ünï 😀", "n": [true, false, null]}'),
                j('{"k": "ünï 😀", "n": [true, false, null]}'),
            ),
            (q("{bad"), Bad(JSON_)),
            (q(""), Bad(JSON_)),
            (q('{"a":1} x'), Bad(JSON_)),
            (q("{'a': 1}"), Bad(JSON_)),
            (q("NaN"), Bad(JSON_)),
            (q("[1,]"), Bad(JSON_)),
            (q('"\\ud800"'), Bad(JSON_)),  # a lone surrogate: jsonb refuses it
        ],
        [(q(f'{{"i": {i}}}'), j(f'{{"i": {i}}}')) for i in range(12)],
    ),
    # numeric rounding at .5: PostgreSQL rounds half away from zero, REALs by shortest text
    Trap(
        "numeric_round",
        "NUMERIC(10,1)",
        [
            ("0.25", Ok(Num("0.3"))),
            ("-0.25", Ok(Num("-0.3"))),
            ("0.15", Ok(Num("0.2"))),  # binary 0.1499999..., shortest text '0.15'
            ("0.35", Ok(Num("0.4"))),
            ("0.45", Ok(Num("0.5"))),
            ("1.05", Ok(Num("1.1"))),
            ("-1.05", Ok(Num("-1.1"))),
            ("12", Ok(Num("12.0"))),
            (q("2.45"), Ok(Num("2.5"))),  # NUMERIC affinity: stored as REAL 2.45
            (q("0.05"), Ok(Num("0.1"))),
            ("123456789.95", Ok(Num("123456790.0"))),
            ("1e-30", Ok(Num("0.0"))),
            ("NULL", Ok(None)),
            (q("abc"), Bad(NUM)),
            ("1234567890", Bad(NUM)),  # 10 integer digits do not fit numeric(10,1)
        ],
    ),
    # Arrow's string -> decimal cast wraps when an exponent overflows 128 bits: 1e22 came
    # out as 63870734.31, which fits numeric(10,2). Every one must be refused instead.
    Trap(
        "numeric_overflow_exponent",
        "NUMERIC(10,2)",
        [
            ("1e22", Bad(NUM)),
            ("1.5e10", Bad(NUM)),  # NUMERIC affinity: stored as the integer 15000000000
            ("1.5e20", Bad(NUM)),
            ("-2.5e25", Bad(NUM)),
            ("1e300", Bad(NUM)),
            ("9e999", Bad(NUM)),  # SQLite's Inf
            ("99999999.99", Ok(Num("99999999.99"))),
            ("-1.5e7", Ok(Num("-15000000.00"))),
            ("1e-300", Ok(Num("0.00"))),
        ],
        pad=PAD_NUM2,
    ),
    Trap(
        "numeric_wide_overflow_exponent",
        "NUMERIC(20,2)",
        [
            ("1e22", Bad(NUM)),
            ("1e19", Bad(NUM)),
            ("1e17", Ok(Num("100000000000000000.00"))),
            ("123456789012.25", Ok(Num("123456789012.25"))),
        ],
        pad=PAD_NUM2,
    ),
    # wider than Polars' 38-digit decimals (travels as decimal256): a dirty batch used to
    # fail the whole table with a Polars error instead of rejecting one row
    Trap(
        "numeric_38_18",
        "NUMERIC(38,18)",
        [
            ("1.5", Ok(Num("1.500000000000000000"))),
            (q("abc"), Bad(NUM)),
            ("1e-30", Ok(Num("0.000000000000000000"))),
            ("12345.678", Ok(Num("12345.678000000000000000"))),
            ("-7", Ok(Num("-7.000000000000000000"))),
            ("1e20", Bad(NUM)),  # 21 integer digits: more than 38 - 18
        ],
    ),
]
TRAP_BY_NAME = {t.name: t for t in TRAPS}
BATCH_SIZES = [1, 5, 65_536]


def build_source(path: Path, traps: list[Trap] = TRAPS) -> Path:
    conn = sqlite3.connect(path)
    try:
        for trap in traps:
            conn.execute(f'CREATE TABLE "{trap.name}" (id INTEGER PRIMARY KEY, v {trap.declared})')
            for rowid, expr, _ in trap.all_rows:
                conn.execute(f'INSERT INTO "{trap.name}" (id, v) VALUES ({rowid}, {expr})')
        conn.commit()
        # the fixture itself: a quoted 'abc' must really be TEXT, char(0) really 3 bytes
        assert conn.execute(
            "SELECT typeof(v) FROM int_mixed_after_first_batch WHERE id = 13"
        ).fetchone() == ("text",)
        assert conn.execute(
            "SELECT length(CAST(v AS BLOB)) FROM nul_bytes WHERE id = 13"
        ).fetchone() == (3,)
        assert conn.execute("SELECT typeof(v) FROM numeric_round WHERE id = 3").fetchone() == (
            "real",
        )
    finally:
        conn.close()
    return path


def source_values(path: Path, table: str) -> dict[int, tuple[str, Any]]:
    """rowid -> (storage class, value as stored; TEXT as its raw bytes)."""
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    try:
        return {
            r[0]: (r[1].decode(), r[2])
            for r in conn.execute(f'SELECT id, typeof(v), v FROM "{table}" ORDER BY id')
        }
    finally:
        conn.close()


# --- running the migration once per batch size -------------------------------------------


@dataclass
class Run:
    result: MigrationResult
    url: str
    reject_dir: Path
    source: Path

    _pg: dict[str, dict[int, Any]] = field(default_factory=dict)

    def pg_rows(self, table: str) -> dict[int, Any]:
        """Every trap table's rows, read once over one connection (absent table: {})."""
        if not self._pg:
            conn = pg_connect(self.url)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    present = {r[0] for r in cur.fetchall()}
                    for name in sorted(present & set(TRAP_BY_NAME)):
                        cur.execute(f'SELECT id, v FROM "{name}"')
                        rows = cur.fetch_arrow_table().to_pylist()
                        self._pg[name] = {r["id"]: r["v"] for r in rows}
            finally:
                conn.close()
        return self._pg.get(table, {})

    def rejects(self, table: str) -> list[dict[str, Any]]:
        path = self.reject_dir / f"{table}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def table_result(self, table: str) -> Any:
        found = [t for t in self.result.tables if t.name == table]
        assert len(found) == 1, (
            f"{table}: {len(found)} entries in result.tables ({self.result.errors})"
        )
        return found[0]


class Databases:
    """Databases made on the test server for this module, dropped at the end."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.names: list[str] = []

    def new(self) -> str:
        name = f"af_dirty_{uuid.uuid4().hex[:12]}"
        sql(self.server, f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return with_database(self.server, name)

    def drop_all(self) -> None:
        for name in self.names:
            sql(self.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases(pg_server: str) -> Iterator[Databases]:
    dbs = Databases(pg_server)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("dirty") / "dirty.sqlite")


@pytest.fixture(scope="module", params=BATCH_SIZES, ids=lambda b: f"batch{b}")
def run(
    request: pytest.FixtureRequest,
    databases: Databases,
    source: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    url = databases.new()
    reject_dir = tmp_path_factory.mktemp("rejects")
    result = af.migrate(
        source,
        url,
        batch_size=request.param,
        reject_dir=str(reject_dir),
        continue_on_error=True,  # a table that fails must not hide the others' checks
        size_limits="enforce",  # declared sizes kept: what does not fit is rejected
    )
    return Run(result, url, reject_dir, source)


# --- every value, every count -----------------------------------------------------------


def _same_source_value(shown: Any, stored: tuple[str, Any]) -> bool:
    """The problem's value is the source value (as stored, or as SQLite's text of it)."""
    kind, value = stored
    shown = decode(shown)
    if kind == "text":
        return (shown.encode() if isinstance(shown, str) else shown) == value
    if kind == "blob":
        return (shown.encode() if isinstance(shown, str) else shown) == value
    if kind == "integer":
        return shown == value or shown == str(value)
    if kind == "real":
        try:
            return float(shown) == value
        except (TypeError, ValueError):
            return False
    return False


@pytest.mark.parametrize("table", [t.name for t in TRAPS])
def test_each_value_lands_exactly_or_is_rejected_with_its_reason(run: Run, table: str) -> None:
    trap = TRAP_BY_NAME[table]
    assert not [e for e in run.result.errors if e.table == table], run.result.errors
    landed = run.pg_rows(table)
    rejected: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    for record in run.rejects(table):
        if record["rowid"] in rejected:
            problems.append(f"rowid {record['rowid']} is in the reject file twice")
        rejected[record["rowid"]] = record
    stored = source_values(run.source, table)
    for rowid, expr, expect in trap.all_rows:
        where = f"{table} row {rowid} (v = {expr})"
        if isinstance(expect, Ok):
            if rowid in rejected:
                problems.append(
                    f"{where}: rejected ({rejected[rowid]['problems']}), expected {expect.value!r}"
                )
            elif rowid not in landed:
                problems.append(f"{where}: missing from PostgreSQL and from the reject file")
            elif not values_equal(expect.value, landed[rowid]):
                problems.append(
                    f"{where}: expected {expect.value!r}, PostgreSQL has {landed[rowid]!r}"
                )
            continue
        if rowid in landed:
            problems.append(
                f"{where}: landed as {landed[rowid]!r}, expected a reject ({expect.reason})"
            )
        if rowid not in rejected:
            problems.append(f"{where}: not in the reject file")
            continue
        record = rejected[rowid]
        if record["table"] != table or record["key"] != {"id": rowid}:
            problems.append(
                f"{where}: reject record names {record['table']!r} key {record['key']!r}"
            )
        if [p["column"] for p in record["problems"]] != ["v"]:
            problems.append(f"{where}: problems {record['problems']!r}, expected one on column 'v'")
            continue
        problem = record["problems"][0]
        if not problem["reason"].startswith(expect.reason):
            problems.append(f"{where}: reason {problem['reason']!r}, expected {expect.reason!r}...")
        if not _same_source_value(problem["value"], stored[rowid]):
            problems.append(
                f"{where}: problem value {problem['value']!r} is not the source value {stored[rowid]!r}"
            )
    unexpected = sorted(set(landed) - {r for r, _, _ in trap.all_rows})
    if unexpected:
        problems.append(f"{table}: rows {unexpected} in PostgreSQL that the source does not have")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("table", [t.name for t in TRAPS])
def test_counts_add_up(run: Run, table: str) -> None:
    trap = TRAP_BY_NAME[table]
    t = run.table_result(table)
    total = len(trap.all_rows)
    assert (t.rows_read, t.rows, t.rows_rejected) == (total, trap.ok, trap.bad), (
        f"{table}: rows_read/rows/rows_rejected = {t.rows_read}/{t.rows}/{t.rows_rejected}, "
        f"expected {total}/{trap.ok}/{trap.bad}"
    )
    assert t.rows_read == t.rows + t.rows_rejected
    assert len(run.pg_rows(table)) == trap.ok
    rejected = [r for r in run.result.rejected if r["table"] == table]
    assert rejected == ([{"table": table, "column": "v", "count": trap.bad}] if trap.bad else [])
    assert len(run.rejects(table)) == trap.bad
    ledger = [e for e in run.result.ledger if e["table"] == table and e["column"] == "v"]
    assert len(ledger) == 1, run.result.ledger
    assert ledger[0]["counts"] == {"rejected": trap.bad, "cleaned": 0}
    assert ledger[0]["source_type"] == trap.declared
    if trap.bad:
        assert run.result.reject_files.get(table) == str(run.reject_dir / f"{table}.jsonl")
        assert (run.reject_dir / f"{table}.jsonl").is_file()
    else:
        assert table not in run.result.reject_files
        assert not (run.reject_dir / f"{table}.jsonl").exists()


def test_the_run_reports_rejects_and_leaves_no_partial_file(run: Run) -> None:
    result = run.result
    assert result.errors == []
    assert result.success is False  # something was rejected
    assert result.rows_rejected == sum(t.bad for t in TRAPS)
    assert result.rows_migrated == sum(t.ok for t in TRAPS)
    assert sorted(p.name for p in run.reject_dir.iterdir()) == sorted(
        f"{t.name}.jsonl" for t in TRAPS if t.bad
    ), "a reject file is there only for a table that rejected rows, and never as .partial"
    assert sorted(result.reject_files) == sorted(t.name for t in TRAPS if t.bad)
    assert (
        json.loads(json.dumps(result.to_dict(), default=str))["rows_rejected"]
        == result.rows_rejected
    )


def test_the_ledger_says_what_each_column_went_through(run: Run) -> None:
    ledger = {(e["table"], e["column"]): e for e in run.result.ledger}
    loaded = {t.name for t in run.result.tables}  # a failed table is reported elsewhere
    for trap in TRAPS:
        if trap.name not in loaded:
            continue
        entry = ledger[(trap.name, "v")]
        assert set(entry) >= {
            "table",
            "column",
            "source_type",
            "target_type",
            "read_as",
            "conversion",
            "lossy",
            "counts",
        }
        assert entry["conversion"], entry
    assert ledger[("numeric_round", "v")]["target_type"] == "numeric(10,1)"
    assert any("round" in note for note in ledger[("numeric_round", "v")]["lossy"])
    assert any("UTC" in note for note in ledger[("offsets", "v")]["lossy"])
    assert ledger[("big_ints_untyped", "v")]["target_type"] == "numeric"
    assert ledger[("reals_then_text", "v")]["target_type"] == "text"
    # decimals travel as doubles when every integer the column can hold fits one exactly;
    # text in the column (numeric_round's 'abc') sends it back to the exact two-part read
    read_as = {name: ledger[(name, "v")]["read_as"] for name in loaded}
    assert read_as["numeric_overflow_exponent"] == "real"  # numeric(10,2)
    assert read_as["numeric_wide_overflow_exponent"] == "numeric"  # numeric(20,2)
    assert read_as["numeric_round"] == "numeric"
    assert read_as["big_ints_numeric"] == "numeric"  # unbounded, integers past 2**53


# --- the CLI --------------------------------------------------------------------------------


def test_cli_exits_1_and_names_every_table_column_and_count(
    databases: Databases, source: Path, tmp_path: Path
) -> None:
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    outcome = CliRunner().invoke(
        cli_main,
        [
            "migrate",
            str(source),
            url,
            "--reject-dir",
            str(reject_dir),
            "--batch-size",
            "5",
            "--continue-on-error",  # a table that fails must not hide the others
            "--size-limits",
            "enforce",
        ],
    )
    assert outcome.exit_code == 1, (outcome.exit_code, outcome.output, outcome.exception)
    out = outcome.stdout
    assert f"{sum(t.bad for t in TRAPS)} rows rejected" in out, out
    for trap in TRAPS:
        if trap.bad:
            assert f"{trap.name}.v: {trap.bad}" in out, f"{trap.name}.v: {trap.bad} not in:\n{out}"
            assert f"{trap.name}.jsonl" in out
        else:  # not in the rejected list (a warning may count values it interpreted)
            assert not re.search(rf"^\s*- {trap.name}\.v: [\d,]+$", out, re.M), out


# --- on_bad_value='null' and 'fail', and cleaning instead of rejecting -------------------


def test_null_mode_stores_null_and_counts_every_value(
    databases: Databases, source: Path, tmp_path: Path
) -> None:
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(
        source,
        url,
        batch_size=5,
        on_bad_value="null",
        reject_dir=str(reject_dir),
        continue_on_error=True,  # one failed table must not hide the others
        size_limits="enforce",
    )
    assert result.rows_rejected == 0 and result.rejected == [] and result.reject_files == {}
    assert not reject_dir.exists() or list(reject_dir.iterdir()) == []
    ledger = {(e["table"], e["column"]): e for e in result.ledger}
    problems = [f"table {e.table} failed: {e.message}" for e in result.errors]
    for trap in TRAPS:
        found = [t for t in result.tables if t.name == trap.name]
        if not found:
            continue  # failed: reported above
        t = found[0]
        if (t.rows_read, t.rows, t.rows_rejected) != (len(trap.all_rows), len(trap.all_rows), 0):
            problems.append(
                f"{trap.name}: read/rows/rejected {t.rows_read}/{t.rows}/{t.rows_rejected}"
            )
        counts = ledger[(trap.name, "v")]["counts"]
        if counts != {"nulled": trap.bad, "cleaned": 0}:
            problems.append(f"{trap.name}: ledger counts {counts}, expected {trap.bad} nulled")
        warned = [  # the NULL warnings (others count values read by a rule)
            w for w in result.warnings if w.startswith(f"{trap.name}.v: ") and "NULL" in w
        ]
        counted = f"{trap.bad} value{'s' if trap.bad != 1 else ''} "
        if trap.bad and not any(counted in w for w in warned):
            problems.append(f"{trap.name}: no warning counting {trap.bad} NULL value(s): {warned}")
        if not trap.bad and warned:
            problems.append(f"{trap.name}: unexpected warning {warned}")
        landed = {r["id"]: r["v"] for r in pg_query(url, f'SELECT id, v FROM "{trap.name}"')}
        for rowid, expr, expect in trap.all_rows:
            want = expect.value if isinstance(expect, Ok) else None
            if rowid not in landed or not values_equal(want, landed[rowid]):
                problems.append(
                    f"{trap.name} row {rowid} ({expr}): expected {want!r}, got {landed.get(rowid, 'no row')!r}"
                )
    assert not problems, "\n".join(problems)


def _small_source(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
        CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
        """
    )
    conn.executemany("INSERT INTO a VALUES (?, ?)", [(i, f"a{i}") for i in range(1, 4)])
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i * 10) for i in range(1, 8)])
    conn.execute("INSERT INTO t VALUES (8, 'abc')")  # after the first batch of 3
    conn.execute("INSERT INTO t VALUES (9, 'zzz')")
    conn.commit()
    conn.close()
    return path


def test_fail_mode_names_table_column_rowid_and_value_and_leaves_no_reject_file(
    databases: Databases, tmp_path: Path
) -> None:
    path = _small_source(tmp_path / "small.sqlite")
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(
        path, url, batch_size=3, on_bad_value="fail", reject_dir=str(reject_dir), workers=1
    )
    assert result.success is False
    errors = [e for e in result.errors if e.table == "t"]
    assert len(errors) == 1, result.errors
    message = errors[0].message
    for part in ("'t'", "'v'", "8", "'abc'"):
        assert part in message, f"{part} not named in {message!r}"
    assert "zzz" not in message  # the first bad value, not a later one
    assert sql(url, "SELECT count(*) FROM pg_tables WHERE tablename = 't'") == [(0,)], (
        "t was not rolled back"
    )
    assert not reject_dir.exists() or list(reject_dir.iterdir()) == [], list(reject_dir.iterdir())
    assert result.rejected == [] and result.reject_files == {}


def test_fail_mode_names_the_value_as_sqlite_stores_it(
    databases: Databases, tmp_path: Path
) -> None:
    """A REAL 2.5 in an INTEGER column is read as the text '2.5' (the column's exact path);
    the error must show the stored REAL, 2.5, and the stored text 'x' as 'x'."""
    path = tmp_path / "real.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 10), (2, 2.5), (3, "x")])
    conn.commit()
    conn.close()
    result = af.migrate(path, databases.new(), on_bad_value="fail", workers=1)
    (error,) = result.errors
    assert "row 2: value 2.5 cannot" in error.message, error.message


def test_fail_mode_through_the_cli(databases: Databases, tmp_path: Path) -> None:
    path = _small_source(tmp_path / "small.sqlite")
    url = databases.new()
    outcome = CliRunner().invoke(
        cli_main,
        [
            "migrate",
            str(path),
            url,
            "--on-bad-value",
            "fail",
            "--batch-size",
            "3",
            "--reject-dir",
            str(tmp_path / "rejects"),
        ],
    )
    assert outcome.exit_code == 1, (outcome.output, outcome.exception)
    text = " ".join((outcome.stdout + outcome.stderr).split())
    for part in ("'t'", "'v'", "row 8", "'abc'"):
        assert part in text, f"{part} not in {text!r}"
    assert not (tmp_path / "rejects").exists() or list((tmp_path / "rejects").iterdir()) == []


def test_a_reject_file_is_removed_when_a_later_run_rejects_nothing(
    databases: Databases, tmp_path: Path
) -> None:
    path = _small_source(tmp_path / "small.sqlite")
    reject_dir = tmp_path / "rejects"
    first = af.migrate(path, databases.new(), batch_size=3, reject_dir=str(reject_dir))
    assert first.reject_files == {"t": str(reject_dir / "t.jsonl")}
    assert [json.loads(x)["rowid"] for x in (reject_dir / "t.jsonl").read_text().splitlines()] == [
        8,
        9,
    ]
    second = af.migrate(
        path, databases.new(), batch_size=3, reject_dir=str(reject_dir), on_bad_value="null"
    )
    assert second.errors == [] and second.reject_files == {}
    assert list(reject_dir.iterdir()) == [], (
        "a stale reject file from the earlier run is still there"
    )


def test_a_failed_table_leaves_no_reject_file_even_after_an_earlier_run(
    databases: Databases, tmp_path: Path
) -> None:
    """After a run, a reject file for a table means that run rejected its rows."""
    path = _small_source(tmp_path / "small.sqlite")
    reject_dir = tmp_path / "rejects"
    af.migrate(path, databases.new(), batch_size=3, reject_dir=str(reject_dir))
    assert (reject_dir / "t.jsonl").exists()
    failed = af.migrate(
        path, databases.new(), batch_size=3, reject_dir=str(reject_dir), on_bad_value="fail"
    )
    assert [e.table for e in failed.errors] == ["t"]
    assert sorted(p.name for p in reject_dir.iterdir()) == [], (
        "table t failed and rejected nothing in this run, yet t.jsonl from the earlier run is still there"
    )


def test_strip_nul_and_replace_invalid_utf8_clean_and_count(
    databases: Databases, source: Path, tmp_path: Path
) -> None:
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(
        source,
        url,
        batch_size=5,
        strip_nul=True,
        replace_invalid_utf8=True,
        reject_dir=str(reject_dir),
        include_tables=["nul_bytes", "invalid_utf8", "numeric_round"],
    )
    assert result.errors == []
    raw = source_values(source, "invalid_utf8")
    expected = {
        "nul_bytes": {13: "ab", 14: "ab", 15: ""},
        "invalid_utf8": {r: raw[r][1].decode("utf-8", "replace") for r in (13, 14, 15)},
    }
    assert expected["invalid_utf8"][13] == "\ufffdA"
    ledger = {(e["table"], e["column"]): e for e in result.ledger}
    for table, cleaned in expected.items():
        trap = TRAP_BY_NAME[table]
        landed = {r["id"]: r["v"] for r in pg_query(url, f'SELECT id, v FROM "{table}"')}
        for rowid, _, expect in trap.all_rows:
            want = cleaned.get(rowid, expect.value if isinstance(expect, Ok) else None)
            assert landed.get(rowid) == want, (
                f"{table} row {rowid}: {landed.get(rowid)!r} != {want!r}"
            )
        t = next(t for t in result.tables if t.name == table)
        assert (t.rows_read, t.rows, t.rows_rejected) == (len(trap.all_rows),) * 2 + (0,)
        assert ledger[(table, "v")]["counts"] == {"rejected": 0, "cleaned": len(cleaned)}
        assert any(
            w.startswith(f"{table}.v: {len(cleaned)} values cleaned") for w in result.warnings
        ), result.warnings
        assert table not in result.reject_files
        assert not (reject_dir / f"{table}.jsonl").exists()
    # the other tables still reject as before
    assert "numeric_round" in result.reject_files
    assert result.success is False


# --- traps that would fail a whole table -------------------------------------------------


def test_storage_class_change_in_a_column_after_a_numeric_column(
    databases: Databases, tmp_path: Path
) -> None:
    """Ints then text (after the first batch) in columns that follow a NUMERIC(p,s) column.

    A NUMERIC column is read as two SQL columns (its text and its REAL part): the column
    the driver names in its type-change error must still be mapped to the right column.
    """
    path = tmp_path / "n.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, price NUMERIC(10,2), qty INTEGER, flag BOOLEAN)"
    )
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [(i, i + 0.5, i if i < 10 else "abc", i % 2 if i < 12 else "t") for i in range(1, 20)],
    )
    conn.commit()
    conn.close()
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(path, url, batch_size=4, reject_dir=str(reject_dir))
    assert result.errors == []
    rows = {r["id"]: r for r in pg_query(url, "SELECT id, price, qty, flag FROM t")}
    assert rows == {
        i: {"id": i, "price": f"{i}.50", "qty": i, "flag": bool(i % 2)} for i in range(1, 10)
    }
    records = [json.loads(x) for x in (reject_dir / "t.jsonl").read_text().splitlines()]
    assert sorted(r["rowid"] for r in records) == list(range(10, 20))
    assert {p["column"] for r in records for p in r["problems"]} == {"qty"}


# --- traps that would fail a whole table -------------------------------------------------


def test_json_holding_an_escaped_nul_is_rejected_not_fatal(
    databases: Databases, tmp_path: Path
) -> None:
    r"""'\u0000' is valid JSON, but jsonb cannot hold it: the row is rejected, the run goes on."""
    path = tmp_path / "j.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        r"""
        CREATE TABLE j (id INTEGER PRIMARY KEY, v JSON);
        INSERT INTO j VALUES (1, '{"a": 1}'), (2, '{"a": "x\u0000y"}'), (3, '[2]');
        CREATE TABLE after (id INTEGER PRIMARY KEY, v TEXT);
        INSERT INTO after VALUES (1, 'still loaded');
        """
    )
    conn.commit()
    conn.close()
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(path, url, reject_dir=str(reject_dir), workers=1)
    assert result.errors == [], result.errors
    assert {r["id"]: json.loads(r["v"]) for r in pg_query(url, "SELECT id, v FROM j")} == {
        1: {"a": 1},
        3: [2],
    }
    records = [json.loads(x) for x in (reject_dir / "j.jsonl").read_text().splitlines()]
    assert [(r["rowid"], [p["column"] for p in r["problems"]]) for r in records] == [(2, ["v"])]
    assert sql(url, "SELECT v FROM after") == [("still loaded",)]


def test_valid_json_that_jsonb_holds_is_not_rejected(databases: Databases, tmp_path: Path) -> None:
    """1e400 is a valid JSON number and jsonb stores it exactly (as numeric), also when a
    bad document in the same batch sends the batch through the client-side validator."""
    path = tmp_path / "j.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE j (id INTEGER PRIMARY KEY, v JSON);
        INSERT INTO j VALUES (1, '[1e400]'), (2, '{"n": 123456789012345678901234567890.5}'),
                             (3, '{bad');
        """
    )
    conn.commit()
    conn.close()
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(path, url, reject_dir=str(reject_dir))  # one batch: the strict path
    assert result.errors == []
    records = [json.loads(x) for x in (reject_dir / "j.jsonl").read_text().splitlines()]
    assert [r["rowid"] for r in records] == [3], [(r["rowid"], r["problems"]) for r in records]
    rows = {r["id"]: r["v"] for r in pg_query(url, "SELECT id, v FROM j")}
    assert values_equal(json_doc("[1e400]"), rows.get(1)), rows
    assert values_equal(json_doc('{"n": 123456789012345678901234567890.5}'), rows.get(2)), rows


def test_json_arrays_into_an_integer_array_column(databases: Databases, tmp_path: Path) -> None:
    """type_mappings to bigint[]: integer arrays land exactly; 2.7 or a scalar is rejected."""
    path = tmp_path / "ja.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE ja (id INTEGER PRIMARY KEY, v JSON);
        INSERT INTO ja VALUES (1, '[1, 2, 3]'), (2, '[1, 2.7]'), (3, '[]'),
                              (4, '[9007199254740993]'), (5, '"x"'), (6, NULL);
        """
    )
    conn.commit()
    conn.close()
    url = databases.new()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(path, url, reject_dir=str(reject_dir), type_mappings={"ja.v": "bigint[]"})
    assert result.errors == [], result.errors
    assert sql(
        url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'ja'::regclass AND attname = 'v'",
    ) == [("bigint[]",)]
    rows = dict(sql(url, "SELECT id, v::text FROM ja ORDER BY id"))
    assert rows == {1: "{1,2,3}", 3: "{}", 4: "{9007199254740993}", 6: None}
    records = [json.loads(x) for x in (reject_dir / "ja.jsonl").read_text().splitlines()]
    assert sorted(r["rowid"] for r in records) == [2, 5]
