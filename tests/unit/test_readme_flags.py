"""Every flag of every command is in the README (issue 17: each new flag in the flag
table), enumerated from the click group itself so a flag added later without a README
entry fails here."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from arrowferry.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _flags(group: click.Group = main, path: str = "arrowferry") -> list[tuple[str, str]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            out += _flags(command, f"{path} {name}")
            continue
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                out += [(f"{path} {name}", o) for o in param.opts if o.startswith("--")]
    return [f for f in out if f[1] != "--help"]


@pytest.mark.parametrize(("command", "flag"), _flags(), ids=lambda v: v)
def test_every_flag_is_in_the_readme(command: str, flag: str) -> None:
    assert f"{flag}" in README, f"{command} {flag} is not in README.md"


def test_the_migrate_flag_table_lists_every_migrate_flag() -> None:
    table = README.split("| flag | meaning |", 1)[1].split("\n\n", 1)[0]
    missing = [f for c, f in _flags() if c == "arrowferry migrate" and f"`{f}" not in table]
    missing = [f for f in missing if f"/{f}" not in table]  # `--schema-only` / `--data-only`
    assert not missing, f"flags of migrate missing from the README's flag table: {missing}"
