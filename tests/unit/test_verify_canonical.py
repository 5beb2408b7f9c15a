"""The canonical forms of a content checksum, without a database (issue 15, item 1).

The expected hashes and jsonb texts below were printed by PostgreSQL 16 itself
(``hashtextextended``, ``hashint8extended``, ``hashfloat8extended``, ``x::jsonb::text``):
the client's numpy copies of its functions must give exactly the same numbers, or a
SQLite file could never match the PostgreSQL table it was copied into. The
integration tests (tests/integration/test_verify.py) check the same forms end to end,
for every type, against a live server.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from arrowferry.checksum import canonical as canon
from arrowferry.checksum import jsonb, pghash
from arrowferry.dialects.checks import EPOCH_2000_US, CheckColumn, Kind
from arrowferry.dialects.sqlite.checksum import ReadAs
from arrowferry.model import DataType


@pytest.mark.parametrize(
    ("text", "seed", "expected"),
    [
        ("", 0, -6939563903564495251),
        ("abc", 0, -6747756470228489321),
        ("hello world!", 1, 2892710398881624464),  # exactly one 12-byte block
        ("zoë 🙂", -7, -1456427169276343764),  # multi-byte UTF-8
        ("x" * 25, 123456789012345, -1586458806368644775),  # two blocks and a tail
    ],
)
def test_text_hashes_as_postgresql_hashtextextended(text: str, seed: int, expected: int) -> None:
    assert pghash.hash_bytes(pa.array([text]), seed).tolist() == [expected]
    # the same values in a longer array, at another offset, hash alike
    many = pa.array(["pad", text, "more padding than twelve bytes"]).slice(1, 1)
    assert pghash.hash_bytes(many, seed).tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "seed", "expected"),
    [
        (0, 0, 4154612158245552303),
        (1, 1634103923, 3515202642680901589),
        (-1, 5, 5111540776065715399),
        (2**62, -9, -8548365809009254397),
    ],
)
def test_integer_hashes_as_postgresql_hashint8extended(
    value: int, seed: int, expected: int
) -> None:
    assert pghash.hash_int8(np.array([value], dtype=np.int64), seed).tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "seed", "expected"),
    [
        (1.5, 3, -4770388998205660040),
        (-2.25e-300, 0, 3597768274863883542),
        (float("inf"), 11, 7943472407922989511),
    ],
)
def test_double_hashes_as_postgresql_hashfloat8extended(
    value: float, seed: int, expected: int
) -> None:
    assert pghash.hash_float8(np.array([value]), seed).tolist() == [expected]


def test_zero_and_nan_hash_as_postgresql_does() -> None:
    # hashfloat8extended: 0.0 and -0.0 give the seed; every NaN bit pattern one hash
    h = pghash.hash_float8(np.array([0.0, -0.0, float("nan"), -float("nan")]), 42)
    assert h[0] == h[1] == 42 and h[2] == h[3]


@pytest.mark.parametrize(
    ("document", "printed"),
    [
        ('{"b":1,"a":2}', '{"a": 2, "b": 1}'),
        (
            '{"aa":1, "b" : [1,2,{"z":null,"y":true}]}',
            '{"b": [1, 2, {"y": true, "z": null}], "aa": 1}',
        ),
        ('{"a":1,"a":2}', '{"a": 2}'),  # a repeated key keeps its last value
        (
            "[1.50, 1e2, -0, 0.0, -0.0, 1E-3, 12345678901234567890]",
            "[1.50, 100, 0, 0.0, 0.0, 0.001, 12345678901234567890]",
        ),
        ('"caf\\u00e9 \\"q\\" \\\\ \\/ \\n\\t\\u0001"', '"café \\"q\\" \\\\ / \\n\\t\\u0001"'),
        ('{"\\u00e9":1,"e":2,"ee":3}', '{"e": 2, "ee": 3, "é": 1}'),  # keys by byte length
        (' [ "a" , "b" ] ', '["a", "b"]'),
        ("{}", "{}"),
        ("null", "null"),
        ("123.4500", "123.4500"),
    ],
)
def test_json_is_printed_as_jsonb_prints_it(document: str, printed: str) -> None:
    assert jsonb.jsonb_text(document) == printed
    # the vectorised path (flat arrays) and Python's agree
    text, bad = jsonb.canonical(pa.array([document, None]))
    assert text.to_pylist() == [printed, None] and not bad.any()


@pytest.mark.parametrize("refused", ['{"a":"\\u0000"}', "[NaN]", '{"a":', '"\\ud800"'])
def test_json_jsonb_refuses_is_a_bad_value(refused: str) -> None:
    assert jsonb.jsonb_text(refused) is None
    _, bad = jsonb.canonical(pa.array([refused]))
    assert bad.tolist() == [True]


def _hashes(kind: Kind, dtype: DataType, how: ReadAs, values: pa.Array) -> list[int]:
    """A SQLite column's hashes, each row seeded 7."""
    out = canon.canonical(CheckColumn("c", kind, dtype), how, canon.Read(values), bad_as_null=False)
    hashes: list[int] = out.hash(np.full(len(values), 7, np.int64)).tolist()
    return hashes


