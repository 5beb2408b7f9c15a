"""Reject files: one line per record for every reader, and nothing left behind by a failed load."""

from __future__ import annotations

import json
from pathlib import Path

from arrowferry.transfer.rejects import Problem, RejectedRow, RejectFile, _one_line


def test_unicode_line_breaks_are_escaped_and_decode_back() -> None:
    value = "x\x85y\u2028z\u2029 मनीष"
    text = _one_line(json.dumps({"s": value}, ensure_ascii=False))
    assert len(text.splitlines()) == 1
    assert json.loads(text) == {"s": value}
    assert "मनीष" in text  # other text is kept readable


def _one_reject(directory: Path) -> RejectFile:
    rejects = RejectFile(directory, "t", directory / "unused.sqlite", "t")
    rejects.write(
        [RejectedRow(None, {}, [Problem("v", "abc", "not a number")], {"v": "abc"})], None
    )
    return rejects


def test_a_discarded_load_leaves_no_reject_directory_it_made(tmp_path: Path) -> None:
    made = tmp_path / "new" / "rejects"
    rejects = _one_reject(made)
    assert rejects.partial.exists()
    rejects.discard()
    assert not made.exists()


def test_a_discarded_load_keeps_a_directory_the_user_had(tmp_path: Path) -> None:
    rejects = _one_reject(tmp_path)
    rejects.discard()
    assert tmp_path.exists() and list(tmp_path.iterdir()) == []


def test_records_written_out_of_order_by_lanes_are_published_in_rowid_order(
    tmp_path: Path,
) -> None:
    rejects = RejectFile(tmp_path, "t", tmp_path / "unused.sqlite", "t")
    rows = {
        n: RejectedRow(n, {}, [Problem("v", "x", "not a number")], {"v": "x"}) for n in (1, 5, 9)
    }
    rejects._write([rows[5], rows[9]], None)  # one lane's piece
    rejects._write([rows[1]], None)  # another lane's, earlier in the table
    final = rejects.commit()
    assert final is not None
    assert [json.loads(x)["rowid"] for x in final.read_text().splitlines()] == [1, 5, 9]
