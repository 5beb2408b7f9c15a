"""Chinook and Northwind, migrated whole and compared whole against their SQLite files.

Everything expected is computed from the SQLite file itself (row counts, PRAGMA
index_list / foreign_key_list / table_info, sqlite_sequence) or from the README type
mapping (``_compare.readme_pg_type``), never from the package. Each corpus database is
migrated once per module into a database of its own; the tests only read it, except
the sequence and CHECK tests, which write inside a transaction they roll back.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.result import MigrationResult
from tests.conftest import CHINOOK, CORPUS, pg_tables, sql, with_database
from tests.integration._compare import (
    compare_table,
    finalizer_errors,
    multiset_difference,
    pg_column_types,
    pg_connect,
    pg_view_rows,
    qi,
    readme_pg_type,
    sqlite_columns,
    sqlite_readonly,
    sqlite_tables,
    sqlite_view_rows,
)


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """A driver object the migration leaves open is reported on the test that leaked it."""
    with finalizer_errors() as leaked:
        yield
    assert not leaked, "left open by the migration:\n" + "\n".join(leaked)


SOURCES = {
    "chinook": CHINOOK,
    "northwind": CORPUS / "northwind.db",
}

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass
class Migrated:
    name: str
    sqlite: Path
    url: str
    result: MigrationResult


class Corpus:
    """Each corpus database migrated at most once per module, on first use."""

    def __init__(self, pg_server: str, tmp: pytest.TempPathFactory) -> None:
        self.pg_server = pg_server
        self.tmp = tmp
        self.done: dict[str, Migrated] = {}
        self.databases: list[str] = []

    def __call__(self, name: str) -> Migrated:
        if name not in self.done:
            copy = self.tmp.mktemp(name) / SOURCES[name].name
            shutil.copy(SOURCES[name], copy)
            copy.chmod(0o644)
            dbname = f"af_corpus_{name}_{uuid.uuid4().hex[:8]}"
            sql(self.pg_server, f'CREATE DATABASE "{dbname}"')
            self.databases.append(dbname)
            url = with_database(self.pg_server, dbname)
            self.done[name] = Migrated(name, copy, url, af.migrate(copy, url))
        return self.done[name]


@pytest.fixture(scope="module")
def corpus(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    loader = Corpus(pg_server, tmp_path_factory)
    yield loader
    for dbname in loader.databases:
        sql(pg_server, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(params=sorted(SOURCES))
def migrated(request: pytest.FixtureRequest, corpus: Corpus) -> Migrated:
    return corpus(request.param)


@pytest.fixture
def northwind_migrated(corpus: Corpus) -> Migrated:
    return corpus("northwind")


def _corpus_tables() -> list[tuple[str, str]]:
    return [(db, t) for db, path in sorted(SOURCES.items()) for t in sqlite_tables(path)]


def _src(path: Path, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite_readonly(path)
    try:
        return [tuple(r) for r in conn.execute(query, params)]
    finally:
        conn.close()


def _pg(url: str, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in sql(url, query, params)]


def _expected_types(path: Path, table: str) -> dict[str, str]:
    return {
        name: readme_pg_type(declared) for name, declared, _nn, _pk in sqlite_columns(path, table)
    }


def _identity_tables(path: Path) -> dict[str, str]:
    """Tables whose SQLite primary key is a rowid alias (a single INTEGER column): table -> column."""
    out = {}
    for table in sqlite_tables(path):
        cols = sqlite_columns(path, table)
        pk = [c for c in cols if c[3]]
        without_rowid = _src(path, "SELECT wr FROM pragma_table_list WHERE name = ?", (table,))[0][
            0
        ]
        if len(pk) == 1 and pk[0][1].strip().upper() == "INTEGER" and not without_rowid:
            out[table] = pk[0][0]
    return out


def _sqlite_sequence(path: Path) -> dict[str, int]:
    if not _src(path, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
        return {}
    return {name: int(seq) for name, seq in _src(path, "SELECT name, seq FROM sqlite_sequence")}


def _pk_constraint_name(path: Path, table: str) -> str | None:
    create = _src(
        path, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )[0][0]
    m = re.search(r"CONSTRAINT\s+[\[\"`]?([^\]\"`\s]+)[\]\"`]?\s+PRIMARY\s+KEY", create, re.I)
    return m[1] if m else None


# Catalog queries (names only: relname/attname, never regclass, which ADBC returns as bytes)
_CONSTRAINTS = """
SELECT cl.relname, con.conname, con.contype::text, con.convalidated,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
       COALESCE(fcl.relname, '') AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_cols,
       con.confupdtype::text, con.confdeltype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = cl.relnamespace
