"""The PostgreSQL -> SQLite kernels on in-memory Arrow arrays (no database)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from arrowferry.convert.to_sqlite import convert


def test_float32_becomes_the_double_of_its_shortest_text() -> None:
    out = convert("float32", pa.array([0.1, 1 / 3, None, float("inf"), 16777217.0], pa.float32()))
    assert out.array.type == pa.float64()
    assert out.array.to_pylist() == [0.1, 0.33333334, None, math.inf, 16777216.0]
    assert out.bad is None


@pytest.mark.parametrize("kernel", ["float32", "float64"])
def test_nan_is_flagged_never_nulled(kernel: str) -> None:
    typ = pa.float32() if kernel == "float32" else pa.float64()
    out = convert(kernel, pa.array([1.0, float("nan"), None], typ))  # type: ignore[arg-type]
    assert out.bad is not None and out.bad.tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("12.50", True),
        ("123456789012345", True),  # 15 digits: REAL keeps them
        ("0.000000000000001234", True),  # leading zeros are not significant
        ("1234567890123456", True),  # integral: INTEGER keeps it
        ("9223372036854775807.000", True),  # integral, fits 64 bits
        ("9223372036854775808", False),  # integral but past 64 bits: REAL would round it
        ("1234567890123.4567", False),  # 17 significant digits
        ("-0.1234567890123456", False),
        ("NaN", True),  # kept as text by NUMERIC affinity
        ("Infinity", True),
        ("1200000000000000000000", True),  # past 64 bits, a REAL: 2 significant digits, exact
    ],
)
def test_numeric_text_flags_what_numeric_affinity_would_round(text: str, ok: bool) -> None:
    out = convert("numeric_text", pa.array([text, None]))
    assert out.array.to_pylist() == [text, None]
    assert (out.bad is None) == ok
    if not ok:
        assert out.bad is not None and out.bad.tolist() == [True, False]


def test_utc_text_gets_a_full_offset() -> None:
    out = convert(
        "utc_text",
        pa.array(["2024-01-02 03:04:05.5+00", "infinity", None, "0044-03-15 10:00:00+00 BC"]),
    )
    assert out.array.to_pylist() == [
        "2024-01-02 03:04:05.5+00:00",
        "infinity",
        None,
        "0044-03-15 10:00:00+00 BC",
    ]


def test_integers_widen_exactly() -> None:
    out = convert("integer", pa.array([-32768, 32767, None], pa.int16()))
    assert out.array.type == pa.int64() and out.array.to_pylist() == [-32768, 32767, None]


@pytest.mark.parametrize(
    ("kernel", "given", "written"),
    [
        ("utc_naive_text", "2020-01-02 01:04:05.000006+00", "2020-01-02 01:04:05.000006"),
        ("utc_naive_text", "2020-01-02 01:04:05+00", "2020-01-02 01:04:05.000000"),
        ("utc_naive_text", "2020-01-02 01:04:05.5+00", "2020-01-02 01:04:05.500000"),
        ("utc_naive_text", "infinity", "infinity"),
        ("utc_python_text", "2020-01-02 01:04:05+00", "2020-01-02 01:04:05"),
        ("utc_python_text", "2020-01-02 01:04:05.5+00", "2020-01-02 01:04:05.500000"),
        ("uuid_hex", "5b6f9a57-6f2b-4a49-9c2f-0f3f0e6e6a11", "5b6f9a576f2b4a499c2f0f3f0e6e6a11"),
    ],
)
def test_how_applications_write_into_sqlite(kernel: str, given: str, written: str) -> None:
    from arrowferry.convert.to_sqlite import convert

    out = convert(kernel, pa.array([given, None]))  # type: ignore[arg-type]
    assert out.array.to_pylist() == [written, None] and out.bad is None
