"""Each side of a verification computes the same numbers: per segment, the row count
and one wrapping 64-bit sum of hashes per column; per row, on demand, the hashes.

A database that hashes itself (PostgreSQL) is asked in SQL; any other (SQLite) is read
as Arrow batches, in rowid pieces on several threads, and hashed by the client
(:mod:`arrowferry.checksum.canonical`). Rows listed in a reject file are left out of
the source's side: the migration set them aside on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from arrowferry.checksum import canonical as canon
from arrowferry.dialects.checks import SEED, CheckTable
from arrowferry.dialects.sqlite.checksum import ROWID, ReadAs
from arrowferry.errors import ReadTypeChanged

Matrix = npt.NDArray[np.uint64]  # one row per segment: [rows, sum of column 0, ...]


@dataclass
class Sums:
    """Per segment: [row count, then one sum per hashed column] (mod 2**64)."""

    width: int
    by_segment: dict[int, Matrix] = field(default_factory=dict)

    def add(self, segment: int, values: Matrix) -> None:
        have = self.by_segment.get(segment)
        self.by_segment[segment] = values.copy() if have is None else have + values

    def subtract(self, other: Sums) -> None:
        for segment, values in other.by_segment.items():
            self.add(segment, np.zeros(self.width, np.uint64) - values)

    def merge(self, other: Sums) -> None:
        for segment, values in other.by_segment.items():
            self.add(segment, values)

    @property
    def rows(self) -> int:
        return int(sum(int(v[0]) for v in self.by_segment.values()))


def hashed_width(table: CheckTable) -> int:
    """Sums per segment: the rows, each column, and (without a key) the whole rows."""
    return 1 + len(table.columns) + (0 if table.key else 1)


def _mod64(text: Any) -> int:
    return int(str(text)) % (1 << 64)


class ServerSide:
    """A database that hashes its own rows (``ChecksumSession.hashes_itself``)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.lock = threading.Lock()  # one connection: one statement at a time

    def sums(self, table: CheckTable) -> Sums:
        with self.lock:
            result = self.session.segment_sums(table)
        out = Sums(hashed_width(table))
        for row in result.to_pylist():
            values = list(row.values())
            numbers = [int(values[1])] + [_mod64(v) for v in values[2:]]
            out.add(int(values[0]), np.array(numbers, dtype=np.uint64))
        return out

    def rows(
        self,
        table: CheckTable,
        segments: Sequence[int] | None = None,
        keys: Sequence[Sequence[Any]] | None = None,
    ) -> pl.DataFrame:
        """k0.. (key values, as text), s, seg, h0.. (and r without a key)."""
        with self.lock:
            result = self.session.row_hashes(table, segments, keys)
        frame = pl.from_arrow(result)
        assert isinstance(frame, pl.DataFrame)
        return frame.with_columns(pl.col("seg").cast(pl.Int64))

    def display(
        self, table: CheckTable, keys: Sequence[Sequence[Any]]
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        with self.lock:
            result = self.session.display_rows(table, keys)
        out = {}
        for row in result.to_pylist():
            key = tuple(row[f"k{i}"] for i in range(len(table.key)))
            out[key] = {c.name: row[f"c{i}"] for i, c in enumerate(table.columns)}
        return out


class ClientSide:
    """A database whose rows the client reads and hashes (SQLite)."""

    def __init__(self, session: Any, *, bad_as_null: bool, lanes: int = 2) -> None:
        self.session = session
        self.lock = threading.Lock()  # held while the session is replaced (verify's retry)
        self.bad_as_null = bad_as_null
        self.lanes = lanes
        self.reads: dict[str, list[ReadAs]] = {}
        self.learnt: dict[str, dict[str, Any]] = {}  # JSON shapes seen, by table and column

    def _reads(self, table: CheckTable) -> list[ReadAs]:
        if table.name not in self.reads:
            self.reads[table.name] = [_read_as(c.kind) for c in table.columns]
        return self.reads[table.name]

    def _retrying(self, table: CheckTable, work: Callable[[list[ReadAs]], Any]) -> Any:
        """Run ``work``; a column of another storage class than read is read as text."""
        for _ in range(len(table.columns) + 1):
            reads = self._reads(table)
            try:
                return work(reads)
            except ReadTypeChanged as err:
                changed = isinstance(err, canon.ColumnTypeChanged)
                index = err.index if changed else _column_at(table, reads, err.index)
                if reads[index] == "text":
                    raise
                reads[index] = "text"
        raise AssertionError("unreachable: each retry reads one more column as text")

    def sums(self, table: CheckTable, excluded: Excluded | None = None) -> Sums:
        def work(reads: list[ReadAs]) -> Sums:
            pieces = self.session.pieces(table, self.lanes)
            total = Sums(hashed_width(table))
            if len(pieces) == 1:
                total.merge(self._piece(table, reads, pieces[0], excluded))
                return total
            with ThreadPoolExecutor(self.lanes, thread_name_prefix="arrowferry-verify") as pool:
                for part in pool.map(lambda p: self._piece(table, reads, p, excluded), pieces):
                    total.merge(part)
            return total

        result: Sums = self._retrying(table, work)
        return result

    def _piece(
        self, table: CheckTable, reads: list[ReadAs], piece: Any, excluded: Excluded | None
    ) -> Sums:
        out = Sums(hashed_width(table))
        for batch in self.session.batches(table, reads, piece):
            batch = _without(batch, table, excluded)
            if not batch.num_rows:
                continue
            segments, seeds, hashes, _columns = self._hashes(table, reads, batch)
            if excluded is not None and excluded.seeds:
                keep = ~np.isin(seeds, np.array(sorted(excluded.seeds), dtype=np.int64))
                segments, hashes = segments[keep], hashes[:, keep]
            if len(segments):
                _aggregate(out, segments, hashes)
        return out

    def _hashes(
        self, table: CheckTable, reads: Sequence[ReadAs], batch: pa.RecordBatch
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], list[canon.Canonical]
    ]:
        """(segments, seeds, hashes[column, row], canonical columns) of one batch."""
        n = batch.num_rows
        columns = [
            canon.canonical(
                col,
                how,
                canon.read_of(batch, i, how, table.name),
                bad_as_null=self.bad_as_null,
                learnt=self.learnt.setdefault(table.name, {}),
            )
            for i, (col, how) in enumerate(zip(table.columns, reads, strict=True))
        ]
        if table.key:
            seeds = canon.seeds([columns[i] for i in table.key], n)
        else:
            seeds = np.full(n, SEED, dtype=np.int64)
        hashes = [c.hash(seeds) for c in columns]
        if not table.key:
            hashes.append(canon.row_hashes(columns, n))
        key = columns[table.key[0]] if table.segments.how == "range" else None
        key_values = np.asarray(key.payload, dtype=np.int64) if key is not None else None
        by = hashes[-1] if not table.key else seeds
        segments = canon.segment_ids(table, key_values, by)
        return segments, seeds, np.vstack(hashes), columns

    def rows(
        self,
        table: CheckTable,
        segments: Sequence[int] | None = None,
        keys: Sequence[Sequence[Any]] | None = None,
        excluded: Excluded | None = None,
    ) -> pl.DataFrame:
        """The same columns as :meth:`ServerSide.rows`, of the given segments (or keys)."""
        wanted = set(segments) if segments is not None else None

        def work(reads: list[ReadAs]) -> pl.DataFrame:
            frames = []
            for batch in self._batches_for(table, reads, segments):
                batch = _without(batch, table, excluded)
                if not batch.num_rows:
                    continue
                segs, seeds, hashes, _columns = self._hashes(table, reads, batch)
                frame = _row_frame(table, reads, batch, segs, seeds, hashes)
                if wanted is not None:
                    frame = frame.filter(pl.col("seg").is_in(list(wanted)))
                if keys is not None:
                    frame = frame.filter(pl.col("s").is_in(list(self.key_seeds(table, keys))))
                if excluded is not None and excluded.seeds:
                    frame = frame.filter(~pl.col("s").is_in(list(excluded.seeds)))
                frames.append(frame)
            return pl.concat(frames) if frames else pl.DataFrame()

        result: pl.DataFrame = self._retrying(table, work)
        return result

    def _batches_for(
        self, table: CheckTable, reads: Sequence[ReadAs], segments: Sequence[int] | None
    ) -> Iterable[pa.RecordBatch]:
        if segments is None or table.segments.how != "range":
            yield from self.session.batches(table, reads)
            return
        low, width = table.segments.low, table.segments.width
        for seg in sorted(set(segments)):
            yield from self.session.batches(
                table, reads, keys=(low + seg * width, low + (seg + 1) * width - 1)
            )

    def key_seeds(self, table: CheckTable, keys: Sequence[Sequence[Any]]) -> set[int]:
        """The seeds of rows with the given key values (as SQLite holds them)."""
        columns = []
        for j, i in enumerate(table.key):
            col = table.columns[i]
            values = pa.array([k[j] for k in keys])
            how = _read_as(col.kind)
            if how == "integer" and not pa.types.is_integer(values.type):
                how = "text"
                values = values.cast(pa.string())
            columns.append(canon.canonical(col, how, canon.Read(values), bad_as_null=False))
        return {int(s) for s in canon.seeds(columns, len(keys))}

    def display(
        self, table: CheckTable, keys: Sequence[Sequence[Any]]
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        found = self.session.display_rows(table, keys)
        names = [c.name for c in table.columns]
        return {
            tuple(k): {n: row.get(n) for n in names}
            for k, row in zip(keys, found, strict=True)
            if row is not None
        }


@dataclass(frozen=True)
class Excluded:
    """Rows a reject file holds: by rowid (SQLite) or by the seed of their key."""

    rowids: frozenset[int] = frozenset()
    seeds: frozenset[int] = frozenset()


def _without(batch: pa.RecordBatch, table: CheckTable, excluded: Excluded | None) -> pa.RecordBatch:
    if excluded is None or not excluded.rowids or ROWID not in batch.schema.names:
        return batch
    keep = pc.invert(pc.is_in(batch.column(ROWID), pa.array(sorted(excluded.rowids), pa.int64())))
    return batch.filter(keep)


def _aggregate(out: Sums, segments: npt.NDArray[np.int64], hashes: npt.NDArray[np.int64]) -> None:
    """Add a batch's rows into their segments' sums (numpy's integer sums wrap: mod 2**64)."""
    # a table read in key order gives its rows segment by segment: no sort needed
    ordered_already = len(segments) < 2 or bool((segments[1:] >= segments[:-1]).all())
    order = np.arange(len(segments)) if ordered_already else np.argsort(segments, kind="stable")
    ordered = segments[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ids = ordered[starts]
    counts = np.diff(np.r_[starts, len(ordered)])
    ordered_hashes = hashes if ordered_already else hashes[:, order]
    sums = np.add.reduceat(ordered_hashes, starts, axis=1).view(np.uint64)
    for j, seg in enumerate(ids.tolist()):
        out.add(seg, np.concatenate(([np.uint64(counts[j])], sums[:, j])))


def _row_frame(
    table: CheckTable,
    reads: Sequence[ReadAs],
    batch: pa.RecordBatch,
    segments: npt.NDArray[np.int64],
    seeds: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.int64],
) -> pl.DataFrame:
    data: dict[str, Any] = {}
    for j, i in enumerate(table.key):
        data[f"k{j}"] = pl.Series(raw_values(batch, i, reads[i]), dtype=pl.Object)
    data["s"] = seeds
    data["seg"] = segments
    for i in range(len(table.columns)):
        data[f"h{i}"] = hashes[i]
    if not table.key:
        data["r"] = hashes[-1]
        for i in range(len(table.columns)):
            data[f"v{i}"] = pl.Series(raw_values(batch, i, reads[i]), dtype=pl.Object)
    if ROWID in batch.schema.names:
        data["rowid"] = batch.column(ROWID).to_numpy(zero_copy_only=False)
    return pl.DataFrame(data)


def raw_values(batch: pa.RecordBatch, index: int, how: ReadAs) -> list[Any]:
    """A column's values as SQLite holds them (a split read put back together)."""
    name = f"c{index}"
    if how == "numeric":
        return [
            r if r is not None else t
            for t, r in zip(
                batch.column(name).to_pylist(), batch.column(name + "_r").to_pylist(), strict=True
            )
        ]
    if how != "stored":
        values: list[Any] = batch.column(name).to_pylist()
        return values
    out: list[Any] = []
    for code, real, blob in zip(
        batch.column(name).to_pylist(),
        batch.column(name + "_r").to_pylist(),
        batch.column(name + "_b").to_pylist(),
        strict=True,
    ):
        if code == 1:
            out.append(int(blob))
        elif code == 2:
            out.append(real)
        elif code == 3:
            try:
                out.append(blob.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(blob)
        else:
            out.append(blob)
    return out


def _read_as(kind: str) -> ReadAs:
    if kind == "stored":
        return "stored"
    if kind == "int":
        return "integer"
    if kind in {"float8", "float4"}:
        return "real"
    if kind in {"scaled", "decimal"}:
        return "numeric"
    if kind in {"bytes", "uuid"}:
        return "blob"
    return "text"


def _column_at(table: CheckTable, reads: Sequence[ReadAs], position: int) -> int:
    """The column a position of the read's result belongs to (a split read takes several)."""
    at = 1 if table.rowid is not None else 0
    for i, how in enumerate(reads):
        width = {"stored": 3, "numeric": 2}.get(how, 1)
        if position < at + width:
            return i
        at += width
    raise ValueError(f"no column at position {position}")
