"""Constraints the SQLite source declared but never enforced (issue 3, must-have 5).

The source holds rows that violate its own declarations:

* orphaned foreign keys, inserted with ``PRAGMA foreign_keys=OFF`` (SQLite's default);
* NULLs in a TEXT PRIMARY KEY (and in a composite one): SQLite allows them outside
  INTEGER PRIMARY KEY / WITHOUT ROWID tables;
* duplicate keys under a declared UNIQUE column, a declared TEXT PRIMARY KEY and a
  ``CREATE UNIQUE INDEX``. SQLite refuses to insert those, so the file is made the way
  old or damaged files come to be: the table is created without the constraint, the
  duplicates inserted, a plain index built on the key column(s), and then, with
  ``PRAGMA writable_schema=ON``, ``sqlite_master`` is edited so the table's CREATE
  statement declares the key and the plain index becomes its ``sqlite_autoindex_<t>_1``
  (or the index's CREATE text becomes ``CREATE UNIQUE INDEX``). A plain and a unique
  index on a rowid table store the same records (key + rowid), so the file stays
  structurally sound: ``PRAGMA quick_check`` passes; only ``integrity_check`` reports
  the "non-unique entry". The fixture asserts SQLite itself now sees the key (an
  INSERT of one more duplicate is refused);
* a CHECK violated by rows inserted under ``PRAGMA ignore_check_constraints=1``.

Every row must arrive; each constraint the data satisfies is created as declared; each
one it violates is created in the strongest form that keeps the rows (FK and CHECK
``NOT VALID``, a primary key holding NULLs as UNIQUE, duplicated keys as a plain index),
listed in ``result.constraint_issues`` with counts and example keys, and named in a
warning; the run succeeds.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import arrowferry as af
from arrowferry.cli import main as cli_main
from arrowferry.result import MigrationResult
from tests.conftest import sql, with_database

SCRIPT = """
PRAGMA foreign_keys = OFF;
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO parent VALUES (1, 'a'), (2, 'b');

-- a foreign key the rows satisfy, and one they do not
CREATE TABLE good_child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
INSERT INTO good_child VALUES (1, 1), (2, 2), (3, NULL);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
INSERT INTO child VALUES (1, 1, 'ok'), (2, 7, 'orphan'), (3, 8, 'orphan'), (4, NULL, 'no parent'),
                         (5, 7, 'orphan again');

-- NULLs in a TEXT primary key, and in a composite one
CREATE TABLE tpk (code TEXT PRIMARY KEY, v INTEGER);
INSERT INTO tpk VALUES ('a', 1), (NULL, 2), (NULL, 3), ('b', 4);
CREATE TABLE cpk (a TEXT, b TEXT, v INTEGER, PRIMARY KEY (a, b));
INSERT INTO cpk VALUES ('x', 'y', 1), (NULL, 'y', 2), ('x', NULL, 3);
CREATE TABLE clean_pk (code TEXT PRIMARY KEY, v INTEGER);
INSERT INTO clean_pk VALUES ('a', 1), ('b', 2);

-- duplicates, made before the key is declared (see the module docstring)
CREATE TABLE uq (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO uq VALUES (1, 'a@x'), (2, 'a@x'), (3, 'b@x'), (4, 'b@x'), (5, 'b@x'), (6, 'c@x'),
                      (7, NULL), (8, NULL);
CREATE INDEX uq_tmp ON uq (email);
CREATE TABLE dpk (code TEXT, v INTEGER);
INSERT INTO dpk VALUES ('k1', 1), ('k1', 2), ('k2', 3);
CREATE INDEX dpk_tmp ON dpk (code);
CREATE TABLE uix (id INTEGER PRIMARY KEY, sku TEXT);
INSERT INTO uix VALUES (1, 's1'), (2, 's1'), (3, 's2');
CREATE INDEX uix_sku ON uix (sku);

-- a CHECK the rows violate (NULL satisfies a CHECK)
CREATE TABLE chk (id INTEGER PRIMARY KEY, qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0));
PRAGMA ignore_check_constraints = 1;
INSERT INTO chk VALUES (1, 5), (2, -1), (3, 0), (4, NULL);
PRAGMA ignore_check_constraints = 0;

PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = 'CREATE TABLE uq (id INTEGER PRIMARY KEY, email TEXT UNIQUE)'
 WHERE type = 'table' AND name = 'uq';
UPDATE sqlite_master SET name = 'sqlite_autoindex_uq_1', sql = NULL WHERE name = 'uq_tmp';
UPDATE sqlite_master SET sql = 'CREATE TABLE dpk (code TEXT PRIMARY KEY, v INTEGER)'
 WHERE type = 'table' AND name = 'dpk';