LEFT JOIN pg_class fcl ON fcl.oid = con.confrelid
WHERE ns.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY 1, 2
"""

_INDEXES = """
SELECT t.relname, i.relname, x.indisunique,
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
       x.indnkeyatts, x.indpred IS NULL AS not_partial, x.indexprs IS NULL AS no_expressions,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) AS backs_constraint
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE ns.nspname = 'public'
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Constraint:
    table: str
    name: str
    kind: str
    valid: bool
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str
    on_delete: str
    definition: str


def _constraints(url: str) -> list[Constraint]:
    return [
        Constraint(t, n, k, bool(v), tuple(c or ()), rt, tuple(rc or ()), u, d, defn)
        for t, n, k, v, c, rt, rc, u, d, defn in _pg(url, _CONSTRAINTS)
    ]


# --- the run itself ---------------------------------------------------------------------


def test_result_has_no_errors_and_counts_every_row(migrated: Migrated) -> None:
    result = migrated.result
    assert result.errors == []
    assert result.success is True
    tables = sqlite_tables(migrated.sqlite)
    counts = {t: _src(migrated.sqlite, f"SELECT count(*) FROM {qi(t)}")[0][0] for t in tables}
    assert result.tables_processed == len(tables)
    assert {t.name: t.rows for t in result.tables} == counts
    assert result.rows_migrated == sum(counts.values())


def test_exactly_the_source_tables_exist(migrated: Migrated) -> None:
    assert pg_tables(migrated.url) == sorted(sqlite_tables(migrated.sqlite))


def test_row_counts_per_table(migrated: Migrated) -> None:
    expected = {
        t: _src(migrated.sqlite, f"SELECT count(*) FROM {qi(t)}")[0][0]
        for t in sqlite_tables(migrated.sqlite)
    }
    actual = {t: _pg(migrated.url, f"SELECT count(*) FROM {qi(t)}")[0][0] for t in expected}
    assert actual == expected


@pytest.mark.parametrize(("db", "table"), _corpus_tables(), ids=lambda v: v.replace(" ", "_"))
def test_column_types_follow_the_readme_mapping(db: str, table: str, corpus: Corpus) -> None:
    migrated = corpus(db)
    assert pg_column_types(migrated.url, table) == _expected_types(migrated.sqlite, table)


@pytest.mark.parametrize(("db", "table"), _corpus_tables(), ids=lambda v: v.replace(" ", "_"))
def test_every_value_equal(db: str, table: str, corpus: Corpus) -> None:
    migrated = corpus(db)
    problems = compare_table(
        migrated.sqlite, migrated.url, table, _expected_types(migrated.sqlite, table)
    )
    assert not problems, "\n".join(problems)


def test_not_null_columns(migrated: Migrated) -> None:
    """NOT NULL as declared; primary key columns are NOT NULL in PostgreSQL whatever SQLite said."""
    expected = {
        (t, name): bool(notnull or pk)
        for t in sqlite_tables(migrated.sqlite)
        for name, _decl, notnull, pk in sqlite_columns(migrated.sqlite, t)
    }
    actual = {
        (t, name): bool(nn)
        for t, name, nn in _pg(
            migrated.url,
            "SELECT c.relname, a.attname, a.attnotnull FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
        )
    }
    assert actual == expected


# --- keys, indexes, constraints ------------------------------------------------------------


