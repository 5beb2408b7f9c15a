"""The PostgreSQL -> PostgreSQL test material proves itself before the engine exists.

The every-type schema (``_pg_fixture``) is built once in database A. A copy made by
PostgreSQL itself (``CREATE DATABASE ... TEMPLATE`` with the schema renamed, and
``pg_dump -Fc | pg_restore``) must compare equal with ``assert_same_database``; each
mutation of a copy must be reported with a message naming what changed; a copy that drops
exactly the features of ``NOT_CARRIED`` passes with ``except_=NOT_CARRIED_KINDS`` and
fails without it.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from arrowferry.urls import parse_url
from tests.conftest import fresh_database, sql, with_database
from tests.integration._pg_fixture import (
    LANE_ROWS,
    NOT_CARRIED_KINDS,
    SCHEMA,
    build_every_type_schema,
    fixture_gaps,
)
from tests.integration._pg_same import (
    EXCEPT_KINDS,
    assert_same_database,
    database_differences,
)


@pytest.fixture(scope="module")
def source(pg_server: str) -> Iterator[str]:
    """Database A holding the every-type schema, built once for the module."""
    with fresh_database(pg_server) as url:
        build_every_type_schema(url, SCHEMA)
        yield url


@pytest.fixture(scope="module")
def small_source(pg_server: str) -> Iterator[str]:
    """The same schema with a small ``lanes`` table: copied once per mutation, so kept small."""
    with fresh_database(pg_server) as url:
        build_every_type_schema(url, SCHEMA, lane_rows=2000)
        yield url


class Copies:
    """Databases copied from A with CREATE DATABASE ... TEMPLATE, dropped at the end."""

    def __init__(self, server: str, source: str) -> None:
        self.server, self.source = server, source
        self.names: list[str] = []

    def new(self, *statements: str) -> str:
        name = f"af_test_{uuid.uuid4().hex[:12]}"
        template = parse_url(self.source).database
        sql(self.server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.names.append(name)
        url = with_database(self.server, name)
        run(url, *statements)
        return url

    def drop_all(self) -> None:
        for name in self.names:
            sql(self.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def copies(pg_server: str, source: str) -> Iterator[Copies]:
    made = Copies(pg_server, source)
    yield made
    made.drop_all()


@pytest.fixture
def small_copies(pg_server: str, small_source: str) -> Iterator[Copies]:
    made = Copies(pg_server, small_source)
    yield made
    made.drop_all()


def run(url: str, *statements: str, schema: str = SCHEMA) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{schema}"'.encode())
        for statement in statements:
            conn.execute(statement.encode())


def rows_of(url: str, query: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{SCHEMA}"'.encode())
        return conn.execute(query.encode(), params).fetchall()


def column(url: str, query: str) -> list[object]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{SCHEMA}"'.encode())
        return [r[0] for r in conn.execute(query.encode()).fetchall()]


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{SCHEMA}"'.encode())
        row = conn.execute(query.encode()).fetchone()
        assert row is not None
        return row[0]


# --- the fixture holds what it says ------------------------------------------------------


def test_fixture_is_what_the_docstring_says(source: str) -> None:
    tables = set(
        column(
            source,
            f"SELECT relname FROM pg_class WHERE relnamespace = '{SCHEMA}'::regnamespace "
            "AND relkind IN ('r', 'p')",
        )
    )
    assert {"numbers", "arrays", "lanes", "measurements", "measurements_2024", "cars"} <= tables
    assert scalar(source, "SELECT count(*) FROM lanes") == LANE_ROWS
    # every nullable column of the type tables holds a NULL (the last row)
    assert (
        scalar(
            source,
            "SELECT numbers IS NULL FROM (SELECT i2, num, f8, m FROM numbers "
            "ORDER BY id DESC LIMIT 1) numbers",
        )
        is True
    )
    assert (
        scalar(
            source,
            "SELECT array_agg(enumlabel ORDER BY enumsortorder)::text FROM pg_enum "
            "WHERE enumtypid = 'mood'::regtype",
        )
        == "{sad,meh,ok,happy}"
    )
    # rows that break the NOT VALID constraints are present: validating them must fail
    with pytest.raises(psycopg.errors.CheckViolation):
        run(source, "BEGIN", "ALTER TABLE unvalidated VALIDATE CONSTRAINT unvalidated_amount_check")
    assert scalar(source, "SELECT ARRAY[last_value, is_called::int]::text FROM serials_id_seq") == (
        "{40,0}"
    )
    # what this server cannot hold is named, never silently missing
    gaps = fixture_gaps(source)
    assert all(re.match(r"(citext|xml): ", g) for g in gaps), gaps


# --- (a) copies made by PostgreSQL compare equal ------------------------------------------


def test_template_copy_with_renamed_schema_is_the_same(source: str, copies: Copies) -> None:
    copy = copies.new(f'ALTER SCHEMA "{SCHEMA}" RENAME TO "Copied Schema"')
    assert_same_database(source, SCHEMA, copy, "Copied Schema")


def _pg_tool(name: str, server_major: int) -> str:
    """The given client tool at least as new as the server (pg_dump refuses older servers)."""
    import pgserver

    candidates = [shutil.which(name), str(Path(pgserver.__file__).parent / "pginstall/bin" / name)]
    found = []
    for tool in filter(None, candidates):
        if not Path(tool).exists():
            continue
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
        version = re.search(r"\)\s*(\d+)", out.stdout)
        assert version, out.stdout
        major = int(version.group(1))
        found.append(f"{tool} ({major})")
        if major >= server_major:
            return tool
    raise AssertionError(f"no {name} for a PostgreSQL {server_major} server among {found}")


def test_dump_and_restore_is_the_same(source: str, pg_server: str, tmp_path: Path) -> None:
    major = int(str(scalar(source, "SHOW server_version_num"))) // 10000
    dump = tmp_path / "every_type.dump"
    subprocess.run(
        [_pg_tool("pg_dump", major), "-Fc", "-n", SCHEMA, "-f", str(dump), "-d", source],
        check=True,
        capture_output=True,
    )
    with fresh_database(pg_server) as restored:
        done = subprocess.run(
            [_pg_tool("pg_restore", major), "--exit-on-error", "-d", restored, str(dump)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        # a restore renumbers enum sort orders, rebuilds every index and refills the
        # matview: none of that is a difference
        assert_same_database(source, SCHEMA, restored, SCHEMA)


# --- (b) every mutation is named -----------------------------------------------------------

NEXT_AFTER_POINT_ONE = repr(math.nextafter(0.1, 1.0))  # the last bit of 0.1 flipped

MUTATIONS: dict[str, tuple[list[str], list[str]]] = {
    # name: (statements run in the copy, patterns every one of which a message must match)
    "float last bit": (
        [f"UPDATE numbers SET f8 = '{NEXT_AFTER_POINT_ONE}' WHERE id = 10"],
        [r"numbers\.f8 at row id=10: source '0\.1' != target '0\.10000000000000002'"],
    ),
    "numeric digit": (
        [
            "UPDATE numbers SET num = overlay(num::text placing '8' from 500 for 1)::numeric "
            "WHERE id = 7"
        ],
        [r"numbers\.num at row id=7: .*first difference at character 499"],
    ),
    "one element of a 3-D array": (
        ["UPDATE arrays SET a3[1][2][1] = 30 WHERE id = 1"],
        [
            r"arrays\.a3 at row id=1: source '\{\{\{1,2\},\{3,4\}\}.* != target '\{\{\{1,2\},\{30,4\}\}"
        ],
    ),
    "array lower bound": (
        ["UPDATE arrays SET a1lb = '{7,8,9}' WHERE id = 1"],
        [r"arrays\.a1lb at row id=1: source '\[-5:-3\]=\{7,8,9\}' != target '\{7,8,9\}'"],
    ),
    "timestamptz by one microsecond": (
        ["UPDATE temporal SET tstz = tstz + interval '1 microsecond' WHERE id = 4"],
        [
            r"temporal\.tstz at row id=4: source '2024-03-31 00:30:00\+00' != "
            r"target '2024-03-31 00:30:00\.000001\+00'"
        ],
    ),
    "jsonb key": (
        ["""UPDATE documents SET jb = jb - 'b' || '{"B": 1}' WHERE id = 1"""],
        [r"documents\.jb at row id=1: source '\{\"a\".*\"b\": 1\}' != target '\{\"B\": 1, "],
    ),
    "bytea NUL byte": (
        ["UPDATE texts SET by = '\\x0000' WHERE id = 2"],
        [r"texts\.by at row id=2: source '\\\\x00' != target '\\\\x0000'"],
    ),
    "trailing blank of a varchar": (
        ["UPDATE texts SET vc = 'abc' WHERE id = 1"],
        [r"texts\.vc at row id=1: source 'abc   ' != target 'abc'"],
    ),
    "row deleted": (
        ["DELETE FROM children WHERE id = 17"],
        [r"children: 30 rows in source, 29 in target", r"children: row id=17 missing in target"],
    ),
    "row added": (
        ["INSERT INTO lanes VALUES (0, 0, NULL, NULL, NULL, NULL, NULL)"],
        [r"lanes: row id=0 only in target"],
    ),
    "row with a two-column text key": (
        ["UPDATE parents SET name = 'Paris!' WHERE name = 'Paris'"],
        [
            r"parents\.name at row region='eu', code=1: source 'Paris' != target 'Paris!'",
            r"v_children: row \('2', 'eu', '1', 'Paris'.* missing in target",
        ],
    ),
    "sequence advanced": (
        ["SELECT nextval('serials_id_seq')"],
        [
            r"sequence serials_id_seq is_called: source False != target True",
            r"sequence serials_id_seq next nextval: source 40 != target 41",
        ],
    ),
    "identity sequence advanced": (
        ["SELECT setval(pg_get_serial_sequence('ident_always', 'id'), 1005)"],
        [r"sequence ident_always_id_seq last_value: source 1000 != target 1005"],
    ),
    "index dropped": (
        ["DROP INDEX texts_vc_partial_idx"],
        [
            r"index texts\.texts_vc_partial_idx: missing in target \(source: "
            r"'CREATE INDEX texts_vc_partial_idx ON texts USING btree \(vc\) WHERE b'\)"
        ],
    ),
    "index changed": (
        [
            "DROP INDEX numbers_i4_desc_idx",
            "CREATE INDEX numbers_i4_desc_idx ON numbers (i4 DESC NULLS LAST, i2 NULLS FIRST)",
        ],
        [
            r"index numbers\.numbers_i4_desc_idx: source .*i4 DESC, i2 NULLS FIRST.* != target "
            r".*i4 DESC NULLS LAST, i2 NULLS FIRST"
        ],
    ),
    "check dropped": (
        ["ALTER TABLE children DROP CONSTRAINT children_qty_note_check"],
        [
            r"constraint children\.children_qty_note_check: missing in target \(source: \('c', "
            r"'CHECK \(qty < 1000 OR note IS NOT NULL\)'\)\)"
        ],
    ),
    "not valid check validated": (
        [
            "DELETE FROM unvalidated WHERE amount < 0",
            "ALTER TABLE unvalidated VALIDATE CONSTRAINT unvalidated_amount_check",
        ],
        [
            r"constraint unvalidated\.unvalidated_amount_check: source \('c', "
            r"'CHECK \(amount > 0\) NOT VALID'\) != target \('c', 'CHECK \(amount > 0\)'\)"
        ],
    ),
    "foreign key action": (
        [
            "ALTER TABLE children DROP CONSTRAINT children_parent_fk",
            "ALTER TABLE children ADD CONSTRAINT children_parent_fk FOREIGN KEY (region, code) "
            "REFERENCES parents (region, code) ON DELETE CASCADE",
        ],
        [
            r"constraint children\.children_parent_fk: .*ON UPDATE CASCADE ON DELETE CASCADE'\) != "
            r"target \('f', 'FOREIGN KEY \(region, code\) REFERENCES parents\(region, code\) "
            r"ON DELETE CASCADE'\)"
        ],
    ),
    "comment changed": (
        ["COMMENT ON COLUMN numbers.f8 IS 'changed'"],
        [
            r"comment on column numbers\.f8: source 'doubles: -0, NaN, ±Infinity, subnormals' != "
            r"target 'changed'"
        ],
    ),
    "column type changed": (
        ["ALTER TABLE texts ALTER COLUMN vc TYPE text"],
        [r"column texts\.vc: type: source 'character varying\(10\)' != target 'text'"],
    ),
    "not null dropped": (
        ["ALTER TABLE temporal ALTER COLUMN tstz DROP NOT NULL"],
        [r"column temporal\.tstz: not null: source True != target False"],
    ),
    "default changed": (
        ["ALTER TABLE ident_always ALTER COLUMN label SET DEFAULT 'none'"],
        [r"column ident_always\.label: default: source \"'n/a'::text\" != target \"'none'::text\""],
    ),
    "identity kind changed": (
        ["ALTER TABLE ident_always ALTER COLUMN id SET GENERATED BY DEFAULT"],
        [r"column ident_always\.id: identity: source 'a' != target 'd'"],
    ),
    "enum label added": (
        ["ALTER TYPE mood ADD VALUE 'ecstatic'"],
        [
            r"enum mood: source \['sad', 'meh', 'ok', 'happy'\] != target "
            r"\['sad', 'meh', 'ok', 'happy', 'ecstatic'\]"
        ],
    ),
    "domain check changed": (
        [
            "ALTER DOMAIN email_text DROP CONSTRAINT email_text_at",
            "ALTER DOMAIN email_text ADD CONSTRAINT email_text_at CHECK (VALUE LIKE '%@%.%')",
        ],
        [
            r"domain email_text constraint email_text_at: source \"CHECK \(VALUE ~~ '%@%'::text\)\" "
            r"!= target \"CHECK \(VALUE ~~ '%@%\.%'::text\)\""
        ],
    ),
    "view redefined": (
        ["CREATE OR REPLACE VIEW v_numbers AS SELECT id, f8, r4, num, m FROM numbers WHERE id > 1"],
        [
            r"view v_numbers: definition: source .* != target .*WHERE id > 1",
            r"v_numbers: 25 rows in source, 24 in target",
        ],
    ),
    "matview refreshed on other rows": (
        [
            "UPDATE children SET qty = qty + 1 WHERE id = 1",
            "REFRESH MATERIALIZED VIEW mv_children_totals",
        ],
        [
            r"mv_children_totals: row \('eu', '2', '\d+', '\d+'\) missing in target",
            r"mv_children_totals: row \('eu', '2', '\d+', '\d+'\) only in target",
        ],
    ),
    "matview populated": (
        ["REFRESH MATERIALIZED VIEW mv_unpopulated"],
        [r"materialized view mv_unpopulated: populated: source False != target True"],
    ),
    "inherited rows read into the parent": (
        ["INSERT INTO vehicles SELECT id, name FROM cars"],
        [r"vehicles: row id=101 only in target"],
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_named(name: str, small_source: str, small_copies: Copies) -> None:
    statements, patterns = MUTATIONS[name]
    copy = small_copies.new(*statements)
    with pytest.raises(AssertionError) as raised:
        assert_same_database(small_source, SCHEMA, copy, SCHEMA, show=100)
    message = str(raised.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{name}: no message matches {pattern!r}:\n{message}"


# --- what the neutral model cannot carry ------------------------------------------------

# What a copy that warns about NOT_CARRIED leaves in the target: the tables and all their
# rows, none of the features.
DROP_NOT_CARRIED = [
    "DROP FUNCTION touch_updated_at() CASCADE",  # and the trigger
    "DROP POLICY secured_owner ON secured",
    "ALTER TABLE secured DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap",
    "CREATE TABLE measurements_flat (id bigint NOT NULL, at date NOT NULL, v double precision)",
    "INSERT INTO measurements_flat SELECT * FROM measurements",
    "DROP TABLE measurements",
    "ALTER TABLE measurements_flat RENAME TO measurements",
    "ALTER TABLE measurements ADD CONSTRAINT measurements_pkey PRIMARY KEY (id, at)",
    "ALTER TABLE cars NO INHERIT vehicles",
    "ALTER TABLE boxes ALTER COLUMN area DROP EXPRESSION",
]


def test_not_carried_features_pass_only_when_excepted(
    small_source: str, small_copies: Copies
) -> None:
    assert NOT_CARRIED_KINDS == EXCEPT_KINDS
    copy = small_copies.new(*DROP_NOT_CARRIED)
    assert_same_database(small_source, SCHEMA, copy, SCHEMA, except_=NOT_CARRIED_KINDS)
    diffs = "\n".join(database_differences(small_source, SCHEMA, copy, SCHEMA))
    for pattern in (
        r"trigger audited\.audited_touch: missing in target",
        r"function touch_updated_at\(\): missing in target",
        r"policy secured\.secured_owner: missing in target",
        r"table secured: row security \(enabled, forced\): source \(True, False\)",
        r"constraint bookings\.bookings_no_overlap: missing in target",
        r"index bookings\.bookings_no_overlap: missing in target",
        r"table measurements: relkind: source 'p' != target 'r'",
        r"table measurements: partition key: source 'RANGE \(at\)' != target None",
        r"table measurements_2023: missing in target",
        r"table cars: inherits from: source \('vehicles',\) != target \(\)",
        r"column boxes\.area: generated: source 's' != target ''",
    ):
        assert re.search(pattern, diffs), f"no message matches {pattern!r}; got:\n{diffs}"


def test_excepted_kinds_still_compare_rows(small_source: str, small_copies: Copies) -> None:
    copy = small_copies.new(
        *DROP_NOT_CARRIED,
        "DELETE FROM measurements WHERE id = 40",  # the flat table lost a partition's row
        "UPDATE boxes SET area = 0 WHERE id = 3",
        "DELETE FROM cars WHERE id = 101",
    )
    diffs = database_differences(small_source, SCHEMA, copy, SCHEMA, except_=NOT_CARRIED_KINDS)
    text = "\n".join(diffs)
    for pattern in (
        r"measurements: row id=40, at='2024-.*' missing in target",
        r"boxes\.area at row id=3: source '\d+\.\d+' != target '0'",
        r"cars: row id=101 missing in target",
    ):
        assert re.search(pattern, text), f"no message matches {pattern!r}; got:\n{text}"


def test_unknown_except_kind_is_refused(small_source: str) -> None:
    with pytest.raises(ValueError, match="unknown except_ kinds"):
        database_differences(small_source, SCHEMA, small_source, SCHEMA, except_={"trigger"})


# --- nothing is left out of the comparison ------------------------------------------------


def test_every_column_of_every_table_is_compared(small_source: str, small_copies: Copies) -> None:
    """Each non-NULL value of each table's first row, set to NULL in the copy, is named."""
    columns = rows_of(
        small_source,
        """SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'
             AND a.attnum > 0 AND NOT a.attisdropped AND NOT a.attnotnull
             AND a.attgenerated = '' AND a.attname <> 'id'
             AND EXISTS (SELECT FROM pg_attribute k WHERE k.attrelid = c.oid AND k.attname = 'id')""",
        [SCHEMA],
    )
    targets = []  # (table, column, id of the table's first row)
    for table, col in columns:
        first = scalar(small_source, f'SELECT min(id) FROM ONLY "{table}"')
        if scalar(
            small_source, f'SELECT "{col}" IS NOT NULL FROM ONLY "{table}" WHERE id = {first}'
        ):
            targets.append((table, col, first))
    assert len(targets) >= 100, targets  # the 87 nullable type columns, and the others
    copy = small_copies.new(
        "SET session_replication_role = replica",  # no FK action, no trigger: just the value
        *(f'UPDATE ONLY "{t}" SET "{c}" = NULL WHERE id = {i}' for t, c, i in targets),
    )
    diffs = database_differences(small_source, SCHEMA, copy, SCHEMA, per_table=100)
    missed = [
        f"{t}.{c}"
        for t, c, i in targets
        # the partitions' key is (id, at)
        if not any(re.match(rf"{t}\.{c} at row id={i}[,:].* != target None$", d) for d in diffs)
    ]
    assert not missed, f"not reported: {missed}"


