"""The options of an incremental run: one switch under two names, cursors by table."""

from __future__ import annotations

import pytest

from arrowferry.errors import BadInputError
from arrowferry.options import MigrationOptions


def test_mode_and_flag_are_one_switch_and_imply_data_only() -> None:
    by_mode = MigrationOptions(mode="incremental")
    by_flag = MigrationOptions.from_kwargs(incremental=True)
    assert by_mode == by_flag
    assert by_mode.incremental and by_mode.mode == "incremental" and by_mode.data_only
    assert not MigrationOptions().incremental and MigrationOptions().mode == "full"


def test_cursor_spellings() -> None:
    assert MigrationOptions(incremental=True, cursor="updated_at").cursor == {"*": "updated_at"}
    given = MigrationOptions(incremental=True, cursor=("updated_at", "orders=modified_at"))
    assert given.cursor == {"*": "updated_at", "orders": "modified_at"}
    mapped = MigrationOptions(incremental=True, cursor={"orders": "modified_at"})
    assert mapped.cursor == {"orders": "modified_at"}
    # a table name may itself hold '=': the column is after the last one
    assert MigrationOptions(incremental=True, cursor="a=b=c").cursor == {"a=b": "c"}


@pytest.mark.parametrize("bad", ["orders=", "=col", ""])
def test_a_cursor_without_its_column_is_refused(bad: str) -> None:
    with pytest.raises(BadInputError, match="--cursor takes"):
        MigrationOptions(incremental=True, cursor=(bad,))


def test_incremental_refusals() -> None:
    with pytest.raises(BadInputError, match="mode must be"):
        MigrationOptions(mode="sometimes")
    with pytest.raises(BadInputError, match="cannot be --schema-only"):
        MigrationOptions(incremental=True, schema_only=True)
    refused = ({"full_refresh": "t"}, {"detect_deletes": True}, {"full_refresh_unkeyed": True})
    for extra in refused:
        with pytest.raises(BadInputError, match="apply to --incremental runs"):
            MigrationOptions(**extra)  # type: ignore[arg-type]
    # a full run given a cursor records the marks the incremental runs start from
    assert MigrationOptions(cursor="u").cursor == {"*": "u"}
