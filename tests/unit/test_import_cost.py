"""``import arrowferry`` and the CLI's help and version stay cheap.

The engine's dependencies (pyarrow, polars, numpy, the ADBC drivers) and rich take about
a second to import; ``arrowferry --help`` and ``--version`` must not pay for them. Each
check runs in a fresh interpreter, because this test process has long since imported
them all. No timing is asserted: what is imported is what is checked.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import arrowferry

HEAVY = (
    "pyarrow",
    "polars",
    "numpy",
    "adbc_driver_manager",
    "adbc_driver_sqlite",
    "adbc_driver_postgresql",
    "rich",
)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd away from the checkout, so nothing is imported from it by accident
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _heavy_in_importtime(stderr: str) -> list[str]:
    """Top-level packages from HEAVY named in ``-X importtime`` output."""
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(imported & set(HEAVY))


def test_import_of_facade_and_cli_loads_no_heavy_module(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "import arrowferry, arrowferry.cli\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = _run(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# each command line, and text its output must hold
CLI_CASES: list[tuple[list[str], list[str]]] = [
    (["--version"], [f"arrowferry, version {arrowferry.__version__}"]),
    (
        ["--help"],
        [
            "Usage:",
            "Move whole databases between SQLite and PostgreSQL",
            "migrate",
            "inspect",
            "map-type",
            "embedded",
        ],
    ),
    (["migrate", "--help"], ["Usage:", "[SOURCE] [TARGET]", "--dry-run", "--batch-size"]),
    (["inspect", "--help"], ["Usage:", "URL", "--schema"]),
    (["map-type", "--help"], ["Usage:", "DECLARED", "--from", "--to"]),
    (["embedded", "--help"], ["Usage:", "url", "stop", "status"]),
    (["embedded", "url", "--help"], ["Usage:", "--database"]),
]


@pytest.mark.parametrize(
    ("args", "expected"), CLI_CASES, ids=[" ".join(args) for args, _ in CLI_CASES]
)
def test_cli_help_and_version_load_no_heavy_module(
    tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    done = _run(["-X", "importtime", "-m", "arrowferry", *args], tmp_path)
    assert done.returncode == 0, done.stderr
    for text in expected:
        assert text in done.stdout
    assert "import time:" in done.stderr  # the check below is not vacuous
    assert _heavy_in_importtime(done.stderr) == []


def _typed_imports() -> dict[str, str]:
    """Name -> submodule, read from the ``if TYPE_CHECKING:`` block of ``__init__.py``."""
    tree = ast.parse(inspect.getsource(arrowferry))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                found.update((alias.name, stmt.module) for alias in stmt.names)
    return found


def test_every_public_name_resolves_to_its_submodules_object() -> None:
    typed = _typed_imports()
    # what mypy and IDEs see is exactly the public list, less the eager __version__
    assert set(typed) == set(arrowferry.__all__) - {"__version__"}
    for name, module in typed.items():
        assert getattr(arrowferry, name) is getattr(importlib.import_module(module), name), name


def test_the_facade_lists_and_star_imports_every_public_name() -> None:
    assert set(arrowferry.__all__) <= set(dir(arrowferry))
    namespace: dict[str, object] = {}
    exec("from arrowferry import *", namespace)
    assert set(arrowferry.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(arrowferry, "no_such_name")
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = arrowferry.no_such_name  # type: ignore[attr-defined]
