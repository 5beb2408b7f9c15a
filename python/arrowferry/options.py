"""Options of a migration: the same names as keyword arguments and CLI flags.

Every long option of ``arrowferry migrate`` but ``--json``, ``--quiet`` and ``--no-progress`` (which shape
only the command line's output) is a keyword of :func:`arrowferry.migrate`, spelled with
underscores: ``--batch-size`` is ``batch_size=``, ``--include`` is ``include=``,
``--type-map`` is ``type_map=``, ``--no-views`` is ``no_views=True``. Some fields have a
longer name too (``include_tables``, ``type_mappings``, ``create_views``); both work.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from arrowferry.errors import BadInputError
from arrowferry.wording import noun

OnBadValue = Literal["reject", "null", "fail"]
SizeLimits = Literal["widen", "enforce"]
Identifiers = Literal["quote", "lower", "snake_case"]
IDENTIFIER_POLICIES: tuple[str, ...] = ("quote", "lower", "snake_case")

# The CLI's spellings of fields named otherwise (tests/unit/test_option_names.py holds
# every long option of `migrate` to a keyword here or a field)
ALIASES: Mapping[str, str] = {
    "include": "include_tables",
    "exclude": "exclude_tables",
    "type_map": "type_mappings",
    "column_map": "column_mappings",
    "transform": "transforms",
}
NEGATIONS: Mapping[str, str] = {"no_views": "create_views"}
ALIAS_OF: Mapping[str, str] = {field: keyword for keyword, field in ALIASES.items()}


@dataclass(frozen=True)
class MigrationOptions:
    """What to migrate and how.

    Parameters
    ----------
    schema_only
        Create tables, keys, indexes and views; copy no rows.
    data_only
        Copy rows into tables that already exist in the target; create nothing.
    batch_size
        Rows per Arrow batch read from the source, at most; memory is bounded by it.
    batch_bytes
        Arrow bytes per batch, at most: tables with wide rows (measured on a sample of
        1,000 rows) are read in batches of fewer rows.
    workers
        Tables loaded in parallel, each on its own connections (None: one per core, at most 4).
    lanes
        COPY connections loading one large table at once, each reading and converting
        its own rowid ranges (None: as many as ``workers``; 1 loads every table in a
        single transaction).
    drop_tables
        Drop target tables of the same names first (with CASCADE). It also starts over
        from a run that was interrupted, forgetting its state.
    resume
        Finish a run that was interrupted (killed, a power loss, the server lost): the
        tables it completed are kept (their rows counted), a table it was loading goes
        on after its last committed key range, and the keys, indexes, foreign keys,
        sequences and views not yet made are made. The same source and options are
        needed; with nothing to resume the run starts as usual.
    continue_on_error
        Keep migrating other tables when one fails; the failed table is rolled back.
    dry_run
        Build and return the full plan; connect read-only and write nothing.
    include_tables, exclude_tables
        Table names or glob patterns (``tmp_*``); excludes win. Keywords ``include``
        and ``exclude`` too, as the CLI's ``--include`` and ``--exclude``.
    type_mappings
        Target types by declared type (``{"custom_type": "text"}``) or by
        ``table.column`` (``{"orders.total": "numeric(12,2)"}``); keys compare
        case-insensitively. Keyword ``type_map`` too, which also takes the CLI's
        ``KEY=TYPE`` strings (``type_map=["orders.total=numeric(12,2)"]``).
    transforms
        Your own change to a column's values, by ``table.column`` (the source's names):
        a Polars expression or a SQL expression string (``{"users.email":
        "lower(email)"}``), run on each batch after the conversion, the result held to
        the column's type (what does not fit is a bad value). Not between two SQLite
        files; see :mod:`arrowferry.transforms`. Keyword ``transform`` too, which
        also takes the CLI's ``TABLE.COLUMN=SQL`` strings.
    column_mappings
        ``data_only``: which target column a source column lands in, by
        ``table.column`` (``{"users.mail": "email"}``), for names that match neither
        exactly nor case-insensitively. Keyword ``column_map`` too, which also takes
        the CLI's ``TABLE.SOURCE=TARGET`` strings.
    ignore_missing_columns
        ``data_only``: leave out source columns the target table lacks (named in a
        warning) instead of stopping the table.
    rebuild_indexes
        ``data_only`` into PostgreSQL: drop the target tables' indexes that no
        constraint owns before the load and build them again after it, from their own
        definitions (faster for large loads; by default they are left as they are).
    strict_schema
        ``data_only``: stop before any row moves when a source column does not land
        exactly (a narrowing or lossy conversion, an unmatched column, a size the data
        may outgrow), rather than converting and reporting bad values.
    on_bad_value
        A value that cannot be stored exactly: ``"reject"`` (default) sends its whole
        row to ``<reject_dir>/<table>.jsonl`` and goes on; ``"null"`` stores NULL
        instead; ``"fail"`` stops the table at the first one, naming table, column,
        row and value. Every case is counted in the result.
    size_limits
        Declared sizes SQLite never enforced (``varchar(n)``, ``numeric(p,s)``):
        ``"widen"`` (default) gives a column the size its data needs (``text``; the
        precision its integer digits need once rounded to the scale, which stays),
        with a warning naming the column and the count; ``"enforce"`` keeps every
        declared size and sends what does not fit through ``on_bad_value``. A size
        chosen with ``type_mappings`` is always enforced.
    reject_dir
        Where reject files go (created only when a row is rejected).
    strip_nul, replace_invalid_utf8
        Clean text instead of rejecting it: drop NUL bytes, replace invalid UTF-8
        with U+FFFD. Each cleaned value is counted in the ledger.
    target_schema
        PostgreSQL schema to create the tables in (PostgreSQL targets).
    source_schema
        PostgreSQL schema to read the tables from (PostgreSQL sources).
    create_views
        Translate the source's views with sqlglot and create those that translate.
        ``no_views=True`` (the CLI's ``--no-views``) is ``create_views=False``.
    materialize_views
        PostgreSQL -> SQLite: create each materialized view as a table holding its rows
        in the run's snapshot (SQLite has no materialized views; without this option each
        one is named in a warning and not migrated).
    text_collation
        SQLite -> PostgreSQL: the collation of every text column arrowferry creates.
        ``"C"`` (default) compares and sorts text byte by byte, as SQLite's ``BINARY``
        does, so a view's ``name > 'M'``, an ``ORDER BY name LIMIT 3``, ``max(name)``, a
        CHECK's ``BETWEEN 'A' AND 'Z'`` and the application's own ``ORDER BY`` give what
        they gave in SQLite whatever the database's locale (``en_US.UTF-8`` puts
        ``'apple'`` before ``'Banana'``; SQLite and ``"C"`` after). ``"default"`` leaves
        the column to the database's default collation; any other name is used as given
        (``"und-x-icu"``). A column SQLite declared ``NOCASE`` or ``RTRIM`` has no
        equivalent and takes the database's default, with a warning.
    create_db
        Create the target PostgreSQL database when it does not exist (connecting to the
        server's ``postgres`` database, or ``template1``, with the same login); without
        it a missing database is an error that suggests it. A SQLite target file is
        always created.
    verify
        Once the migration is done, compare every row and value of the source with the
        target (:func:`arrowferry.verify`); the report is the result's ``verification``,
        and a difference makes the run fail.
    verbose
        Show every SQL statement sent to either database on stderr while the migration
        runs (the ``arrowferry.sql`` logger at DEBUG, like SQLAlchemy's ``echo=True``).
        Every statement is logged there whatever this says: with logging configured
        your own way, leave it off.
    mode, incremental
        ``mode="incremental"`` (``incremental=True``, ``--incremental``): move only what
        changed since the last run into a target an earlier run made, as upserts (see
        :mod:`arrowferry.transfer.incremental`). Implies ``data_only``.
    cursor
        Incremental runs: the column whose growth marks new and changed rows: one name for
        every table having it (``"updated_at"``), ``"table=column"`` items, or a mapping
        ``{"orders": "modified_at"}``. A table without one, with a single integer key, is
        followed by its key's high-water mark (appended rows only). Given to a full run,
        it records each table's mark, so the first incremental run reads only what changed.
    full_refresh
        Incremental runs: tables with neither key nor cursor to copy in full anyway
        (truncated and reloaded in one transaction).
    detect_deletes
        Incremental runs: remove the target rows whose keys left the source (keys of
        integer and text columns; compared by hashed key ranges, keys read only where a
        range differs).
    full_refresh_unkeyed
        Incremental runs: copy in full (truncated and reloaded in one transaction) every
        table the run cannot follow: no key to match rows on, or neither a cursor nor a
        single integer key. Each is named in the result (``how: "full"``).
    identifiers
        How the target names tables, columns, indexes, constraints and views:
        ``"quote"`` (default) keeps every name exactly as the source spells it (quoted
        where it needs to be); ``"lower"`` lower-cases it; ``"snake_case"`` also splits
        camelCase and turns spaces and punctuation into ``_`` (``OrderDetails`` and
        ``Order Details`` become ``order_details``). Views, CHECKs, defaults and index
        expressions follow. The mapping is in the plan (``identifiers``); two names the
        policy makes equal are an error naming both. Not for same-dialect copies.
    before_sql, after_sql
        A file of SQL statements in the target's dialect, run on the target in one
        transaction: ``before_sql`` once the target is prepared and before any table
        loads, ``after_sql`` after every table is finished (into a new SQLite file:
        before it is renamed into place). A dry run shows them and runs nothing.
    """

    schema_only: bool = False
    data_only: bool = False
    batch_size: int = 65_536
    batch_bytes: int = 3 * 1024 * 1024
    workers: int | None = None
    lanes: int | None = None
    drop_tables: bool = False
    resume: bool = False
    continue_on_error: bool = False
    dry_run: bool = False
    include_tables: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()
    type_mappings: Mapping[str, str] = field(default_factory=dict)
    column_mappings: Mapping[str, str] = field(default_factory=dict)
    transforms: Mapping[str, Any] = field(default_factory=dict)
    ignore_missing_columns: bool = False
    strict_schema: bool = False
    rebuild_indexes: bool = False
    on_bad_value: OnBadValue = "reject"
    size_limits: SizeLimits = "widen"
    reject_dir: str = "arrowferry-rejects"
    strip_nul: bool = False
    replace_invalid_utf8: bool = False
    target_schema: str = "public"
    source_schema: str = "public"
    create_views: bool = True
    materialize_views: bool = False
    verbose: bool = False
    create_db: bool = False
    text_collation: str = "C"
    # incremental runs (issue 16): see arrowferry.transfer.incremental
    mode: str = "full"
    incremental: bool = False
    cursor: str | Sequence[str] | Mapping[str, str] | None = None
    full_refresh: tuple[str, ...] = ()
    detect_deletes: bool = False
    full_refresh_unkeyed: bool = False
    verify: bool = False
    identifiers: Identifiers = "quote"
    before_sql: str | None = None
    after_sql: str | None = None

    def __post_init__(self) -> None:
        _incremental_fields(self)
        if self.schema_only and self.data_only:
            raise BadInputError("--schema-only and --data-only cannot both be set")
        for name in (
            "column_mappings",
            "ignore_missing_columns",
            "strict_schema",
            "rebuild_indexes",
        ):
            if getattr(self, name) and not self.data_only:
                raise BadInputError(
                    f"{flag(ALIAS_OF.get(name, name))} applies to --data-only runs (into tables "
                    "that already exist); add --data-only or leave it out"
                )
        for name in ("batch_size", "batch_bytes", "workers", "lanes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise BadInputError(f"{flag(name)} must be at least 1, not {value}")
        if self.on_bad_value not in ("reject", "null", "fail"):
            raise BadInputError(
                f"--on-bad-value must be 'reject', 'null' or 'fail', not {self.on_bad_value!r}"
            )
        if self.size_limits not in ("widen", "enforce"):
            raise BadInputError(
                f"--size-limits must be 'widen' or 'enforce', not {self.size_limits!r}"
            )
        if self.identifiers not in IDENTIFIER_POLICIES:
            raise BadInputError(
                f"--identifiers must be 'quote', 'lower' or 'snake_case', not {self.identifiers!r}"
            )
        object.__setattr__(self, "reject_dir", str(self.reject_dir))
        if self.transforms:
            from arrowferry.transforms import checked

            object.__setattr__(self, "transforms", checked(self.transforms))
        for name in ("before_sql", "after_sql"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.fspath(value))
        if not self.text_collation or not self.text_collation.strip():
            raise BadInputError(
                "--text-collation must name a collation ('C', 'default', ...), not be empty"
            )
        if not self.target_schema or not self.source_schema:
            raise BadInputError("--target-schema and --source-schema must not be empty")
        for name in ("include_tables", "exclude_tables"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))

    @property
    def parallelism(self) -> int:
        return self.workers or max(1, min(4, os.cpu_count() or 1))

    @property
    def lane_count(self) -> int:
        return self.lanes or self.parallelism

    @classmethod
    def from_kwargs(
        cls, options: MigrationOptions | None = None, **kwargs: Any
    ) -> MigrationOptions:
        """Options from keyword arguments, rejecting unknown names with a clear error."""
        base = options or cls()
        kwargs = canonical(kwargs)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise BadInputError(
                f"unknown {noun(len(unknown), 'option')} {', '.join(unknown)}; known options: "
                f"{', '.join(sorted(cls.keywords()))}"
            )
        return replace(base, **kwargs) if kwargs else base

    @classmethod
    def keywords(cls) -> frozenset[str]:
        """Every keyword :meth:`from_kwargs` accepts: the fields and the CLI's spellings."""
        return frozenset(cls.__dataclass_fields__) | set(ALIASES) | set(NEGATIONS)


def canonical(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keywords spelled as the CLI's options, under their fields' names."""
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        field_name, value = _as_field(name, value)
        if field_name in out and out[field_name] != value:
            raise BadInputError(
                f"option {field_name} is given under two names with different values; give one"
            )
        out[field_name] = value
    return out


def _as_field(name: str, value: Any) -> tuple[str, Any]:
    if name in NEGATIONS:
        return NEGATIONS[name], not value
    if name == "type_map" and not isinstance(value, Mapping):
        from arrowferry.types import parse_type_map_option

        return ALIASES[name], parse_type_map_option(as_tuple(value))
    if name == "column_map" and not isinstance(value, Mapping):
        return ALIASES[name], parse_column_map(as_tuple(value))
    if name == "transform" and not isinstance(value, Mapping):
        from arrowferry.transforms import parse_transform_option

        return ALIASES[name], parse_transform_option(as_tuple(value))
    return ALIASES.get(name, name), value


def parse_column_map(items: Sequence[str]) -> dict[str, str]:
    """``TABLE.SOURCE=TARGET`` strings as ``{"table.source": "target"}``."""
    return table_column_items(
        items, "--column-map", "TABLE.SOURCE_COLUMN=TARGET_COLUMN", "users.mail=email"
    )


def table_column_items(
    items: Sequence[str], option: str, shape: str, example: str
) -> dict[str, str]:
    """A repeated CLI option's ``TABLE.COLUMN=VALUE`` strings as ``{"table.column":
    "value"}``; one of another shape is an error showing ``shape`` and ``example``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        table, dot, column = key.strip().partition(".")
        if not sep or not dot or not table or not column or not value.strip():
            raise BadInputError(f"{option} {item!r}: expected {shape} (for example {example})")
        out[f"{table}.{column}"] = value.strip()
    return out


def flag(keyword: str, value: str | None = None) -> str:
    """An option as every message names it: by its CLI flag, which is also the keyword
    of :func:`arrowferry.migrate` spelled with underscores (``--on-bad-value null`` is
    ``on_bad_value="null"``, ``--type-map 'a.b=text'`` is ``type_map=["a.b=text"]``).

    >>> flag("type_map", "orders.total=numeric(12,2)")
    "--type-map 'orders.total=numeric(12,2)'"
    """
    if keyword not in _FLAG_KEYWORDS:
        raise ValueError(f"no CLI flag is spelled {keyword!r}")  # a bug in a message
    text = "--" + keyword.replace("_", "-")
    return text if value is None else f"{text} {shlex.quote(value)}"


def type_map_hint(table: str, column: str, target_type: str) -> str:
    """How to keep a column's values as ``target_type``: the --type-map to pass."""
    return flag("type_map", f"{table}.{column}={target_type}")


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# the keywords a CLI flag stands for: the fields whose flag has another name are left out
_FLAG_KEYWORDS = MigrationOptions.keywords() - set(ALIASES.values()) - set(NEGATIONS.values())


def _incremental_fields(options: MigrationOptions) -> None:
    """``mode="incremental"`` and ``incremental=True`` are one switch; an incremental run
    writes into the target's own tables, so it is a data-only run."""
    if options.mode not in ("full", "incremental"):
        raise BadInputError(f"mode must be 'full' or 'incremental', not {options.mode!r}")
    on = options.incremental or options.mode == "incremental"
    object.__setattr__(options, "incremental", on)
    object.__setattr__(options, "mode", "incremental" if on else "full")
    object.__setattr__(options, "full_refresh", as_tuple(options.full_refresh))
    object.__setattr__(options, "cursor", _cursors(options.cursor))
    # --cursor on a full run records each table's mark for the incremental runs after it
    if (options.full_refresh or options.detect_deletes or options.full_refresh_unkeyed) and not on:
        raise BadInputError(
            "--full-refresh, --full-refresh-unkeyed and --detect-deletes apply to "
            "--incremental runs"
        )
    if on:
        if options.schema_only:
            raise BadInputError("--incremental moves rows; it cannot be --schema-only")
        object.__setattr__(options, "data_only", True)


def _cursors(value: str | Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """Cursor columns by table; ``"*"``: every table having that column."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for item in as_tuple(value):
        table, sep, column = item.rpartition("=")
        if not column or (sep and not table):
            raise BadInputError(f"--cursor takes COLUMN or TABLE=COLUMN, not {item!r}")
        out[table if sep else "*"] = column
    return out
