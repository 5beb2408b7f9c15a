"""A SQLite file as the target of an incremental run: upserts through a staging table.

A table's changed rows go by ADBC ingest into a temporary table whose columns declare
no type (so it stores each value exactly as bound, and the real table's affinity
applies once, as in a full run), then ``INSERT ... SELECT ... ON CONFLICT (key) DO
UPDATE`` moves them into place; a row equal to the one it would replace is left as it
is. SQLite has no ``xmax``: inserted rows are the staged keys not yet in the table
(counted first), updated ones what the statement changed beyond those. The table's mark
goes into the file's ``arrowferry_incremental`` table in the same transaction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects import keyhash, keyranges
from arrowferry.dialects.base import Capturing, prepended
from arrowferry.dialects.keyranges import KeySide
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.transfer.incremental import Follow, Kept, kept, state_row

if TYPE_CHECKING:
    from arrowferry.dialects.sqlite.target import SqliteTarget
    from arrowferry.plan.model import TablePlan

STATE = "arrowferry_incremental"
STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE} (table_name TEXT PRIMARY KEY, "
    "cursor_column TEXT, mark TEXT, mark_kind TEXT, source_shape TEXT, run_at TEXT NOT NULL)"
)
STAGE = "arrowferry_stage"


def upsert_sql(
    table: str, columns: Sequence[str], key: Sequence[str], changed: Sequence[str] | None = None
) -> str:
    """The staged rows into place; a row equal to the one it would replace is left as it
    is. ``changed``: the only columns any staged row changes (``merge_facts_sql``), the only
    ones set: SQLite rewrites the entry of every index on a column it sets, changed or not."""
    names = ", ".join(quote_ident(c) for c in columns)
    rest = [c for c in columns if c not in key]
    keys = ", ".join(quote_ident(c) for c in key)
    assigned = rest if changed is None else [c for c in rest if c in set(changed)]
    if assigned:
        sets = ", ".join(quote_ident(c) for c in assigned)
        new = ", ".join(f"excluded.{quote_ident(c)}" for c in assigned)
        # BINARY: a column's own collation would call 'abc' and 'ABC' (NOCASE) or 'x' and
        # 'x  ' (RTRIM) the same value and keep the old one; the left operand's collation
        # is the comparison's (https://www.sqlite.org/datatype3.html#collation)
        old = ", ".join(f"{quote_ident(table)}.{quote_ident(c)} COLLATE BINARY" for c in assigned)
        # a single column is not a row value: (a) IS NOT (b) is still an expression
        action = f"DO UPDATE SET ({sets}) = ({new}) WHERE ({old}) IS NOT ({new})"
        if len(assigned) == 1:
            action = f"DO UPDATE SET {sets} = {new} WHERE {old} IS NOT {new}"
    else:
        action = "DO NOTHING"
    # WHERE true: without it SQLite would read ON CONFLICT as the SELECT's join
    return (
        f"INSERT INTO {quote_ident(table)} ({names}) SELECT {names} FROM temp.{STAGE} "
        f"WHERE true ON CONFLICT ({keys}) {action}"
    )


def merge_facts_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """How many staged rows already have their key in the table, then for each other
    column whether any of those rows changes it (compared as the upsert compares: bytewise,
    the staged value taking the column's affinity as it would when assigned)."""
    on = " AND ".join(f"t.{quote_ident(c)} = s.{quote_ident(c)}" for c in key)
    differs = "".join(
        f", max(t.{quote_ident(c)} COLLATE BINARY IS NOT s.{quote_ident(c)})"
        for c in columns
        if c not in key
    )
    return f"SELECT count(*){differs} FROM temp.{STAGE} s JOIN {quote_ident(table)} t ON {on}"


def save_mark_sql() -> str:
    """A table's mark (table, cursor column, mark, its kind, the source's shape)."""
    return (
        f"INSERT INTO {STATE} VALUES (?, ?, ?, ?, ?, datetime('now')) ON CONFLICT "
        "(table_name) DO UPDATE SET cursor_column = excluded.cursor_column, "
        "mark = excluded.mark, mark_kind = excluded.mark_kind, "
        "source_shape = excluded.source_shape, run_at = excluded.run_at"
    )


class SqliteUpserts:
    """The marks a SQLite file keeps, and the loads that upsert into it."""

    def __init__(self, target: SqliteTarget) -> None:
        self.target = target
        sqlw.execute(target.conn, STATE_DDL)

    def marks(self) -> dict[str, Kept]:
        rows = sqlw.fetch(
            self.target.conn,
            f"SELECT table_name, cursor_column, mark, mark_kind, source_shape FROM {STATE}",
        )
        return {row[0]: kept(*row[1:]) for row in rows}

    def high_water(self, table: TablePlan, column: str) -> int | None:
        rows = sqlw.fetch(
            self.target.conn, f"SELECT max({quote_ident(column)}) FROM {quote_ident(table.name)}"
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def load(self, table: TablePlan, follow: Follow) -> SqliteUpsertLoad:
        return SqliteUpsertLoad(self.target, table, follow)

    def message(self, err: BaseException) -> str:
        return self.target.message(err)

    def references(self) -> list[tuple[str, str]]:
        return []  # the file's loads run with foreign keys off: any order will do

    def delete_missing(self, table: TablePlan, follow: Follow) -> int:
        """--detect-deletes: the file's keys the source no longer holds, found by hashed
        key ranges (``dialects.keyranges``), deleted in a transaction of their own."""
        conn = self.target.conn
        if follow.source_hash is not None:
            return self._delete_hashed(table, follow)
        assert follow.source_keys is not None
        name, column = quote_ident(table.name), quote_ident(follow.key[0])
        ours = KeySide(
            lambda sql: sqlw.fetch(conn, sql),
            lambda where: keyranges.arrow_keys(
                conn, f"SELECT {column} FROM {name} {where}", "sqlite"
            ),
            name,
            column,
            local=True,
        )
        with _transaction(conn):
            keys, _ranges = keyranges.gone(follow.source_keys, ours)
            for chunk in keyranges.chunks(keys):
                listed = ", ".join(str(int(k)) for k in chunk)
                sqlw.execute(conn, f"DELETE FROM {name} WHERE {column} IN ({listed})")
        return len(keys)

    def _delete_hashed(self, table: TablePlan, follow: Follow) -> int:
        """Any other key, by hash buckets: each key deleted by its values as the file
        holds them."""
        assert follow.source_hash is not None
        conn, name = self.target.conn, quote_ident(table.name)
        columns = [quote_ident(c) for c in follow.key]
        names = ", ".join(columns)
        ours = keyhash.python_side(
            lambda: sqlw.fetch(conn, f"SELECT {names} FROM {name}"),
            lambda: int(sqlw.fetch(conn, f"SELECT count(*) FROM {name}")[0][0]),
        )
        where = " AND ".join(f"{c} IS ?" for c in columns)
        with _transaction(conn):
            keys, _buckets = keyhash.gone(follow.source_hash, ours)
            for key in keys:
                sqlw.execute(conn, f"DELETE FROM {name} WHERE {where}", list(key))
        return len(keys)


@contextlib.contextmanager
def _transaction(conn: Any) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    sqlw.execute(conn, "BEGIN")
    try:
        yield
        sqlw.execute(conn, "COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            sqlw.execute(conn, "ROLLBACK")
        raise


class SqliteUpsertLoad:
    """One table's changes, upserted with its new mark in one transaction."""

    def __init__(self, target: SqliteTarget, table: TablePlan, follow: Follow) -> None:
        self.target, self.table, self.follow = target, table, follow
        self.counts: dict[str, int] = {}
        self.merging: float | None = None  # when the staged rows started into place

    @contextlib.contextmanager
    def lane(self) -> Iterator[Callable[..., int]]:
        conn = self.target.conn
        try:
            sqlw.execute(conn, "BEGIN")
            if self.follow.how == "full":
                sqlw.execute(conn, f"DELETE FROM {quote_ident(self.table.name)}")
            yield lambda schema, batches, on_batch: self._ingest(batches, on_batch)
            self._save_mark(conn)
            sqlw.execute(conn, "COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                sqlw.execute(conn, "ROLLBACK")
            raise
        self.follow.counts = self.counts
        if self.merging is not None:
            self.follow.seconds["merge"] = time.perf_counter() - self.merging

    def _ingest(self, batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]) -> int:
        conn, name = self.target.conn, self.table.name

        def counted() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                on_batch(batch.num_rows)
                yield batch

        capture = Capturing(counted())
        stream = iter(capture)
        head = next(stream, None)
        if head is None:
            return 0
        columns = head.schema.names
        untyped = ", ".join(quote_ident(c) for c in columns)
        sqlw.execute(conn, f"CREATE TEMP TABLE {STAGE} ({untyped})")
        reader = pa.RecordBatchReader.from_batches(head.schema, prepended(head, stream))
        try:
            with conn.cursor() as cur:
                rows = int(cur.adbc_ingest(STAGE, reader, mode="append", temporary=True))
        except BaseException:
            if capture.error is not None:
                raise capture.error from None
            raise
        key = self.follow.key
        self.merging = time.perf_counter()
        if self.follow.how == "full" or not key:
            names = ", ".join(quote_ident(c) for c in columns)
            sqlw.execute(
                conn, f"INSERT INTO {quote_ident(name)} ({names}) SELECT {names} FROM temp.{STAGE}"
            )
            inserted, updated = rows, 0
        else:
            facts = sqlw.fetch(conn, merge_facts_sql(name, columns, key))[0]
            matched = int(facts[0])
            rest = [c for c in columns if c not in key]
            differ = [c for c, d in zip(rest, facts[1:], strict=True) if d]
            sqlw.execute(conn, upsert_sql(name, columns, key, differ))
            written = int(sqlw.fetch(conn, "SELECT changes()")[0][0])
            inserted = rows - matched
            updated = written - inserted
        sqlw.execute(conn, f"DROP TABLE temp.{STAGE}")
        unchanged = rows - inserted - updated
        self.counts = {"inserted": inserted, "updated": updated, "unchanged": unchanged}
        return rows

    def _save_mark(self, conn: Any) -> None:
        row = state_row(self.follow)
        if row is not None:
            sqlw.execute(conn, save_mark_sql(), [self.table.name, *row])

    def complete(self) -> None:
        """Nothing to move: the rows went into place in their transaction."""

    def abort(self) -> None:
        """Nothing to drop: the transaction rolled back."""