def _int_hashes(values: list[int]) -> list[int]:
    return pghash.hash_int8(np.array(values, dtype=np.int64), 7).tolist()


def test_every_sqlite_form_of_a_timestamp_hashes_as_its_microseconds() -> None:
    """ISO text with a 'T' or a space, a fraction, an offset, a julian day and epoch
    seconds: the forms the migration reads as one instant (microseconds since 2000)."""
    instant = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    micros = int(instant.timestamp()) * 1_000_000 - EPOCH_2000_US
    forms = [
        "2024-01-02 03:04:05",
        "2024-01-02T03:04:05.000000",
        "2024-01-02 04:04:05+01:00",
        str(int(instant.timestamp())),
        f"{2440587.5 + instant.timestamp() / 86400:.10f}",
    ]
    got = _hashes("timestamp", DataType("timestamptz"), "text", pa.array(forms))
    assert got == _int_hashes([micros] * len(forms))


def test_booleans_from_integers_and_words() -> None:
    assert _hashes("int", DataType("boolean"), "integer", pa.array([1, 0, None])) == [
        *_int_hashes([1, 0]),
        7 ^ 0x4E554C4C,  # NULL: the seed XOR the NULL mark
    ]
    assert _hashes(
        "int", DataType("boolean"), "text", pa.array(["t", "false", "yes"])
    ) == _int_hashes([1, 0, 1])
    # 2 is no boolean: the migration refused it, so it never matches a value
    assert _hashes("int", DataType("boolean"), "integer", pa.array([2]))[0] not in _int_hashes(
        [0, 1, 2]
    )


@pytest.mark.parametrize(
    ("real", "scaled"),
    [(1.005, 101), (2.675, 268), (-0.125, -13), (1136.6, 113660), (0.1 + 0.2, 30), (22.0, 2200)],
)
def test_reals_round_half_away_from_zero_through_their_shortest_text(
    real: float, scaled: int
) -> None:
    """What PostgreSQL stores for a REAL sent as its shortest text into numeric(p,2)."""
    col = CheckColumn("c", "scaled", DataType("decimal", precision=10, scale=2), scale=2)
    read = canon.Read(pa.array([None], pa.string()), pa.array([real]))
    out = canon.canonical(col, "numeric", read, bad_as_null=False)
    assert np.asarray(out.payload).tolist() == [scaled] and out.valid.tolist() == [True]


def test_decimal_text_and_integers_scale_exactly() -> None:
    col = CheckColumn("c", "scaled", DataType("decimal", precision=18, scale=3), scale=3)
    read = canon.Read(
        pa.array(["7", "12.3455", "-0.0005", "abc", None]), pa.array([None] * 5, pa.float64())
    )
    out = canon.canonical(col, "numeric", read, bad_as_null=False)
    assert np.asarray(out.payload)[:3].tolist() == [7000, 12346, -1]
    assert out.bad.tolist() == [False, False, False, True, False]
    assert out.valid.tolist() == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("number", "printed"),
    [("1.500", "1.5"), ("100", "100"), ("-0.00", "0"), ("1E+3", "1000"), ("1e-7", "0.0000001")],
)
def test_plain_decimals_print_as_trim_scale(number: str, printed: str) -> None:
    assert canon.plain(Decimal(number)) == printed


def test_uuid_forms_print_as_postgresql() -> None:
    raw = bytes(range(16))
    text = "00010203-0405-0607-0809-0a0b0c0d0e0f"
    out = canon.canonical(
        CheckColumn("u", "uuid", DataType("uuid")),
        "blob",
        canon.Read(
            pa.array([raw, text.upper().encode(), b"{" + text.replace("-", "").encode() + b"}"])
        ),
        bad_as_null=False,
    )
    assert out.payload.to_pylist() == [text] * 3  # type: ignore[union-attr]


def test_a_value_swapped_between_rows_changes_the_sums() -> None:
    """Each value is hashed with its row's seed: sums see which row holds what."""
    a, b = np.array([10, 20], dtype=np.int64), np.array([20, 10], dtype=np.int64)
    seeds = pghash.hash_int8(np.array([1, 2], dtype=np.int64), 99)
    assert pghash.hash_int8(a, seeds).sum() != pghash.hash_int8(b, seeds).sum()


