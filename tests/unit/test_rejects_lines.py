"""A reject record stays one line for every reader, whatever its text holds."""

from __future__ import annotations

import json

from arrowferry.transfer.rejects import _one_line


def test_unicode_line_breaks_are_escaped_and_decode_back() -> None:
    value = "x\x85y\u2028z\u2029 मनीष"
    text = _one_line(json.dumps({"s": value}, ensure_ascii=False))
    assert len(text.splitlines()) == 1
    assert json.loads(text) == {"s": value}
    assert "मनीष" in text  # other text is kept readable
