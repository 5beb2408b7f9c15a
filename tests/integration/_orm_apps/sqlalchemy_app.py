"""SQLAlchemy plumbing shared by the shop and the blog: engines on either side, and every
object of a set of models read back attribute by attribute (:mod:`.values` normalises).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import REAL, DateTime, Engine, Table, create_engine, inspect, select
from sqlalchemy.orm import Session

from tests.integration._orm_apps.catalog import sqlalchemy_url
from tests.integration._orm_apps.values import Rows, plain, readable


@contextmanager
def engine_for(
    *, sqlite_path: Path | None = None, pg: tuple[str, str] | None = None
) -> Iterator[Engine]:
    """An engine on the SQLite file or on (PostgreSQL URL, schema), disposed afterwards."""
    if sqlite_path is not None:
        engine = create_engine(f"sqlite:///{sqlite_path}")
    else:
        assert pg is not None
        url, connect_args = sqlalchemy_url(*pg)
        engine = create_engine(url, connect_args=connect_args)
    try:
        yield engine
    finally:
        engine.dispose()


def read(
    engine: Engine,
    models: Sequence[type[Any]],
    tables: Sequence[Table] = (),
    *,
    leave_out: tuple[str, ...] = (),
) -> dict[str, Rows]:
    """Every object the application reads, attribute by attribute, by primary key; and
    every row of the plain ``tables`` (association tables), by their whole row."""
    out: dict[str, Rows] = {}
    with Session(engine) as session:
        for model in models:
            mapper = inspect(model)
            attrs = [a for a in mapper.column_attrs if a.key not in leave_out]
            rows: Rows = {}
            with readable(model.__tablename__, engine.dialect.name):
                found = session.scalars(select(model).order_by(*mapper.primary_key)).all()
            for obj in found:
                key = mapper.primary_key_from_instance(obj)
                rows[tuple(key)] = {
                    a.key: plain(
                        getattr(obj, a.key),
                        naive_is_utc=_aware(a.columns[0].type),
                        real=_real(a.columns[0].type),
                    )
                    for a in attrs
                }
            out[model.__tablename__] = rows
        for table in tables:
            with readable(table.name, engine.dialect.name):
                links = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = {tuple(row): dict(row._mapping) for row in links}
    return out


def _aware(kind: Any) -> bool:
    return isinstance(kind, DateTime) and bool(kind.timezone)


def _real(kind: Any) -> bool:
    """A ``REAL`` on PostgreSQL (float32): what the application declared it keeps."""
    variants = getattr(kind, "_variant_mapping", {})
    return isinstance(kind, REAL) or isinstance(variants.get("postgresql"), REAL)
