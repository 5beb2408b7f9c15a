"""Where two sides' sums differ: which segments, which columns, and which rows.

Segments whose row count and every column sum agree are equal (a difference hides only
in a 2**-64 collision). The others are read again, row by row, on both sides (a key
range per segment, so an index finds them) and joined on the seed of each row's key:
a row on one side only is missing or extra, a row whose column hashes differ changed
in those columns. Without a key, rows are matched by the hash of the whole row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from arrowferry.checksum.report import RowDifference, TableVerification
from arrowferry.checksum.sides import Sums
from arrowferry.dialects.checks import CheckTable

DRILL_SEGMENTS = 8  # segments read again at once
MAX_DRILL_SEGMENTS = 64  # at most, per table: the counts are then a lower bound


@dataclass
class Differences:
    segments: list[int] = field(default_factory=list)
    columns: set[int] = field(default_factory=set)  # differing in segments of equal counts


def differing(source: Sums, target: Sums) -> Differences:
    out = Differences()
    for seg in sorted(set(source.by_segment) | set(target.by_segment)):
        a, b = source.by_segment.get(seg), target.by_segment.get(seg)
        if a is not None and b is not None and (a == b).all():
            continue
        out.segments.append(seg)
        if a is not None and b is not None and a[0] == b[0]:
            out.columns |= {i - 1 for i in range(1, len(a)) if a[i] != b[i]}
    return out


@dataclass
class Found:
    """Row differences of the segments read again."""

    missing: pl.DataFrame
    extra: pl.DataFrame
    changed: list[tuple[dict[str, Any], dict[str, Any], list[int]]]  # (a row, b row, columns)


def row_differences(table: CheckTable, a: pl.DataFrame, b: pl.DataFrame) -> Found:
    """Join two sides' row hashes: by seed with a key, by whole-row hash without."""
    hashes = [f"h{i}" for i in range(len(table.columns))]
    if a.is_empty() or b.is_empty():
        return Found(a, b, [])
    on = "s" if table.key else "r"
    if not table.key:
        return _multiset(a, b)
    joined = a.join(b, on=on, how="full", suffix="_b", coalesce=False)
    missing = joined.filter(pl.col(f"{on}_b").is_null()).select(a.columns)
    extra_cols = {f"{c}_b" if f"{c}_b" in joined.columns else c: c for c in b.columns}
    extra = joined.filter(pl.col(on).is_null()).select(list(extra_cols)).rename(extra_cols)
    both = joined.filter(pl.col(on).is_not_null() & pl.col(f"{on}_b").is_not_null())
    differ = (
        pl.any_horizontal([pl.col(h) != pl.col(f"{h}_b") for h in hashes])
        if hashes
        else pl.lit(False)
    )
    changed = []
    for row in both.filter(differ).iter_rows(named=True):
        cols = [i for i, h in enumerate(hashes) if row[h] != row[f"{h}_b"]]
        changed.append(
            (
                {c: row[c] for c in a.columns},
                {c: row[extra_cols_key(c, row)] for c in b.columns},
                cols,
            )
        )
    return Found(missing, extra, changed)


def extra_cols_key(column: str, row: dict[str, Any]) -> str:
    return f"{column}_b" if f"{column}_b" in row else column


def _multiset(a: pl.DataFrame, b: pl.DataFrame) -> Found:
    """Rows without a key: a row hash more often on one side is a row missing or extra."""
    count_a = a.group_by("r").len().rename({"len": "na"})
    count_b = b.group_by("r").len().rename({"len": "nb"})
    counts = count_a.join(count_b, on="r", how="full", coalesce=True).fill_null(0)
    more_a = counts.filter(pl.col("na") > pl.col("nb"))
    more_b = counts.filter(pl.col("nb") > pl.col("na"))
    missing = a.join(more_a.select("r"), on="r", how="semi").unique("r")
    extra = b.join(more_b.select("r"), on="r", how="semi").unique("r")
    return Found(missing, extra, [])


def record(
    result: TableVerification,
    table: CheckTable,
    target: CheckTable,
    found: Found,
    key_names: Sequence[str],
    shown: tuple[dict[tuple[Any, ...], dict[str, Any]], dict[tuple[Any, ...], dict[str, Any]]],
    examples: int,
) -> None:
    """Count what was found and keep up to ``examples`` of each kind, with both values."""
    result.missing_rows += found.missing.height
    result.extra_rows += found.extra.height
    result.changed_rows += len(found.changed)
    names = [c.name for c in table.columns]
    for _a_row, _b_row, cols in found.changed:
        for i in cols:
            if names[i] not in result.columns:
                result.columns.append(names[i])
    a_shown, b_shown = shown
    for a_row, b_row, cols in found.changed:
        if len(result.examples) >= examples:
            break
        a_key, b_key = _key(a_row, table), _key(b_row, table)
        a_values, b_values = a_shown.get(a_key, {}), b_shown.get(b_key, {})
        result.examples.append(
            RowDifference(
                "changed",
                dict(zip(key_names, _shown_key(a_key, table), strict=True)),
                {
                    names[i]: (a_values.get(names[i]), b_values.get(target.columns[i].name))
                    for i in cols
                },
            )
        )
    for kind, frame, side_shown in (
        ("missing", found.missing, a_shown),
        ("extra", found.extra, b_shown),
    ):
        for row in frame.iter_rows(named=True):
            if len(result.examples) >= examples:
                break
            key = _key(row, table)
            values = side_shown.get(key) if table.key else _row_values(row, names)
            result.examples.append(
                RowDifference(
                    kind,  # type: ignore[arg-type]
                    dict(zip(key_names, _shown_key(key, table), strict=True)),
                    row=values,
                )
            )


def _key(row: dict[str, Any], table: CheckTable) -> tuple[Any, ...]:
    return tuple(row[f"k{j}"] for j in range(len(table.key)))


def _shown_key(key: tuple[Any, ...], table: CheckTable) -> tuple[Any, ...]:
    """A key as the report shows it: an integer as a number (a server sends its text)."""
    out = []
    for value, col in zip(key, table.key_columns, strict=True):
        whole = col.kind == "int" and col.type.kind != "boolean" and isinstance(value, str)
        out.append(int(value) if whole and value.lstrip("-").isdigit() else value)
    return tuple(out)


def _row_values(row: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: row.get(f"v{i}") for i, name in enumerate(names)}


def keys_of(
    found: Found, table: CheckTable, examples: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The keys whose rows the examples show: (source side's, target side's)."""
    if not table.key:
        return [], []
    a_keys = [_key(a, table) for a, _b, _c in found.changed[:examples]]
    b_keys = [_key(b, table) for _a, b, _c in found.changed[:examples]]
    a_keys += [_key(r, table) for r in found.missing.head(examples).iter_rows(named=True)]
    b_keys += [_key(r, table) for r in found.extra.head(examples).iter_rows(named=True)]
    return a_keys, b_keys
