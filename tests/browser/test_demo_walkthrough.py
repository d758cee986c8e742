"""The README's demo walk-through, step by step, in a real browser: one test per role, on
the full demo (``manage.py seed_demo``) after the engine's first tick, as ``make run``
leaves it. Screenshots of every step land in ``tests/artifacts/browser/walkthrough-*.png``.

Keep this file and the README's *Demo walk-through* in step: each numbered step there is a
block here.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(demo_site) -> str:
    """The live server with the whole demo, after the engine's first tick."""
    from leads.pools.runs import run_all

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    run_all()
    return demo_site


def nav(page: Page, entry: str, menu: str | None = None) -> None:
    """Click an entry of the navigation bar (inside its dropdown menu, if it has one)."""
    if menu and page.get_by_test_id(f"menu-{menu}").count():
        page.get_by_test_id(f"menu-{menu}").click()
    with page.expect_navigation():
        page.locator(f'nav a[data-entry="{entry}"]').click()


def test_sales_rep(page: Page, demo, sign_in, shot):
    from contracts.models import Contract
    from leads.models import Lead
    from opportunities.models import Opportunity

    # 1. The workbench.
    sign_in(page, "rep_wangfang")
    expect(page.get_by_test_id("workbench-heading")).to_be_visible()
    expect(page.get_by_test_id("overdue").get_by_test_id("agenda-item").first).to_be_visible()
    expect(page.get_by_test_id("upcoming").get_by_test_id("agenda-item").first).to_be_visible()
    expect(page.get_by_test_id("untouched").locator("a").first).to_be_visible()
    expect(page.get_by_test_id("recycling").locator("a").first).to_be_visible()
    expect(page.get_by_test_id("workbench-pools")).to_contain_text("销售公海")
    renewal = page.get_by_test_id("renewals").locator("a").first
    expect(renewal).to_contain_text("HT")
    shot(page, "walkthrough-rep-1-workbench")

    # 2. A lead about to go back: its timeline, its clock; a call moves the clock on.
    with page.expect_navigation():
        page.get_by_test_id("recycling").locator("a").first.click()
    lead = Lead.objects.get(pk=int(re.search(r"/leads/(\d+)/", page.url).group(1)))
    expect(page.get_by_test_id("lead-owner")).to_contain_text("王芳")
    expect(page.get_by_test_id("stints").locator("li").first).to_be_visible()
    expect(page.get_by_test_id("recycle-clock")).to_be_visible()
    before = lead.recycle_due_at
    form = page.get_by_test_id("followup-form")
    form.locator("#id_kind").select_option("call")
    form.locator("#id_outcome").select_option("connected")
    form.locator("#id_content").fill("电话沟通了预算和上线时间，下周发正式报价。")
    form.locator("button[type=submit]").click()
    expect(page.locator("#lead-panel").get_by_role("alert")).to_have_text("跟进记录已保存。")
    lead.refresh_from_db()
    assert lead.recycle_due_at > before
    shot(page, "walkthrough-rep-2-lead")

    # 3. The sales pool: claim a lead.
    nav(page, "pool")
    with page.expect_navigation():
        page.get_by_test_id("pool-tabs").get_by_role("link", name=re.compile("销售公海")).click()
    rows = page.get_by_test_id("pool-leads").locator("tbody tr")
    expect(rows.first).to_be_visible()
    rows.first.get_by_test_id("claim").click()
    expect(rows.first.get_by_test_id("claim-ok")).to_be_visible()
    shot(page, "walkthrough-rep-3-claimed")
    nav(page, "leads")
    expect(page.get_by_test_id("my-leads")).to_be_visible()

    # 4. The board: a card moves on with the keyboard.
    nav(page, "opportunities")
    expect(page.get_by_test_id("column-won")).to_be_visible()
    stages = ["prospecting", "engaging", "qualification", "proposal", "negotiation"]
    card = Opportunity.objects.filter(owner__username="rep_wangfang", status="open",
                                      stage__in=stages[:-1]).order_by("-amount").first()
    page.get_by_test_id(f"card-{card.pk}").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("board-message")).to_contain_text(card.name)
    moved_from = card.stage
    card.refresh_from_db()
    assert card.stage == stages[stages.index(moved_from) + 1]
    shot(page, "walkthrough-rep-4-board")

    # 5. The contract to renew: period, order, payment plan, approval.
    contract = Contract.objects.filter(owner__username="rep_wangfang", status="active").order_by(
        "end_on").first()
    nav(page, "contracts", menu="deals")
    with page.expect_navigation():
        page.locator("main a", has_text=contract.number).first.click()
    expect(page.get_by_test_id("contract-status")).to_contain_text("生效中")
    expect(page.get_by_test_id("allocations")).to_contain_text("SO-")
    expect(page.get_by_test_id("approval-history")).to_contain_text("已批准")
    expect(page.get_by_test_id("instalments").locator("tbody tr").first).to_be_visible()
    shot(page, "walkthrough-rep-5-contract")

    # 6. Her orders, newest first, each in its status.
    from contracts.models import Order

    nav(page, "orders", menu="deals")
    orders = page.get_by_test_id("orders")
    newest = list(Order.objects.filter(owner__username="rep_wangfang").order_by("-created_at")[:50])
    assert newest[0].status == Order.Status.DRAFT
    assert {Order.Status.CONFIRMED, Order.Status.PAID} <= {o.status for o in newest}
    for order in newest:
        row = orders.locator("tr", has_text=order.number)
        expect(row).to_contain_text(order.get_status_display())
    shot(page, "walkthrough-rep-6-orders")


