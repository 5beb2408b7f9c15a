"""From a run's samples (``harness.sampler``) to where each core's time went: per phase
and per lane, as tables, and as one picture with a lane per thread or backend.

Each pair of consecutive samples of a lane is an interval: its CPU time (``schedstat``'s
first field), its time runnable but waiting for a core (the second), and the rest, off a
core. A server backend's rest is named by its ``pg_stat_activity`` sample nearest in
time: ``ClientRead`` (waiting for the client's next bytes), I/O, a lock, or idle between
statements. A client thread's rest is blocked: the GIL, a queue, a socket or a join.

An interval belongs to a phase by its midpoint: ``data`` from the start of the load to
the end of its last COPY (or the last table reported loaded, if sooner); after it, the finishing statement kinds running at the time (``indexes``,
``keys``, ``analyze``; concurrent kinds share the interval equally), ``other`` when none
runs (the client between statements, commits, sequences, views).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PHASES = ("start-up", "plan", "data", "indexes", "keys", "analyze", "other")
KINDS = (
    ("data", re.compile(r"^\s*COPY\b", re.I)),  # not INSERT: the run journal inserts too
    ("indexes", re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX", re.I)),
    ("keys", re.compile(r"^\s*ALTER\s+TABLE.*(PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK|VALID)", re.I)),
    ("analyze", re.compile(r"^\s*(ANALYZE|VACUUM)", re.I)),
)
WAITS = ("waits for client", "I/O", "lock", "idle", "off-CPU")
COLORS = {
    "client CPU": "#2e7d32",
    "data": "#1565c0",
    "indexes": "#6a1b9a",
    "keys": "#8d6e63",
    "analyze": "#9e9d24",
    "other": "#455a64",
    "run queue": "#ff9800",
    "waits for client": "#81d4fa",
    "I/O": "#f48fb1",
    "lock": "#e53935",
    "off-CPU": "#cfd8dc",
    "idle": "#ffffff",
    "blocked": "#e0e0e0",
}


def kind_of(statement: str) -> str:
    for kind, pattern in KINDS:
        if pattern.search(statement):
            return kind
    return "other"


def wait_label(state: str, wait: str) -> str:
    if not state.startswith("active"):
        return "idle"  # idle, or idle in transaction: between the client's statements
    if wait.startswith("Client:ClientRead"):
        return "waits for client"
    if wait.startswith("IO:"):
        return "I/O"
    if wait.startswith(("Lock:", "LWLock:")):
        return "lock"
    return "off-CPU"


class Activity:
    """One backend's ``pg_stat_activity`` samples, looked up by time."""

    def __init__(self, item: dict[str, Any], queries: Sequence[str]) -> None:
        self.t: list[float] = item["t"]
        self.state: list[str] = item["state"]
        self.wait: list[str] = item["wait"]
        self.kind = [kind_of(queries[q]) for q in item["query"]]

    def at(self, t: float) -> int | None:
        if not self.t:
            return None
        i = bisect.bisect_left(self.t, t)
        if i == len(self.t) or (i > 0 and t - self.t[i - 1] < self.t[i] - t):
            i -= 1
        return i


class Phases:
    """Which phase (or phases, with weights) a moment belongs to."""

    def __init__(self, samples: dict[str, Any], outcome: dict[str, Any]) -> None:
        queries = samples["queries"]
        ticks: dict[float, set[str]] = defaultdict(set)
        for item in samples["activity"].values():
            if item["backend_type"] != "client backend":
                continue
            for t, state, q in zip(item["t"], item["state"], item["query"], strict=True):
                ticks[t]  # every tick is a moment, busy or not
                if state.startswith("active"):
                    ticks[t].add(kind_of(queries[q]))
        self.t = sorted(ticks)
        self.kinds = [ticks[t] for t in self.t]
        marks = outcome.get("marks", {})
        self.started = float(marks.get("started", self.t[0] if self.t else 0.0))
        self.ended = float(marks.get("ended", self.t[-1] if self.t else 0.0))
        copying = [t for t, k in zip(self.t, self.kinds, strict=True) if "data" in k]
        load_start = marks.get("phase_load")
        # the load ends with the last table's commit: the client's "finish" phase begins
        # later, once every loading thread has returned
        finished = list(marks.get("table_finished", {}).values())
        load_end = max(finished) if finished else marks.get("phase_finish")
        if load_start is None or load_end is None:  # a tool: the data phase is its COPY
            load_start = copying[0] if copying else self.started
            load_end = copying[-1] if copying else self.ended
        start = min([load_start, *copying[:1]])
        if copying:
            # the last COPY's commit ends the load: the table's finishing statements may
            # start before the client reports the table done
            after = bisect.bisect_right(self.t, copying[-1])
            load_end = min(load_end, self.t[min(after, len(self.t) - 1)])
        self.data = (start, max([load_end, *copying[-1:]]))

    def weights(self, t: float) -> dict[str, float]:
        if t < self.started:
            return {"start-up": 1.0}
        if t < self.data[0]:
            return {"plan": 1.0}
        if t <= self.data[1]:
            return {"data": 1.0}
        i = bisect.bisect_left(self.t, t)
        kinds = self.kinds[min(i, len(self.kinds) - 1)] - {"data"} if self.kinds else set()
        if t > self.ended or not kinds:
            return {"other": 1.0}
        return {k: 1.0 / len(kinds) for k in kinds}


