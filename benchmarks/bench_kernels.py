"""Micro-benchmarks of the conversion kernels, one per Polars/Arrow expression, so a
regression in one kernel shows up on its own (issue 4, item 5): SQLite -> PostgreSQL's
fast and strict paths, and PostgreSQL -> SQLite's kernels.

    python -m pytest benchmarks/bench_kernels.py --benchmark-only -p no:randomly

Not collected by the test suite (it lives outside tests/).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from arrowferry.convert import build_conversion, to_sqlite
from arrowferry.convert.fast import fast_path
from arrowferry.convert.to_sqlite import Kernel
from arrowferry.model import DataType

N = 1_000_000
_rng = np.random.default_rng(42)
_SECONDS = _rng.integers(1_500_000_000, 1_700_000_000, N)
_TIMESTAMPS = pa.array(
    np.datetime_as_string(_SECONDS.astype("datetime64[s]"), unit="s").astype(str)
).cast(pa.string())
_INT_TEXT = pa.array(_rng.integers(-(2**62), 2**62, N).astype(str)).cast(pa.string())
_DECIMALS = pa.array([f"{v:.2f}" for v in _rng.random(N) * 1000]).cast(pa.string())
_BOOLS = pa.array(_rng.integers(0, 2, N))
_BOOLS_NULLS = pa.array(_rng.integers(0, 2, N), mask=_rng.random(N) < 0.1)
_REALS = pa.array(np.round(_rng.random(N) * 1000, 2))
_JSON = pa.array([f'{{"a": {i}, "b": [1, 2]}}' for i in range(N)]).cast(pa.string())

CASES: list[tuple[str, str, DataType, pa.Array, pa.DataType]] = [
    ("timestamp", "text", DataType("timestamp"), _TIMESTAMPS, pa.timestamp("us")),
    ("int64-from-text", "text", DataType("int64"), _INT_TEXT, pa.int64()),
    (
        "decimal",
        "text",
        DataType("decimal", precision=12, scale=2),
        _DECIMALS,
        pa.decimal128(38, 28),
    ),
    (
        "decimal-from-real",
        "real",
        DataType("decimal", precision=12, scale=2),
        _REALS,
        pa.decimal128(38, 28),
    ),
    ("boolean-0-1", "integer", DataType("boolean"), _BOOLS, pa.bool_()),
    ("boolean-0-1-nulls", "integer", DataType("boolean"), _BOOLS_NULLS, pa.bool_()),
    ("json", "text", DataType("json"), _JSON, pa.json_(pa.string())),
]


@pytest.mark.parametrize(
    ("name", "read_as", "target", "array", "arrow"), CASES, ids=[c[0] for c in CASES]
)
def test_fast_path(
    benchmark: Any, name: str, read_as: str, target: DataType, array: pa.Array, arrow: pa.DataType
) -> None:
    fast = fast_path(read_as, target, arrow)  # type: ignore[arg-type]
    assert fast is not None
    benchmark(fast, array)


@pytest.mark.parametrize(
    ("name", "read_as", "target", "array", "arrow"), CASES, ids=[c[0] for c in CASES]
)
def test_strict_polars_path(
    benchmark: Any, name: str, read_as: str, target: DataType, array: pa.Array, arrow: pa.DataType
) -> None:
    conv = build_conversion("c", read_as, target, table="t", decimal_scale=28)  # type: ignore[arg-type]
    frame = pl.from_arrow(pa.table({"c": array}))
    exprs = [conv.value.alias("v")] + ([conv.bad.alias("bad")] if conv.bad is not None else [])
    benchmark(frame.select, exprs)  # type: ignore[union-attr]


# PostgreSQL -> SQLite: each kernel on the Arrow arrays the PostgreSQL reads hand it
_UTC = pa.array(
    [
        s.replace("T", " ") + "+00"
        for s in np.datetime_as_string(_SECONDS.astype("datetime64[s]"), unit="s")
    ]
).cast(pa.string())
_WIDE_NUMERIC = pa.array([f"{v:.2f}" for v in _rng.random(N) * 1e12]).cast(pa.string())
# past 16 bytes: the digit-count checks run (numeric(20,2) and unbounded numeric)
_LONG_NUMERIC = pa.array([f"{v:.2f}" for v in _rng.random(N) * 1e14]).cast(pa.string())

REVERSE_CASES: list[tuple[str, Kernel, pa.Array]] = [
    ("float64", "float64", pa.array(_rng.random(N) * 1000)),
    ("float32", "float32", pa.array(_rng.random(N) * 1000, type=pa.float32())),
    ("integer-int32", "integer", pa.array(_rng.integers(-(2**31), 2**31 - 1, N), type=pa.int32())),
    ("utc-text", "utc_text", _UTC),
    ("numeric-text", "numeric_text", _DECIMALS),
    ("numeric-text-15-digits", "numeric_text", _WIDE_NUMERIC),
    ("numeric-text-17-bytes", "numeric_text", _LONG_NUMERIC),
]


@pytest.mark.parametrize(
    ("name", "kernel", "array"), REVERSE_CASES, ids=[c[0] for c in REVERSE_CASES]
)
def test_to_sqlite_kernel(benchmark: Any, name: str, kernel: Kernel, array: pa.Array) -> None:
    converted = benchmark(to_sqlite.convert, kernel, array)
    assert converted.array.type == (to_sqlite.OUTPUT_TYPES[kernel] or array.type)