def test_the_template_rewrite_agrees_with_the_parser() -> None:
    """Documents of repeated shapes are rewritten by regex templates learnt from a sample;
    every one must come out as the exact parser (and jsonb) prints it."""
    docs = []
    for i in range(300):
        docs += [
            f'{{"session":{i},"path":"/p/{i}","duration_ms":{i * 7}}}',
            f'{{"plan":"pro","age":{i},"address":{{"zip":"{i:05d}","city":"Zürich"}},"ok":{str(i % 2 == 0).lower()}}}',
            f'[ "a{i}" , {i}.50, null ]',
            f'{{"n":-{i}.0,"m":[{{"b":1,"a":[]}}],"e":{{}}}}',
            '{"x": 1e2, "y": -0}',  # not a template's form: the parser's
            f'{{"a":{i},"a":{i + 1}}}',  # a repeated key: the parser's
        ]
    rewrite = jsonb.Canonicaliser()
    pieces, bad = rewrite(pa.array(docs))
    out: dict[int, str] = {}
    for rows, texts in pieces:
        out.update(zip(rows.tolist(), texts.to_pylist(), strict=True))
    assert [out[i] for i in range(len(docs))] == [jsonb.jsonb_text(d) for d in docs]
    assert not bad.any() and rewrite.templates  # the common shapes were learnt
    assert sum(len(rows) for rows, _ in pieces[:-1]) > len(docs) // 2  # most by a template


def test_flat_documents_are_cut_exactly_in_every_style() -> None:
    """Flat objects and arrays of scalars, compact or spaced as jsonb prints them, are
    recognised by a match and cut at their separators: a separator inside a string value
    (``,"``, ``, "``, ``":``) must send the document to the regex or the parser, never cut
    it in the wrong place; each must come out as the parser (and jsonb) prints it."""
    docs = []
    for i in range(200):
        docs += [
            f'{{"session":{i},"path":"/p/{i}","duration_ms":{i * 7}}}',  # compact
            f'{{"session": {i}, "path": "/p/{i}", "duration_ms": {i * 7}}}',  # Python's
            f'{{"path": "/p/{i}", "session": {i}, "duration_ms": {i * 7}}}',  # jsonb's own
            f'{{ "session" :{i} ,"path":"/q" , "duration_ms":0 }}',  # odd spacing: the regex
            f'{{"session":{i},"path":"a,","duration_ms":1}}',  # ," inside a value
            f'{{"session":{i},"path":"x, ","duration_ms":1}}',  # , " inside a value
            f'{{"session":{i},"path":"k\\":","duration_ms":1.50}}',  # an escape: the parser
            f'{{"é":{i},"ab":"{"é" * (i % 3)}","z":-{i}.25}}',  # keys by byte length
            f'["vip{i}","mobile"]',
            f'["a,b{i}","c"]',  # a comma inside a string
            f'["x", {i}, true, null]',
            "[]",
            "{}",
        ]
    rewrite = jsonb.Canonicaliser()
    out: dict[int, str] = {}
    for start in range(0, len(docs), 500):  # batches, as verify reads them
        pieces, bad = rewrite(pa.array(docs[start : start + 500]))
        assert not bad.any()
        for rows, texts in pieces:
            out.update(zip((rows + start).tolist(), texts.to_pylist(), strict=True))
    assert [out[i] for i in range(len(docs))] == [jsonb.jsonb_text(d) for d in docs]
    assert any(t.flat for t in rewrite.templates)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('{"a":1,"b":"x"}', '{"a":1,"b":"y"}'),  # one value changed
        ('{"a":1,"b":"x"}', '{"a":"1","b":"x"}'),  # a number became a string
        ('{"a":1,"b":"x"}', '{"a":1,"c":"x"}'),  # a key renamed
        ('{"a":1.50,"b":2}', '{"a":1.5,"b":2}'),  # numeric keeps its scale: jsonb prints both
        ('["a","b"]', '["b","a"]'),  # array order matters
        ('["a,b"]', '["a","b"]'),  # a comma inside a string is no separator
    ],
)
def test_a_changed_flat_document_hashes_differently(one: str, other: str) -> None:
    """The flat path must not lose a difference: both documents, batched with enough of
    their shape to learn it, print differently and hash differently."""
    texts = []
    for doc in (one, other):
        rewrite = jsonb.Canonicaliser()
        pieces, _ = rewrite(pa.array([doc] * 100))
        printed = {t for _, texts_ in pieces for t in texts_.to_pylist()}
        assert printed == {jsonb.jsonb_text(doc)}
        texts.append(printed.pop())
    assert texts[0] != texts[1]
    h = pghash.hash_bytes(pa.array(texts), 7)
    assert h[0] != h[1]
