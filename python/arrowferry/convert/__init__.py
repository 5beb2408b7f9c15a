"""Vectorised Polars conversions from what SQLite stores to what the target column holds.

Each builder returns a :class:`Conversion`: the expression computing the target value
and an expression flagging values that cannot be converted without changing them.
A flagged value is never written as something else: the pipeline fails, nulls or
rejects it as the user chose. Builders are cut by type family.
"""

from __future__ import annotations

from arrowferry.convert.base import Conversion, ReadAs
from arrowferry.convert.dispatch import build_conversion

__all__ = ["Conversion", "ReadAs", "build_conversion"]
