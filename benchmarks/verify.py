"""Benchmark arrowferry's verify on the app database: migrate, then verify, in three pairs,
and reladiff on PostgreSQL -> PostgreSQL, in one run.

For the generated app database (``gen_appdb.py``, the same ``--rows``/``--seed`` as
``run.py``): SQLite -> PostgreSQL, PostgreSQL -> SQLite and PostgreSQL -> PostgreSQL are
each migrated once and verified, every step in a process of its own (its seconds and peak
RSS); verify's time is given as a ratio to its migration's (issue 15: at most 0.4x, peak
RSS at most 300 MB). Then reladiff (hash segments and bisection inside each database, as
verify does on PostgreSQL) on the PostgreSQL -> PostgreSQL copy, every column compared,
with no difference, and again after a few differences are seeded into the copy (values
changed, rows deleted and added): both tools must name the same keys. Prints a table and
writes ``results/verify.json``.

Each pair is migrated and verified ``--repeat`` times (3 by default), each verify right
after its migration; the ratio is of the medians, and every run's figures are kept.

Usage::

    python benchmarks/verify.py --rows 2200000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import pg  # noqa: E402
from harness.methods import vm_hwm_mb  # noqa: E402
from harness.runner import (  # noqa: E402
    REPO_PYTHON,
    command_line,
    log,
    run_context,
    settle,
    source_db,
    wait_for_quiet,
)

TARGET_RATIO = 0.4
MAX_RSS_MB = 300
TABLES = ("users", "events")
# seeded into the PostgreSQL copy: values changed, rows deleted, a row added (events ids as
# fractions of the table, so any --rows works)
SEEDED = (
    "UPDATE events SET score = score + 1 WHERE id IN ({a}, {b})",
    "UPDATE events SET kind = 'seeded' WHERE id = {c}",
    "UPDATE events SET payload = jsonb_set(payload, '{{session}}', '0') WHERE id = {d}",
    "DELETE FROM events WHERE id IN ({e}, {f})",
    "INSERT INTO events (id, user_id, kind, happened_at) VALUES ({g}, 1, 'extra', '2024-01-01')",
)


# --- steps, each run in a process of its own ------------------------------------------


def step_migrate(source: str, target: str) -> dict[str, Any]:
    import arrowferry as af

    started = time.perf_counter()
    result = af.migrate(source, target, drop_tables=True)
    return {
        "ok": result.success,
        "rows": result.rows_migrated,
        "seconds": time.perf_counter() - started,
    }


def step_verify(source: str, target: str) -> dict[str, Any]:
    import arrowferry as af

    started, cpu = time.perf_counter(), time.process_time()
    verified = af.verify(source, target, examples=100, reject_dir=None)
    seconds = time.perf_counter() - started
    keys = sorted(
        int(e.key["id"])
        for t in verified.tables
        for e in t.examples
        if t.source == "events" and "id" in e.key
    )
    return {
        "ok": verified.ok,
        "seconds": seconds,
        "client_cpu_s": time.process_time() - cpu,
        "tables": {t.source: t.summary() for t in verified.tables},
        "event_keys": keys,
    }


def step_floor(source: str, target: str) -> dict[str, Any]:
    """``verify`` with the client's work on the values taken out: the same introspection,
    pairing, snapshots, threads and reads of every row (the client's side, from SQLite)
    and the same segment sums computed by the server, but no canonical form, no hash and
    no comparison. What is left is the floor of this design: no client hashing, however
    fast, makes a verify faster than this."""
    import importlib

    import numpy as np

    import arrowferry as af
    from arrowferry.checksum import sides

    # the module: the facade's ``arrowferry.verify`` is the function
    verify_module = importlib.import_module("arrowferry.verify")

    def read_only(self: Any, table: Any, reads: Any, batch: Any) -> tuple[Any, Any, Any, list[Any]]:
        n = batch.num_rows
        zeros = np.zeros(n, dtype=np.int64)
        return zeros, zeros, np.zeros((sides.hashed_width(table) - 1, n), np.int64), []

    # fail loudly, not silently measure something else, if the package is reshaped
    assert callable(getattr(sides.ClientSide, "_hashes", None))
    assert callable(getattr(verify_module._Run, "_compare", None))
    sides.ClientSide._hashes = read_only  # type: ignore[method-assign]
    verify_module._Run._compare = lambda *args: None  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    af.verify(source, target, examples=0, reject_dir=None)
    return {
        "ok": True,
        "seconds": time.perf_counter() - started,
        "client_cpu_s": time.process_time() - cpu,
    }


def _reladiff_db(url: str) -> dict[str, Any]:
    from arrowferry.urls import parse_url

    e = parse_url(url)
    info: dict[str, Any] = {"driver": "postgresql", "database": e.database, "user": e.username}
    info["host"] = e.params.get("host") or e.host or "localhost"
    if e.port:
        info["port"] = e.port
    if e.password:
        info["password"] = e.password
    return info


def step_reladiff(source: str, target: str) -> dict[str, Any]:
    """reladiff's hash diff of every table, every column compared (its defaults otherwise)."""
    import psycopg
    from reladiff import connect_to_table, diff_tables

    started = time.perf_counter()
    keys: set[int] = set()
    for table in TABLES:
        with psycopg.connect(source) as conn:
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    (table,),
                ).fetchall()
            ]
        extra = tuple(c for c in columns if c != "id")
        a = connect_to_table(_reladiff_db(source), table, "id")
        b = connect_to_table(_reladiff_db(target), table, "id")
        for _sign, row in diff_tables(a, b, extra_columns=extra):
            if table == "events":
                keys.add(int(row[0]))
    return {"ok": not keys, "seconds": time.perf_counter() - started, "event_keys": sorted(keys)}


