"""The README's two set-up commands are the ones CI and the tests run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, sql


def _block_after(marker: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(?P<cmd>.*?)\n```", text, re.S)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match["cmd"].strip()


def test_ci_runs_the_readme_test_command() -> None:
    command = _block_after("test-command")
    assert "pip install -e '.[dev]'" in command and "pytest" in command
    extracted = subprocess.run(
        [
            "awk",
            "/<!-- test-command -->/{found=1; next} found && /^```/{if (inblock) exit; inblock=1; next} inblock{print}",
            "README.md",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted == command
    ci = (REPO / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and 'bash -euo pipefail -c "$cmd"' in ci


def test_readme_main_command_migrates_into_the_embedded_postgresql(pg_server: str) -> None:
    """The migrate step of the main command, run as a user would, in this environment."""
    command = _block_after("main-command")
    assert command.startswith(
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
    )
    migrate = command.split(" && ")[-1]
    assert migrate.startswith("arrowferry migrate examples/chinook.sqlite")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    try:
        for _ in range(2):  # the command can be run again: --drop-tables makes it repeatable
            done = subprocess.run(
                migrate, shell=True, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr
        url = re.search(r"^target: (\S+)", done.stdout, re.M)
        assert url, done.stdout
        assert "psql" in done.stdout
        assert "/chinook?" in url[1]  # a database named after the source file
        assert sql(url[1], 'SELECT count(*) FROM "Track"') == [(3503,)]
    finally:
        # the command started an embedded server in this session's home unless the session
        # uses it already: stop it, or it outlives the home the session deletes
        if os.environ.get("ARROWFERRY_TEST_PG_URL"):
            subprocess.run(
                [sys.executable, "-m", "arrowferry", "embedded", "stop"],
                cwd=REPO,
                env=env,
                capture_output=True,
                timeout=120,
            )
