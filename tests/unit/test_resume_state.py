"""The records a run keeps, read back; what makes a resume another run; which errors
are transient. No database: the records are built and parsed as the target stores them."""

from __future__ import annotations

import pytest

from arrowferry import faults
from arrowferry.dialects.base import Statement
from arrowferry.dialects.journal import Record
from arrowferry.errors import ConnectError, DatabaseMissingError, TransferError
from arrowferry.transfer.state import (
    PieceDone,
    differences,
    finished_record,
    parse,
    piece_record,
    placed_record,
    run_record,
    statement_key,
)


def _plan(**changes: object) -> dict[str, object]:
    plan: dict[str, object] = {
        "source": "/data/app.db",
        "options": {"on_bad_value": "reject", "data_only": False},
        "tables": {"users": "a1", "events": "b2"},
        "finish": "f0",
    }
    plan.update(changes)
    return plan


def _load(table: str, pieces: list[object], staged: bool) -> Record:
    import json

    body = {"pieces": pieces, "plan": "b2", "staged": staged}
    return Record("load", table, -1, json.dumps(body))


def test_records_read_back_as_the_run_left_them() -> None:
    fk = Statement(
        "foreign_key",
        "ALTER TABLE e ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id)",
        None,
        "f",
        fallback_sql="... NOT VALID",
        depends=("users",),
    )
    records = [
        run_record(_plan(), [fk]),
        _load("users", [None], False),
        piece_record("users", 0, PieceDone(2000, 2000)),
        _load("events", [[1, 100], [101, 200], [201, 300]], True),
        piece_record("events", 0, PieceDone(100, 100, 0, {"bad": {"payload": 2}})),
        piece_record("events", 2, PieceDone(100, 100)),
        finished_record("k1", "weaker", "foreign key f created NOT VALID"),
    ]
    left = parse(records, "somewhere")
    assert left.restore == [fk]
    assert left.complete() == ["users"]
    events = left.tables["events"]
    assert events.pieces == [(1, 100), (101, 200), (201, 300)]  # key ranges as tuples again
    assert events.todo() == [(1, (101, 200))] and events.rows == 200 and not events.complete
    assert left.staged() == ["events"]
    assert left.finished["k1"]["note"] == "foreign key f created NOT VALID"
    placed = parse(
        [*records, piece_record("events", 1, PieceDone(100, 100)), placed_record("events")], ""
    )
    assert placed.tables["events"].complete and placed.staged() == []


def test_a_staged_table_is_complete_only_once_in_place() -> None:
    records = [
        run_record(_plan(), []),
        _load("events", [[1, 10]], True),
        piece_record("events", 0, PieceDone(10, 10)),
    ]
    assert not parse(records, "").tables["events"].complete


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"source": "/data/other.db"}, "it read '/data/app.db', this run reads '/data/other.db'"),
        (
            {"options": {"on_bad_value": "null", "data_only": False}},
            "option on_bad_value was 'reject', now 'null'",
        ),
        ({"tables": {"users": "a1"}}, "it moved table events that this run does not"),
        ({"tables": {"users": "a1", "events": "b2", "tags": "c3"}}, "this run moves table tags"),
        ({"tables": {"users": "a1", "events": "zz"}}, "table events is planned differently"),
        ({"finish": "other"}, "views are planned differently"),
    ],
)
def test_another_run_is_named_by_what_differs(change: dict[str, object], said: str) -> None:
    found = differences(_plan(), {**_plan(), **change})
    assert len(found) == 1 and said in found[0], found
    assert differences(_plan(), _plan()) == []


def test_a_statement_is_recorded_under_its_kind_table_name_and_text() -> None:
    one = Statement("index", "CREATE INDEX i ON t (a)", "t", "i")
    assert statement_key(one) == statement_key(
        Statement("index", "CREATE INDEX i ON t (a)", "t", "i")
    )
    assert statement_key(one) != statement_key(
        Statement("index", "CREATE INDEX i ON t (b)", "t", "i")
    )
    assert statement_key(one) != statement_key(
        Statement("unique", "CREATE INDEX i ON t (a)", "t", "i")
    )


class _DriverError(Exception):
    def __init__(self, text: str, sqlstate: str | None = None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("err", "transient"),
    [
        (
            _DriverError(
                "IO: Error writing tuple field data: server closed the connection unexpectedly"
            ),
            True,
        ),
        (_DriverError("FATAL: terminating connection due to administrator command", "57P01"), True),
        (_DriverError("the database system is starting up", "57P03"), True),
        (_DriverError("could not serialize access", "40001"), True),
        (_DriverError("deadlock detected", "40P01"), True),
        (_DriverError("connection failure", "08006"), True),
        (TransferError("reading 'a.db' failed: database is locked", table="t"), True),
        (
            ConnectError(
                'connection to server on socket "/tmp/.s.PGSQL.5432" failed: Connection refused'
            ),
            True,
        ),
        (
            ConnectError(
                "connection to server failed: FATAL: password authentication failed for user"
            ),
            False,
        ),
        (DatabaseMissingError('database "x" does not exist', database="x", url="u"), False),
        (_DriverError("canceling statement due to statement timeout", "57014"), False),
        (_DriverError('could not extend file "base/1/2": No space left on device', "53100"), False),
        (_DriverError("invalid input syntax for type json", "22P02"), False),
    ],
)
def test_transient_errors(err: BaseException, transient: bool) -> None:
    assert faults.transient(err) is transient


def test_the_sqlstate_of_a_wrapped_error_counts() -> None:
    outer = TransferError("table 't': lost", table="t")
    outer.__cause__ = _DriverError("whatever", "57P01")
    assert faults.transient(outer)
