"""The config file and the SQL hooks (issue 17, items 4 and 6), through the command line
and the API: flags over the file, its refusals, a password from the environment only;
hooks running in their phase and in order, failing cleanly (rolled back, named by file,
statement and line), and shown but not run in a dry run; on both targets."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.errors import BadInputError
from tests.conftest import make_sqlite, sql
from tests.integration._cli_helpers import (
    assert_one_paragraph_error,
    cli,
    cli_subprocess,
    password_required_for,
    with_login,
)

SCHEMA = """
CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "Name" TEXT NOT NULL);
CREATE TABLE "Invoice" ("InvoiceId" INTEGER PRIMARY KEY,
  "CustomerId" INTEGER REFERENCES "Customer"("CustomerId"), "Total" REAL);
CREATE VIEW "BigInvoices" AS SELECT "InvoiceId" FROM "Invoice" WHERE "Total" > 10;
"""


def _source(tmp_path: Path) -> Path:
    rows = {
        "Customer": [(1, "Ann"), (2, "Bob")],
        "Invoice": [(1, 1, 12.5), (2, 1, 3.0), (3, 2, 20.0)],
    }
    return make_sqlite(tmp_path / "shop.db", SCHEMA, rows)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- the config file ---------------------------------------------------------------------


def test_a_run_from_the_file_with_flags_over_it(tmp_path: Path, pg_url: str) -> None:
    _source(tmp_path)
    config = _write(
        tmp_path,
        "migration.toml",
        'source = "shop.db"\n'  # relative to the file, not to where the command runs
        f'target = "{pg_url}"\n'
        "[options]\n"
        'identifiers = "snake_case"\n'
        "batch_size = 1000\n"
        'exclude = ["Invoice"]\n'
        "[type_mappings]\n"
        '"Customer.Name" = "varchar(40)"\n',
    )
    # the dry run shows the merged settings, then the plan; the flag wins over the file
    outcome = cli_subprocess(
        "migrate", "--config", str(config), "--dry-run", "--exclude", "nothing", cwd=Path("/")
    )
    assert outcome.exit_code == 0, outcome.stderr
    head = outcome.stdout.split("Plan (dry run", 1)[0]
    assert f"source = {tmp_path / 'shop.db'}  [{config}]" in head
    assert f"target = {pg_url}  [{config}]" in head
    assert f"batch_size = 1000  [{config}]" in head
    assert "exclude_tables = ('nothing',)  [command line]" in head
    assert "dry_run = True  [command line]" in head
    assert "workers" not in head  # neither in the file nor given: the default
    assert "Invoice -> public.invoice: 3 rows" in outcome.stdout  # the flag's exclude
    # the real run: both tables (the flag's exclude), native names, the file's type map
    outcome = cli("migrate", "--config", str(config), "--exclude", "nothing", "--json")
    data = outcome.json()
    assert data["success"], data["errors"]
    assert {t["name"] for t in data["tables"]} == {"customer", "invoice"}
    declared = sql(
        pg_url,
        "SELECT data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = 'customer' AND column_name = 'name'",
    )
    assert declared == [("character varying", 40)]
    assert sql(pg_url, "SELECT * FROM big_invoices ORDER BY 1") == [(1,), (3,)]
    # diff and sync read the same file: the run's result is its source under its names,
    # but for the type the file mapped (which a schema diff does not apply)
    found = cli("diff", "--config", str(config), "--json").json()
    assert [(d["kind"], d["table"], d["name"]) for d in found["differences"]] == [
        ("column_type", "customer", "name")
    ]
    synced = cli("sync", "--config", str(config))
    assert 'ALTER TABLE "public"."customer" ALTER COLUMN "name" TYPE text' in synced.stdout


def test_the_api_reads_the_file_with_keywords_over_it(tmp_path: Path, pg_url: str) -> None:
    _source(tmp_path)
    config = _write(
        tmp_path,
        "m.toml",
        f'source = "shop.db"\ntarget = "{pg_url}"\ncursor = "updated_at"\n'
        '[options]\nworkers = 2\nbatch_size = 1000\n[cursors]\nInvoice = "modified"\n'
        '[renames]\n"Customer.Nom" = "Name"\n',
    )
    migration = af.Migration.from_config(config, batch_size=500)
    assert (migration.options.workers, migration.options.batch_size) == (2, 500)
    assert migration.settings.cursors == {"Invoice": "modified"}
    result = af.migrate(config=config, dry_run=True)
    # cursors are for incremental runs: a full run says it copied every row, an
    # incremental one reads them (the file's cursor for every table, [cursors] per table)
    assert any("incremental runs" in w for w in result.warnings)
    incremental = af.Migration(config=config, incremental=True)
    assert incremental.options.cursor == {"*": "updated_at", "Invoice": "modified"}
    # the source given wins over the file's; options= cannot be merged with a file
    other = make_sqlite(tmp_path / "other.db", "CREATE TABLE t (a INTEGER);")
    assert af.Migration(other, config=config).source.database == str(other)
    with pytest.raises(BadInputError, match="options="):
        af.Migration(config=config, options=af.MigrationOptions())
    # the file's renames reach compare_schemas (b has no column Nom: said as such)
    af.migrate(config=config)
    with pytest.raises(BadInputError, match="has no column 'Nom'"):
        migration.compare_schemas()


def test_a_password_is_refused_and_never_printed(tmp_path: Path) -> None:
    _source(tmp_path)
    for url in ("postgresql://me:hunter2-x@db/app", "postgresql://me@db/app?password=hunter2-x"):
        config = _write(tmp_path, "pw.toml", f'source = "shop.db"\ntarget = "{url}"\n')
        for extra in ((), ("--json",)):
            outcome = cli("migrate", "--config", str(config), *extra)
            assert outcome.exit_code == 2
            assert "hunter2" not in outcome.everything
            assert "target holds a password" in outcome.stderr
            if not extra:
                assert_one_paragraph_error(outcome, "PGPASSWORD", str(config))


def test_unknown_keys_name_the_closest(tmp_path: Path) -> None:
    config = _write(tmp_path, "typo.toml", 'source = "shop.db"\n[options]\nbatchsize = 10\n')
    outcome = cli("migrate", "--config", str(config))
    assert_one_paragraph_error(
        outcome, "unknown key 'options.batchsize'; did you mean 'options.batch_size'?"
    )


def test_the_password_comes_from_the_environment(tmp_path: Path, pg_url: str) -> None:
    """The file names the login; PGPASSWORD (libpq's) supplies the password."""
    role, password = f"af_cfg_{uuid.uuid4().hex[:8]}", "pw-" + uuid.uuid4().hex[:10]
    source = _source(tmp_path)
    with password_required_for(pg_url, role, password):
        sql(pg_url, f'GRANT CREATE ON SCHEMA public TO "{role}"')
        target = with_login(pg_url, role, None)
        config = _write(tmp_path, "env.toml", f'source = "{source}"\ntarget = "{target}"\n')
        refused = cli_subprocess("migrate", "--config", str(config), env={"PGPASSWORD": "wrong"})
        assert refused.exit_code == 2 and "password authentication failed" in refused.stderr
        done = cli_subprocess("migrate", "--config", str(config), env={"PGPASSWORD": password})
        assert done.exit_code == 0, done.stderr
        assert password not in done.stdout + done.stderr
        assert sql(pg_url, 'SELECT count(*) FROM "Invoice"') == [(3,)]
        # the role owns what it made: gone before the role is dropped
        sql(pg_url, f'DROP OWNED BY "{role}"')


# --- hooks ---------------------------------------------------------------------------------

BEFORE_PG = """
-- before any table: the tables do not exist yet
CREATE TABLE audit (step text, seen bigint);
INSERT INTO audit SELECT 'before', count(*) FROM pg_tables WHERE tablename = 'Invoice';
"""
AFTER_PG = """
INSERT INTO audit SELECT 'after rows', count(*) FROM "Invoice";
INSERT INTO audit SELECT 'after view', count(*) FROM "BigInvoices";
INSERT INTO audit SELECT 'after key', count(*) FROM pg_constraint WHERE contype = 'f';
"""


def test_hooks_run_in_their_phase_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    before = _write(tmp_path, "sql/before.sql", BEFORE_PG)
    after = _write(tmp_path, "sql/after.sql", AFTER_PG)
    result = af.migrate(_source(tmp_path), pg_url, before_sql=before, after_sql=after)
    assert result.success, result.errors
    assert sql(pg_url, "SELECT * FROM audit") == [
        ("before", 0),
        ("after rows", 3),
        ("after view", 2),  # after the finish: views and foreign keys are there
        ("after key", 1),
    ]
    assert result.plan is not None
    assert [s["line"] for s in result.plan["hooks"]["before_sql"]["statements"]] == [3, 4]


def test_a_failing_hook_is_rolled_back_and_named(tmp_path: Path, pg_url: str) -> None:
    source = _source(tmp_path)
    bad = _write(
        tmp_path,
        "bad.sql",
        "CREATE TABLE kept_not (a int);\n\n-- the second statement fails\nSELECT nope FROM kept_not;\n",
    )
    outcome = cli("migrate", str(source), pg_url, "--before-sql", str(bad))
    assert_one_paragraph_error(
        outcome, f"--before-sql {bad} failed statement 2 of 2 (line 4)", 'column "nope"'
    )
    assert sql(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    # after_sql: the tables are loaded, the file's statements are not kept, the run failed
    outcome = cli("migrate", str(source), pg_url, "--after-sql", str(bad), "--json")
    data = outcome.json()
    assert outcome.exit_code == 1 and data["success"] is False
    (error,) = data["errors"]
    assert error["table"] is None and "statement 2 of 2 (line 4)" in error["message"]
    assert sql(pg_url, 'SELECT count(*) FROM "Invoice"') == [(3,)]
    assert sql(pg_url, "SELECT to_regclass('kept_not') IS NULL") == [(True,)]


def test_a_dry_run_shows_the_hooks_and_runs_none(tmp_path: Path, pg_url: str) -> None:
    before = _write(tmp_path, "before.sql", BEFORE_PG)
    after = _write(tmp_path, "after.sql", AFTER_PG)
    outcome = cli(
        "migrate", str(_source(tmp_path)), pg_url, "--dry-run",
        "--before-sql", str(before), "--after-sql", str(after),
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.stderr
    shown = outcome.stdout.split("\nHooks\n", 1)[1]
    assert f"--before-sql {before} (2 statements, before any table loads" in shown
    assert "  line 3: CREATE TABLE audit (step text, seen bigint);" in shown
    assert f"--after-sql {after} (3 statements" in shown
    assert sql(pg_url, "SELECT to_regclass('audit') IS NULL") == [(True,)]
    missing = cli("migrate", str(tmp_path / "shop.db"), pg_url, "--after-sql", "nope.sql")
    assert_one_paragraph_error(missing, "--after-sql nope.sql: no such file")


def test_hooks_in_a_new_sqlite_file(tmp_path: Path, pg_url: str) -> None:
    """Inside the run's file before it is renamed into place, with its keys enforced."""
    af.migrate(_source(tmp_path), pg_url)
    before = _write(tmp_path, "before.sql", "CREATE TABLE audit (step TEXT, seen INTEGER);\n")
    after = _write(
        tmp_path,
        "after.sql",
        "INSERT INTO audit SELECT 'after', count(*) FROM \"Invoice\";\n"
        'CREATE TRIGGER no_delete BEFORE DELETE ON "Invoice" BEGIN\n'
        "  SELECT RAISE(ABORT, 'no; deletes');\nEND;\n",
    )
    target = tmp_path / "back.db"
    result = af.migrate(pg_url, target, before_sql=before, after_sql=after)
    assert result.success, result.errors
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT * FROM audit").fetchall() == [("after", 3)]
        with pytest.raises(sqlite3.IntegrityError, match="no; deletes"):
            conn.execute('DELETE FROM "Invoice"')
    # an after_sql that breaks a foreign key fails, and the new file is not put in place
    orphan = _write(tmp_path, "orphan.sql", 'INSERT INTO "Invoice" VALUES (99, 42, 1.0);\n')
    broken = tmp_path / "broken.db"
    result = af.migrate(pg_url, broken, after_sql=orphan)
    assert not result.success
    assert "statement 1 of 1 (line 1)" in result.errors[0].message
    assert "FOREIGN KEY" in result.errors[0].message
    assert not broken.exists()
    # every table is in the partial file, kept for --resume: without the bad script it
    # only has to be put in place
    assert [p.name for p in tmp_path.glob("broken.db*")] == ["broken.db.arrowferry-partial"]
    assert af.migrate(pg_url, broken, resume=True).success
    assert not list(tmp_path.glob("broken.db.*")) and broken.exists()


def test_after_sql_waits_for_a_complete_run(tmp_path: Path, pg_url: str) -> None:
    """A run that stopped at an error is not finished: after_sql is not run, and said."""
    source = make_sqlite(
        tmp_path / "bad.db", "CREATE TABLE t (n INTEGER);", {"t": [(1,), ("not a number",)]}
    )
    after = _write(tmp_path, "after.sql", "CREATE TABLE after_ran (a int);\n")
    result = af.migrate(source, pg_url, on_bad_value="fail", after_sql=after)
    assert not result.success and result.errors[0].table == "t"
    assert f"--after-sql {after} not run: the run stopped at an error" in result.warnings
    assert sql(pg_url, "SELECT to_regclass('after_ran') IS NULL") == [(True,)]
