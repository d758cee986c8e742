"""Pool health: waiting leads by age, flows of the period, recycles per rule, members'
receipts against their share — per pool the viewer reaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from leads.models import Lead, LeadEvent, LeadPool, PoolMember, RecycleRule
from orgs.selectors import data_scope_for
from reports.pool_health import pool_health

from .conftest import lead_created

pytestmark = pytest.mark.django_db


@pytest.fixture
def pools(org):
    east = LeadPool.objects.create(code="east", name="华东池", name_en="East pool",
                                   kind=LeadPool.Kind.SUB, parent=org.pool, org_unit=org.team_a)
    south = LeadPool.objects.create(code="south", name="华南池", name_en="South pool",
                                    kind=LeadPool.Kind.SUB, parent=org.pool, org_unit=org.team_b)
    now = timezone.now()
    for hours in (2, 3 * 24, 40 * 24):
        lead = lead_created(east, now - timedelta(hours=hours))
        Lead.objects.filter(pk=lead.pk).update(pooled_at=now - timedelta(hours=hours))
    lead_created(south, now)
    PoolMember.objects.create(pool=east, user=org.a1.user, weight=1)
    PoolMember.objects.create(pool=east, user=org.a2.user, weight=3)
    rule = RecycleRule.objects.create(pool=east, name="三天未跟进", name_en="3 days idle",
                                      kind="no_followup", threshold=3)
    claimed = [lead_created(east, now - timedelta(days=1)) for _ in range(4)]
    for lead in claimed:
        LeadEvent.objects.create(lead=lead, kind="claimed", actor=org.a1.user,
                                 to_owner=org.a1.user, from_pool=east, to_pool=east)
    LeadEvent.objects.create(lead=claimed[0], kind="released", from_owner=org.a1.user,
                             from_pool=east, to_pool=east)
    LeadEvent.objects.create(lead=claimed[1], kind="recycled", from_owner=org.a1.user,
                             from_pool=east, to_pool=east, rule_id=rule.pk)
    return east, south


def test_figures_per_pool_and_member(org, pools):
    today = timezone.localdate()
    health = {h.pool.code: h for h in pool_health(
        user=org.director.user, scope=data_scope_for(org.director.user),
        start=today - timedelta(days=7), end=today)}
    east = health["east"]
    # Waiting 2 h, 3 days and 40 days, and the four whose claims are only in the event
    # log (their rows entered the pool just now: under a day).
    assert east.ages == {"day": 5, "week": 1, "month": 0, "older": 1}
    assert east.flows == {"claimed": 4, "released": 1, "recycled": 1}
    assert east.rules == [("三天未跟进", 1)]
    members = {m["name"]: m for m in east.members}
    assert members["销售a1"]["claimed"] == 4 and members["销售a1"]["released"] == 1
    assert (members["销售a1"]["share"], members["销售a1"]["expected"]) == (0.25, 1.0)
    assert members["销售a2"]["expected"] == 3.0
    assert set(health) >= {"east", "south"}


def test_each_role_sees_the_pools_it_reaches(org, pools):
    manager = Client()
    manager.force_login(org.manager_a.user)
    html = manager.get("/reports/pools/?period=week").content.decode()
    assert "华东池" in html and "华南池" not in html and 'id="ages-chart"' in html
    director = Client()
    director.force_login(org.director.user)
    html = director.get("/reports/pools/?period=week").content.decode()
    assert "华东池" in html and "华南池" in html
    csv = b"".join(director.get("/reports/pools/?period=week&format=csv")
                   .streaming_content).decode("utf-8-sig").splitlines()
    assert csv[0].startswith("pool,waiting,")
    assert len(csv) == 4  # the header, the master pool, east and south
