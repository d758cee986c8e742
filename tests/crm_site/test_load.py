"""The load test's parts: the set-based scale-up of the demo, and the invariants it checks
after a run (each shown to catch what it is there to catch)."""

from __future__ import annotations

from crm_site.loadtest import invariants
from crm_site.loadtest.scale import SCALED_PREFIX, scale_leads
from leads.models import Lead, LeadEvent
from tests.helpers import user
from tests.leads.conftest import demo_leads, make_lead, pool  # noqa: F401


def test_scaling_up_adds_pool_leads_each_with_its_created_event(demo_leads):  # noqa: F811
    before = Lead.objects.count()
    added = scale_leads(target=before + 500)
    assert added >= 500 and Lead.objects.count() == before + added
    copies = Lead.objects.filter(external_id__startswith=SCALED_PREFIX)
    assert copies.count() == added
    assert not copies.filter(owner__isnull=False).exists()
    assert set(copies.values_list("status", flat=True)) == {"in_pool"}
    assert LeadEvent.objects.filter(lead__in=copies, kind="created").count() == added
    assert scale_leads(target=before) == 0  # already there: nothing added


def test_the_invariants_hold_on_a_consistent_history_and_catch_each_breach(pool):  # noqa: F811
    rep = user("rep_wangfang")
    baseline = invariants.loads()
    held = make_lead(pool, owner=rep)
    assert invariants.check(baseline).ok

    # An owner written without its event: the lead's history names nobody (or someone else).
    orphan = make_lead(pool)
    Lead.objects.filter(pk=orphan.pk).update(owner=rep, status="assigned")
    report = invariants.check(baseline)
    assert report.two_owners == 1 and not report.ok
    Lead.objects.filter(pk=orphan.pk).update(owner=None, status="in_pool")

    # More than the pool's cap, taken during the run.
    pool.owned_cap = 1
    pool.save(update_fields=["owned_cap"])
    make_lead(pool, owner=rep)
    report = invariants.check(baseline)
    assert [(u, p) for u, p, *_ in report.over_pool_cap] == [(rep.pk, pool.pk)]
    # ...but a rep who was already over it before the run is not blamed for it.
    assert not invariants.check(invariants.loads()).over_pool_cap
    assert held.pk


def test_a_stage_move_without_its_stage_change_is_caught(demo_org):
    from opportunities.models import Opportunity, OpportunityStageChange
    from tests.pipeline.conftest import make_opportunity

    owner = user("rep_wangfang")
    opportunity = make_opportunity(owner=owner, stage="prospecting")
    OpportunityStageChange.objects.create(opportunity=opportunity, from_stage="",
                                          to_stage="prospecting", changed_by=owner)
    assert invariants.check(invariants.loads()).moves_without_event == 0
    Opportunity.objects.filter(pk=opportunity.pk).update(stage="proposal")
    assert invariants.check(invariants.loads()).moves_without_event == 1


def test_scaling_up_twice_adds_more_without_clashing(demo_leads):  # noqa: F811
    first = scale_leads(target=Lead.objects.count() + 100)
    second = scale_leads(target=Lead.objects.count() + 100)
    assert first and second
    assert Lead.objects.filter(external_id__startswith=SCALED_PREFIX).count() == first + second