def test_every_relation_is_compared_row_by_row(small_source: str, small_copies: Copies) -> None:
    """Every table emptied in the copy (the matview too) is named with both row counts."""
    counts = {
        str(name): int(str(scalar(small_source, f'SELECT count(*) FROM ONLY "{name}"')))
        for (name,) in rows_of(
            small_source,
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace "
            "AND relkind IN ('r', 'm') AND relispopulated",
            [SCHEMA],
        )
    }
    names = ", ".join(f'"{n}"' for n in counts if n != "mv_children_totals")
    copy = small_copies.new(
        f"TRUNCATE {names} CASCADE",
        "REFRESH MATERIALIZED VIEW mv_children_totals",
    )
    diffs = database_differences(small_source, SCHEMA, copy, SCHEMA)
    for name, count in counts.items():
        assert count > 0, f"{name} is empty in the fixture"
        assert f"{name}: {count} rows in source, 0 in target" in diffs, (name, diffs[:20])
    for view in ("v_children", "v_children_big", "v_numbers"):
        assert any(
            d.startswith(f"{view}: ") and d.endswith(" in source, 0 in target") for d in diffs
        )


# --- names psycopg could take for placeholders ------------------------------------------------

PERCENT = ["$1 ? %s %(x)s :name", "50%"]


def test_names_with_percent_signs_are_compared(pg_server: str) -> None:
    """psycopg reads a ``%s`` in a query with parameters as a placeholder: a table, a column
    and an identity sequence so named compare like any other, and a difference in them is
    found."""

    def build(url: str, value: str) -> None:
        for name in PERCENT:
            q = '"' + name + '"'
            sql(
                url, f"CREATE TABLE {q} (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {q} text)"
            )
            sql(url, f"INSERT INTO {q} ({q}) VALUES ('{value}')")

    with fresh_database(pg_server) as a, fresh_database(pg_server) as b:
        build(a, "same")
        build(b, "same")
        assert_same_database(a, "public", b, "public")
        sql(b, 'UPDATE "50%" SET "50%" = \'changed\'')
        diffs = database_differences(a, "public", b, "public")
        assert diffs == ["50%.50% at row id=1: source 'same' != target 'changed'"], diffs
