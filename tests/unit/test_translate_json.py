"""JSON constructors between the dialects (the values each engine writes are compared
in tests/integration/test_views_json.py); here, the forms and the refusals."""

from __future__ import annotations

import pytest

from arrowferry.dialects.translate import (
    Relation,
    TranslationError,
    translate_expression,
    translate_query,
    translate_sqlite_view,
)

KINDS = {
    "id": ("id", "int64"),
    "name": ("name", "text"),
    "flag": ("flag", "boolean"),
    "price": ("price", "decimal"),
    "doc": ("doc", "json"),
    "at": ("at", "timestamp"),
}
REL = {"items": Relation("items", KINDS)}


def test_sqlite_json_object_and_array_become_json_build_nested_too() -> None:
    got = translate_sqlite_view(
        "SELECT json_object('a', json_array(id, NULL, json_object('f', flag))) FROM items", REL
    )
    assert got == (
        "SELECT JSON_BUILD_OBJECT('a', JSON_BUILD_ARRAY(\"id\", NULL, "
        'JSON_BUILD_OBJECT(\'f\', CAST("flag" AS INT)))) FROM "items"'
    )


def test_sqlite_values_keep_what_sqlite_writes() -> None:
    got = translate_sqlite_view("SELECT json_object('p', price, 'd', doc) FROM items", REL)
    assert 'CAST("price" AS DOUBLE PRECISION)' in got and 'CAST("doc" AS TEXT)' in got


def test_postgresql_json_build_and_sql_json_become_sqlite_json() -> None:
    got = translate_query(
        "SELECT json_build_object('d', doc, 'a', json_build_array(flag, NULL::unknown)), "
        "JSON_OBJECT('n' : name RETURNING json) FROM items",
        "postgresql",
        "sqlite",
        relations=REL,
    )
    assert got == (
        "SELECT JSON_OBJECT('d', JSON(\"doc\"), 'a', JSON_ARRAY(JSON(CASE \"flag\" WHEN 1 "
        "THEN 'true' WHEN 0 THEN 'false' END), NULL)), JSON_OBJECT('n', \"name\") FROM \"items\""
    )


@pytest.mark.parametrize(
    ("sql", "source", "target", "said"),
    [
        ("SELECT json_object('t', at) FROM items", "sqlite", "postgresql", "timestamp"),
        ("SELECT json_build_object('t', at) FROM items", "postgresql", "sqlite", "timestamp"),
        ("SELECT jsonb_build_object('n', name) FROM items", "postgresql", "sqlite", "duplicate"),
        (
            "SELECT JSON_OBJECT('n' : name ABSENT ON NULL RETURNING json) FROM items",
            "postgresql",
            "sqlite",
            "NULL ON NULL",
        ),
    ],
)
def test_what_each_engine_writes_differently_is_refused(
    sql: str, source: str, target: str, said: str
) -> None:
    with pytest.raises(TranslationError, match=said):
        if source == "sqlite":
            translate_sqlite_view(sql, REL)
        else:
            translate_query(sql, source, target, relations=REL)


def test_an_expression_is_translated_too() -> None:
    assert translate_expression("json_array(1, NULL)", "sqlite", "postgresql") == (
        "JSON_BUILD_ARRAY(1, NULL)"
    )
    assert translate_expression("json_build_array(1, NULL::unknown)", "postgresql", "sqlite") == (
        "JSON_ARRAY(1, NULL)"
    )
