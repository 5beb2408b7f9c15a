"""The shop's data: drawn by hypothesis, stored and read back through SQLAlchemy.

:func:`shop_rows` draws a few hundred rows (plus fixed edge rows) as plain values with
references by position; :func:`fill` stores them through the ORM on either side
(categories are re-parented after they exist, so some point at later ids; some orders
are deleted, so ids have gaps); :func:`read` gives every object's attributes as
:mod:`.values` normalises them, by primary key; :func:`queries` answers a few of the
application's own queries (lookups by UUID, by enum, by boolean, an ordering by time).
"""

from __future__ import annotations

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


# every optional value absent: the server defaults fill them on the SQLite side
BARE_CUSTOMER: Draw = {"name": "", "tags": [], "preferences": None, "birth_date": None}

KINDS = {
    "name": s.texts(255),
    "text": s.texts(300),
    "money": s.money(),
    "discount": s.money(Decimal("9.9999"), places=4),
    "int64": s.int64(),
    "smallint": s.ints(-(2**15), 2**15 - 1),
    "quantity": s.ints(1, 2**31 - 1),
    "double": s.doubles(),
    "date": s.dates(),
    "instant": s.instants(),
    "wall clock": s.wall_clocks(),
    "json": s.json_documents(),
    "tags": s.tags(),
    "grid": s.grids(),
}


def customer(pick: s.Pick) -> Draw:
    row: Draw = {"name": pick("name"), "tags": pick("tags")}
    optional = {
        "role": lambda: pick.rnd.choice(list(Role)),
        "is_active": pick.flag,
        "balance": lambda: pick("money"),
        "loyalty_points": lambda: pick("int64"),
        "birth_date": lambda: pick.maybe("date"),
        "preferences": lambda: pick.maybe("json"),
        "created_at": lambda: pick("instant"),
    }
    for name, value in optional.items():
        if pick.flag(0.8):  # else the column's default
            row[name] = value()
    return row


def product(pick: s.Pick, categories: int) -> Draw:
    return {
        "title": pick("name"),
        "description": pick("text"),
        "price": pick("money"),
        "weight_kg": pick.maybe("double"),
        "in_stock": pick.flag(),
        "category": None if pick.flag(0.2) else pick.index(categories),
        "attributes": pick("json"),
        "tags": pick("tags"),
        "available_from": pick.maybe("wall clock"),
        "stock_grid": pick.maybe("grid"),
    }


def order(pick: s.Pick, customers: int, products: int) -> Draw:
    row: Draw = {
        "customer": pick.index(customers),
        "status": pick.rnd.choice(list(OrderStatus)),
        "shipped_at": None,
        "total": pick("money"),
        "note": pick.maybe("text"),
        "lines": [
            {
                "product": pick.index(products),
                "quantity": pick("quantity"),
                "unit_price": pick("money"),
                "discount": pick("discount"),
            }
            for _ in range(pick.count(0, 3))
        ],
    }
    if pick.flag(0.8):  # else the server's now()
        placed = row["placed_at"] = pick("instant")
        if pick.flag():  # shipped, in the offset it was placed in
            row["shipped_at"] = pick("instant").astimezone(placed.tzinfo)
    return row


@st.composite
def shop_rows(draw: st.DrawFn) -> ShopRows:
    """A few hundred rows across the shop's five tables."""
    pick = draw(s.picker(KINDS))
    n = pick.count(10, 30)
    categories: list[Draw] = [
        {"name": pick("name"), "position": pick("smallint"), "parent": None} for _ in range(n)
    ]
    # any other category, earlier or later in id order; acyclic
    ranked = pick.rnd.sample(range(n), n)
    for rank, index in enumerate(ranked[1:], start=1):
        if pick.flag():
            categories[index]["parent"] = ranked[pick.index(rank)]
    people = [BARE_CUSTOMER, *(customer(pick) for _ in range(pick.count(60, 120)))]
    items = [product(pick, n) for _ in range(pick.count(30, 80))]
    placed = [order(pick, len(people), len(items)) for _ in range(pick.count(80, 160))]
    gone = frozenset(pick.rnd.sample(range(len(placed)), 5))
    return ShopRows(categories, people, items, placed, gone)


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
            "orders looked up by their own placed_at": by_own_time(session, o.id, o.placed_at),
        }


def by_own_time(session: Session, key: Any, column: Any) -> list[list[Any]]:
    """Rows looked up by a timestamp the application read from them (an equality test on
    the stored text, in SQLite). Rows with a fraction of a second only: SQLite's own
    CURRENT_TIMESTAMP default writes none, which SQLAlchemy's bound value never equals,
    in any database the rows came from."""
    stamped = session.execute(select(key, column).where(column.is_not(None)).order_by(key)).all()
    chosen = [when for _, when in stamped if when.microsecond][:15]
    return [
        session.scalars(select(key).where(column == when).order_by(key)).all() for when in chosen
    ]


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


# What the SQLite version of the shop stored through its ORM that the PostgreSQL schema
# refuses (SQLite enforces no declared size): each in a row nothing references, so the
# rest of the data stays whole when these rows are rejected. (table, column) -> count.
MISFITS = {
    ("customers", "name"): 1,
    ("customers", "balance"): 1,
    ("categories", "position"): 1,
    ("order_lines", "quantity"): 1,
}


def add_misfits(engine: Engine, shop: Shop) -> list[tuple[str, tuple[Any, ...]]]:
    """Store :data:`MISFITS` through the ORM; the (table, primary key) of each row."""
    with Session(engine) as session:
        long_name = shop.customers(email="long@example.org", name="é" * 256)  # varchar(255)
        rich = shop.customers(
            email="rich@example.org", name="Rich", balance=Decimal("12345678901.5")
        )
        deep = shop.categories(name="deep", slug="misfit-deep", position=2**15)  # smallint
        session.add_all([long_name, rich, deep])
        session.flush()
        some_order = session.scalars(select(shop.orders).order_by(shop.orders.id)).first()
        some_product = session.scalars(select(shop.products).order_by(shop.products.id)).first()
        assert some_order is not None and some_product is not None
        bulk = shop.order_lines(
            order_id=some_order.id,
            line_no=99,
            product_id=some_product.id,
            quantity=2**31,  # integer
            unit_price=Decimal("1.00"),
        )
        session.add(bulk)
        session.flush()
        keys = [
            ("customers", (long_name.id,)),
            ("customers", (rich.id,)),
            ("categories", (deep.id,)),
            ("order_lines", (bulk.order_id, bulk.line_no)),
        ]
        session.commit()
    return keys
