"""The order of an incremental run's writes, so the target's foreign keys stay in place.

A full migration's data-only path drops the foreign keys touching the loaded tables and
re-validates them after the load: a scan of every referencing table, seconds for a few
changed rows. An incremental run keeps them instead, and writes in an order they accept:

- deletes first (``--detect-deletes``), referencing tables before the ones they
  reference, each table's in a transaction of its own (a run stopped after them is
  still right: the next one compares the key sets again);
- then the upserts, referenced tables first, one table at a time when any two of the
  run's tables are linked.

A cycle of foreign keys between two or more of the run's tables has no such order: then
the keys are suspended and re-validated as in a data-only run (said in a warning).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arrowferry.plan import TablePlan

Edges = Sequence[tuple[str, str]]  # (referencing table, referenced table)


def parents_first(tables: Sequence[TablePlan], edges: Edges) -> list[TablePlan] | None:
    """``tables`` with each table after those it references (among them); None when the
    references among them form a cycle. A table referencing itself is no obstacle: a
    statement's rows are checked when it ends."""
    names = {t.name for t in tables}
    needs: dict[str, set[str]] = {t.name: set() for t in tables}
    for child, parent in edges:
        if child in names and parent in names and child != parent:
            needs[child].add(parent)
    out: list[TablePlan] = []
    placed: set[str] = set()
    todo = list(tables)
    while todo:
        ready = [t for t in todo if needs[t.name] <= placed]
        if not ready:
            return None
        for table in ready:
            out.append(table)
            placed.add(table.name)
        todo = [t for t in todo if t.name not in placed]
    return out


def linked(tables: Sequence[TablePlan], edges: Edges) -> bool:
    """Whether a table of the run references another one of them."""
    names = {t.name for t in tables}
    return any(c in names and p in names and c != p for c, p in edges)
