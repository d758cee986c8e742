"""Scoring, verdicts and their consequences in the engine, appeals and their undoing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import FollowUp, Lead, LeadEvent
from notifications.models import Notification
from qa.inspections import QARefused, appeal_decide, appeal_file, inspection_submit
from qa.models import Appeal, Inspection, QAEvent, QueueItem, ScorecardItem, ViolationType
from qa.sampling import queue_fill
from tests.leads.conftest import make_lead, user
from tests.qa.conftest import write_followup, yesterday

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_lead(db):
    from django.contrib.auth import get_user_model
    return get_user_model().objects.create_superuser("qa_lead", "l@example.com", "x-pass-123")


def _items():
    return list(ScorecardItem.objects.order_by("section__order", "order"))


def _scores(**overrides):
    return {item.pk: overrides.get(item.code, item.max_score) for item in _items()}


def _queued(qa_setup, pool, rep):
    """A lead owned by ``rep`` with one qualifying follow-up yesterday, queued."""
    lead = make_lead(pool, owner=rep)
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - timedelta(days=3))
    followup = write_followup(lead, rep)
    Lead.objects.filter(pk=lead.pk).update(last_qualified_at=followup.created_at)
    queue_fill(day=yesterday())
    return lead, followup, QueueItem.objects.get(followup=followup)


@pytest.fixture
def rule(pool):
    from leads.models import RecycleRule
    return RecycleRule.objects.create(pool=pool, name="7天未跟进", kind="no_followup", threshold=7)


def test_full_marks_pass_and_the_rep_is_told(qa_setup, pool, wangfang, hemei):
    _lead, _followup, item = _queued(qa_setup, pool, wangfang)
    inspection = inspection_submit(item_id=item.pk, inspector=hemei, scores=_scores(),
                                   verdict="pass", comment="很好")
    assert inspection.percent == 100 and inspection.verdict == "pass"
    item.refresh_from_db()
    assert item.status == "done"
    assert Notification.objects.filter(recipient=wangfang, kind="qa_result").exists()
    assert QAEvent.objects.filter(kind="inspected", inspection=inspection, actor=hemei).exists()
    with pytest.raises(QARefused):  # a second submit (another tab) is refused
        inspection_submit(item_id=item.pk, inspector=hemei, scores=_scores(), verdict="pass")
    assert Inspection.objects.filter(item=item).count() == 1


def test_only_the_assignee_scores_and_every_item_must_be_scored(qa_setup, pool, wangfang,
                                                                hemei):
    _lead, _followup, item = _queued(qa_setup, pool, wangfang)
    with pytest.raises(QARefused) as refused:
        inspection_submit(item_id=item.pk, inspector=user("rep_lilei"), scores=_scores(),
                          verdict="pass")
    assert refused.value.code == "forbidden"
    partial = _scores()
    partial.pop(next(iter(partial)))
    with pytest.raises(QARefused):
        inspection_submit(item_id=item.pk, inspector=hemei, scores=partial, verdict="pass")
    with pytest.raises(QARefused):  # below the pass mark cannot pass
        inspection_submit(item_id=item.pk, inspector=hemei,
                          scores=_scores(greeting=0, needs=0, next_step=0, record=0),
                          verdict="pass")


def test_critical_fail_stops_the_followup_counting_and_an_overturn_restores_it(
        qa_setup, pool, wangfang, hemei, admin_lead, rule):
    from leads import circulation
    from leads.subjects import LEADS
    lead, followup, item = _queued(qa_setup, pool, wangfang)
    circulation.refresh_due(LEADS, ids=[lead.pk])
    lead.refresh_from_db()
    due_before = lead.recycle_due_at
    assert due_before == followup.created_at + timedelta(days=7)
    inspection = inspection_submit(item_id=item.pk, inspector=hemei,
                                   scores=_scores(no_overpromise=0), verdict="pass")
    assert inspection.verdict == "fail" and inspection.critical_failed
    assert inspection.disqualified
    followup.refresh_from_db()
    lead.refresh_from_db()
    assert not followup.qualifies
    assert lead.last_qualified_at is None
    assert lead.recycle_due_at == lead.assigned_at + timedelta(days=7) < due_before

    appeal = appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="客户确实这么要求")
    assert Notification.objects.filter(recipient=admin_lead, kind="qa_appeal_filed").exists()
    appeal_decide(appeal_id=appeal.pk, user=admin_lead, overturn=True, comment="合理")
    followup.refresh_from_db()
    lead.refresh_from_db()
    assert followup.qualifies and lead.recycle_due_at == due_before
    inspection.refresh_from_db()
    assert inspection.state == "overturned"
    assert Notification.objects.filter(recipient=wangfang, kind="qa_appeal_decided").exists()
    assert list(QAEvent.objects.filter(inspection=inspection).order_by("pk")
                .values_list("kind", flat=True)) == ["inspected", "appealed", "overturned"]


def test_a_recycle_now_violation_sends_the_lead_back_and_an_overturn_gives_it_back(
        qa_setup, pool, wangfang, hemei, admin_lead, rule):
    lead, _followup, item = _queued(qa_setup, pool, wangfang)
    assigned = Lead.objects.get(pk=lead.pk).assigned_at
    private = ViolationType.objects.get(code="private_deal")
    inspection = inspection_submit(item_id=item.pk, inspector=hemei, scores=_scores(),
                                   verdict="fail", violation_ids=[private.pk])
    assert inspection.recycled and not inspection.disqualified
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.status == "in_pool" and lead.recycle_count == 1
    event = LeadEvent.objects.filter(lead=lead, kind="recycled").get()
    assert event.from_owner_id == wangfang.pk and event.reason == "quality_inspection"
    assert Notification.objects.filter(recipient=wangfang, kind="lead_recycled").exists()
    appeal = appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="误判")
    appeal_decide(appeal_id=appeal.pk, user=admin_lead, overturn=True)
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk and lead.assigned_at == assigned
    assert lead.recycle_count == 0 and lead.recycle_due_at is not None


def test_uphold_keeps_the_consequences_and_appeals_have_rules(qa_setup, pool, wangfang, hemei,
                                                              admin_lead, rule):
    _lead, followup, item = _queued(qa_setup, pool, wangfang)
    inspection = inspection_submit(item_id=item.pk, inspector=hemei,
                                   scores=_scores(accuracy=0), verdict="fail")
    with pytest.raises(QARefused):
        appeal_file(inspection_id=inspection.pk, rep=user("rep_lilei"), reason="不是我的")
    with pytest.raises(QARefused):
        appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="  ")
    appeal = appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="不同意")
    with pytest.raises(QARefused):
        appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="再来一次")
    with pytest.raises(QARefused):
        appeal_decide(appeal_id=appeal.pk, user=hemei, overturn=True)  # not a QA lead
    appeal_decide(appeal_id=appeal.pk, user=admin_lead, overturn=False, comment="维持")
    followup.refresh_from_db()
    assert not followup.qualifies
    assert Appeal.objects.get(pk=appeal.pk).status == "upheld"
    with pytest.raises(QARefused):
        appeal_decide(appeal_id=appeal.pk, user=admin_lead, overturn=True)


def test_the_appeal_period_ends(qa_setup, pool, wangfang, hemei):
    _lead, _followup, item = _queued(qa_setup, pool, wangfang)
    inspection = inspection_submit(item_id=item.pk, inspector=hemei,
                                   scores=_scores(accuracy=0), verdict="fail")
    late = timezone.now() + timedelta(days=qa_setup.appeal_days, minutes=1)
    with pytest.raises(QARefused) as refused:
        appeal_file(inspection_id=inspection.pk, rep=wangfang, reason="晚了", now=late)
    assert refused.value.code == "late"
    assert FollowUp.objects.filter(pk=item.followup_id, qualifies=False).exists()
