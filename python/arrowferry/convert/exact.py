"""The kernel of a column converted exactly into a typed target column (SQLite's stored
values into PostgreSQL's types).

A clean batch takes a strict Arrow kernel (``convert.fast``) in one call; a batch that
kernel refuses, or a column marked ``validate``, takes the full path: its Polars
expressions (``convert.dispatch``) compute the values and a "cannot convert exactly"
flag in the batch's one ``select`` (:func:`~arrowferry.convert.column.convert_columns`),
a slower second opinion rechecks the flagged text, and text is first validated as
UTF-8 and, when asked, cleaned of NUL bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.convert.base import ReadAs, as_arrow_type
from arrowferry.convert.column import Converted, Read, Reader
from arrowferry.convert.dispatch import build_conversion
from arrowferry.convert.fast import FAST_ERRORS, fast_path
from arrowferry.convert.remedies import remedy
from arrowferry.convert.temporal import interpretations
from arrowferry.convert.text import NUL_REASON
from arrowferry.dialects.sqlite import CLASS_CODES
from arrowferry.model import DataType

INVALID_UTF8 = "not valid UTF-8, which PostgreSQL text cannot hold"
_BAD = "__bad_"
_WHY = "__why_"


class ExactColumn:
    """Column ``index`` of a table, read as ``read_as``, into ``target`` (``arrow_type``)."""

    def __init__(
        self,
        index: int,
        read: Reader,
        *,
        table: str,
        source: str,
        target: str,
        nullable: bool,
        read_as: ReadAs,
        target_type: DataType,
        arrow_type: pa.DataType,
        ddl: str,
        decimal_scale: int = 0,
        decimal_as_text: bool = False,
        max_length: int | None = None,
        validate: bool = False,
        strip_nul: bool = False,
        replace_invalid_utf8: bool = False,
        labels: tuple[str, ...] | None = None,
        fixed: str | None = None,
    ) -> None:
        self.read = read
        self.table, self.source, self.target, self.nullable = table, source, target, nullable
        self.output_type: pa.DataType = arrow_type
        self.ddl = ddl
        self.stored_as = f" exactly as {ddl}"
        self.column = f"c{index}"
        self.kind = target_type.kind
        conv = build_conversion(
            self.column,
            read_as,
            target_type,
            table=table,
            decimal_scale=decimal_scale,
            decimal_digits=getattr(arrow_type, "precision", 38),
            decimal_as_text=decimal_as_text,
            max_length=max_length,
            labels=labels,
            fixed=fixed is not None,
            array_as_text=target_type.kind == "array" and pa.types.is_string(arrow_type),
        )
        self.fixed = None if fixed is None else f"{fixed}.{target}"
        self.fast = (
            None if validate else fast_path(read_as, target_type, arrow_type, max_length=max_length)
        )
        fast = " (Arrow fast path for clean batches)" if self.fast is not None else ""
        self.name = conv.name + fast
        self.why_bad = conv.reason
        self.recheck = conv.recheck
        self.flagged = f"{_BAD}{index}" if conv.bad is not None else None
        self.kinds = tuple(kind for kind, _ in conv.interpreted)
        self._why = {kind: f"{_WHY}{index}_{kind}" for kind in self.kinds}
        self.exprs: tuple[pl.Expr, ...] = (
            conv.value.alias(target),
            *(() if conv.bad is None else (conv.bad.alias(f"{_BAD}{index}"),)),
            *(e.alias(self._why[kind]) for kind, e in conv.interpreted),
        )
        self.read_by_rule = interpretations(read_as, target_type, fast=False)
        self.fast_read_by_rule = interpretations(read_as, target_type, fast=True)
        self.strip_nul = strip_nul and self.kind == "text"
        self.replace_invalid_utf8 = replace_invalid_utf8

    def convert(self, read: Read) -> Converted | None:
        """One strict Arrow call; None when the batch needs the full path."""
        if self.fast is None:
            return None
        try:
            array = as_arrow_type(self.fast(read.values), self.output_type)
        except FAST_ERRORS:
            return None
        why = {} if self.fast_read_by_rule is None else self.fast_read_by_rule(read.values)
        return Converted(array, why=self._with_classes(why, read))

    # --- the full path --------------------------------------------------------------

    def prepare(self, read: Read) -> Converted:
        """The input of the Polars pass: valid UTF-8 (invalid values flagged and hidden,
        or repaired), without NUL bytes when asked."""
        array, bad, cleaned = read.values, None, 0
        if pa.types.is_string(array.type):
            array, bad, cleaned = self._utf8(array)
            if self.strip_nul:
                has_nul = pc.match_substring(array, "\x00")
                count = pc.sum(has_nul).as_py() or 0
                if count:
                    cleaned += count
                    array = pc.replace_substring(array, "\x00", "")
        because = {} if bad is None else {"invalid_utf8": bad}
        return Converted(array, bad, cleaned=cleaned, because=because)

    def collect(self, out: pl.DataFrame, read: Read, prepared: Converted) -> Converted:
        why = {
            kind: out.get_column(self._why[kind]).fill_null(False).to_numpy() for kind in self.kinds
        }
        if self.read_by_rule is not None:
            why.update(self.read_by_rule(read.values))
        value = out.get_column(self.target).to_arrow()
        bad = prepared.bad
        if self.flagged is not None:
            flags = out.get_column(self.flagged).fill_null(False).to_numpy()
            if flags.any() and self.recheck is not None:
                flags, value = self._recheck(flags, value, read.values)
            if flags.any():
                bad = flags if bad is None else flags | bad
        return Converted(
            as_arrow_type(value, self.output_type),
            bad,
            self._with_classes(why, read),
            prepared.cleaned,
            prepared.because,
        )

    def _recheck(
        self, flags: np.ndarray, value: pa.Array | pa.ChunkedArray, text: pa.Array
    ) -> tuple[np.ndarray, pa.Array | pa.ChunkedArray]:
        """A second, slower opinion on flagged values only (the value is the text itself)."""
        assert self.recheck is not None
        positions = np.flatnonzero(flags)
        texts = text.take(pa.array(positions)).to_pylist()
        accepted = np.array([t is not None and self.recheck(t) for t in texts], dtype=bool)
        if not accepted.any():
            return flags, value
        keep = np.zeros(len(flags), dtype=bool)
        keep[positions[accepted]] = True
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        return flags & ~keep, pc.if_else(pa.array(keep), text.cast(value.type), value)

    def _utf8(self, array: pa.Array) -> tuple[pa.Array, np.ndarray | None, int]:
        """SQLite never validates TEXT, and Polars assumes valid UTF-8 (driver-traps.md 11).

        Invalid values are flagged and hidden from Polars (or repaired with U+FFFD
        when asked, and counted as cleaned).
        """
        try:
            array.validate(full=True)
            return array, None, 0
        except pa.ArrowInvalid:
            pass
        raw = array.view(pa.binary()).to_pylist()
        invalid = np.zeros(len(raw), dtype=bool)
        fixed: list[str | None] = []
        for index, value in enumerate(raw):  # the error path only
            try:
                fixed.append(None if value is None else value.decode("utf-8"))
            except UnicodeDecodeError:
                invalid[index] = True
                fixed.append(
                    value.decode("utf-8", errors="replace") if self.replace_invalid_utf8 else None
                )
        if self.replace_invalid_utf8:
            return pa.array(fixed, pa.string()), None, int(invalid.sum())
        return pa.array(fixed, pa.string()), invalid, 0

    def _with_classes(self, why: dict[str, np.ndarray], read: Read) -> dict[str, np.ndarray]:
        """Text or bytes a CAST made from another storage class (the read's class column)."""
        if read.extra is None:
            return why
        code = np.asarray(pc.fill_null(read.extra, 0).to_numpy(zero_copy_only=False))
        number = (code == CLASS_CODES["integer"]) | (code == CLASS_CODES["real"])
        if self.kind == "blob":
            why.update(text_as_bytes=code == CLASS_CODES["text"], number_as_bytes=number)
        else:
            why.update(number_as_text=number, blob_as_text=code == CLASS_CODES["blob"])
        return why

    def reason(self, value: Any, because: str | None) -> str:
        """Why the value cannot be stored, and what would keep it."""
        cleaning: str | None
        if because == "invalid_utf8":
            reason, cleaning = INVALID_UTF8, "replace_invalid_utf8"
        else:
            reason, cleaning = self.why_bad, "strip_nul" if self.why_bad == NUL_REASON else None
        how = remedy(
            self.table, self.source, self.ddl, cleaning=cleaning, value=value, fixed=self.fixed
        )
        return f"{reason}; {how}"
