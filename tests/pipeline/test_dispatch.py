"""Opportunity dispatch through the rule engine of the lead pools (not a copy of it):
the opportunity pool assigns waiting opportunities by its strategy, and an opportunity
with no stage progress for K days is warned about, then recycled to the pool."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from leads.models import LeadPool, PoolMember, RecycleRule
from leads.pools.assign import assign_pool
from leads.pools.due import refresh_due
from leads.pools.extensions import extension_decide
from leads.pools.previews import preview_recycle
from leads.pools.runs import recycle_run
from notifications.models import Notification
from opportunities.models import Opportunity, OpportunityEvent
from opportunities.pipeline import services as services_pipeline
from opportunities.subjects import OPPORTUNITIES
from tests.helpers import user

from .conftest import make_opportunity


def test_round_robin_assignment_of_the_opportunity_pool(opp_pool):
    reps = [user("rep_wangfang"), user("rep_lilei")]
    for rep in reps:
        PoolMember.objects.create(pool=opp_pool, user=rep)
    LeadPool.objects.filter(pk=opp_pool.pk).update(strategy=LeadPool.Strategy.ROUND_ROBIN)
    opp_pool.refresh_from_db()
    waiting = [make_opportunity(pool=opp_pool) for _ in range(4)]
    report = assign_pool(opp_pool)
    assert sum(report.assigned.values()) == 4
    owners = [Opportunity.objects.get(pk=o.pk).owner_id for o in waiting]
    assert sorted(owners) == sorted([reps[0].pk, reps[1].pk] * 2)
    assert all(Opportunity.objects.get(pk=o.pk).status == Opportunity.Status.OPEN
               for o in waiting)
    assert OpportunityEvent.objects.filter(kind="assigned", to_pool=opp_pool).count() == 4
    assert Notification.objects.filter(kind="opportunity_assigned",
                                       recipient__in=reps).count() == 2


def test_no_progress_rule_warns_first_then_recycles_and_progress_resets_it(opp_pool):
    rep = user("rep_wangfang")
    rule = RecycleRule.objects.create(pool=opp_pool, name="14 天无阶段推进",
                                      kind=RecycleRule.Kind.NO_PROGRESS, threshold=14,
                                      warn_offsets=[72, 24])
    now = timezone.now()
    stale = make_opportunity(owner=rep, pool=opp_pool, stage="qualification")
    moving = make_opportunity(owner=rep, pool=opp_pool, stage="qualification")
    Opportunity.objects.filter(pk__in=[stale.pk, moving.pk]).update(
        assigned_at=now - timedelta(days=12), last_qualified_at=now - timedelta(days=12))
    refresh_due(OPPORTUNITIES, ids=[stale.pk, moving.pk], now=now)
    stale.refresh_from_db()
    assert stale.recycle_rule_id == rule.pk
    assert abs(stale.recycle_due_at - (now + timedelta(days=2))) < timedelta(seconds=5)
    # The rep moves one of them forward: its clock starts again.
    services_pipeline.opportunity_move(opportunity_id=moving.pk, user=rep,
                                       to_stage="proposal", version=1)
    moving.refresh_from_db()
    assert moving.recycle_due_at > timezone.now() + timedelta(days=13)

    # Warnings first: three days before, nothing moves, the owner is told.
    report = recycle_run(now=now + timedelta(minutes=1))
    assert report.warned >= 1 and not report.recycled
    warning = Notification.objects.get(kind="opportunity_recycle_warning", recipient=rep)
    assert warning.params["name"] == stale.name
    # The opportunity's page shows the clock.
    # Past the deadline it goes back to the opportunity pool, with an event.
    report = recycle_run(now=now + timedelta(days=2, minutes=5))
    assert report.recycled[rule.pk] == 1
    stale.refresh_from_db()
    assert (stale.owner_id, stale.status, stale.pool_id, stale.recycle_count) == (
        None, Opportunity.Status.IN_POOL, opp_pool.pk, 1)
    event = OpportunityEvent.objects.get(opportunity=stale, kind="recycled")
    assert (event.from_owner, event.rule_id, event.reason) == (rep, rule.pk, "no_progress")
    moving.refresh_from_db()
    assert moving.owner == rep
    # The previous owner cannot claim it straight back (cool-down).
    try:
        services_pipeline.opportunity_claim(opportunity_id=stale.pk, user=rep)
    except services_pipeline.OpportunityActionRefused as refused:
        assert refused.code == "cooldown"
    else:
        raise AssertionError("the previous owner claimed it back during the cool-down")


def test_recycle_preview_counts_opportunities(opp_pool):
    rep = user("rep_lilei")
    rule = RecycleRule(pool=opp_pool, name="预览", kind=RecycleRule.Kind.NO_PROGRESS,
                       threshold=3)
    old = make_opportunity(owner=rep, pool=opp_pool)
    Opportunity.objects.filter(pk=old.pk).update(assigned_at=timezone.now() - timedelta(days=5))
    make_opportunity(owner=rep, pool=opp_pool)
    preview = preview_recycle(opp_pool, [rule])
    assert [row["id"] for row in preview.due_now] == [old.pk]
    assert preview.per_rep[rep.pk]["held"] == 2


def test_the_owner_asks_once_for_more_time_and_a_manager_approves(opp_pool, client_for):
    from leads.models import ExtensionRequest

    rep = user("rep_wangfang")
    RecycleRule.objects.create(pool=opp_pool, name="7 天无推进", kind=RecycleRule.Kind.NO_PROGRESS,
                               threshold=7)
    opportunity = make_opportunity(owner=rep, pool=opp_pool)
    refresh_due(OPPORTUNITIES, ids=[opportunity.pk])
    opportunity.refresh_from_db()
    due = opportunity.recycle_due_at
    assert client_for("rep_lilei").post(f"/opportunities/{opportunity.pk}/extension/",
                                        {"reason": "客户下周开会决策"}).status_code == 404
    owner = client_for("rep_wangfang")
    owner.post(f"/opportunities/{opportunity.pk}/extension/", {"reason": "客户下周开会决策"})
    request = ExtensionRequest.objects.get(opportunity=opportunity)
    assert 'data-testid="extension-status"' in owner.get(
        f"/opportunities/{opportunity.pk}/").content.decode()
    assert f"/opportunities/{opportunity.pk}/" in client_for("mgr_shanghai").get(
        "/leads/extensions/").content.decode()
    extension_decide(request_id=request.pk, user=user("mgr_shanghai"), approve=True)
    opportunity.refresh_from_db()
    assert opportunity.recycle_due_at - due == timedelta(days=opp_pool.extension_days)
