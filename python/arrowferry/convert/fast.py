"""Fast paths: Arrow compute kernels that convert a clean batch in one strict call.

Each returns a function that either converts the whole array exactly or raises
(``pyarrow.ArrowInvalid`` and friends), in which case the batch takes the full
Polars path, which finds the offending values. Arrow's casts are strict where it
matters: a decimal cast refuses to drop digits, an ISO timestamp cast refuses
nanoseconds, 'T'-less offsets, February 30th.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from arrowferry import decimals
from arrowferry.convert.base import ReadAs
from arrowferry.model import DataType

FastPath = Callable[[pa.Array], pa.Array]


class NotClean(ValueError):
    """The batch needs the full path."""


def fast_path(
    read_as: ReadAs, target: DataType, arrow_type: pa.DataType, *, max_length: int | None = None
) -> FastPath | None:
    kind = target.kind
    if read_as == "text" and kind == "text" and max_length is not None:
        return _at_most(max_length)
    if read_as == "integer" and kind == "int64":
        return _same
    if read_as == "integer" and kind == "boolean":
        return _zero_one
    if read_as in {"integer", "real"} and kind == "float64":
        return lambda a: a.cast(pa.float64())
    if read_as == "text" and kind == "text":
        return _same
    if read_as == "blob" and kind == "blob":
        return _same
    if kind == "decimal" and read_as in {"text", "real"}:
        below = places = None
        if target.precision is not None:
            below = decimals.limit_band(target.precision, target.scale or 0)[0]
            places = target.scale or 0  # what PostgreSQL rounds to: counted on the full path
        if pa.types.is_string(arrow_type):
            return _decimal_text(below, from_real=read_as == "real", places=places)
        return _decimal(arrow_type, from_real=read_as == "real", below=below, places=places)
    if read_as == "text" and kind in _SHAPES:
        return _shaped_cast(_SHAPES[kind], arrow_type)
    if read_as == "text" and kind == "timestamptz":
        return _timestamptz
    if read_as == "text" and kind == "json":
        # PostgreSQL's own parser validates every document during COPY; a rejection
        # sends the table back through the client-side validator to name the row.
        return lambda a: pa.ExtensionArray.from_storage(arrow_type, a.cast(arrow_type.storage_type))
    return None


# Arrow's casts accept more than SQLite writes ('0x1F' as an integer, '2024-01-02 03' as a
# timestamp): each text is first held to the forms SQLite and its users write.
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
_SHAPES = {
    "int64": r"^[+-]?\d{1,19}$",
    "int32": r"^[+-]?\d{1,10}$",
    "int16": r"^[+-]?\d{1,5}$",
    "date": rf"^{_DATE}$",
    "timestamp": rf"^{_DATE}(?:[ T]{_TIME})?$",
    "decimal": r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$",
}
_OFFSET = r"(?:Z|[+-]\d{2}:\d{2})"


def _shaped_cast(shape: str, arrow_type: pa.DataType) -> FastPath:
    def cast(array: pa.Array) -> pa.Array:
        _require(array, shape)
        return array.cast(arrow_type)

    return cast


def _require(array: pa.Array, shape: str) -> None:
    if pc.all(pc.match_substring_regex(array, shape), skip_nulls=True).as_py() is False:
        raise NotClean("a value of another form")


def _decimal(
    arrow_type: pa.DataType, *, from_real: bool, below: float | None, places: int | None
) -> FastPath:
    """Decimal text (or a double, through its shortest round-trip text) to ``arrow_type``.

    Arrow's string -> decimal cast is not safe on its own: an exponent can scale a value
    past 128 bits and wrap ('1e+22' into decimal128(38, 30) gives 63870734.31..., which
    fits a numeric(10,2)), and a long mantissa or a tiny value can come out as 0
    ('1' + 230 zeros + 'e-230'; 6.3e-238). So every value must be below
    10 ** (precision - scale) first, and every result must read back (as a double) as
    the number it came from; anything else takes the strict path. A numeric(p,s) also
    holds every value ``below`` the band where PostgreSQL's rounding (half away from
    zero) could carry it past the precision; the strict path decides that band exactly.
    """
    limit = 10.0 ** (arrow_type.precision - arrow_type.scale)
    if below is not None:
        limit = min(limit, below)
    shape = _SHAPES["decimal"]

    def cast(array: pa.Array) -> pa.Array:
        if from_real:
            numbers = array
            array = array.cast(pa.string())  # shortest round-trip: 0.1, 1e-25
        else:
            _require(array, shape)
            numbers = array.cast(pa.float64())
        _below(numbers, limit)
        out = array.cast(arrow_type)
        _reads_back(out, numbers)
        if places is not None and arrow_type.scale > places:
            same = pc.all(pc.equal(pc.round(out, places), out), skip_nulls=True).as_py()
            if same is False:
                raise NotClean("a value with more decimal places than the column's scale")
        return out

    return cast


def _decimal_text(below: float | None, *, from_real: bool, places: int | None) -> FastPath:
    """Decimal text that PostgreSQL casts itself (a column whose values span more digits
    than any Arrow decimal): a double's shortest round-trip text, or SQLite's text held
    to a decimal literal whose exponent PostgreSQL's numeric input takes (|e| < 1000)."""

    def cast(array: pa.Array) -> pa.Array:
        if from_real:
            if pc.all(pc.is_finite(array), skip_nulls=True).as_py() is False:
                raise NotClean("an infinite value: no numeric holds it")
            numbers = array
            array = array.cast(pa.string())
        else:
            _require(array, _SHORT_DECIMAL)
            numbers = array.cast(pa.float64())
        if below is not None:
            _below(numbers, below)
        if (
            places is not None
            and pc.any(
                pc.match_substring_regex(array, rf"[eE]|\.\d{{{places}}}\d*[1-9]"), skip_nulls=True
            ).as_py()
        ):
            raise NotClean("a value with more decimal places than the column's scale")
        return array

    return cast


