"""Summaries of the runs: the printed table, the JSON file and the bar chart."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.tools import psql_path, tool_version

PACKAGES = (
    "arrowferry",
    "pyarrow",
    "polars",
    "adbc-driver-sqlite",
    "adbc-driver-postgresql",
    "adbc-driver-manager",
    "psycopg",
    "duckdb",
    "duckdb-ext-sqlite",
    "duckdb-ext-postgres",
    "numpy",
    "matplotlib",
    "pgserver",
)


@dataclass
class MethodSummary:
    """All runs of one method, reduced to what the table shows."""

    name: str
    label: str
    status: str = "ok"
    reason: str = ""
    note: str = ""
    seconds: list[float] = field(default_factory=list)
    data_seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    # WAL the server wrote during each run (all sessions), from pg_current_wal_insert_lsn()
    wal_mb: list[float] = field(default_factory=list)
    # the 1-minute load average as each run started: other work on the machine shows here
    load_at_start: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    structure: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    type_changes: dict[str, str] = field(default_factory=dict)
    median_s: float | None = None
    min_s: float | None = None  # the range of the runs: a fast day from a slow one
    max_s: float | None = None
    rows_per_s: float | None = None
    mb_per_s: float | None = None
    x_copy_limit: float | None = None
    x_copy_then_index: float | None = None
    data_median_s: float | None = None
    data_min_s: float | None = None
    data_max_s: float | None = None
    data_x_copy_limit: float | None = None
    wal_median_mb: float | None = None

    @property
    def check(self) -> str:
        """'ok', 'ok, N types differ' (values equal after normalising) or 'DIFF: ...'."""
        if self.status != "ok":
            return "-"
        if self.problems:
            return "DIFF: " + "; ".join(sorted(set(self.problems)))
        return f"ok, {len(self.type_changes)} types differ" if self.type_changes else "ok"


def type_changes(types: dict[str, str], reference: dict[str, str]) -> dict[str, str]:
    """Columns whose type differs from the reference's, as 'chosen (want reference)'."""
    return {
        column: f"{types.get(column, 'missing')} (want {want})"
        for column, want in reference.items()
        if types.get(column) != want
    }


def finalise(
    summaries: Sequence[MethodSummary], rows: int, source_mb: float, reference: str = "copy_limit"
) -> None:
    """Medians, throughput and the ratios to both COPY baselines, in place.

    Column types are compared with those of the ``reference`` method.
    """
    for s in summaries:
        if s.seconds:
            s.median_s = statistics.median(s.seconds)
            s.min_s, s.max_s = min(s.seconds), max(s.seconds)
            s.rows_per_s = rows / s.median_s
            s.mb_per_s = source_mb / s.median_s
        if s.data_seconds:
            s.data_median_s = statistics.median(s.data_seconds)
            s.data_min_s, s.data_max_s = min(s.data_seconds), max(s.data_seconds)
        if s.wal_mb:
            s.wal_median_mb = statistics.median(s.wal_mb)
    wanted = next((s.types for s in summaries if s.name == reference), {})
    for s in summaries:
        s.type_changes = type_changes(s.types, wanted) if s.types else {}
    base = {s.name: s.median_s for s in summaries if s.median_s}
    for s in summaries:
        if s.median_s and base.get("copy_limit"):
            s.x_copy_limit = s.median_s / base["copy_limit"]
        if s.median_s and base.get("copy_then_index"):
            s.x_copy_then_index = s.median_s / base["copy_then_index"]
        if s.data_median_s and base.get("copy_limit"):
            s.data_x_copy_limit = s.data_median_s / base["copy_limit"]


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


# The ratio columns of the table: (header, MethodSummary attribute, width).
COPY_RATIOS: tuple[tuple[str, str, int], ...] = (
    ("xCOPY", "x_copy_limit", 6),
    ("xC+idx", "x_copy_then_index", 6),
    ("data xCOPY", "data_x_copy_limit", 10),
)

# The WAL column, for commands that measure it (the median of the runs' WAL, in MB).
WAL_COLUMN: tuple[tuple[str, str, int], ...] = (("WAL MB", "wal_median_mb", 8),)


def table_lines(
    summaries: Sequence[MethodSummary], ratios: tuple[tuple[str, str, int], ...] = COPY_RATIOS
) -> list[str]:
    """A fixed-width text table, one method per line; unavailable ones say why."""
    heads = " ".join(f"{head:>{width}}" for head, _, width in ratios)
    header = (
        f"{'method':<44} {'seconds':>8} {'range':>13} {'rows/s':>10} {'MB/s':>7} {heads} "
        f"{'RSS MB':>7}  check"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        if s.status != "ok":
            lines.append(f"{s.label:<44} {s.status}: {s.reason}")
            continue
        values = " ".join(
            f"{_fmt(getattr(s, name), f'{width}.2f'):>{width}}" for _, name, width in ratios
        )
        spread = (
            f"{s.min_s:.2f}-{s.max_s:.2f}" if s.min_s is not None and s.max_s is not None else "-"
        )
        lines.append(
            f"{s.label:<44} {_fmt(s.median_s, '8.2f')} {spread:>13} {_fmt(s.rows_per_s, '10,.0f')} "
            f"{_fmt(s.mb_per_s, '7.1f')} {values} "
            f"{_fmt(max(s.peak_rss_mb, default=None), '7.0f')}"
            f"  {s.check}"
        )
    return lines


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, package and tool versions."""
    psql = psql_path()
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES},
        "tools": {
            "psql": tool_version([psql, "--version"]) if psql else None,
            "pgloader": tool_version(["pgloader", "--version"]) or None,
        },
    }


def write_json(path: Path, payload: dict[str, Any], summaries: Sequence[MethodSummary]) -> None:
    """Everything measured, plus the run's context, as indented JSON."""
    methods = []
    for s in summaries:
        item = dict(vars(s))
        item["check"] = s.check
        methods.append(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**payload, "methods": methods}, indent=2) + "\n")


def _colour(method: str) -> str:
    if method == "arrowferry":
        return "#2b8cbe"
    baseline = method.startswith("copy") or method.endswith("limit")
    return "#444444" if baseline else "#999999"


def write_chart(
    path: Path,
    summaries: Sequence[MethodSummary],
    title: str,
    ratio: str = "x_copy_limit",
    ratio_label: str = "COPY",
) -> str | None:
    """Horizontal bars of median seconds, annotated with the ``ratio`` attribute
    (x COPY limit by default).

    Returns None when drawn, else why not.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install matplotlib)"
    done = [s for s in summaries if s.median_s is not None]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(done) + 1.6))
    colours = [_colour(s.name) for s in done]
    bars = ax.barh([s.label for s in done], [s.median_s or 0 for s in done], color=colours)
    for bar, s in zip(bars, done, strict=True):
        mark = "" if not s.problems else "  (values differ)"
        text = f" {s.median_s:.1f} s  {_fmt(getattr(s, ratio), '.2f')}x {ratio_label}{mark}"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, text, va="center")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median; lower is better)")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, max(s.median_s or 0 for s in done) * 1.8)  # room for the labels
    skipped = [f"{s.label}: {s.status}" for s in summaries if s.median_s is None]
    if skipped:
        fig.text(0.01, 0.01, "not measured: " + "; ".join(skipped), fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
