"""Declared sizes SQLite never enforced, and numerics wider than any Arrow decimal
(issue 11, items 1, 2 and 10), SQLite -> PostgreSQL, on a real PostgreSQL.

PostgreSQL rounds a numeric(p,s) value half away from zero to s places and only then
checks its precision; SQLite checks nothing. Every value must land exactly (as the
server rounds it), in a widened column with a warning, or, under
``size_limits="enforce"``, in the reject file with a reason naming precision and scale.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import arrowferry as af
from arrowferry.cli import main as cli_main
from tests.conftest import make_sqlite, pg_tables, sql


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default reject directories land under the test's own folder."""
    monkeypatch.chdir(tmp_path)


def rows(url: str, table: str, column: str = "v") -> dict[int, Decimal | None]:
    """id -> the exact numeric PostgreSQL holds (its text, parsed without a double)."""
    return {
        rid: None if text is None else Decimal(text)
        for rid, text in sql(url, f'SELECT id, "{column}"::text FROM "{table}" ORDER BY id')
    }


def column_type(url: str, table: str, column: str = "v") -> str:
    return sql(
        url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = $1::regclass AND attname = $2",
        [f'"{table}"', column],
    )[0][0]


def rejects(reject_dir: Path, table: str) -> list[dict[str, Any]]:
    path = reject_dir / f"{table}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- item 1: overflow only after rounding ------------------------------------------------


def _rounding_source(path: Path) -> Path:
    """99999999.995 passes any check on the value as stored; PostgreSQL rounds it to
    100000000.00, one digit too many for numeric(10,2). Tables after it must load too."""
    script = "CREATE TABLE a_first (id INTEGER PRIMARY KEY, v NUMERIC(10,2));\n"
    script += "CREATE TABLE money (id INTEGER PRIMARY KEY, v NUMERIC(10,2), note TEXT);\n"
    script += "".join(f"CREATE TABLE z{i} (id INTEGER PRIMARY KEY, v INTEGER);\n" for i in range(5))
    data: dict[str, list[tuple[Any, ...]]] = {
        "a_first": [(1, 1.25)],
        "money": [
            (1, 99999999.995, "rounds up past the precision"),
            (2, -99999999.995, "the same, negative"),
            (3, 99999999.994, "rounds down: fits"),
            (4, 99999999.99, "fits exactly"),
            (5, 0.125, "a half step: 0.13"),
            (6, 12.345, "a half step: 12.35"),
            (7, None, "NULL"),
        ],
    }
    for i in range(5):
        data[f"z{i}"] = [(1, i)]
    return make_sqlite(path, script, data)


ROUNDED = {
    1: Decimal("100000000.00"),
    2: Decimal("-100000000.00"),
    3: Decimal("99999999.99"),
    4: Decimal("99999999.99"),
    5: Decimal("0.13"),
    6: Decimal("12.35"),
    7: None,
}


@pytest.mark.parametrize("batch_size", [1, 3, 65_536])
def test_overflow_after_rounding_widens_the_column_and_every_table_loads(
    tmp_path: Path, pg_url: str, batch_size: int
) -> None:
    source = _rounding_source(tmp_path / "round.sqlite")
    result = af.migrate(source, pg_url, batch_size=batch_size, reject_dir=str(tmp_path / "rj"))
    assert result.errors == [], result.errors
    assert result.success, result.to_dict()
    assert sorted(pg_tables(pg_url)) == sorted(["a_first", "money", *(f"z{i}" for i in range(5))])
    assert column_type(pg_url, "money") == "numeric(11,2)"  # the scale stays
    assert rows(pg_url, "money") == ROUNDED
    assert [str(v) for v in rows(pg_url, "money").values() if v is not None][:2] == [
        "100000000.00",
        "-100000000.00",
    ]
    warned = [w for w in result.warnings if "money.v" in w]
    assert len(warned) == 2, result.warnings
    assert "2 values need" in warned[0] and "NUMERIC(10,2)" in warned[0]
    assert "numeric(11,2)" in warned[0]
    # every value with a third decimal place was rounded by PostgreSQL: counted and said
    assert warned[1].startswith("money.v: 5 values with more decimal places than the column's")
    ledger = {(e["table"], e["column"]): e for e in result.ledger}
    assert ledger[("money", "v")]["interpreted"] == {"rounded_to_scale": 5}
    assert ledger[("money", "v")]["target_type"] == "numeric(11,2)"
    assert any("round" in note for note in ledger[("money", "v")]["lossy"])
    assert any(
        note.startswith("widened from NUMERIC(10,2) to numeric(11,2): 2 values need")
        for note in ledger[("money", "v")]["lossy"]
    ), ledger[("money", "v")]


