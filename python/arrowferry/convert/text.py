"""Text, JSON, UUID and bytes."""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from arrowferry.convert.base import Conversion, ReadAs, failed

_HEX32 = r"^[0-9a-fA-F]{32}$"


NUL_REASON = "contains a NUL byte, which PostgreSQL text cannot hold"


def to_text(
    c: pl.Expr,
    read_as: ReadAs,
    max_length: int | None = None,
    labels: tuple[str, ...] | None = None,
    enforced_by: str = "--size-limits enforce",
) -> Conversion:
    # PostgreSQL text cannot hold NUL; COPY would fail the whole table on one value
    text = c if read_as == "text" else c.cast(pl.String)
    nul = text.str.contains("\x00", literal=True).fill_null(False)
    reason = NUL_REASON
    if labels is not None:
        # an enum takes its labels only (compared exactly, as PostgreSQL compares them)
        other = (~text.is_in(list(labels))).fill_null(False)
        shown = ", ".join(repr(label) for label in labels[:12])
        more = "" if len(labels) <= 12 else f" and {len(labels) - 12} more"
        return Conversion(
            pl.when(nul | other).then(None).otherwise(text),
            nul | other,
            "text (one of the enum's labels)",
            f"not one of the enum's labels ({shown}{more})",
        )
    if max_length is None:
        return Conversion(text, nul, "text", reason)
    # an enforced varchar(n): PostgreSQL would refuse a longer value (or silently cut
    # trailing blanks), so it is a bad value here
    long = (text.str.len_chars() > max_length).fill_null(False)
    return Conversion(
        pl.when(nul | long).then(None).otherwise(text),
        nul | long,
        f"text (at most {max_length} characters, enforced)",
        f"longer than the {max_length} characters of varchar({max_length}) "
        f"({enforced_by}), or {reason}",
    )


# jsonb refuses \u0000 (it cannot be text); a preceding even run of backslashes is an escape
_ESCAPED_NUL = r"(?:^|[^\\])(?:\\\\)*\\u0000"


def to_json(c: pl.Expr, read_as: ReadAs) -> Conversion:
    """JSON text, validated here so one bad document does not fail the COPY."""
    text = c if read_as == "text" else c.cast(pl.String)
    parses = text.str.json_path_match("$").is_not_null() | (text.str.strip_chars() == "null")
    value = pl.when(parses & ~text.str.contains(_ESCAPED_NUL)).then(text)
    return Conversion(
        value,
        failed(c, value),
        "JSON text -> jsonb (validated)",
        "not valid JSON for jsonb (or holds \\u0000, which jsonb cannot store)",
        recheck=jsonb_accepts,
    )


def jsonb_accepts(text: str) -> bool:
    """What PostgreSQL's jsonb takes that Polars' parser refuses: numbers beyond a double."""
    if re.search(_ESCAPED_NUL, text):
        return False
    try:
        parsed = json.loads(text, parse_constant=_refuse)  # NaN and Infinity are not JSON
        # an unpaired surrogate escape (\ud800) parses in Python, never in jsonb
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return True


def _refuse(name: str) -> Any:
    raise ValueError(name)


def to_uuid(c: pl.Expr, read_as: ReadAs) -> Conversion:
    if read_as == "blob":
        sized = pl.when(c.bin.size() == 16).then(c)
        return Conversion(sized, failed(c, sized), "16-byte blob -> uuid", "not a 16-byte UUID")
    hex_text = c.str.strip_chars().str.strip_chars("{}").str.replace_all("-", "", literal=True)
    value = pl.when(hex_text.str.contains(_HEX32)).then(hex_text).str.decode("hex")
    return Conversion(value, failed(c, value), "UUID text -> uuid", "not a UUID")


def to_blob(c: pl.Expr, read_as: ReadAs) -> Conversion:
    value = c if read_as == "blob" else c.cast(pl.Binary)
    return Conversion(value, None, "bytes")
