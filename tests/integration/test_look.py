"""Looking instead of reading (issue 17, item 2): to_polars() and _repr_html_ of the
plan, the migration result, the schema comparison and the sync result, and
MigrationResult.plot(). Each frame is compared with the object it shows, value by value."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import make_sqlite, sql

ODD = "odd <name>"  # a table name that HTML must escape


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_sqlite(
        tmp_path / "s.db",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);"
        f'CREATE TABLE "{ODD}" (id INTEGER PRIMARY KEY);'
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATE);",
        {
            "people": [(1, "Ada", 1.5), (2, "Grace", None), (3, "Edsger", 2.25)],
            ODD: [(1,)],
            "events": [(1, "2024-01-02"), (2, "not a date"), (3, "2024-03-04")],
        },
    )


def test_result_frames_hold_the_result(source: Path, pg_url: str, tmp_path: Path) -> None:
    result = af.migrate(source, pg_url, reject_dir=str(tmp_path / "rejects"), progress=False)
    frames = result.to_polars()
    assert list(frames) == [
        "tables",
        "columns",
        "rejects",
        "warnings",
        "errors",
        "phases",
        "incremental",  # empty: a full run
        "plan_tables",
        "plan_columns",
        "plan_finish",
    ]
    assert frames["incremental"].is_empty() and "mark" in frames["incremental"].columns
    tables = frames["tables"]
    assert tables.select("table", "status", "rows", "rows_read", "rows_rejected").rows() == [
        ("events", "loaded", 2, 3, 1),
        (ODD, "loaded", 1, 1, 0),
        ("people", "loaded", 3, 3, 0),
    ]
    by_name = {t.name: t for t in result.tables}
    for row in tables.iter_rows(named=True):
        t = by_name[row["table"]]
        assert (row["seconds"], row["rows_per_second"]) == (
            round(t.seconds, 4),
            round(t.rows_per_second, 1),
        )
        assert sql(pg_url, f'SELECT count(*) FROM "{t.name}"') == [(row["rows"],)]
    assert frames["rejects"].rows() == [("events", "at", 1, result.reject_files["events"])]
    ledger = {(e["table"], e["column"]): e for e in result.ledger}
    assert len(frames["columns"]) == len(ledger) == 6
    for row in frames["columns"].iter_rows(named=True):
        entry = ledger[row["table"], row["column"]]
        assert row["source_type"] == entry["source_type"]
        assert row["target_type"] == entry["target_type"]
        assert row["conversion"] == entry["conversion"]
        assert row["lossy_notes"] == entry["lossy"] and row["lossy"] == bool(entry["lossy"])
        assert row["rejected"] == entry["counts"]["rejected"]
    name = frames["columns"].filter(table="people", column="name").row(0, named=True)
    assert (name["source_type"], name["target_type"], name["lossy"]) == ("TEXT", "text", False)
    assert frames["warnings"]["message"].to_list() == result.warnings
    assert dict(frames["phases"].rows()) == result.phases
    assert frames["errors"].is_empty() and frames["errors"].columns == ["table", "message", "fatal"]
    planned = [t["target"] for t in (result.plan or {})["tables"]]
    assert frames["plan_tables"]["table"].to_list() == planned
    assert sorted(planned) == ["events", ODD, "people"]


def test_a_failed_table_in_the_frames_and_the_html(source: Path, pg_url: str) -> None:
    result = af.migrate(source, pg_url, on_bad_value="fail", continue_on_error=True, progress=False)
    frames = result.to_polars()
    statuses = dict(frames["tables"].select("table", "status").rows())
    assert statuses == {"events": "failed", ODD: "loaded", "people": "loaded"}
    failed = frames["tables"].filter(status="failed").row(0, named=True)
    assert failed["error"] == result.errors[0].message and failed["rows"] is None
    assert frames["errors"].rows() == [(e.table, e.message, e.fatal) for e in result.errors]
    page = result._repr_html_()
    assert "finished with errors" in page and "failed" in page
    assert "odd &lt;name&gt;" in page and ODD not in page
    assert "not a date" in page  # the error names the value, escaped like everything else
    for t in result.tables:
        assert f">{t.rows:,}<" in page and f">{t.rows_per_second:,.0f}<" in page


def test_the_plan_frames_and_html(source: Path, pg_url: str) -> None:
    plan = af.Migration(source, pg_url).plan()
    frames = plan.to_polars()
    assert list(frames) == ["tables", "columns", "finish"]
    assert frames["tables"].select("table", "source", "rows", "columns").rows() == [
        (t.name, t.source.name, t.rows, len(t.columns)) for t in plan.tables
    ]
    assert frames["columns"].select(
        "table", "column", "source_type", "target_type", "read_as", "lossy", "lossy_notes"
    ).rows() == [
        (t.name, c.target, c.declared, c.ddl, c.read_as, bool(c.lossy), list(c.lossy))
        for t in plan.tables
        for c in t.columns
    ]
    at = frames["columns"].filter(column="at").row(0, named=True)
    assert (at["source_type"], at["target_type"], at["travels_as"]) == (
        "DATE",
        "date",
        "date32[day]",
    )
    assert frames["finish"].rows() == [(s.kind, s.table, s.sql) for s in plan.finish]
    page = plan._repr_html_()
    assert "Plan: 3 tables, 7 rows" in page and "odd &lt;name&gt;" in page
    for t in plan.tables:
        for c in t.columns:
            assert f'<td style="text-align:left">{c.ddl}</td>' in page
    dry = af.migrate(source, pg_url, dry_run=True)._repr_html_()
    assert dry.startswith("<p><b>Dry run (nothing was written): 3 tables, 7 rows</b>")


def test_comparison_and_sync_frames(source: Path, pg_url: str) -> None:
    af.migrate(source, pg_url, progress=False)
    sql(pg_url, "ALTER TABLE people ADD COLUMN extra int")
    sql(pg_url, "ALTER TABLE people ALTER COLUMN name DROP NOT NULL")
    comparison = af.compare_schemas(source, pg_url)
    differences = comparison.to_polars()["differences"]
    assert differences.rows() == [
        (d.table, d.kind, d.name, d.lossless, d.detail, d.a_sql, d.b_sql)
        for d in comparison.differences
    ]
    assert {("people", "extra_column", "extra"), ("people", "nullability", "name")} <= set(
        differences.select("table", "kind", "name").rows()
    )
    synced = af.sync_schema(source, pg_url)
    statements = synced.to_polars()["statements"]
    assert statements.select("number", "sql", "destructive", "refused").rows() == [
        (i, s.sql, s.destructive, False) for i, s in enumerate(synced.statements, 1)
    ] + [(None, s.sql, s.destructive, True) for s in synced.refused]
    assert statements.filter(refused=True)["column"].to_list() == ["extra"]  # a drop: refused
    assert statements["reason"].to_list() == [
        s.reason for s in (*synced.statements, *synced.refused)
    ]


def test_plot_draws_each_table(source: Path, pg_url: str, tmp_path: Path) -> None:
    result = af.migrate(source, pg_url, reject_dir=str(tmp_path / "rejects"), progress=False)
    figure = result.plot()
    figure.savefig(io.BytesIO(), format="png")  # drawn: the tick labels are set
    took, rate = figure.axes
    names = [label.get_text() for label in took.get_yticklabels()]
    assert sorted(names) == sorted(t.name for t in result.tables)
    by_name = {t.name: t for t in result.tables}
    assert [bar.get_width() for bar in took.patches] == [by_name[n].seconds for n in names]
    assert [bar.get_width() for bar in rate.patches] == [by_name[n].rows_per_second for n in names]
    assert "3 tables, 6 rows" in figure.get_suptitle()
    assert figure._repr_png_().startswith(b"\x89PNG")  # a notebook shows it as an image


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    result = af.MigrationResult(tables=[af.TableResult("t", 10, 1.0)])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.delitem(sys.modules, "arrowferry.look_plot", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'arrowferry\[plot\]'") as raised:
        result.plot()
    assert isinstance(raised.value, af.ArrowferryError)


def test_verification_frames_name_each_difference(tmp_path: Path, pg_url: str) -> None:
    import sqlite3
    from contextlib import closing

    source = make_sqlite(
        tmp_path / "v.db",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);",
        {"people": [(1, "ada"), (2, "grace"), (3, "edsger")]},
    )
    assert af.migrate(source, pg_url).success
    clean = af.verify(source, pg_url).to_polars()
    assert clean["tables"].get_column("ok").to_list() == [True]
    assert clean["examples"].height == 0
    with closing(sqlite3.connect(source)) as conn:  # one changed value, one row gone
        conn.execute("UPDATE people SET name = 'changed!' WHERE id = 2")
        conn.execute("INSERT INTO people VALUES (4, 'barbara')")
        conn.commit()
    frames = af.verify(source, pg_url).to_polars()
    (table,) = frames["tables"].iter_rows(named=True)
    assert (table["table"], table["ok"], table["changed_rows"], table["missing_rows"]) == (
        "people",
        False,
        1,
        1,
    )
    rows = {(r["kind"], r["key"], r["column"]): r for r in frames["examples"].iter_rows(named=True)}
    changed = rows[("changed", '{"id": 2}', "name")]
    assert (changed["source"], changed["target"]) == ('"changed!"', '"grace"')
    assert ("missing", '{"id": 4}', None) in rows
