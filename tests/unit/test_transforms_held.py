"""A transform's result is held to its column's Arrow type exactly: Arrow's "safe" cast
still turns 2 into true and rounds a double into a float (driver-traps.md's forgiving
casts), so those values are flagged as bad rather than written changed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from arrowferry.transforms import _held_to


@pytest.mark.parametrize(
    ("given", "wanted", "values", "bad"),
    [
        (
            pa.array([0, 1, 2, None, -1]),
            pa.bool_(),
            [False, True, None, None, None],
            [0, 0, 1, 0, 1],
        ),
        (
            pa.array([0.5, 0.1, None, float("nan")]),
            pa.float32(),
            [0.5, None, None, "nan"],
            [0, 1, 0, 0],
        ),
        (pa.array([1.0, 2.5]), pa.int64(), [1, None], [0, 1]),
        (pa.array([1, 2**40]), pa.int32(), [1, None], [0, 1]),
        (pa.array(["12", "07", "x9", None]), pa.int64(), [12, 7, None, None], [0, 0, 1, 0]),
        (pa.array([0.25, 0.3 + 0.1 - 0.1]), pa.decimal128(12, 2), ["0.25", None], [0, 1]),
        (pa.array(["a", None], pa.large_string()), pa.string(), ["a", None], [0, 0]),
    ],
)
def test_held_to_the_type(
    given: pa.Array, wanted: pa.DataType, values: list[object], bad: list[int]
) -> None:
    array, flags = _held_to(given, wanted)
    assert array.type == wanted
    assert [int(f) for f in flags] == bad
    got = array.to_pylist()
    for value, want, flagged in zip(got, values, flags, strict=True):
        if flagged:
            continue  # a bad value's row goes through the policy: what the array holds is moot
        if want == "nan":
            assert value != value
        elif isinstance(want, str) and not isinstance(value, str):
            assert str(value) == want
        else:
            assert value == want


def test_a_batch_with_a_misfit_still_catches_the_forgiven() -> None:
    """One value Arrow refuses sends the batch value by value; the rounding Arrow forgives
    is still caught there."""
    given = pa.array([0.25, float("nan"), 0.3 + 0.1 - 0.1])  # NaN: no decimal at all
    array, flags = _held_to(given, pa.decimal128(12, 2))
    assert [int(f) for f in flags] == [0, 1, 1]
    assert str(array.to_pylist()[0]) == "0.25"
