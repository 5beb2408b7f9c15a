"""PostgreSQL as the target of an incremental run: upserts through the staged bulk path.

A table's changed rows go by binary COPY into a temporary staging table shaped like the
target (``stage``), then ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`` moves them
into place, counting inserted and updated rows (``xmax = 0`` marks a row the statement
inserted); a row equal to the one it would replace is left as it is (unchanged). The
table's mark goes into ``arrowferry_state.incremental`` in the same transaction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects import keyhash, keyranges
from arrowferry.dialects.base import prepended
from arrowferry.dialects.keyranges import KeySide
from arrowferry.dialects.pool import PooledConnection
from arrowferry.dialects.postgresql import connection as pgc
from arrowferry.dialects.postgresql import stage
from arrowferry.dialects.postgresql.write import check_arrow_fields, column_types, rejected_column
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import RejectedByServer
from arrowferry.transfer.incremental import Follow, Kept, kept, state_row

if TYPE_CHECKING:
    from arrowferry.dialects.postgresql.target import PostgresTarget
    from arrowferry.plan.model import TablePlan

STATE_SCHEMA = "arrowferry_state"
STATE_TABLE = "incremental"
STATE = pgc.qname(STATE_SCHEMA, STATE_TABLE)
STATE_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {quote_ident(STATE_SCHEMA)}",
    f"CREATE TABLE IF NOT EXISTS {STATE} ("
    "target_schema text NOT NULL, table_name text NOT NULL, cursor_column text, "
    "mark text, mark_kind text, source_shape text, run_at timestamptz NOT NULL, "
    "PRIMARY KEY (target_schema, table_name))",
)


def upsert_sql(
    schema: str,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    casts: dict[str, str],
) -> str:
    """The staged rows into place: (inserted, updated) counted; equal rows untouched."""
    names = ", ".join(quote_ident(c) for c in columns)
    select = ", ".join(
        f"{quote_ident(c)}::{casts[c]}" if c in casts else quote_ident(c) for c in columns
    )
    rest = [c for c in columns if c not in key]
    target = pgc.qname(schema, table)
    if rest:
        new = ", ".join(f"EXCLUDED.{quote_ident(c)}" for c in rest)
        old = ", ".join(f"t.{quote_ident(c)}" for c in rest)
        sets = ", ".join(quote_ident(c) for c in rest)
        # compared as text: json and some other types have no equality operator
        action = (
            f"DO UPDATE SET ({sets}) = ROW({new}) WHERE ROW({old})::text IS DISTINCT FROM "
            f"ROW({new})::text"
        )
    else:
        action = "DO NOTHING"
    keys = ", ".join(quote_ident(c) for c in key)
    # OVERRIDING SYSTEM VALUE: an identity column GENERATED ALWAYS takes the copied values
    return (
        f"WITH up AS (INSERT INTO {target} AS t ({names}) OVERRIDING SYSTEM VALUE "
        f"SELECT {select} FROM {quote_ident(stage.STAGE_TABLE)} "
        f"ON CONFLICT ({keys}) {action} RETURNING (t.xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    )


def save_mark_sql() -> str:
    return (
        f"INSERT INTO {STATE} (target_schema, table_name, cursor_column, mark, mark_kind, "
        "source_shape, run_at) VALUES ($1, $2, $3, $4, $5, $6, now()) "
        "ON CONFLICT (target_schema, table_name) DO UPDATE "
        "SET cursor_column = EXCLUDED.cursor_column, mark = EXCLUDED.mark, "
        "mark_kind = EXCLUDED.mark_kind, source_shape = EXCLUDED.source_shape, "
        "run_at = EXCLUDED.run_at"
    )


class PostgresUpserts:
    """The marks a PostgreSQL target keeps, and the loads that upsert into it."""

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        with PooledConnection(target.pool, True) as conn:
            for sql in STATE_DDL:
                pgc.execute(conn, sql)

    def marks(self) -> dict[str, Kept]:
        with PooledConnection(self.target.pool, True) as conn:
            rows = pgc.fetch(
                conn,
                f"SELECT table_name, cursor_column, mark, mark_kind, source_shape FROM {STATE} "
                "WHERE target_schema = $1",
                [self.target.schema],
            )
        return {row[0]: kept(*row[1:]) for row in rows}

    def high_water(self, table: TablePlan, column: str) -> int | None:
        with PooledConnection(self.target.pool, True) as conn:
            rows = pgc.fetch(
                conn,
                f"SELECT max({quote_ident(column)}) FROM "
                f"{pgc.qname(self.target.schema, table.name)}",
            )
        return None if rows[0][0] is None else int(rows[0][0])

    def load(self, table: TablePlan, follow: Follow) -> PostgresUpsertLoad:
        return PostgresUpsertLoad(self.target, table, follow)

    def message(self, err: BaseException) -> str:
        return self.target.message(err)

    def references(self) -> list[tuple[str, str]]:
        """(referencing, referenced) tables of the target schema's foreign keys."""
        with PooledConnection(self.target.pool, True) as conn:
            rows = pgc.fetch(
                conn,
                "SELECT c.relname, r.relname FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_class r ON r.oid = k.confrelid "
                "JOIN pg_namespace rn ON rn.oid = r.relnamespace "
                "WHERE k.contype = 'f' AND n.nspname = $1 AND rn.nspname = $1",
                [self.target.schema],
            )
        return [(str(a), str(b)) for a, b in rows]

    def delete_missing(self, table: TablePlan, follow: Follow) -> int:
        """--detect-deletes: the target's keys the source no longer holds, found by
        hashed key ranges (``dialects.keyranges``), deleted in a transaction of their own."""
        target = pgc.qname(self.target.schema, table.name)
        column = quote_ident(follow.key[0])
        with PooledConnection(self.target.pool, False) as conn:
            try:
                if follow.source_hash is not None:
                    deleted = self._delete_hashed(conn, table, follow)
                    conn.commit()
                    return deleted
                assert follow.source_keys is not None
                ours = KeySide(
                    lambda sql: pgc.fetch(conn, sql),
                    lambda where: keyranges.arrow_keys(
                        conn, f"SELECT {column} FROM {target} {where}", "postgresql"
                    ),
                    target,
                    column,
                    estimate=keyranges.pg_estimate(lambda sql: pgc.fetch(conn, sql), target),
                    table=lambda sql: keyranges.arrow_table(conn, sql, "postgresql"),
                )
                keys, _ranges = keyranges.gone(follow.source_keys, ours)
                for chunk in keyranges.chunks(keys):
                    listed = ", ".join(str(int(k)) for k in chunk)
                    pgc.execute(conn, f"DELETE FROM {target} WHERE {column} IN ({listed})")
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise
        return len(keys)

    def _delete_hashed(self, conn: Any, table: TablePlan, follow: Follow) -> int:
        """Any other key, by hash buckets: the keys come back as text, and go back as
        literals of their columns' types (so the key's index finds them)."""
        assert follow.source_hash is not None
        schema, target = self.target.schema, pgc.qname(self.target.schema, table.name)
        columns = [quote_ident(c) for c in follow.key]
        ours = keyhash.postgres_side(lambda sql: pgc.fetch(conn, sql), target, columns)
        keys, _buckets = keyhash.gone(follow.source_hash, ours)
        types = column_types(conn, schema, table.name)
        names = ", ".join(columns)
        for start in range(0, len(keys), 1_000):
            rows = ", ".join(
                "("
                + ", ".join(
                    "NULL" if v is None else f"{pgc.literal(str(v))}::{types[c]}"
                    for v, c in zip(key, follow.key, strict=True)
                )
                + ")"
                for key in keys[start : start + 1_000]
            )
            pgc.execute(conn, f"DELETE FROM {target} WHERE ({names}) IN (VALUES {rows})")
        return len(keys)


