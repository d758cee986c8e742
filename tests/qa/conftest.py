"""Fixtures of the QA suite: the demo org and a pool (from the leads suite), the demo's
sensitive words, scorecard, violation types and one daily plan."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from leads.models import FollowUp
from orgs.demo import seed_sensitive_words
from qa.models import InspectionPlan, ViolationType
from tests.leads import conftest as _leads
from tests.leads.conftest import make_lead, user  # noqa: F401  (re-exported)

pool, wangfang, lilei, zhangwei, client_for = (
    _leads.pool, _leads.wangfang, _leads.lilei, _leads.zhangwei, _leads.client_for)

_minutes = itertools.count(1)


def yesterday():
    return timezone.localdate() - timedelta(days=1)


def at(day, hour: int = 10):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone()) + \
        timedelta(seconds=next(_minutes))


def write_followup(lead, author, *, content="电话沟通了方案细节，客户有兴趣", when=None,
                   kind="call", qualifies=True) -> FollowUp:
    """A follow-up written straight to the table (the sampling reads the table)."""
    return FollowUp.objects.create(lead=lead, author=author, kind=kind, outcome="connected",
                                   content=content, qualifies=qualifies,
                                   created_at=when or at(yesterday()))


@pytest.fixture
def qa_setup(demo_org):
    from qa.demo import VIOLATIONS, seed_scorecard

    seed_sensitive_words()
    version = seed_scorecard()
    for code, name, name_en, recycle_now in VIOLATIONS:
        ViolationType.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "recycle_now": recycle_now})
    plan = InspectionPlan.objects.create(name="每日抽检", name_en="Daily sample",
                                         scorecard=version.scorecard, share_percent=20,
                                         min_per_rep=1, before_recycle=2)
    return plan


@pytest.fixture
def hemei(demo_org):
    return user("qa_hemei")