@pytest.mark.parametrize("on_bad_value", ["reject", "null"])
def test_enforce_sends_what_overflows_after_rounding_through_on_bad_value(
    tmp_path: Path, pg_url: str, on_bad_value: str
) -> None:
    source = _rounding_source(tmp_path / "round.sqlite")
    reject_dir = tmp_path / "rj"
    result = af.migrate(
        source,
        pg_url,
        size_limits="enforce",
        on_bad_value=on_bad_value,
        reject_dir=str(reject_dir),
        batch_size=3,
    )
    assert result.errors == [], result.errors
    assert len(pg_tables(pg_url)) == 7
    assert column_type(pg_url, "money") == "numeric(10,2)"
    landed = rows(pg_url, "money")
    kept = {k: v for k, v in ROUNDED.items() if k not in (1, 2)}
    if on_bad_value == "reject":
        assert landed == kept
        records = rejects(reject_dir, "money")
        assert sorted(r["key"]["id"] for r in records) == [1, 2]
        for record in records:
            (problem,) = record["problems"]
            assert problem["column"] == "v"
            assert "numeric(10,2)" in problem["reason"], problem
            assert (
                "8 integer digits" in problem["reason"] and "2 decimal places" in problem["reason"]
            )
        assert result.rejected == [{"table": "money", "column": "v", "count": 2}]
    else:
        assert landed == {**kept, 1: None, 2: None}
        assert not reject_dir.exists() or not list(reject_dir.iterdir())
    assert any("money.v" in w and "enforce" in w for w in result.warnings), result.warnings


def test_a_numeric_chosen_by_type_map_is_enforced(tmp_path: Path, pg_url: str) -> None:
    """The user chose the size: it is kept even with the default size_limits='widen'."""
    source = _rounding_source(tmp_path / "round.sqlite")
    reject_dir = tmp_path / "rj"
    result = af.migrate(
        source,
        pg_url,
        type_mappings={"a_first.v": "numeric(3,2)", "money.v": "numeric(10,2)"},
        reject_dir=str(reject_dir),
    )
    assert result.errors == []
    assert column_type(pg_url, "money") == "numeric(10,2)"
    assert sorted(r["key"]["id"] for r in rejects(reject_dir, "money")) == [1, 2]
    assert rows(pg_url, "a_first") == {1: Decimal("1.25")}


def test_the_fast_path_checks_the_rounding_band_of_a_clean_batch(
    tmp_path: Path, pg_url: str
) -> None:
    """Every value here is a clean REAL: only the exact check of the band near the limit
    can find the ones that round past it (0.995 -> 1.00 for numeric(2,2))."""
    values = [0.995, 0.994999, 0.5, -0.995, 0.9949999999999999, 0.125]
    source = make_sqlite(
        tmp_path / "band.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v DECIMAL(2,2));",
        {"t": [(i, v) for i, v in enumerate(values, 1)]},
    )
    reject_dir = tmp_path / "rj"
    result = af.migrate(source, pg_url, size_limits="enforce", reject_dir=str(reject_dir))
    assert result.errors == []
    assert rows(pg_url, "t") == {
        2: Decimal("0.99"),
        3: Decimal("0.50"),
        5: Decimal("0.99"),
        6: Decimal("0.13"),
    }
    assert sorted(r["key"]["id"] for r in rejects(reject_dir, "t")) == [1, 4]


# --- item 10: a declared precision SQLite never enforced ----------------------------------


