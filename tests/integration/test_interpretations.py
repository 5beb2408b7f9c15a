"""What the dry run knows, the real run says (issue 11, item 11).

Every value a run reads by a rule rather than as written (text in a BLOB column, a
number in a DATETIME column read as a julian day or epoch seconds, naive text read as
UTC...) is counted per column in the real run's ledger (``interpreted``) and said in
its warnings; julian days before year 1 are called out with the stored values. The
reverse direction counts what changes on the way into SQLite the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import arrowferry as af
from tests.conftest import make_sqlite, sql
from tests.integration._cli_helpers import cli
from tests.integration._compare import pg_query

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)

# (id, b BLOB, ts DATETIME, tz TIMESTAMPTZ, d DATE, u untyped)
ROWS: list[tuple[Any, ...]] = [
    (1, "héllo", 0, "2024-01-01 10:00:00", 2460000.5, 7),
    (2, 42, 2460000.25, "2024-01-01T10:00:00Z", "2024-01-02", "seven"),
    (3, 1.5, 1700000000, 1700000000, None, 2.5),
    (4, b"\x00\xff", 1700000000123, "2024-05-06 07:08:09+02:00", None, None),
    (5, None, "2024-01-01 10:00:00+02:00", None, None, "eight"),
    (6, "more text", 100.5, None, None, None),
    (7, None, "2024-03-04 05:06:07", None, None, None),
]
EXPECTED = {
    "b": {"text_as_bytes": 2, "number_as_bytes": 2},
    "ts": {
        "julian_day": 3,
        "julian_day_before_year_1": 2,
        "epoch_seconds": 1,
        "epoch_milliseconds": 1,
        "offset_to_utc": 1,
    },
    "tz": {"naive_as_utc": 1, "epoch_seconds": 1},
    "d": {"julian_day": 1},
    "u": {"number_as_text": 2},
}


def _source(tmp_path: Path) -> Path:
    return make_sqlite(
        tmp_path / "interpreted.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB, ts DATETIME, tz TIMESTAMPTZ, d DATE, u);",
        {"t": ROWS},
    )


def _ledger(result: dict[str, Any], table: str = "t") -> dict[str, dict[str, int]]:
    return {e["column"]: e["interpreted"] for e in result["ledger"] if e["table"] == table}


def test_the_real_run_counts_every_interpretation(tmp_path: Path, pg_url: str) -> None:
    source = _source(tmp_path)

    outcome = cli("migrate", str(source), pg_url, "--json")
    assert outcome.exit_code == 0, outcome.everything
    result = outcome.json()
    ledger = _ledger(result)
    assert {c: k for c, k in ledger.items() if k} == EXPECTED
    assert ledger["id"] == {}
    warnings = result["warnings"]
    assert any(
        w.startswith("t.b: 2 text values stored in this BLOB column became the bytes")
        and "2 numbers stored in this BLOB column" in w
        for w in warnings
    ), warnings
    assert any(
        w.startswith("t.ts: 3 numbers read as julian days")
        and "1 number read as Unix epoch seconds" in w
        and "1 value with a UTC offset" in w
        for w in warnings
    ), warnings
    year_one = next(w for w in warnings if "before year 1" in w)
    assert year_one.startswith("t.ts: 2 numbers read as julian days land before year 1")
    assert "'0'" in year_one and "'100.5'" in year_one
    assert any(
        w.startswith("t.tz: ") and "1 value without a UTC offset read as UTC" in w for w in warnings
    )
    assert any(w.startswith("t.u: 2 numbers became their decimal text") for w in warnings)

    # the values are what the warnings say they became
    rows = {
        r["id"]: r
        for r in pg_query(pg_url, "SELECT id, b, ts::text AS ts_text, tz, d, u FROM t ORDER BY id")
    }
    assert [rows[i]["b"] for i in range(1, 7)] == [
        "héllo".encode(),
        b"42",
        b"1.5",
        b"\x00\xff",
        None,
        b"more text",
    ]
    assert rows[1]["ts_text"] == "4714-11-24 12:00:00 BC"  # julian day 0
    assert [rows[i]["ts_text"] for i in (2, 3, 4, 5, 6)] == [
        "2023-02-24 18:00:00",  # julian day 2460000.25
        str(EPOCH + dt.timedelta(seconds=1700000000)),
        str(EPOCH + dt.timedelta(milliseconds=1700000000123)).rstrip("0"),
        "2024-01-01 08:00:00",  # +02:00, converted to UTC
        "4713-03-04 00:00:00 BC",  # julian day 100.5: 4714-11-24 12:00 BC + 100.5 days (leap Feb)
    ]
    assert rows[1]["tz"] == dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert rows[3]["tz"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert rows[1]["d"] == dt.date(2023, 2, 25)
    assert [rows[i]["u"] for i in (1, 2, 3, 5)] == ["7", "seven", "2.5", "eight"]

    # the same counts on the terminal, without --json
    again = cli("migrate", str(source), pg_url, "--drop-tables")
    assert again.exit_code == 0, again.everything
    printed = " ".join(again.stdout.split())
    assert "t.ts: 2 numbers read as julian days land before year 1" in printed
    assert "t.b: 2 text values stored in this BLOB column became the bytes" in printed


def test_the_dry_run_and_the_real_run_agree(tmp_path: Path, pg_url: str) -> None:
    source = _source(tmp_path)
    plan = af.migrate(source, pg_url, dry_run=True).plan
    assert plan is not None
    forms = {c["name"]: c["date_forms"] for c in plan["tables"][0]["columns"]}
    assert forms["ts"]["julian_days"] == EXPECTED["ts"]["julian_day"]
    assert forms["ts"]["julian_days_before_year_1"] == EXPECTED["ts"]["julian_day_before_year_1"]
    assert forms["ts"]["epoch_seconds"] == EXPECTED["ts"]["epoch_seconds"]
    real = af.migrate(source, pg_url)
    lossy = {e["column"]: e["lossy"] for e in real.ledger}
    assert any("BLOB column" in note for note in lossy["b"])  # said in the real run too
    assert any("read as UTC" in note for note in lossy["tz"])


def test_only_written_values_are_counted(tmp_path: Path, pg_url: str) -> None:
    """A rejected row's values are not written, so not interpreted; with
    on_bad_value='null' the row is written and its julian day counts."""
    source = make_sqlite(
        tmp_path / "rejects.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, ts DATETIME);",
        {"t": [(1, "not a number", 10.0), (2, 5, 20.0), (3, 6, "2024-01-01")]},
    )
    rejected = af.migrate(source, pg_url, on_bad_value="reject", reject_dir=str(tmp_path / "r"))
    assert [r["count"] for r in rejected.rejected] == [1]
    assert {e["column"]: e["interpreted"] for e in rejected.ledger}["ts"] == {
        "julian_day": 1,
        "julian_day_before_year_1": 1,
    }
    nulled = af.migrate(source, pg_url, on_bad_value="null", drop_tables=True)
    assert {e["column"]: e["interpreted"] for e in nulled.ledger}["ts"] == {
        "julian_day": 2,
        "julian_day_before_year_1": 2,
    }
    assert any(
        "t.ts: 2 numbers read as julian days land before year 1" in w for w in nulled.warnings
    )


def test_counts_add_up_over_fast_path_batches_and_lanes(tmp_path: Path, pg_url: str) -> None:
    """Naive ISO text into timestamptz takes the Arrow fast path, batch by batch and
    lane by lane; every value it reads as UTC is counted once."""
    rows = [
        (i, f"2024-01-01 00:00:{i % 60:02d}" if i % 4 else "2024-01-01T00:00:00Z")
        for i in range(1, 2001)
    ]
    source = make_sqlite(
        tmp_path / "lanes.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, tz TIMESTAMPTZ);",
        {"t": rows},
    )
    result = af.migrate(source, pg_url, batch_size=100, lanes=3)
    assert result.success, result.errors
    naive = sum(1 for _, text in rows if not text.endswith("Z"))
    assert {e["column"]: e["interpreted"] for e in result.ledger}["tz"] == {"naive_as_utc": naive}
    assert sql(pg_url, "SELECT count(*) FROM t WHERE tz = '2024-01-01 00:00:00+00'") == [
        (sum(1 for _, text in rows if text.endswith(("00:00:00", "Z"))),)
    ]


def test_reverse_direction_counts_what_sqlite_changes(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL -> SQLite: a negative zero becomes 0.0, and dates SQLite's functions
    cannot read are kept as text; both are counted per column and said."""
    sql(
        pg_url,
        "CREATE TABLE m (id integer PRIMARY KEY, x double precision, f real, d date, ts timestamp)",
    )
    sql(
        pg_url,
        "INSERT INTO m VALUES (1, '-0', '-0', 'infinity', '0044-03-15 12:00 BC'), "
        "(2, 1.5, 2.5, '2024-01-02', '2024-01-02 03:04:05'), "
        "(3, '-0', 0, '12345-01-01', '-infinity'), (4, NULL, NULL, NULL, NULL)",
    )
    target = tmp_path / "back.sqlite"
    result = af.migrate(pg_url, target)
    assert result.success, result.errors
    ledger = {e["column"]: e["interpreted"] for e in result.ledger}
    assert ledger == {
        "id": {},
        "x": {"negative_zero": 2},
        "f": {"negative_zero": 1},
        "d": {"unreadable_date": 2},
        "ts": {"unreadable_date": 2},
    }
    assert any(w.startswith("m.x: 2 negative zeros became 0.0") for w in result.warnings)
    called = next(w for w in result.warnings if w.startswith("m.d:") and "date functions" in w)
    assert "'infinity'" in called and "'12345-01-01'" in called
    with closing(sqlite3.connect(target)) as conn:
        stored = conn.execute("SELECT x, d, ts FROM m ORDER BY id").fetchall()
        functions = conn.execute("SELECT date(d) FROM m WHERE id = 1").fetchone()
    assert stored[0][0] == 0.0 and math.copysign(1, stored[0][0]) == 1.0
    assert stored[0][1:] == ("infinity", "0044-03-15 12:00:00 BC")
    assert functions == (None,)  # what the warning says: SQLite's date() cannot read it


