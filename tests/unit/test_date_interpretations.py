"""The ledger's date counts name the branch the conversion really took, value by value."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from arrowferry.convert.temporal import interpretations, to_date, to_timestamp
from arrowferry.model import DataType

# text as read -> the one kind it is counted as when written into a timestamp column
# (None: naive ISO text, read as written)
TIMESTAMP_CASES = {
    " 1700000000 ": "epoch_seconds",
    "+5": "julian_day",
    "5.": "julian_day",
    ".5": "julian_day",
    "-1": "epoch_seconds",  # negative: never a julian day
    "99999999999": "epoch_seconds",
    "100000000000": "epoch_milliseconds",
    "100000000000.5": "epoch_seconds",  # not an integer: seconds
    "5373484.5": "epoch_seconds",  # the end of SQLite's julian range
    "5373484.4": "julian_day",
    "1721425.5": "julian_day",  # 0001-01-01 00:00: not before year 1
    "1.44675925925926e-06": "julian_day",  # how SQLite writes a tiny REAL as text
    "2.4600005E6": "julian_day",
    "2024-01-01T10:00:00+0530": "offset_to_utc",
    "2024-01-01 10:00Z": "offset_to_utc",
    "2024-01-01 10:00:00.5-02:00": "offset_to_utc",
    "2024-01-02": None,
    "2024-01-02 03:04": None,
    "2024-01-02t03:04:05.123456": None,
}


def _converted(texts: list[str], kind: str) -> list[bool]:
    """Whether each text converts (BC years have no Python datetime: test in Polars)."""
    frame = pl.DataFrame({"c": texts}, schema={"c": pl.String})
    conversion = (
        to_date(pl.col("c"), "text")
        if kind == "date"
        else to_timestamp(pl.col("c"), "text", tz=kind == "timestamptz")
    )
    return frame.select(conversion.value.is_not_null().alias("v")).get_column("v").to_list()


@pytest.mark.parametrize("kind", ["timestamp", "timestamptz"])
def test_each_written_value_is_counted_once_by_its_branch(kind: str) -> None:
    texts = list(TIMESTAMP_CASES)
    assert all(_converted(texts, kind)), "every case converts"
    interpret = interpretations("text", DataType(kind), fast=False)
    assert interpret is not None
    found = interpret(pa.array(texts))
    for i, text in enumerate(texts):
        hits = {k for k, flags in found.items() if flags[i]} - {"julian_day_before_year_1"}
        want = TIMESTAMP_CASES[text]
        expected = {want} if want else set()
        if kind == "timestamptz":  # an offset is exact there; naive text is read as UTC
            expected = {"naive_as_utc"} if want is None else expected - {"offset_to_utc"}
        assert hits == expected, (text, hits)


def test_before_year_1_and_dates() -> None:
    texts = ["0", "1721425.4", "1721425.5", "2460000.5", "2024-01-02"]
    found = interpretations("text", DataType("date"), fast=False)(pa.array(texts))  # type: ignore[misc]
    assert found["julian_day_before_year_1"].tolist() == [True, True, False, False, False]
    assert found["julian_day"].tolist() == [True, True, True, True, False]
    assert "offset_to_utc" not in found and "naive_as_utc" not in found


def test_fast_paths_interpret_only_naive_timestamptz() -> None:
    assert interpretations("text", DataType("timestamp"), fast=True) is None
    assert interpretations("text", DataType("date"), fast=True) is None
    naive = interpretations("text", DataType("timestamptz"), fast=True)
    assert naive is not None
    flags = naive(pa.array(["2024-01-01 00:00:00", "2024-01-01T00:00:00Z", None, "2024-01-01"]))
    assert flags["naive_as_utc"].tolist() == [True, False, False, True]