def test_decimal_10_5_holding_12345678_9_becomes_numeric_13_5_with_the_row_kept(
    tmp_path: Path, pg_url: str
) -> None:
    source = make_sqlite(
        tmp_path / "d.sqlite",
        "CREATE TABLE d (id INTEGER PRIMARY KEY, v DECIMAL(10,5), a TEXT, b INTEGER, c REAL);",
        {"d": [(1, 12345678.9, "kept", 7, 2.5), (2, 1.123456, "x", 8, 0.5)]},
    )
    result = af.migrate(source, pg_url)
    assert result.success and result.errors == [], result.to_dict()
    assert column_type(pg_url, "d") == "numeric(13,5)"
    assert sql(pg_url, "SELECT id, v::text, a, b, c FROM d ORDER BY id") == [
        (1, "12345678.90000", "kept", 7, 2.5),
        (2, "1.12346", "x", 8, 0.5),  # rounded to the scale, as declared
    ]
    assert any(
        "d.v" in w and "numeric(13,5)" in w and "1 value needs" in w for w in result.warnings
    )


def test_enforce_names_precision_and_scale_and_keeps_other_tables(
    tmp_path: Path, pg_url: str
) -> None:
    source = make_sqlite(
        tmp_path / "d.sqlite",
        "CREATE TABLE d (id INTEGER PRIMARY KEY, v DECIMAL(10,5), a TEXT);"
        "CREATE TABLE e (id INTEGER PRIMARY KEY, v TEXT);",
        {"d": [(1, 12345678.9, "x"), (2, 1.5, "y")], "e": [(1, "e")]},
    )
    reject_dir = tmp_path / "rj"
    result = af.migrate(source, pg_url, size_limits="enforce", reject_dir=str(reject_dir))
    assert result.errors == []
    assert sql(pg_url, "SELECT id, v::text FROM d") == [(2, "1.50000")]
    assert sql(pg_url, "SELECT v FROM e") == [("e",)]
    (record,) = rejects(reject_dir, "d")
    assert record["key"] == {"id": 1} and record["row"]["a"] == "x"
    reason = record["problems"][0]["reason"]
    assert "numeric(10,5)" in reason and "5 integer digits" in reason, reason


def test_a_declared_type_family_is_never_widened(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "i.sqlite",
        "CREATE TABLE i (id INTEGER PRIMARY KEY, v INTEGER);",
        {"i": [(1, 5), (2, "abc")]},
    )
    reject_dir = tmp_path / "rj"
    result = af.migrate(source, pg_url, reject_dir=str(reject_dir))
    assert column_type(pg_url, "i") == "bigint"
    assert sql(pg_url, "SELECT id, v FROM i") == [(1, 5)]
    assert [r["key"] for r in rejects(reject_dir, "i")] == [{"id": 2}]
    assert result.rejected == [{"table": "i", "column": "v", "count": 1}]


@pytest.mark.parametrize("dry_run", [True, False])
def test_varchar_longer_than_declared_is_rejected_under_enforce(
    tmp_path: Path, pg_url: str, dry_run: bool
) -> None:
    """Profiled (dry run) or found on the way (real run): either way the size is kept."""
    source = make_sqlite(
        tmp_path / "v.sqlite",
        "CREATE TABLE v (id INTEGER PRIMARY KEY, v VARCHAR(3));",
        {"v": [(1, "abc"), (2, "abcdef"), (3, "é  ")]},
    )
    reject_dir = tmp_path / "rj"
    result = af.migrate(
        source, pg_url, size_limits="enforce", reject_dir=str(reject_dir), dry_run=dry_run
    )
    if dry_run:
        (table,) = result.plan["tables"]  # type: ignore[index]
        assert table["columns"][1]["target_type"] == "varchar(3)"
        assert any("v.v" in w and "enforce" in w for w in result.warnings), result.warnings
        return
    assert column_type(pg_url, "v") == "character varying(3)"
    assert sql(pg_url, "SELECT id, v FROM v ORDER BY id") == [(1, "abc"), (3, "é  ")]
    (record,) = rejects(reject_dir, "v")
    assert record["key"] == {"id": 2} and "varchar(3)" in record["problems"][0]["reason"]


# --- item 2: unbounded numerics wider than any Arrow decimal ------------------------------

WIDE_VALUES = [1.5e300, 4e-320, 1.25, -7.0, 123456789012345678, 1e-300, -2.5e-10, 0.0]