def test_sales_manager(page: Page, demo, sign_in, shot):
    from contracts.models import ApprovalStep

    # 1. Manager home.
    sign_in(page, "mgr_shanghai")
    expect(page.get_by_test_id("team-table")).to_contain_text("王芳")
    expect(page.get_by_test_id("manager-pools")).to_contain_text("销售公海")
    shot(page, "walkthrough-manager-1-home")

    # 2. Approvals: a contract above ¥500,000, then an order.
    waiting = ApprovalStep.objects.filter(approver__username="mgr_shanghai", status="current")
    contract_step = waiting.filter(request__subject="contract").get()
    assert contract_step.request.amount >= 500_000
    assert waiting.filter(request__subject="order").exists()
    nav(page, "approvals", menu="deals")
    inbox = page.get_by_test_id("approval-inbox")
    expect(inbox).to_contain_text(contract_step.request.contract.number)
    shot(page, "walkthrough-manager-2-approvals")
    item = inbox.locator(f'[data-step="{contract_step.pk}"]')
    item.locator("textarea").fill("同意，注意回款节点")
    with page.expect_navigation():
        item.get_by_test_id("approve").click()
    contract_step.refresh_from_db()
    assert contract_step.status == "approved"
    following = contract_step.request.steps.get(position=2)
    assert following.status == "current" and following.approver.username == "director"

    # 3. Receivables.
    nav(page, "receivables", menu="deals")
    expect(page.get_by_test_id("receivables")).to_contain_text("已逾期")
    shot(page, "walkthrough-manager-3-receivables")

    # 4. Team leads: transfer two of Wang Fang's to Li Lei.
    nav(page, "team_leads", menu="team")
    with page.expect_navigation():
        page.locator("#id_owner").select_option(label="王芳")
    table = page.get_by_test_id("team-leads")
    boxes = table.locator("tbody tr[data-lead] input[name=leads]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    form = page.get_by_test_id("transfer-form")
    form.locator("#id_to_rep").select_option(label="李磊")
    form.locator("#id_reason").select_option("rebalance")
    with page.expect_navigation():
        page.get_by_test_id("transfer").click()
    expect(page.get_by_role("alert")).to_have_text("已转移 2 条线索。")
    shot(page, "walkthrough-manager-4-transferred")

    # 5. Pool rules: the East pool his team works from, and nothing of the department's.
    nav(page, "rules", menu="settings")
    expect(page.locator('[data-pool="east_pool"]')).to_be_visible()
    expect(page.locator('[data-pool="sales_pool"]')).to_have_count(0)
    with page.expect_navigation():
        page.locator('[data-pool="east_pool"] a.fw-semibold').click()
    expect(page.get_by_test_id("members")).to_contain_text("王芳")
    expect(page.get_by_test_id("recycle-rules")).to_contain_text("7 天无有效跟进")
    shot(page, "walkthrough-manager-5-east-pool-rules")


def test_director(page: Page, demo, sign_in, shot):
    from contracts.models import ApprovalStep, Contract
    from contracts.services.approvals import approval_decide
    from tests.helpers import user

    # (The Shanghai manager approved the first step, as in the manager's walk-through.)
    first = ApprovalStep.objects.get(approver__username="mgr_shanghai", status="current",
                                     request__subject="contract")
    approval_decide(step_id=first.pk, user=user("mgr_shanghai"), approve=True, comment="同意")
    contract = first.request.contract

    # 1. Home: every team's pipeline.
    sign_in(page, "director")
    expect(page.get_by_test_id("manager-heading")).to_be_visible()
    expect(page.get_by_test_id("team-table")).to_contain_text("孙丽")
    shot(page, "walkthrough-director-1-home")

    # 2. The second step of the contract's approval.
    nav(page, "approvals", menu="deals")
    inbox = page.get_by_test_id("approval-inbox")
    expect(inbox).to_contain_text(contract.number)
    step = contract.approvals.get(status="pending").steps.get(status="current")
    with page.expect_navigation():
        inbox.locator(f'[data-step="{step.pk}"]').get_by_test_id("approve").click()
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    shot(page, "walkthrough-director-2-approved")

    # 3. The opportunity pool: assign a tender to a rep.
    page.goto(f"{demo}/opportunities/pool/")
    table = page.get_by_test_id("pool-table")
    expect(table).to_contain_text("招标")
    table.locator("tbody input[type=checkbox]").first.check()
    bar = page.get_by_test_id("assign-bar")
    bar.locator("select").select_option(label="王芳")
    with page.expect_navigation():
        bar.get_by_test_id("assign").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "walkthrough-director-3-opportunity-pool")

    # 4. Pool rules of every pool; the East pool's, and its fairness.
    nav(page, "rules", menu="settings")
    for code in ("master", "east_pool", "south_pool", "sales_pool", "opportunity_pool"):
        expect(page.locator(f'[data-pool="{code}"]')).to_be_visible()
    shot(page, "walkthrough-director-4-rules")
    with page.expect_navigation():
        page.locator('[data-pool="east_pool"] a.fw-semibold').click()
    expect(page.get_by_test_id("members")).to_contain_text("王芳")
    expect(page.get_by_test_id("recycle-rules")).to_contain_text("7 天无有效跟进")
    expect(page.get_by_test_id("next-list").locator("li").first).to_be_visible()
    shot(page, "walkthrough-director-4-east-pool")
    with page.expect_navigation():
        page.get_by_test_id("fairness-link").click()
    expect(page.get_by_test_id("assignment-log").locator("tbody tr").first).to_be_visible()
    shot(page, "walkthrough-director-4-fairness")


