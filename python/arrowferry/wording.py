"""How messages count things: one rule for plurals, shared by every warning and error.

Stdlib only, imported from anywhere (it sits with ``errors`` at the bottom of the tree).
"""

from __future__ import annotations

_IRREGULAR = {"index": "indexes", "is": "are", "was": "were", "does": "do", "has": "have"}


def noun(count: int, word: str, many: str | None = None) -> str:
    """``word`` as it goes with ``count``: ``noun(1, "table")`` is "table", 2 "tables"."""
    if count == 1:
        return word
    if many is not None:
        return many
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """The count and the word: "1 table", "2 tables", "1,234 rows", "0 indexes"."""
    return f"{count:,} {noun(count, word, many)}"
