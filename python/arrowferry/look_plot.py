"""A migration's result as a chart: seconds and rows per second per table (matplotlib,
the ``plot`` extra). Drawn on a Figure of its own, never through pyplot: no global
state, no GUI backend, safe from any thread; it shows itself in a notebook."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from arrowferry.result import MigrationResult


class ResultFigure(Figure):
    """A Figure that a notebook shows as a PNG (a Figure made without pyplot has no
    image form of its own until a matplotlib backend is set up in the kernel)."""

    def _repr_png_(self) -> bytes:
        out = io.BytesIO()
        self.savefig(out, format="png", dpi=100)
        return out.getvalue()


def draw(result: MigrationResult) -> ResultFigure:
    """Two bar charts side by side, slowest table on top: seconds, and rows per second."""
    loaded = sorted(result.tables, key=lambda t: t.seconds)
    names = [t.name for t in loaded]
    figure = ResultFigure(figsize=(10, max(2.5, 0.32 * len(names) + 1.2)), layout="constrained")
    took, rate = figure.subplots(1, 2, sharey=True)
    took.barh(names, [t.seconds for t in loaded], color="#4c72b0")
    took.set_xlabel("seconds")
    took.set_title("time per table")
    rate.barh(names, [t.rows_per_second for t in loaded], color="#55a868")
    rate.set_xlabel("rows per second")
    rate.set_title("throughput")
    rate.xaxis.set_major_formatter(lambda x, _pos: f"{x:,.0f}")
    figure.suptitle(
        f"{len(names)} tables, {result.rows_migrated:,} rows in {result.duration:.2f} s"
    )
    return figure
