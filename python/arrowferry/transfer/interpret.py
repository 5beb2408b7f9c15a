"""What a run read by a rule rather than as written, said the same way in both directions.

A dry run can only say what *may* happen to a column; a real run counts what did: per
column and kind, the values written through an interpretation of their stored form
(a number read as a julian day, text stored in a BLOB column become its bytes...).
The counts go into the ledger (``interpreted``) and one warning per column; values
that land where no user meant them (julian days before year 1, dates SQLite cannot
read) get a warning of their own, with examples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from arrowferry.wording import plural

# kind -> (noun, its plural, what happened to them); the sentence follows the count
SENTENCES: dict[str, tuple[str, str, str]] = {
    # SQLite -> PostgreSQL
    "text_as_bytes": (
        "text value",
        "text values",
        "stored in this BLOB column became the bytes of the UTF-8 text",
    ),
    "number_as_bytes": (
        "number",
        "numbers",
        "stored in this BLOB column became the bytes of the decimal text",
    ),
    "number_as_text": ("number", "numbers", "became their decimal text"),
    "rounded_to_scale": (
        "value",
        "values",
        "with more decimal places than the column's scale rounded by PostgreSQL "
        "(half away from zero)",
    ),
    "blob_as_text": ("blob", "blobs", "read as UTF-8 text"),
    "julian_day": ("number", "numbers", "read as julian days (rounded to the millisecond)"),
    "epoch_seconds": ("number", "numbers", "read as Unix epoch seconds"),
    "epoch_milliseconds": ("number", "numbers", "read as Unix epoch milliseconds"),
    "offset_to_utc": (
        "value",
        "values",
        "with a UTC offset converted to UTC and the offset dropped",
    ),
    "naive_as_utc": ("value", "values", "without a UTC offset read as UTC"),
    "word_as_boolean": (
        "text value",
        "text values",
        "other than 0 and 1 ('t', 'yes', 'true'...) read as booleans",
    ),
    # PostgreSQL -> SQLite
    "negative_zero": (
        "negative zero",
        "negative zeros",
        "became 0.0 (SQLite keeps no negative zero)",
    ),
    "unreadable_date": (
        "value",
        "values",
        "('infinity', BC dates, years past 9999) kept as PostgreSQL writes them",
    ),
}
# kinds that get a warning of their own, naming a few stored values
CALLED_OUT = {
    "julian_day_before_year_1": (
        "{counted} read as julian days land before year 1 (julian day 0 is "
        "4714-11-24 BC), for example {examples}: numbers that small are rarely dates; if "
        "the column holds plain numbers, map it to bigint or double precision with "
        "--type-map, or fix the values"
    ),
    "unreadable_date": (
        "{counted} that SQLite's date functions do not read ('infinity', BC dates, "
        "years past 9999): kept as PostgreSQL writes them, for example {examples}"
    ),
}
_CALLED_OUT_NOUNS = {
    "julian_day_before_year_1": ("number", "numbers"),
    "unreadable_date": ("value", "values"),
}
EXAMPLED = frozenset(CALLED_OUT)


def warnings_for(
    table: str,
    interpreted: Mapping[str, Mapping[str, int]],
    examples: Mapping[str, Sequence[Any]],
) -> list[str]:
    """One warning per column that had values interpreted, then the called-out ones."""
    lines = []
    for column, kinds in sorted(interpreted.items()):
        parts = [
            f"{plural(kinds[kind], one, many)} {what}"
            for kind, (one, many, what) in SENTENCES.items()
            if kinds.get(kind) and kind not in CALLED_OUT
        ]
        if parts:
            lines.append(f"{table}.{column}: {'; '.join(parts)}")
        for kind, template in CALLED_OUT.items():
            n = kinds.get(kind, 0)
            if n:
                shown = ", ".join(repr(v) for v in examples.get(f"{column}\x00{kind}", []))
                lines.append(
                    f"{table}.{column}: "
                    + template.format(
                        counted=plural(n, *_CALLED_OUT_NOUNS[kind]), examples=shown or "-"
                    )
                )
    return lines
