"""The constraints of a PostgreSQL -> SQLite plan: CHECKs (the table's own, its domains',
its enums' labels), foreign keys, and the unique constraints and indexes built after the
load. SQLite can add no constraint after CREATE TABLE, so keys and checks are written
into it (each tried on SQLite first); what cannot be translated is named and left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from arrowferry.dialects.facts import Domain, SourceFacts
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqltext import in_list_sql, quote_ident
from arrowferry.dialects.translate import TranslationError, translate_expression
from arrowferry.model import Column, ForeignKey, Index, Table, enum_labels
from arrowferry.plan.model import Statement
from arrowferry.plan.names import TargetNames
from arrowferry.plan.sides import Survey
from arrowferry.plan.sqlite_views import user_calls


class SqliteConstraints:
    """The constraint half of the SQLite target side (:mod:`arrowferry.plan.into_sqlite`)."""

    facts: SourceFacts
    survey: Survey
    warnings: list[str]
    names: TargetNames

    def _overridden(self, table: Table, column: str) -> bool:
        raise NotImplementedError

    def _relation_name(self, wanted: str, what: str) -> str:
        raise NotImplementedError

    def _checks(
        self, table: Table, definitions: list[str], names: Mapping[str, str]
    ) -> list[tuple[str, str]]:
        """(CONSTRAINT ... CHECK (...), expression) for each CHECK that works in SQLite:
        the table's own, then its domain columns' (``VALUE`` becomes the column);
        ``names``: each column's target name."""
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
                        {"value": names[col.name]},
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
                    columns=names.values(),
                    aliases={**names, **aliases},
                    kinds=self._kinds(table, names),
                )
            except TranslationError as err:
                self.warnings.append(f"{what} not migrated: {err}")
                continue
            ddl = sqlw.check_sql(expr, check_name and self.names.name(check_name))
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

    def _kinds(self, table: Table, names: Mapping[str, str]) -> dict[str, str]:
        """The enum columns, by target name, for the translator (``'x'::mood`` is 'x')."""
        return {names.get(c.name, c.name): "enum" for c in table.columns if self._labels(c)}

    def _labels(self, col: Column) -> tuple[str, ...] | None:
        """An enum column's labels (also through a domain over the enum)."""
        return enum_labels(self.facts.enums, col)

    def _enum_checks(self, table: Table, names: Mapping[str, str]) -> list[tuple[str, str]]:
        """An enum column becomes text held to its labels, as PostgreSQL held it."""
        out = []
        for col in table.columns:
            labels = self._labels(col)
            if labels is None or self._overridden(table, col.name):
                continue
            expr = in_list_sql(names[col.name], labels)
            out.append((sqlw.check_sql(expr), expr))
        return out

    def _foreign_keys(self, table: Table, wanted: set[str]) -> list[ForeignKey]:
        """The table's foreign keys to tables of the run, in the target's names."""
        name = self.names.name
        out = []
        for fk in table.foreign_keys:
            if fk.ref_table not in wanted:
                self.warnings.append(
                    f"foreign key {table.name}({', '.join(fk.columns)}) -> {fk.ref_table} not "
                    f"created: table {fk.ref_table!r} is not migrated"
                )
                continue
            out.append(
                replace(
                    fk,
                    columns=tuple(map(name, fk.columns)),
                    ref_table=name(fk.ref_table),
                    ref_columns=tuple(map(name, fk.ref_columns)),
                    name=fk.name and name(fk.name),
                )
            )
        return out

    # --- after the load -----------------------------------------------------------

    def _finish(
        self,
        table: Table,
        checks: list[tuple[str, str]],
        target: str,
        names: Mapping[str, str],
    ) -> list[Statement]:
        """After the load: unique constraints and indexes, and the CHECK counts, on the
        table named ``target`` whose columns are named ``names``."""
        out = []
        for unique in table.uniques:
            name = self._relation_name(
                unique.name or f"{table.name}_{'_'.join(unique.columns)}_key", "unique constraint"
            )
            keys = [quote_ident(names[c]) for c in unique.columns]
            out.append(
                Statement("unique", sqlw.index_sql(target, name, keys, unique=True), target, name)
            )
        for index in table.indexes:
            stmt = self._index(table, index, target, names)
            if stmt is not None:
                out.append(stmt)
        for _ddl, expr in checks:
            out.append(Statement("check", sqlw.check_violations_sql(target, expr), target, expr))
        return out

    def _index(
        self, table: Table, index: Index, target: str, names: Mapping[str, str]
    ) -> Statement | None:
        calls = self._user_calls([("index", index.name)])
        if calls:
            self.warnings.append(f"index {index.name!r} on {table.name} not created: {calls}")
            return None
        keys = []
        try:
            for key in index.keys:
                text = (
                    translate_expression(
                        key.expression,
                        "postgresql",
                        "sqlite",
                        columns=names.values(),
                        aliases=names,
                        kinds=self._kinds(table, names),
                    )
                    if key.is_expression
                    else quote_ident(names.get(key.expression) or self.names.name(key.expression))
                )
                keys.append(text + (" DESC" if key.descending else ""))
            where = (
                translate_expression(
                    index.where,
                    "postgresql",
                    "sqlite",
                    columns=names.values(),
                    aliases=names,
                    kinds=self._kinds(table, names),
                )
                if index.where
                else None
            )
        except TranslationError as err:
            self.warnings.append(f"index {index.name!r} on {table.name} not created: {err}")
            return None
        name = self._relation_name(index.name, "index")
        sql = sqlw.index_sql(target, name, keys, unique=index.unique, where=where)
        return Statement("unique" if index.unique else "index", sql, target, name)
