"""JSON arrays in text into PostgreSQL arrays of any element type and dimension.

The ADBC driver writes only one-dimensional Arrow lists of a few element types (a 2-D
list arrives flattened: driver-traps.md), so every other array travels as the text of a
PostgreSQL array literal (``{{1,2},{3,4}}``) that the server casts into the column's
declared type, through the staged path. The literal is built without Python per row:
each JSON document is split into tokens by one regex (``str.extract_all``), and every
check and rewrite is an expression over the token lists (``list.eval``):

* the tokens must form exactly one JSON array (each token may follow only the ones
  JSON allows, the brackets balance, nothing is left between the tokens);
* every scalar sits at the deepest level and every sub-array of one level has the same
  length (PostgreSQL's multi-dimensional arrays are rectangular), at most 6 levels;
* every scalar goes through the strict kernel of the element type (a timestamp without
  an offset is UTC, an integer out of range or 2.7 into an integer array is a bad
  value, an enum label is checked) and is written in the canonical text that kernel's
  value has, double-quoted and escaped, so the server parses exactly that value;
* an element type without a kernel (``inet``, ``citext``, a domain...) keeps the JSON
  scalar's text and the server's cast is its check.

A value that fails any of these is a bad value of the row, as with every kernel.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from arrowferry.convert.base import Conversion
from arrowferry.model import DataType

MAX_DIMENSIONS = 6  # PostgreSQL's MAXDIM

# a string, a bracket, a comma, or a bare word (a number, true, false, null)
_TOKEN = r'"(?:[^"\\]|\\.)*"|[\[\],]|[^\s\[\],"]+'
_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?"
_SCALAR = rf'"(?:[^"\\]|\\.)*"|{_NUMBER}|true|false|null'
_NUMBERS = {"int16", "int32", "int64", "float32", "float64"}
_STRINGS = {"text", "uuid", "date", "time", "timestamp", "timestamptz", "blob"}


def _canonical(value: pl.Expr, kind: str) -> pl.Expr:
    """The text of a kernel's value that PostgreSQL's input function reads back as it."""
    if kind == "timestamptz":
        return value.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    if kind == "timestamp":
        return value.dt.to_string("%Y-%m-%dT%H:%M:%S%.6f")
    if kind == "time":
        return value.dt.to_string("%H:%M:%S%.6f")
    if kind == "uuid":
        return value.bin.encode("hex")
    if kind == "blob":
        return pl.lit("\\x") + value.bin.encode("hex")
    return value.cast(pl.String)


def innermost(element: DataType) -> DataType:
    """The scalar type of an array type of any depth (``integer[][]``: integer)."""
    while element.kind == "array" and element.element is not None:
        element = element.element
    return element


ElementKernel = Callable[[pl.Expr], Conversion]


def to_array_literal(c: pl.Expr, element: DataType, kernel: ElementKernel | None) -> Conversion:
    """``kernel`` builds the element type's strict conversion from text on any expression
    (None: the element type has none, and the server's cast is its check)."""
    literals = _Literals(element, kernel)
    text = c.cast(pl.String)
    value = text.map_batches(literals, return_dtype=pl.String)
    json_null = text.str.strip_chars() == "null"  # no array at all: SQL NULL
    inner = innermost(element).kind
    return Conversion(
        value,
        text.is_not_null() & ~json_null & value.is_null(),
        f"JSON array -> {element} (PostgreSQL array text, cast by the server)",
        f"not a rectangular JSON array (at most {MAX_DIMENSIONS} levels) of {inner} values",
    )


class _Literals:
    """The batch function: each step once over the whole column (an expression tree would
    repeat its shared parts), every step a vectorised Polars operation. The last result is
    kept: the conversion's value and its bad-value flag both ask for it in one pass."""

    def __init__(self, element: DataType, kernel: ElementKernel | None) -> None:
        self.inner = innermost(element).kind
        self.piece, self.bad = self._element_exprs(kernel)
        self.last: tuple[pl.Series, pl.Series] | None = None

    def __call__(self, column: pl.Series) -> pl.Series:
        last = self.last
        if last is not None and last[0].equals(column, check_names=True, null_equal=True):
            return last[1]
        out = self._literals(column)
        self.last = (column, out)
        return out

    def _literals(self, column: pl.Series) -> pl.Series:
        frame = pl.DataFrame({"t": column.str.strip_chars()})
        t = pl.col("t")
        frame = frame.with_columns(
            valid=t.str.json_path_match("$").is_not_null(),  # null, not an error, if not JSON
            # its skeleton: every scalar an 's', no whitespace: it must be arrays of scalars
            skeleton=t.str.replace_all(_SCALAR, "s").str.replace_all(r"\s+", ""),
        )
        skeleton = frame.get_column("skeleton")
        shape = frame.get_column("valid") & skeleton.str.contains(r"^\[[\[\],s]*\]$")
        depth = pl.zeros(len(frame), pl.Int32, eager=True)
        reduced = skeleton
        for _ in range(MAX_DIMENSIONS + 1):  # each pass folds the innermost arrays away
            depth = depth + reduced.str.contains("[", literal=True).cast(pl.Int32)
            reduced = reduced.str.replace_all(r"\[[^\[\]]*\]", "s")
        opens = skeleton.str.count_matches("[", literal=True)
        ok = pl.repeat(False, len(frame), eager=True)
        for level in range(1, MAX_DIMENSIONS + 1):
            mask = (shape & (depth == level)).fill_null(False)
            if mask.any():
                regular = frame.select(_regular(pl.when(mask).then(t), level)).to_series()
                ok = ok | (mask & (regular == opens)).fill_null(False)
        tokens = frame.select(pl.when(ok).then(t).str.extract_all(_TOKEN)).to_series()
        # one token per row (a kernel inside list.eval runs list by list: 100x slower),
        # then each array's pieces joined back in order
        flat = pl.DataFrame({"k": tokens}).with_row_index("row").explode("k")
        joined = (
            flat.with_columns(piece=self.piece, bad=self.bad)
            .group_by("row", maintain_order=True)
            .agg(pl.col("piece").str.join(""), pl.col("bad").any())
        )
        good = ok & ~joined.get_column("bad").fill_null(False)
        return joined.select(pl.when(good).then(pl.col("piece"))).to_series()

    def _element_exprs(self, kernel: ElementKernel | None) -> tuple[pl.Expr, pl.Expr]:
        """Per token (column ``k``): its piece of the literal, and whether it is a bad element."""
        e = pl.col("k")
        structural = e.is_in(["[", "]", ","])
        string = e.str.starts_with('"')
        mismatch = pl.lit(False)  # as the one-dimensional kernels: a number is not a string
        if self.inner == "decimal":  # exact decimals are often written as strings
            mismatch = e.is_in(["true", "false"])
        elif self.inner in _NUMBERS:
            mismatch = string | e.is_in(["true", "false"])
        elif self.inner == "boolean":
            mismatch = ~e.is_in(["true", "false", "null"])
        elif self.inner in _STRINGS:
            mismatch = ~string & (e != "null")
        # a scalar's value as text: a string decoded, a number or word as written
        raw = pl.when(string).then(e).str.json_decode(pl.String)
        raw = pl.coalesce(raw, pl.when(~structural & (e != "null")).then(e))
        bad = ~structural & mismatch
        canonical = raw
        if kernel is not None:
            conversion = kernel(raw)
            if conversion.bad is not None:
                bad = bad | conversion.bad.fill_null(False)
            canonical = _canonical(conversion.value, self.inner)
        escaped = canonical.str.replace_all("\\", "\\\\", literal=True)
        quoted = pl.lit('"') + escaped.str.replace_all('"', '\\"', literal=True) + pl.lit('"')
        piece = (
            pl.when(e == "[")
            .then(pl.lit("{"))
            .when(e == "]")
            .then(pl.lit("}"))
            .when(e == ",")
            .then(pl.lit(","))
            .when(e == "null")
            .then(pl.lit("NULL"))
            .otherwise(quoted)
        )
        return piece, bad


def _regular(text: pl.Expr, depth: int) -> pl.Expr:
    """How many lists ``text`` (arrays of scalars, ``depth`` levels deep) makes, or null
    where it is not rectangular (null where ``text`` is).

    Decoded into lists ``depth`` deep, a scalar above the deepest level would be wrapped
    into a list by the decoder, so the caller compares the count with the brackets the
    text has; each level's arrays must have one length, and none may be empty but a lone
    ``[]`` (PostgreSQL has no empty sub-array)."""
    dtype: pl.DataType = pl.String()
    for _ in range(depth):
        dtype = pl.List(dtype)
    level = text.str.json_decode(dtype)
    lists = pl.lit(1, dtype=pl.UInt32)
    checks = [pl.lit(True)]
    for _ in range(depth - 1):
        lengths = level.list.eval(pl.element().list.len())
        lists = lists + level.list.len()
        checks.append(lengths.list.n_unique() <= 1)
        checks.append(lengths.list.min().fill_null(1) > 0)
        checks.append(level.list.len() > 0)
        level = level.list.eval(pl.element().explode())
    return pl.when(pl.all_horizontal(checks)).then(lists)
