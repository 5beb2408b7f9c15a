"""What the storage-class profile costs next to reading the table (issue 3: it must not
double the cost of a read).

Times, on one SQLite file: the read arrowferry does (ADBC batches, every column through its
planned CAST), the targeted profile a real run does (only the columns whose plan needs it),
and the full profile a dry run shows (every column, one scan). Prints a table and writes
JSON next to the other results.

    python benchmarks/profile_cost.py benchmarks/.cache/appdb-v1-r2200000-s42.db
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from arrowferry.api import Migration
from arrowferry.dialects import sqlite
from arrowferry.dialects.sqlite.source import SqliteSource


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--results", type=Path, default=Path(__file__).parent / "results" / "profile_cost.json"
    )
    args = parser.parse_args()
    plan = Migration(args.source, "postgresql://unused@localhost/x", dry_run=True).plan()
    rows = []
    with sqlite.connect_metadata_ctx(args.source) as conn:
        for table in plan.tables:
            columns = table.source.column_names
            needed = [c.name for c in table.source.columns if sqlite.needs_profile(c)]
            read = _median(
                lambda t=table: sum(
                    b.num_rows
                    for b in SqliteSource(args.source, 65_536, 1 << 40).batches(t, None, 65_536)
                ),
                args.repeat,
            )
            full = _median(
                lambda t=table, c=columns: sqlite.profile(conn, t.source.name, c), args.repeat
            )
            targeted = _median(
                lambda t=table, c=needed: sqlite.profile(conn, t.source.name, c), args.repeat
            )
            rows.append(
                {
                    "table": table.source.name,
                    "rows": table.rows,
                    "read_s": round(read, 3),
                    "targeted_profile_s": round(targeted, 3),
                    "profiled_columns": len(needed),
                    "full_profile_s": round(full, 3),
                    "targeted_over_read": round(targeted / read, 3),
                    "full_over_read": round(full / read, 3),
                }
            )
    print(
        f"{'table':<12}{'rows':>10}{'read s':>9}{'run profile s':>15}{'cols':>6}{'dry-run profile s':>19}{'run/read':>10}{'dry/read':>10}"
    )
    for r in rows:
        print(
            f"{r['table']:<12}{r['rows']:>10,}{r['read_s']:>9}{r['targeted_profile_s']:>15}{r['profiled_columns']:>6}"
            f"{r['full_profile_s']:>19}{r['targeted_over_read']:>10}{r['full_over_read']:>10}"
        )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"source": str(args.source), "tables": rows}, indent=2))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
