"""The pool rules pages, assign-now, routing by hand and extension requests as users see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import (
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadPool,
    PoolMember,
    RecycleRule,
    RoutingRule,
)
from leads.pools.due import refresh_due
from leads.subjects import LEADS
from orgs.models import OrgUnit
from tests.helpers import user

from .conftest import make_lead

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:
    return response.content.decode()


def messages_of(response, level=None) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)
            if level is None or m.level_tag == level]


def owned(pool, owner, days_ago):
    lead = make_lead(pool, owner=owner)
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - timedelta(days=days_ago))
    refresh_due(LEADS, ids=[lead.pk])
    lead.refresh_from_db()
    return lead


# --- who reaches the rules -----------------------------------------------------------------


def test_the_director_manages_the_regional_pools_a_rep_does_not(pool, client_for):
    director = client_for("director")
    page = html(director.get("/leads/rules/"))
    assert 'data-pool="t_east"' in page and 'data-pool="master"' in page
    assert client_for("rep_wangfang").get("/leads/rules/").status_code == 403
    assert client_for("rep_wangfang").get("/leads/rules/t_east/").status_code == 403


def test_a_team_manager_manages_the_pool_their_team_works_from(pool, client_for):
    """README: a team manager sets up the rules of their team's pool — the nearest pool up
    the tree (here the East region's), not the department's pools further up."""
    manager = client_for("mgr_shanghai")
    rules_home = html(manager.get("/leads/rules/"))
    assert 'data-pool="t_east"' in rules_home
    for code in ("sales_pool", "dormant", "master"):
        assert f'data-pool="{code}"' not in rules_home
        assert manager.get(f"/leads/rules/{code}/").status_code == 404
    for url in ("/leads/rules/t_east/", "/leads/rules/t_east/fairness/",
                "/leads/rules/t_east/recycle/new/", "/leads/rules/t_east/next/"):
        assert manager.get(url).status_code == 200, url
    south = LeadPool.objects.create(code="t_south", name="测试华南池", parent=pool.parent,
                                    org_unit=OrgUnit.objects.get(code="south"))
    assert manager.get(f"/leads/rules/{south.code}/").status_code == 404
    # Once the Shanghai team has a pool of its own, that is the pool its manager runs.
    team_pool = LeadPool.objects.create(code="t_sh", name="上海组池", parent=pool,
                                        org_unit=OrgUnit.objects.get(code="east_shanghai"))
    manager = client_for("mgr_shanghai")
    assert manager.get(f"/leads/rules/{team_pool.code}/").status_code == 200
    assert manager.get("/leads/rules/t_east/").status_code == 404
    # The Hangzhou team still works from the region pool, and its manager runs it.
    hangzhou = client_for("mgr_hangzhou")
    assert hangzhou.get("/leads/rules/t_east/").status_code == 200
    assert hangzhou.get(f"/leads/rules/{team_pool.code}/").status_code == 404
    # Reps hold no *manage pools* right, whatever pools they reach.
    assert client_for("rep_wangfang").get("/leads/rules/t_east/").status_code == 403


# --- the policy and members --------------------------------------------------------------------


def test_saving_the_policy_is_audited_and_starts_assigning(pool, client_for,
                                                           django_capture_on_commit_callbacks):
    PoolMember.objects.create(pool=pool, user=user("rep_lilei"))
    lead = make_lead(pool)
    director = client_for("director")
    with django_capture_on_commit_callbacks(execute=True):
        response = director.post("/leads/rules/t_east/", {
            "strategy": "round_robin", "weight_source": "configured", "cooldown_days": 7,
            "qualifying_types": ["call", "visit"], "qualifying_outcomes": ["connected"],
            "qualifying_min_length": 4, "extension_days": 5})
    assert response.status_code == 302
    pool.refresh_from_db()
    assert (pool.strategy, pool.qualifying_types, pool.extension_days) == (
        "round_robin", ["call", "visit"], 5)
    entry = LogEntry.objects.get_for_object(pool).latest("timestamp")
    assert entry.actor.username == "director" and "strategy" in entry.changes_dict
    lead.refresh_from_db()
    assert lead.owner.username == "rep_lilei"


def test_a_bad_policy_is_refused_with_the_field_marked(pool, client_for):
    response = client_for("director").post("/leads/rules/t_east/", {
        "strategy": "round_robin", "weight_source": "configured", "cooldown_days": -3,
        "qualifying_min_length": 4, "extension_days": 5})
    assert response.status_code == 400
    assert "is-invalid" in html(response)
    pool.refresh_from_db()
    assert pool.strategy == "manual"


def test_members_are_added_weighted_and_removed(pool, client_for):
    director = client_for("director")
    lilei = user("rep_lilei")
    response = director.post("/leads/rules/t_east/members/add/",
                             {"user": lilei.pk, "weight": 3}, **HX)
    assert response.status_code == 200 and f'data-member="{lilei.pk}"' in html(response)
    member = PoolMember.objects.get(pool=pool, user=lilei)
    assert member.weight == 3
    refused = director.post(f"/leads/rules/t_east/members/{member.pk}/",
                            {"weight": 0, "is_active": "on"})
    assert refused.status_code == 400
    director.post(f"/leads/rules/t_east/members/{member.pk}/",
                  {"weight": 5, "regions": ["east"], "is_active": "on"})
    member.refresh_from_db()
    assert (member.weight, member.regions) == (5, ["east"])
    director.post(f"/leads/rules/t_east/members/{member.pk}/remove/")
    assert not PoolMember.objects.filter(pk=member.pk).exists()


def test_who_gets_next_names_the_reps_and_why(pool, client_for):
    pool.strategy = "round_robin"
    pool.save()
    for name in ("rep_wangfang", "rep_lilei"):
        PoolMember.objects.create(pool=pool, user=user(name))
    page = html(client_for("director").get("/leads/rules/t_east/next/?n=4", **HX))
    turns = re.findall(r'data-user="(\d+)"', page)
    wangfang, lilei = user("rep_wangfang").pk, user("rep_lilei").pk
    assert [int(t) for t in turns] == [wangfang, lilei, wangfang, lilei]
    assert "王芳" in page and "李磊" in page
    assert page.count('class="text-muted lp-why"') == 4


# --- recycle rules with a preview ----------------------------------------------------------


def test_the_recycle_preview_lists_what_would_go_back_and_saving_times_every_lead(
        pool, wangfang, lilei, client_for, django_capture_on_commit_callbacks):
    stale = owned(pool, wangfang, days_ago=9)
    fresh = owned(pool, lilei, days_ago=1)
    director = client_for("director")
    form = {"name": "一周无跟进", "kind": "no_followup", "threshold": 7, "unit": "days",
            "warn_offsets": "48, 12", "target": "origin", "order": 100, "is_active": "on"}
    preview = director.post("/leads/rules/t_east/recycle/new/", {**form, "preview": "1"}, **HX)
    assert preview.status_code == 200
    page = html(preview)
    assert f'href="/leads/{stale.pk}/"' in page and f'href="/leads/{fresh.pk}/"' not in page
    assert not RecycleRule.objects.exists()  # a preview saves nothing
    with django_capture_on_commit_callbacks(execute=True):
        saved = director.post("/leads/rules/t_east/recycle/new/", form)
    assert saved.status_code == 302
    rule = RecycleRule.objects.get()
    assert rule.warn_offsets == [48, 12] and rule.updated_by.username == "director"
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert stale.recycle_rule_id == rule.pk and stale.recycle_due_at < timezone.now()
    assert fresh.recycle_due_at > timezone.now()
    assert LogEntry.objects.get_for_object(rule).exists()


def test_an_invalid_recycle_rule_explains_itself(pool, client_for):
    director = client_for("director")
    form = {"name": "太短", "kind": "first_touch", "threshold": 4, "unit": "hours",
            "warn_offsets": "24", "target": "pool", "order": 1}
    response = director.post("/leads/rules/t_east/recycle/new/", form)
    assert response.status_code == 400
    page = html(response)
    assert "is-invalid" in page and not RecycleRule.objects.exists()
    preview = director.post("/leads/rules/t_east/recycle/new/", {**form, "preview": "1"}, **HX)
    assert 'role="alert"' in html(preview)


# --- routing rules -------------------------------------------------------------------------------


def test_the_routing_preview_counts_where_waiting_leads_would_go(pool, client_for,
                                                                 django_capture_on_commit_callbacks):
    master = LeadPool.objects.get(kind="master")
    for _ in range(3):
        make_lead(master, region="east")
    make_lead(master, region="north")
    marketing = client_for("marketing")
    form = {"name": "华东", "order": 10, "regions": ["east"], "target_pool": pool.pk,
            "is_active": "on"}
    preview = html(marketing.post("/leads/rules/master/routing/new/", {**form, "preview": "1"},
                                  **HX))
    assert re.search(r"测试华东池</span><span class=\"fw-semibold\">3<", preview)
    assert Lead.objects.filter(pool=master).count() == 4  # nothing moved
    with django_capture_on_commit_callbacks(execute=True):
        assert marketing.post("/leads/rules/master/routing/new/", form).status_code == 302
    assert Lead.objects.filter(pool=pool).count() == 3
    assert RoutingRule.objects.get().updated_by.username == "marketing"


def test_marketing_routes_selected_leads_from_the_pool_page(pool, client_for):
    master = LeadPool.objects.get(kind="master")
    leads = [make_lead(master, region="north") for _ in range(2)]
    marketing = client_for("marketing")
    page = html(marketing.get("/leads/pool/?pool=master"))
    assert 'data-testid="route"' in page
    response = marketing.post("/leads/pool/master/route/",
                              {"leads": [lead.pk for lead in leads], "to_pool": pool.pk})
    assert response.status_code == 302
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
               .values_list("pool_id", flat=True)) == {pool.pk}
    # A rep has no route button and cannot route by posting.
    rep = client_for("rep_wangfang")
    other = make_lead(master)
    rep.post("/leads/pool/master/route/", {"leads": [other.pk], "to_pool": pool.pk})
    assert Lead.objects.get(pk=other.pk).pool_id == master.pk


# --- assign now ---------------------------------------------------------------------------------


def test_assign_now_hands_out_waiting_leads_and_shows_why(pool, client_for):
    pool.strategy = "round_robin"
    pool.save()
    for name in ("rep_wangfang", "rep_lilei"):
        PoolMember.objects.create(pool=pool, user=user(name))
    leads = [make_lead(pool) for _ in range(4)]
    director = client_for("director")
    response = director.post("/leads/pool/t_east/assign-now/", {"next": "/leads/rules/t_east/"})
    assert response.status_code == 302 and response.url == "/leads/rules/t_east/"
    assert any("4" in m for m in messages_of(response, "success"))
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in leads], owner=None).exists()
    log = html(director.get("/leads/rules/t_east/fairness/"))
    assert log.count("data-event=") == 4
    # A rep may not.
    assert client_for("rep_wangfang").post("/leads/pool/t_east/assign-now/").status_code == 404


def test_the_fairness_page_keeps_its_query_count_as_the_log_grows(pool, wangfang, client_for):
    director = client_for("director")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert director.get("/leads/rules/t_east/fairness/").status_code == 200
        return len(captured)

    for _ in range(3):
        lead = make_lead(pool)
        LeadEvent.objects.create(lead=lead, kind="assigned", to_owner=wangfang, to_pool=pool,
                                 from_pool=pool, detail={"s": "round_robin", "load": 1})
    few = queries()
    for _ in range(25):
        lead = make_lead(pool)
        LeadEvent.objects.create(lead=lead, kind="claimed", actor=wangfang, to_owner=wangfang,
                                 to_pool=pool, from_pool=pool)
    assert queries() == few


# --- the rep's side -------------------------------------------------------------------------


def test_my_leads_sorts_by_recycle_date_and_shows_the_rule(pool, wangfang, client_for):
    RecycleRule.objects.create(pool=pool, name="七天规则", kind="no_followup", threshold=7)
    later = owned(pool, wangfang, days_ago=1)
    sooner = owned(pool, wangfang, days_ago=5)
    page = html(client_for("rep_wangfang").get("/leads/?sort=recycle"))
    assert page.index(f'data-lead="{sooner.pk}"') < page.index(f'data-lead="{later.pk}"')
    assert "七天规则" in page


def test_the_workbench_lists_leads_about_to_be_recycled(pool, wangfang, client_for):
    RecycleRule.objects.create(pool=pool, name="七天规则", kind="no_followup", threshold=7)
    soon = owned(pool, wangfang, days_ago=6)
    later = owned(pool, wangfang, days_ago=1)
    page = html(client_for("rep_wangfang").get("/workbench/"))
    card = page[page.index('data-testid="recycling"'):]
    card = card[:card.index("</ul>")]
    assert soon.name in card and f"/leads/{soon.pk}/" in card
    assert f"/leads/{later.pk}/" not in card


def test_an_extension_is_asked_once_and_decided_by_the_manager(pool, wangfang, client_for):
    RecycleRule.objects.create(pool=pool, name="七天规则", kind="no_followup", threshold=7)
    lead = owned(pool, wangfang, days_ago=6)
    due = lead.recycle_due_at
    rep = client_for("rep_wangfang")
    assert 'data-testid="extension-form"' in html(rep.get(f"/leads/{lead.pk}/"))
    rep.post(f"/leads/{lead.pk}/extension/", {"reason": "客户出差，下周回来"})
    request = ExtensionRequest.objects.get(lead=lead)
    again = rep.post(f"/leads/{lead.pk}/extension/", {"reason": "再延一次"})
    assert messages_of(again, "error")
    assert ExtensionRequest.objects.filter(lead=lead).count() == 1
    # Another team's manager neither sees nor decides it.
    other = client_for("mgr_guangzhou")
    assert f'data-extension="{request.pk}"' not in html(other.get("/leads/extensions/"))
    other.post(f"/leads/extensions/{request.pk}/decide/", {"decision": "approve"})
    assert ExtensionRequest.objects.get(pk=request.pk).status == "pending"
    manager = client_for("mgr_shanghai")
    assert f'data-extension="{request.pk}"' in html(manager.get("/leads/extensions/"))
    manager.post(f"/leads/extensions/{request.pk}/decide/",
                 {"decision": "approve", "note": "同意"})
    lead.refresh_from_db()
    assert lead.recycle_due_at - due == timedelta(days=pool.extension_days)
    assert 'data-testid="extension-status"' in html(rep.get(f"/leads/{lead.pk}/"))
    # A rep has no requests page.
    assert rep.get("/leads/extensions/").status_code == 403
