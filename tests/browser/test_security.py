"""The pages under the Content-Security-Policy, in Chromium: nothing refused, and what used to
be inline script (confirmations, "select all", the owner filter, order lines, picking a
customer) still works from the static script. Any CSP violation in the console fails the
test (see ``new_page``). Screenshots: ``tests/artifacts/browser/security-*``."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SKIP = ("/logout/", "/admin/", "/i18n/", ".csv", "/static/", "/media/", "/contracts/attachments/")


@pytest.fixture
def demo(demo_site):
    call_command("seed_demo", stdout=StringIO())
    return demo_site


def _crawl(page, site: str, start: str, limit: int) -> list[str]:
    """Visit ``start``, then the site's links found on the pages (breadth first)."""
    queue, seen = [start], set()
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(site + path)
        assert response.status < 500, f"{path} answered {response.status}"
        assert response.headers.get("content-security-policy"), path
        hrefs = page.locator("a[href^='/']").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            target = urlsplit(href)
            link = target.path + (f"?{target.query}" if target.query else "")
            if not any(part in link for part in SKIP) and link not in seen:
                queue.append(link)
    return sorted(seen)


@pytest.mark.parametrize("username", ["rep_wangfang", "mgr_shanghai"])
def test_crawled_pages_pass_the_csp(new_page, sign_in, demo, shot, username):
    page = new_page()
    sign_in(page, username)
    visited = _crawl(page, demo, "/", limit=40)
    assert len(visited) >= 20, visited
    shot(page, f"security-crawl-{username}")


def test_former_inline_scripts_work_under_the_csp(new_page, sign_in, demo, shot):
    from contracts.models import Order
    from opportunities.models import Customer

    manager = new_page()
    sign_in(manager, "mgr_shanghai")
    manager.goto(f"{demo}/leads/team/")
    boxes = manager.locator("input[name=leads]")
    assert boxes.count() > 1
    manager.locator("input[data-check-all]").check()
    assert boxes.evaluate_all("els => els.every(e => e.checked)")
    owner = manager.locator("select[data-navigate=owner] option").nth(1).get_attribute("value")
    with manager.expect_navigation():
        manager.locator("select[data-navigate=owner]").select_option(owner)
    assert f"owner={owner}" in manager.url
    shot(manager, "security-team-leads-filtered")

    rep = new_page()
    sign_in(rep, "rep_wangfang")
    customer = Customer.objects.filter(owner__username="rep_wangfang").order_by("pk").first()
    rep.goto(f"{demo}/contracts/orders/new/?customer={customer.pk}")
    before = rep.locator("#lines tr.line").count()
    rep.locator("#add-line").click()
    expect(rep.locator("#lines tr.line")).to_have_count(before + 1)
    assert rep.locator("#id_lines-TOTAL_FORMS").input_value() == str(before + 1)
    shot(rep, "security-order-form-two-lines")

    draft = Order.objects.filter(owner__username="rep_wangfang", status="draft").first()
    rep.goto(f"{demo}/contracts/orders/{draft.pk}/")
    asked = []
    rep.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    rep.get_by_role("button", name="取消订单").click()
    rep.wait_for_timeout(300)
    assert asked and rep.url.endswith(f"/contracts/orders/{draft.pk}/")
    draft.refresh_from_db()
    assert draft.status == "draft"
    rep.once("dialog", lambda dialog: dialog.accept())
    with rep.expect_navigation():
        rep.get_by_role("button", name="取消订单").click()
    draft.refresh_from_db()
    assert draft.status == "cancelled"