UPDATE sqlite_master SET name = 'sqlite_autoindex_dpk_1', sql = NULL WHERE name = 'dpk_tmp';
UPDATE sqlite_master SET sql = 'CREATE UNIQUE INDEX uix_sku ON uix (sku)' WHERE name = 'uix_sku';
PRAGMA writable_schema = OFF;
"""

ROWS = {
    "parent": 2,
    "good_child": 3,
    "child": 5,
    "tpk": 4,
    "cpk": 3,
    "clean_pk": 2,
    "uq": 8,
    "dpk": 3,
    "uix": 3,
    "chk": 4,
}


def make_source(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCRIPT)
    conn.commit()
    conn.close()
    # SQLite itself now sees the declared keys and the CHECK ...
    conn = sqlite3.connect(path)
    try:
        origins = {
            t: conn.execute(f"SELECT origin, [unique] FROM pragma_index_list('{t}')").fetchall()
            for t in ("uq", "dpk", "uix")
        }
        assert origins == {"uq": [("u", 1)], "dpk": [("pk", 1)], "uix": [("c", 1)]}, origins
        for stmt in (
            "INSERT INTO uq VALUES (100, 'c@x')",
            "INSERT INTO dpk VALUES ('k2', 9)",
            "INSERT INTO uix VALUES (100, 's2')",
            "INSERT INTO chk VALUES (100, -5)",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(stmt)
        conn.rollback()
        # ... the file is structurally sound: quick_check finds nothing but the CHECK
        # violations it was made with (on a read-only connection, as the migration opens
        # the file, SQLite's quick_check does not evaluate CHECKs at all)
        lines = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        assert all(x == "ok" or x == "CHECK constraint failed in chk" for x in lines), lines
        # ... and the violations are really there
        assert conn.execute(
            "SELECT count(*) FROM uq NOT INDEXED WHERE email = 'b@x'"
        ).fetchone() == (3,)
        assert conn.execute(
            "SELECT count(*) FROM dpk NOT INDEXED WHERE code = 'k1'"
        ).fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM chk WHERE NOT (qty > 0)").fetchone() == (2,)
        assert conn.execute("PRAGMA foreign_key_check(child)").fetchall() != []
    finally:
        conn.close()
    return path


@dataclass
class Run:
    result: MigrationResult
    url: str

    def issues(self, table: str) -> list[dict[str, Any]]:
        return [i for i in self.result.constraint_issues if i["table"] == table]

    def constraints(self, table: str) -> list[tuple[str, str, bool, str]]:
        """(name, contype, convalidated, definition) of the table's constraints."""
        return [
            (r[0], r[1].decode() if isinstance(r[1], bytes) else str(r[1]), r[2], r[3])
            for r in sql(
                self.url,
                "SELECT conname, contype::text, convalidated, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname",
                [f'public."{table}"'],
            )
        ]

    def indexes(self, table: str) -> dict[str, str]:
        return dict(
            sql(
                self.url,
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' AND tablename = $1",
                [table],
            )
        )

    def warnings_naming(self, *parts: str) -> list[str]:
        return [w for w in self.result.warnings if all(p in w for p in parts)]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("unenforced") / "unenforced.sqlite")


