"""How arrowferry's time and memory grow with the data: one ``run.py`` per size, one chart.

For each ``--rows`` value this runs ``run.py`` (arrowferry plus the two COPY baselines,
each checked value by value), keeps each run's JSON as ``results/scale-<rows>.json``, and
writes ``results/scaling.json`` and ``results/scaling.png``: seconds against rows on
log-log axes, with the line time would follow if it grew exactly linearly from the
smallest size, and arrowferry's peak RSS per size.

Usage::

    python benchmarks/scaling.py --rows 200000,2200000,22000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHOWN = ("copy_limit", "copy_then_index", "arrowferry")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="200000,2200000,22000000", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method and size")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "scaling.json")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a size's existing scale-<rows>.json"
    )
    return parser.parse_args(argv)


def run_size(rows: int, repeat: int, out: Path) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(HERE / "run.py"),
        "--rows",
        str(rows),
        "--repeat",
        str(repeat),
        "--methods",
        "arrowferry",
        "--results",
        str(out),
        "--no-chart",
    ]
    started = time.perf_counter()
    subprocess.run(argv, check=True)
    print(f"[scaling] {rows:,} rows done in {time.perf_counter() - started:.0f} s", flush=True)
    return dict(json.loads(out.read_text()))


def summarise(runs: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per size: median seconds per method, arrowferry's RSS and data phase."""
    out = []
    for rows, payload in sorted(runs.items()):
        methods = {m["name"]: m for m in payload["methods"]}
        row: dict[str, Any] = {"rows": rows, "created": payload["created"]}
        for name in SHOWN:
            m = methods.get(name, {})
            row[name] = m.get("median_s")
            row[f"{name}_check"] = m.get("check")
        af = methods.get("arrowferry", {})
        row["arrowferry_peak_rss_mb"] = max(af.get("peak_rss_mb") or [0]) or None
        row["arrowferry_data_s"] = af.get("data_median_s")
        out.append(row)
    return out


def chart(path: Path, table: list[dict[str, Any]]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed"
    rows = [r["rows"] for r in table]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"copy_limit": ("#444444", "--"), "copy_then_index": ("#444444", ":")}
    for name in SHOWN:
        colour, line = styles.get(name, ("#2b8cbe", "-"))
        left.plot(rows, [r[name] for r in table], line, color=colour, marker="o", label=name)
    first = table[0]["arrowferry"]
    if first:
        linear = [first * r / rows[0] for r in rows]
        left.plot(
            rows, linear, "-", color="#2b8cbe", alpha=0.25, lw=6, label="linear from smallest"
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("rows")
    left.set_ylabel("seconds (lower is better)")
    left.legend(fontsize=8)
    left.set_title("time against rows", fontsize=10)
    rss = [r["arrowferry_peak_rss_mb"] or 0 for r in table]
    right.plot(rows, rss, "-", color="#2b8cbe", marker="o")
    for x, y in zip(rows, rss, strict=True):
        right.annotate(
            f"{y:.0f} MB", (x, y), textcoords="offset points", xytext=(0, 6), ha="center"
        )
    right.set_xscale("log")
    right.set_ylim(0, max(rss) * 1.4 if rss else 1)
    right.set_xlabel("rows")
    right.set_ylabel("arrowferry peak RSS (MB)")
    right.set_title("client memory against rows", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = [int(x) for x in args.rows.split(",") if x.strip()]
    runs = {}
    for rows in sizes:
        out = args.results.with_name(f"scale-{rows}.json")
        if args.reuse and out.exists():
            runs[rows] = json.loads(out.read_text())
            continue
        runs[rows] = run_size(rows, args.repeat, out)
    table = summarise(runs)
    args.results.write_text(
        json.dumps(
            {
                "command": " ".join(["python", "benchmarks/scaling.py", *sys.argv[1:]]),
                "sizes": table,
            },
            indent=2,
        )
        + "\n"
    )
    header = f"{'rows':>12} {'COPY limit':>11} {'COPY+idx':>9} {'arrowferry':>11} {'x C+idx':>8} {'RSS MB':>7}"
    print(header)
    for r in table:
        ratio = (
            r["arrowferry"] / r["copy_then_index"]
            if r["arrowferry"] and r["copy_then_index"]
            else None
        )
        print(
            f"{r['rows']:>12,} {r['copy_limit'] or 0:>11.2f} {r['copy_then_index'] or 0:>9.2f} "
            f"{r['arrowferry'] or 0:>11.2f} {ratio or 0:>8.2f} {r['arrowferry_peak_rss_mb'] or 0:>7.0f}"
        )
    problem = chart(args.results.with_suffix(".png"), table)
    print(
        f"wrote {args.results}"
        + (f" (no chart: {problem})" if problem else f" and {args.results.with_suffix('.png')}")
    )


if __name__ == "__main__":
    main()
