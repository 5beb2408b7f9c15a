"""Which tables of the source a run takes: --include and --exclude."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from arrowferry.errors import BadInputError
from arrowferry.model import Schema, Table
from arrowferry.urls import Endpoint


def select_tables(schema: Schema, include: Sequence[str], exclude: Sequence[str]) -> list[Table]:
    """Tables matching the include patterns (all when empty) and none of the excludes;
    patterns that match nothing, or leave nothing of a source that has tables, are refused."""
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

    chosen = [t for t in schema.tables if wanted(t.name)]
    if names and not chosen:  # an empty source is not an error (no_tables_note), a filter is
        given = [f"--include {p!r}" for p in include] + [f"--exclude {p!r}" for p in exclude]
        raise BadInputError(
            f"{' '.join(given)} leave no table to migrate; the source has "
            f"{', '.join(repr(n) for n in names)}"
        )
    return chosen


def no_tables_note(source: Endpoint, schema: str | None) -> str:
    """The warning of a run whose source has no tables at all: every pair of dialects
    gives the same outcome, a successful run that creates nothing."""
    if source.dialect == "sqlite":
        return f"{str(source.path)!r}: no tables to migrate"
    return f"{source.masked_url}: no tables to migrate in schema {schema!r}"
