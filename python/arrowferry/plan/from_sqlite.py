"""SQLite as the source of a plan: introspect the file, profile what its declared types
cannot promise, and read each column so it lands as the target's type.

SQLite stores any value in any column (type affinity), so a declared type is a hint:
a column with no usable type gets its neutral type from the storage classes it holds,
and a column whose values may surprise the fast read is profiled first (or re-read
exactly when the surprise shows; driver-traps.md A).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

from arrowferry.convert import ReadAs
from arrowferry.dialects import sqlite
from arrowferry.dialects.base import dialect_named
from arrowferry.dialects.facts import SourceFacts
from arrowferry.dialects.sqlite import ColumnProfile, is_unresolved, rowid_alias
from arrowferry.dialects.sqlite.defaults import clock_default, evaluate_default, formats_now
from arrowferry.dialects.sqlite.types import sqlite_affinity
from arrowferry.errors import SourceError
from arrowferry.model import Column, DataType, Table
from arrowferry.options import MigrationOptions
from arrowferry.plan.model import MigrationPlan
from arrowferry.plan.select import no_tables_note, select_tables
from arrowferry.plan.sides import Existing, Read, SourceDefault, Survey
from arrowferry.types import TypeMappings
from arrowferry.urls import Endpoint


class SqliteSourceSide:
    """The source side of a plan from a SQLite file."""

    dialect = dialect_named("sqlite")

    @contextmanager
    def survey(
        self,
        endpoint: Endpoint,
        options: MigrationOptions,
        existing: Callable[[Sequence[Table]], Existing],
    ) -> Iterator[Survey]:
        path = endpoint.path
        with sqlite.connect_metadata_ctx(path) as conn:
            note = sqlite.check_integrity(conn, path)
            schema = sqlite.introspect(conn)
            if note:
                schema = replace(schema, notes=(*schema.notes, note))
            tables = select_tables(schema, options.include_tables, options.exclude_tables)
            if not tables:
                schema = replace(schema, notes=(*schema.notes, no_tables_note(endpoint, None)))
            failed = {t.name: t.unreadable for t in tables if t.unreadable is not None}
            there = existing(tables)
            rows: dict[str, int] = {}
            profiles: dict[str, Mapping[str, ColumnProfile]] = {}
            for t in tables:
                if t.name in failed:
                    continue
                landing = _profiled_for_landing(t, there.table(t.name))
                columns = list(dict.fromkeys([*_profiled_columns(t, options), *landing]))
                measured, limits = (
                    _measured_columns(t, options) | set(landing),
                    sqlite.size_limits(t),
                )
                if options.incremental and not options.dry_run:
                    # an incremental run reads few rows: a surprise in them is re-read
                    # exactly at little cost, and its target's types are fixed, so only
                    # what sizes the read itself is profiled, not a scan of every row
                    columns = _profiled_for_landing(t, there.table(t.name), sizing_only=True)
                    measured, limits = set(columns), {}
                try:
                    rows[t.name], profiles[t.name] = sqlite.profile(
                        conn, t.name, columns, measured, limits, rowid=rowid_alias(t)
                    )
                except SourceError as err:  # one table's problem, not the run's
                    failed[t.name] = err.message
            facts = SourceFacts(
                rows=rows, wide_decimals={}, sequences=sqlite.autoincrement_counters(conn)
            )
            survey = Survey(self.dialect, schema, tables, facts, profiles, failed)
            survey.connection = conn
            survey.existing = there
            yield survey

    def value_type(self, table: Table, col: Column, survey: Survey) -> tuple[DataType, str | None]:
        if not is_unresolved(col):
            return col.type, None
        return type_from_profile(table, col, survey.profile(table.name, col.name))

    def read(self, table: Table, col: Column, dtype: DataType, survey: Survey) -> Read:
        profile = survey.known_profile(table.name, col.name)
        read_as, cast = choose_read(dtype, sqlite_affinity(col.declared), profile)
        return Read(read_as, cast)

    def rowid(self, table: Table) -> str | None:
        return rowid_alias(table)

    def default(self, table: Table, col: Column, survey: Survey) -> SourceDefault | None:
        """SQLite evaluates a constant default through the column's affinity (``TEXT
        DEFAULT 1e3`` is the text ``'1000.0'``); a per-row one is kept only for its clock."""
        assert col.default is not None
        clock = clock_default(col.default)
        if clock is not None:
            return SourceDefault("clock", col.default, clock=clock)
        if formats_now(col.default):  # strftime(format, 'now'): translated code by code
            return SourceDefault(
                "expression",
                col.default,
                reason="SQLite writes the clock's reading as text in that format for each "
                "row, which only a text column keeps as written",
            )
        stored = evaluate_default(col.default, col.declared)  # ValueError: no constant
        if stored.storage == "null":
            return None
        return SourceDefault(
            "stored", col.default, value=stored.value, storage=stored.storage, text=stored.text
        )

    def complete(self, plan: MigrationPlan, survey: Survey, options: MigrationOptions) -> None:
        conn = survey.connection
        planned = [t for t in survey.tables if t.name not in plan.failed]
        plan.warnings.extend(sqlite.virtual_notes(conn, planned, options.target_schema))
        if options.dry_run:
            for table in plan.tables:
                for col in table.columns:
                    if col.type.kind in {"timestamp", "timestamptz", "date"}:
                        plan.date_forms[(table.name, col.target)] = sqlite.date_forms(
                            conn, table.source.name, col.source
                        )


SIDE = SqliteSourceSide()


def type_from_profile(
    table: Table, col: Column, profile: ColumnProfile | None
) -> tuple[DataType, str]:
    """Untyped (BLOB-affinity) or unknown NUMERIC-affinity columns: the data decides.
    Returns the type and the start of the note that says so."""
    classes = set(profile.classes) if profile is not None else set()
    if not classes or classes == {"text"}:
        dtype = DataType("text")
    elif classes == {"integer"}:
        dtype = DataType("int64")
    elif classes == {"real"}:
        dtype = DataType("float64")
    elif classes <= {"integer", "real"}:
        dtype = DataType("decimal")
    elif "blob" in classes:
        dtype = DataType("blob")
    else:
        dtype = DataType("text")
    what = f"declared {col.declared!r}" if col.declared else "no declared type"
    held = f"{', '.join(sorted(classes))} values" if classes else "only NULLs"
    return dtype, f"column {table.name}.{col.name} has {what}; it holds {held}"


def choose_read(
    dtype: DataType, affinity: str, profile: ColumnProfile | None
) -> tuple[ReadAs, bool]:
    """How to read a column: (Arrow kind the driver should produce, CAST in the SQL?).

    The fast choice reads numbers as stored, without a CAST; a value of another
    storage class then shows up as a changed Arrow type or a driver error, and the
    table is re-read with ``CAST(col AS TEXT)`` (driver-traps.md A). Never CAST to
    INTEGER or REAL: SQLite's CAST turns 'abc' into 0 without a word.
    A TEXT-affinity column can only hold text or blobs (SQLite converts numbers on
    insert), so it needs no CAST either; any other column read as text does, since
    the driver would render a REAL with 7 significant digits (``%e``).
    """
    kind = dtype.kind
    if kind in {"int16", "int32", "int64", "boolean"}:
        if profile is None or profile.only("integer"):
            return "integer", False
        return "text", True
    if kind in {"float32", "float64"}:
        if profile is None or profile.only("integer", "real"):
            return "real", False
        return "text", True
    if kind == "decimal":
        # Doubles carry every integer and REAL of the column exactly when its integers
        # stay below 2**53: a numeric(p<=15, s), or a profile that says so. Text in it
        # surprises the read, and the table is re-read the exact way (read_as_text).
        if profile is not None and not profile.only("integer", "real"):
            fits = False
        elif dtype.precision is not None:
            fits = dtype.precision <= 15
        else:  # an unbounded decimal is always profiled with its magnitudes
            fits = profile is not None and profile.max_abs_number < 2**53
        return ("real", False) if fits else ("numeric", True)
    if kind == "interval" and profile is not None and profile.only("integer"):
        return "integer", False  # microseconds (Django's DurationField)
    if kind == "blob" or (kind == "uuid" and profile is not None and profile.only("blob")):
        return "blob", True
    if kind == "text" and affinity == "TEXT" and (profile is None or profile.only("text")):
        return "text", False
    return "text", True


def _profiled_columns(table: Table, options: MigrationOptions) -> list[str]:
    """Columns whose plan needs their storage classes before the read.

    Everything else is read the fast way, and a surprise in the data makes the
    pipeline re-read that column exactly, so the profile costs no second scan of
    clean columns. A dry run profiles every column, to show it.
    """
    if options.dry_run:
        return list(table.column_names)
    mapped = _mapped_columns(table, options)
    return [c.name for c in table.columns if sqlite.needs_profile(c) or c.name in mapped]


# target kinds whose read depends on what the column holds: a 16-byte blob is a uuid's
# bytes, and an unbounded numeric's Arrow decimal is sized by its values' magnitudes
_PROFILED_KINDS = {"uuid", "decimal", "blob"}


def _profiled_for_landing(
    table: Table, there: Table | None, *, sizing_only: bool = False
) -> list[str]:
    """Columns landing in a table that exists whose read depends on their values. The
    others are read the fast way, as in any run: a value of an unexpected storage class
    rolls the table back and re-reads that column exactly, and every value is still held
    to the target's type by its kernel, so profiling them would only cost a scan.
    ``sizing_only``: only those whose Arrow type is sized by the values (an unbounded
    numeric's decimal) or chosen by them (a uuid from text or 16-byte blobs)."""
    if there is None:
        return []
    types = {c.name.lower(): c.type for c in there.columns}

    def profiled(dtype: DataType | None) -> bool:
        if dtype is None or dtype.kind not in _PROFILED_KINDS:
            return False
        if sizing_only:
            return dtype.kind == "uuid" or (dtype.kind == "decimal" and dtype.precision is None)
        return True

    return [c.name for c in table.columns if profiled(types.get(c.name.lower()))]


def _measured_columns(table: Table, options: MigrationOptions) -> set[str]:
    return sqlite.needs_measures(table) | _mapped_columns(table, options)


def _mapped_columns(table: Table, options: MigrationOptions) -> set[str]:
    """Columns --type-map gives another type: the plan measures them as it measures
    a declared type of that kind (an unbounded numeric needs its values' widest
    magnitude, or a REAL of 123456789.5 would not fit its Arrow decimal)."""
    mappings = TypeMappings(options.type_mappings)
    return {c.name for c in table.columns if mappings.lookup(table.name, c.name, c.declared)}
