"""The constraints of a PostgreSQL -> SQLite plan: CHECKs (the table's own, its domains',
its enums' labels), foreign keys, and the unique constraints and indexes built after the
load. SQLite can add no constraint after CREATE TABLE, so keys and checks are written
into it (each tried on SQLite first); what cannot be translated is named and left out."""

from __future__ import annotations

from collections.abc import Sequence

from arrowferry.dialects.facts import Domain, SourceFacts
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.dialects.translate import TranslationError, translate_expression
from arrowferry.model import Column, Index, Table
from arrowferry.plan.model import Statement
from arrowferry.plan.sides import Survey
from arrowferry.plan.sqlite_views import user_calls


class SqliteConstraints:
    """The constraint half of the SQLite target side (:mod:`arrowferry.plan.into_sqlite`)."""

    facts: SourceFacts
    survey: Survey
    warnings: list[str]

    def _overridden(self, table: Table, column: str) -> bool:
        raise NotImplementedError

    def _relation_name(self, wanted: str, what: str) -> str:
        raise NotImplementedError

    def _checks(self, table: Table, definitions: list[str]) -> list[tuple[str, str]]:
        """(CONSTRAINT ... CHECK (...), expression) for each CHECK that works in SQLite:
        the table's own, then its domain columns' (``VALUE`` becomes the column)."""
        todo: list[tuple[str | None, str, dict[str, str], list[tuple[str, ...]]]] = [
            (c.name, c.expression, {}, [("check", table.name, c.name or "")]) for c in table.checks
        ]
        for col in table.columns:
            domain = self._domain(col)
            if domain is not None and not self._overridden(table, col.name):
                todo += [
                    (
                        f"{col.name}_{name}",
                        expr,
                        {"value": col.name},
                        [("domain", t, name) for t in domain.chain],
                    )
                    for name, expr in domain.checks
                ]
        out = []
        for check_name, expression, aliases, owners in todo:
            what = f"CHECK {check_name or expression!r} on {table.name}"
            calls = self._user_calls(owners)
            if calls:
                self.warnings.append(f"{what} not migrated: {calls}")
                continue
            try:
                expr = translate_expression(
                    expression,
                    self.survey.dialect.name,
                    "sqlite",
                    columns=table.column_names,
                    aliases=aliases,
                )
            except TranslationError as err:
                self.warnings.append(f"{what} not migrated: {err}")
                continue
            ddl = sqlw.check_sql(expr, check_name)
            failure = sqlw.trial([*definitions, ddl], [sqlw.check_violations_sql("trial", expr)])
            if failure is not None:
                self.warnings.append(
                    f"{what} not migrated: its SQLite form {expr!r} does not work ({failure})"
                )
                continue
            out.append((ddl, expr))
        return out

    def _user_calls(self, owners: Sequence[tuple[str, ...]]) -> str:
        """Why an expression cannot be translated because it calls a function (or
        operator) the source database defined itself; '' when it calls none. ``owners``:
        where PostgreSQL may have recorded it (a domain's rule: any domain of its chain)."""
        return next((c for c in (user_calls(self.facts, o) for o in owners) if c), "")

    def _domain(self, col: Column) -> Domain | None:
        return self.facts.domains.get(col.declared)

    def _labels(self, col: Column) -> tuple[str, ...] | None:
        """An enum column's labels (also through a domain over the enum)."""
        enums = self.facts.enums
        return enums.get(col.declared) or enums.get(col.type.raw or "")

    def _enum_checks(self, table: Table) -> list[tuple[str, str]]:
        """An enum column becomes text held to its labels, as PostgreSQL held it."""
        out = []
        for col in table.columns:
            labels = self._labels(col)
            if labels is None or self._overridden(table, col.name):
                continue
            expr = sqlw.in_list_sql(col.name, labels)
            out.append((sqlw.check_sql(expr), expr))
        return out

    def _foreign_keys(self, table: Table, wanted: set[str]) -> list[str]:
        out = []
        for fk in table.foreign_keys:
            if fk.ref_table not in wanted:
                self.warnings.append(
                    f"foreign key {table.name}({', '.join(fk.columns)}) -> {fk.ref_table} not "
                    f"created: table {fk.ref_table!r} is not migrated"
                )
                continue
            out.append(sqlw.foreign_key_sql(fk))
        return out

    # --- after the load -----------------------------------------------------------

    def _finish(self, table: Table, checks: list[tuple[str, str]]) -> list[Statement]:
        out = []
        for unique in table.uniques:
            name = self._relation_name(
                unique.name or f"{table.name}_{'_'.join(unique.columns)}_key", "unique constraint"
            )
            keys = [quote_ident(c) for c in unique.columns]
            out.append(
                Statement(
                    "unique", sqlw.index_sql(table.name, name, keys, unique=True), table.name, name
                )
            )
        for index in table.indexes:
            stmt = self._index(table, index)
            if stmt is not None:
                out.append(stmt)
        for _ddl, expr in checks:
            out.append(
                Statement(
                    "check",
                    sqlw.check_violations_sql(table.name, expr),
                    table.name,
                    expr,
                )
            )
        return out

    def _index(self, table: Table, index: Index) -> Statement | None:
        calls = self._user_calls([("index", index.name)])
        if calls:
            self.warnings.append(f"index {index.name!r} on {table.name} not created: {calls}")
            return None
        keys = []
        try:
            for key in index.keys:
                text = (
                    translate_expression(
                        key.expression, "postgresql", "sqlite", columns=table.column_names
                    )
                    if key.is_expression
                    else quote_ident(key.expression)
                )
                keys.append(text + (" DESC" if key.descending else ""))
            where = (
                translate_expression(
                    index.where, "postgresql", "sqlite", columns=table.column_names
                )
                if index.where
                else None
            )
        except TranslationError as err:
            self.warnings.append(f"index {index.name!r} on {table.name} not created: {err}")
            return None
        name = self._relation_name(index.name, "index")
        sql = sqlw.index_sql(table.name, name, keys, unique=index.unique, where=where)
        return Statement("unique" if index.unique else "index", sql, table.name, name)
