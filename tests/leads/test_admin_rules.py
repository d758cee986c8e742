"""Pool rules edited in Django admin: the rules page's validation, audit and follow-up.

Admin edits an existing rule with the same form and service as the pool's rules page, so
a rule saved there re-times the pool's leads (recycle) or has its waiting leads routed
again (routing), records who changed it, and refuses what the rules page refuses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from leads.models import Lead, LeadPool, RecycleRule, RoutingRule
from leads.pools.due import refresh_due
from leads.subjects import LEADS

from .conftest import make_lead

pytestmark = pytest.mark.django_db

RECYCLE = {"name": "一周无跟进", "kind": "no_followup", "threshold": 7, "unit": "days",
           "warn_offsets": "48, 12", "target": "origin", "order": 100, "is_active": "on"}


def owned(pool, owner, days_ago):
    lead = make_lead(pool, owner=owner)
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - timedelta(days=days_ago))
    refresh_due(LEADS, ids=[lead.pk])
    lead.refresh_from_db()
    return lead


@pytest.fixture
def recycle_rule(pool):
    return RecycleRule.objects.create(pool=pool, name="三十天无跟进", kind="no_followup",
                                      threshold=30, unit="days", target="origin")


def test_saving_a_recycle_rule_in_admin_retimes_the_pools_leads(
        pool, wangfang, recycle_rule, client_for, django_capture_on_commit_callbacks):
    stale = owned(pool, wangfang, days_ago=9)
    assert stale.recycle_rule_id is None or stale.recycle_due_at > timezone.now()
    admin = client_for("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/leads/recyclerule/{recycle_rule.pk}/change/", RECYCLE)
    assert response.status_code == 302, response.content.decode()[:2000]
    recycle_rule.refresh_from_db()
    assert recycle_rule.threshold == 7 and recycle_rule.warn_offsets == [48, 12]
    assert recycle_rule.updated_by.username == "admin" and recycle_rule.pool == pool
    stale.refresh_from_db()
    assert stale.recycle_rule_id == recycle_rule.pk and stale.recycle_due_at < timezone.now()
    assert LogEntry.objects.get_for_object(recycle_rule).exists()


def test_admin_refuses_a_recycle_rule_the_rules_page_refuses(pool, recycle_rule, client_for):
    admin = client_for("admin")
    # A warning 24 hours before a 4-hour deadline would come before the clock starts.
    bad = {**RECYCLE, "threshold": 4, "unit": "hours", "warn_offsets": "24"}
    response = admin.post(f"/admin/leads/recyclerule/{recycle_rule.pk}/change/", bad)
    assert response.status_code == 200
    assert "less than 4 hours" in response.content.decode() or "4 小时" in (
        response.content.decode())
    recycle_rule.refresh_from_db()
    assert recycle_rule.threshold == 30 and recycle_rule.updated_by is None


def test_saving_a_routing_rule_in_admin_routes_waiting_leads_again(
        pool, client_for, django_capture_on_commit_callbacks):
    master = LeadPool.objects.get(kind="master")
    rule = RoutingRule.objects.create(source_pool=master, name="华北", order=10,
                                      regions=["north"], target_pool=pool, is_active=True)
    for _ in range(2):
        make_lead(master, region="east")
    LeadPool.objects.filter(pk=master.pk).update(routed_until=timezone.now())
    admin = client_for("admin")
    form = {"name": "华东", "order": 10, "regions": ["east"], "target_pool": pool.pk,
            "is_active": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/leads/routingrule/{rule.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.regions == ["east"] and rule.updated_by.username == "admin"
    assert Lead.objects.filter(pool=pool).count() == 2


def test_admin_offers_only_the_target_pools_the_rules_page_offers(pool, client_for):
    master = LeadPool.objects.get(kind="master")
    opportunities = LeadPool.objects.filter(kind=LeadPool.Kind.OPPORTUNITY).first() or (
        LeadPool.objects.create(code="t_opp", name="商机池", name_en="Opportunity pool",
                                kind=LeadPool.Kind.OPPORTUNITY))
    rule = RoutingRule.objects.create(source_pool=master, name="华东", order=10,
                                      regions=["east"], target_pool=pool, is_active=True)
    response = client_for("admin").post(
        f"/admin/leads/routingrule/{rule.pk}/change/",
        {"name": "华东", "order": 10, "regions": ["east"], "target_pool": opportunities.pk,
         "is_active": "on"})
    assert response.status_code == 200
    assert "errors field-target_pool" in response.content.decode()
    rule.refresh_from_db()
    assert rule.target_pool == pool


def test_rules_are_added_on_the_rules_page_not_in_admin(pool, client_for):
    admin = client_for("admin")
    assert admin.get("/admin/leads/recyclerule/add/").status_code == 403
    assert admin.post("/admin/leads/routingrule/add/", {"name": "x"}).status_code == 403
    assert not RoutingRule.objects.exists()


def test_deleting_recycle_rules_in_admin_takes_their_clock_off_the_leads(
        pool, wangfang, client_for, django_capture_on_commit_callbacks):
    rule = RecycleRule.objects.create(pool=pool, name="七天无跟进", kind="no_followup",
                                      threshold=7, unit="days", target="origin")
    stale = owned(pool, wangfang, days_ago=9)
    assert stale.recycle_rule_id == rule.pk and stale.recycle_due_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("admin").post("/admin/leads/recyclerule/", {
            "action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"})
    assert response.status_code == 302
    assert not RecycleRule.objects.exists()
    stale.refresh_from_db()
    assert stale.recycle_rule_id is None and stale.recycle_due_at is None
