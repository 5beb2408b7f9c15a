"""What both directions share: the error, the relations a query may read, and the
per-scope name resolution that also records each column's type (``kinds``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sqlglot import exp

    from arrowferry.model import DataType

DIALECT = {"sqlite": "sqlite", "postgresql": "postgres"}


class TranslationError(ValueError):
    """An expression that sqlglot cannot carry into the target dialect."""


@dataclass(frozen=True)
class Relation:
    """A table or view as a SQLite view names it, and as PostgreSQL will know it."""

    name: str  # the target's name
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # lower -> (name, kind)
    # lower -> (precision, scale) of a decimal column, where declared
    sizes: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    # lower -> the collation of a text column that does not compare bytes as SQLite does
    collated: Mapping[str, str] = field(default_factory=dict)


def typed_relation(
    name: str,
    columns: Sequence[tuple[str, DataType, str]],
    enums: set[str] | frozenset[str],
    rename: Callable[[str], str] = str,
    collated: Mapping[str, str] | None = None,
) -> Relation:
    """A relation from (name, neutral type, declared type) columns: each by kind ("enum"
    for an enum type's, even through a domain: ``enums`` are their names), by lower-case
    source name; a decimal's size; ``rename``: a column's name in the target;
    ``collated``: text columns that compare by a locale."""
    return Relation(
        name,
        {
            c.lower(): (rename(c), "enum" if {declared, t.raw} & enums else t.kind)
            for c, t, declared in columns
        },
        {c.lower(): (t.precision, t.scale) for c, t, _ in columns if t.kind == "decimal"},
        {c.lower(): label for c, label in (collated or {}).items()},
    )


Sizes = dict[int, tuple[int | None, int | None]]  # id(column node) -> a decimal's (p, s)


def unwrap(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def text_literal(node: exp.Expression) -> exp.Literal | None:
    """A string literal, also as PostgreSQL writes one back (``'A%'::text``)."""
    from sqlglot import exp

    node = unwrap(node)
    while isinstance(node, exp.Cast) and node.to.this.name in {"TEXT", "VARCHAR", "BPCHAR"}:
        node = unwrap(node.this)
    return node if isinstance(node, exp.Literal) and node.is_string else None


def respell(node: exp.Expression, spelling: dict[str, str]) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.Column) and not node.table:
        name = spelling.get(node.name.lower())
        if name is not None:
            return exp.column(name, quoted=True)
    return node


def rename_all(tree: exp.Expr, rename: Callable[[str], str]) -> None:
    """Every name in ``tree`` through ``rename`` (a run's identifier policy): tables,
    columns, aliases, CTEs. Schema qualifiers are kept. The policy is idempotent, so names
    already respelled to their target form stay as they are, and a name and each
    reference to it (an alias and its uses) change alike."""
    from sqlglot import exp

    for ident in list(tree.find_all(exp.Identifier)):
        if isinstance(ident.parent, exp.Table | exp.Column) and ident.arg_key in {"db", "catalog"}:
            continue
        ident.set("this", rename(ident.name))


def respell_scope(
    scope: Any,
    relations: Mapping[str, Relation],
    kinds: dict[int, str],
    sizes: Sizes | None = None,
    collated: dict[int, str] | None = None,
) -> None:
    """Each column of ``scope`` respelled as its relation names it in the target, its
    kind in ``kinds`` (by node id), a decimal's size in ``sizes``, and the collation of a
    text column that does not compare bytes in ``collated``."""
    from sqlglot import exp

    aliases: dict[str, tuple[str, Relation]] = {}  # lower -> (qualifier to write, relation)
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table):
            relation = relations.get(source.name.lower())
            if relation is not None:
                # a table named without an alias is qualified by its (target) name
                written = relation.name if alias.lower() == source.name.lower() else alias
                aliases[alias.lower()] = (written, relation)
        elif isinstance(source.expression, exp.Select):  # a subquery or CTE: its outputs
            aliases[alias.lower()] = (alias, outputs(alias, source.expression, kinds))
    for column in scope.columns:
        if column.table:
            found = aliases.get(column.table.lower())
            if found is None:
                continue  # a table not migrated, or an outer query's (correlated): as written
            column.set("table", exp.to_identifier(found[0], quoted=True))
            candidates = [found[1]]
        else:
            candidates = [r for _, r in aliases.values() if column.name.lower() in r.columns]
        if len(candidates) != 1 or column.name.lower() not in candidates[0].columns:
            continue  # an output alias, another scope's column, or ambiguous: as written
        name, kind = candidates[0].columns[column.name.lower()]
        column.set("this", exp.to_identifier(name, quoted=True))
        if kind:
            kinds[id(column)] = kind
        size = candidates[0].sizes.get(column.name.lower())
        if sizes is not None and size is not None:
            sizes[id(column)] = size
        collation = candidates[0].collated.get(column.name.lower())
        if collated is not None and collation is not None:
            collated[id(column)] = collation


def outputs(alias: str, select: exp.Select, kinds: dict[int, str]) -> Relation:
    """A subquery's columns as its (already translated) SELECT list names them."""
    from sqlglot import exp

    columns = {}
    for item in select.selects:
        inner = unwrap(item.this if isinstance(item, exp.Alias) else cast("exp.Expression", item))
        name = item.alias_or_name
        if name and name != "*":
            columns[name.lower()] = (name, kinds.get(id(inner), "") or _computed_kind(inner, kinds))
    return Relation(alias, columns)


def _computed_kind(node: exp.Expression, kinds: dict[int, str]) -> str:
    """A subquery's output computed from a numeric column is a numeric too (``sum(x)``):
    what the outer query does with it is done in floating point in SQLite."""
    from sqlglot import exp

    if isinstance(node, (exp.Count, exp.Column)):
        return ""
    numeric = any(kinds.get(id(c)) == "decimal" for c in node.find_all(exp.Column))
    return "decimal" if numeric else ""


def innermost_first(tree: Any, rewrite: Callable[[Any], Any]) -> Any:
    """``rewrite`` every node of ``tree``, the deepest first, in place (the tree returned,
    a new one if its root was rewritten): a call nested in another's arguments is
    rewritten too, which sqlglot's ``transform`` misses (it does not visit what a
    replacement holds)."""

    def depth(node: Any) -> int:
        n = 0
        while node.parent is not None:
            node, n = node.parent, n + 1
        return n

    for node in sorted(tree.walk(), key=depth, reverse=True):
        new = rewrite(node)
        if new is node:
            continue
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def copy_kinds(node: exp.Expression, kinds: dict[int, str]) -> exp.Expression:
    """A copy of ``node`` whose columns keep the kinds of the original's (by position)."""
    copied = node.copy()
    for old, new in zip(node.walk(), copied.walk(), strict=True):
        if id(old) in kinds:
            kinds[id(new)] = kinds[id(old)]
    return copied


def printed(node: exp.Expression, kinds: dict[int, str]) -> list[tuple[exp.Expression, str]]:
    """What ``node`` turns into text (both sides of ``||``, each argument of ``concat`` and
    ``concat_ws``), each unwrapped with its kind (``kinds``: id(column) -> kind; a
    predicate is a boolean): the text of such a value is where the dialects differ."""
    from sqlglot import exp

    if isinstance(node, exp.DPipe):
        operands = [node.this, node.expression]
    elif isinstance(node, (exp.Concat, exp.ConcatWs)):
        operands = list(node.expressions)
    else:
        return []
    return [(inner, printed_kind(inner, kinds)) for inner in map(unwrap, operands)]


def printed_kind(inner: exp.Expression, kinds: dict[int, str]) -> str:
    from sqlglot import exp

    if isinstance(inner, (exp.Predicate, exp.Boolean, exp.Not, exp.Connector)):
        return "boolean"  # PostgreSQL prints 't' / 'f', SQLite 1 / 0
    return kinds.get(id(inner), "")


def relations_read(sql: str, dialect: str, schema: str | None = None) -> set[str]:
    """The tables and views a query reads, lower-cased, without its own CTE names (a name
    in a schema other than ``schema``, ``other.t``, counts as ``other.t``)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read=DIALECT[dialect])
    except SqlglotError as err:
        raise TranslationError(f"cannot parse the view's SQL: {err}") from err
    if isinstance(tree, exp.Create) and tree.expression is not None:  # CREATE VIEW v AS ...
        tree = tree.expression
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    found = set()
    for table in tree.find_all(exp.Table):
        name = table.name.lower()  # '' for a table-valued function (json_each(...))
        if not name or name in ctes or _system(name, table.db.lower(), dialect):
            continue
        other = table.db and table.db != schema and dialect == "postgresql"
        found.add(f"{table.db.lower()}.{name}" if other else name)
    return found


def _system(name: str, schema: str, dialect: str) -> bool:
    """A catalog every database of the dialect has (sqlite_master, pg_class)."""
    if dialect == "sqlite":
        return name.startswith("sqlite_")
    return schema in {"pg_catalog", "information_schema"} or (not schema and name.startswith("pg_"))
