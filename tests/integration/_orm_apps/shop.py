"""A small shop, written as SQLAlchemy 2 users write it (declarative, ``Mapped[...]``).

:func:`declare` gives the models for one side. Both sides come from the same class
bodies and ``metadata.create_all``; they differ as a real cut-over's do:

- on PostgreSQL the types are native: ``Uuid`` -> ``uuid`` (SQLite ``CHAR(32)`` hex),
  ``DateTime(timezone=True)`` -> ``timestamptz`` (SQLite text, the wall clock without an
  offset), ``Enum`` -> a PostgreSQL enum type (SQLite ``VARCHAR`` + CHECK), ``JSON`` ->
  ``jsonb`` (a ``JSONB`` variant), the tags ``ARRAY(String)`` -> ``varchar(64)[]`` (a
  JSON array on SQLite), big keys ``bigserial`` (``INTEGER PRIMARY KEY`` on SQLite),
  ``Boolean`` -> ``boolean`` (0/1 on SQLite), ``Numeric(12, 2)`` (REAL or INTEGER
  storage on SQLite: NUMERIC affinity);
- the PostgreSQL version of the app has ``updated_at`` (``server_default=func.now()``,
  NOT NULL) on customers and orders, which the SQLite version never had;
- its columns are in another order (``sort_order``: ids and public ids first).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Side = Literal["sqlite", "postgresql"]

# bigserial on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY
BIG_ID = BigInteger().with_variant(Integer, "sqlite")
DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
TAGS = JSON().with_variant(ARRAY(String(64)), "postgresql")
# a 2-D array on PostgreSQL (declared integer[][]), a JSON array of arrays on SQLite
GRID = JSON().with_variant(ARRAY(Integer, dimensions=2), "postgresql")


class Role(enum.Enum):
    """Stored by name (SQLAlchemy's default): 'CUSTOMER', 'STAFF', 'ADMIN'."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class OrderStatus(enum.Enum):
    """Stored by value (``values_callable``): labels with a space and non-ASCII."""

    PENDING = "pending"
    PAID = "paid"
    ON_HOLD = "on hold"
    SHIPPED = "shipped ✈"
    CANCELLED = "cancelled"


def _values(kind: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in kind]


@dataclass(frozen=True)
class Shop:
    side: Side
    base: type[DeclarativeBase]
    customers: type[Any]
    categories: type[Any]
    products: type[Any]
    orders: type[Any]
    order_lines: type[Any]

    @property
    def models(self) -> tuple[type[Any], ...]:
        """In foreign-key order (parents first)."""
        return (self.categories, self.customers, self.products, self.orders, self.order_lines)


def declare(side: Side) -> Shop:
    """The shop's models as the ``side`` version of the application declares them."""
    pg = side == "postgresql"
    first = -1 if pg else 0  # sort_order: the PostgreSQL schema puts these columns first

    class Base(DeclarativeBase):
        pass

    class Category(Base):
        __tablename__ = "categories"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(255))
        slug: Mapped[str] = mapped_column(String(255), unique=True)
        # self-reference: a category may be moved under one created after it
        parent_id: Mapped[int | None] = mapped_column(
            ForeignKey("categories.id", ondelete="SET NULL"), index=True
        )
        position: Mapped[int] = mapped_column(SmallInteger, server_default="0")

    class Customer(Base):
        __tablename__ = "customers"
        id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
        email: Mapped[str] = mapped_column(String(255), unique=True)
        name: Mapped[str] = mapped_column(String(255))
        role: Mapped[Role] = mapped_column(
            Enum(Role, name="customer_role", create_constraint=True),
            server_default=Role.CUSTOMER.name,
        )
        is_active: Mapped[bool] = mapped_column(Boolean, server_default=true())
        balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default="0")
        loyalty_points: Mapped[int] = mapped_column(BigInteger, default=0)
        birth_date: Mapped[dt.date | None] = mapped_column(Date)
        preferences: Mapped[dict[str, Any] | None] = mapped_column(DOCUMENT)
        tags: Mapped[list[str]] = mapped_column(TAGS, default=list)
        created_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now()
        )
        public_id: Mapped[uuid.UUID] = mapped_column(
            Uuid, unique=True, default=uuid.uuid4, sort_order=first
        )
        if pg:
            updated_at: Mapped[dt.datetime] = mapped_column(
                DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
            )

    class Product(Base):
        __tablename__ = "products"
        __table_args__ = (
            Index("ix_products_price_stock", "price", "in_stock"),
            Index(
                "ix_products_sku_in_stock",
                "sku",
                postgresql_where=text("in_stock"),
                sqlite_where=text("in_stock"),
            ),
        )
        id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
        sku: Mapped[str] = mapped_column(String(64), unique=True)
        title: Mapped[str] = mapped_column(String(255))
        description: Mapped[str] = mapped_column(Text, default="")
        price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
        weight_kg: Mapped[float | None] = mapped_column(Float)
        in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
        category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
        attributes: Mapped[dict[str, Any]] = mapped_column(DOCUMENT, default=dict)
        tags: Mapped[list[str]] = mapped_column(TAGS, default=list, sort_order=first)
        available_from: Mapped[dt.datetime | None] = mapped_column(DateTime)  # naive
        # stock per warehouse (rows) and size (columns)
        stock_grid: Mapped[list[list[int | None]] | None] = mapped_column(GRID)

    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
        customer_id: Mapped[int] = mapped_column(
            ForeignKey("customers.id", ondelete="CASCADE"), index=True
        )
        status: Mapped[OrderStatus] = mapped_column(
            Enum(
                OrderStatus,
                name="order_status",
                values_callable=_values,
                create_constraint=True,
            ),
            server_default=OrderStatus.PENDING.value,
        )
        placed_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now()
        )
        shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
        total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
        note: Mapped[str | None] = mapped_column(Text)
        public_id: Mapped[uuid.UUID] = mapped_column(
            Uuid, unique=True, default=uuid.uuid4, sort_order=first
        )
        if pg:
            updated_at: Mapped[dt.datetime] = mapped_column(
                DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
            )

    class OrderLine(Base):
        __tablename__ = "order_lines"
        __table_args__ = (CheckConstraint("quantity > 0", name="ck_order_lines_quantity"),)
        order_id: Mapped[int] = mapped_column(
            ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
        )
        line_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
        product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
        quantity: Mapped[int] = mapped_column(Integer)
        unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
        discount: Mapped[Decimal] = mapped_column(Numeric(5, 4), server_default="0")

    return Shop(side, Base, Customer, Category, Product, Order, OrderLine)