def _wide_source(path: Path, rows_per_value: int = 1) -> Path:
    data = [
        (i * len(WIDE_VALUES) + k + 1, v)
        for i in range(rows_per_value)
        for k, v in enumerate(WIDE_VALUES)
    ]
    return make_sqlite(
        path,
        "CREATE TABLE w (id INTEGER PRIMARY KEY, v NUMERIC);"
        "CREATE TABLE other (id INTEGER PRIMARY KEY, v NUMERIC(5,1));",
        {"w": data, "other": [(1, 2.25)]},
    )


def _exact(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@pytest.mark.parametrize(("batch_size", "lanes"), [(65_536, 1), (2, 1), (2, 2)])
def test_unbounded_numeric_past_76_digits_migrates_exactly(
    tmp_path: Path, pg_url: str, batch_size: int, lanes: int
) -> None:
    source = _wide_source(tmp_path / "w.sqlite", rows_per_value=3)
    result = af.migrate(source, pg_url, batch_size=batch_size, lanes=lanes, workers=2)
    assert result.success and result.errors == [], result.to_dict()
    assert column_type(pg_url, "w") == "numeric"
    landed = rows(pg_url, "w")
    assert len(landed) == 3 * len(WIDE_VALUES)
    for rid, value in landed.items():
        assert value == _exact(WIDE_VALUES[(rid - 1) % len(WIDE_VALUES)]), rid
    assert landed[2] == Decimal("4E-320") and landed[1] == Decimal("1.5E+300")
    assert rows(pg_url, "other") == {1: Decimal("2.3")}
    assert not sql(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'arrowferry_stage'")
    (entry,) = [e for e in result.ledger if e["table"] == "w" and e["column"] == "v"]
    assert "server" in entry["conversion"], entry


def test_the_dry_run_shows_the_text_transport_and_plans_every_table(
    tmp_path: Path, pg_url: str
) -> None:
    source = _wide_source(tmp_path / "w.sqlite")
    result = af.migrate(source, pg_url, dry_run=True)
    assert result.errors == [], result.errors
    tables = {t["source"]: t for t in result.plan["tables"]}  # type: ignore[index]
    assert set(tables) == {"w", "other"}
    wide = tables["w"]["columns"][1]
    assert wide["target_type"] == "numeric"
    assert "text" in wide["travels_as"] and "PostgreSQL" in wide["travels_as"]
    assert tables["other"]["columns"][1]["travels_as"].startswith("decimal")
    assert pg_tables(pg_url) == []


def test_a_wide_numeric_with_bad_values_rejects_only_them(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "wb.sqlite",
        "CREATE TABLE w (id INTEGER PRIMARY KEY, v NUMERIC);",
        {"w": [(1, 1.5e300), (2, 4e-320), (3, "abc"), (4, float("inf")), (5, "12.50")]},
    )
    reject_dir = tmp_path / "rj"
    result = af.migrate(source, pg_url, reject_dir=str(reject_dir))
    assert result.errors == []
    assert rows(pg_url, "w") == {
        1: Decimal("1.5E+300"),
        2: Decimal("4E-320"),
        5: Decimal("12.5"),  # NUMERIC affinity stored the REAL 12.5
    }
    assert sorted(r["key"]["id"] for r in rejects(reject_dir, "w")) == [3, 4]


def test_a_widened_numeric_past_76_digits_also_travels_as_text(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "big.sqlite",
        "CREATE TABLE b (id INTEGER PRIMARY KEY, v NUMERIC(10,2));",
        {"b": [(1, 1.5e300), (2, 12.345), (3, -0.005)]},
    )
    result = af.migrate(source, pg_url)
    assert result.errors == [], result.errors
    assert column_type(pg_url, "b") == "numeric(303,2)"
    assert rows(pg_url, "b") == {
        1: Decimal("1.5E+300"),
        2: Decimal("12.35"),
        3: Decimal("-0.01"),  # half away from zero
    }


# --- one table's problem is that table's error --------------------------------------------


def test_a_table_that_cannot_be_planned_fails_alone(tmp_path: Path, pg_url: str) -> None:
    long = "c" * 70
    source = make_sqlite(
        tmp_path / "p.sqlite",
        f'CREATE TABLE bad (id INTEGER PRIMARY KEY, "{long}a" TEXT, "{long}b" TEXT);'
        "CREATE TABLE good (id INTEGER PRIMARY KEY, v NUMERIC);",
        {"bad": [(1, "x", "y")], "good": [(1, 1.5e300), (2, 4e-320)]},
    )
    plan = af.migrate(source, pg_url, dry_run=True)
    assert [t["source"] for t in plan.plan["tables"]] == ["good"]  # type: ignore[index]
    assert [e.table for e in plan.errors] == ["bad"]
    assert [f["table"] for f in plan.plan["failed"]] == ["bad"]  # type: ignore[index]
    result = af.migrate(source, pg_url, continue_on_error=True)
    assert pg_tables(pg_url) == ["good"]
    assert rows(pg_url, "good") == {1: Decimal("1.5E+300"), 2: Decimal("4E-320")}
    (error,) = result.errors
    assert error.table == "bad" and "63" in error.message and not error.fatal
    assert result.success is False


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_size_limits_flag(tmp_path: Path, pg_url: str) -> None:
    source = _rounding_source(tmp_path / "round.sqlite")
    reject_dir = tmp_path / "rj"
    outcome = CliRunner().invoke(
        cli_main,
        [
            "migrate",
            str(source),
            pg_url,
            "--size-limits",
            "enforce",
            "--reject-dir",
            str(reject_dir),
            "--json",
        ],
    )
    assert outcome.exit_code == 1, outcome.output
    out = json.loads(outcome.stdout)
    assert out["rejected"] == [{"table": "money", "column": "v", "count": 2}]
    bad = CliRunner().invoke(cli_main, ["migrate", str(source), pg_url, "--size-limits", "never"])
    assert bad.exit_code == 2


def test_size_limits_is_checked() -> None:
    with pytest.raises(af.BadInputError, match="--size-limits must be"):
        af.MigrationOptions(size_limits="sometimes")  # type: ignore[arg-type]


# --- done when: one such value in every table, every table migrates -----------------------

KINDS = [
    ("NUMERIC(10,2)", 99999999.995, 2),  # overflows only once rounded
    ("NUMERIC", 1.5e300, None),  # with 4e-320 below: more than 76 digits apart
    ("DECIMAL(10,5)", 12345678.9, 5),  # more integer digits than declared
]


def _dirty_source(path: Path, tables: int = 20) -> tuple[Path, dict[str, list[tuple[Any, ...]]]]:
    script, data = "", {}
    for n in range(tables):
        declared, odd, _scale = KINDS[n % len(KINDS)]
        name = f"t{n:02d}"
        script += (
            f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v {declared}, w TEXT, x INTEGER);\n"
        )
        data[name] = [
            (1, 1.5, "a", 1),
            (2, odd, "b", 2),
            (3, 4e-320 if _scale is None else -2.25, "c", 3),
        ]
    return make_sqlite(path, script, data), data


def _as_postgres_rounds(value: float, scale: int | None) -> Decimal:
    exact = Decimal(repr(value))
    if scale is None:
        return exact
    return exact.quantize(Decimal(1).scaleb(-scale), rounding="ROUND_HALF_UP")


@pytest.mark.parametrize("size_limits", ["widen", "enforce"])
def test_a_dirty_database_with_one_such_value_in_every_table_migrates_every_table(
    tmp_path: Path, pg_url: str, size_limits: str
) -> None:
    source, data = _dirty_source(tmp_path / "dirty.sqlite")
    reject_dir = tmp_path / "rj"
    limits = {"size_limits": size_limits} if size_limits == "enforce" else {}  # widen: default
    result = af.migrate(  # no continue_on_error: nothing may stop the run
        source, pg_url, reject_dir=str(reject_dir), batch_size=2, **limits
    )
    assert result.errors == [], result.errors
    assert sorted(pg_tables(pg_url)) == sorted(data)
    assert sorted(t.name for t in result.tables) == sorted(data)
    for n, (name, table_rows) in enumerate(sorted(data.items())):
        declared, _odd, scale = KINDS[n % len(KINDS)]
        fits_declared = declared == "NUMERIC"
        landed = {
            rid: (None if v is None else Decimal(v), w, x)
            for rid, v, w, x in sql(pg_url, f"SELECT id, v::text, w, x FROM {name} ORDER BY id")
        }
        expected = {rid: (_as_postgres_rounds(v, scale), w, x) for rid, v, w, x in table_rows}
        if size_limits == "enforce" and not fits_declared:
            (record,) = rejects(reject_dir, name)
            assert record["key"] == {"id": 2} and record["row"]["w"] == "b"
            assert "integer digits" in record["problems"][0]["reason"]
            del expected[2]
        else:
            assert not rejects(reject_dir, name)
        assert landed == expected, name
        if size_limits == "widen" and not fits_declared:
            assert any(f"{name}.v" in w and "it becomes numeric(" in w for w in result.warnings)
    assert result.success is (size_limits == "widen")


def test_wide_numerics_append_into_an_existing_table(tmp_path: Path, pg_url: str) -> None:
    """data_only: the staging table takes the existing table's shape, its column as text."""
    source = _wide_source(tmp_path / "w.sqlite")
    sql(pg_url, "CREATE TABLE w (id bigint PRIMARY KEY, v numeric NOT NULL)")
    sql(pg_url, "CREATE TABLE other (id bigint, v numeric(5,1))")
    sql(pg_url, "INSERT INTO w VALUES (0, 42)")
    result = af.migrate(source, pg_url, data_only=True)
    assert result.errors == [], result.errors
    landed = rows(pg_url, "w")
    assert landed.pop(0) == Decimal(42)
    assert landed == {k + 1: _exact(v) for k, v in enumerate(WIDE_VALUES)}


def test_data_only_keeps_the_existing_tables_sizes(tmp_path: Path, pg_url: str) -> None:
    """An existing table cannot be widened: what does not fit is a bad value, not a
    failed table."""
    source = _rounding_source(tmp_path / "round.sqlite")
    for name in ("a_first", "money", *(f"z{i}" for i in range(5))):
        extra = ", note text" if name == "money" else ""
        kind = "bigint" if name.startswith("z") else "numeric(10,2)"
        sql(pg_url, f"CREATE TABLE {name} (id bigint, v {kind}{extra})")
    reject_dir = tmp_path / "rj"
    result = af.migrate(source, pg_url, data_only=True, reject_dir=str(reject_dir))
    assert result.errors == [], result.errors
    assert rows(pg_url, "money") == {k: v for k, v in ROUNDED.items() if k not in (1, 2)}
    assert sorted(r["key"]["id"] for r in rejects(reject_dir, "money")) == [1, 2]


def test_data_only_follows_the_existing_columns_sizes_not_sqlites(
    tmp_path: Path, pg_url: str
) -> None:
    """Into an existing table a value must fit the target column, not the size SQLite
    declared: text and numeric there hold what varchar(3) and numeric(5,2) would not."""
    source = make_sqlite(
        tmp_path / "t.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v varchar(3), n numeric(5,2));"
        "INSERT INTO t VALUES (1, 'abcdef', 123456.5), (2, 'ab', 1.25);",
    )
    sql(pg_url, "CREATE TABLE t (id bigint, v text, n numeric)")
    for policy in ("null", "reject"):
        sql(pg_url, "TRUNCATE t")
        result = af.migrate(
            source, pg_url, data_only=True, on_bad_value=policy, reject_dir=str(tmp_path / "rj")
        )
        assert result.success and result.rows_rejected == 0, result.to_dict()
        assert sql(pg_url, "SELECT id, v, n::text FROM t ORDER BY id") == [
            (1, "abcdef", "123456.5"),
            (2, "ab", "1.25"),
        ]
    # a narrower existing column is what a value must fit: the rest are bad values
    sql(pg_url, "DROP TABLE t")
    sql(pg_url, "CREATE TABLE t (id bigint, v varchar(4), n numeric(4,1))")
    result = af.migrate(source, pg_url, data_only=True, reject_dir=str(tmp_path / "rj2"))
    assert result.errors == [] and result.rows_rejected == 1, result.to_dict()
    assert sql(pg_url, "SELECT id, v, n::text FROM t ORDER BY id") == [(2, "ab", "1.3")]
