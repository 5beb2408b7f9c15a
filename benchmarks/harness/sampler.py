"""Sample both sides of a run: the client's threads and the server's processes, from
/proc, and what each server backend is doing, from ``pg_stat_activity``.

Every ``interval`` seconds one thread reads, for each thread of the client process (and
of its children, e.g. psql) and for each child process of the postmaster,
``/proc/<pid>/task/<tid>/schedstat``: nanoseconds on a CPU and nanoseconds runnable but
waiting for one (the run queue), exact where ``stat``'s utime/stime count 10 ms ticks;
plus, now and then, the thread's name and, for the server, the process title
(``postgres: ... COPY``).
The machine's ``/proc/stat`` is read at the same time, so what other work took shows.
A second thread on its own connection reads ``pg_stat_activity`` (state, wait event,
the statement) at the same pace, so a slow query never delays the /proc samples.

The samples are kept per lane (one thread or process) as parallel lists, ready for JSON.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


BOOT_TIME = _boot_time()  # stat's starttime counts clock ticks from here
RESCAN_EVERY = 8  # ticks between scans of /proc for new child processes


@dataclass
class Lane:
    """One thread (client) or process (server) and its samples."""

    side: str  # "client" or "server"
    pid: int
    tid: int
    name: str
    t: list[float] = field(default_factory=list)
    run_ns: list[int] = field(default_factory=list)
    wait_ns: list[int] = field(default_factory=list)
    titles: list[tuple[float, str]] = field(default_factory=list)  # when the title changed
    born: bool = False  # the first sample is its start, not a reading: found late

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "pid": self.pid,
            "tid": self.tid,
            "name": self.name,
            "t": [round(x, 4) for x in self.t],
            "run_ns": self.run_ns,
            "wait_ns": self.wait_ns,
            "titles": self.titles,
            "born": self.born,
        }


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:  # the thread or process ended between listing and reading
        return None


def _stat_fields(text: str) -> tuple[str, list[str]]:
    """``comm`` and the fields after it (comm may hold spaces and parentheses)."""
    open_, close = text.index("("), text.rindex(")")
    return text[open_ + 1 : close], text[close + 2 :].split()


def parent_of(pid: int) -> int | None:
    text = _read(PROC / str(pid) / "stat")
    if text is None:
        return None
    return int(_stat_fields(text)[1][1])


def is_backend(title: str) -> bool:
    """A process title of a session's backend or worker, tied to some database
    (``postgres: user db [local] COPY``, ``... parallel worker for PID 12``,
    ``... autovacuum worker db``), rather than one of the server's own processes."""
    return any(mark in title for mark in ("[local]", "(", "worker"))


