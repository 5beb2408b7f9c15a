"""Helpers shared by the CLI / bad-input / options integration tests.

* :func:`cli` runs ``arrowferry`` in-process through click's ``CliRunner`` (stdout and
  stderr kept apart);
* :func:`cli_subprocess` runs ``python -m arrowferry`` as a real process, which is the
  only way to prove that nothing (no traceback, no warning) leaks to the terminal;
* :func:`password_required_for` makes password authentication mandatory for one role
  on whatever server the fixtures gave us, using SQL only (``pg_hba.conf`` is read with
  ``pg_read_file`` and written back with ``COPY ... TO``), and restores it afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from arrowferry.cli import main
from arrowferry.urls import Endpoint, parse_url
from tests.conftest import admin_connect, sql

REPO = Path(__file__).resolve().parents[2]

CHINOOK_TABLES = [
    "Album",
    "Artist",
    "Customer",
    "Employee",
    "Genre",
    "Invoice",
    "InvoiceLine",
    "MediaType",
    "Playlist",
    "PlaylistTrack",
    "Track",
]


@dataclass
class Outcome:
    """What one CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def everything(self) -> str:
        return (
            self.stdout
            + "\n"
            + self.stderr
            + "\n"
            + (repr(self.exception) if self.exception else "")
        )

    def json(self) -> dict[str, Any]:
        """The single JSON object printed on stdout (fails if there is anything else)."""
        text = self.stdout.strip()
        assert text, f"nothing on stdout; stderr: {self.stderr!r}"
        decoder = json.JSONDecoder()
        obj, end = decoder.raw_decode(text)
        assert text[end:].strip() == "", f"more than one JSON value on stdout: {text[end:][:300]!r}"
        assert isinstance(obj, dict), f"stdout is JSON but not an object: {obj!r}"
        return obj


def cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Run the click group in-process; an unexpected Python exception is kept, not raised."""
    runner = CliRunner()
    result = runner.invoke(main, list(args), env=env, catch_exceptions=True)
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exc)


def cli_subprocess(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None
) -> Outcome:
    """Run ``python -m arrowferry ARGS`` in a child process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "arrowferry", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=str(cwd or REPO),
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_one_paragraph_error(outcome: Outcome, *must_name: str, exit_code: int = 2) -> str:
    """Exit code, a single ``error: ...`` line on stderr naming ``must_name``; no traceback."""
    assert outcome.exception is None, f"unexpected Python exception: {outcome.exception!r}"
    assert outcome.exit_code == exit_code, (
        f"exit code {outcome.exit_code}, expected {exit_code}; stdout={outcome.stdout!r} "
        f"stderr={outcome.stderr!r}"
    )
    assert "Traceback" not in outcome.everything, outcome.everything
    err = outcome.stderr.strip()
    assert err.startswith("error: "), f"stderr does not start with 'error: ': {err!r}"
    assert "\n" not in err, f"the error is not one line / one paragraph:\n{err}"
    for name in must_name:
        assert name in err, f"{name!r} is not named in the error: {err!r}"
    assert outcome.stdout.strip() == "", (
        f"bad input printed a payload on stdout: {outcome.stdout!r}"
    )
    return err


def assert_single_line(message: str, *must_name: str) -> None:
    assert "Traceback" not in message
    assert message.strip(), "empty message"
    assert "\n" not in message.strip(), f"the message is not one line / one paragraph:\n{message}"
    for name in must_name:
        assert name in message, f"{name!r} is not named in the message: {message!r}"


def endpoint_of(url: str) -> Endpoint:
    return parse_url(url)


def with_login(url: str, username: str, password: str | None) -> str:
    """``url`` with another user and password (same host, port, database, parameters)."""
    e = parse_url(url)
    return Endpoint(e.dialect, e.database, e.host, e.port, username, password, e.ssl, e.params).url


def database_of(url: str) -> str:
    return parse_url(url).database


def with_database(url: str, name: str) -> str:
    e = parse_url(url)
    return Endpoint(e.dialect, name, e.host, e.port, e.username, e.password, e.ssl, e.params).url


def can_connect(url: str) -> bool:
    try:
        conn = admin_connect(url)
    except Exception:
        return False
    conn.close()
    return True


def _copy_lines_to(admin_url: str, path: str, lines: Sequence[str]) -> None:
    """Write ``lines`` (each followed by a newline) to a server-side file, byte for byte.

    CSV format with control characters as delimiter/quote/NULL never quotes or escapes a
    line of a config file (tabs, backslashes, quotes and empty lines come out as they are).
    """
    tag = "$hba_" + uuid.uuid4().hex + "$"
    assert all(tag not in line for line in lines)
    values = ", ".join(f"({tag}{line}{tag}, {i})" for i, line in enumerate(lines))
    query = (
        f"COPY (SELECT line FROM (VALUES {values}) AS t(line, n) ORDER BY n) TO "
        f"{tag}{path}{tag} WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02', NULL E'\\x03')"
    )
    sql(admin_url, query)


def _read_server_file(admin_url: str, path: str) -> str:
    return str(sql(admin_url, "SELECT pg_read_file($1)", [path])[0][0])


@contextmanager
def password_required_for(admin_url: str, role: str, password: str) -> Iterator[None]:
    """Create ``role`` with ``password`` and require scram-sha-256 for it (and only it).

    The rest of the server keeps its own rules. The original ``pg_hba.conf`` is put back
    (and the server reloaded) whatever happens.
    """
    sql(admin_url, f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
    hba = str(sql(admin_url, "SELECT current_setting('hba_file')")[0][0])
    original = _read_server_file(admin_url, hba)
    body = original[:-1] if original.endswith("\n") else original
    try:
        extra = [
            f"local all {role} scram-sha-256",
            f"host all {role} all scram-sha-256",
        ]
        _copy_lines_to(admin_url, hba, [*extra, *body.split("\n")])
        written = _read_server_file(admin_url, hba)
        assert written == "\n".join(extra) + "\n" + body + "\n", (
            "pg_hba.conf was not written exactly"
        )
        errors = sql(
            admin_url, "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL"
        )
        assert not errors, f"the edited pg_hba.conf does not parse: {errors}"
        sql(admin_url, "SELECT pg_reload_conf()")
        # the postmaster reloads asynchronously: wait until a wrong password is refused
        probe = with_login(admin_url, role, "not-the-password-" + uuid.uuid4().hex[:6])
        deadline = time.monotonic() + 15
        while can_connect(probe):
            assert time.monotonic() < deadline, "pg_hba.conf reload did not take effect"
            time.sleep(0.1)
        yield
    finally:
        try:
            _copy_lines_to(admin_url, hba, body.split("\n"))
            sql(admin_url, "SELECT pg_reload_conf()")
            restored = _read_server_file(admin_url, hba)
            assert restored in (original, original + "\n"), "pg_hba.conf was not restored"
        finally:
            sql(admin_url, f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def record_unraisable() -> Iterator[list[str]]:
    """Collect "Exception ignored in ..." events (finalizers, ResourceWarnings) while open.

    Garbage is collected before leaving, so objects a failed migration left behind
    (unclosed cursors, generators whose ``finally`` raises) are finalized here, not in
    whichever test happens to run next.
    """
    import gc
    import warnings

    seen: list[str] = []
    old = sys.unraisablehook

    def hook(info: Any) -> None:
        seen.append(
            f"{info.err_msg or 'Exception ignored in'}: {info.object!r}: "
            f"{type(info.exc_value).__name__}: {info.exc_value}"
        )

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)  # unclosed handles count too
            yield seen
            gc.collect()
            gc.collect()
    finally:
        sys.unraisablehook = old
