"""Your own change to a column's values on the way (``transforms``, ``--transform``).

Each test compares the values that arrive with the values the transform should give,
computed here from the source's rows, in both directions; a transform whose result the
column's type cannot hold sends the row through the bad-value policy, naming the
transform and what it gave; and a name or expression that does not fit is refused before
anything is written.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import arrowferry as af
from arrowferry.errors import BadInputError
from tests.conftest import make_sqlite, pg_tables, sql

PEOPLE = [
    (1, "Ada@Example.COM", "Ada", "Lovelace", 1, "12"),
    (2, "alan@example.com", "Alan", "Turing", 0, "07"),
    (3, None, "Grace", "Hopper", 1, "x9"),
    (4, "EDSGER@EXAMPLE.COM", "Edsger", "Dijkstra", 0, None),
]


def _source(path: Path) -> Path:
    return make_sqlite(
        path,
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first TEXT NOT NULL, "
        "last TEXT NOT NULL, active BOOLEAN, code TEXT, score INTEGER);",
        {"people": [(*p, None) for p in PEOPLE]},
    )


def test_sql_and_polars_transforms_into_postgresql(pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path / "app.db")
    result = af.migrate(
        source,
        pg_url,
        transforms={
            "people.email": "lower(email)",
            "people.last": pl.col("first") + pl.lit(" ") + pl.col("last"),  # reads another
            "people.active": ~pl.col("active"),  # the boolean it became, not SQLite's 0/1
        },
    )
    assert result.success, result.to_dict()
    got = sql(pg_url, "SELECT id, email, last, active FROM people ORDER BY id")
    want = [(i, e.lower() if e else None, f"{f} {s}", not bool(a)) for i, e, f, s, a, _ in PEOPLE]
    assert [tuple(r) for r in got] == want
    ledger = {e["column"]: e for e in result.ledger if e["table"] == "people"}
    assert any("lower(email)" in note for note in ledger["email"]["lossy"])
    # verify knows what was changed on purpose; a plain verify sees the changes
    checked = af.Migration(
        source,
        pg_url,
        transforms={
            "people.email": "lower(email)",
            "people.last": pl.col("first") + pl.lit(" ") + pl.col("last"),
            "people.active": ~pl.col("active"),
        },
    ).verify()
    assert checked.ok and checked.tables[0].left_out == ["email", "last", "active"]
    plain = af.verify(source, pg_url)
    assert not plain.ok and set(plain.tables[0].columns) == {"email", "last", "active"}


def test_what_the_type_cannot_hold_goes_through_the_policy(pg_url: str, tmp_path: Path) -> None:
    """Text into an integer column: '12' and '07' are numbers, 'x9' is not (its row is
    rejected, named with the transform and what it gave); NULL in a NOT NULL column too."""
    source = _source(tmp_path / "app.db")
    rejects = tmp_path / "rejects"
    result = af.migrate(
        source,
        pg_url,
        transforms={
            "people.score": "code",
            "people.first": "CASE WHEN id = 4 THEN NULL ELSE first END",
        },
        reject_dir=rejects,
    )
    assert not result.success and result.rows_rejected == 2
    assert [tuple(r) for r in sql(pg_url, "SELECT id, score FROM people ORDER BY id")] == [
        (1, 12),
        (2, 7),
    ]
    lines = [json.loads(x) for x in (rejects / "people.jsonl").read_text().splitlines()]
    assert [x["rowid"] for x in lines] == [3, 4]
    (bad_code,) = lines[0]["problems"]
    assert bad_code["column"] == "score" and "gave 'x9'" in bad_code["reason"]
    assert lines[0]["row"]["code"] == "x9"  # the row as the source holds it
    (null_first,) = [p for p in lines[1]["problems"] if p["column"] == "first"]
    assert "gave NULL, and the column is NOT NULL" in null_first["reason"]

    failed = af.migrate(
        source, pg_url, drop_tables=True, transforms={"people.score": "code"}, on_bad_value="fail"
    )
    (error,) = failed.errors
    assert "column 'score', row 3: the transform code gave 'x9', which cannot" in error.message
    assert af.migrate(
        source, pg_url, drop_tables=True, transforms={"people.score": "code"}, on_bad_value="null"
    ).success
    assert [r[0] for r in sql(pg_url, "SELECT score FROM people ORDER BY id")] == [
        12,
        7,
        None,
        None,
    ]


def test_postgresql_into_sqlite(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(10,2), note text)")
    sql(pg_url, "INSERT INTO t VALUES (1, 10.25, 'a'), (2, -3.50, NULL), (3, NULL, 'c')")
    back = tmp_path / "back.db"
    result = af.migrate(
        pg_url,
        back,
        # numeric travels to SQLite as its exact text; the transform computes in doubles
        transforms={
            "t.note": "coalesce(upper(note), '?')",
            "t.amount": pl.col("amount").cast(pl.Float64) * 2,
        },
    )
    assert result.success, result.to_dict()
    with sqlite3.connect(back) as conn:
        rows = conn.execute("SELECT id, amount, note FROM t ORDER BY id").fetchall()
    assert rows == [(1, 20.5, "A"), (2, -7.0, "?"), (3, None, "C")]


def test_a_failing_expression_names_the_table_and_what_it_read(pg_url: str, tmp_path: Path) -> None:
    sql(pg_url, "CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(10,2))")
    sql(pg_url, "INSERT INTO t VALUES (1, 10.25)")
    result = af.migrate(pg_url, tmp_path / "back.db", transforms={"t.amount": pl.col("amount") * 2})
    (error,) = result.errors
    assert error.table == "t" and "a transform failed (amount:" in error.message
    assert "arrive as amount (String)" in error.message, error.message
    assert not (tmp_path / "back.db").exists()  # nothing that looks complete


def test_data_only_into_a_schema_made_beforehand(pg_url: str, tmp_path: Path) -> None:
    """Into the application's own table (varchar(40), its own names' case): the transform
    runs on the rows and its result is held to the target's column."""
    source = _source(tmp_path / "app.db")
    sql(
        pg_url,
        "CREATE TABLE people (id bigint PRIMARY KEY, email varchar(40), first text NOT NULL, "
        "last text NOT NULL, active boolean, code text, score integer)",
    )
    result = af.migrate(
        source, pg_url, data_only=True, transforms={"people.email": "coalesce(email, 'none')"}
    )
    assert result.success, result.to_dict()
    assert [r[0] for r in sql(pg_url, "SELECT email FROM people ORDER BY id")] == [
        "Ada@Example.COM",
        "alan@example.com",
        "none",
        "EDSGER@EXAMPLE.COM",
    ]


