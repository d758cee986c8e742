"""The nightly queue: shares per rep, every hit, lost deals, before a recycle; idempotent,
reproducible, never the rep or the rep's supervisors as inspector."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from leads.models import LeadEvent
from opportunities.models import Opportunity
from qa.models import InspectionPlan, QueueItem
from qa.sampling import queue_fill, round_robin
from qa.scanning import rescan_all
from tests.followups.conftest import make_opportunity
from tests.qa.conftest import at, make_lead, user, write_followup, yesterday

pytestmark = pytest.mark.django_db


def _many(pool, rep, count, **kwargs):
    lead = make_lead(pool, owner=rep)
    return [write_followup(lead, rep, **kwargs) for _ in range(count)]


def test_share_per_rep_with_a_minimum_every_hit_and_nothing_twice(qa_setup, pool, wangfang,
                                                                  lilei, hemei):
    _many(pool, wangfang, 20)
    _many(pool, lilei, 2)
    hit = _many(pool, lilei, 1, content="跟客户说保本保收益")[0]
    rescan_all()
    report = queue_fill(day=yesterday())
    items = QueueItem.objects.all()
    by_rep = {rep: items.filter(rep=rep, reason="sample").count() for rep in (wangfang, lilei)}
    assert by_rep[wangfang] == 4  # 20 % of 20
    assert by_rep[lilei] == 1  # 20 % of 3 rounds up to 1
    assert items.get(followup=hit).reason == "hit"
    assert items.get(followup=hit).hit_categories == ["return_promise"]
    assert set(items.values_list("assignee", flat=True)) == {hemei.pk}
    again = queue_fill(day=yesterday())
    assert report.total == items.count() and again.total == 0


def test_the_sample_is_random_but_the_same_for_the_same_day(qa_setup, pool, wangfang):
    _many(pool, wangfang, 30)
    queue_fill(day=yesterday())
    first = set(QueueItem.objects.values_list("followup_id", flat=True))
    QueueItem.objects.all().delete()
    queue_fill(day=yesterday())
    assert set(QueueItem.objects.values_list("followup_id", flat=True)) == first
    other_plan_seed = InspectionPlan.objects.create(name="另一", scorecard=qa_setup.scorecard,
                                                    share_percent=20)
    QueueItem.objects.all().delete()
    qa_setup.is_active = False
    qa_setup.save()
    queue_fill(day=yesterday())
    assert QueueItem.objects.filter(plan=other_plan_seed).count() == 6
    assert set(QueueItem.objects.values_list("followup_id", flat=True)) != first


def test_lost_deals_and_the_last_followups_before_a_recycle_are_queued(qa_setup, pool,
                                                                       wangfang):
    day = yesterday()
    deal = make_opportunity(wangfang, status=Opportunity.Status.LOST, closed_at=at(day, 15))
    from leads.models import FollowUp
    on_deal = FollowUp.objects.create(opportunity=deal, customer=deal.customer,
                                      author=wangfang, kind="call", outcome="connected",
                                      content="客户选了别家", created_at=at(day, 9))
    lead = make_lead(pool, owner=wangfang)
    early, late1, late2 = (write_followup(lead, wangfang, when=at(day, hour))
                           for hour in (8, 9, 10))
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.RECYCLED, from_owner=wangfang,
                             from_pool=pool, to_pool=pool, created_at=at(day, 18))
    queue_fill(day=day)
    reasons = dict(QueueItem.objects.values_list("followup_id", "reason"))
    assert reasons[on_deal.pk] == "lost"
    assert reasons[late1.pk] == reasons[late2.pk] == "recycle"
    assert reasons.get(early.pk) in (None, "sample")


def test_plan_scope_by_unit_and_followup_type(qa_setup, pool, wangfang, zhangwei):
    from orgs.models import OrgUnit
    qa_setup.org_units.set([OrgUnit.objects.get(code="east_shanghai")])
    qa_setup.followup_types = ["visit"]
    qa_setup.save()
    _many(pool, wangfang, 3, kind="visit")
    _many(pool, wangfang, 3, kind="call")
    _many(pool, zhangwei, 3, kind="visit")  # Hangzhou: outside the plan's units
    queue_fill(day=yesterday())
    assert set(QueueItem.objects.values_list("rep", "followup__kind")) == {
        (wangfang.pk, "visit")}


def test_round_robin_skips_the_rep_and_the_supervisor_chain():
    items = [(1, 10), (2, 10), (3, 20), (4, 20), (5, 30)]
    chains = {10: {100}, 20: {100, 200}}
    assigned = round_robin(items, [100, 200, 10, 300], chains)
    for followup, rep in items:
        assert assigned[followup] not in chains.get(rep, set()) | {rep}
    assert round_robin([(1, 10)], [10, 100], {10: {100}}) == {1: None}


def test_inspectors_are_never_the_reps_supervisors(qa_setup, pool, wangfang):
    manager = user("mgr_shanghai")
    qa_setup.inspectors.set([manager, user("qa_hemei")])
    _many(pool, wangfang, 10)
    queue_fill(day=yesterday())
    assert set(QueueItem.objects.values_list("assignee", flat=True)) == {user("qa_hemei").pk}


@pytest.mark.django_db(transaction=True)
def test_two_fills_at_once_queue_each_followup_once(qa_setup, pool, wangfang, lilei):
    _many(pool, wangfang, 10, content="保证收益没问题")
    _many(pool, lilei, 10)
    rescan_all()

    def fill(_):
        try:
            return queue_fill(day=yesterday()).total
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool_:
        totals = list(pool_.map(fill, range(2)))
    assert sorted(totals)[0] == 0
    assert QueueItem.objects.count() == sum(totals) == 12


def test_a_weekly_plan_tops_up_the_same_weeks_share_day_by_day(qa_setup, pool, wangfang):
    from datetime import timedelta

    qa_setup.period = InspectionPlan.Period.WEEK
    qa_setup.share_percent, qa_setup.min_per_rep = 10, 2
    qa_setup.save()
    monday = yesterday() - timedelta(days=yesterday().weekday() + 7)  # last week's
    wednesday = monday + timedelta(days=2)
    lead = make_lead(pool, owner=wangfang)
    for _ in range(10):
        write_followup(lead, wangfang, when=at(monday))
    queue_fill(day=monday)
    assert QueueItem.objects.count() == 2  # the weekly minimum, though 10 % is 1
    for _ in range(30):
        write_followup(lead, wangfang, when=at(wednesday))
    queue_fill(day=wednesday)
    assert QueueItem.objects.count() == 4  # 10 % of the week's 40
    assert QueueItem.objects.filter(day=wednesday).count() == 2
