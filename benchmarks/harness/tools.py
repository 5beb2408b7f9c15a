"""External tools (psql, pgloader) and how to address a server for them.

Kept free of heavy imports: workers import it, and their peak RSS is part of the result.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def pgloader_url(url: str) -> str:
    """pgloader's spelling of ``url``: it wants ``unix:/dir:port`` for a socket directory."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [None])[0] or parts.hostname or ""
    auth = parts.username or "postgres"
    if parts.password:
        auth += ":" + parts.password
    port = parts.port or 5432
    if socket_dir.startswith("/"):
        return f"postgresql://{auth}@unix:{socket_dir}:{port}{parts.path}"
    return f"postgresql://{auth}@{socket_dir}:{port}{parts.path}"


def psql_path() -> str | None:
    """``psql`` from PATH, else the one bundled in pgserver's wheel."""
    found = shutil.which("psql")
    if found:
        return found
    try:
        import pgserver
    except ImportError:
        return None
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    return str(bundled) if bundled.exists() else None


def tool_version(argv: list[str]) -> str:
    """First line of ``argv``'s output, or '' when it can't run."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""
