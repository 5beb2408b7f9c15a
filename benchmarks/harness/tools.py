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


def pg_bin_dir(major: int) -> Path | None:
    """A folder with pg_dump, pg_restore and psql of PostgreSQL ``major`` (pg_dump refuses
    a server newer than itself): pgserver's wheel, then ``PATH``, then Debian's layout."""
    candidates: list[Path] = []
    try:
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    found = shutil.which("pg_dump")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    for folder in candidates:
        if not all((folder / tool).exists() for tool in ("pg_dump", "pg_restore", "psql")):
            continue
        # 'pg_dump (PostgreSQL) 16.2' or '... 15.18 (Debian 15.18-0+deb12u1)'
        words = tool_version([str(folder / "pg_dump"), "--version"]).split()
        if len(words) >= 3 and words[2].split(".")[0] == str(major):
            return folder
    return None


def tool_version(argv: list[str]) -> str:
    """First line of ``argv``'s output, or '' when it can't run."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""
