"""A PostgreSQL server of a test's own, from the pgserver wheel's binaries, in a temp dir.

The fault tests restart it, pause it, and start it with a file-size limit (a disk that
fills up), none of which the shared test server may suffer. It listens on a unix
socket in its own folder only. As root it runs as the ``pgserver`` user (PostgreSQL
refuses to run as root), as the embedded server does.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def _pgserver_bin() -> Path:
    import pgserver._commands

    return Path(pgserver._commands.POSTGRES_BIN_PATH)


def icu_bin() -> Path:
    """The machine's own PostgreSQL server binaries built with ICU (Debian's 15 or newer:
    ``initdb --locale-provider=icu``); the pgserver wheel's are built without it. Their
    absence fails the test that needs them, with what to install."""
    import glob

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        folder = Path(initdb).parent
        version = int(folder.parent.name) if folder.parent.name.isdigit() else 0
        if version >= 15 and (folder / "postgres").exists():
            return folder
    raise AssertionError(
        "no PostgreSQL 15+ server binaries with ICU under /usr/lib/postgresql (Debian: "
        "apt-get install postgresql-15): a test of collations needs a server that has one"
    )


class ThrowawayServer:
    """initdb'd on creation (1 MB WAL segments, so a small file-size limit fills the data
    files, not the WAL); ``start``, ``restart``, ``stop``, ``pause``/``unpause``."""

    def __init__(self, bin_dir: Path | None = None, initdb_args: tuple[str, ...] = ()) -> None:
        self.bin_dir = bin_dir or _pgserver_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="af-throwaway-"))
        self.data = self.folder / "data"
        self.user = "pgserver" if os.geteuid() == 0 else None
        if self.user is not None:
            os.chown(self.folder, pwd.getpwnam(self.user).pw_uid, -1)
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--wal-segsize=1",
                "-N",
                *initdb_args,
            ]
        )

    def _bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.folder}"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.folder}"

    def new_database(self, name: str, *ddl: str) -> str:
        """The URL of database ``name``, made anew (dropped first), with ``ddl`` run in it."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        url = self.database_url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            for sql in ddl:
                conn.execute(sql)  # type: ignore[arg-type]
        return url

    def _run(self, args: list[str], limit: int | None = None) -> None:
        def child() -> None:
            if limit is not None:
                # every file the server writes is held to ``limit`` bytes, as a full disk
                # would stop it; SIGXFSZ would kill the process instead of failing the write
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        subprocess.run(
            args,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
            preexec_fn=child if limit is not None else None,
        )

    def _ctl(self, *args: str, limit: int | None = None) -> None:
        options = f"-k {self.folder} -c listen_addresses='' -c fsync=off"
        self._run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-o",
                options,
                "-w",
                *args,
            ],
            limit,
        )

    def start(self, *, file_size_limit: int | None = None) -> None:
        self._ctl("start", limit=file_size_limit)

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def _postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def pause(self) -> None:
        """The server stops answering: connections wait (no new session is accepted)."""
        os.kill(self._postmaster(), signal.SIGSTOP)

    def unpause(self) -> None:
        os.kill(self._postmaster(), signal.SIGCONT)

    def remove(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.unpause()
                self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def when(ready: Callable[[], bool], timeout: float = 60.0, step: float = 0.005) -> None:
    """Wait until ``ready()`` (failing the test after ``timeout`` seconds)."""
    import time

    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "the moment to inject the fault never came"
        time.sleep(step)