def test_primary_keys_names_and_columns(migrated: Migrated) -> None:
    expected = {}
    for t in sqlite_tables(migrated.sqlite):
        cols = sorted((c for c in sqlite_columns(migrated.sqlite, t) if c[3]), key=lambda c: c[3])
        if cols:
            name = _pk_constraint_name(migrated.sqlite, t) or f"{t}_pkey"
            expected[t] = (name, tuple(c[0] for c in cols))
    actual = {c.table: (c.name, c.columns) for c in _constraints(migrated.url) if c.kind == "p"}
    assert actual == expected
    if migrated.name == "chinook":
        assert actual["PlaylistTrack"] == ("PK_PlaylistTrack", ("PlaylistId", "TrackId"))
    else:
        assert actual["Order Details"] == ("Order Details_pkey", ("OrderID", "ProductID"))


def test_foreign_keys_with_actions_and_referenced_columns(migrated: Migrated) -> None:
    expected: Counter[tuple[Any, ...]] = Counter()
    for t in sqlite_tables(migrated.sqlite):
        groups: dict[int, list[tuple[Any, ...]]] = {}
        for fid, seq, ref, src, dst, on_update, on_delete, _match in _src(
            migrated.sqlite, "SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq", (t,)
        ):
            groups.setdefault(fid, []).append((seq, ref, src, dst, on_update, on_delete))
        for parts in groups.values():
            expected[
                (
                    t,
                    tuple(p[2] for p in parts),
                    parts[0][1],
                    tuple(p[3] for p in parts),
                    parts[0][4].upper(),
                    parts[0][5].upper(),
                )
            ] += 1
    fks = [c for c in _constraints(migrated.url) if c.kind == "f"]
    actual = Counter(
        (
            c.table,
            c.columns,
            c.ref_table,
            c.ref_columns,
            _ACTIONS[c.on_update],
            _ACTIONS[c.on_delete],
        )
        for c in fks
    )
    assert actual == expected
    assert [c.name for c in fks if not c.valid] == []  # none fell back to NOT VALID
    if migrated.name == "chinook":
        assert (
            "Employee",
            ("ReportsTo",),
            "Employee",
            ("EmployeeId",),
            "NO ACTION",
            "NO ACTION",
        ) in actual
    else:
        assert (
            "Order Details",
            ("OrderID",),
            "Orders",
            ("OrderID",),
            "NO ACTION",
            "NO ACTION",
        ) in actual


def test_secondary_and_unique_indexes(migrated: Migrated) -> None:
    """Every SQLite index is in PostgreSQL: origin 'c' as an index of the same name,
    columns and uniqueness; origin 'u' as a unique constraint; 'pk' as the primary key.
    No other index exists."""
    expected_indexes = set()
    expected_uniques = set()
    for t in sqlite_tables(migrated.sqlite):
        for _seq, name, unique, origin, partial in _src(
            migrated.sqlite, "SELECT * FROM pragma_index_list(?)", (t,)
        ):
            cols = tuple(
                r[0]
                for r in _src(
                    migrated.sqlite, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)
                )
            )
            assert not partial, f"the corpus has no partial index, yet {name} is one"
            if origin == "c":
                expected_indexes.add((t, name, bool(unique), cols))
            elif origin == "u":
                expected_uniques.add((t, cols))
    rows = _pg(migrated.url, _INDEXES)
    actual_indexes = {
        (t, name, bool(unique), tuple(cols))
        for t, name, unique, cols, _n, not_partial, no_expr, backs in rows
        if not backs
    }
    assert actual_indexes == expected_indexes
    assert all(not_partial and no_expr for *_x, not_partial, no_expr, _b in rows)
    actual_uniques = {(c.table, c.columns) for c in _constraints(migrated.url) if c.kind == "u"}
    assert actual_uniques == expected_uniques
    if migrated.name == "chinook":
        assert len(expected_indexes) == 11  # the 12th SQLite index is PlaylistTrack's PK
        assert ("Track", "IFK_TrackAlbumId", False, ("AlbumId",)) in actual_indexes


