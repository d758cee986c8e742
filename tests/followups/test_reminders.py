"""Reminders: a plan whose next follow-up time has come reaches the record's owner once,
in the bell, whoever else sweeps at the same moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from leads import services
from leads.followups.services import followup_record, reminder_sweep
from leads.models import FollowUp
from notifications.models import Notification
from tests.followups.conftest import make_customer, make_lead, make_opportunity
from tests.helpers import run_at_once, user


def plan(subject, target, author, *, minutes_ago: int = 5, **fields) -> FollowUp:
    """A follow-up whose next time passed ``minutes_ago`` (written straight to the table)."""
    next_at = timezone.now() - timedelta(minutes=minutes_ago)
    return FollowUp.objects.create(author=author, kind="call", outcome="connected",
                                   content="约好回电", next_at=next_at, plan_open=True,
                                   **{subject: target}, **fields)


@pytest.mark.django_db
def test_due_plans_remind_the_owner_once_in_their_language(pool, wangfang):
    lead = make_lead(pool, owner=wangfang, name="苏州精工")
    customer = make_customer(wangfang, name="宁波港务")
    opportunity = make_opportunity(wangfang, name="二期扩容")
    plans = [plan("lead", lead, wangfang), plan("customer", customer, wangfang),
             plan("opportunity", opportunity, wangfang, customer=opportunity.customer)]
    later = plan("lead", make_lead(pool, owner=wangfang), wangfang, minutes_ago=-60)
    report = reminder_sweep()
    assert (report.reminded, report.closed, report.notified) == (3, 0, 3)
    assert Notification.objects.get(recipient=wangfang, kind="followup_due_lead").url == (
        f"/leads/{lead.pk}/")
    texts = sorted(n.text for n in Notification.objects.filter(recipient=wangfang))
    with translation.override("en"):
        english = sorted(n.text for n in Notification.objects.filter(recipient=wangfang))
    assert any("苏州精工" in t for t in texts)
    assert any(t.startswith("Follow-up due") and "opportunity “二期扩容”" in t for t in english)
    for followup in plans:
        followup.refresh_from_db()
        assert followup.reminded_at is not None
        assert followup.plan_open  # reminded, not done: it stays on the overdue list
    later.refresh_from_db()
    assert later.reminded_at is None
    assert reminder_sweep().reminded == 0
    assert Notification.objects.filter(recipient=wangfang).count() == 3


@pytest.mark.django_db
def test_the_reminder_follows_the_record_to_its_current_owner(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang)
    due = plan("lead", lead, wangfang)
    mgr = user("mgr_shanghai")
    services.lead_transfer(lead_ids=[lead.pk], to_user_id=lilei.pk, actor=mgr,
                           reason="rebalance")
    reminder_sweep()
    assert Notification.objects.filter(recipient=lilei, kind="followup_due_lead").count() == 1
    assert not Notification.objects.filter(recipient=wangfang).exists()
    due.refresh_from_db()
    assert due.reminded_at is not None


@pytest.mark.django_db
def test_a_plan_on_a_record_back_in_the_pool_closes_unsent(pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    due = plan("lead", lead, wangfang)
    services.lead_release(lead_id=lead.pk, user=wangfang, reason="no_need")
    report = reminder_sweep()
    assert (report.reminded, report.closed) == (0, 1)
    due.refresh_from_db()
    assert not due.plan_open
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_newer_followup_before_the_time_means_no_reminder(pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    followup_record(subject="lead", record_id=lead.pk, user=wangfang, kind="call",
                    outcome="connected", content="约了下周二拜访",
                    next_at=timezone.now() + timedelta(minutes=30))
    followup_record(subject="lead", record_id=lead.pk, user=wangfang, kind="visit",
                    outcome="appointment", content="提前拜访完成")
    assert reminder_sweep(now=timezone.now() + timedelta(hours=1)).reminded == 0


@pytest.mark.django_db(transaction=True)
def test_three_sweeps_at_once_send_each_reminder_exactly_once(demo_org):
    from leads.models import LeadPool
    from orgs.models import OrgUnit
    from tests.helpers import user as fresh_user

    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pool = LeadPool.objects.create(code="race", name="并发池", parent=master,
                                   org_unit=OrgUnit.objects.get(code="east"))
    reps = [fresh_user(name) for name in ("rep_wangfang", "rep_lilei", "rep_zhangwei")]
    leads = [make_lead(pool, owner=reps[n % 3]) for n in range(60)]
    past = timezone.now() - timedelta(minutes=1)
    FollowUp.objects.bulk_create(
        FollowUp(lead=lead, author_id=lead.owner_id, kind="call", outcome="connected",
                 content="回电", next_at=past - timedelta(seconds=n), plan_open=True)
        for lead in leads for n in range(5))
    reports = []
    errors = run_at_once([lambda: reports.append(reminder_sweep(batch=17))
                          for _ in range(3)]).errors
    assert not errors
    assert sum(r.reminded for r in reports) == 300  # no row taken by two sweeps
    assert sum(r.notified for r in reports) == 300
    assert Notification.objects.count() == 300
    assert not FollowUp.objects.filter(reminded_at__isnull=True).exists()
    per_rep = {rep.pk: Notification.objects.filter(recipient=rep).count() for rep in reps}
    assert per_rep == {rep.pk: 100 for rep in reps}


@pytest.mark.django_db
def test_names_with_quotes_and_backslashes_reach_the_bell_intact(pool, wangfang):
    name = 'Zhang "Boss" \\ 张{总},'
    plan("lead", make_lead(pool, owner=wangfang, name=name), wangfang)
    assert reminder_sweep().notified == 1
    with translation.override("en"):
        assert f"lead “{name}”" in Notification.objects.get(recipient=wangfang).text


@pytest.mark.django_db
def test_an_opted_in_owner_also_gets_the_reminder_by_email(pool, wangfang, mailoutbox):
    from notifications.services import email_sweep, set_email_enabled

    set_email_enabled(user=wangfang, enabled=True)
    plan("customer", make_customer(wangfang, name="宁波港务"), wangfang)
    reminder_sweep()
    assert email_sweep() == 1
    assert len(mailoutbox) == 1 and "宁波港务" in mailoutbox[0].subject
    assert mailoutbox[0].to == [wangfang.email]


@pytest.mark.django_db(transaction=True)
def test_two_followups_at_once_on_one_record_leave_exactly_one_open_plan(demo_org):
    from leads.models import LeadPool
    from orgs.models import OrgUnit

    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pool = LeadPool.objects.create(code="race2", name="并发池二", parent=master,
                                   org_unit=OrgUnit.objects.get(code="east"))
    rep = user("rep_wangfang")
    opportunity = make_opportunity(rep)
    lead = make_lead(pool, owner=rep)
    soon = timezone.now() + timedelta(days=1)

    def write(subject, pk, n):
        return lambda: followup_record(subject=subject, record_id=pk, user=user(rep.username),
                                       kind="call", outcome="connected",
                                       content=f"第{n}次同时跟进",
                                       next_at=soon + timedelta(minutes=n))

    errors = run_at_once([write("lead", lead.pk, n) for n in range(4)]
                         + [write("opportunity", opportunity.pk, n) for n in range(4)]).errors
    assert not errors
    for field, pk in (("lead_id", lead.pk), ("opportunity_id", opportunity.pk)):
        followups = FollowUp.objects.filter(**{field: pk})
        assert followups.count() == 4
        open_plans = list(followups.filter(plan_open=True))
        assert len(open_plans) == 1
        # The open plan is the last one written, and the record shows its time.
        assert open_plans[0].pk == followups.order_by("-pk").first().pk
    lead.refresh_from_db()
    assert lead.next_followup_at == FollowUp.objects.get(lead=lead, plan_open=True).next_at


@pytest.mark.django_db
def test_the_beat_runs_the_sweep_every_minute_as_a_task(pool, wangfang):
    from django.conf import settings

    from leads import tasks

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "leads.reminder_sweep")
    assert entry["schedule"] == timedelta(minutes=1)
    plan("lead", make_lead(pool, owner=wangfang), wangfang)
    assert tasks.reminder_sweep.delay().get() == {"reminded": 1, "closed": 0, "notified": 1}
    assert tasks.reminder_sweep.delay().get() == {"reminded": 0, "closed": 0, "notified": 0}
