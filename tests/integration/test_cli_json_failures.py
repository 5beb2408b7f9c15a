"""With --json, every command prints one object of its own keys however it ends: a
usage error, bad input, a database that is not there. A script reads the keys it knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration._cli_helpers import cli

NO_SERVER = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"


@pytest.mark.parametrize(
    ("argv", "keys", "code"),
    [
        # a usage error (an unknown option) under each command
        (["diff", "a.db", "b.db", "--json", "--nope"], {"differences", "identical"}, 2),
        (["sync", "a.db", "b.db", "--json", "--nope"], {"statements", "applied"}, 2),
        (["migrate", "a.db", "--json", "--nope"], {"tables", "rows_rejected"}, 2),
        # bad input: a source that does not exist / a server that does not answer
        (["diff", "{missing}", "{missing}", "--json"], {"differences", "identical"}, 2),
        (["sync", "{missing}", NO_SERVER, "--json"], {"statements", "applied"}, 2),
    ],
)
def test_json_failure_has_the_commands_own_shape(
    argv: list[str], keys: set[str], code: int, tmp_path: Path
) -> None:
    args = [a.replace("{missing}", str(tmp_path / "missing.db")) for a in argv]
    outcome = cli(*args)
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == code, outcome.stdout + outcome.stderr
    (line,) = outcome.stdout.strip().splitlines()
    shown = json.loads(line)
    assert shown["success"] is False and shown["errors"], shown
    assert keys <= set(shown), sorted(shown)
    assert "secret" not in outcome.stdout + outcome.stderr
    assert outcome.stderr.startswith("error: ") or "Usage" in outcome.stderr
