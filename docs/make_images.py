"""Draw the README's pictures from a real run: the progress board as it stood midway
(``docs/images/progress.svg``, rich's own SVG export of what the terminal shows) and
``MigrationResult.plot()`` (``docs/images/result-plot.png``).

    python docs/make_images.py postgresql://me@localhost/scratch

The run loads a generated shop database (about 4.6 million rows in five tables) into
the schema ``arrowferry_readme`` of that database, and drops the schema afterwards.
"""

from __future__ import annotations

import io
import sqlite3
import sys
import tempfile
from pathlib import Path

from rich.console import Console

import arrowferry as af
from arrowferry.progress_display import Board

HERE = Path(__file__).resolve().parent / "images"
SCHEMA = "arrowferry_readme"
TABLES = {  # name: (rows, columns as SQL expressions of n)
    "customers": (200_000, "n, 'customer ' || n, 'c' || n || '@example.com'"),
    "products": (50_000, "n, 'product ' || n, (n % 997) * 1.25"),
    "orders": (1_000_000, "n, n % 200000 + 1, date('2020-01-01', '+' || (n % 1500) || ' days')"),
    "order_items": (2_500_000, "n, n % 1000000 + 1, n % 50000 + 1, n % 7 + 1"),
    "events": (900_000, "n, 'page_view', '{\"path\": \"/p/' || n || '\"}'"),
}
DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price NUMERIC(10,2));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id),
                     placed DATE);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id),
                          product_id INTEGER REFERENCES products (id), quantity INTEGER);
CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, payload TEXT);
"""


def shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    for name, (rows, values) in TABLES.items():
        conn.execute(
            f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
            f"INSERT INTO {name} SELECT {values} FROM s"
        )
    conn.commit()
    conn.close()
    return path


def main(url: str) -> None:
    board = Board()
    shots: list[str] = []

    def watch(event: af.MigrationProgress) -> None:
        board.update(event)
        midway = event.overall_percentage >= 45 and len(board.active) >= 3
        if not shots and event.table is not None and midway:
            console = Console(record=True, width=112, file=io.StringIO(), force_terminal=True)
            console.print(board)
            shots.append(console.export_svg(title="arrowferry migrate shop.sqlite postgresql://…"))

    with tempfile.TemporaryDirectory() as tmp:
        source = shop(Path(tmp) / "shop.sqlite")
        result = af.migrate(
            source,
            url,
            target_schema=SCHEMA,
            drop_tables=True,
            workers=4,
            on_progress=watch,
        )
    assert result.success, result.errors
    assert shots, "the run ended before three tables loaded at once"
    HERE.mkdir(exist_ok=True)
    (HERE / "progress.svg").write_text(shots[0])
    result.plot().savefig(HERE / "result-plot.png", dpi=100)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    print(f"{result.rows_migrated:,} rows in {result.duration:.1f} s; pictures in {HERE}")


if __name__ == "__main__":
    main(sys.argv[1])
