"""Rules speak the reader's language: a rule's name has an English twin shown to English
readers (pages and notifications alike, whenever the notification is read), recycle
reasons are labels rather than codes, and an opportunity's recycle notice names the
opportunity pool."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from leads.models import LeadPool, RecycleRule, RoutingRule
from leads.pools.due import refresh_due
from leads.pools.runs import recycle_run
from notifications.models import Notification
from opportunities.subjects import OPPORTUNITIES
from orgs.models import OrgUnit
from tests.helpers import user

from .test_circulation import owned, recycle_rule

pytestmark = pytest.mark.django_db

ZH, EN = "7 天无有效跟进", "No qualifying follow-up for 7 days"


@pytest.fixture
def rule(pool):
    return recycle_rule(pool, threshold=7, warn_offsets=[24], name=ZH, name_en=EN)


def test_a_rule_is_named_in_the_readers_language(rule):
    with translation.override("en"):
        assert rule.display_name == EN
    with translation.override("zh-hans"):
        assert rule.display_name == ZH
    rule.name_en = ""
    with translation.override("en"):
        assert rule.display_name == ZH  # no English name yet: the Chinese one


def test_warnings_and_recycle_notices_name_the_rule_in_the_readers_language(pool, rule,
                                                                           wangfang):
    owned(pool, wangfang, assigned_ago=timedelta(days=6, hours=1))
    with translation.override("zh-hans"):  # the sweep runs in the install's language
        recycle_run()
    note = Notification.objects.get(recipient=wangfang, kind="recycle_warning")
    with translation.override("en"):
        assert EN in note.text and ZH not in note.text
    with translation.override("zh-hans"):
        assert ZH in note.text
    with translation.override("zh-hans"):
        recycle_run(now=timezone.now() + timedelta(hours=25))
    told = Notification.objects.get(recipient=wangfang, kind="lead_recycled")
    with translation.override("en"):
        assert EN in told.text
    with translation.override("zh-hans"):
        assert ZH in told.text


def test_lead_pages_show_the_rule_and_the_recycle_reason_in_english(pool, rule, wangfang,
                                                                    client_for):
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=2))
    client = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en")
    assert EN in client.get(f"/leads/{lead.pk}/").content.decode()
    assert EN in client.get("/leads/").content.decode()
    recycled = owned(pool, wangfang, assigned_ago=timedelta(days=8))
    recycle_run()
    page = client.get(f"/leads/{recycled.pk}/").content.decode()
    assert "no_followup" not in page
    assert "No qualifying follow-up" in page
    chinese = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = chinese.get(f"/leads/{lead.pk}/").content.decode()
    assert ZH in page and EN not in page


def test_the_rules_page_and_its_forms_keep_both_names(pool, rule, client_for):
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    RoutingRule.objects.create(source_pool=master, name="华东线索进华东池",
                               name_en="East China leads to the East pool",
                               regions=["east"], target_pool=pool)
    director = client_for("director", HTTP_ACCEPT_LANGUAGE="en")
    assert EN in director.get(f"/leads/rules/{pool.code}/").content.decode()
    assert "East China leads to the East pool" in director.get(
        f"/leads/rules/{master.code}/").content.decode()
    form = director.get(f"/leads/rules/{pool.code}/recycle/{rule.pk}/").content.decode()
    assert 'name="name_en"' in form and f'value="{EN}"' in form


def test_an_opportunity_recycle_warning_names_the_opportunity_pool(demo_org):
    from opportunities.models import Opportunity
    from tests.pipeline.conftest import make_opportunity

    opp_pool = LeadPool.objects.create(code="t_opp", name="测试商机池",
                                       kind=LeadPool.Kind.OPPORTUNITY,
                                       org_unit=OrgUnit.objects.get(code="sales"))
    RecycleRule.objects.create(pool=opp_pool, name="14 天无阶段推进",
                               name_en="No stage progress for 14 days",
                               kind=RecycleRule.Kind.NO_PROGRESS, threshold=14,
                               warn_offsets=[72])
    rep = user("rep_wangfang")
    stale = make_opportunity(owner=rep, pool=opp_pool, stage="qualification")
    now = timezone.now()
    Opportunity.objects.filter(pk=stale.pk).update(assigned_at=now - timedelta(days=12),
                                                   last_qualified_at=now - timedelta(days=12))
    refresh_due(OPPORTUNITIES, ids=[stale.pk], now=now)
    recycle_run(now=now + timedelta(minutes=1))
    note = Notification.objects.get(recipient=rep)
    with translation.override("en"):
        assert "opportunity pool" in note.text and "No stage progress for 14 days" in note.text
    with translation.override("zh-hans"):
        assert "商机池" in note.text and "公海" not in note.text
