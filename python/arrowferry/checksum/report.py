"""What a verification returns: per table, whether its content matches, and if not,
which columns differ, how many rows, and example keys with both values."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

from arrowferry.wording import noun, plural

NOT_COMPARED = "could not be compared"  # how a table's problem starts when an error stopped it

Difference = Literal["changed", "missing", "extra"]


@dataclass
class RowDifference:
    """One row that differs. ``changed``: column -> (source value, target value);
    ``missing`` (in the target) and ``extra`` (only in the target): ``row`` as that side
    holds it. Values are shown as each database holds them."""

    kind: Difference
    key: dict[str, Any]
    columns: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    row: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key}
        if self.columns:
            out["columns"] = {
                name: {"source": s, "target": t} for name, (s, t) in self.columns.items()
            }
        if self.row is not None:
            out["row"] = self.row
        return out

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.key.items()) or "(no key)"
        if self.kind == "changed":
            said = "; ".join(f"{c}: {s!r} -> {t!r}" for c, (s, t) in self.columns.items())
            return f"{key}: {said}"
        where = "missing from the target" if self.kind == "missing" else "only in the target"
        row = "" if self.row is None or self.key else f" {self.row!r}"
        return f"{key}: {where}{row}"


@dataclass
class TableVerification:
    """One table: rows on each side and whether every value matched."""

    source: str
    target: str
    source_rows: int = 0
    target_rows: int = 0
    rejected_rows: int = 0  # left out of the source's side: the reject file holds them
    columns: list[str] = field(default_factory=list)  # the columns whose values differ
    missing_rows: int = 0
    extra_rows: int = 0
    changed_rows: int = 0
    counted_all: bool = True  # False: the counts above cover only the segments examined
    examples: list[RowDifference] = field(default_factory=list)
    problem: str | None = None  # the table could not be compared (missing, unreadable)
    seconds: float = 0.0
    key: tuple[str, ...] = ()
    left_out: list[str] = field(default_factory=list)  # columns not compared (exclude_columns)

    @property
    def compared(self) -> bool:
        """False when an error (not a difference) kept the table from being compared."""
        return not (self.problem or "").startswith(NOT_COMPARED)

    @property
    def ok(self) -> bool:
        return (
            self.problem is None
            and not self.columns
            and not (self.missing_rows or self.extra_rows or self.changed_rows)
            and self.source_rows - self.rejected_rows == self.target_rows
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "ok": self.ok,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "rejected_rows": self.rejected_rows,
            "key": list(self.key),
            "columns": list(self.columns),
            "missing_rows": self.missing_rows,
            "extra_rows": self.extra_rows,
            "changed_rows": self.changed_rows,
            "counted_all": self.counted_all,
            "examples": [e.to_dict() for e in self.examples],
            "problem": self.problem,
            "left_out": list(self.left_out),
            "seconds": round(self.seconds, 4),
        }

    def summary(self) -> str:
        text = self._summary()
        if self.left_out and self.problem is None:
            text += f" ({', '.join(self.left_out)} not compared: left out on purpose)"
        return text

    def _summary(self) -> str:
        if self.problem is not None:
            return self.problem
        if self.ok:
            rejected = (
                f" ({plural(self.rejected_rows, 'rejected row')} accounted for from the reject file)"
                if self.rejected_rows
                else ""
            )
            n = self.target_rows
            return f"{plural(n, 'row')} {noun(n, 'matches', 'match')}{rejected}"
        parts = []
        bound = "" if self.counted_all else "at least "
        for count, what in (
            (self.missing_rows, "missing from the target"),
            (self.extra_rows, "only in the target"),
            (self.changed_rows, "with other values"),
        ):
            if count:
                parts.append(f"{bound}{plural(count, 'row')} {what}")
        if self.columns:
            n = len(self.columns)
            parts.append(
                f"{noun(n, 'column')} {noun(n, 'differs', 'differ')}: {', '.join(self.columns)}"
            )
        if not parts:
            parts.append(
                f"{plural(self.source_rows - self.rejected_rows, 'row')} expected, "
                f"{plural(self.target_rows, 'row')} found"
            )
        return "; ".join(parts)


@dataclass
class VerificationReport:
    """The outcome of :func:`arrowferry.verify`: ``ok`` when every table's rows and values
    match (rows the migration rejected into reject files accounted for).

    Examples
    --------
    >>> report = VerificationReport("a.db", "b.db", [TableVerification("t", "t", 2, 2)])
    >>> report.ok
    True
    >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
    verify a.db -> b.db: all 1 table match
      t: 2 rows match
    """

    source: str
    target: str
    tables: list[TableVerification] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def failed(self) -> list[TableVerification]:
        return [t for t in self.tables if not t.ok]

    def verdict(self) -> str:
        """ "all 3 tables match", "1 of 3 tables differ", "2 of 2 tables could not be
        compared", "1 of 3 tables differ, 1 could not be compared"."""
        n = len(self.tables)
        if self.ok:
            return f"all {plural(n, 'table')} match" if n != 1 else "all 1 table match"
        errors = sum(not t.compared for t in self.failed)
        differ = len(self.failed) - errors
        of = f"of {plural(n, 'table')}"
        if not errors:
            return f"{differ} {of} differ"
        if not differ:
            return f"{errors} {of} could not be compared"
        return f"{differ} {of} differ, {errors} could not be compared"

    def to_polars(self) -> dict[str, Any]:
        """``tables`` (counts and what differs per table) and ``examples`` (each differing
        value, or missing/extra row, with its key and both values) as polars DataFrames."""
        from arrowferry.look import verification_frames

        return verification_frames(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "target": self.target,
            "seconds": round(self.seconds, 4),
            "tables": [t.to_dict() for t in self.tables],
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        lines = [f"verify {self.source} -> {self.target}: {self.verdict()}"]
        for t in self.tables:
            name = t.source if t.source == t.target else f"{t.source} -> {t.target}"
            lines.append(f"  {name}: {t.summary()}")
            lines += [f"    {e}" for e in t.examples]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for t in self.tables:
            color = "#1a7f37" if t.ok else "#cf222e"
            examples = "".join(f"<li><code>{html.escape(str(e))}</code></li>" for e in t.examples)
            rows.append(
                f"<tr><td>{html.escape(t.source)}</td><td>{html.escape(t.target)}</td>"
                f"<td style='text-align:right'>{t.source_rows:,}</td>"
                f"<td style='text-align:right'>{t.target_rows:,}</td>"
                f"<td style='color:{color}'>{_state(t)}</td>"
                f"<td>{html.escape(t.summary())}{f'<ul>{examples}</ul>' if examples else ''}</td></tr>"
            )
        return (
            f"<p><b>verify</b> {html.escape(self.source)} &rarr; {html.escape(self.target)}: "
            f"{self.verdict()} ({self.seconds:.2f} s)</p>"
            "<table><thead><tr><th>source</th><th>target</th><th>source rows</th>"
            "<th>target rows</th><th></th><th>details</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


def _state(table: TableVerification) -> str:
    return "match" if table.ok else ("differ" if table.compared else "not compared")
