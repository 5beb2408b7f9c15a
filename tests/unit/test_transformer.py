"""One Transformer, one bad-value policy, whatever the kernels: a SQLite-read column into
PostgreSQL's bigint (``ExactColumn``) and a PostgreSQL double into SQLite (``SqliteColumn``)
side by side in one table, under each policy."""

from __future__ import annotations

import math
import threading

import pyarrow as pa
import pytest

from arrowferry.convert.exact import ExactColumn
from arrowferry.convert.reading import positional, sqlite_column
from arrowferry.convert.to_sqlite import NOT_STORABLE, SqliteColumn
from arrowferry.errors import ConversionError
from arrowferry.model import DataType
from arrowferry.transfer.kernels import Table
from arrowferry.transfer.transform import Transformer

NAN_REASON = NOT_STORABLE["float64"]


def _table(*, n_nullable: bool = True, x_nullable: bool = True) -> Table:
    forward = ExactColumn(
        0,
        sqlite_column("t", 0, pa.string(), numeric=False, classes=False),
        table="t",
        source="n",
        target="n",
        nullable=n_nullable,
        read_as="text",
        target_type=DataType("int64"),
        arrow_type=pa.int64(),
        ddl="bigint",
    )
    reverse = SqliteColumn(
        positional(1),
        table="t",
        source="x",
        target="x",
        nullable=x_nullable,
        kind="float64",
        kernel="float64",
        limit=None,
        not_storable=NAN_REASON,
    )
    key = SqliteColumn(
        positional(2),
        table="t",
        source="id",
        target="id",
        nullable=False,
        kind="int32",
        kernel="integer",
        limit=None,
        not_storable="cannot be stored exactly",
    )
    return Table("t", (forward, reverse, key), rowid=None, key=("id",))


def _batch() -> pa.RecordBatch:
    # row 2: 'abc' is no bigint; row 3: SQLite has no NaN; row 1: -0.0 becomes 0.0
    return pa.record_batch(
        {
            "c0": pa.array(["10", "20", "abc", "40"]),
            "x": pa.array([1.5, -0.0, 3.5, math.nan]),
            "id": pa.array([1, 2, 3, 4], pa.int32()),
        }
    )


def test_reject_sends_each_bad_row_to_the_reject_records() -> None:
    transform = Transformer(_table(), "reject")
    out, rejected = transform.convert(_batch())
    assert out.schema == pa.schema([("n", pa.int64()), ("x", pa.float64()), ("id", pa.int64())])
    assert out.to_pylist() == [{"n": 10, "x": 1.5, "id": 1}, {"n": 20, "x": -0.0, "id": 2}]
    assert len(rejected) == 2
    assert (rejected[0].rowid, rejected[0].key) == (None, {"id": 3})
    assert rejected[0].row == {"n": "abc", "x": 3.5, "id": 3}  # no rowid: the whole row
    assert rejected[1].key == {"id": 4} and math.isnan(rejected[1].row["x"])  # type: ignore[index]
    first, second = (r.problems for r in rejected)
    assert [(p.column, p.value) for p in first] == [("n", "abc")]
    # the forward kernel's reason, and its remedy
    assert (
        first[0].reason == "not an integer that fits the column; --type-map t.n=text would keep it"
    )
    assert [(p.column, p.reason) for p in second] == [("x", NAN_REASON)]
    assert transform.bad_counts == {"n": 1, "x": 1}
    assert transform.rows_read == 4
    # counted where written: the -0.0 row is kept
    assert transform.interpreted == {"x": {"negative_zero": 1}}


def test_null_stores_null_and_a_not_null_column_stops_the_load() -> None:
    transform = Transformer(_table(), "null")
    out, rejected = transform.convert(_batch())
    assert rejected == []
    assert out.column("n").to_pylist() == [10, 20, None, 40]
    assert out.column("x").to_pylist()[:3] == [1.5, -0.0, 3.5]
    assert out.column("x").to_pylist()[3] is None
    assert transform.bad_counts == {"n": 1, "x": 1}

    for table, column, row in (
        (_table(n_nullable=False), "n", {"id": 3}),
        (_table(x_nullable=False), "x", {"id": 4}),
    ):
        with pytest.raises(ConversionError) as info:
            Transformer(table, "null").convert(_batch())
        err = info.value
        assert (err.table, err.column, err.row) == ("t", column, row)
        assert err.value == "abc" if column == "n" else math.isnan(err.value)
        assert "the column is NOT NULL, so --on-bad-value null cannot keep the row" in err.message


def test_fail_names_the_first_bad_row_whichever_kernel_flagged_it() -> None:
    with pytest.raises(ConversionError) as info:
        Transformer(_table(), "fail").convert(_batch())
    err = info.value
    assert (err.table, err.column, err.row, err.value) == ("t", "n", {"id": 3}, "abc")
    assert err.message.startswith(
        "table 't', column 'n', row {'id': 3}: value 'abc' cannot be stored exactly as bigint: "
    )
    assert err.message.endswith(
        "; otherwise fix the value, or pass --on-bad-value reject (or null)"
    )

    batch = _batch().slice(3)  # only the NaN row: the reverse kernel's reason
    with pytest.raises(ConversionError) as info:
        Transformer(_table(), "fail").convert(batch)
    assert info.value.message.startswith(
        f"table 't', column 'x', row {{'id': 4}}: value nan cannot be stored: {NAN_REASON}"
    )


def test_lanes_sharing_one_transformer_count_every_batch() -> None:
    transform = Transformer(_table(), "reject")
    kept: list[int] = []

    def lane() -> None:
        for _ in range(50):
            out, rejected = transform.convert(_batch())
            assert len(rejected) == 2
            kept.append(out.num_rows)

    threads = [threading.Thread(target=lane) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(kept) == 400 and transform.rows_read == 800
    assert transform.bad_counts == {"n": 200, "x": 200}
    assert transform.interpreted == {"x": {"negative_zero": 200}}

    other = Transformer(_table(), "reject")
    other.convert(_batch())
    transform.absorb(other)
    assert transform.rows_read == 804 and transform.bad_counts == {"n": 201, "x": 201}
    assert other.rows_read == 0 and other.bad_counts == {}


def test_a_batch_of_another_type_than_the_first_is_an_error() -> None:
    table = Table(
        "t",
        (
            SqliteColumn(
                positional(0),
                table="t",
                source="b",
                target="b",
                nullable=True,
                kind="boolean",
                kernel="same",
                limit=None,
                not_storable="cannot be stored exactly",
            ),
        ),
        rowid=None,
        key=(),
    )
    writable = (pa.bool_(), pa.int64()).__contains__
    transform = Transformer(table, "reject", writable=writable, target_name="SQLite")
    assert transform.schema is None  # "same" writes what it reads: known at the first batch
    transform.convert(pa.record_batch({"b": pa.array([True])}))
    with pytest.raises(Exception, match="a batch arrived as Arrow int64, not bool"):
        transform.convert(pa.record_batch({"b": pa.array([1])}))
    with pytest.raises(Exception, match="read as Arrow string, which SQLite cannot bind exactly"):
        Transformer(table, "reject", writable=writable, target_name="SQLite").convert(
            pa.record_batch({"b": pa.array(["t"])})
        )
