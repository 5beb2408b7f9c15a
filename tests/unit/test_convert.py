"""The conversion kernels on in-memory frames: strict, exact, never forgiving."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from arrowferry.convert import build_conversion
from arrowferry.model import DataType


def convert(
    values: list[Any], read_as: str, target: DataType, **kw: Any
) -> tuple[list[Any], list[bool]]:
    frame = pl.DataFrame({"c": values}, strict=False)
    conv = build_conversion("c", read_as, target, table="t", **kw)  # type: ignore[arg-type]
    exprs = [conv.value.alias("v")]
    exprs.append((conv.bad if conv.bad is not None else pl.lit(False)).alias("bad"))
    out = frame.select(exprs)
    return out["v"].to_list(), out["bad"].to_list()


def test_integer_boolean_is_strict() -> None:
    values, bad = convert([0, 1, 2, -1, None], "integer", DataType("boolean"))
    assert values[:2] == [False, True]
    assert bad == [False, False, True, True, False]  # 2 and -1 are not "true"


@pytest.mark.parametrize("word", ["t", "f", "TRUE", "False", "yes", "No", "1", "0", " true "])
def test_text_boolean_spellings(word: str) -> None:
    values, bad = convert([word], "text", DataType("boolean"))
    assert bad == [False]
    assert values == [word.strip().lower() in {"t", "true", "yes", "1"}]


@pytest.mark.parametrize("word", ["maybe", "2", "", "tru"])
def test_text_boolean_rejects_anything_else(word: str) -> None:
    _, bad = convert([word], "text", DataType("boolean"))
    assert bad == [True]


def test_integers_from_text_never_pass_through_float() -> None:
    big = 2**53 + 1
    values, bad = convert(
        [str(big), "9223372036854775807", "-9223372036854775808", "3.0", "3.5", "abc", "1.0e+20"],
        "text",
        DataType("int64"),
    )
    assert values[:4] == [big, 2**63 - 1, -(2**63), 3]
    assert bad == [False, False, False, False, True, True, True]


def test_narrow_integer_target_is_range_checked() -> None:
    values, bad = convert([1, 40000, None], "integer", DataType("int16"))
    assert values[0] == 1 and bad == [False, True, False]


def test_decimal_keeps_every_digit_for_the_server_to_round() -> None:
    values, bad = convert(
        ["0.99", "1.2345", "-1.005", "12345678.5", "1.0e-07", "abc"],
        "text",
        DataType("decimal", precision=12, scale=3),
        decimal_scale=29,
    )
    assert values[:5] == [
        Decimal("0.99"),
        Decimal("1.2345"),
        Decimal("-1.005"),
        Decimal("12345678.5"),
        Decimal("1E-7"),
    ]
    assert bad == [False] * 5 + [True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02 03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02 03:04:05.123", dt.datetime(2024, 1, 2, 3, 4, 5, 123000)),
        ("2024-01-02T03:04:05.123456", dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
        ("2024-01-02 03:04", dt.datetime(2024, 1, 2, 3, 4)),
        ("2024-01-02", dt.datetime(2024, 1, 2)),
        ("2024-01-02 03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02 03:04:05+02:00", dt.datetime(2024, 1, 2, 1, 4, 5)),
        ("2024-01-02T03:04:05.5-05:30", dt.datetime(2024, 1, 2, 8, 34, 5, 500000)),
    ],
)
def test_timestamps_every_iso_form(text: str, expected: dt.datetime) -> None:
    values, bad = convert([text], "text", DataType("timestamp"))
    assert bad == [False]
    assert values == [expected]


def test_timestamps_mixed_forms_in_one_column() -> None:
    values, bad = convert(
        ["2024-01-02", "2024-01-02T03:04:05.1", "2024-01-02 03:04:05+01:00", None, "junk"],
        "text",
        DataType("timestamp"),
    )
    assert values[:4] == [
        dt.datetime(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5, 100000),
        dt.datetime(2024, 1, 2, 2, 4, 5),
        None,
    ]
    assert bad == [False, False, False, False, True]


def test_dates_refuse_a_time_of_day() -> None:
    values, bad = convert(
        ["2016-07-04", "2016-07-04 00:00:00", "2016-07-04 12:00:00"], "text", DataType("date")
    )
    assert values[:2] == [dt.date(2016, 7, 4)] * 2
    assert bad == [False, False, True]


def test_json_is_validated() -> None:
    _, bad = convert(
        ['{"a": 1}', "[1, 2]", "null", '"s"', "12", "{nope", "{'a': 1}"], "text", DataType("json")
    )
    assert bad == [False, False, False, False, False, True, True]


def test_uuid_text_forms() -> None:
    u = "12345678-1234-5678-1234-567812345678"
    values, bad = convert(
        [u, u.replace("-", ""), "{" + u + "}", "not-a-uuid"], "text", DataType("uuid")
    )
    assert values[0] == bytes.fromhex(u.replace("-", "")) and values[0] == values[1] == values[2]
    assert bad == [False, False, False, True]


def test_text_with_nul_is_flagged() -> None:
    _, bad = convert(["ok", "a\x00b", None], "text", DataType("text"))
    assert bad == [False, True, False]


@pytest.mark.parametrize(
    ("element", "text", "expected"),
    [
        ("int64", "[1, 2, 3]", [1, 2, 3]),
        ("int64", "[9007199254740993, null]", [9007199254740993, None]),
        ("int32", "[]", []),
        ("text", '["a", "b\\"q", null]', ["a", 'b"q', None]),
        ("boolean", "[true, false]", [True, False]),
        ("float64", "[0.5, -1e3]", [0.5, -1000.0]),
    ],
)
def test_json_arrays_into_arrays(element: str, text: str, expected: list[Any]) -> None:
    values, bad = convert([text], "text", DataType("array", element=DataType(element)))  # type: ignore[arg-type]
    assert bad == [False]
    assert values == [expected]


@pytest.mark.parametrize(
    ("element", "text"),
    [
        ("int64", "[2.7]"),  # json_decode alone would store 2
        ("int64", "5"),  # a scalar, not an array
        ("int32", "[3000000000]"),  # out of range for integer
        ("text", '["x", 1]'),  # a number where text is due
        ("text", '[["nested"]]'),
        ("boolean", "[1]"),
        ("int64", "[1,"),
    ],
)
def test_json_arrays_refuse_what_would_change(element: str, text: str) -> None:
    _, bad = convert([text], "text", DataType("array", element=DataType(element)))  # type: ignore[arg-type]
    assert bad == [True]


def test_json_null_is_no_array() -> None:
    values, bad = convert(["null", None], "text", DataType("array", element=DataType("int64")))
    assert values == [None, None] and bad == [False, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000", dt.datetime(2023, 11, 14, 22, 13, 20)),  # epoch seconds
        ("1700000000123", dt.datetime(2023, 11, 14, 22, 13, 20, 123000)),  # epoch ms
        ("1700000000.25", dt.datetime(2023, 11, 14, 22, 13, 20, 250000)),
        ("2460000.5", dt.datetime(2023, 2, 25)),  # julian day
        ("2440587.5", dt.datetime(1970, 1, 1)),
    ],
)
def test_dates_stored_as_numbers(text: str, expected: dt.datetime) -> None:
    values, bad = convert([text], "text", DataType("timestamp"))
    assert bad == [False] and values == [expected]


JULIAN_DAY_0 = -210_866_760_000_000_000  # 4714-11-24 12:00 BC, in microseconds since 1970
YEAR_0 = -62_167_219_200_000_000  # 0000-01-01 (1 BC) 00:00


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        # SQLite writes a REAL below 1e-4 with an exponent; its date functions read '1e3'
        ("1.44675925925926e-06", JULIAN_DAY_0 + 125_000),
        ("1e-05", JULIAN_DAY_0 + 864_000),
        ("1e3", JULIAN_DAY_0 + 1000 * 86_400_000_000),
        # a year before 1 is written signed (date(0.5) is '-4713-11-25'), with 'T' too
        ("-4713-11-25T00:00:00", JULIAN_DAY_0 + 43_200_000_000),
        ("-0001-12-31T23:30", YEAR_0 - 1_800_000_000),
        ("0000-01-01T00:30+01:00", YEAR_0 - 1_800_000_000),
        # PostgreSQL's BC text, which a migration into SQLite keeps (1 BC is year 0)
        ("0001-01-01 00:00:00 BC", YEAR_0),
        ("0001-12-31 23:30:00+00 BC", YEAR_0 + 365 * 86_400_000_000 + 84_600_000_000),  # leap
        ("4714-11-24 12:00:00 BC", JULIAN_DAY_0),
    ],
)
def test_dates_before_year_1(text: str, micros: int) -> None:
    frame = pl.DataFrame({"c": [text]})
    conv = build_conversion("c", "text", DataType("timestamp"), table="t")
    assert conv.bad is not None
    out = frame.select(conv.value.cast(pl.Int64).alias("v"), conv.bad.alias("bad"))
    assert out.rows() == [(micros, False)]


def test_fractions_beyond_microseconds_are_not_truncated() -> None:
    values, bad = convert(
        ["2024-01-02 03:04:05.123456789", "2024-01-02 03:04:05.123456000"],
        "text",
        DataType("timestamp"),
    )
    assert bad == [True, False]
    assert values[1] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456)


@pytest.mark.parametrize(
    ("read_as", "target", "values"),
    [
        ("integer", DataType("boolean"), [0, 1, None, 1]),
        ("integer", DataType("boolean"), [None, None]),
        ("integer", DataType("int64"), [5, None]),
        ("real", DataType("float64"), [1.5, None]),
        ("text", DataType("timestamp"), ["2024-01-02 03:04:05", None]),
        ("text", DataType("decimal", precision=10, scale=2), ["12.34", None]),
    ],
)
def test_fast_paths_take_clean_batches_with_nulls(
    read_as: str, target: DataType, values: list[Any]
) -> None:
    """A NULL is clean: a fast path that refused it would send most real batches down
    the slow path (it did, for 0/1 booleans: a third of the events' convert time)."""
    import pyarrow as pa

    from arrowferry.convert.fast import fast_path
    from arrowferry.plan.columns import arrow_type

    travels_as = pa.decimal128(38, 30) if target.kind == "decimal" else arrow_type(target)
    fast = fast_path(read_as, target, travels_as)  # type: ignore[arg-type]
    assert fast is not None
    read_type = {"integer": pa.int64(), "real": pa.float64(), "text": pa.string()}[read_as]
    out = fast(pa.array(values, read_type)).to_pylist()
    expected, bad = convert(values, read_as, target)
    assert not any(bad)
    assert [v is None for v in out] == [v is None for v in expected]
    if target.kind != "decimal":
        assert out == expected


def test_zero_one_fast_path_refuses_other_integers() -> None:
    import pyarrow as pa

    from arrowferry.convert.fast import NotClean, fast_path

    fast = fast_path("integer", DataType("boolean"), pa.bool_())
    assert fast is not None
    for values in ([0, 2, None], [-1, 1]):
        with pytest.raises(NotClean):
            fast(pa.array(values, pa.int64()))


def test_float_overflow_is_refused_never_infinity() -> None:
    """'1e400' is a finite literal past the double range, and 1e39 past float32's:
    PostgreSQL refuses both; a silent 'Infinity' would be a changed value."""
    values, bad = convert(
        ["1e400", "-1e400", "1e308", "inf", "-Infinity"], "text", DataType("float64")
    )
    assert bad == [True, True, False, False, False]
    assert values[2:] == [1e308, float("inf"), float("-inf")]
    values, bad = convert([1e39, 3e38, float("inf"), None], "real", DataType("float32"))
    assert bad == [True, False, False, False]
    assert values[2] == float("inf") and values[3] is None
    values, bad = convert(["1e39", "1.5"], "text", DataType("float32"))
    assert bad == [True, False]


def test_decimals_wider_than_polars_are_checked_exactly() -> None:
    """Past 38 digits (decimal256) the strict path runs in Python: exact, never a crash."""
    huge, long_tail = "1" + "0" * 300, "1." + "0" * 250 + "1"
    values, bad = convert(
        ["12.5", "abc", huge, long_tail, "-0.5e-3", "1e-60"],
        "text",
        DataType("decimal"),  # unbounded: nothing rounds it later, so no digit may be lost
        decimal_scale=40,
        decimal_digits=76,
    )
    assert bad == [False, True, True, True, False, True]
    assert values[0] == "12.5" + "0" * 39 and values[4] == "-0.0005" + "0" * 36
    values, bad = convert(
        ["1e-60", "123456789012345678.5"],
        "text",
        DataType("decimal", precision=38, scale=18),
        decimal_scale=56,
        decimal_digits=76,
    )
    assert bad == [False, False]  # 1e-60: 1 significant digit, the server rounds it to 0


def test_wide_decimals_take_ascii_digits_only() -> None:
    """Python's regex and Decimal read Arabic-Indic digits: '١٢' must not become 12."""
    values, bad = convert(
        ["\u0661\u0662", "12", "1_000"],
        "text",
        DataType("decimal", precision=38, scale=18),
        decimal_scale=56,
        decimal_digits=76,
    )
    assert bad == [True, False, True] and values[0] is None and values[2] is None


def test_trailing_zeros_of_a_fraction_are_no_digits_to_lose() -> None:
    """Found by the fast-path agreement property: '...641950' has 25 fraction digits but
    only 24 that matter, so it fits scale 24 exactly and is not a bad value."""
    from arrowferry.convert.numeric import to_decimal

    conv = to_decimal(pl.col("c"), "text", 24, rounds_later=True, digits=38, limit=(18, 4))
    assert conv.bad is not None
    frame = pl.DataFrame({"c": ["0.0939961326134588297641950", "1.50"]})
    out = frame.select(conv.value.cast(pl.String).alias("v"), conv.bad.alias("bad"))
    assert out.to_dicts() == [
        {"v": "0.093996132613458829764195", "bad": False},
        {"v": "1.500000000000000000000000", "bad": False},
    ]


@pytest.mark.parametrize(
    ("read_as", "values", "sent"),
    [
        (
            "integer",
            [86_400_000_005, -5, None],
            ["86400000005 microseconds", "-5 microseconds", None],
        ),
        ("text", ["P1DT2H", " 42 ", "1 day 02:00"], ["P1DT2H", "42 microseconds", "1 day 02:00"]),
    ],
)
def test_interval_is_text_the_server_casts(
    read_as: str, values: list[object], sent: list[object]
) -> None:
    from arrowferry.convert import build_conversion
    from arrowferry.model import DataType

    conv = build_conversion("c", read_as, DataType("interval"), table="t")  # type: ignore[arg-type]
    frame = pl.DataFrame({"c": values})
    assert frame.select(conv.value.alias("v")).get_column("v").to_list() == sent
