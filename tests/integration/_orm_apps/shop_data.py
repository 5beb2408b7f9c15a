"""The shop's data: drawn by hypothesis, stored and read back through SQLAlchemy.

:func:`shop_rows` draws a few hundred rows (plus fixed edge rows) as plain values with
references by position; :func:`fill` stores them through the ORM on either side
(categories are re-parented after they exist, so some point at later ids; some orders
are deleted, so ids have gaps); :func:`read` gives every object's attributes as
:mod:`.values` normalises them, by primary key; :func:`queries` answers a few of the
application's own queries (lookups by UUID, by enum, by boolean, an ordering by time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tests.integration._orm_apps import strategies as s
from tests.integration._orm_apps.shop import OrderStatus, Role, Shop

Draw = dict[str, Any]


@dataclass
class ShopRows:
    categories: list[Draw] = field(default_factory=list)  # "parent": position or None
    customers: list[Draw] = field(default_factory=list)
    products: list[Draw] = field(default_factory=list)  # "category": position or None
    orders: list[Draw] = field(default_factory=list)  # "customer": position, "lines": [...]
    deleted_orders: frozenset[int] = frozenset()

    def __repr__(self) -> str:  # the drawn rows are long; the failure names the row
        return (
            f"ShopRows({len(self.categories)} categories, {len(self.customers)} customers, "
            f"{len(self.products)} products, {len(self.orders)} orders, {self.count} rows)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints this
        printer.text(repr(self))

    @property
    def count(self) -> int:
        lines = sum(len(o["lines"]) for o in self.orders)
        return (
            len(self.categories)
            + len(self.customers)
            + len(self.products)
            + len(self.orders)
            + lines
        )


EDGE_CUSTOMERS: tuple[Draw, ...] = (
    # every optional value absent: the server defaults fill them on the SQLite side
    {"name": "", "tags": [], "preferences": None, "birth_date": None},
    {
        "name": "😀" * 255,  # varchar(255) counts characters: 255 emoji fit
        "role": Role.ADMIN,
        "is_active": False,
        "balance": s.MONEY_MAX,
        "loyalty_points": 2**63 - 1,
        "birth_date": dt.date(1, 1, 1),
        "preferences": {"big": 2**63 - 1, "neg": -(2**63), "f": 1e16, "nested": [[], {}]},
        "tags": ["", "NULL", "a,b", '"q"', "{x}"],
        "created_at": dt.datetime(1970, 1, 1, tzinfo=s.UTC),
    },
    {
        "name": "Zoë O'Brien-Łukasz",
        "role": Role.STAFF,
        "balance": -s.MONEY_MAX,
        "loyalty_points": -(2**63),
        "birth_date": dt.date(9999, 12, 31),
        "preferences": {"": "", "é": "\\N", "true": True, "zero": 0, "one": 1.0},
        "created_at": dt.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=s.ZONES[3]),
    },
)


@st.composite
def customers(draw: st.DrawFn) -> Draw:
    row: Draw = {"name": draw(s.texts(255)), "tags": draw(s.tags())}
    optional = {
        "role": st.sampled_from(Role),
        "is_active": st.booleans(),
        "balance": s.money(),
        "loyalty_points": s.int64(),
        "birth_date": st.none() | s.dates(),
        "preferences": st.none() | s.json_documents(),
        "created_at": s.instants(),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):  # else the column's default
            row[name] = draw(strategy)
    return row


@st.composite
def products(draw: st.DrawFn, categories: int) -> Draw:
    return {
        "title": draw(s.texts(255)),
        "description": draw(s.texts(300)),
        "price": draw(s.money()),
        "weight_kg": draw(st.none() | s.doubles()),
        "in_stock": draw(st.booleans()),
        "category": draw(st.none() | st.integers(0, categories - 1)),
        "attributes": draw(s.json_documents()),
        "tags": draw(s.tags()),
        "available_from": draw(st.none() | s.wall_clocks()),
    }


@st.composite
def orders(draw: st.DrawFn, customers: int, products: int) -> Draw:
    placed = draw(st.none() | s.instants())
    shipped = None
    if placed is not None and draw(st.booleans()):
        shipped = draw(s.instants()).astimezone(placed.tzinfo)
    line = st.fixed_dictionaries(
        {
            "product": st.integers(0, products - 1),
            "quantity": st.integers(1, 2**31 - 1),
            "unit_price": s.money(),
            "discount": s.money(Decimal("9.9999"), places=4),
        }
    )
    row: Draw = {
        "customer": draw(st.integers(0, customers - 1)),
        "status": draw(st.sampled_from(OrderStatus)),
        "shipped_at": shipped,
        "total": draw(s.money()),
        "note": draw(st.none() | s.texts(500)),
        "lines": draw(st.lists(line, max_size=3)),
    }
    if placed is not None:
        row["placed_at"] = placed
    return row


@st.composite
def shop_rows(draw: st.DrawFn) -> ShopRows:
    """A few hundred rows across the shop's five tables, edges first."""
    n_categories = draw(st.integers(10, 30))
    categories = [
        {
            "name": draw(s.texts(255)),
            "position": draw(st.integers(-(2**15), 2**15 - 1)),
            # any other category, earlier or later: the forest is made acyclic below
            "parent": None,
        }
        for _ in range(n_categories)
    ]
    order = draw(st.permutations(range(n_categories)))
    for rank, index in enumerate(order[1:], start=1):
        if draw(st.booleans()):
            categories[index]["parent"] = order[draw(st.integers(0, rank - 1))]
    people = [*EDGE_CUSTOMERS, *draw(st.lists(customers(), min_size=40, max_size=80))]
    items = draw(st.lists(products(n_categories), min_size=30, max_size=60))
    placed = draw(st.lists(orders(len(people), len(items)), min_size=60, max_size=120))
    gone = draw(st.sets(st.integers(0, len(placed) - 1), max_size=5))
    return ShopRows(categories, people, items, placed, frozenset(gone))


