"""Secrets (issue 15, item 5): a password given in a URL appears nowhere arrowferry writes.

A role with a password is created on the test server, and ``pg_hba.conf`` made to require
that password for it (and only it), so every run below really sends the password. Then
runs in every direction, successful and failing (wrong password, unreachable and silent
hosts, a missing table, a table the server refuses, a table the login may not read, a
missing database), through the CLI in-process and as a process (``--verbose``, ``--json``,
``--dry-run``) and through the API (``verbose=True``). Everything they produce is scanned
for the password: stdout, stderr, every log record of every logger, warnings, results and
their JSON, plans, exceptions with their whole ``__cause__``/``__context__`` chain (as
``traceback.format_exception`` renders them, and each link's ``repr``, ``args`` and
attributes whatever ``__suppress_context__`` says), reject files and every other file
left behind, and the targets themselves (``pg_dump`` of each database, every byte of each
SQLite file), where a run's state would live.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import traceback
import uuid
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

import arrowferry as af
from arrowferry.api import Migration
from tests.conftest import sql, with_database
from tests.integration._cli_helpers import (
    Outcome,
    can_connect,
    cli,
    cli_subprocess,
    password_required_for,
    with_login,
)
from tests.integration._hostile import silent_server
from tests.integration.test_pg_replica import pg_dump_for

CORE = uuid.uuid4().hex[:16]  # in every spelling of the password, however it is encoded
PASSWORD = f"Pw/{CORE}@:?#&+ é%"  # characters a URL must encode; no quote (CREATE ROLE)
WRONG = f"Wrong/{uuid.uuid4().hex[:16]}@:?#"


@dataclass
class Evidence:
    """Every text a run produced, by where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    masked_seen: int = 0

    def add(self, where: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        self.texts.append((where, text))
        self.masked_seen += "***" in text

    def outcome(self, where: str, outcome: Outcome) -> None:
        self.add(f"{where}: stdout", outcome.stdout)
        self.add(f"{where}: stderr", outcome.stderr)
        if outcome.exception is not None:
            self.exception(f"{where}: exception", outcome.exception)

    def exception(self, where: str, err: BaseException) -> None:
        self.add(where, "".join(traceback.format_exception(err)))
        seen: set[int] = set()
        link: BaseException | None = err
        while link is not None and id(link) not in seen:  # every link, suppressed or not
            seen.add(id(link))
            self.add(
                f"{where} (link {type(link).__name__})", f"{link!r} {link.args!r} {vars(link)!r}"
            )
            link = link.__cause__ or link.__context__

    def files(self, where: str, folder: Path) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self.add(f"{where}: file {path.relative_to(folder)}", path.read_bytes())

    def assert_clean(self) -> None:
        forms = {PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), CORE}
        leaks = [
            f"{where}: ...{text[max(0, text.find(form) - 80) : text.find(form) + 40]!r}..."
            for where, text in self.texts
            for form in forms
            if form in text
        ]
        assert not leaks, "the password leaked:\n" + "\n".join(leaks[:10])
        assert len(self.texts) > 20 and self.masked_seen > 0, "nothing was scanned"


@contextmanager
def every_log_record(evidence: Evidence) -> Iterator[None]:
    """Every record of every logger, at DEBUG, formatted with its exception if any;
    every warning too."""

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            evidence.add(f"log {record.name}", self.format(record))

    handler = Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            evidence.add("warning", str(w.message))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def login(pg_server: str) -> Iterator[tuple[str, str]]:
    """(admin URL, role) for a role that must give PASSWORD, and may create databases."""
    role = f"af_secret_{uuid.uuid4().hex[:8]}"
    with password_required_for(pg_server, role, PASSWORD):
        sql(pg_server, f'ALTER ROLE "{role}" CREATEDB')
        assert can_connect(with_login(pg_server, role, PASSWORD))
        assert not can_connect(with_login(pg_server, role, WRONG)), "the password is not checked"
        assert not can_connect(with_login(pg_server, role, None)), "the password is not checked"
        try:
            yield pg_server, role
        finally:  # the databases the runs created, before the role goes
            for (name,) in sql(
                pg_server, "SELECT datname FROM pg_database WHERE datname LIKE $1", [f"{role}%"]
            ):
                sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url(login: tuple[str, str], suffix: str, password: str = PASSWORD) -> str:
    admin, role = login
    return with_login(with_database(admin, f"{role}_{suffix}"), role, password)


