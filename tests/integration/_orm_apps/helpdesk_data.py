"""The helpdesk's data: drawn by hypothesis, stored and read back through Django's ORM.

:func:`helpdesk_rows` draws a few hundred rows with references by position;
:func:`fill` saves them with ``Model.save(using=alias)`` in one ``transaction.atomic``
(organisations and tickets are re-pointed after they exist, so some point at later
ids); :func:`read` gives every object's concrete fields (``attname``: ``organisation_id``)
as :mod:`.values` normalises them, the many-to-many through table included;
:func:`queries` answers some of the application's queries. :func:`audit_rows` and the
``audit`` functions cover the audit log alone (``interval`` and ``inet`` columns).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.integration._orm_apps import django_project
from tests.integration._orm_apps import strategies as s
from tests.integration._orm_apps.values import Rows, plain, readable

Draw = dict[str, Any]
PLANS = ("free", "team", "enterprise")
STATUSES = ("open", "waiting", "solved", "closed")


@dataclass
class HelpdeskRows:
    organisations: list[Draw] = field(default_factory=list)  # "parent": position or None
    agents: list[Draw] = field(default_factory=list)  # "organisation": position
    tags: list[str] = field(default_factory=list)
    tickets: list[Draw] = field(default_factory=list)  # agent and ticket positions, "tags"

    def __repr__(self) -> str:  # the drawn rows are long; the failure names the row
        return (
            f"HelpdeskRows({len(self.organisations)} organisations, {len(self.agents)} agents, "
            f"{len(self.tags)} tags, {len(self.tickets)} tickets)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints this
        printer.text(repr(self))


def json_values() -> s.Kind:
    """What a JSONField holds: a document, or a bare scalar or list (stored as JSON text)."""
    scalars = st.booleans() | st.integers(*s.INT64) | st.text(s.CHARS, max_size=20)
    documents = s.json_documents()
    edges = (*documents.edges, 0, "", "a", True, [], [1, "a", None], 2**63 - 1)
    return s.Kind(edges, st.one_of(documents.drawn, st.lists(scalars, max_size=4), scalars))


KINDS = {
    "name": s.texts(255),
    "short": s.texts(40),
    "text": s.texts(300),
    "instant": s.instants(),
    "date": s.dates(),
    "time": s.times(),
    "money": s.money(),
    "double": s.doubles(),
    "int64": s.int64(),
    "views": s.ints(0, 2**63 - 1),
    "json": s.json_documents(),
    "json value": json_values(),
    "bytes": s.Kind((b"", b"\x00", b"\\x00", b"\xff" * 64), st.binary(max_size=64)),
}


def unique_uuids(pick: s.Pick, n: int) -> list[uuid.UUID]:
    """``n`` distinct UUIDs, the nil and the all-ones UUID first."""
    out = {uuid.UUID(int=0): None, uuid.UUID(int=2**128 - 1): None}
    while len(out) < n:
        out[uuid.UUID(int=pick.rnd.getrandbits(128))] = None
    return list(out)[:n]


def organisations(pick: s.Pick) -> list[Draw]:
    n = pick.count(5, 20)
    rows: list[Draw] = [
        {
            "name": pick("name")[:200],
            "plan": pick.rnd.choice(PLANS),
            "settings": pick("json"),
            "created_at": pick("instant"),
            "parent": None,
        }
        for _ in range(n)
    ]
    ranked = pick.rnd.sample(range(n), n)
    for rank, index in enumerate(ranked[1:], start=1):  # no organisation its own ancestor
        if pick.flag():
            rows[index]["parent"] = ranked[pick.index(rank)]
    return rows


@st.composite
def helpdesk_rows(draw: st.DrawFn) -> HelpdeskRows:
    """A few hundred rows across the helpdesk's five tables (the audit log aside)."""
    pick = draw(s.picker(KINDS))
    orgs = organisations(pick)
    n_agents = pick.count(20, 60)
    agents = [
        {
            "uuid": key,
            "organisation": pick.index(len(orgs)),
            "full_name": pick("name"),
            "is_active": pick.flag(0.8),
            "is_staff": pick.flag(0.3),
            "last_login": pick.maybe("instant"),
            "date_joined": pick("date"),
            "shift_start": pick.maybe("time"),
            "avatar": pick.maybe("bytes"),
        }
        for key in unique_uuids(pick, n_agents)
    ]
    tags = [pick("short") for _ in range(pick.count(3, 15))]
    n_tickets = pick.count(100, 200)
    tickets = [
        {
            "reference": key,
            "title": pick("name"),
            "body": pick("text"),
            "status": pick.rnd.choice(STATUSES),
            "priority": pick.count(1, 5),
            "is_public": pick.flag(),
            "requester": pick.index(n_agents),
            "assignee": None if pick.flag(0.3) else pick.index(n_agents),
            "opened_at": pick("instant"),
            "due_on": pick.maybe("date"),
            "estimate": pick.maybe("money"),
            "score": pick.maybe("double"),
            "views": pick("views"),
            "balance_cents": pick("int64"),
            "metadata": pick("json value"),
            "tags": set(pick.rnd.sample(range(len(tags)), pick.count(0, min(4, len(tags))))),
            # merged into any other ticket, earlier or later
            "merged_into": pick.index(n_tickets) if pick.flag(0.2) else None,
        }
        for key in unique_uuids(pick, n_tickets)
    ]
    return HelpdeskRows(orgs, agents, tags, tickets)


