"""Prove a copy right: row counts and an order-independent checksum of every value,
for any pair of databases (SQLite or PostgreSQL on either side).

Each value is hashed in a canonical form both engines produce (the migration's own
rules: a SQLite 0/1 that became a boolean, text that became a timestamptz, a REAL that
became numeric(10,2) all hash alike on both sides), seeded by its row's key, and summed
per segment of rows. PostgreSQL computes its sums itself, in SQL, with its own hash
functions; SQLite, which has none, is read as Arrow batches and hashed in numpy with the
same functions, on several threads. Where segments differ, their rows are read again
and joined by key: the report names the columns that differ and shows example keys with
both values. Rows a migration set aside in reject files are left out of the source's
side, not reported missing. Memory stays bounded: batches are hashed and dropped.

>>> import arrowferry as af
>>> report = af.verify("app.db", "postgresql://me@db/app")  # doctest: +SKIP
>>> report.ok, report.tables[0].summary()  # doctest: +SKIP
(True, '2,000,000 rows match')
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from arrowferry import faults
from arrowferry.checksum import compare, pairing
from arrowferry.checksum.report import (
    NOT_COMPARED,
    RowDifference,
    TableVerification,
    VerificationReport,
)
from arrowferry.checksum.sides import ClientSide, Excluded, ServerSide, Sums
from arrowferry.dialects.base import Dialect, dialect_for
from arrowferry.errors import ArrowferryError, BadInputError
from arrowferry.urls import Endpoint, parse_url

__all__ = ["RowDifference", "TableVerification", "VerificationReport", "verify"]

Side = ServerSide | ClientSide
T = TypeVar("T")


def verify(
    source: str | os.PathLike[str] | Endpoint,
    target: str | os.PathLike[str] | Endpoint,
    tables: Sequence[str] | None = None,
    *,
    exclude: Sequence[str] = (),
    examples: int = 5,
    source_schema: str = "public",
    target_schema: str = "public",
    reject_dir: str | os.PathLike[str] | None = "arrowferry-rejects",
    on_bad_value: str = "reject",
    exclude_columns: Sequence[str] = (),
    identifiers: str = "quote",
) -> VerificationReport:
    """Compare every row and value of ``source`` with its copy in ``target``.

    Parameters
    ----------
    source, target
        A SQLite file (or ``sqlite:///`` URL) or a ``postgresql://`` URL each.
    tables
        Source table names or glob patterns (``orders``, ``tmp_*``); None: every table.
    exclude
        Source tables left out (names or glob patterns; they win over ``tables``).
    examples
        Differing rows to show per table, with the key and both values.
    source_schema, target_schema
        The PostgreSQL schemas compared (as ``--source-schema``/``--target-schema``).
    reject_dir
        Where the migration wrote its reject files: rows they hold are accounted for,
        not reported missing (None: no reject files).
    on_bad_value
        What the migration did with a value it could not store: with ``"null"`` such a
        source value matches a NULL in the target.
    exclude_columns
        Columns left out of the comparison, as ``table.column`` (the source's names):
        those a migration's ``transforms`` changed on purpose (``Migration.verify`` and
        ``migrate --verify`` leave those out themselves). Each table says which.
    identifiers
        The migration's identifier policy (``"lower"``, ``"snake_case"``): how a source
        table or column is named in the target (``Migration.verify`` passes its own).

    Returns
    -------
    VerificationReport
        ``ok``, and per table the rows on each side, the columns whose values differ,
        counts of missing, extra and changed rows, and examples.

    Examples
    --------
    >>> report = verify("app.db", "postgresql://me@db/app", examples=3)  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    verify app.db -> postgresql://me@db/app: all 2 tables match
    """
    started = time.perf_counter()
    src = source if isinstance(source, Endpoint) else parse_url(source)
    tgt = target if isinstance(target, Endpoint) else parse_url(target)
    if examples < 0:
        raise BadInputError(f"--examples must be 0 or more, not {examples}")
    if on_bad_value not in ("reject", "null", "fail"):
        raise BadInputError(
            f"on_bad_value must be 'reject', 'null' or 'fail', not {on_bad_value!r}"
        )
    from arrowferry.plan.identifiers import renamer

    run = _Run(src, tgt, source_schema, target_schema, examples, renamer(identifiers))
    try:
        run.open(bad_as_null=on_bad_value == "null")
        report = run.verify(
            tables,
            exclude,
            Path(reject_dir) if reject_dir is not None else None,
            exclude_columns,
        )
    finally:
        run.close()
    report.seconds = time.perf_counter() - started
    return report


class _Run:
    """One verification: both databases open, every table paired, sums compared."""

    def __init__(
        self,
        src: Endpoint,
        tgt: Endpoint,
        source_schema: str,
        target_schema: str,
        examples: int,
        rename: Callable[[str], str] | None = None,
    ) -> None:
        self.src, self.tgt = src, tgt
        self.rename = rename  # the migration's identifier policy
        self.sd: Dialect = dialect_for(src)
        self.td: Dialect = dialect_for(tgt)
        self.schemas = (
            source_schema if self.sd.capabilities.schemas else None,
            target_schema if self.td.capabilities.schemas else None,
        )
        self.examples = examples
        self.warnings: list[str] = []  # said of the run as it went (a retry)
        self.sessions: list[Any] = []
        # a server-side source: the seeds of the rows its reject file holds, by table
        self.rejected_seeds: dict[str, set[int]] = {}

    def open(self, *, bad_as_null: bool) -> None:
        a = self.sd.open_checksum(self.src, self.schemas[0])
        self.sessions.append(a)
        b = self.td.open_checksum(self.tgt, self.schemas[1])
        self.sessions.append(b)
        self.a: Side = ServerSide(a) if a.hashes_itself else ClientSide(a, bad_as_null=bad_as_null)
        self.b: Side = ServerSide(b) if b.hashes_itself else ClientSide(b, bad_as_null=False)

    def close(self) -> None:
        for session in self.sessions:
            session.close()

    def verify(
        self,
        patterns: Sequence[str] | None,
        exclude: Sequence[str],
        reject_dir: Path | None,
        exclude_columns: Sequence[str] = (),
    ) -> VerificationReport:
        source_schema = self.sd.introspect(self.src, self.schemas[0])
        target_schema = self.td.introspect(self.tgt, self.schemas[1])
        report = VerificationReport(_shown(self.src), _shown(self.tgt))
        report.warnings += list(source_schema.notes)
        pairs: list[tuple[pairing.Pair, TableVerification, Excluded | None, list[Any]]] = []
        for table in pairing.select(source_schema, patterns, exclude):
            name = pairing.find(table.name, target_schema.table_names, self.td.name, self.rename)
            result = TableVerification(table.name, name or table.name)
            report.tables.append(result)
            if name is None:
                result.problem = "the table is missing from the target"
                continue
            left_out = pairing.left_out(table, exclude_columns)
            result.left_out = [c.name for c in table.columns if c.name.lower() in left_out]
            p = pairing.pair(
                table,
                target_schema.table(name),
                self.sd.name,
                self.td.name,
                *self.schemas,
                left_out=left_out,
                rename=self.rename,
            )
            if p.problems:
                result.problem = "; ".join(p.problems)
                continue
            p = self._segmented(p)
            result.key = p.key_names
            excluded, rejected_keys = self._rejects(p, reject_dir, result)
            pairs.append((p, result, excluded, rejected_keys))
        self._compare_all(pairs)
        report.warnings += self.warnings
        return report

    def _segmented(self, p: pairing.Pair) -> pairing.Pair:
        spans: list[tuple[int, int] | None] = []
        if len(p.source.key) == 1 and p.source.columns[p.source.key[0]].kind == "int":
            i = p.source.key[0]
            spans = [
                self.sessions[0].key_span(p.source, p.source.columns[i].name),
                self.sessions[1].key_span(p.target, p.target.columns[i].name),
            ]
        rows = max(
            self.sessions[0].estimated_rows(p.source), self.sessions[1].estimated_rows(p.target)
        )
        return pairing.segmented(p, rows, spans or [None])

    def _rejects(
        self, p: pairing.Pair, folder: Path | None, result: TableVerification
    ) -> tuple[Excluded | None, list[Any]]:
        """The rows the migration set aside for this table, from its reject file."""
        if folder is None:
            return None, []
        from arrowferry.transfer.rejects import RejectFile, decode

        path = RejectFile(folder, p.target.name, None, p.source.name).final
        if not path.is_file():
            return None, []
        rowids, keys = set(), []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record.get("rowid") is not None:
                    rowids.add(int(record["rowid"]))
                key = record.get("key") or {}
                keys.append(tuple(decode(key.get(name)) for name in p.key_names))
        result.rejected_rows = max(len(rowids), len(keys))
        if isinstance(self.a, ClientSide):
            if rowids and p.source.rowid is not None:
                return Excluded(rowids=frozenset(rowids)), []
            if p.key_names:
                return Excluded(seeds=frozenset(self.a.key_seeds(p.source, keys))), []
            return None, []
        return None, keys if p.key_names else []

    def _compare_all(
        self, pairs: list[tuple[pairing.Pair, TableVerification, Excluded | None, list[Any]]]
    ) -> None:
        """Both sides' sums at once (each side in its own thread), then table by table."""
        with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(1) as other:
            jobs: list[tuple[Future[Sums], Future[Sums]]] = [
                (
                    one.submit(self._sums, self.a, p.source, excluded, keys),
                    other.submit(self._sums, self.b, p.target, None, []),
                )
                for p, _result, excluded, keys in pairs
            ]
            for (p, result, excluded, _keys), (fa, fb) in zip(pairs, jobs, strict=True):
                began = time.perf_counter()
                try:
                    sa, sb = fa.result(), fb.result()
                    self._compare(p, result, sa, sb, excluded)
                except ArrowferryError as err:
                    result.problem = f"{NOT_COMPARED}: {err.message}"
                except Exception as err:  # one table's surprise must not hide the others
                    result.problem = f"{NOT_COMPARED}: {type(err).__name__}: {err}"
                result.seconds += time.perf_counter() - began

    def _again(self, side: Side, table: Any, work: Callable[[], T]) -> T:
        """``work`` on ``side``; after a transient error (a lost connection, a SQLite file
        locked by a writer) tried again on a new session of that side, waiting as a
        migration does (``faults.BACKOFF``). Each side's work reads in a snapshot of its
        own, so a new one changes nothing a verification relies on."""
        which = "source" if side is self.a else "target"

        def say(err: BaseException, wait: float) -> None:
            self.warnings.append(
                f"table {table.name!r}: the {which} answered {faults.reason(err)!r}; "
                f"compared again on a new connection after {wait:g} s"
            )

        try:
            return faults.retried(work, functools.partial(self._reopen, side), say)
        except ArrowferryError:
            raise
        except Exception as err:  # a driver's error, in one paragraph, without a password
            raise ArrowferryError(f"the {which} failed: {side.session.message(err)}") from None

    def _reopen(self, side: Side) -> None:
        """A new session for ``side`` (one that cannot open yet: the next try says so)."""
        with contextlib.suppress(Exception):
            self._open_again(side)

    def _open_again(self, side: Side) -> None:
        index = 0 if side is self.a else 1
        dialect, endpoint = (self.sd, self.src) if index == 0 else (self.td, self.tgt)
        with side.lock:
            with contextlib.suppress(Exception):
                self.sessions[index].close()
            self.sessions[index] = side.session = dialect.open_checksum(
                endpoint, self.schemas[index]
            )

    def _sums(
        self, side: Side, table: Any, excluded: Excluded | None, rejected_keys: list[Any]
    ) -> Sums:
        began = time.perf_counter()
        sums = self._again(
            side,
            table,
            lambda: (
                side.sums(table, excluded) if isinstance(side, ClientSide) else side.sums(table)
            ),
        )
        if rejected_keys and isinstance(side, ServerSide):
            # the reject file's rows are in the source: take their hashes back out
            rows = self._again(side, table, lambda: side.rows(table, keys=rejected_keys))
            self.rejected_seeds[table.name] = {int(v) for v in rows["s"].to_list()}
            gone = Sums(sums.width)
            for row in rows.iter_rows(named=True):
                values = [1] + [row[f"h{i}"] for i in range(len(table.columns))]
                if not table.key:
                    values.append(row["r"])
                gone.add(int(row["seg"]), _as_u64(values))
            sums.subtract(gone)
        sums.seconds = time.perf_counter() - began  # type: ignore[attr-defined]
        return sums

    def _compare(
        self,
        p: pairing.Pair,
        result: TableVerification,
        sa: Sums,
        sb: Sums,
        excluded: Excluded | None,
    ) -> None:
        result.source_rows = sa.rows + result.rejected_rows
        result.target_rows = sb.rows
        found = compare.differing(sa, sb)
        if not found.segments:
            return
        drilled = found.segments[: compare.MAX_DRILL_SEGMENTS]
        result.counted_all = len(drilled) == len(found.segments)
        for start in range(0, len(drilled), compare.DRILL_SEGMENTS):
            segments = drilled[start : start + compare.DRILL_SEGMENTS]
            ra = self._rows(self.a, p.source, segments, excluded)
            rb = self._rows(self.b, p.target, segments, None)
            diffs = compare.row_differences(p.source, ra, rb)
            a_keys, b_keys = compare.keys_of(diffs, p.source, self.examples)
            shown = (
                self._again(self.a, p.source, functools.partial(self.a.display, p.source, a_keys)),
                self._again(self.b, p.target, functools.partial(self.b.display, p.target, b_keys)),
            )
            compare.record(result, p.source, p.target, diffs, p.key_names, shown, self.examples)
        names = [c.name for c in p.source.columns]
        for i in sorted(found.columns):
            if names[i] not in result.columns:
                result.columns.append(names[i])

    def _rows(self, side: Side, table: Any, segments: list[int], excluded: Excluded | None) -> Any:
        if isinstance(side, ClientSide):
            return self._again(side, table, lambda: side.rows(table, segments, excluded=excluded))
        rows = self._again(side, table, lambda: side.rows(table, segments))
        gone = self.rejected_seeds.get(table.name) if side is self.a else None
        return rows.filter(~pl.col("s").is_in(list(gone))) if gone else rows


def _as_u64(values: list[Any]) -> Any:
    import numpy as np

    return np.array([int(v) % (1 << 64) for v in values], dtype=np.uint64)


def _shown(endpoint: Endpoint) -> str:
    return str(endpoint.path) if endpoint.dialect == "sqlite" else endpoint.masked_url