def _sqlite_source(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATE);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer(id),
                                 note TEXT, total NUMERIC(10,2));
            CREATE INDEX orders_customer ON orders (customer);
            CREATE VIEW big AS SELECT * FROM orders WHERE total > 10;
            INSERT INTO customer VALUES (1, 'ann', '1990-01-02'), (2, 'bob', NULL);
            INSERT INTO orders VALUES (1, 1, 'fine', 12.5), (2, 2, 'a' || char(0) || 'b', 3),
                                      (3, 1, NULL, 99.99);
            """
        )
    return path


def _dump(evidence: Evidence, admin: str, url: str) -> None:
    """The whole target database as pg_dump writes it: tables, rows, comments, settings."""
    database = url.split("?")[0].rsplit("/", 1)[1]
    target = with_database(admin, database)
    dump = subprocess.run(
        [pg_dump_for(admin), "--dbname", target], capture_output=True, text=True, check=True
    )
    evidence.add(f"pg_dump {database}", dump.stdout)
    settings = sql(
        admin,
        "SELECT coalesce(string_agg(array_to_string(setconfig, ','), ';'), '') FROM pg_db_role_setting",
    )
    evidence.add("database and role settings", str(settings))


def test_no_password_anywhere_after_runs_that_succeed(
    login: tuple[str, str], tmp_path: Path
) -> None:
    admin, _role = login
    evidence = Evidence()
    source = _sqlite_source(tmp_path / "app.db")
    into, api_into, copy = _url(login, "into"), _url(login, "api"), _url(login, "copy")
    with every_log_record(evidence):
        # SQLite -> PostgreSQL: the CLI creates the database, logs every statement, rejects a row
        dry = cli("migrate", str(source), into, "--create-db", "--dry-run", "--verbose")
        evidence.outcome("cli dry run", dry)
        run = cli(
            "migrate",
            str(source),
            into,
            "--create-db",
            "--verbose",
            "--json",
            "--reject-dir",
            str(tmp_path / "r1"),
        )
        evidence.outcome("cli sqlite->pg", run)
        assert run.exit_code == 1 and run.json()["rows_rejected"] == 1, run.everything
        assert "***" in run.json()["target"]
        sql(into, "CREATE TABLE dates (id int PRIMARY KEY, d date)")  # as the role: it owns it
        sql(into, "INSERT INTO dates VALUES (1, '2020-01-01'), (2, 'infinity')")
        # PostgreSQL -> SQLite: a real process, every statement logged ('infinity' is kept as
        # PostgreSQL writes it, with a warning: SQLite takes any value, nothing is rejected)
        back = cli_subprocess(
            "migrate",
            into,
            str(tmp_path / "back.db"),
            "--verbose",
            "--json",
            "--reject-dir",
            str(tmp_path / "r2"),
        )
        evidence.outcome("subprocess pg->sqlite", back)
        assert back.exit_code == 0 and back.json()["warnings"], back.everything
        evidence.outcome(
            "subprocess pg->sqlite dry run",
            cli_subprocess("migrate", into, str(tmp_path / "dry.db"), "--dry-run", "--json"),
        )
        # the password as libpq's own parameter rather than in the user-info part
        as_param = _url(login, "param", "") + "&password=" + quote(PASSWORD, safe="")
        param = cli("migrate", str(source), as_param, "--create-db", "--json", "--schema-only")
        evidence.outcome("cli ?password=", param)
        assert param.exit_code == 0 and ":***@" in param.json()["target"], param.everything
        # the API: results, their JSON and the plans
        plan = Migration(source, api_into, create_db=True, dry_run=True).plan()
        evidence.add("plan", json.dumps(plan.to_dict(), default=str))
        for label, args, kwargs in [
            ("api sqlite->pg", (source, api_into), {"create_db": True}),
            ("api pg->pg", (into, copy), {"create_db": True, "exclude": ["dates"]}),
            ("api pg->sqlite", (api_into, tmp_path / "api.db"), {"source_schema": "public"}),
            ("api pg->sqlite dry run", (copy, tmp_path / "dry2.db"), {"dry_run": True}),
        ]:
            result = af.migrate(*args, verbose=True, reject_dir=str(tmp_path / "r3"), **kwargs)
            evidence.add(
                label, f"{result!r} {json.dumps(result.to_dict(), default=str)} {result.plan}"
            )
    for url in (into, api_into, copy, as_param):
        _dump(evidence, admin, url)
    evidence.files("tmp", tmp_path)  # reject files, SQLite targets, anything left behind
    assert (tmp_path / "r1" / "orders.jsonl").exists()
    evidence.assert_clean()


def _failing(
    evidence: Evidence, label: str, source: str | Path, target: str | Path, *args: str, **api: Any
) -> None:
    """One failing run three ways: CLI in-process (verbose, JSON), CLI process, API. How
    each failure looks is test_hostile_input's business; here, only what it shows."""
    outcome = cli("migrate", str(source), str(target), "--verbose", "--json", *args)
    evidence.outcome(f"{label} cli", outcome)
    assert outcome.exit_code != 0, (label, outcome.everything)
    process = cli_subprocess("migrate", str(source), str(target), *args)
    evidence.outcome(f"{label} subprocess", process)
    assert process.exit_code != 0, (label, process.everything)
    try:
        result = af.migrate(source, target, verbose=True, **api)
    except Exception as err:  # an unexpected one too: its text and chain are scanned
        evidence.exception(f"{label} api", err)
    else:
        assert not result.success, label
        evidence.add(
            f"{label} api result", f"{result!r} {json.dumps(result.to_dict(), default=str)}"
        )


