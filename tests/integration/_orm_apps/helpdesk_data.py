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
from tests.integration._orm_apps.values import Rows, plain

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


def json_values() -> st.SearchStrategy[Any]:
    """What a JSONField holds: a document, or a bare scalar (stored as JSON text)."""
    scalars = st.booleans() | st.integers(*s.INT64) | st.text(s.CHARS, max_size=20)
    return st.one_of(s.json_documents(), st.lists(scalars, max_size=4), scalars)


def unique_uuids(n: int) -> st.SearchStrategy[list[uuid.UUID]]:
    """``n`` distinct UUIDs, the nil and the all-ones UUID among the candidates."""
    edges = st.sampled_from([uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)])
    return st.lists(edges | st.uuids(), min_size=n, max_size=n, unique=True)


@st.composite
def helpdesk_rows(draw: st.DrawFn) -> HelpdeskRows:
    n_orgs = draw(st.integers(5, 20))
    organisations = [
        {
            "name": draw(s.texts(200)),
            "plan": draw(st.sampled_from(PLANS)),
            "settings": draw(s.json_documents()),
            "created_at": draw(s.instants()),
            "parent": draw(st.none() | st.integers(0, n_orgs - 1)),
        }
        for _ in range(n_orgs)
    ]
    for i, org in enumerate(organisations):  # no organisation is its own ancestor
        if org["parent"] is not None and org["parent"] >= i:
            org["parent"] = None if i == 0 else org["parent"] % i
    agent = st.fixed_dictionaries(
        {
            "organisation": st.integers(0, n_orgs - 1),
            "full_name": s.texts(255),
            "is_active": st.booleans(),
            "is_staff": st.booleans(),
            "last_login": st.none() | s.instants(),
            "date_joined": s.dates(),
            "shift_start": st.none() | s.times(),
            "avatar": st.none()
            | st.sampled_from([b"", b"\x00", b"\\x00", b"\xff" * 64])
            | st.binary(max_size=64),
        }
    )
    agents = draw(st.lists(agent, min_size=20, max_size=50))
    for row, key in zip(agents, draw(unique_uuids(len(agents))), strict=True):
        row["uuid"] = key
    tags = draw(st.lists(s.texts(40), min_size=3, max_size=15))
    ticket = st.fixed_dictionaries(
        {
            "title": s.texts(255),
            "body": s.texts(400),
            "status": st.sampled_from(STATUSES),
            "priority": st.integers(1, 5),
            "is_public": st.booleans(),
            "requester": st.integers(0, len(agents) - 1),
            "assignee": st.none() | st.integers(0, len(agents) - 1),
            "opened_at": s.instants(),
            "due_on": st.none() | s.dates(),
            "estimate": st.none() | s.money(),
            "score": st.none() | s.doubles(),
            "views": st.integers(0, 2**63 - 1),
            "balance_cents": s.int64(),
            "metadata": json_values(),
            "tags": st.sets(st.integers(0, len(tags) - 1), max_size=4) if tags else st.just(set()),
        }
    )
    tickets = draw(st.lists(ticket, min_size=80, max_size=150))
    for row, key in zip(tickets, draw(unique_uuids(len(tickets))), strict=True):
        row["reference"] = key
    for t in tickets:  # merged into any other ticket, earlier or later
        t["merged_into"] = draw(st.none() | st.integers(0, len(tickets) - 1))
    return HelpdeskRows(organisations, agents, tags, tickets)


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
    return {
        "agents looked up by uuid": [agents.get(uuid=u).pk for u in uuids],
        "tickets looked up by reference": [tickets.get(reference=r).pk for r in refs],
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
        "metadata with key 'a'": list(
            tickets.filter(metadata__has_key="a").values_list("pk", flat=True).order_by("pk")
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


def audit_rows() -> st.SearchStrategy[list[Draw]]:
    durations = st.one_of(
        st.sampled_from(
            [
                dt.timedelta(0),
                dt.timedelta(microseconds=1),
                dt.timedelta(days=-1, microseconds=1),
                dt.timedelta(days=10**8),
            ]
        ),
        st.timedeltas(min_value=dt.timedelta(days=-(10**6)), max_value=dt.timedelta(days=10**6)),
    )
    addresses = st.one_of(
        st.none(),
        st.sampled_from(
            ["127.0.0.1", "::1", "2001:db8::8a2e:370:7334", "0.0.0.0", "255.255.255.255"]
        ),
        st.ip_addresses().map(str),
    )
    event = st.fixed_dictionaries(
        {"at": s.instants(), "took": durations, "ip": addresses, "action": s.texts(40)}
    )
    return st.lists(event, min_size=20, max_size=100)


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