def fill(alias: str, rows: HelpdeskRows) -> None:
    """Save ``rows`` through the ORM into database ``alias``, as the application would."""
    from django.db import transaction

    m = django_project.models()
    with transaction.atomic(using=alias):
        orgs = []
        for i, r in enumerate(rows.organisations):
            org = m.Organisation(
                name=f"{i} {r['name']}",
                slug=f"org-{i}",
                plan=r["plan"],
                settings=r["settings"],
                created_at=r["created_at"],
            )
            org.save(using=alias)
            orgs.append(org)
        for org, r in zip(orgs, rows.organisations, strict=True):
            if r["parent"] is not None:
                org.parent = orgs[r["parent"]]
                org.save(using=alias, update_fields=["parent"])
        agents = []
        for i, r in enumerate(rows.agents):
            values = {k: v for k, v in r.items() if k != "organisation"}
            agent = m.Agent(
                email=f"agent{i}@example.org", organisation=orgs[r["organisation"]], **values
            )
            agent.save(using=alias)
            agents.append(agent)
        tags = []
        for i, name in enumerate(rows.tags):
            tag = m.Tag(name=f"{i}:{name}")
            tag.save(using=alias)
            tags.append(tag)
        tickets = []
        for r in rows.tickets:
            values = {
                k: v
                for k, v in r.items()
                if k not in ("requester", "assignee", "tags", "merged_into")
            }
            assignee = None if r["assignee"] is None else agents[r["assignee"]]
            ticket = m.Ticket(requester=agents[r["requester"]], assignee=assignee, **values)
            ticket.save(using=alias)
            ticket.tags.add(*(tags[i] for i in sorted(r["tags"])))
            tickets.append(ticket)
        for ticket, r in zip(tickets, rows.tickets, strict=True):
            if r["merged_into"] is not None:
                ticket.merged_into = tickets[r["merged_into"]]
                ticket.save(using=alias, update_fields=["merged_into"])


def _rows(model: Any, alias: str) -> Rows:
    fields = model._meta.concrete_fields
    with readable(model._meta.db_table, alias):
        return {
            (obj.pk,): {f.attname: plain(getattr(obj, f.attname)) for f in fields}
            for obj in model.objects.using(alias).order_by("pk")
        }


def read(alias: str) -> dict[str, Rows]:
    """Every object of the helpdesk (the audit log aside), by table and primary key."""
    m = django_project.models()
    kinds = (m.Organisation, m.Agent, m.Tag, m.Ticket, m.Ticket.tags.through)
    return {model._meta.db_table: _rows(model, alias) for model in kinds}


