"""What a migration returns: per-table numbers, errors, warnings and a summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from arrowferry.wording import noun, plural

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure


class LedgerColumn(Protocol):
    """What the ledger says of a planned column (either direction's column plan)."""

    @property
    def target(self) -> str: ...
    @property
    def declared(self) -> str: ...
    @property
    def ddl(self) -> str: ...
    @property
    def read_as(self) -> str: ...
    @property
    def lossy(self) -> Sequence[str]: ...


@dataclass
class TableResult:
    """Rows and time of one table's load."""

    name: str
    rows: int
    seconds: float
    rows_read: int = 0
    rows_rejected: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "seconds": round(self.seconds, 4),
            "rows_per_second": round(self.rows_per_second, 1),
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
        }


@dataclass
class MigrationError:
    """A table (or None for the whole run) that failed, and whether the run stopped."""

    table: str | None
    message: str
    fatal: bool = False


@dataclass
class Summary:
    tables_created: int = 0
    indexes_created: int = 0
    constraints_applied: int = 0
    foreign_keys_created: int = 0
    views_created: int = 0
    sequences_reset: int = 0


@dataclass
class MigrationResult:
    """The outcome of :func:`arrowferry.migrate`.

    ``success`` is true when every table was migrated, nothing failed and no row
    was rejected. ``rejected`` counts rejected rows per table and column, and
    ``reject_files`` says where they are; ``ledger`` lists, per column, the conversion
    and every step that may lose information, with counts.
    ``tables`` lists each loaded table with its rows, seconds and rows per second.
    ``not_attempted`` names the tables a run that stopped early (at an error, without
    ``continue_on_error``) never started: neither migrated nor failed.
    ``plan`` holds the plan (always filled; it is the whole output of a dry run).
    ``target`` is the target URL with its password masked. ``phases`` gives the
    seconds spent planning, loading (create + COPY) and finishing (keys, indexes,
    foreign keys, sequences, views, ANALYZE). ``verification`` holds the content
    check of a run with ``verify=True`` (:class:`arrowferry.VerificationReport`).
    """

    success: bool = True
    duration: float = 0.0
    tables_processed: int = 0
    rows_migrated: int = 0
    errors: list[MigrationError] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    tables: list[TableResult] = field(default_factory=list)
    dry_run: bool = False
    target: str | None = None
    plan: dict[str, Any] | None = None
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {table, column, count}
    reject_files: dict[str, str] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    constraint_issues: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds: plan, load, finish
    # an incremental run: per table inserted/updated/deleted/unchanged and the new mark
    incremental: dict[str, dict[str, Any]] = field(default_factory=dict)
    verification: dict[str, Any] | None = None  # --verify: the VerificationReport, as a dict

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)

    # --- what the pipelines record, the same way in both directions -----------------

    def table_loaded(self, loaded: TableResult, *, created: bool) -> None:
        self.tables.append(loaded)
        self.rows_migrated += loaded.rows
        self.tables_processed += 1
        self.summary.tables_created += created

    def table_failed(self, table: str, message: str, *, fatal: bool) -> None:
        self.errors.append(MigrationError(table, message, fatal=fatal))
        self.success = False

    def table_not_attempted(self, table: str) -> None:
        self.not_attempted.append(table)
        self.success = False

    def values_accounted(
        self,
        table: str,
        policy: str,
        columns: Sequence[tuple[LedgerColumn, str]],
        bad: Mapping[str, int],
        cleaned: Mapping[str, int] | None = None,
        reject_file: str | None = None,
        interpreted: Mapping[str, Mapping[str, int]] | None = None,
    ) -> None:
        """A loaded table's rejected, nulled and cleaned values, and its ledger.

        ``columns``: each column's plan and the name of its conversion; ``bad``: values
        that could not be stored exactly, per column, handled by ``policy``;
        ``interpreted``: per column and kind, values written through an interpretation
        of their stored form (their warnings are the caller's).
        """
        for column, count in sorted(bad.items()):
            if policy == "reject":
                self.rejected.append({"table": table, "column": column, "count": count})
            else:
                self.warnings.append(
                    f"{table}.{column}: {plural(count, 'value')} that could not be stored exactly "
                    f"{noun(count, 'was')} stored as NULL"
                )
        for column, count in sorted((cleaned or {}).items()):
            self.warnings.append(
                f"{table}.{column}: {plural(count, 'value')} cleaned (NUL bytes or invalid UTF-8)"
            )
        if reject_file is not None:
            self.reject_files[table] = reject_file
            self.success = False
        from arrowferry.plan.columns import counted

        for col, conversion in columns:
            counts = {"rejected" if policy == "reject" else "nulled": bad.get(col.target, 0)}
            if cleaned is not None:
                counts["cleaned"] = cleaned.get(col.target, 0)
            read_by_rule = {k: n for k, n in (interpreted or {}).get(col.target, {}).items() if n}
            self.ledger.append(
                {
                    "table": table,
                    "column": col.target,
                    "source_type": col.declared,
                    "target_type": col.ddl,
                    "read_as": col.read_as,
                    "conversion": conversion,
                    "lossy": list(col.lossy),
                    "counts": counts,
                    "interpreted": read_by_rule,
                    # the run counts every value its lossy steps touch, and found none
                    "settled": bool(col.lossy)
                    and all(counted(n) for n in col.lossy)
                    and not read_by_rule,
                }
            )

    def to_dict(self) -> dict[str, Any]:
        """Exactly the result, JSON-ready, keys as named in the attribute list."""
        return {
            "success": self.success,
            "duration": round(self.duration, 4),
            "tables_processed": self.tables_processed,
            "rows_migrated": self.rows_migrated,
            "errors": [asdict(e) for e in self.errors],
            "not_attempted": list(self.not_attempted),
            "warnings": list(self.warnings),
            "summary": asdict(self.summary),
            "tables": [t.to_dict() for t in self.tables],
            "dry_run": self.dry_run,
            "target": self.target,
            "plan": self.plan,
            "rows_rejected": self.rows_rejected,
            "rejected": list(self.rejected),
            "reject_files": dict(self.reject_files),
            "ledger": list(self.ledger),
            "constraint_issues": list(self.constraint_issues),
            "phases": {name: round(seconds, 4) for name, seconds in self.phases.items()},
            **({"incremental": dict(self.incremental)} if self.incremental else {}),
            "verification": self.verification,
        }

    # --- looking at it --------------------------------------------------------------

    def to_polars(self) -> dict[str, pl.DataFrame]:
        """The result as polars DataFrames, one per natural table, in a dict.

        ``tables`` (every table: ``status`` loaded, failed or not attempted; rows,
        seconds, rows_per_second, rows_read, rows_rejected, error), ``columns`` (the
        ledger: source and target type, conversion, ``lossy`` and its notes, rejected,
        nulled and cleaned counts), ``rejects``, ``warnings``, ``errors``, ``phases``,
        ``incremental`` (an incremental run: per table inserted, updated, deleted,
        unchanged and the marks; empty otherwise), and the plan's ``plan_tables``, ``plan_columns`` and ``plan_finish``. Each
        frame has its columns even when empty.

        Examples
        --------
        >>> import arrowferry as af
        >>> result = af.migrate("examples/chinook.sqlite", "chinook.db")  # doctest: +SKIP
        >>> result.to_polars()["tables"].sort("rows_per_second")  # doctest: +SKIP
        """
        from arrowferry.look import result_frames

        return result_frames(self)

    def plot(self) -> Figure:
        """Seconds and rows per second of each loaded table, as a matplotlib Figure
        (a notebook shows it). Needs the ``plot`` extra: ``pip install 'arrowferry[plot]'``.

        Examples
        --------
        >>> result.plot().savefig("migration.png")  # doctest: +SKIP
        """
        from arrowferry.look import plot_result

        return plot_result(self)

    def _repr_html_(self) -> str:
        from arrowferry.look_html import result_html

        return result_html(self)
