"""What the client's threads do when they are off a core: py-spy's native stacks, per
thread, sorted into a few kinds.

``/proc`` says how long a thread was blocked, not on what. ``py-spy record --idle
--native --threads`` samples every thread's stack, Python and native frames, whether it
runs or not; each sample is put in the first kind whose frames it holds:

- ``GIL``: ``pthread_cond_timedwait`` under the interpreter and no lock wait above it
  (CPython 3.11 waits for the GIL on a condition variable; its locks, queues and
  events wait on semaphores, ``sem_clockwait``);
- ``queue/lock``: a ``Queue.get``/``put``, ``Condition``/``Event`` wait, a join, a future;
- ``socket``: ``poll``/``recv``/``send``, libpq's waits (the COPY stream to the server);
- ``sqlite``: SQLite's own frames (``sqlite3...``);
- else the innermost Python frame's name (the kernels, the driver calls).

py-spy is optional (``pip install py-spy``); it needs ptrace rights on the worker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

WAITS = ("Condition.wait", "Queue.get", "Queue.put", "Event.wait", "Thread.join", "Future.result")


def start(pid: int, out: Path, rate: int = 50) -> subprocess.Popen[bytes] | None:
    """py-spy recording ``pid`` until it exits, or None when py-spy is not installed.
    Native stacks need the worker paused at each sample (py-spy refuses ``--native``
    with ``--nonblocking``): a run recorded so is slower than it would be."""
    binary = shutil.which("py-spy")
    if binary is None:
        return None
    argv = [binary, "record", "--threads", "--idle", "--native"]
    argv += ["-r", str(rate), "-f", "speedscope", "-o", str(out), "-p", str(pid)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kind(stack: list[tuple[str, str]]) -> str:
    """The kind of one stack of (function, file), root first."""
    names = [name for name, _file in stack]
    if any(n.startswith(WAITS) for n in names) or any(n.startswith("sem_") for n in names):
        return "queue/lock"
    python = [name for name, file in stack if file.endswith(".py")]
    if (
        python
        and python[-1] == "_worker"
        and not any(n.startswith("pthread_cond_t") for n in names[-3:])
    ):
        return "pool idle"  # a ThreadPoolExecutor thread waiting for work
    if any(n.startswith("pthread_cond_timedwait") for n in names):
        return "GIL"
    libpq = [n for n in names if n.startswith(("PQ", "pqWait", "pqSocket", "pqSend", "pqFlush"))]
    if libpq:
        return f"socket ({libpq[0]})"  # the libpq call that waits: sending, or a result
    if any(n in ("poll", "__poll", "recv", "send", "__libc_recv", "__libc_send") for n in names):
        return "socket"
    if any(n.startswith("sqlite3") for n in names):
        return "sqlite"
    return f"py:{python[-1]}" if python else "native"


def summarise(path: Path, threads: dict[str, str], top: int = 6) -> dict[str, Any]:
    """Per thread (the worker's name, else py-spy's): seconds sampled and the share
    of each kind."""
    data = json.loads(path.read_text())
    frames = [(f["name"], f.get("file") or "") for f in data["shared"]["frames"]]
    out: dict[str, Any] = {}
    for profile in data["profiles"]:
        # 'Thread 1234 "arrowferry-read"': the native thread id, then the Python name
        tid = profile["name"].split()[1]
        # the worker's name by native id first: py-spy names a thread by its pthread id,
        # which a new thread reuses once an old one ends (a finisher shows as a reader)
        name = threads.get(tid) or profile["name"].split('"')[1] or "?"
        kinds: Counter[str] = Counter()
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True):
            kinds[kind([frames[i] for i in sample])] += weight
        total = sum(kinds.values())
        if total:
            out[f"{name} [{tid}]"] = {
                "seconds": round(total, 2),
                "kinds": {k: round(v / total, 3) for k, v in kinds.most_common(top)},
            }
    return out


def lines(summary: dict[str, Any]) -> list[str]:
    out = ["py-spy: each thread's seconds sampled (whole run), and where they went"]
    for name, item in summary.items():
        kinds = ", ".join(f"{k} {v:.0%}" for k, v in item["kinds"].items())
        out.append(f"  {name[:34]:<34} {item['seconds']:>6.2f}  {kinds}")
    return out
