"""Where a PostgreSQL view's text computes differently in SQLite, with no SQLite form
that computes the same: said, not refused (the view is right for most data).

- ``lower``/``upper``/``initcap`` of text: SQLite's fold ASCII letters only
  (``lower('É')`` is ``'É'`` there, ``'é'`` in PostgreSQL); SQLite has no Unicode case
  mapping without ICU, which its builds rarely have.
- Comparing, sorting, ``min``/``max``/``greatest``/``least`` of a text column whose
  collation is a locale (``en_US.UTF-8``, ICU ``en-US``): SQLite compares bytes, so
  ``name > 'M'``, ``ORDER BY name LIMIT 3`` or ``max(name)`` pick other rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def text_rules(
    tree: exp.Expression, kinds: dict[int, str], collated: dict[int, str], notes: list[str]
) -> None:
    """Append to ``notes`` each such computation of ``tree`` (as PostgreSQL wrote it)."""
    from sqlglot import exp

    def text_columns(node: exp.Expr) -> list[exp.Column]:
        return [c for c in node.find_all(exp.Column) if kinds.get(id(c)) == "text"]

    for folded in tree.find_all(exp.Lower, exp.Upper, exp.Initcap):
        if text_columns(folded):
            notes.append(
                f"{folded.sql(dialect='postgres')} folds only ASCII letters in SQLite "
                "(lower('É') stays 'É')"
            )
    compared = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Ordered, exp.Max, exp.Min)
    for node in tree.find_all(*compared, exp.Greatest, exp.Least):
        names = {collated[id(c)] for c in node.find_all(exp.Column) if id(c) in collated}
        if names:
            notes.append(
                f"{node.sql(dialect='postgres')} compares text by the collation "
                f"{', '.join(sorted(names))} in PostgreSQL, byte by byte in SQLite"
            )
