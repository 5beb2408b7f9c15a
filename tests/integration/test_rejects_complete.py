"""Rejection is complete: target rows + reject-file rows reproduce the source (issue 3).

After a run with rejects, every source row is either in PostgreSQL, with its converted
values, or in ``<reject_dir>/<table>.jsonl``, whose ``row`` (decoded with
:func:`arrowferry.transfer.rejects.decode`) is the row exactly as SQLite stores it:
same storage class, same value, text compared as raw bytes (read with
``text_factory=bytes``) so invalid UTF-8 is compared too. No row is missing, none is in
both places, none is rejected twice.

Converted values are computed independently by ``_compare`` from the README mapping of
each declared type; the clean values in these tables stay within what it covers.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import arrowferry as af
from arrowferry.result import MigrationResult
from arrowferry.transfer.rejects import decode
from tests.conftest import sql, with_database
from tests.integration._compare import (
    Matcher,
    expected_value,
    pg_query,
    qi,
    readme_pg_type,
    values_equal,
)

# --- reading the source exactly as stored ---------------------------------------------------


class Raw:
    """A TEXT value that is not valid UTF-8 (kept as its bytes)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Raw({self.data!r})"


def _text(data: bytes) -> str | Raw:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Raw(data)


def stored_rows(path: Path, table: str) -> dict[int, dict[str, tuple[str, Any]]]:
    """rowid -> {column: (storage class, value)}; TEXT and BLOB values as raw bytes."""
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    try:
        names = [r[1].decode() for r in conn.execute(f'SELECT * FROM pragma_table_info("{table}")')]
        typeofs = ", ".join(f'typeof("{n}")' for n in names)
        values = ", ".join(f'"{n}"' for n in names)
        out = {}
        for row in conn.execute(f'SELECT _rowid_, {typeofs}, {values} FROM "{table}"'):
            k = len(names)
            out[row[0]] = {n: (row[1 + i].decode(), row[1 + k + i]) for i, n in enumerate(names)}
        return out
    finally:
        conn.close()


def python_rows(path: Path, table: str) -> dict[int, dict[str, Any]]:
    """rowid -> {column: value as Python sees it} (for the expected conversions)."""
    conn = sqlite3.connect(path)
    conn.text_factory = _text
    try:
        cur = conn.execute(f'SELECT _rowid_ AS "__rowid", * FROM "{table}"')
        names = [d[0] for d in cur.description]
        return {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur}
    finally:
        conn.close()


def declared_types(path: Path, table: str) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return {r[1]: r[2] for r in conn.execute(f'SELECT * FROM pragma_table_info("{table}")')}
    finally:
        conn.close()


def encoded_matches(encoded: Any, stored: tuple[str, Any]) -> bool:
    """Is a reject file's encoded value exactly the stored SQLite value?"""
    kind, raw = stored
    if kind == "null":
        return encoded is None
    if kind == "integer":
        return type(encoded) is int and encoded == raw
    if kind == "real":
        value = decode(encoded)
        return type(value) is float and value == raw
    if kind == "blob":
        return isinstance(encoded, dict) and "$base64" in encoded and decode(encoded) == raw
    if kind == "text":
        if isinstance(encoded, str):  # valid UTF-8 travels as a JSON string
            return encoded.encode("utf-8") == raw
        if isinstance(encoded, dict) and "$base64" in encoded:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return decode(encoded) == raw
        return False
    return False