class PostgresUpsertLoad:
    """One table's changes, upserted with its new mark in one transaction."""

    def __init__(self, target: PostgresTarget, table: TablePlan, follow: Follow) -> None:
        self.target, self.table, self.follow = target, table, follow
        self.counts: dict[str, int] = {}
        self.merging: float | None = None  # when the staged rows started into place

    @contextlib.contextmanager
    def lane(self) -> Iterator[Callable[..., int]]:
        with PooledConnection(self.target.pool, False) as conn:
            try:
                if self.follow.how == "full":  # TRUNCATE waits for no scan; rolls back
                    pgc.execute(conn, f"TRUNCATE {pgc.qname(self.target.schema, self.table.name)}")
                yield lambda schema, batches, on_batch: self._ingest(
                    conn, schema, batches, on_batch
                )
                self._save_mark(conn)
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):  # a failed COPY may hold its lock
                    conn.rollback()
                raise
        self.follow.counts = self.counts
        if self.merging is not None:
            self.follow.seconds["merge"] = time.perf_counter() - self.merging

    def _ingest(
        self,
        conn: Any,
        arrow_schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        on_batch: Callable[[int], None],
    ) -> int:
        if arrow_schema is None:  # the converted batches say their own types
            head = next(batches, None)
            if head is None:
                return 0
            arrow_schema = head.schema
            batches = prepended(head, batches)
        schema, name = self.target.schema, self.table.name
        real = column_types(conn, schema, name)
        staged = [c.target for c in self.table.columns if c.staged and c.target in real]
        check_arrow_fields(name, arrow_schema, {**real, **dict.fromkeys(staged, "text")})
        columns = arrow_schema.names

        def counted() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                on_batch(batch.num_rows)
                yield batch

        pgc.execute(conn, stage.create_stage_sql(schema, name, columns, staged))
        reader = pa.RecordBatchReader.from_batches(arrow_schema, counted())
        try:
            rows = stage.ingest_stage(conn, reader)
        except Exception as err:
            where = rejected_column(err)
            if where is None:
                raise
            raise RejectedByServer(
                f"table {name!r}, column {where[0]!r}: PostgreSQL refused the value in row "
                f"{where[1]} of the load: {pgc.driver_message(err)}",
                table=name,
                column=where[0],
                sqlstate=getattr(err, "sqlstate", None),
            ) from err
        casts = {c: real[c] for c in staged}
        self.merging = time.perf_counter()
        if self.follow.how == "full" or not self.follow.key:
            pgc.execute(conn, stage.insert_from_stage_sql(schema, name, columns, casts))
            inserted, updated = rows, 0
        else:
            # the rows are compared as text: exact, since every session prints floats with
            # extra_float_digits = 3 (``connection._session``)
            sql = upsert_sql(schema, name, columns, self.follow.key, casts)
            inserted, updated = (int(n) for n in pgc.fetch(conn, sql)[0])
        pgc.execute(conn, stage.drop_stage_sql())
        self.counts = {
            "inserted": inserted,
            "updated": updated,
            "unchanged": rows - inserted - updated,
        }
        return rows

    def _save_mark(self, conn: Any) -> None:
        """The table's new mark and shape, with the rows they cover (even when every row
        was rejected: they are in the reject file, as in a full run)."""
        row = state_row(self.follow)
        if row is not None:
            pgc.execute(conn, save_mark_sql(), [self.target.schema, self.table.name, *row])

    def complete(self) -> None:
        """Nothing to move: the rows went into place in their transaction."""

    def abort(self) -> None:
        """Nothing to drop: the transaction rolled back."""
