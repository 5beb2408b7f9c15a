"""Target names: PostgreSQL's 63-byte identifiers and its one namespace per schema
for tables, indexes and constraints."""

from __future__ import annotations

from collections.abc import Sequence

from arrowferry.dialects import postgresql as pg
from arrowferry.errors import SchemaError
from arrowferry.model import Table


class RelationNames:
    """Hands out table, index and constraint names that stay unique once truncated.

    Every renaming is explained in ``warnings`` (shared with the planner).
    """

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.relation_names: dict[str, str] = {}

    def check_table_names(self, tables: Sequence[Table]) -> None:
        seen: dict[str, str] = {}
        for table in tables:
            short = pg.truncate_identifier(table.name)
            if short in seen:
                raise SchemaError(
                    f"tables {seen[short]!r} and {table.name!r} would both be named {short!r} in "
                    f"PostgreSQL, which keeps only the first {pg.MAX_IDENTIFIER_BYTES} bytes of a name; "
                    "rename one, or migrate them separately with --include/--exclude"
                )
            seen[short] = table.name
            if short != table.name:
                self.warnings.append(
                    f"table {table.name!r} is named {short!r} in PostgreSQL (63-byte limit)"
                )
            self.relation_names[short.lower()] = table.name

    def relation_name(self, wanted: str, what: str) -> str:
        """A unique index/constraint name: PostgreSQL keeps these in one namespace per schema."""
        base = pg.truncate_identifier(wanted)
        name, n = base, 1
        while name.lower() in self.relation_names:
            suffix = f"_{n}"
            name = pg.truncate_identifier(base[: pg.MAX_IDENTIFIER_BYTES - len(suffix)] + suffix)
            n += 1
        if name != wanted:
            self.warnings.append(
                f"{what} {wanted!r} is named {name!r} in PostgreSQL (name taken or too long)"
            )
        self.relation_names[name.lower()] = wanted
        return name

    def column_names(self, table: Table) -> dict[str, str]:
        names: dict[str, str] = {}
        seen: dict[str, str] = {}
        for col in table.columns:
            short = pg.truncate_identifier(col.name)
            if short in seen:
                raise SchemaError(
                    f"table {table.name!r}: columns {seen[short]!r} and {col.name!r} would both be "
                    f"named {short!r} in PostgreSQL (63-byte limit); rename one first"
                )
            if short != col.name:
                self.warnings.append(
                    f"column {table.name}.{col.name} is named {short!r} in PostgreSQL"
                )
            seen[short] = col.name
            names[col.name] = short
        return names