def fill(engine: Engine, shop: Shop, rows: ShopRows) -> None:
    """Store ``rows`` through the ORM as the application would."""
    with Session(engine) as session:
        categories = [
            shop.categories(name=r["name"], slug=f"c-{i}-{r['name'][:40]}", position=r["position"])
            for i, r in enumerate(rows.categories)
        ]
        session.add_all(categories)
        session.flush()
        for category, r in zip(categories, rows.categories, strict=True):
            if r["parent"] is not None:  # moved under another category, maybe a later one
                category.parent_id = categories[r["parent"]].id
        people = [
            shop.customers(email=f"user{i}.{r['name'][:20]}@example.org", **r)
            for i, r in enumerate(rows.customers)
        ]
        session.add_all(people)
        items = []
        for i, r in enumerate(rows.products):
            values = {k: v for k, v in r.items() if k != "category"}
            parent = r["category"]
            category_id = None if parent is None else categories[parent].id
            items.append(shop.products(sku=f"SKU-{i:05d}", category_id=category_id, **values))
        session.add_all(items)
        session.flush()
        placed = []
        for r in rows.orders:
            values = {k: v for k, v in r.items() if k not in ("customer", "lines")}
            placed.append(shop.orders(customer_id=people[r["customer"]].id, **values))
        session.add_all(placed)
        session.flush()
        for order, r in zip(placed, rows.orders, strict=True):
            for no, line in enumerate(r["lines"], start=1):
                session.add(
                    shop.order_lines(
                        order_id=order.id,
                        line_no=no,
                        product_id=items[line["product"]].id,
                        quantity=line["quantity"],
                        unit_price=line["unit_price"],
                        discount=line["discount"],
                    )
                )
        session.flush()
        for index in sorted(rows.deleted_orders):  # leaves gaps in the ids
            order_id = placed[index].id
            session.execute(delete(shop.order_lines).where(shop.order_lines.order_id == order_id))
            session.delete(placed[index])
        session.commit()


def queries(engine: Engine, shop: Shop) -> dict[str, Any]:
    """Answers to a few of the application's queries, for comparing the two sides."""
    c, o = shop.customers, shop.orders
    with Session(engine) as session:
        public_ids = session.scalars(select(c.public_id).order_by(c.id).limit(15)).all()
        by_uuid = [session.scalar(select(c.id).where(c.public_id == u)) for u in public_ids]
        first_order = session.scalar(select(o.public_id).order_by(o.id).limit(1))
        return {
            "customer ids looked up by public_id": by_uuid,
            "order looked up by public_id": session.scalar(
                select(o.id).where(o.public_id == first_order)
            ),
            "active customers": session.scalars(
                select(c.id).where(c.is_active.is_(True)).order_by(c.id)
            ).all(),
            "staff and admins": session.scalars(
                select(c.id).where(c.role.in_([Role.STAFF, Role.ADMIN])).order_by(c.id)
            ).all(),
            "orders by status": {
                status.value: session.scalars(
                    select(o.id).where(o.status == status).order_by(o.id)
                ).all()
                for status in OrderStatus
            },
            "orders by placed_at": session.scalars(select(o.id).order_by(o.placed_at, o.id)).all(),
        }


def add_one_of_each(engine: Engine, shop: Shop) -> dict[str, int]:
    """New objects the application makes after the cut-over, ids left to the database."""
    with Session(engine) as session:
        category = shop.categories(name="new", slug="new-after-cut-over")
        customer = shop.customers(email="new@example.org", name="New")
        session.add_all([category, customer])
        session.flush()
        product = shop.products(
            sku="SKU-NEW", title="New", price=Decimal("1.00"), category_id=category.id
        )
        order = shop.orders(customer_id=customer.id, total=Decimal("1.00"))
        session.add_all([product, order])
        session.flush()
        ids = {
            "categories": category.id,
            "customers": customer.id,
            "products": product.id,
            "orders": order.id,
        }
        session.commit()
    return ids