def lane_label(lane: dict[str, Any], threads: dict[str, str], backend: str | None) -> str:
    if lane["side"] == "client":
        name = threads.get(str(lane["tid"]))
        if name is None:  # started by native code: its library's name, or its creator's
            name = f"{lane['name']} (native)"
        return f"{name} [{lane['tid']}]"
    title = lane["titles"][0][1] if lane["titles"] else lane["name"]
    if backend and backend != "client backend":
        return f"pg {backend} [{lane['pid']}]"
    if backend is None and "[local]" not in title and "(" not in title:
        # an auxiliary process: its title says which ('postgres: walwriter')
        return f"pg {title.removeprefix('postgres: ').strip()} [{lane['pid']}]"
    return f"pg backend [{lane['pid']}]"


def intervals(lane: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    """(start, end, CPU s, run-queue s) between consecutive samples."""
    out = []
    t, run, wait = lane["t"], lane["run_ns"], lane["wait_ns"]
    for i in range(1, len(t)):
        dt = t[i] - t[i - 1]
        if dt <= 0:
            continue
        cpu = min(dt, max(0.0, (run[i] - run[i - 1]) / 1e9))
        queue = min(dt - cpu, max(0.0, (wait[i] - wait[i - 1]) / 1e9))
        out.append((t[i - 1], t[i], cpu, queue))
    return out


def analyse(samples: dict[str, Any], outcome: dict[str, Any], cores: int) -> dict[str, Any]:
    """Per phase: wall time and each core's seconds (client, server, other work, the
    sampler, idle); per lane: CPU, run queue and off-CPU time by reason, per phase."""
    phases = Phases(samples, outcome)
    activity = {
        int(pid): Activity(item, samples["queries"]) for pid, item in samples["activity"].items()
    }
    threads = outcome.get("threads", {})
    per_phase: dict[str, dict[str, float]] = {p: defaultdict(float) for p in PHASES}
    lanes_out = []
    for lane in samples["lanes"]:
        act = activity.get(lane["pid"]) if lane["side"] == "server" else None
        backend = samples["activity"].get(str(lane["pid"]), {}).get("backend_type")
        spent: dict[str, dict[str, float]] = {p: defaultdict(float) for p in PHASES}
        series = []
        for n, (start, end, cpu, queue) in enumerate(intervals(lane)):
            mid, dt = (start + end) / 2, end - start
            rest, label, kind = dt - cpu - queue, "blocked", "client CPU"
            if n == 0 and lane.get("born"):
                # from its start to when the sampler found it: no reading says why
                if lane["side"] == "server":
                    label, kind = "off-CPU", "other"
            elif act is not None:
                i = act.at(mid)
                if i is not None:
                    label, kind = wait_label(act.state[i], act.wait[i]), act.kind[i]
                else:
                    label, kind = "idle", "other"
            elif lane["side"] == "server":
                label, kind = "idle", "other"  # an auxiliary process, waiting in its loop
            for phase, w in phases.weights(mid).items():
                spent[phase]["cpu"] += w * cpu
                spent[phase]["run queue"] += w * queue
                spent[phase][label] += w * rest
                per_phase[phase][f"{lane['side']} CPU"] += w * cpu
                if lane["side"] == "server":
                    per_phase[phase][f"server CPU {kind}"] += w * cpu
            series.append((start, end, cpu / dt, queue / dt, label, kind))
        total_cpu = sum(s["cpu"] for s in spent.values())
        lanes_out.append(
            {
                "label": lane_label(lane, threads, backend),
                "side": lane["side"],
                "cpu_s": round(total_cpu, 3),
                "phases": {
                    p: {k: round(v, 3) for k, v in s.items()} for p, s in spent.items() if s
                },
                "series": series,
            }
        )
    machine, own = samples["machine"], samples["sampler"]
    hz = samples["clock_ticks"]
    t, busy = (
        machine["t"],
        [a - i for a, i in zip(machine["all_ticks"], machine["idle_ticks"], strict=True)],
    )
    for k in range(1, len(t)):
        mid, dt = (t[k] + t[k - 1]) / 2, t[k] - t[k - 1]
        used = (busy[k] - busy[k - 1]) / hz
        mine = (own["run_ns"][k] - own["run_ns"][k - 1]) / 1e9
        for phase, w in phases.weights(mid).items():
            per_phase[phase]["wall"] += w * dt
            per_phase[phase]["machine busy"] += w * used
            per_phase[phase]["sampler"] += w * mine
    table = {}
    for phase, v in per_phase.items():
        if v.get("wall", 0) <= 0:
            continue
        ours = v["client CPU"] + v["server CPU"] + v["sampler"]
        table[phase] = {
            "wall_s": round(v["wall"], 3),
            "core_s": round(cores * v["wall"], 3),
            "client_cpu_s": round(v["client CPU"], 3),
            "server_cpu_s": round(v["server CPU"], 3),
            "sampler_cpu_s": round(v["sampler"], 3),
            "other_work_s": round(max(0.0, v["machine busy"] - ours), 3),
            "idle_s": round(max(0.0, cores * v["wall"] - v["machine busy"]), 3),
            # what the server's CPU went to: statement kinds ("data" is COPY)
            "server_cpu_by_kind_s": {
                k.removeprefix("server CPU "): round(x, 3)
                for k, x in v.items()
                if k.startswith("server CPU ") and x > 0
            },
        }
    # per machine interval: our CPU, and our runnable threads (on a core or queued for one)
    edges = t
    cpu_bins, runnable_bins = [0.0] * len(edges), [0.0] * len(edges)
    for lane in lanes_out:
        _bin(lane["series"], edges, cpu_bins, runnable_bins)
    others, demand = [], []
    for k in range(1, len(t)):
        dt = t[k] - t[k - 1]
        ours = cpu_bins[k - 1] + (own["run_ns"][k] - own["run_ns"][k - 1]) / 1e9
        used = (busy[k] - busy[k - 1]) / hz
        others.append((t[k - 1], t[k], max(0.0, used - ours) / (cores * dt)))
        threads_runnable = runnable_bins[k - 1] / dt
        demand.append((t[k - 1], t[k], threads_runnable))
        for phase, w in phases.weights((t[k] + t[k - 1]) / 2).items():
            # a quiet machine would leave a core idle whenever fewer of our threads than
            # cores could run: what more cores or more work in flight could take
            per_phase[phase]["unfed"] += w * max(0.0, cores - threads_runnable) * dt
            per_phase[phase]["runnable"] += w * threads_runnable * dt
    for phase, v in per_phase.items():
        if phase in table:
            table[phase]["unfed_core_s"] = round(v["unfed"], 3)
            table[phase]["mean_runnable"] = round(v["runnable"] / v["wall"], 2)
    return {
        "phases": table,
        "data_phase": [round(x, 3) for x in phases.data],
        "started": phases.started,
        "ended": phases.ended,
        "lanes": lanes_out,
        "other_work": others,
        "runnable": demand,
        "cores": cores,
    }


def _bin(
    series: list[tuple[Any, ...]], edges: list[float], cpu: list[float], runnable: list[float]
) -> None:
    """Add a lane's CPU seconds and runnable seconds (CPU + run queue) into the bins
    between ``edges``, an interval spread evenly over the bins it overlaps."""
    for a, b, c, q, _label, _kind in series:
        i = max(0, bisect.bisect_right(edges, a) - 1)
        while i < len(edges) - 1 and edges[i] < b:
            overlap = min(b, edges[i + 1]) - max(a, edges[i])
            if overlap > 0:
                cpu[i] += c * overlap
                runnable[i] += (c + q) * overlap
            i += 1


def phase_lines(analysis: dict[str, Any]) -> list[str]:
    head = (
        f"{'phase':<9} {'wall':>6} {'cores':>6} {'client':>7} {'server':>7} {'other':>6} "
        f"{'sampler':>7} {'idle':>6} {'unfed':>6} {'runnable':>8}"
    )
    lines = [
        "seconds; cores = cores x wall = client + server + other work + sampler + idle;",
        "unfed = core-s when fewer of our threads than cores could run (idle on a quiet machine);",
        "runnable = our threads on a core or queued for one, on average",
        head,
        "-" * len(head),
    ]
    for phase, v in analysis["phases"].items():
        lines.append(
            f"{phase:<9} {v['wall_s']:>6.2f} {v['core_s']:>6.2f} {v['client_cpu_s']:>7.2f} "
            f"{v['server_cpu_s']:>7.2f} {v['other_work_s']:>6.2f} {v['sampler_cpu_s']:>7.2f} "
            f"{v['idle_s']:>6.2f} {v.get('unfed_core_s', 0.0):>6.2f} {v.get('mean_runnable', 0.0):>8.2f}"
        )
    for phase, v in analysis["phases"].items():
        kinds = v.get("server_cpu_by_kind_s", {})
        if phase == "data" and kinds:
            said = ", ".join(f"{'COPY' if k == 'data' else k} {x:.2f}" for k, x in kinds.items())
            lines.append(f"server CPU in the data phase by statement: {said}")
    return lines


def lane_lines(analysis: dict[str, Any], phase: str = "data", least: float = 0.05) -> list[str]:
    """Each lane's seconds in ``phase``: on a core, waiting for one, and off a core by reason."""
    columns = ("cpu", "run queue", "waits for client", "I/O", "lock", "idle", "off-CPU", "blocked")
    head = f"{'lane':<34}" + "".join(f" {c[:9]:>9}" for c in columns)
    lines = [f"{phase} phase, per lane (seconds)", head, "-" * len(head)]
    for lane in analysis["lanes"]:
        spent = lane["phases"].get(phase, {})
        if spent.get("cpu", 0.0) < least:
            continue
        lines.append(
            f"{lane['label'][:34]:<34}" + "".join(f" {spent.get(c, 0.0):>9.2f}" for c in columns)
        )
    return lines


def draw(
    path: Path, panels: list[tuple[str, dict[str, Any]]], title: str, least: float = 0.05
) -> str | None:
    """One panel per run, a lane per thread or backend that used at least ``least`` CPU-s."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        return "matplotlib not installed"
    heights = []
    for _name, analysis in panels:
        heights.append(3 + sum(1 for lane in analysis["lanes"] if lane["cpu_s"] >= least))
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(15, 0.36 * sum(heights) + 2.8),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, (name, analysis) in zip(axes[:, 0], panels, strict=True):
        _panel(ax, name, analysis, least)
    names = {
        "data": "server CPU: COPY",
        "indexes": "server CPU: CREATE INDEX",
        "keys": "server CPU: keys, FK",
        "analyze": "server CPU: VACUUM/ANALYZE",
        "other": "server CPU: other",
        "run queue": "runnable, waiting for a core",
        "waits for client": "backend waits for the client (ClientRead)",
        "off-CPU": "off-CPU, no wait event (or before first sample)",
        "blocked": "client thread blocked (queue, socket, GIL, join)",
    }
    handles = [Patch(color=c, label=names.get(k, k)) for k, c in COLORS.items() if k != "idle"]
    handles += [
        Patch(color="#5c6bc0", label="our runnable threads (0 to max; line: cores)"),
        Patch(color="#9e9e9e", label="other processes' share of the cores"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7.5, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _panel(ax: Any, name: str, analysis: dict[str, Any], least: float) -> None:
    t0 = analysis["started"]
    lanes = [lane for lane in analysis["lanes"] if lane["cpu_s"] >= least]
    lanes.sort(key=lambda lane: (lane["side"] != "client", lane["label"]))
    labels = []
    y = 0.0
    rows: list[tuple[str, dict[str, Any] | None]] = [
        ("other work on the machine (share of all cores)", None),
        ("our runnable threads (line: cores)", None),
        *((lane["label"], lane) for lane in lanes),
    ]
    for y_index, (label, lane) in enumerate(reversed(rows)):
        y = float(y_index)
        labels.append(f"{label}  {lane['cpu_s']:.1f} s" if lane else label)
        if lane is None and label.startswith("our runnable"):
            demand = analysis["runnable"]
            if demand:
                top = max(2.0, analysis["cores"], *(d for _a, _b, d in demand))
                x = [a - t0 for a, _b, _d in demand] + [demand[-1][1] - t0]
                values = [d for _a, _b, d in demand] + [demand[-1][2]]
                ax.fill_between(
                    x, y, [y + 0.8 * v / top for v in values], color="#5c6bc0", step="post", lw=0
                )
                ax.hlines(y + 0.8 * analysis["cores"] / top, x[0], x[-1], colors="black", lw=0.6)
            continue
        if lane is None:
            work = analysis["other_work"]
            if work:
                x = [a - t0 for a, _b, _s in work] + [work[-1][1] - t0]
                share = [s for _a, _b, s in work] + [work[-1][2]]
                ax.fill_between(
                    x, y, [y + 0.8 * min(1.0, v) for v in share], color="#9e9e9e", step="post", lw=0
                )
            continue
        _lane_layers(ax, lane, y, t0)
    ax.set_yticks([i + 0.4 for i in range(len(rows))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_ylim(-0.2, len(rows) + 0.6)
    data = analysis["data_phase"]
    ax.axvspan(data[0] - t0, data[1] - t0, color=COLORS["data"], alpha=0.06)
    ax.text(data[0] - t0, len(rows) + 0.1, " data", fontsize=8, color=COLORS["data"], va="bottom")
    # the top strip: when each kind of finishing statement ran on some backend
    starts, ends, colors = [], [], []
    for lane in lanes:
        if lane["side"] != "server":
            continue
        for a, b, cpu, _q, _w, kind in lane["series"]:
            if kind in ("indexes", "keys", "analyze") and cpu > 0:
                starts.append(a - t0)
                ends.append(b - t0)
                colors.append(COLORS[kind])
    if starts:
        ax.hlines([len(rows) + 0.05] * len(starts), starts, ends, colors=colors, lw=4)
        for kind in ("analyze", "indexes", "keys"):
            first = [a for a, c in zip(starts, colors, strict=True) if c == COLORS[kind]]
            if first:
                ax.text(
                    min(first), len(rows) + 0.15, kind, fontsize=7, color=COLORS[kind], va="bottom"
                )
    if data[0] - t0 > 0.3:
        ax.text(0.0, len(rows) + 0.1, " plan", fontsize=8, color="#455a64", va="bottom")
    ends = [s[1] - t0 for lane in lanes for s in lane["series"][-1:]]
    ax.set_xlim(min(0.0, *(s[0] - t0 for s in analysis["other_work"][:1])), max([1.0, *ends]))
    ax.set_xlabel(
        "seconds since the timed run started (top strip: finishing statements by kind)", fontsize=8
    )
    ax.set_title(name, fontsize=9, loc="left")
    ax.grid(axis="x", alpha=0.3)


def _lane_layers(ax: Any, lane: dict[str, Any], y: float, t0: float) -> None:
    """A lane's intervals as stacked step areas: CPU (by statement kind on the server),
    the run queue, then the off-CPU reason."""
    series = lane["series"]
    if not series:
        return
    x = [a - t0 for a, *_ in series] + [series[-1][1] - t0]

    def stairs(values: list[float]) -> list[float]:
        return values + values[-1:]

    cpu = [s[2] for s in series]
    queue = [s[3] for s in series]
    bottom = [y] * len(series)
    layers: list[tuple[str, list[float]]] = []
    if lane["side"] == "client":
        layers.append(("client CPU", cpu))
    else:
        for kind in ("data", "indexes", "keys", "analyze", "other"):
            layers.append(
                (kind, [c if s[5] == kind else 0.0 for c, s in zip(cpu, series, strict=True)])
            )
    layers.append(("run queue", queue))
    reasons = ["blocked"] if lane["side"] == "client" else [w for w in WAITS if w != "idle"]
    for reason in reasons:
        layers.append(
            (reason, [max(0.0, 1 - s[2] - s[3]) if s[4] == reason else 0.0 for s in series])
        )
    for name, values in layers:
        if not any(values):
            continue
        top = [b + 0.8 * v for b, v in zip(bottom, values, strict=True)]
        ax.fill_between(x, stairs(bottom), stairs(top), color=COLORS[name], step="post", lw=0)
        bottom = top
