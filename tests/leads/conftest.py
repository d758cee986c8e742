"""Fixtures of the leads suite: the demo organisation, its pools and hand-made leads."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from leads.models import Lead, LeadEvent, LeadPool
from orgs.models import OrgUnit

# Mobiles of hand-made leads: a block the seeded demo leads do not use in practice.
_mobiles = itertools.count(1)


def next_mobile() -> str:
    return f"1990{next(_mobiles):07d}"


def team(code: str) -> str:
    """An org unit's name as the user sees it."""
    return OrgUnit.objects.get(code=code).display_name


def make_lead(pool: LeadPool, *, owner=None, status: str | None = None, created_at=None,
              **fields) -> Lead:
    """A lead with its history, written straight to the tables (not through the services).

    A pool lead has a CREATED event; an owned one also a CLAIMED event by its owner.
    """
    fields.setdefault("name", "测试客户")
    fields.setdefault("mobile", next_mobile())
    now = created_at or timezone.now()
    lead = Lead(pool=pool, owner=owner, created_at=now, **fields)
    if owner is not None:
        lead.status = status or Lead.Status.ASSIGNED
        lead.assigned_at = now
    elif status:
        lead.status = status
    lead.refresh_keys()
    lead.save()
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CREATED, to_pool=pool,
                             created_at=now)
    if owner is not None:
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CLAIMED, actor=owner,
                                 to_owner=owner, from_pool=pool, to_pool=pool, created_at=now)
    return lead


@pytest.fixture
def demo_leads(demo_org):
    """The demo org plus the regional pools (east_pool, south_pool) and demo leads."""
    from leads.demo import seed_demo

    seed_demo(engine=False)
    return {pool.code: pool for pool in LeadPool.objects.all()}


@pytest.fixture
def pool(demo_org) -> LeadPool:
    """A fresh sub-pool of the East China region: every east rep and manager reaches it.

    No cap, no limits, a 7-day cool-down; tests set what they need.
    """
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    return LeadPool.objects.create(code="t_east", name="测试华东池", name_en="Test east pool",
                                   parent=master, org_unit=OrgUnit.objects.get(code="east"),
                                   cooldown_days=7)


