"""The rule engine through a real browser: editing a recycle rule with its preview, an
automatic assignment reaching a rep's workbench, a recycle warning in the bell, and an
extension request approved by the manager.

The site starts from the demo company with its rule-engine configuration
(``leads.demo.seed_demo``: the master pool routes East China leads into the East pool,
which hands them out by weight). The workers are not running here: a test runs the same
tick or sweep the workers would, at the moment it needs it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def engine_site(demo_site) -> str:
    from leads.demo import seed_demo
    from leads.pools.runs import run_all

    seed_demo()
    run_all()  # what the workers do first: the backlog is routed and handed out
    return demo_site


def owned_lead(username: str, *, days_ago: float, pool_code: str = "east_pool", name="孙悦"):
    """A lead of ``username`` assigned ``days_ago``, first contacted an hour later and not
    since, its recycle clock set."""
    from django.contrib.auth import get_user_model

    from leads.models import Lead, LeadEvent, LeadPool
    from leads.pools.due import refresh_due
    from leads.subjects import LEADS

    pool = LeadPool.objects.get(code=pool_code)
    owner = get_user_model().objects.get(username=username)
    assigned = timezone.now() - timedelta(days=days_ago)
    lead = Lead.objects.create(pool=pool, owner=owner, status="assigned", name=name,
                               company="苏州远航精密机械有限公司", mobile="13955556666",
                               mobile_key="13955556666", assigned_at=assigned,
                               last_qualified_at=assigned + timedelta(hours=1),
                               created_at=assigned)
    LeadEvent.objects.create(lead=lead, kind="assigned", to_owner=owner, from_pool=pool,
                             to_pool=pool, created_at=assigned)
    refresh_due(LEADS, ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def test_a_director_edits_a_recycle_rule_after_previewing_it(page, engine_site, sign_in, shot):
    from leads.models import RecycleRule

    stale = owned_lead("rep_lilei", days_ago=4, name="周可")
    sign_in(page, "director")
    page.goto(f"{engine_site}/leads/rules/")
    page.locator('[data-pool="east_pool"] a.fw-semibold').click()
    expect(page.get_by_test_id("recycle-rules")).to_contain_text("7 天无有效跟进")
    expect(page.get_by_test_id("next-list").locator("li")).to_have_count(10)
    shot(page, "rules-01-pool-rules-zh")

    page.get_by_test_id("new-recycle-rule").click()
    form = page.get_by_test_id("recycle-rule-form")
    form.locator("#id_name").fill("3 天无有效跟进")
    form.locator("#id_kind").select_option("no_followup")
    form.locator("#id_threshold").fill("3")
    form.locator("#id_warn_offsets").fill("24")
    page.get_by_test_id("preview").click()

    summary = page.get_by_test_id("preview-summary")
    expect(summary).to_be_visible()
    expect(page.get_by_test_id("preview-leads")).to_contain_text("周可")
    expect(page.get_by_test_id("preview-per-rep")).to_contain_text("李磊")
    assert not RecycleRule.objects.filter(name="3 天无有效跟进").exists()
    shot(page, "rules-02-recycle-rule-preview-zh")

    with page.expect_navigation():
        page.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("recycle-rules")).to_contain_text("3 天无有效跟进")
    rule = RecycleRule.objects.get(name="3 天无有效跟进")
    stale.refresh_from_db()
    assert stale.recycle_rule_id == rule.pk and stale.recycle_due_at < timezone.now()

    # What the preview listed is what the sweep does: back to the pool, from where the
    # East pool hands it straight to someone else (never back to Li Lei: cool-down).
    from leads.models import LeadEvent
    from leads.pools.runs import recycle_run

    recycle_run()
    event = LeadEvent.objects.get(lead=stale, kind="recycled")
    assert (event.from_owner.username, event.rule_id) == ("rep_lilei", rule.pk)
    stale.refresh_from_db()
    assert stale.owner is None or stale.owner.username != "rep_lilei"


def test_a_new_lead_is_routed_and_assigned_and_shows_on_the_reps_workbench(
        new_page, engine_site, sign_in, shot):
    from leads.models import Lead, LeadEvent

    marketing = new_page()
    sign_in(marketing, "marketing")
    marketing.goto(f"{engine_site}/leads/new/")
    form = marketing.get_by_test_id("lead-form")
    form.locator("#id_name").fill("欧阳娜")
    form.locator("#id_company").fill("衢州远帆测绘技术有限公司")
    form.locator("#id_mobile").fill("13722223333")
    form.locator("#id_region").select_option("east")
    form.locator("#id_pool").select_option(label="总线索池")
    with marketing.expect_navigation():
        form.locator("button[type=submit]").click()

    lead = Lead.objects.get(mobile_key="13722223333")
    assert lead.pool.code == "east_pool" and lead.owner is not None
    kinds = list(LeadEvent.objects.filter(lead=lead).order_by("pk").values_list("kind",
                                                                                  flat=True))
    assert kinds == ["created", "routed", "assigned"]
    owner = lead.owner.username

    rep = new_page()
    sign_in(rep, owner)
    expect(rep.get_by_test_id("bell-count")).to_be_visible()
    rep.get_by_test_id("bell").locator("button").first.click()
    expect(rep.get_by_test_id("bell-items")).to_contain_text("欧阳娜")
    shot(rep, "rules-03-assigned-bell-zh")
    untouched = rep.get_by_test_id("untouched")
    expect(untouched).to_contain_text("欧阳娜")
    with rep.expect_navigation():
        untouched.get_by_text("欧阳娜").click()
    expect(rep.get_by_test_id("lead-owner")).to_contain_text(lead.owner.employee.name)
    expect(rep.get_by_test_id("recycle-due")).to_be_visible()
    shot(rep, "rules-04-assigned-lead-detail-zh")

    # The director sees why this rep got it.
    director = new_page()
    sign_in(director, "director")
    director.goto(f"{engine_site}/leads/rules/east_pool/fairness/")
    row = director.get_by_test_id("assignment-log").locator("tbody tr").first
    expect(row).to_contain_text("欧阳娜")
    expect(row.locator(".lp-why")).not_to_be_empty()
    shot(director, "rules-05-fairness-zh")


def test_a_rep_is_warned_then_asks_for_more_time_and_the_manager_approves(
        new_page, engine_site, sign_in, shot):
    from leads.models import ExtensionRequest
    from leads.pools.runs import recycle_run

    lead = owned_lead("rep_wangfang", days_ago=6.5, name="钱多多")
    recycle_run()  # the sweep warns: due within a day

    rep = new_page()
    sign_in(rep, "rep_wangfang")
    expect(rep.get_by_test_id("bell-count")).to_be_visible()
    rep.get_by_test_id("bell").locator("button").first.click()
    warning = rep.get_by_test_id("bell-items").get_by_text("钱多多")
    expect(warning).to_be_visible()
    expect(rep.get_by_test_id("recycling")).to_contain_text("钱多多")
    shot(rep, "rules-06-recycle-warning-zh")
    with rep.expect_navigation():
        warning.click()
    expect(rep).to_have_url(f"{engine_site}/leads/{lead.pk}/")
    clock = rep.get_by_test_id("recycle-clock")
    expect(clock).to_contain_text("7 天无有效跟进")
    clock.locator("#id_extension_reason").fill("客户在外地出差，下周二回来再约")
    clock.get_by_role("button").click()
    expect(rep.get_by_test_id("extension-status")).to_be_visible()
    shot(rep, "rules-07-extension-asked-zh")
    request = ExtensionRequest.objects.get(lead=lead)

    manager = new_page()
    sign_in(manager, "mgr_shanghai")
    expect(manager.get_by_test_id("extensions-link")).to_contain_text("1")
    manager.get_by_test_id("extensions-link").click()
    item = manager.locator(f'[data-extension="{request.pk}"]')
    expect(item).to_contain_text("钱多多")
    item.locator("input[name=note]").fill("同意，抓紧跟进")
    shot(manager, "rules-08-extension-requests-zh")
    with manager.expect_navigation():
        item.get_by_test_id("approve").click()
    expect(manager.get_by_test_id("pending-extensions")).not_to_contain_text("钱多多")

    before = lead.recycle_due_at
    lead.refresh_from_db()
    assert lead.recycle_due_at - before == timedelta(days=7)
    rep.reload()
    expect(rep.get_by_test_id("extension-status")).to_contain_text("7")
    expect(rep.get_by_test_id("bell-count")).to_be_visible()
    shot(rep, "rules-09-extension-approved-zh")
