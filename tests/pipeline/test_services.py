"""Pipeline writes on the real PostgreSQL: conversion (atomic), stage moves (versioned),
won / lost, claims from the opportunity pool, and the win-rate weight source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from leads.models import Lead, LeadEvent, LeadPool
from opportunities.models import (
    Contact,
    ContactMethod,
    Customer,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from opportunities.pipeline import conversion as services_conversion
from opportunities.pipeline import services as services_pipeline
from orgs.models import DictionaryItem, OrgUnit
from tests.helpers import user
from tests.leads.conftest import make_lead

from .conftest import make_opportunity

Refused = services_pipeline.OpportunityActionRefused


@pytest.fixture
def lead_pool(demo_org) -> LeadPool:
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    return LeadPool.objects.create(code="t_east", name="测试华东池", parent=master,
                                   org_unit=OrgUnit.objects.get(code="east"))


def _convert(lead, who, **overrides):
    data = {"customer_name": "上海锦程智能制造有限公司", "contact_name": "王建国",
            "mobile": "13912345678", "email": "wang@example.com",
            "opportunity_name": "MES 系统实施", "type": "solution", "amount": "380000",
            "stage": "qualification"}
    data.update(overrides)
    return services_conversion.lead_convert(lead_id=lead.pk, user=who, **data)


# --- conversion ------------------------------------------------------------------------------


def test_conversion_creates_customer_contact_opportunity_and_keeps_the_link(
        lead_pool, wangfang, opp_pool):
    lead = make_lead(lead_pool, owner=wangfang, company="锦程智能")
    done = _convert(lead, wangfang)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.converted_at is not None
    assert (lead.customer, lead.contact, lead.opportunity) == (
        done.customer, done.contact, done.opportunity)
    assert done.customer.owner == wangfang and done.customer_created
    assert sorted(ContactMethod.objects.filter(contact=done.contact)
                  .values_list("kind", "is_primary")) == [("email", False), ("mobile", True)]
    assert list(done.customer.contacts.all()) == [done.contact]
    opportunity = done.opportunity
    assert (opportunity.owner, opportunity.stage, opportunity.status, opportunity.pool) == (
        wangfang, "qualification", Opportunity.Status.OPEN, opp_pool)
    assert list(opportunity.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", "qualification")]
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.CONVERTED)
    assert event.detail["opportunity"] == opportunity.pk and event.actor == wangfang
    assert OpportunityEvent.objects.filter(opportunity=opportunity,
                                           reason="lead_conversion").exists()
    assert LogEntry.objects.get_for_object(lead).filter(
        changes__icontains="converted").exists()
    with pytest.raises(Refused, match="already converted"):
        _convert(lead, wangfang)


def test_conversion_links_an_existing_customer_in_scope_only(lead_pool, wangfang, zhangwei):
    mine = Customer.objects.create(name="杭州云栖数据科技有限公司",
                                   name_key="杭州云栖数据科技有限公司", owner=wangfang)
    theirs = Customer.objects.create(name="杭州云栖数据科技二公司",
                                     name_key="杭州云栖数据科技二公司", owner=zhangwei)
    assert [c.pk for c in services_conversion.customer_search(user=wangfang,
                                                              query="云栖")] == [mine.pk]
    lead = make_lead(lead_pool, owner=wangfang)
    with pytest.raises(Refused, match="not in your scope"):
        _convert(lead, wangfang, customer_id=theirs.pk)
    assert Contact.objects.count() == 0
    done = _convert(lead, wangfang, customer_id=mine.pk)
    assert done.customer == mine and not done.customer_created
    assert Customer.objects.count() == 2


def test_conversion_is_atomic_a_failure_leaves_nothing_half_created(
        lead_pool, wangfang, monkeypatch):
    lead = make_lead(lead_pool, owner=wangfang)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away while writing the event")

    # Customer, contact and opportunity are written before the stage history: break it.
    monkeypatch.setattr(OpportunityStageChange.objects, "create", broken)
    with pytest.raises(RuntimeError):
        _convert(lead, wangfang)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ASSIGNED and lead.opportunity_id is None
    assert (Customer.objects.count(), Contact.objects.count(), ContactMethod.objects.count(),
            Opportunity.objects.count()) == (0, 0, 0, 0)
    assert not LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CONVERTED).exists()


def test_only_the_owner_converts_and_input_is_checked(lead_pool, wangfang, lilei):
    lead = make_lead(lead_pool, owner=wangfang)
    with pytest.raises(Refused, match="Only the owner"):
        _convert(lead, lilei)
    with pytest.raises(Refused, match="mobile number or an e-mail"):
        _convert(lead, wangfang, mobile="", email="")
    with pytest.raises(Refused, match="open stage"):
        _convert(lead, wangfang, stage="won")
    assert Opportunity.objects.count() == 0


# --- stage moves -------------------------------------------------------------------------------


def test_move_writes_history_counts_progress_and_refuses_a_stale_version(wangfang, lilei):
    opportunity = make_opportunity(owner=wangfang, stage="prospecting")
    opportunity.stage_changed_at = timezone.now() - timedelta(days=3)
    opportunity.save()
    moved = services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                               to_stage="proposal", version=1)
    assert (moved.stage, moved.version) == ("proposal", 2)
    assert moved.last_qualified_at is not None
    change = moved.stage_changes.order_by("-pk").first()
    assert (change.from_stage, change.to_stage, change.changed_by) == (
        "prospecting", "proposal", wangfang)
    assert change.time_in_stage >= timedelta(days=3)
    with pytest.raises(Refused) as stale:
        services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                           to_stage="negotiation", version=1)
    assert stale.value.code == "stale" and "Wang Fang" in stale.value.message
    with pytest.raises(Refused) as other:
        services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=lilei,
                                           to_stage="negotiation", version=2)
    assert other.value.code == "forbidden"
    # A step back is a move, not progress: the recycle anchor stays where it was.
    before = Opportunity.objects.get(pk=opportunity.pk).last_qualified_at
    back = services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                              to_stage="qualification", version=2)
    assert back.last_qualified_at == before


def test_won_and_lost_close_the_opportunity_lost_needs_a_reason(wangfang):
    opportunity = make_opportunity(owner=wangfang, stage="negotiation")
    with pytest.raises(Refused, match="why the opportunity was lost"):
        services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                           to_stage="lost", version=1)
    lost = services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                              to_stage="lost", version=1, lost_reason="price")
    assert (lost.status, lost.lost_reason) == (Opportunity.Status.LOST, "price")
    assert lost.closed_at is not None and lost.recycle_due_at is None
    reopened = services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                                  to_stage="negotiation", version=2)
    assert (reopened.status, reopened.lost_reason, reopened.closed_at) == (
        Opportunity.Status.OPEN, "", None)
    won = services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=wangfang,
                                             to_stage="won", version=3)
    assert won.status == Opportunity.Status.WON
    assert list(won.stage_changes.order_by("changed_at", "pk").values_list(
        "to_stage", flat=True)) == ["negotiation", "lost", "negotiation", "won"]


def test_a_manager_moves_cards_of_reps_in_scope_only(demo_org):
    shanghai_rep = make_opportunity(owner=user("rep_wangfang"))
    hangzhou_rep = make_opportunity(owner=user("rep_zhangwei"))
    manager = user("mgr_shanghai")
    services_pipeline.opportunity_move(opportunity_id=shanghai_rep.pk, user=manager,
                                       to_stage="proposal", version=1)
    with pytest.raises(Refused):
        services_pipeline.opportunity_move(opportunity_id=hangzhou_rep.pk, user=manager,
                                           to_stage="proposal", version=1)


# --- the opportunity pool -----------------------------------------------------------------------


def test_claim_and_assign_from_the_opportunity_pool(opp_pool, wangfang, lilei):
    first = make_opportunity(pool=opp_pool)
    second = make_opportunity(pool=opp_pool)
    claimed = services_pipeline.opportunity_claim(opportunity_id=first.pk, user=wangfang)
    assert (claimed.owner, claimed.status) == (wangfang, Opportunity.Status.OPEN)
    with pytest.raises(Refused) as taken:
        services_pipeline.opportunity_claim(opportunity_id=first.pk, user=lilei)
    assert taken.value.code == "taken" and "Wang Fang" in taken.value.message
    with pytest.raises(Refused) as forbidden:
        services_pipeline.opportunity_assign(opportunity_ids=[second.pk],
                                             to_user_id=lilei.pk, actor=wangfang)
    assert forbidden.value.code == "forbidden"
    assert services_pipeline.opportunity_assign(
        opportunity_ids=[second.pk], to_user_id=lilei.pk, actor=user("mgr_shanghai")) == 1
    assert OpportunityEvent.objects.filter(opportunity=second, kind="assigned",
                                           to_owner=lilei).exists()


def test_opportunity_claims_keep_the_daily_limit_of_the_pool(opp_pool, wangfang, lilei):
    LeadPool.objects.filter(pk=opp_pool.pk).update(daily_claim_limit=1)
    first, second = make_opportunity(pool=opp_pool), make_opportunity(pool=opp_pool)
    services_pipeline.opportunity_claim(opportunity_id=first.pk, user=wangfang)
    with pytest.raises(Refused) as refused:
        services_pipeline.opportunity_claim(opportunity_id=second.pk, user=wangfang)
    assert refused.value.code == "daily_limit" and "limit of 1" in refused.value.message
    second.refresh_from_db()
    assert second.owner_id is None and second.status == Opportunity.Status.IN_POOL
    # The limit is per rep: a colleague still claims it.
    services_pipeline.opportunity_claim(opportunity_id=second.pk, user=lilei)


def test_opportunity_claims_keep_the_overall_cap_like_leads(opp_pool, wangfang, monkeypatch):
    monkeypatch.setattr("leads.pools.claims.OVERALL_CAP", 2)
    for _ in range(2):
        make_opportunity(owner=wangfang)
    waiting = make_opportunity(pool=opp_pool)
    with pytest.raises(Refused) as refused:
        services_pipeline.opportunity_claim(opportunity_id=waiting.pk, user=wangfang)
    assert refused.value.code == "overall_cap" and "the most one rep may hold is 2" in (
        refused.value.message)
    waiting.refresh_from_db()
    assert waiting.owner_id is None


def test_grade_caps_hold_on_claim_and_assignment(opp_pool, wangfang, lilei):
    item = DictionaryItem.objects.of("customer_grade").get(code="A")
    item.extra = {"cap_per_rep": 1}
    item.save()
    held = make_opportunity(owner=wangfang)
    waiting = [make_opportunity(pool=opp_pool) for _ in range(2)]
    for opportunity in (held, *waiting):
        Customer.objects.filter(pk=opportunity.customer_id).update(grade="A")

    with pytest.raises(Refused) as refused:
        services_pipeline.opportunity_claim(opportunity_id=waiting[0].pk, user=wangfang)
    assert refused.value.code == "grade_cap" and "grade-A" in refused.value.message
    with pytest.raises(Refused) as too_many:
        services_pipeline.opportunity_assign(
            opportunity_ids=[w.pk for w in waiting], to_user_id=lilei.pk,
            actor=user("mgr_shanghai"))
    assert too_many.value.code == "grade_cap"
    assert not Opportunity.objects.filter(pk__in=[w.pk for w in waiting],
                                          owner__isnull=False).exists()
    # Within the cap it goes through.
    services_pipeline.opportunity_claim(opportunity_id=waiting[0].pk, user=lilei)


def test_win_rate_weight_source(wangfang, lilei):
    from leads.weights import choices, scores

    assert "win_rate" in dict(choices())
    now = timezone.now()
    for status in ("won", "won", "lost"):
        make_opportunity(owner=wangfang, stage=status, status=status, closed_at=now)
    make_opportunity(owner=lilei, stage="lost", status="lost", closed_at=now)
    make_opportunity(owner=lilei, stage="won", status="won",
                     closed_at=now - timedelta(days=40))  # outside the window
    found = scores("win_rate", [wangfang.pk, lilei.pk], since=now - timedelta(days=30))
    assert found == {wangfang.pk: pytest.approx(2 / 3), lilei.pk: 0.0}