def test_marketing(page: Page, demo, sign_in, shot):
    from leads.models import Lead

    # 1. Marketing home.
    sign_in(page, "marketing")
    expect(page.get_by_test_id("marketing-pools")).to_contain_text("总线索池")
    shot(page, "walkthrough-marketing-1-home")

    # 2. Route a North China lead by hand into the sales pool.
    waiting = Lead.objects.in_pool().filter(pool__kind="master", region="north").first()
    nav(page, "pool")
    row = page.get_by_test_id("pool-leads").locator(f'tr:has(a[href="/leads/{waiting.pk}/"])')
    row.locator("input[type=checkbox]").check()
    page.locator("#id_route_to").select_option(label="销售公海")
    with page.expect_navigation():
        page.get_by_test_id("route").click()
    waiting.refresh_from_db()
    assert waiting.pool.code == "sales_pool"
    shot(page, "walkthrough-marketing-2-routed")

    # 3. A new East China lead into the master pool: routed and handed out by weight.
    page.goto(f"{demo}/leads/new/")
    form = page.get_by_test_id("lead-form")
    form.locator("#id_name").fill("欧阳娜")
    form.locator("#id_company").fill("衢州远帆测绘技术有限公司")
    form.locator("#id_mobile").fill("13722223333")
    form.locator("#id_region").select_option("east")
    form.locator("#id_pool").select_option(label="总线索池")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    from leads.pools.runs import tick

    tick()  # the engine's next tick (the workers run it every 30 seconds)
    lead = Lead.objects.get(mobile_key="13722223333")
    assert lead.pool.code == "east_pool" and lead.owner is not None
    shot(page, "walkthrough-marketing-3-new-lead")


def test_qa_inspector(page: Page, demo, sign_in, shot):
    sign_in(page, "qa_hemei")
    expect(page.get_by_test_id("qa-heading")).to_be_visible()
    shot(page, "walkthrough-qa-1-workbench")
    nav(page, "team", menu="team")
    expect(page.get_by_test_id("directory-table")).to_contain_text("王芳")
    shot(page, "walkthrough-qa-2-directory")


def test_administrator(page: Page, demo, sign_in, shot):
    sign_in(page, "admin")
    nav(page, "admin", menu="settings")
    assert page.url == f"{demo}/admin/"
    expect(page.locator("#content")).to_contain_text("组织架构")
    shot(page, "walkthrough-admin-1-index")
    page.goto(f"{demo}/admin/orgs/dictionaryitem/?q=%E7%A8%B3%E8%B5%9A%E4%B8%8D%E8%B5%94")
    shot(page, "walkthrough-admin-2-sensitive-words")
    with page.expect_navigation():
        page.locator("#result_list a", has_text="敏感词").first.click()
    expect(page.locator("#id_label")).to_have_value("稳赚不赔")
    expect(page.locator("#id_extra")).to_contain_text("return_promise")
    shot(page, "walkthrough-admin-2-sensitive-word")
    page.goto(f"{demo}/admin/contracts/product/")
    expect(page.locator("#result_list")).to_contain_text("华辰 MES")
    shot(page, "walkthrough-admin-3-products")
    page.goto(f"{demo}/admin/contracts/approvalband/")
    expect(page.locator("#result_list")).to_contain_text("主管和总监审批")
    page.goto(f"{demo}/admin/auditlog/logentry/")
    expect(page.locator("#result_list")).to_be_visible()
    shot(page, "walkthrough-admin-4-log")