def test_boolean_words_are_counted(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "flags.db",
        "CREATE TABLE f (id INTEGER PRIMARY KEY, ok BOOLEAN);",
        {"f": [(1, 1), (2, 0), (3, "yes"), (4, "f"), (5, " TRUE "), (6, None)]},
    )
    result = af.migrate(source, pg_url)
    assert result.success, result.errors
    assert {e["column"]: e["interpreted"] for e in result.ledger}["ok"] == {"word_as_boolean": 3}
    assert any(w.startswith("f.ok: 3 text values other than 0 and 1") for w in result.warnings)
    assert sql(pg_url, "SELECT id, ok FROM f ORDER BY id") == [
        (1, True),
        (2, False),
        (3, True),
        (4, False),
        (5, True),
        (6, None),
    ]


def test_the_summary_counts_only_steps_that_may_have_changed_a_value(
    tmp_path: Path, pg_url: str
) -> None:
    """A date, timestamp or BLOB column's lossy steps are counted value by value, so a run
    that counted none of them ``settled`` the column: the summary's "may change a value"
    line leaves it out (Northwind's five date columns of plain ISO text were in it), and a
    column whose values did take such a step stays in, with its own warning line."""
    source = make_sqlite(
        tmp_path / "plain.db",
        "CREATE TABLE p (id INTEGER PRIMARY KEY, d DATE, ts DATETIME, b BLOB, n NUMERIC);"
        "CREATE TABLE q (id INTEGER PRIMARY KEY, ts DATETIME);",
        {
            "p": [(1, "2024-01-02", "2024-01-02 03:04:05", b"\x01", 1.5)],
            "q": [(1, "2024-01-02 03:04:05+02:00")],
        },
    )
    result = af.migrate(source, pg_url).to_dict()
    settled = {(e["table"], e["column"]) for e in result["ledger"] if e["settled"]}
    assert settled == {("p", "d"), ("p", "ts"), ("p", "b")}
    out = cli("migrate", str(source), pg_url, "--drop-tables")
    # p.n (REAL into numeric) and q.ts (its offset converted, and said) remain
    said = out.stdout + out.stderr
    assert "ledger: 2 columns have conversion steps that may change a value" in said, said
    assert "q.ts: 1 value with a UTC offset converted to UTC" in said, said