def queries(alias: str) -> dict[str, Any]:
    """Answers to some of the application's queries, for comparing the two databases."""
    from django.db.models import Count

    m = django_project.models()
    agents, tickets = m.Agent.objects.using(alias), m.Ticket.objects.using(alias)
    uuids = list(agents.order_by("pk").values_list("uuid", flat=True)[:15])
    refs = list(tickets.order_by("pk").values_list("reference", flat=True)[:15])
    first = list(tickets.order_by("pk")[:15])
    return {
        "tickets looked up by their own opened_at": [
            list(tickets.filter(opened_at=t.opened_at).values_list("pk", flat=True).order_by("pk"))
            for t in first
        ],
        # Django's own "next" (opened_at > x, or = x and a greater pk): an equality test on
        # the stored text in SQLite
        "the ticket opened next": [next_opened(t) for t in first],
        "agents looked up by uuid": [first_pk(agents.filter(uuid=u)) for u in uuids],
        "tickets looked up by reference": [first_pk(tickets.filter(reference=r)) for r in refs],
        "active staff": list(
            agents.filter(is_active=True, is_staff=True).values_list("pk", flat=True).order_by("pk")
        ),
        "open public tickets": list(
            tickets.filter(status="open", is_public=True)
            .values_list("pk", flat=True)
            .order_by("pk")
        ),
        "tickets by opened_at": list(
            tickets.order_by("opened_at", "pk").values_list("pk", flat=True)
        ),
        "estimates at least 100": list(
            tickets.filter(estimate__gte=Decimal(100)).values_list("pk", flat=True).order_by("pk")
        ),
        # (not has_key: Django's SQLite and PostgreSQL backends answer it differently for
        # a bare string or a list holding the key, whatever the data)
        "metadata that is an empty object": list(
            tickets.filter(metadata={}).values_list("pk", flat=True).order_by("pk")
        ),
        "settings with plan key 'seats' over 10": list(
            m.Organisation.objects.using(alias)
            .filter(settings__seats__gt=10)
            .values_list("pk", flat=True)
            .order_by("pk")
        ),
        "tickets per tag": list(
            m.Tag.objects.using(alias)
            .annotate(n=Count("tickets"))
            .order_by("pk")
            .values_list("pk", "n")
        ),
        "logged in before 2000": list(
            agents.filter(last_login__lt=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
            .values_list("pk", flat=True)
            .order_by("pk")
        ),
    }


def first_pk(found: Any) -> int | None:
    """The pk of the first object found, None when the lookup finds nothing."""
    return found.values_list("pk", flat=True).order_by("pk").first()  # type: ignore[no-any-return]


def next_opened(ticket: Any) -> int | None:
    try:
        return int(ticket.get_next_by_opened_at().pk)
    except ticket.DoesNotExist:
        return None


def add_one_of_each(alias: str) -> dict[str, int]:
    """New objects the application makes after the cut-over, ids left to the database."""
    m = django_project.models()
    org = m.Organisation(name="new after cut-over", slug="new-after-cut-over")
    org.save(using=alias)
    agent = m.Agent(email="new@example.org", full_name="New", organisation=org)
    agent.save(using=alias)
    tag = m.Tag(name="new after cut-over")
    tag.save(using=alias)
    ticket = m.Ticket(title="New", requester=agent)
    ticket.save(using=alias)
    ticket.tags.add(tag)
    link = m.Ticket.tags.through.objects.using(alias).get(ticket=ticket, tag=tag)
    return {
        "helpdesk_organisation": org.pk,
        "helpdesk_agent": agent.pk,
        "helpdesk_tag": tag.pk,
        "helpdesk_ticket": ticket.pk,
        "helpdesk_ticket_tags": link.pk,
    }


# --- the audit log: interval and inet -----------------------------------------------------


AUDIT_KINDS = {
    "instant": s.instants(),
    "action": s.texts(40),
    "duration": s.Kind(
        (
            dt.timedelta(0),
            dt.timedelta(microseconds=1),
            dt.timedelta(days=-1, microseconds=1),
            dt.timedelta(days=10**8),  # bigint microseconds reach about 1.07e8 days
            -dt.timedelta(days=10**8),
        ),
        st.timedeltas(min_value=dt.timedelta(days=-(10**6)), max_value=dt.timedelta(days=10**6)),
    ),
    "ip": s.Kind(
        (
            "127.0.0.1",
            "::1",
            "2001:db8::8a2e:370:7334",
            "0.0.0.0",
            "255.255.255.255",
            "::ffff:1.2.3.4",
        ),
        st.ip_addresses().map(str),
    ),
}


@st.composite
def audit_rows(draw: st.DrawFn) -> list[Draw]:
    pick = draw(s.picker(AUDIT_KINDS))
    return [
        {
            "at": pick("instant"),
            "took": pick("duration"),
            "ip": pick.maybe("ip"),
            "action": pick("action"),
        }
        for _ in range(pick.count(50, 200))
    ]


def fill_audit(alias: str, events: list[Draw]) -> None:
    from django.db import transaction

    m = django_project.models()
    with transaction.atomic(using=alias):
        for e in events:
            m.AuditEvent(**e).save(using=alias)


def read_audit(alias: str) -> dict[str, Rows]:
    """The audit log by primary key; an address as an address (``inet`` prints IPv6 in
    its own way: ``::ffff:1.2.3.4``)."""
    m = django_project.models()
    rows = _rows(m.AuditEvent, alias)
    for row in rows.values():
        if row["ip"] is not None:
            row["ip"] = ipaddress.ip_address(row["ip"])
    return {m.AuditEvent._meta.db_table: rows}