def read_rejects(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


def check_complete(
    source: Path,
    url: str,
    result: MigrationResult,
    reject_dir: Path,
    table: str,
    *,
    key: str | None,
    expect: dict[str, Any] | None = None,
) -> list[str]:
    """Every problem with 'target rows + reject rows reproduce the source'.

    ``key`` names the column PostgreSQL rows are matched by (None: match the whole
    converted row, as a multiset). ``expect`` gives the expected conversion of columns
    the README mapping table does not cover (untyped ones, decided by the data).
    """
    problems: list[str] = []
    stored = stored_rows(source, table)
    values = python_rows(source, table)
    expect = expect or {}
    types = {
        c: "(test's own)" if c in expect else readme_pg_type(d)
        for c, d in declared_types(source, table).items()
    }
    records = read_rejects(reject_dir / f"{table}.jsonl")
    by_rowid: dict[int, dict[str, Any]] = {}
    for record in records:
        rowid = record.get("rowid")
        if rowid in by_rowid:
            problems.append(f"{table}: rowid {rowid} rejected twice")
        by_rowid[rowid] = record
        if rowid not in stored:
            problems.append(f"{table}: reject record for rowid {rowid}, which the source lacks")
            continue
        row = record["row"]
        if sorted(row) != sorted(stored[rowid]):
            problems.append(f"{table} rowid {rowid}: reject row has columns {sorted(row)}")
            continue
        for column, want in stored[rowid].items():
            if not encoded_matches(row[column], want):
                problems.append(
                    f"{table} rowid {rowid}: reject row {column} = {row[column]!r}, "
                    f"SQLite stores {want!r}"
                )
        if not record["problems"]:
            problems.append(f"{table} rowid {rowid}: rejected without a problem")
        for problem in record["problems"]:
            want = stored[rowid].get(problem["column"])
            if want is None or not encoded_matches(problem["value"], want):
                problems.append(
                    f"{table} rowid {rowid}: problem value {problem['column']} = "
                    f"{problem['value']!r}, SQLite stores {want!r}"
                )
        if key is not None and record["key"] != {key: values[rowid][key]}:
            problems.append(f"{table} rowid {rowid}: key {record['key']!r}")
    names = list(types)
    actual = pg_query(url, f"SELECT {', '.join(qi(n) for n in names)} FROM {qi(table)}")
    kept = [r for r in stored if r not in by_rowid]
    if len(actual) != len(kept):
        problems.append(
            f"{table}: {len(stored)} source rows, {len(by_rowid)} rejected, so {len(kept)} "
            f"expected in PostgreSQL; it has {len(actual)}"
        )
    expected = {}
    for rowid in kept:
        try:
            expected[rowid] = {
                n: expect[n](values[rowid][n])
                if n in expect and values[rowid][n] is not None
                else expected_value(values[rowid][n], types[n])
                for n in names
            }
        except AssertionError as err:
            problems.append(f"{table} rowid {rowid} was not rejected, yet {err}")
    if key is not None:
        landed = {r[key]: r for r in actual}
        for rowid, want in expected.items():
            got = landed.get(values[rowid][key])
            if got is None:
                problems.append(f"{table} rowid {rowid}: neither in PostgreSQL nor rejected")
                continue
            for n in names:
                if not values_equal(want[n], got[n]):
                    problems.append(
                        f"{table} rowid {rowid}: {n} expected {want[n]!r}, got {got[n]!r}"
                    )
    else:
        # no key: compare multisets of rows (a Matcher compares by its repr on this side)
        def norm(row: dict[str, Any]) -> tuple[str, ...]:
            return tuple(repr(row[n]) for n in names)

        want_rows = Counter(norm(r) for r in expected.values())
        got_rows = Counter(norm(r) for r in actual)
        if any(isinstance(v, Matcher) for r in expected.values() for v in r.values()):
            problems.append(f"{table}: the test needs plain values to compare rows without a key")
        if want_rows != got_rows:
            problems.append(
                f"{table}: PostgreSQL rows differ from the source rows that were not rejected: "
                f"missing {list((want_rows - got_rows).elements())[:5]}, "
                f"extra {list((got_rows - want_rows).elements())[:5]}"
            )
    t = [t for t in result.tables if t.name == table]
    if len(t) != 1:
        problems.append(f"{table}: not in result.tables ({result.errors})")
    elif (t[0].rows_read, t[0].rows, t[0].rows_rejected) != (
        len(stored),
        len(stored) - len(by_rowid),
        len(by_rowid),
    ):
        problems.append(
            f"{table}: rows_read/rows/rows_rejected {t[0].rows_read}/{t[0].rows}/"
            f"{t[0].rows_rejected}, source {len(stored)}, reject file {len(by_rowid)}"
        )
    return problems


# --- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def new_database(pg_server: str) -> Iterator[Any]:
    names: list[str] = []

    def make() -> str:
        name = f"af_rej_{uuid.uuid4().hex[:12]}"
        sql(pg_server, f'CREATE DATABASE "{name}"')
        names.append(name)
        return with_database(pg_server, name)

    yield make
    for name in names:
        sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def shared_url(new_database: Any) -> str:
    """One database for every hypothesis example (each run drops and re-creates ``t``)."""
    return str(new_database())


# --- a hand-made source: many columns, rows with one or several bad values ------------------


def _dirty_source(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY, qty INTEGER, price NUMERIC(10,2), note TEXT, data BLOB,
            placed DATETIME, flag BOOLEAN, meta JSON, ratio REAL, extra
        );
        CREATE TABLE codes (code TEXT PRIMARY KEY, qty INTEGER, note TEXT);
        CREATE TABLE loose (qty INTEGER, note TEXT, ratio REAL);
        -- ints in the first batches, then text: the read type changes mid-table (a retry),
        -- after rejects were already collected from the first batches
        CREATE TABLE retry (id INTEGER PRIMARY KEY, n INTEGER, meta JSON);
        """
    )
    bad_note = [
        "CAST(x'ff41' AS TEXT)",
        "'a' || char(0) || 'b'",
        "CAST(x'c328' AS TEXT)",
    ]
    for i in range(1, 61):
        qty = "'abc'" if i % 7 == 0 else ("2.5" if i % 11 == 0 else str(i * 3))
        price = "'n/a'" if i % 13 == 0 else (f"{i}.125" if i % 2 else str(i))
        note = bad_note[i % 3] if i % 5 == 0 else f"'note {i} ünï 😀'"
        data = f"x'{i:02x}00ff'" if i % 4 else "NULL"
        placed = "'nope'" if i % 9 == 0 else f"'2024-01-{(i % 28) + 1:02d} 10:{i % 60:02d}:00'"
        flag = "'maybe'" if i % 17 == 0 else str(i % 2)
        meta = "'{bad'" if i % 8 == 0 else f'\'{{"i": {i}, "l": [1, 2.5]}}\''
        ratio = "'x'" if i % 19 == 0 else f"{i / 7!r}"
        extra = [f"'t{i}'", str(i), f"{i}.5", f"x'{i:02x}'", "NULL"][i % 5]
        conn.execute(
            f"INSERT INTO orders VALUES ({i}, {qty}, {price}, {note}, {data}, {placed}, "
            f"{flag}, {meta}, {ratio}, {extra})"
        )
        code = f"'k{i}'"
        conn.execute(f"INSERT INTO codes VALUES ({code}, {qty}, {note})")
        conn.execute(f"INSERT INTO loose VALUES ({qty}, {note}, {ratio})")
    for i in range(1, 41):
        n = str(i) if i <= 20 else (f"'t{i}'" if i % 3 == 0 else str(i * 100))
        meta = "'[1,'" if i in (2, 9, 33) else f"'[{i}]'"
        conn.execute(f"INSERT INTO retry VALUES ({i}, {n}, {meta})")
    conn.commit()
    conn.close()
    return path


TABLE_KEYS = {"orders": "id", "codes": "code", "loose": None, "retry": "id"}


@dataclass(frozen=True)
class BytesOfReal(Matcher):
    """The bytes of a text that parses back to exactly this double."""

    value: float

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, bytes) and float(actual.decode()) == self.value


def text_bytes(value: Any) -> Any:
    """README: text and numbers in a column that becomes bytea become the bytes of their text."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        return str(value).encode()
    return BytesOfReal(value)


EXPECT = {"orders": {"extra": text_bytes}}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _dirty_source(tmp_path_factory.mktemp("complete") / "dirty.sqlite")


@pytest.mark.parametrize("batch_size", [4, 65_536])
def test_target_plus_rejects_reproduce_the_source(
    dirty: Path, new_database: Any, tmp_path: Path, batch_size: int
) -> None:
    url = new_database()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(
        dirty,
        url,
        batch_size=batch_size,
        reject_dir=str(reject_dir),
        continue_on_error=True,  # a table that fails is reported, the others still checked
    )
    assert result.success is False
    problems = [f"table {e.table} failed: {e.message}" for e in result.errors]
    for table, key in TABLE_KEYS.items():
        if any(e.table == table for e in result.errors):
            continue
        problems += check_complete(
            dirty, url, result, reject_dir, table, key=key, expect=EXPECT.get(table)
        )
    assert not problems, "\n".join(problems[:60])
    # each table here has bad values; the counts of the result match the files
    for table in TABLE_KEYS:
        records = read_rejects(reject_dir / f"{table}.jsonl")
        assert records, f"{table}: the fixture should have rejected rows"
        per_column = Counter(p["column"] for r in records for p in r["problems"])
        reported = {r["column"]: r["count"] for r in result.rejected if r["table"] == table}
        assert reported == dict(per_column), (table, reported, per_column)
    assert sorted(p.name for p in reject_dir.iterdir()) == sorted(f"{t}.jsonl" for t in TABLE_KEYS)


def test_a_row_with_several_bad_values_is_rejected_once_naming_each(
    dirty: Path, new_database: Any, tmp_path: Path
) -> None:
    url = new_database()
    reject_dir = tmp_path / "rejects"
    af.migrate(dirty, url, reject_dir=str(reject_dir), include_tables=["orders"])
    records = {r["rowid"]: r for r in read_rejects(reject_dir / "orders.jsonl")}
    # row 35: qty 'abc' (35 % 7), note CAST(x'c328' AS TEXT) (35 % 5, 35 % 3 == 2)
    # row 56: qty 'abc' (56 % 7), meta '{bad' (56 % 8)
    assert len([r for r in records if r in (35, 56)]) == 2
    problems = {rowid: {p["column"]: p for p in records[rowid]["problems"]} for rowid in (35, 56)}
    assert sorted(problems[35]) == ["note", "qty"]
    assert sorted(problems[56]) == ["meta", "qty"]
    assert problems[35]["qty"]["reason"].startswith("not an integer")
    assert problems[35]["qty"]["value"] == "abc"
    assert problems[35]["note"]["reason"].startswith("not valid UTF-8")
    assert base64.b64decode(problems[35]["note"]["value"]["$base64"]) == b"\xc3("
    assert problems[56]["meta"]["reason"].startswith("not valid JSON")
    assert problems[56]["meta"]["value"] == "{bad"


def test_a_without_rowid_table_rejects_rows_as_sqlite_stores_them(
    new_database: Any, tmp_path: Path
) -> None:
    """No rowid: the reject row must still be the row as stored (found by its key), not
    the values as the migration read them (CAST to text, REAL split from NUMERIC...)."""
    path = tmp_path / "w.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE w (k TEXT PRIMARY KEY, flag BOOLEAN, amount NUMERIC, n INTEGER,
                        d DATETIME, b BLOB) WITHOUT ROWID;
        INSERT INTO w VALUES ('a', 1, 0.1, 5, '2024-01-01', x'00');
        INSERT INTO w VALUES ('b', 'maybe', 0.1, 5, '2024-01-01 10:00:00', x'00ff');
        INSERT INTO w VALUES ('c', 1, 12, 'abc', 1700000000, 'text in a blob column');
        INSERT INTO w VALUES ('d', 0, 'x', 7, 2460000.5, NULL);
        """
    )
    conn.commit()
    conn.close()
    url = new_database()
    reject_dir = tmp_path / "rejects"
    result = af.migrate(path, url, reject_dir=str(reject_dir))
    assert result.errors == []
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    names = ["k", "flag", "amount", "n", "d", "b"]
    typeofs = ", ".join(f"typeof({n})" for n in names)
    stored = {
        row[0].decode(): {n: (row[6 + i].decode(), row[i]) for i, n in enumerate(names)}
        for row in conn.execute(f"SELECT {', '.join(names)}, {typeofs} FROM w")
    }
    conn.close()
    records = read_rejects(reject_dir / "w.jsonl")
    assert sorted(r["key"]["k"] for r in records) == ["b", "c", "d"]
    problems = []
    for record in records:
        k = record["key"]["k"]
        for column, want in stored[k].items():
            if not encoded_matches(record["row"].get(column), want):
                problems.append(
                    f"row {k}: {column} = {record['row'].get(column)!r}, stored {want!r}"
                )
    assert not problems, "\n".join(problems)
    assert sql(url, "SELECT k FROM w") == [("a",)]


# --- property: any mix of clean and bad values partitions exactly ----------------------------

CLEAN_OR_BAD = {
    "p NUMERIC(10,2)": st.one_of(
        st.decimals(-(10**7), 10**7, places=4, allow_nan=False, allow_infinity=False).map(
            lambda v: ("?", str(v))  # NUMERIC affinity stores it as an integer or a REAL
        ),
        st.sampled_from([("'n/a'", None), ("'1e999x'", None), ("NULL", None)]),
    ),
    "n INTEGER": st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(lambda v: ("?", v)),
        st.sampled_from([("'abc'", None), ("2.5", None), ("'1.5e3x'", None), ("''", None)]),
        st.just(("NULL", None)),
    ),
    "s TEXT": st.one_of(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
        ).map(lambda v: ("?", v)),
        st.binary(min_size=1, max_size=6).map(lambda b: ("CAST(? AS TEXT)", b)),
        st.just(("'x' || char(0)", None)),
    ),
    "j JSON": st.one_of(
        st.sampled_from(['{"a": 1}', "[1, 2.5]", '{"s": "ü"}', "{bad", "[1,", "nul"]).map(
            lambda v: ("?", v)
        ),
        st.just(("NULL", None)),
    ),
    "b BLOB": st.one_of(st.binary(max_size=6).map(lambda v: ("?", v)), st.just(("NULL", None))),
    "d DATETIME": st.sampled_from(
        [
            ("'2024-01-02 03:04:05'", None),
            ("'2024-01-02T03:04:05.25'", None),
            ("'1999-12-31'", None),
            ("'nope'", None),
            ("'2024-02-30'", None),
            ("NULL", None),
        ]
    ),
    "f BOOLEAN": st.sampled_from(
        [("0", None), ("1", None), ("2", None), ("'maybe'", None), ("NULL", None)]
    ),
    "r REAL": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(lambda v: ("?", v)),
        st.just(("'x'", None)),
    ),
}


@st.composite
def dirty_tables(draw: st.DrawFn) -> tuple[list[str], list[list[tuple[str, Any]]], int]:
    columns = draw(
        st.lists(st.sampled_from(sorted(CLEAN_OR_BAD)), min_size=1, max_size=4, unique=True)
    )
    rows = draw(st.lists(st.tuples(*(CLEAN_OR_BAD[c] for c in columns)), min_size=1, max_size=12))
    batch_size = draw(st.sampled_from([1, 3, 1000]))
    return columns, [list(r) for r in rows], batch_size


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # each example is a whole migration: shrinking a failure could take minutes, and the
    # unshrunk example (table, rows, batch size) is printed all the same
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(case=dirty_tables())
# a NUMERIC column before a column whose storage class changes after the first batch
@example(
    case=(
        ["p NUMERIC(10,2)", "n INTEGER"],
        [[("?", "1.5"), ("?", 1)], [("?", "2"), ("'abc'", None)]],
        1,
    )
)
def test_property_every_row_is_in_postgresql_or_in_the_reject_file(
    case: tuple[list[str], list[list[tuple[str, Any]]], int],
    shared_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    columns, rows, batch_size = case
    work = tmp_path_factory.mktemp("prop")
    path = work / "p.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(columns)})")
    for i, row in enumerate(rows, start=1):
        exprs = ", ".join(e for e, _ in row)
        params = [v for e, v in row if "?" in e]
        conn.execute(f"INSERT INTO t VALUES ({i}, {exprs})", params)
    conn.commit()
    conn.close()
    reject_dir = work / "rejects"
    result = af.migrate(
        path, shared_url, batch_size=batch_size, reject_dir=str(reject_dir), drop_tables=True
    )
    url = shared_url
    assert result.errors == []
    problems = check_complete(path, url, result, reject_dir, "t", key="id")
    assert not problems, "\n".join(problems)
    assert result.success is (result.rows_rejected == 0)
    assert not list(reject_dir.glob("*.partial")) if reject_dir.exists() else True
