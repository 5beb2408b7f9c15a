"""SQLite computes with text as numbers (``'Nancy' + ' '`` is 0); PostgreSQL has no
arithmetic on text. A view doing it is refused before PostgreSQL's own "operator does not
exist", with a reason a user can act on (Northwind's Invoices view is one)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("SELECT first + ' ' + last AS name FROM e", True),  # Northwind's Invoices: 0 in SQLite
        ("SELECT n - first FROM e", True),
        ("SELECT n * 'x' FROM e", True),
        ("SELECT n + 1, n * '2', n % 3 FROM e", False),  # numeric text: PostgreSQL reads it alike
        ("SELECT first || ' ' || last FROM e", False),
    ],
)
def test_text_arithmetic_is_refused_plainly(sql: str, refused: bool) -> None:
    """SQLite computes with text as numbers; PostgreSQL refuses the view with "operator does
    not exist": the translator says why, in words a user can act on."""
    from arrowferry.dialects.translate import Relation, TranslationError, translate_sqlite_view

    rel = {
        "e": Relation(
            "E", {"first": ("First", "text"), "last": ("Last", "text"), "n": ("N", "int64")}
        )
    }
    if not refused:
        translate_sqlite_view(sql, rel)
        return
    with pytest.raises(TranslationError, match=r"as a number .* \|\| does it in both"):
        translate_sqlite_view(sql, rel)
