"""The navigation bar stays one row on common laptop widths, for every demo role, in both
languages (English labels are the longer ones)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROLES = ["rep_wangfang", "mgr_shanghai", "director", "marketing", "qa_hemei", "admin"]
WIDTHS = [1366, 1440, 1536]
ONE_ROW = 70  # px: a wrapped bar is about 100 px high


def test_every_roles_navbar_is_one_row_at_laptop_widths_in_both_languages(new_page, sign_in,
                                                                          shot):
    too_high = []
    for username in ROLES:
        page = new_page()
        sign_in(page, username)
        for language in ("zh-hans", "en"):
            button = page.get_by_test_id("language-switch").locator(
                f"button[value={language}]")
            if button.get_attribute("aria-pressed") != "true":
                with page.expect_navigation():
                    button.click()
            expect(page.locator("html")).to_have_attribute("lang", language)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                navbar = page.locator("nav.navbar").first
                height = navbar.bounding_box()["height"]
                if height >= ONE_ROW:
                    too_high.append(f"{username} {language} {width}px: {height:.0f}px")
                if width == 1440:
                    shot(page, f"navbar-{username}-{language}-{width}")
        page.close()
    assert not too_high, "the navigation bar wraps:\n" + "\n".join(too_high)
