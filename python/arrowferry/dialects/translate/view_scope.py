"""Which views a run can create: those that read only what the run creates.

A run of some of the source's tables (``include_tables``/``exclude_tables``) used to try
every view and report each one reading a table left out as the target's own error
(``relation "b" does not exist``, ``no such table: main.p``), as if something had gone
wrong. A view is now left out before it is tried, named with what it reads that the run
does not create; a view reading such a view is left out with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from arrowferry.dialects.translate.common import TranslationError, relations_read
from arrowferry.model import View


def out_of_reach(
    views: Sequence[View], tables: Iterable[str], dialect: str, schema: str | None = None
) -> dict[str, str]:
    """View name -> why it is left out: a table or view it reads that the run does not
    create (names compared case-insensitively; ``schema``: the source's, whose name may
    qualify them). A view whose SQL does not parse is left to the translation, which
    says why."""
    present = {t.lower() for t in tables}
    reads: dict[str, set[str]] = {}
    for view in views:
        try:
            reads[view.name] = relations_read(view.sql, dialect, schema)
        except TranslationError:
            continue
    names = {v.name.lower() for v in views}
    out: dict[str, str] = {}
    for name, read in reads.items():
        missing = sorted(r for r in read if r not in present and r not in names)
        if missing:
            out[name] = f"it reads {', '.join(missing)}, which this run does not migrate"
    changed = True
    while changed:  # a view reading a view left out is left out too
        changed = False
        left = {n.lower(): n for n in out}
        for name, read in reads.items():
            if name in out:
                continue
            behind = sorted(left[r] for r in read if r in left)
            if behind:
                out[name] = f"it reads view {', '.join(behind)}, which is not created"
                changed = True
    return out
