"""The verdict line of a verification: differences and tables that could not be compared
are counted apart (a lost connection is not a difference)."""

from __future__ import annotations

import pytest

from arrowferry.checksum.report import TableVerification, VerificationReport


def _table(name: str, state: str) -> TableVerification:
    table = TableVerification(name, name, source_rows=3, target_rows=3)
    if state == "differ":
        table.columns.append("x")
    elif state == "error":
        table.problem = "could not be compared: the source failed: no connection to the server"
    elif state == "missing":
        table.problem = "the table is missing from the target"
    return table


@pytest.mark.parametrize(
    ("states", "verdict", "html"),
    [
        (["ok", "ok", "ok"], "all 3 tables match", "match"),
        (["ok"], "all 1 table match", "match"),
        (["ok", "differ", "missing"], "2 of 3 tables differ", "differ"),
        (["error", "error"], "2 of 2 tables could not be compared", "not compared"),
        (
            ["differ", "error", "ok"],
            "1 of 3 tables differ, 1 could not be compared",
            "not compared",
        ),
    ],
)
def test_the_verdict_counts_differences_and_errors_apart(
    states: list[str], verdict: str, html: str
) -> None:
    report = VerificationReport("a.db", "b.db")
    report.tables = [_table(f"t{i}", s) for i, s in enumerate(states)]
    assert report.verdict() == verdict
    assert str(report).splitlines()[0] == f"verify a.db -> b.db: {verdict}"
    assert f"{verdict} (" in report._repr_html_()
    assert f">{html}</td>" in report._repr_html_()