@pytest.fixture(scope="module")
def run(pg_server: str, source: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    name = f"af_keys_{uuid.uuid4().hex[:12]}"
    sql(pg_server, f'CREATE DATABASE "{name}"')
    url = with_database(pg_server, name)
    reject_dir = tmp_path_factory.mktemp("rejects")
    result = af.migrate(source, url, reject_dir=str(reject_dir))
    yield Run(result, url)
    sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_run_succeeds_and_every_row_arrives(run: Run) -> None:
    assert run.result.errors == []
    assert run.result.success is True
    assert run.result.rows_rejected == 0
    for table, rows in ROWS.items():
        assert sql(run.url, f'SELECT count(*) FROM "{table}"') == [(rows,)], table
    assert {t.name: t.rows for t in run.result.tables} == ROWS


def test_orphaned_foreign_key_is_created_not_valid(run: Run) -> None:
    fks = [c for c in run.constraints("child") if c[1] == "f"]
    assert len(fks) == 1, run.constraints("child")
    _, _, validated, definition = fks[0]
    assert validated is False
    assert "REFERENCES parent(id)" in definition and definition.endswith("NOT VALID")
    [issue] = [i for i in run.issues("child") if i["kind"] == "foreign_key"]
    assert issue["rows"] == 3  # child rows 2, 3 and 5 (a NULL key is no orphan)
    assert sorted(set(issue["examples"])) == ["7", "8"]
    assert run.warnings_naming("foreign key", "child", "NOT VALID"), run.result.warnings
    # the orphans are kept
    assert sql(run.url, "SELECT id FROM child WHERE parent_id IN (7, 8) ORDER BY id") == [
        (2,),
        (3,),
        (5,),
    ]


def test_a_satisfied_foreign_key_is_created_valid(run: Run) -> None:
    fks = [c for c in run.constraints("good_child") if c[1] == "f"]
    assert len(fks) == 1 and fks[0][2] is True, fks
    assert run.issues("good_child") == []


def test_text_primary_key_holding_nulls_becomes_a_unique_constraint(run: Run) -> None:
    kinds = {c[1]: c for c in run.constraints("tpk")}
    assert "p" not in kinds, kinds
    assert kinds["u"][3] == "UNIQUE (code)"
    [issue] = run.issues("tpk")
    assert issue["kind"] == "primary_key"
    assert issue["rows"] == 2
    assert run.warnings_naming("tpk", "UNIQUE"), run.result.warnings
    assert sql(run.url, "SELECT count(*) FROM tpk WHERE code IS NULL") == [(2,)]


def test_composite_primary_key_holding_nulls_names_example_keys(run: Run) -> None:
    kinds = {c[1]: c for c in run.constraints("cpk")}
    assert "p" not in kinds and kinds["u"][3] == "UNIQUE (a, b)", kinds
    [issue] = run.issues("cpk")
    assert issue["kind"] == "primary_key" and issue["rows"] == 2
    assert sorted(issue["examples"]) == ["(,y)", "(x,)"]


def test_clean_keys_are_created_as_declared(run: Run) -> None:
    assert [(c[1], c[2], c[3]) for c in run.constraints("clean_pk")] == [
        ("p", True, "PRIMARY KEY (code)")
    ]
    assert [(c[1], c[3]) for c in run.constraints("parent")] == [("p", "PRIMARY KEY (id)")]
    assert run.issues("clean_pk") == [] and run.issues("parent") == []


def test_duplicates_under_a_declared_unique_column_leave_a_plain_index(run: Run) -> None:
    assert [c[1] for c in run.constraints("uq")] == ["p"], run.constraints("uq")
    plain = [d for d in run.indexes("uq").values() if "(email)" in d]
    assert len(plain) == 1 and "UNIQUE" not in plain[0], run.indexes("uq")
    [issue] = run.issues("uq")
    assert issue["rows"] == 2  # two key values repeat: a@x twice, b@x three times
    assert sorted(issue["examples"]) == ["a@x", "b@x"]
    assert run.warnings_naming("uq", "duplicate"), run.result.warnings


def test_duplicates_under_a_declared_primary_key_leave_a_plain_index(run: Run) -> None:
    assert run.constraints("dpk") == []
    plain = [d for d in run.indexes("dpk").values() if "(code)" in d]
    assert len(plain) == 1 and "UNIQUE" not in plain[0], run.indexes("dpk")
    [issue] = run.issues("dpk")
    assert issue["rows"] == 1 and issue["examples"] == ["k1"]
    assert run.warnings_naming("dpk", "duplicate"), run.result.warnings


def test_duplicates_under_a_unique_index_leave_a_plain_index(run: Run) -> None:
    """CREATE UNIQUE INDEX over duplicates: the index is kept, non-unique, and reported."""
    plain = [d for d in run.indexes("uix").values() if "(sku)" in d]
    assert len(plain) == 1, f"no index on uix(sku): {run.indexes('uix')}"
    assert "UNIQUE" not in plain[0]
    [issue] = run.issues("uix")
    assert issue["rows"] == 1 and issue["examples"] == ["s1"], issue
    assert run.warnings_naming("uix_sku"), run.result.warnings


def test_violated_check_is_created_not_valid(run: Run) -> None:
    checks = [c for c in run.constraints("chk") if c[1] == "c"]
    assert len(checks) == 1, run.constraints("chk")
    name, _, validated, definition = checks[0]
    assert name == "qty_positive" and validated is False
    assert "qty > 0" in definition and definition.endswith("NOT VALID")
    [issue] = run.issues("chk")
    assert issue["kind"] == "check" and issue["rows"] == 2  # -1 and 0; NULL passes
    assert run.warnings_naming("qty_positive", "NOT VALID"), run.result.warnings


def test_each_issue_is_named_in_a_warning_and_nothing_else_is_reported(run: Run) -> None:
    tables = sorted({i["table"] for i in run.result.constraint_issues})
    assert tables == ["child", "chk", "cpk", "dpk", "tpk", "uix", "uq"]
    for issue in run.result.constraint_issues:
        assert set(issue) == {"kind", "name", "table", "rows", "examples"}
        assert issue["rows"] > 0
        assert any(issue["table"] in w for w in run.result.warnings), issue
    assert run.result.to_dict()["constraint_issues"] == run.result.constraint_issues


def test_the_cli_run_succeeds_and_prints_the_warnings(
    pg_server: str, source: Path, tmp_path: Path
) -> None:
    name = f"af_keys_{uuid.uuid4().hex[:12]}"
    sql(pg_server, f'CREATE DATABASE "{name}"')
    try:
        url = with_database(pg_server, name)
        outcome = CliRunner().invoke(
            cli_main, ["migrate", str(source), url, "--reject-dir", str(tmp_path / "rejects")]
        )
        assert outcome.exit_code == 0, (outcome.output, outcome.exception)
        out = outcome.stdout
        for part in ("child(parent_id) -> parent", "NOT VALID", "qty_positive", "tpk_pkey"):
            assert part in out, f"{part!r} not in:\n{out}"
    finally:
        sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