def _check_count(path: Path, table: str) -> int:
    create = _src(
        path, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )[0][0]
    return len(re.findall(r"\bCHECK\s*\(", create, re.I))


def test_check_constraints_exist_per_table(migrated: Migrated) -> None:
    expected = {
        t: n for t in sqlite_tables(migrated.sqlite) if (n := _check_count(migrated.sqlite, t))
    }
    checks = [c for c in _constraints(migrated.url) if c.kind == "c"]
    assert dict(Counter(c.table for c in checks)) == expected
    assert [c.name for c in checks if not c.valid] == []
    if migrated.name == "northwind":
        assert expected == {"Order Details": 3, "Products": 4}


# (violating update, constraint column) per Northwind CHECK; each must be refused
_VIOLATIONS = [
    ("Order Details", '"Discount" = -0.01', "Discount"),
    ("Order Details", '"Discount" = 1.01', "Discount"),
    ("Order Details", '"Quantity" = 0', "Quantity"),
    ("Order Details", '"UnitPrice" = -0.01', "UnitPrice"),
    ("Products", '"UnitPrice" = -1', "UnitPrice"),
    ("Products", '"ReorderLevel" = -1', "ReorderLevel"),
    ("Products", '"UnitsInStock" = -1', "UnitsInStock"),
    ("Products", '"UnitsOnOrder" = -1', "UnitsOnOrder"),
]
_ALLOWED = [
    ("Order Details", '"Discount" = 0, "Quantity" = 1, "UnitPrice" = 0'),
    ("Order Details", '"Discount" = 1'),
    ("Products", '"UnitPrice" = 0, "ReorderLevel" = 0, "UnitsInStock" = 0, "UnitsOnOrder" = 0'),
]


def test_northwind_checks_enforce_their_rules(northwind_migrated: Migrated) -> None:
    migrated = northwind_migrated
    refused = []
    for table, assignment, _col in _VIOLATIONS:
        conn = pg_connect(migrated.url, autocommit=False)
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(
                        f"UPDATE {qi(table)} SET {assignment} WHERE ctid = (SELECT min(ctid) FROM {qi(table)})"
                    )
                except Exception as err:
                    refused.append((table, assignment, "check constraint" in str(err)))
                else:
                    refused.append((table, assignment, False))
        finally:
            conn.rollback()
            conn.close()
    assert refused == [(t, a, True) for t, a, _c in _VIOLATIONS]
    for table, assignment in _ALLOWED:
        conn = pg_connect(migrated.url, autocommit=False)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {qi(table)} SET {assignment} WHERE ctid = (SELECT min(ctid) FROM {qi(table)})"
                )
                assert cur.rowcount == 1
        finally:
            conn.rollback()
            conn.close()


def test_identity_sequences_continue_after_the_maximum(migrated: Migrated) -> None:
    """A row inserted without its id gets max+1 (and, for AUTOINCREMENT, more than sqlite_sequence)."""
    identity = _identity_tables(migrated.sqlite)
    pg_identity = {
        t: c
        for t, c in _pg(
            migrated.url,
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND a.attidentity IN ('a', 'd')",
        )
    }
    assert pg_identity == identity
    sequences = _sqlite_sequence(migrated.sqlite)
    if migrated.name == "northwind":
        assert set(sequences) == {
            "Categories",
            "Employees",
            "Orders",
            "Products",
            "Shippers",
            "Suppliers",
        }
    got, want = {}, {}
    for table, column in sorted(identity.items()):
        max_id = _src(migrated.sqlite, f"SELECT max({qi(column)}) FROM {qi(table)}")[0][0]
        assert max_id is not None, f"{table} is empty: pick another way to test its sequence"
        others = [c[0] for c in sqlite_columns(migrated.sqlite, table) if c[0] != column]
        cols = ", ".join(qi(c) for c in others)
        conn = pg_connect(migrated.url, autocommit=False)
        try:
            with conn.cursor() as cur:
                # a copy of the last row (so NOT NULL, FKs and CHECKs hold), id left to the identity
                cur.execute(
                    f"INSERT INTO {qi(table)} ({cols}) SELECT {cols} FROM {qi(table)} "
                    f"WHERE {qi(column)} = {int(max_id)} RETURNING {qi(column)}"
                )
                got[table] = cur.fetchall()[0][0]
        finally:
            conn.rollback()
            conn.close()
        want[table] = max(max_id, sequences.get(table, 0)) + 1
        if table in sequences:
            assert got[table] > sequences[table], (
                f"{table}: new id {got[table]} reuses sqlite_sequence {sequences[table]}"
            )
    assert got == want