def test_incremental_runs_transform_the_rows_they_move(pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path / "app.db")
    given = {"people.email": "lower(email)"}
    assert af.migrate(source, pg_url, transforms=given).success
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO people VALUES (5, 'NEW@X.ORG', 'N', 'N', 1, NULL, NULL)")
        conn.execute("UPDATE people SET email = 'ALAN@TURING.ORG' WHERE id = 2")
    result = af.migrate(source, pg_url, mode="incremental", transforms=given)
    assert result.success, result.to_dict()
    # id 2 changed without a cursor: an append-only key mark moves only the new row
    assert sql(pg_url, "SELECT email FROM people WHERE id = 5") == [("new@x.org",)]


@pytest.mark.parametrize(
    ("transforms", "message"),
    [
        ({"peeple.email": "lower(email)"}, "no table 'peeple' (did you mean 'people'?)"),
        ({"people.emial": "lower(email)"}, "no column 'emial' (did you mean 'email'?)"),
        ({"people.email": "lower(mail)"}, "reads 'mail', which table 'people' does not have"),
        ({"people.email": "lower(email"}, "is no SQL expression Polars reads"),
        ({"email": "lower(email)"}, "expected TABLE.COLUMN"),
        ({"people.email": 3}, "expected a Polars expression or a SQL expression string"),
    ],
)
def test_bad_transforms_are_refused_before_anything_is_written(
    pg_url: str, tmp_path: Path, transforms: dict[str, object], message: str
) -> None:
    source = _source(tmp_path / "app.db")
    with pytest.raises(BadInputError, match=re.escape(message)):
        af.migrate(source, pg_url, transforms=transforms)
    assert pg_tables(pg_url) == []


MASK = (
    "CASE WHEN email IS NULL THEN NULL ELSE 'user' || CAST(id AS VARCHAR) || '@example.invalid' END"
)


def test_a_postgresql_copy_masks_what_it_is_told(pg_url: str, tmp_path: Path) -> None:
    """A copy of a PostgreSQL database into another schema (prod into staging, its emails
    masked): the transformed columns change, every other value goes as stored, and a value
    the transform cannot give goes through the policy as in any run. Between two SQLite
    files transforms are refused: values move with their storage classes, text as bytes."""
    source = _source(tmp_path / "app.db")
    with pytest.raises(BadInputError, match="two SQLite files"):
        af.migrate(source, tmp_path / "copy.db", transforms={"people.email": "lower(email)"})
    assert not (tmp_path / "copy.db").exists()
    assert af.migrate(source, pg_url).success
    sql(pg_url, "CREATE SCHEMA staging")
    masked = af.migrate(
        pg_url,
        pg_url,
        target_schema="staging",
        transforms={
            "people.email": MASK,
            "people.first": "CASE WHEN id = 4 THEN NULL ELSE first END",
        },
        reject_dir=tmp_path / "rejects",
    )
    assert masked.rows_rejected == 1  # first is NOT NULL: the row goes to the reject file
    got = sql(pg_url, "SELECT id, email, last FROM staging.people ORDER BY id")
    want = sql(
        pg_url,
        "SELECT id, CASE WHEN email IS NULL THEN NULL ELSE 'user' || id || '@example.invalid' "
        "END, last FROM public.people WHERE id <> 4 ORDER BY id",
    )
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    line = json.loads((tmp_path / "rejects" / "people.jsonl").read_text().splitlines()[0])
    assert line["key"] == {"id": 4} and "gave NULL" in line["problems"][0]["reason"]


def test_cli_and_config_file(pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path / "app.db")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "arrowferry",
            "migrate",
            str(source),
            pg_url,
            "--verify",
            "--transform",
            "people.email=lower(email)",
            "--transform",
            "people.code=coalesce(code, 'none')",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "email, code not compared: left out on purpose" in run.stdout
    assert sql(pg_url, "SELECT code FROM people ORDER BY id") == [
        ("12",),
        ("07",),
        ("x9",),
        ("none",),
    ]

    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "arrowferry",
            "migrate",
            str(source),
            pg_url,
            "--drop-tables",
            "--transform",
            "people.email",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "expected TABLE.COLUMN=SQL_EXPRESSION" in bad.stderr + bad.stdout

    config = tmp_path / "migration.toml"
    config.write_text(
        f'source = "{source}"\ntarget = "{pg_url}"\n[options]\ndrop_tables = true\n'
        '[transforms]\n"people.email" = "upper(email)"\n'
    )
    assert af.Migration(config=config).migrate().success
    assert sql(pg_url, "SELECT email FROM people WHERE id = 2") == [("ALAN@EXAMPLE.COM",)]
