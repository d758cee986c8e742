"""The QA walk of issue 13 in a real browser, on the full demo: the inspector scores from
the keyboard and the next item arrives without a reload, fails an item on a critical
point, the rep sees it and appeals, the QA lead overturns it, and the lead's recycle date
moves back and forth; calibration and the reports show the demo's data, in both
languages. Screenshots: ``tests/artifacts/browser/qa-*.png``.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(demo_site) -> str:
    from leads.circulation import run_all

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    run_all()
    return demo_site


def _item_that_moves_the_clock():
    """An open item of the demo inspector whose follow-up is its lead's last contact."""
    from django.db.models import F

    from qa.models import QueueItem

    return (QueueItem.objects.filter(
        status="open", assignee__username="qa_hemei", followup__qualifies=True,
        followup__lead__owner=F("rep"), followup__lead__recycle_due_at__isnull=False,
        followup__lead__last_qualified_at=F("followup__created_at"))
        .select_related("followup__lead", "rep").order_by("pk").first())


def _score_all(page: Page, critical_zero: bool = False) -> None:
    """Score every row from the keyboard: 2 everywhere, 0 on critical rows if asked."""
    rows = page.get_by_test_id("score-row")
    rows.first.focus()
    for index in range(rows.count()):
        critical = rows.nth(index).locator(".badge.text-bg-danger").count() > 0
        page.keyboard.press("0" if critical and critical_zero else "2")


def test_inspect_fail_appeal_overturn(new_page, demo, sign_in, shot):
    from leads.models import Lead
    from qa.models import Appeal, Inspection

    target = _item_that_moves_the_clock()
    assert target is not None, "the demo has no item whose verdict moves a recycle clock"
    lead_id, rep = target.followup.lead_id, target.rep
    due_before = Lead.objects.get(pk=lead_id).recycle_due_at

    inspector = new_page()
    sign_in(inspector, "qa_hemei")
    expect(inspector.get_by_test_id("qa-heading")).to_be_visible()
    expect(inspector.get_by_test_id("queue-item").first).to_be_visible()
    shot(inspector, "qa-1-workbench")

    # Score the first item from the keyboard; the next arrives without a page load.
    first_id = inspector.get_by_test_id("qa-item").get_attribute("data-id")
    inspector.evaluate("window.__stayed = true")
    _score_all(inspector)
    inspector.keyboard.press("p")
    shot(inspector, "qa-2-scored-by-keyboard")
    inspector.keyboard.press("Control+Enter")
    expect(inspector.get_by_test_id("qa-item")).not_to_have_attribute("data-id", first_id)
    expect(inspector.locator(f"#queue-item-{first_id}")).to_have_count(0)
    assert inspector.evaluate("window.__stayed === true")
    assert Inspection.objects.get(item_id=int(first_id)).verdict == "pass"

    # Fail the chosen item on a critical point.
    inspector.goto(f"{demo}/qa/?item={target.pk}")
    expect(inspector.get_by_test_id("context-lead")).to_be_visible()
    expect(inspector.get_by_test_id("masked-mobile")).to_contain_text("****")
    _score_all(inspector, critical_zero=True)
    inspector.keyboard.press("f")
    inspector.get_by_test_id("comment").fill("承诺了无法兑现的效果")
    shot(inspector, "qa-3-failing-on-a-critical-item")
    inspector.get_by_test_id("save-inspection").click()
    expect(inspector.get_by_test_id("qa-item")).not_to_have_attribute("data-id", str(target.pk))
    failed = Inspection.objects.get(item=target)
    assert failed.verdict == "fail" and failed.critical_failed and failed.disqualified
    due_failed = Lead.objects.get(pk=lead_id).recycle_due_at
    assert due_failed < due_before

    # The rep sees it on the workbench and appeals.
    rep_page = new_page()
    sign_in(rep_page, rep.username)
    expect(rep_page.get_by_test_id("my-qa-results")).to_contain_text("不通过")
    shot(rep_page, "qa-4-rep-workbench")
    rep_page.goto(f"{demo}/qa/results/")
    row = rep_page.locator(f'[data-testid="result"][data-id="{failed.pk}"]')
    row.locator("input[name=reason]").fill("客户原话如此，我没有承诺收益")
    with rep_page.expect_navigation():
        row.get_by_test_id("appeal-submit").click()
    expect(row.get_by_test_id("result-state")).to_contain_text("申诉")
    shot(rep_page, "qa-5-rep-appealed")

    # The QA lead overturns it; the follow-up counts again and the date moves back.
    lead_page = new_page()
    sign_in(lead_page, "admin")
    lead_page.goto(f"{demo}/qa/appeals/")
    appeal = Appeal.objects.get(inspection=failed)
    card = lead_page.locator(f'[data-testid="appeal"][data-id="{appeal.pk}"]')
    expect(card).to_contain_text("客户原话如此")
    shot(lead_page, "qa-6-appeals")
    card.locator("input[name=comment]").fill("录音核实，撤销")
    with lead_page.expect_navigation():
        card.get_by_test_id("overturn").click()
    expect(lead_page.get_by_test_id("decided-appeals")).to_contain_text("撤销")
    assert Lead.objects.get(pk=lead_id).recycle_due_at == due_before
    rep_page.goto(f"{demo}/qa/results/")
    expect(rep_page.locator(f'[data-testid="result"][data-id="{failed.pk}"]')
           .get_by_test_id("result-state")).to_contain_text("撤销")
    shot(rep_page, "qa-7-rep-overturned")


def test_calibration_and_reports_in_both_languages(new_page, demo, sign_in, shot):
    chinese = new_page()
    sign_in(chinese, "admin")
    chinese.goto(f"{demo}/qa/calibration/")
    with chinese.expect_navigation():
        chinese.get_by_test_id("session-link").first.click()
    expect(chinese.get_by_test_id("agreement")).to_contain_text("%")
    expect(chinese.get_by_test_id("calibration-row")).to_have_count(3)
    shot(chinese, "qa-8-calibration")
    chinese.goto(f"{demo}/qa/reports/")
    expect(chinese.get_by_test_id("reports-heading")).to_have_text("质检报表")
    expect(chinese.get_by_test_id("chart-rep").locator("svg")).to_be_visible()
    expect(chinese.get_by_test_id("table-rep").locator("tbody tr").first).to_be_visible()
    shot(chinese, "qa-9-reports-zh")

    english = new_page(locale="en-US")
    sign_in(english, "qa_hemei")
    expect(english.get_by_test_id("qa-heading")).to_have_text("QA workbench")
    shot(english, "qa-10-workbench-en")
    english.goto(f"{demo}/qa/reports/")
    expect(english.get_by_test_id("reports-heading")).to_have_text("QA reports")
    expect(english.get_by_test_id("chart-hits").locator("svg")).to_be_visible()
    shot(english, "qa-11-reports-en")
