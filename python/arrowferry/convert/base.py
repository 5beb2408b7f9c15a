"""The shape every conversion builder returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

ReadAs = Literal["integer", "real", "text", "blob"]
"""How a column is read from SQLite (which CAST): decided by the column's profile."""


@dataclass(frozen=True)
class Conversion:
    """``value`` computes the target value; ``bad`` is true where it cannot.

    ``name`` says what the conversion does, for the plan and the ledger.
    """

    value: pl.Expr
    bad: pl.Expr | None
    name: str


def failed(source: pl.Expr, result: pl.Expr) -> pl.Expr:
    """A value was there and the conversion produced nothing: it did not convert."""
    return source.is_not_null() & result.is_null()
