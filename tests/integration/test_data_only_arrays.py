"""JSON text into an application's PostgreSQL arrays of any element type and dimension.

The one-dimensional arrays of integers, floats, booleans and text travel as Arrow lists;
every other array (more than one dimension, uuid, timestamptz, numeric, an enum,
varchar(n), inet...) travels as PostgreSQL array text the server casts, its elements
checked by their own kernels first. Values are compared as PostgreSQL returns them, a
bad value is predicted by the dry run and rejected with its row, and a random nested
array comes back as the JSON it was written as.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arrowferry as af
from tests.conftest import make_sqlite, sql

SQLITE = """
CREATE TABLE things (id INTEGER PRIMARY KEY, grid TEXT, ids TEXT, seen TEXT, roles TEXT,
  prices TEXT, codes TEXT, hosts TEXT, cube TEXT, short TEXT);
"""

PG = """
CREATE TYPE role AS ENUM ('admin', 'member');
CREATE TABLE things (
  id bigint PRIMARY KEY, grid integer[][], ids uuid[], seen timestamptz[], roles role[],
  prices numeric(6,2)[], codes varchar(3)[][], hosts inet[], cube smallint[][][],
  short varchar(3)[]);
"""

U1 = "5b6f9a57-6f2b-4a49-9c2f-0f3f0e6e6a11"
U2 = "6B6F9A576F2B4A499C2F0F3F0E6E6A12"

GOOD = [
    (
        1,
        "[[1, 2], [3, -4]]",
        f'["{U1}", "{U2}", null]',
        '["2024-01-02 03:04:05", "2024-01-02T03:04:05.5+02:00"]',
        '["admin", "member"]',
        '[12.5, "0.1", -9999.99]',
        '[["a\\"b", "c,d"], ["{x}", null]]',
        '["10.0.0.1", "::1"]',
        "[[[1], [2]], [[3], [4]]]",
        '["abc", "é"]',
    ),
    (2, "[]", "[]", "null", "[]", "[]", "[]", "[]", "[]", "[]"),
    (3, None, None, None, None, None, None, None, None, None),
]

# one bad value per column, each in its own row; the row's other columns are good
BAD_VALUES = {
    "grid": "[[1, 2], [3]]",  # not rectangular
    "ids": '["not-a-uuid"]',
    "seen": '["yesterday"]',
    "roles": '["superuser"]',  # not a label of the enum
    "prices": "[12345.67]",  # past numeric(6,2)
    "codes": '[["toolong"]]',  # past varchar(3)
    "cube": "[[[1, 2]], [[3, 70000]]]",  # past smallint
    "short": '["abcd"]',  # one dimension, past varchar(3): not left to the server
}
COLUMNS = ["grid", "ids", "seen", "roles", "prices", "codes", "hosts", "cube", "short"]


def _target(pg_url: str) -> None:
    for statement in PG.split(";"):
        if statement.strip():
            sql(pg_url, statement)


def test_arrays_of_any_element_type_and_dimension(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(tmp_path / "app.db", SQLITE, {"things": GOOD})
    _target(pg_url)
    result = af.migrate(source, pg_url, data_only=True)
    assert result.success, (result.errors, result.warnings)
    # as PostgreSQL writes them (the test's ADBC connection would flatten a 2-D array)
    texts = ", ".join(f"{c}::text" for c in COLUMNS)
    rows = sql(pg_url, f"SELECT id, {texts} FROM things ORDER BY id")
    assert rows[0][:3] + rows[0][4:] == (  # seen (timestamptz[]) below, in UTC
        1,
        "{{1,2},{3,-4}}",
        f"{{{U1},{UUID(U2)},NULL}}",
        "{admin,member}",
        "{12.50,0.10,-9999.99}",
        '{{"a\\"b","c,d"},{"{x}",NULL}}',
        "{10.0.0.1,::1}",
        "{{{1},{2}},{{3},{4}}}",
        "{abc,é}",
    )
    # no offset: UTC, as in a full migration; an offset is converted
    assert sql(
        pg_url,
        "SELECT seen[1] AT TIME ZONE 'UTC', seen[2] AT TIME ZONE 'UTC' FROM things WHERE id = 1",
    ) == [(datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 1, 4, 5, 500000))]
    # '[]' is the empty array; JSON null and SQL NULL are NULL
    assert rows[1] == (2, "{}", "{}", None, "{}", "{}", "{}", "{}", "{}", "{}")
    assert rows[2] == (3, *([None] * len(COLUMNS)))
    plan = af.migrate(source, pg_url, data_only=True, dry_run=True).plan
    assert plan is not None
    travels = {c["name"]: c for t in plan["tables"] for c in t["columns"]}
    assert travels["grid"]["lossy"] == [
        "sent as PostgreSQL array text, cast to integer[] (declared with 2 dimensions) by PostgreSQL"
    ]
    assert "not a label of role" in " ".join(travels["roles"]["lossy"])


def test_bad_elements_are_predicted_then_rejected_with_their_rows(
    tmp_path: Path, pg_url: str
) -> None:
    rows: list[tuple[Any, ...]] = list(GOOD)
    for n, (column, value) in enumerate(BAD_VALUES.items(), start=10):
        good = dict(zip(["id", *COLUMNS], GOOD[0], strict=True))
        rows.append(tuple({**good, "id": n, column: value}.values()))
    source = make_sqlite(tmp_path / "bad.db", SQLITE, {"things": rows})
    _target(pg_url)

    dry = af.migrate(source, pg_url, data_only=True, dry_run=True)
    assert dry.plan is not None
    predicted = {
        c["name"]: c["misfits"]["count"]
        for t in dry.plan["tables"]
        for c in t["columns"]
        if "misfits" in c
    }
    assert predicted == dict.fromkeys(BAD_VALUES, 1)
    assert sql(pg_url, "SELECT count(*) FROM things") == [(0,)]

    run = af.migrate(source, pg_url, data_only=True, reject_dir=tmp_path / "rejects")
    assert not run.success and run.rows_rejected == len(BAD_VALUES)
    lines = (tmp_path / "rejects" / "things.jsonl").read_text().splitlines()
    rejected = {json.loads(line)["problems"][0]["column"] for line in lines}
    assert rejected == set(BAD_VALUES)
    # the good rows are in, whole; no bad row is
    assert sql(pg_url, "SELECT id FROM things ORDER BY id") == [(1,), (2,), (3,)]
    assert sql(pg_url, "SELECT grid::text, codes::text FROM things WHERE id = 1") == [
        ("{{1,2},{3,-4}}", '{{"a\\"b","c,d"},{"{x}",NULL}}')
    ]


_texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6
)


@st.composite
def _grids(draw: st.DrawFn, leaf: st.SearchStrategy[Any]) -> list[Any]:
    """A rectangular nested array, 1 to 3 levels, no empty sub-array."""
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))

    def build(level: int) -> list[Any]:
        return [
            build(level + 1) if level + 1 < len(shape) else draw(st.none() | leaf)
            for _ in range(shape[level])
        ]

    return build(0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grids=st.lists(_grids(st.integers(-(2**31), 2**31 - 1)), min_size=1, max_size=5),
    words=st.lists(_grids(_texts), min_size=1, max_size=5),
)
def test_random_nested_arrays_come_back_as_written(
    tmp_path: Path, pg_url: str, grids: list[Any], words: list[Any]
) -> None:
    n = min(len(grids), len(words))
    rows = [
        (i, json.dumps(grids[i]), json.dumps(words[i], ensure_ascii=i % 2 == 0)) for i in range(n)
    ]
    path = tmp_path / "h.db"
    path.unlink(missing_ok=True)  # hypothesis reuses the test's tmp_path
    source = make_sqlite(
        path, "CREATE TABLE h (id INTEGER PRIMARY KEY, g TEXT, w TEXT);", {"h": rows}
    )
    sql(pg_url, "DROP TABLE IF EXISTS h")
    sql(pg_url, "CREATE TABLE h (id int PRIMARY KEY, g integer[][], w text[][])")
    result = af.migrate(source, pg_url, data_only=True)
    assert result.success, result.errors
    got = sql(
        pg_url, "SELECT id, array_to_json(g)::text, array_to_json(w)::text FROM h ORDER BY id"
    )
    assert [(i, json.loads(g), json.loads(w)) for i, g, w in got] == [
        (i, grids[i], words[i]) for i in range(n)
    ]