def test_table_name_with_a_space_works(northwind_migrated: Migrated) -> None:
    migrated = northwind_migrated
    assert _pg(migrated.url, 'SELECT count(*) FROM "Order Details"') == [(2155,)]
    total = _pg(
        migrated.url,
        'SELECT sum("UnitPrice" * "Quantity")::text FROM "Order Details" WHERE "OrderID" = 10248',
    )
    src = _src(
        migrated.sqlite, "SELECT UnitPrice, Quantity FROM [Order Details] WHERE OrderID = 10248"
    )
    from decimal import Decimal

    assert total == [(str(sum(Decimal(repr(p)) * q for p, q in src)),)]


# --- the result's summary against the catalog ---------------------------------------------------


def test_summary_matches_the_catalog(migrated: Migrated) -> None:
    summary = migrated.result.summary
    constraints = _constraints(migrated.url)
    kinds = Counter(c.kind for c in constraints)
    indexes = [r for r in _pg(migrated.url, _INDEXES) if not r[-1]]
    views = _pg(migrated.url, "SELECT count(*) FROM pg_views WHERE schemaname = 'public'")[0][0]
    identities = _pg(
        migrated.url,
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attidentity <> ''",
    )[0][0]
    assert {
        "tables_created": summary.tables_created,
        "indexes_created": summary.indexes_created,
        "constraints_applied": summary.constraints_applied,
        "foreign_keys_created": summary.foreign_keys_created,
        "views_created": summary.views_created,
        "sequences_reset": summary.sequences_reset,
    } == {
        "tables_created": len(pg_tables(migrated.url)),
        "indexes_created": len(indexes),
        "constraints_applied": kinds["p"] + kinds["u"] + kinds["c"] + kinds["f"],
        "foreign_keys_created": kinds["f"],
        "views_created": views,
        "sequences_reset": identities,
    }
    assert summary.tables_created == len(sqlite_tables(migrated.sqlite))


def test_every_view_is_created_or_named_in_a_warning(migrated: Migrated) -> None:
    """No SQLite view disappears silently (Northwind has 17, Chinook none)."""
    views = [
        r[0]
        for r in _src(
            migrated.sqlite, "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"
        )
    ]
    created = {
        r[0] for r in _pg(migrated.url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")
    }
    unaccounted = [
        v
        for v in views
        if v not in created
        and not any(repr(v) in w or f'"{v}"' in w for w in migrated.result.warnings)
    ]
    assert unaccounted == []
    assert created <= set(views)
    assert len(views) == (17 if migrated.name == "northwind" else 0)


def test_created_views_return_what_sqlite_returns(northwind_migrated: Migrated) -> None:
    """Every Northwind view but one arrives (the last adds text with +, which is 0 in
    SQLite: it has no faithful translation), and each returns in PostgreSQL the rows it
    returns in SQLite (as multisets, values compared by what they mean)."""
    migrated = northwind_migrated
    created = [
        r[0] for r in _pg(migrated.url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")
    ]
    missing = {
        r[0] for r in _src(migrated.sqlite, "SELECT name FROM sqlite_master WHERE type = 'view'")
    } - set(created)
    assert missing == {"Invoices"}, missing
    differences = {
        v: multiset_difference(sqlite_view_rows(migrated.sqlite, v), pg_view_rows(migrated.url, v))
        for v in created
    }
    assert {v: d for v, d in differences.items() if d} == {}