def test_no_password_anywhere_after_runs_that_fail(login: tuple[str, str], tmp_path: Path) -> None:
    admin, role = login
    evidence = Evidence()
    source = _sqlite_source(tmp_path / "app.db")
    wide = tmp_path / "wide.db"
    with closing(sqlite3.connect(wide)) as conn:
        conn.execute(
            f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {', '.join(f'c{i} INT' for i in range(1700))})"
        )
        conn.execute("CREATE TABLE fine (id INTEGER PRIMARY KEY)")
    good = _url(login, "fail")
    sql(admin, f'CREATE DATABASE "{role}_fail" OWNER "{role}"')
    sql(good, "CREATE TABLE readable (id int PRIMARY KEY)")
    sql(
        with_database(admin, f"{role}_fail"), "CREATE TABLE forbidden (id int PRIMARY KEY)"
    )  # owned by the admin
    rejects = ("--reject-dir", str(tmp_path / "rejects"))
    with every_log_record(evidence), silent_server() as port:
        wrong = _url(login, "fail", WRONG)
        for label, src, dst, args, api in [
            ("wrong password into", source, wrong, (), {}),
            ("wrong password from", wrong, tmp_path / "o1.db", (), {}),
            (
                "refused into",
                source,
                f"postgresql://{role}:{quote(PASSWORD, safe='')}@127.0.0.1:1/db",
                (),
                {},
            ),
            (
                "refused from",
                f"postgresql://{role}:{quote(PASSWORD, safe='')}@127.0.0.1:1/db",
                tmp_path / "o2.db",
                (),
                {},
            ),
            (
                "silent",
                source,
                f"postgresql://{role}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/db?connect_timeout=2",
                (),
                {},
            ),
            ("missing table into", source, good, ("--include", "nope"), {"include": ["nope"]}),
            (
                "missing table from",
                good,
                tmp_path / "o3.db",
                ("--include", "nope"),
                {"include": ["nope"]},
            ),
            ("missing database", source, _url(login, "nowhere"), (), {}),
            (
                "server refuses a table",
                wide,
                good,
                ("--continue-on-error", "--drop-tables", *rejects),
                {"continue_on_error": True, "drop_tables": True},
            ),
            ("login may not read a table", good, tmp_path / "o4.db", rejects, {}),
        ]:
            _failing(evidence, label, src, dst, *args, **api)
    evidence.files("tmp", tmp_path)
    _dump(evidence, admin, good)
    evidence.assert_clean()
