"""The rep's workbench: follow-ups overdue, due today and upcoming, across leads, customers
and opportunities, in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.followups.selectors import followup_agenda
from leads.models import Lead
from opportunities.models import Opportunity
from tests.followups.conftest import make_customer, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def at(hours: float):
    return timezone.now() + timedelta(hours=hours)


def end_of_today():
    local = timezone.localtime()
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_buckets_span_leads_customers_and_opportunities(pool, wangfang, lilei):
    overdue_lead = make_lead(pool, owner=wangfang, name="逾期线索", next_followup_at=at(-30))
    overdue_opp = make_opportunity(wangfang, name="逾期商机", next_followup_at=at(-1))
    today_at = min(at(0.5), end_of_today() - timedelta(minutes=1))
    today_customer = make_customer(wangfang, name="今日客户", next_followup_at=today_at)
    upcoming_opp = make_opportunity(wangfang, name="下周商机",
                                    next_followup_at=end_of_today() + timedelta(days=2))
    # Not hers, not open, too far, or nothing planned: none of these shows.
    make_lead(pool, owner=lilei, next_followup_at=at(-2))
    make_lead(pool, owner=wangfang, status=Lead.Status.INVALID, next_followup_at=at(-2))
    make_opportunity(wangfang, status=Opportunity.Status.LOST, next_followup_at=at(-2))
    make_opportunity(wangfang, next_followup_at=end_of_today() + timedelta(days=30))
    make_customer(wangfang)
    agenda = followup_agenda(user=wangfang)
    assert [(i.subject, i.name) for i in agenda["overdue"]] == [
        ("lead", overdue_lead.name), ("opportunity", overdue_opp.name)]
    assert [(i.subject, i.pk) for i in agenda["due_today"]] == [("customer", today_customer.pk)]
    assert [(i.subject, i.pk) for i in agenda["upcoming"]] == [("opportunity", upcoming_opp.pk)]
    assert agenda["overdue"][0].url == f"/leads/{overdue_lead.pk}/"


def _fill(pool, owner, n: int) -> None:
    for i in range(n):
        make_lead(pool, owner=owner, next_followup_at=at(-1 - i))
        make_customer(owner, next_followup_at=at(0.01 + i / 1000))
        make_opportunity(owner, next_followup_at=at(30 + i))


def test_workbench_shows_the_buckets_with_constant_queries(pool, wangfang, client_for,
                                                           django_assert_max_num_queries):
    rep = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="zh-hans")
    _fill(pool, wangfang, 2)
    rep.get("/workbench/")
    with django_assert_max_num_queries(40) as small:
        page = rep.get("/workbench/").content.decode()
    for testid in ("overdue", "due-today", "upcoming"):
        assert f'data-testid="{testid}"' in page
    assert page.count('data-testid="agenda-item"') >= 4
    _fill(pool, wangfang, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = rep.get("/workbench/").content.decode()
    assert page.count('data-subject="lead"') == 8  # a bucket lists the first eight
    assert "8+" in page