STEPS = {
    "migrate": step_migrate,
    "verify": step_verify,
    "floor": step_floor,
    "reladiff": step_reladiff,
}


def run_step(name: str, source: str, target: str, timeout: float) -> dict[str, Any]:
    """One step in a fresh Python process: its outcome, seconds and peak RSS."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE), env.get("PYTHONPATH", ""), str(REPO_PYTHON)) if p
    )
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--step",
        json.dumps([name, source, target]),
    ]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise SystemExit(f"{name} {pg.mask(source)} -> {pg.mask(target)} failed: {tail}")
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    log(
        f"{name} {pg.mask(source)} -> {pg.mask(target)}: {outcome['seconds']:.2f} s, {outcome['peak_rss_mb']:.0f} MB"
    )
    return outcome


# --- the run --------------------------------------------------------------------------


def seed_differences(url: str) -> set[int]:
    """Seed the differences into the copy; the event ids that now differ."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT max(id) FROM events WHERE payload IS NOT NULL").fetchone()
        top = int(row[0]) if row and row[0] is not None else 100
        # the payload one must hold a document (jsonb_set of NULL is NULL: no change)
        (doc,) = conn.execute(
            "SELECT min(id) FROM events WHERE payload ? 'session' AND id > %s", (top // 5,)
        ).fetchone()
        ids = {
            "a": 17,
            "b": top // 2 + 3,
            "c": top // 3,
            "d": int(doc),
            "e": 5,
            "f": top - 1,
            "g": top + 1_000,
        }
        for statement in SEEDED:
            conn.execute(statement.format(**ids))  # type: ignore[arg-type]
    return set(ids.values())


def pair_row(
    name: str,
    migrations: list[dict[str, Any]],
    verifications: list[dict[str, Any]],
    floors: list[dict[str, Any]],
) -> dict[str, Any]:
    """Medians of the repeats (each verify right after its migration, so both see the
    same load, and the floor right after the verify); the peak RSS is the highest of any
    run."""
    migrate_s = statistics.median(m["seconds"] for m in migrations)
    verify_s = statistics.median(v["seconds"] for v in verifications)
    floor_s = statistics.median(f["seconds"] for f in floors) if floors else None
    ratio = verify_s / migrate_s
    rss = max(v["peak_rss_mb"] for v in verifications)
    ok = all(v["ok"] for v in verifications)
    return {
        "pair": name,
        "migrate_s": round(migrate_s, 3),
        "verify_s": round(verify_s, 3),
        "verify_x_migrate": round(ratio, 3),
        "verify_client_cpu_s": round(
            statistics.median(v["client_cpu_s"] for v in verifications), 3
        ),
        # the same verify with the client's canonical forms, hashes and comparison taken out
        "floor_s": None if floor_s is None else round(floor_s, 3),
        "floor_x_migrate": None if floor_s is None else round(floor_s / migrate_s, 3),
        "floor_client_cpu_s": (
            round(statistics.median(f["client_cpu_s"] for f in floors), 3) if floors else None
        ),
        "verify_peak_rss_mb": round(rss, 1),
        "migrate_peak_rss_mb": round(max(m["peak_rss_mb"] for m in migrations), 1),
        "verified_ok": ok,
        "met": ratio <= TARGET_RATIO and rss <= MAX_RSS_MB and ok,
        "runs": [
            {
                "migrate_s": round(m["seconds"], 3),
                "verify_s": round(v["seconds"], 3),
                "verify_x_migrate": round(v["seconds"] / m["seconds"], 3),
                "floor_s": round(f["seconds"], 3) if f else None,
                "load_average": v.get("load_average"),
            }
            for m, v, f in zip(
                migrations, verifications, floors or [None] * len(migrations), strict=True
            )
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = command_line(__doc__.split("\n\n")[0], [], "", "verify.json")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        name, source, target = json.loads(args.step)
        outcome = STEPS[name](source, target)
        outcome["peak_rss_mb"] = vm_hwm_mb() or 0.0
        outcome["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(outcome))
        return
    args = settle(args)
    source = source_db(args.cache_dir, args.rows, args.seed)
    admin_url = pg.server_url(args.pgdata, args.server)
    warning, waited = wait_for_quiet(args.wait_quiet)
    if warning:
        log(f"warning: {warning}")
    rows: list[dict[str, Any]] = []
    with (
        pg.fresh_database(admin_url, "verify_pg") as pg_url,
        pg.fresh_database(admin_url, "verify_pg_copy") as pg_copy,
        tempfile.TemporaryDirectory(prefix="afbench-verify-") as tmp,
    ):
        back = str(Path(tmp) / "back.db")
        lite = str(source.resolve())
        for name, src, dst in (
            ("SQLite -> PostgreSQL", lite, pg_url),
            ("PostgreSQL -> SQLite", pg_url, back),
            ("PostgreSQL -> PostgreSQL", pg_url, pg_copy),
        ):
            migrations, verifications, floors = [], [], []
            for _ in range(max(1, args.repeat)):
                migrations.append(run_step("migrate", src, dst, args.timeout))
                verifications.append(run_step("verify", src, dst, args.timeout))
                if "SQLite" in name:  # a client side to take the hashing out of
                    floors.append(run_step("floor", src, dst, args.timeout))
            rows.append(pair_row(name, migrations, verifications, floors))
        clean = run_step("reladiff", pg_url, pg_copy, args.timeout)
        clean_verify = next(r for r in rows if r["pair"] == "PostgreSQL -> PostgreSQL")
        expected = seed_differences(pg_copy)
        seeded_verify = run_step("verify", pg_url, pg_copy, args.timeout)
        seeded_reladiff = run_step("reladiff", pg_url, pg_copy, args.timeout)
    anchor = {
        "no_difference": {
            "verify_s": clean_verify["verify_s"],
            "reladiff_s": round(clean["seconds"], 3),
            "reladiff_peak_rss_mb": round(clean["peak_rss_mb"], 1),
            "verify_at_least_as_fast": clean_verify["verify_s"] <= clean["seconds"],
            "both_ok": clean_verify["verified_ok"] and clean["ok"],
        },
        "seeded": {
            "expected_keys": sorted(expected),
            "verify_keys": seeded_verify["event_keys"],
            "reladiff_keys": seeded_reladiff["event_keys"],
            "verify_s": round(seeded_verify["seconds"], 3),
            "reladiff_s": round(seeded_reladiff["seconds"], 3),
            "same_keys": set(seeded_verify["event_keys"])
            == set(seeded_reladiff["event_keys"])
            == expected,
        },
    }
    payload = {
        **run_context("verify.py", args, source, admin_url, TABLES),
        "busy_at_start": warning,
        "waited_for_quiet_s": waited,
        "target": {"max_verify_x_migrate": TARGET_RATIO, "max_peak_rss_mb": MAX_RSS_MB},
        "pairs": rows,
        "reladiff": anchor,
    }
    total = sum(payload["source"]["rows"].values())
    print(
        f"{total:,} rows, app database; verify against its migration and reladiff (PostgreSQL -> PostgreSQL)"
    )
    print(
        f"{'pair':28} {'migrate s':>10} {'verify s':>9} {'x migrate':>10} {'floor s':>8}"
        f" {'x migrate':>10} {'RSS MB':>7}  target"
    )
    for r in rows:
        met = "met" if r["met"] else "NOT met"
        floor = (
            f"{r['floor_s']:8.2f} {r['floor_x_migrate']:10.2f}"
            if r["floor_s"] is not None
            else f"{'-':>8} {'-':>10}"
        )
        print(
            f"{r['pair']:28} {r['migrate_s']:10.2f} {r['verify_s']:9.2f} {r['verify_x_migrate']:10.2f}"
            f" {floor} {r['verify_peak_rss_mb']:7.0f}  {met}"
            + ("" if r["verified_ok"] else " (verify found differences)")
        )
    nd, sd = anchor["no_difference"], anchor["seeded"]
    print(
        f"reladiff, no difference: {nd['reladiff_s']:.2f} s (verify {nd['verify_s']:.2f} s); "
        f"seeded: verify {sd['verify_s']:.2f} s, reladiff {sd['reladiff_s']:.2f} s, "
        f"same keys: {sd['same_keys']}"
    )
    results = args.results or HERE / "results" / "verify.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(payload, indent=2) + "\n")
    log(f"wrote {results}")


if __name__ == "__main__":
    main()
