"""A small hand-made organisation for the report tests: two teams of two reps, a
manager per team and a director, a pool, and helpers that write history at given moments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import FollowUp, Lead, LeadEvent, LeadPool
from orgs.models import Employee, OrgUnit
from orgs.rights import DataScope, Entry, Operation
from tests.factories import RoleFactory, make_unit, person_with_role

_numbers = itertools.count(1)


def at(day: date, hour: int = 10) -> datetime:
    """A moment of ``day`` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


@dataclass
class Org:
    company: OrgUnit
    team_a: OrgUnit
    team_b: OrgUnit
    a1: Employee
    a2: Employee
    b1: Employee
    b2: Employee
    manager_a: Employee
    director: Employee
    pool: LeadPool


@pytest.fixture
def org(db) -> Org:
    company = make_unit("co", name="公司", name_en="Company")
    team_a = make_unit("team-a", company, name="甲组", name_en="Team A")
    team_b = make_unit("team-b", company, name="乙组", name_en="Team B")
    rep_role = RoleFactory(code="rep", entries=[Entry.WORKBENCH, Entry.LEADS, Entry.REPORTS],
                           operations=[Operation.CLAIM], data_scope=DataScope.SELF)
    manager_role = RoleFactory(code="mgr", entries=[Entry.MANAGER_HOME, Entry.REPORTS],
                               operations=[Operation.TRANSFER, Operation.ASSIGN, Operation.EXPORT],
                               data_scope=DataScope.UNIT_AND_BELOW)
    director_role = RoleFactory(code="dir", entries=[Entry.MANAGER_HOME, Entry.REPORTS],
                                operations=[Operation.ASSIGN, Operation.EXPORT],
                                data_scope=DataScope.ALL)
    reps = {}
    for name, team in (("a1", team_a), ("a2", team_a), ("b1", team_b), ("b2", team_b)):
        reps[name] = person_with_role(team, rep_role, name=f"销售{name}", name_en=f"Rep {name}",
                                      user__username=f"rep_{name}")
    manager_a = person_with_role(team_a, manager_role, name="甲组经理", name_en="Manager A",
                                 user__username="mgr_a")
    director = person_with_role(company, director_role, name="总监", name_en="Director",
                                user__username="director")
    pool = LeadPool.objects.create(code="master", name="总池", name_en="Master pool",
                                   kind=LeadPool.Kind.MASTER)
    return Org(company, team_a, team_b, reps["a1"], reps["a2"], reps["b1"], reps["b2"],
               manager_a, director, pool)


def lead_created(pool, when, *, owner=None, channel="web_form", **fields) -> Lead:
    """A lead that entered ``pool`` at ``when`` (owned by ``owner`` from then if given)."""
    fields.setdefault("name", f"客户{next(_numbers)}")
    lead = Lead.objects.create(pool=pool, created_at=when, channel=channel,
                               owner=owner, status="assigned" if owner else "in_pool", **fields)
    LeadEvent.objects.create(lead=lead, kind="created", to_pool=pool, created_at=when,
                             reason=channel)
    if owner is not None:
        LeadEvent.objects.create(lead=lead, kind="assigned", to_owner=owner, to_pool=pool,
                                 from_pool=pool, created_at=when)
    return lead


def lead_event(lead, kind, when, *, from_owner=None, to_owner=None, reason=""):
    LeadEvent.objects.create(lead=lead, kind=kind, from_owner=from_owner, to_owner=to_owner,
                             from_pool=lead.pool, to_pool=lead.pool, reason=reason,
                             created_at=when)
    status = {"converted": "converted", "invalidated": "invalid"}.get(
        kind, "assigned" if to_owner is not None else "in_pool")
    Lead.objects.filter(pk=lead.pk).update(owner=to_owner, status=status)


def followup(lead, author, when, *, kind="call", outcome="connected", qualifies=True):
    return FollowUp.objects.create(lead=lead, author=author, kind=kind, outcome=outcome,
                                   content="跟进内容", qualifies=qualifies, created_at=when)


MONEY = Decimal
