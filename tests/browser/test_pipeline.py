"""The pipeline through a real browser: converting a lead, and moving cards on the board
by dragging and by keyboard. Screenshots land in ``tests/artifacts/browser/pipeline-*.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_a_rep_converts_a_lead_into_customer_contact_and_opportunity(demo_site, page: Page,
                                                                    sign_in, shot):
    from leads.models import Lead, LeadPool
    from opportunities.demo import seed_demo as seed_customers_and_deals
    from orgs.models import OrgUnit
    from tests.helpers import user
    from tests.leads.conftest import make_lead

    seed_customers_and_deals(engine=False)  # her long-standing customers among them
    pool = LeadPool.objects.create(code="t_east", name="测试华东池",
                                   org_unit=OrgUnit.objects.get(code="east"))
    lead = make_lead(pool, owner=user("rep_wangfang"), name="赵经理", company="苏州恒瑞精密机械",
                     mobile="13955556666")
    sign_in(page, "rep_wangfang")
    page.goto(f"{demo_site}/leads/{lead.pk}/")
    page.get_by_test_id("convert").click()
    form = page.get_by_test_id("convert-form")
    expect(form).to_be_visible()
    # The customer search offers the rep's existing customer with a similar name; the rep
    # keeps a new customer instead.
    form.locator("#id_customer_name").fill("苏州恒瑞精密")
    expect(page.get_by_test_id("customer-options")).to_contain_text("苏州恒瑞精密机械股份有限公司")
    form.locator("#id_customer_name").fill("苏州恒瑞精密机械（新厂）")
    form.locator("#id_opportunity_name").fill("恒瑞新厂 MES 项目")
    form.locator("#id_amount").fill("450000")
    form.locator("#id_type").select_option("bidding")
    form.locator("#id_stage").select_option("qualification")
    shot(page, "pipeline-convert-form")
    with page.expect_navigation():
        page.get_by_test_id("convert-submit").click()
    expect(page.get_by_test_id("opp-customer")).to_have_text("苏州恒瑞精密机械（新厂）")
    expect(page.get_by_test_id("opp-stage")).to_contain_text("需求确认")
    expect(page.get_by_test_id("contact-mobile")).to_have_text("13955556666")
    expect(page.get_by_test_id("stage-history")).to_contain_text("需求确认")
    expect(page.get_by_test_id("recycle-clock")).to_be_visible()
    shot(page, "pipeline-opportunity-detail")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.opportunity.name == "恒瑞新厂 MES 项目"
    page.goto(f"{demo_site}/leads/{lead.pk}/")
    expect(page.get_by_test_id("converted")).to_be_visible()


def test_cards_move_by_drag_and_by_keyboard_and_a_stale_board_is_refused(
        demo_site, page: Page, new_page, sign_in, shot):
    from opportunities.models import Opportunity
    from tests.helpers import user
    from tests.pipeline.conftest import make_opportunity

    rep = user("rep_wangfang")
    dragged = make_opportunity(owner=rep, stage="prospecting", name="拖动商机", amount=200_000)
    keyed = make_opportunity(owner=rep, stage="proposal", name="键盘商机", amount=100_000)
    sign_in(page, "rep_wangfang")
    page.goto(f"{demo_site}/opportunities/board/")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("1")
    shot(page, "pipeline-board")

    # Drag "拖动商机" from 初步接洽 into 方案/报价.
    card = page.get_by_test_id(f"card-{dragged.pk}")
    target = page.get_by_test_id("column-proposal").locator(".lp-cards")
    card.drag_to(target)
    expect(page.get_by_test_id("count-proposal")).to_have_text("2")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("0")
    expect(page.get_by_test_id("total-proposal")).to_have_text("¥300,000")
    assert Opportunity.objects.get(pk=dragged.pk).stage == "proposal"

    # Keyboard: focus "键盘商机" and press → : it moves one stage on, and keeps the focus.
    page.get_by_test_id(f"card-{keyed.pk}").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("count-negotiation")).to_have_text("1")
    expect(page.get_by_test_id(f"card-{keyed.pk}")).to_be_focused()
    assert Opportunity.objects.get(pk=keyed.pk).stage == "negotiation"
    # Enter opens the stage dialog; 输单 (lost) needs a reason from the dictionary.
    page.keyboard.press("Enter")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("move-stage").select_option("lost")
    dialog.get_by_test_id("move-reason").select_option("competitor")
    dialog.get_by_test_id("move-ok").click()
    expect(page.get_by_test_id("count-lost")).to_have_text("1")
    moved = Opportunity.objects.get(pk=keyed.pk)
    assert (moved.status, moved.lost_reason) == ("lost", "competitor")

    # A manager's board drawn before the rep's moves is stale: the move is refused with a
    # message, and the board shows where the card is now.
    manager = new_page()
    sign_in(manager, "mgr_shanghai")
    manager.goto(f"{demo_site}/opportunities/board/")
    Opportunity.objects.filter(pk=dragged.pk).update(stage="negotiation", version=9)
    manager.get_by_test_id(f"card-{dragged.pk}").focus()
    manager.keyboard.press("ArrowLeft")
    expect(manager.get_by_test_id("board-message")).to_contain_text("有人刚刚移动了这个商机")
    expect(manager.get_by_test_id("column-negotiation")).to_contain_text("拖动商机")
    shot(manager, "pipeline-board-stale-move")
    assert Opportunity.objects.get(pk=dragged.pk).stage == "negotiation"