def test_values_rounded_to_a_numeric_scale_are_counted(tmp_path: Path, pg_url: str) -> None:
    """SQLite keeps 1.234 in a NUMERIC(10,2) column; PostgreSQL stores 1.23. Each such
    value is counted and said (before, only a note said values *may* be rounded), on the
    fast path's batches too (a batch with one goes the counting way); a column none of
    whose values needed it counts none."""
    rows = [(1, 1.234, "2"), (2, "3.14159", 2), (3, 2.5, None), (4, 7, 9), (5, 1.005, "9")]
    rows += [(i, 0.5, 1) for i in range(6, 5000)]  # clean batches: the fast path
    source = make_sqlite(
        tmp_path / "money.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, p NUMERIC(10,2), q NUMERIC(10,2));",
        {"t": rows},
    )
    result = af.migrate(source, pg_url, batch_size=1000).to_dict()
    ledger = {e["column"]: e for e in result["ledger"] if e["table"] == "t"}
    assert ledger["p"]["interpreted"] == {"rounded_to_scale": 3}
    assert ledger["q"]["interpreted"] == {}  # none of its values needed rounding
    assert "t.p: 3 values with more decimal places than the column's scale rounded" in " ".join(
        result["warnings"]
    )
    got = sql(pg_url, "SELECT p::text FROM t WHERE id <= 5 ORDER BY id")
    assert [r[0] for r in got] == ["1.23", "3.14", "2.50", "7.00", "1.01"]