_SHORT_DECIMAL = r"^[+-]?(?:\d{1,1000}\.?\d{0,1000}|\.\d{1,1000})(?:[eE][+-]?\d{1,3})?$"


def _below(numbers: pa.Array, limit: float) -> None:
    biggest = pc.max(pc.abs(numbers)).as_py()
    if biggest is not None and not biggest < limit:  # NaN and inf fail too
        raise NotClean("a value beyond the decimal's integer digits")


def _reads_back(decimals: pa.Array, numbers: pa.Array) -> None:
    """Each decimal, as a double, within 1e-12 (relative) of the number it came from."""
    back = decimals.cast(pa.float64())
    off = pc.abs(pc.subtract(back, numbers))
    ok = pc.all(pc.less_equal(off, pc.multiply(pc.abs(numbers), 1e-12)), skip_nulls=True)
    if ok.as_py() is False:
        raise NotClean("Arrow's decimal cast changed a value")


def _at_most(length: int) -> FastPath:
    def check(array: pa.Array) -> pa.Array:
        longest = pc.max(pc.utf8_length(array)).as_py()
        if longest is not None and longest > length:
            raise NotClean("a value longer than the column's enforced length")
        return array

    return check


def _same(array: pa.Array) -> pa.Array:
    return array


def _zero_one(array: pa.Array) -> pa.Array:
    # min/max skip NULLs (``is_in`` would call a NULL "not in {0, 1}" and send every
    # batch with a NULL down the slow path)
    bounds = pc.min_max(array)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is not None and (low < 0 or high > 1):
        raise NotClean("a value other than 0 or 1")
    return pc.equal(array, 1)


def _timestamptz(array: pa.Array) -> pa.Array:
    _require(array, rf"^{_DATE}(?:[ T]{_TIME}{_OFFSET}?)?$")
    try:
        return array.cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # no offsets at all: SQLite's functions write UTC, so naive text is UTC
        return array.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))


FAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, NotClean)
