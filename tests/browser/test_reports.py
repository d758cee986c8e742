"""The reports through a real browser, on the demo's history: a manager and the director
walk the funnel, rates and pool health. Screenshots land in
``tests/artifacts/browser/reports-*.png``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_a_manager_and_the_director_walk_the_reports(demo_site, page: Page, new_page,
                                                     sign_in, shot):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - the demo's history
    sign_in(page, "mgr_shanghai")
    page.locator('[data-entry="reports"]').first.click()
    expect(page.get_by_test_id("funnel-chart").locator("svg")).to_be_visible()
    page.locator("#id_period").select_option("quarter")
    page.locator("#id_by").select_option("rep")
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    table = page.get_by_test_id("funnel-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    # The manager's team only: the Shenzhen team's reps are not in it.
    expect(table).not_to_contain_text("深圳")
    shot(page, "reports-manager-funnel-by-rep")
    first_count = table.locator("a[data-drill=leads]").first
    with page.expect_navigation():
        first_count.click()
    expect(page.get_by_test_id("drill-leads").locator("tbody tr").first).to_be_visible()
    shot(page, "reports-manager-drill-down")
    page.go_back()
    page.get_by_test_id("report-tabs").get_by_text("比率与活动").click()
    expect(page.get_by_test_id("amount-chart").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("rates-table").locator("tbody tr").first).to_be_visible()
    shot(page, "reports-manager-rates")
    page.get_by_test_id("report-tabs").get_by_text("线索池健康").click()
    expect(page.get_by_test_id("pools-table")).to_be_visible()
    shot(page, "reports-manager-pools")

    director = new_page()
    sign_in(director, "director")
    director.goto(f"{demo_site}/reports/?period=quarter&by=team")
    expect(director.get_by_test_id("funnel-chart").locator("svg")).to_be_visible()
    expect(director.get_by_test_id("funnel-table")).to_contain_text("深圳")
    shot(director, "reports-director-funnel-by-team")
    director.goto(f"{demo_site}/reports/reps/?period=quarter&by=team")
    expect(director.get_by_test_id("trend-chart").locator("svg")).to_be_visible()
    shot(director, "reports-director-rates-by-team")