def machine_ticks() -> tuple[int, int]:
    """All CPU ticks and idle (idle + iowait) ticks of the machine since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4]


class Sampler:
    """Samples the client process ``client_pid`` and the postmaster ``postmaster_pid``'s
    children until ``stop()``; ``activity_url`` is read for ``pg_stat_activity``."""

    def __init__(
        self,
        client_pid: int,
        postmaster_pid: int,
        activity_url: str,
        dbname: str,
        interval: float = 0.03,
    ) -> None:
        self.client_pid = client_pid
        self.postmaster_pid = postmaster_pid
        self.activity_url = activity_url
        self.dbname = dbname
        self.interval = interval
        self.lanes: dict[tuple[int, int], Lane] = {}
        self.machine: dict[str, list[float]] = {"t": [], "all_ticks": [], "idle_ticks": []}
        self.own: dict[str, list[float]] = {"t": [], "run_ns": []}
        # pid -> parallel lists: t, state, wait event, statement
        self.activity: dict[int, dict[str, Any]] = {}
        self.activity_pid: int | None = None
        self._query_index: dict[str, int] = {}
        self._stop = threading.Event()
        self._ticks = 0
        self._client_pids: set[int] = {client_pid}
        self._server_pids: set[int] = set()
        self._threads = [
            threading.Thread(target=self._proc_loop, name="sampler-proc", daemon=True),
            threading.Thread(target=self._activity_loop, name="sampler-pg", daemon=True),
        ]

    def start(self) -> None:
        self._scan()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    # --- /proc ----------------------------------------------------------------------

    def _scan(self) -> None:
        """Find the client's child processes and the postmaster's auxiliary processes
        (checkpointer, WAL writer...). Its backends come from ``pg_stat_activity``, only
        those of the run's database: other sessions on the same server are other work."""
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            parent = parent_of(pid)
            if parent in self._client_pids:
                self._client_pids.add(pid)
            elif parent == self.postmaster_pid and pid not in self._server_pids:
                title = (_read(PROC / str(pid) / "cmdline") or "").replace("\0", " ")
                # an empty title: just forked, not yet anything; the next scan decides
                if title.strip() and not is_backend(title):
                    self._server_pids.add(pid)

    def _sample_task(self, side: str, pid: int, tid: int, now: float, full: bool) -> None:
        """One reading of a thread: its schedstat counters; its name and (a
        server's) process title only when ``full`` or new, as they change seldom and
        reading them every tick would double the sampler's own cost."""
        base = PROC / str(pid) / "task" / str(tid)
        sched = _read(base / "schedstat")
        if sched is None:
            return
        key = (pid, tid)
        lane = self.lanes.get(key)
        if lane is None or full:
            stat = _read(base / "stat")
            if stat is None:
                return
            comm, fields = _stat_fields(stat)
            if lane is None:
                lane = self.lanes[key] = Lane(side, pid, tid, comm)
                if self._ticks > 1:
                    # found after it started: its counters began at zero when it did, so
                    # its first interval runs from its start (stat's starttime) to now
                    born = BOOT_TIME + int(fields[19]) / TICKS
                    if born < now:
                        lane.born = True
                        lane.t.append(born)
                        lane.run_ns.append(0)
                        lane.wait_ns.append(0)
            lane.name = comm  # a thread may name itself after it started
            if side == "server":
                raw = _read(PROC / str(pid) / "cmdline") or ""
                title = raw.replace("\0", " ").strip()
                if not lane.titles or lane.titles[-1][1] != title:
                    lane.titles.append((round(now, 4), title))
        run_ns, wait_ns = (int(v) for v in sched.split()[:2])
        lane.t.append(now)
        lane.run_ns.append(run_ns)
        lane.wait_ns.append(wait_ns)

    def _tick(self, now: float) -> None:
        self._ticks += 1
        full = self._ticks % RESCAN_EVERY == 0
        for pid in list(self._client_pids):
            try:
                tids = [int(t) for t in os.listdir(PROC / str(pid) / "task")]
            except OSError:
                continue
            for tid in tids:
                self._sample_task("client", pid, tid, now, full)
        for pid in list(self._server_pids):
            if pid != self.activity_pid:  # the sampler's own backend is left out
                self._sample_task("server", pid, pid, now, full)
        all_ticks, idle = machine_ticks()
        self.machine["t"].append(now)
        self.machine["all_ticks"].append(all_ticks)
        self.machine["idle_ticks"].append(idle)
        self.own["t"].append(now)
        self.own["run_ns"].append(time.process_time_ns())

    def _proc_loop(self) -> None:
        count = 0
        next_at = time.time()
        while not self._stop.is_set():
            self._tick(time.time())
            count += 1
            if count % RESCAN_EVERY == 0:
                self._scan()
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.time()))
        self._tick(time.time())

    # --- pg_stat_activity -----------------------------------------------------------

    def _activity_loop(self) -> None:
        query = (
            "SELECT pid, backend_type, coalesce(state, ''), "
            "coalesce(wait_event_type || ':' || wait_event, ''), left(query, 120) "
            "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND datname = %s "
            # the auxiliary processes (checkpointer, WAL writer) wait in their own loops:
            # their /proc lanes say enough
            "AND backend_type IN ('client backend', 'parallel worker', 'autovacuum worker')"
        )
        with psycopg.connect(self.activity_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            self.activity_pid = int(row[0]) if row else None
            next_at = time.time()
            while not self._stop.is_set():
                now = time.time()
                for pid, kind, state, wait, text in conn.execute(query, (self.dbname,)):
                    self._server_pids.add(int(pid))  # this database's: sampled from the next tick
                    item = self.activity.setdefault(
                        int(pid),
                        {"backend_type": kind, "t": [], "state": [], "wait": [], "query": []},
                    )
                    item["t"].append(round(now, 4))
                    item["state"].append(state)
                    item["wait"].append(wait)
                    statement = " ".join(str(text or "").split())[:120]
                    index = self._query_index.setdefault(statement, len(self._query_index))
                    item["query"].append(index)  # the statement's place in ``queries``
                next_at += self.interval
                self._stop.wait(max(0.0, next_at - time.time()))

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "clock_ticks": os.sysconf("SC_CLK_TCK"),
            "lanes": [lane.to_json() for lane in self.lanes.values()],
            "machine": self.machine,
            "sampler": self.own,
            "activity": {str(pid): item for pid, item in self.activity.items()},
            "queries": list(self._query_index),
        }


def compact(samples: dict[str, Any]) -> dict[str, Any]:
    """``samples`` (``Sampler.to_json``) smaller for a file: times in seconds from
    ``t0`` (ms precision), schedstat counters in microseconds (``run_us``, ``wait_us``)."""
    t0 = min([*samples["machine"]["t"][:1], *(lane["t"][0] for lane in samples["lanes"])])

    def rel(values: list[float]) -> list[float]:
        return [round(v - t0, 3) for v in values]

    lanes = []
    for lane in samples["lanes"]:
        item = {k: v for k, v in lane.items() if k not in ("t", "run_ns", "wait_ns", "titles")}
        item["t"] = rel(lane["t"])
        item["run_us"] = [v // 1000 for v in lane["run_ns"]]
        item["wait_us"] = [v // 1000 for v in lane["wait_ns"]]
        item["titles"] = [(round(t - t0, 3), title) for t, title in lane["titles"]]
        lanes.append(item)
    activity = {pid: {**item, "t": rel(item["t"])} for pid, item in samples["activity"].items()}
    machine = {**samples["machine"], "t": rel(samples["machine"]["t"])}
    own = {
        "t": rel(samples["sampler"]["t"]),
        "run_us": [v // 1000 for v in samples["sampler"]["run_ns"]],
    }
    return {
        **samples,
        "t0": t0,
        "lanes": lanes,
        "activity": activity,
        "machine": machine,
        "sampler": own,
    }
