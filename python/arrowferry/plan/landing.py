"""Into a table someone else made (data_only): which target column each source column
lands in, and what the target's own columns the rows leave empty will hold.

Columns match by name exactly, then case-insensitively (when one target column alone
matches), then by the ``--identifiers`` policy the application's schema was named by
(``OrderId`` lands in ``order_id`` under ``snake_case``), then by ``--column-map``. A source column with nowhere to go stops the table
unless ``--ignore-missing-columns`` leaves it behind; a target column no source column
fills keeps its default (or NULL), and a NOT NULL one without a default stops the table
before any row moves.
"""

from __future__ import annotations

from collections.abc import Iterable

from arrowferry.errors import SchemaError
from arrowferry.model import Column, Table
from arrowferry.options import MigrationOptions, flag
from arrowferry.plan.identifiers import renamer
from arrowferry.wording import noun, plural


def landing_columns(
    table: Table, there: Table, options: MigrationOptions, warnings: list[str]
) -> tuple[dict[str, str], list[str]]:
    """Source column -> the target column of ``there`` it lands in, and the source
    columns left behind (``--ignore-missing-columns``)."""
    names = {c.name: c for c in there.columns}
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(name.lower(), []).append(name)
    mapped = {k.lower(): v for k, v in options.column_mappings.items()}
    named = renamer(options.identifiers)
    out: dict[str, str] = {}
    missing: list[str] = []
    for col in table.columns:
        wanted = mapped.get(f"{table.name}.{col.name}".lower())
        if wanted is not None:
            if wanted not in names:
                raise SchemaError(
                    f"{flag('column_map', f'{table.name}.{col.name}={wanted}')}: table "
                    f"{there.name!r} has no column {wanted!r} (it has {_listed(names)})"
                )
            landing = wanted
        elif col.name in names:
            landing = col.name
        elif len(folded.get(col.name.lower(), ())) == 1:
            landing = folded[col.name.lower()][0]
        elif named is not None and named(col.name) in names:
            landing = named(col.name)  # the application's naming (--identifiers snake_case)
        else:
            missing.append(col.name)
            continue
        taken = next((s for s, t in out.items() if t == landing), None)
        if taken is not None:
            raise SchemaError(
                f"table {table.name!r}: source columns {taken!r} and {col.name!r} would both "
                f"land in column {landing!r} of {there.name!r}; map one elsewhere with "
                f"{flag('column_map')}"
            )
        out[col.name] = landing
    _left_behind(table, there, missing, options, warnings)
    _unfilled(table, there, set(out.values()), warnings)
    return out, missing


def _left_behind(
    table: Table,
    there: Table,
    missing: list[str],
    options: MigrationOptions,
    warnings: list[str],
) -> None:
    if not missing:
        return
    what = f"{noun(len(missing), 'column')} {', '.join(repr(m) for m in missing)}"
    if not options.ignore_missing_columns:
        raise SchemaError(
            f"table {table.name!r}: the target table {there.name!r} has no {what} (it has "
            f"{_listed([c.name for c in there.columns])}); map "
            f"{noun(len(missing), 'it', 'each')} with "
            f"{flag('column_map', f'{table.name}.{missing[0]}=COLUMN')}, or leave "
            f"{noun(len(missing), 'it', 'them')} behind with {flag('ignore_missing_columns')}; "
            "nothing was written"
        )
    warnings.append(
        f"table {table.name!r}: source {what} left behind ({flag('ignore_missing_columns')}): "
        f"the target table {there.name!r} has no such {noun(len(missing), 'column')}"
    )


def _unfilled(table: Table, there: Table, filled: set[str], warnings: list[str]) -> None:
    empty = [c for c in there.columns if c.name not in filled and c.generated is None]
    required = [c for c in empty if _needs_a_value(c)]
    if required:
        raise SchemaError(
            f"table {table.name!r}: {noun(len(required), 'column')} "
            f"{', '.join(repr(c.name) for c in required)} of {there.name!r} "
            f"{noun(len(required), 'is', 'are')} NOT NULL without a default, and no source "
            f"column lands in {noun(len(required), 'it', 'them')}; map one with "
            f"{flag('column_map', f'{table.name}.SOURCE={required[0].name}')}; nothing was written"
        )
    if empty:
        warnings.append(
            f"table {table.name!r}: {plural(len(empty), 'column')} of {there.name!r} that no "
            f"source column fills {noun(len(empty), 'keeps its', 'keep their')} default (or NULL): "
            f"{', '.join(c.name for c in empty)}"
        )


def _needs_a_value(col: Column) -> bool:
    return not col.nullable and col.default is None and not col.identity


def _listed(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)
