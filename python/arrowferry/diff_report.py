"""A schema comparison for people (a report grouped by table, an HTML table for
notebooks) and for programs (JSON), and each side's definitions as text."""

from __future__ import annotations

import html
import re
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from arrowferry.model import Column, ForeignKey, Index, PrimaryKey, Table, UniqueConstraint

if TYPE_CHECKING:
    from arrowferry.diff import Difference, SchemaComparison

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
# kinds whose sentence already names both sides' definitions
_SAID = {
    "column_type",
    "collation",
    "nullability",
    "default",
    "sequence",
    "renamed_table",
    "renamed_column",
}
_VIEW_KINDS = {"missing_view", "extra_view", "view"}


def quoted(name: str) -> str:
    """A name as both dialects read it: bare when it is plain, else double-quoted."""
    return name if _PLAIN.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def type_sql(column: Column) -> str:
    text = column.declared or str(column.type)
    return f"{text} COLLATE {column.collation}" if column.collation else text


def default_sql(column: Column, dialect: str) -> str | None:
    """How a column gets a value nobody gave: default, identity, or computed."""
    if column.generated:
        how = "STORED" if column.generated_stored else "VIRTUAL"
        return f"GENERATED ALWAYS AS ({column.generated}) {how}"
    if column.identity:
        if dialect == "sqlite":
            return "INTEGER PRIMARY KEY" + (" AUTOINCREMENT" if column.autoincrement else "")
        return "GENERATED AS IDENTITY"
    return f"DEFAULT {column.default}" if column.default is not None else None


def column_sql(column: Column, dialect: str = "") -> str:
    if dialect == "sqlite" and column.identity:  # the rowid alias: its key is its type
        return f"{quoted(column.name)} {default_sql(column, dialect)}"
    parts = [quoted(column.name), type_sql(column)]
    if not column.nullable:
        parts.append("NOT NULL")
    extra = default_sql(column, dialect)
    if extra:
        parts.append(extra)
    return " ".join(parts)


def key_sql(word: str, key: PrimaryKey | UniqueConstraint | None) -> str | None:
    if key is None:
        return None
    named = f"CONSTRAINT {quoted(key.name)} " if key.name else ""
    return f"{named}{word} ({', '.join(map(quoted, key.columns))})"


def index_sql(index: Index, table: str) -> str:
    keys = []
    for key in index.keys:
        text = key.expression if key.is_expression else quoted(key.expression)
        text += f" COLLATE {key.collation}" if key.collation else ""
        keys.append(text + (" DESC" if key.descending else ""))
    text = f"{'UNIQUE ' if index.unique else ''}INDEX {quoted(index.name)} ON {quoted(table)}"
    text += f" ({', '.join(keys)})"
    return text + (f" WHERE {index.where}" if index.where else "")


def fk_sql(fk: ForeignKey) -> str:
    text = (
        f"FOREIGN KEY ({', '.join(map(quoted, fk.columns))}) REFERENCES {quoted(fk.ref_table)}"
        f" ({', '.join(map(quoted, fk.ref_columns))})"
    )
    if fk.on_delete != "NO ACTION":
        text += f" ON DELETE {fk.on_delete}"
    if fk.on_update != "NO ACTION":
        text += f" ON UPDATE {fk.on_update}"
    if fk.deferrable:
        text += " DEFERRABLE" + (" INITIALLY DEFERRED" if fk.initially_deferred else "")
    return text


def table_sql(table: Table, dialect: str = "") -> str:
    parts = [column_sql(c, dialect) for c in table.columns]
    rowid = dialect == "sqlite" and table.identity_column is not None
    if table.primary_key is not None and not rowid:
        parts.append(f"PRIMARY KEY ({', '.join(map(quoted, table.primary_key.columns))})")
    return f"{quoted(table.name)} ({', '.join(parts)})"


# --- the report ----------------------------------------------------------------------


def _jsonable(value: object) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def difference_dict(d: Difference) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "table": d.table,
        "name": d.name,
        "lossless": d.lossless,
        "detail": d.detail,
        "a_sql": d.a_sql,
        "b_sql": d.b_sql,
        "a": _jsonable(d.a),
        "b": _jsonable(d.b),
    }


def _groups(result: SchemaComparison) -> list[tuple[str, list[Difference]]]:
    groups: dict[str, list[Difference]] = {}
    for d in result.differences:
        groups.setdefault(d.table or "", []).append(d)
    return [
        (("view " if all(d.kind in _VIEW_KINDS for d in items) else "table ") + name, items)
        for name, items in groups.items()
    ]


def _headline(result: SchemaComparison) -> str:
    sides = f"a ({result.a_dialect}) and b ({result.b_dialect})"
    count = len(result.differences)
    if not count:
        return f"{sides}: no differences"
    lossy = sum(not d.lossless for d in result.differences)
    fit = (
        "rows of a fit in b"
        if not lossy
        else f"{lossy} of them may lose data: rows of a may not all fit in b"
    )
    return f"{sides}: {count} difference{'s' if count != 1 else ''}, {fit}"


def comparison_text(result: SchemaComparison) -> str:
    """The readable report, grouped by table: ``!`` marks a difference that may lose data."""
    lines = [_headline(result)]
    for title, items in _groups(result):
        lines += ["", title]
        for d in items:
            lines.append(f"  {' ' if d.lossless else '!'} {d.kind:<15} {d.detail}")
            if d.kind not in _SAID:
                lines += [
                    f"      {side}: " + text.replace("\n", "\n         ")
                    for side, text in (("a", d.a_sql), ("b", d.b_sql))
                    if text
                ]
    return "\n".join(lines)


def comparison_html(result: SchemaComparison) -> str:
    """A table for notebooks, one header row per table."""
    esc = html.escape
    rows = [
        "<tr><th>kind</th><th>name</th><th>a</th><th>b</th><th>lossless</th><th>detail</th></tr>"
    ]
    for title, items in _groups(result):
        rows.append(f'<tr><th colspan="6" style="text-align:left">{esc(title)}</th></tr>')
        for d in items:
            cells = (
                d.kind,
                d.name or "",
                d.a_sql or "",
                d.b_sql or "",
                "yes" if d.lossless else "no",
                d.detail,
            )
            rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return f"<p>{esc(_headline(result))}</p><table>{''.join(rows)}</table>"
