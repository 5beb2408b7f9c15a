"""Which tables of the source a run takes: --include and --exclude."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from arrowferry.errors import BadInputError
from arrowferry.model import Schema, Table


def select_tables(schema: Schema, include: Sequence[str], exclude: Sequence[str]) -> list[Table]:
    """Tables matching the include patterns (all when empty) and none of the excludes."""
    names = schema.table_names
    for pattern in include:
        if not any(fnmatch.fnmatchcase(n, pattern) or n.lower() == pattern.lower() for n in names):
            raise BadInputError(
                f"--include: no table matches {pattern!r}; the source has "
                f"{', '.join(repr(n) for n in names) or 'no tables'}"
            )

    def wanted(name: str) -> bool:
        def hit(p: str) -> bool:
            return fnmatch.fnmatchcase(name, p) or name.lower() == p.lower()

        return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)

    return [t for t in schema.tables if wanted(t.name)]
