"""From a won opportunity to money in the bank, through a real browser: order, contract
with a scanned attachment, approval by the manager, payment, renewal reminder.
Screenshots land in ``tests/artifacts/browser/contracts-*``."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def won_deal(demo_site, tmp_path, settings):
    from contracts.models import ApprovalBand, ApprovalBandStep, Product
    from opportunities.models import Opportunity
    from tests.helpers import user
    from tests.pipeline.conftest import make_opportunity

    settings.MEDIA_ROOT = str(tmp_path / "media")
    product = Product.objects.create(code="gtx-pro", name="GTX Pro", series="GTX",
                                     category="hardware", list_price="4821.00")
    band = ApprovalBand.objects.create(subject="contract", name="合同审批", min_amount=1000)
    ApprovalBandStep.objects.create(band=band, position=1, kind="manager")
    return make_opportunity(owner=user("rep_wangfang"), stage="won", amount=9642,
                            status=Opportunity.Status.WON, product=product,
                            customer_name="上海锦程智能制造有限公司", closed_at=timezone.now())


def test_won_opportunity_to_payment_and_renewal(new_page, sign_in, demo_site, won_deal,
                                                 shot, tmp_path):
    from contracts.services import renewals
    from tests.contracts.conftest import PNG

    rep = new_page()
    sign_in(rep, "rep_wangfang")
    rep.goto(f"{demo_site}/opportunities/{won_deal.pk}/")
    with rep.expect_navigation():
        rep.get_by_test_id("create-order").click()
    rep.get_by_test_id("line-quantity").first.fill("2")
    shot(rep, "contracts-order-form")
    with rep.expect_navigation():
        rep.get_by_test_id("save-order").click()
    expect(rep.get_by_test_id("order-total")).to_contain_text("19,284.00")
    with rep.expect_navigation():
        rep.get_by_test_id("order-confirm").click()
    expect(rep.get_by_test_id("order-status")).to_contain_text("已确认")
    shot(rep, "contracts-order-detail")

    with rep.expect_navigation():
        rep.get_by_test_id("new-contract").click()
    ends = timezone.localdate() + timedelta(days=20)
    rep.locator("#id_end_on").fill(ends.isoformat())
    with rep.expect_navigation():
        rep.get_by_test_id("save-contract").click()
    number = rep.get_by_test_id("contract-number").inner_text()
    scan = tmp_path / "合同扫描.png"
    scan.write_bytes(PNG)
    rep.locator("#id_file").set_input_files(str(scan))
    with rep.expect_navigation():
        rep.get_by_test_id("upload").click()
    expect(rep.get_by_test_id("attachments")).to_contain_text("合同扫描.png")
    with rep.expect_navigation():
        rep.get_by_test_id("contract-submit").click()
    expect(rep.get_by_test_id("contract-status")).to_contain_text("待审批")
    shot(rep, "contracts-contract-submitted")

    manager = new_page()
    sign_in(manager, "mgr_shanghai")
    manager.goto(f"{demo_site}/contracts/approvals/")
    inbox = manager.get_by_test_id("approval-inbox")
    expect(inbox).to_contain_text(number)
    shot(manager, "contracts-approval-inbox")
    inbox.locator("textarea[name=comment]").fill("同意签约")
    with manager.expect_navigation():
        inbox.get_by_test_id("approve").click()
    expect(manager.get_by_text("没有待您审批的事项")).to_be_visible()

    rep.reload()
    expect(rep.get_by_test_id("contract-status")).to_contain_text("生效")
    expect(rep.get_by_test_id("approval-history")).to_contain_text("同意签约")
    rep.locator("#id_lines").fill(f"{ends.isoformat()} 19284")
    with rep.expect_navigation():
        rep.get_by_test_id("save-plan").click()
    rep.get_by_test_id("payment-amount").fill("19284")
    with rep.expect_navigation():
        rep.get_by_test_id("record-payment").click()
    expect(rep.get_by_test_id("instalment-status")).to_contain_text("已回款")
    shot(rep, "contracts-contract-paid")

    renewals.renewal_sweep()
    rep.goto(f"{demo_site}/workbench/")
    expect(rep.get_by_test_id("renewals")).to_contain_text(number)
    shot(rep, "contracts-workbench-renewals")
