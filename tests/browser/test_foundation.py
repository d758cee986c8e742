"""The foundation through a real browser: sign-in, role homes, navigation, language, admin.

Chinese is asserted where it comes from data (names, units, roles), from Django's own
catalogue, or from our zh-hans catalogue (the rep's workbench heading); other strings are
checked through ``data-testid`` hooks and ``html[lang]``.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, SMALL_LAPTOP

pytestmark = pytest.mark.browser

ROLE_ENTRIES = (
    "workbench", "manager_home", "marketing_home", "qa_home", "leads", "pool", "customers",
    "opportunities", "orders", "contracts", "approvals", "receivables", "reports", "team_leads",
    "team", "rules",
)
REP_ENTRIES = ["workbench", "leads", "pool", "customers", "opportunities", "orders", "contracts",
               "reports"]


def nav_entries(page: Page) -> list[str]:
    """The pages the navigation bar offers, by entry code (``admin`` for Django admin)."""
    return page.get_by_test_id("main-nav").locator("[data-entry]").evaluate_all(
        "links => links.map(a => a.dataset.entry)"
    )


def nav_link_heights(page: Page) -> list[float]:
    """Rendered height of each navigation entry: a label broken over two lines is taller."""
    return page.get_by_test_id("main-nav").locator(":scope > li > a.nav-link").evaluate_all(
        "links => links.map(a => a.getBoundingClientRect().height)"
    )


def page_fits_width(page: Page) -> bool:
    """True when nothing sticks out to the right, so the page needs no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_rep_signs_in_to_the_workbench_and_cannot_open_manager_pages(
    page, demo_site, sign_in, shot
):
    page.goto(f"{demo_site}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    chinese = page.get_by_test_id("language-switch").locator("button[value=zh-hans]")
    expect(chinese).to_have_text("简体中文")
    expect(chinese).to_have_attribute("aria-pressed", "true")
    shot(page, "01-login-page-zh")

    sign_in(page, "rep_wangfang")

    expect(page).to_have_url(f"{demo_site}/workbench/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("workbench-heading")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("王芳")
    expect(page.get_by_test_id("my-rights")).to_contain_text("销售代表")
    assert nav_entries(page) == REP_ENTRIES
    expect(page.locator("[data-entry=workbench]")).to_have_attribute("aria-current", "page")
    assert page_fits_width(page)
    navbar_height = page.locator("nav.navbar").first.bounding_box()["height"]
    shot(page, "02-rep-workbench-desktop")

    response = page.goto(f"{demo_site}/manager/")

    assert response.status == 403
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # The rep's navigation still works on the refusal page, and offers nothing new.
    assert nav_entries(page) == REP_ENTRIES
    # The bar does not jump between a page with an active entry and one without.
    assert page.locator("nav.navbar").first.bounding_box()["height"] == navbar_height
    shot(page, "03-rep-forbidden-manager-home")

    page.get_by_test_id("back-home").click()
    expect(page).to_have_url(f"{demo_site}/workbench/")


def test_rep_workbench_heading_is_in_chinese(page, demo_site, sign_in):
    sign_in(page, "rep_wangfang")
    expect(page.get_by_test_id("workbench-heading")).to_have_text("销售工作台", timeout=1_000)
    expect(page).to_have_title("销售工作台 · LeadPool", timeout=1_000)


def test_manager_sees_the_team_masked_and_switches_language(page, demo_site, sign_in, shot):
    sign_in(page, "mgr_shanghai")

    expect(page).to_have_url(f"{demo_site}/manager/")
    expect(page.get_by_test_id("manager-heading")).to_be_visible()
    assert nav_entries(page) == ["workbench", "manager_home", *REP_ENTRIES[1:-1], "approvals",
                                 "receivables", "reports", "team_leads", "team", "rules"]
    team = page.get_by_test_id("team-table")
    wang_fang = team.locator("tbody tr", has_text="王芳")
    expect(wang_fang).to_contain_text("138****5678")
    expect(wang_fang).to_contain_text("上海一组")
    expect(team).to_contain_text("李磊")
    expect(team).not_to_contain_text("13812345678")
    expect(team).not_to_contain_text("张伟")  # Hangzhou team: outside the Shanghai unit
    shot(page, "04-manager-home-zh")

    switch = page.get_by_test_id("language-switch")
    english = switch.locator("button[value=en]")
    expect(english).not_to_have_attribute("aria-pressed", "true")
    with page.expect_navigation():
        english.click()

    expect(page).to_have_url(f"{demo_site}/manager/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("manager-heading")).to_have_text("Manager home")
    expect(english).to_have_attribute("aria-pressed", "true")
    expect(english).to_have_class("btn btn-light active")
    expect(switch.locator("button[value=zh-hans]")).not_to_have_attribute("aria-pressed", "true")
    # Data follows the language too: English names, the same masking.
    expect(team.locator("tbody tr", has_text="Wang Fang")).to_contain_text("138****5678")
    expect(team).to_contain_text("Shanghai team")
    shot(page, "05-manager-home-en")

    page.get_by_test_id("menu-team").click()
    page.locator("[data-entry=team]").click()

    expect(page).to_have_url(f"{demo_site}/team/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("directory-heading")).to_have_text("Team directory")
    expect(page.get_by_test_id("directory-table")).to_contain_text("Wang Fang")
    shot(page, "06-team-directory-en")

    with page.expect_navigation():
        switch.locator("button[value=zh-hans]").click()

    expect(page).to_have_url(f"{demo_site}/team/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(switch.locator("button[value=zh-hans]")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("directory-table")).to_contain_text("王芳")
    shot(page, "07-team-directory-zh")


def test_admin_opens_administration_pages(page, demo_site, sign_in, shot):
    sign_in(page, "admin")

    expect(page).to_have_url(f"{demo_site}/manager/")
    assert nav_entries(page) == [*ROLE_ENTRIES, "admin"]
    navbar = page.locator("nav.navbar").first
    # Every entry on one row at laptop width: a wrapped navbar pushes the page down.
    assert navbar.bounding_box()["height"] < 80
    shot(page, "08-admin-manager-home-navbar")
    # On a small laptop the six entries may take two rows, but no label breaks mid-word.
    page.set_viewport_size(SMALL_LAPTOP)
    assert max(nav_link_heights(page)) < 45
    assert page_fits_width(page)
    shot(page, "08b-admin-navbar-1024")
    page.set_viewport_size(DESKTOP)
    # English labels are longer: still one row.
    switch = page.get_by_test_id("language-switch")
    with page.expect_navigation():
        switch.locator("button[value=en]").click()
    assert navbar.bounding_box()["height"] < 80
    shot(page, "08c-admin-navbar-en")
    with page.expect_navigation():
        switch.locator("button[value=zh-hans]").click()

    page.get_by_test_id("menu-settings").click()
    page.locator("[data-entry=admin]").click()

    expect(page).to_have_url(f"{demo_site}/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#content h1")).to_have_text("站点管理")  # Django's own catalogue
    shot(page, "09-admin-index")

    page.locator("#content a[href='/admin/orgs/orgunit/']").first.click()
    expect(page).to_have_url(f"{demo_site}/admin/orgs/orgunit/")
    tree = page.locator("#result_list")
    # Treebeard shows the root only and loads each level when its toggle is clicked.
    expect(tree.locator("a.treebeard-collapse").first).to_be_visible()
    for _ in range(20):
        collapsed = tree.locator("a.treebeard-collapse.treebeard-collapsed")
        if collapsed.count() == 0:
            break
        collapsed.first.click()
        expect(tree.locator("a.treebeard-loading")).to_have_count(0)
    for unit in ("华辰智能科技有限公司", "华东大区", "上海一组", "华南大区", "深圳一组"):
        expect(tree).to_contain_text(unit)
    shot(page, "10-admin-org-unit-tree")

    page.goto(f"{demo_site}/admin/orgs/role/")
    roles = page.locator("#result_list")
    expect(roles).to_contain_text("sales_manager")
    expect(roles).to_contain_text("销售经理")
    shot(page, "11-admin-roles")

    roles.get_by_role("link", name="sales_manager", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/orgs/role/\d+/change/$"))
    expect(page.locator("#role_form")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("销售经理")
    expect(page.locator(".field-holders")).to_contain_text("周建国")
    shot(page, "12-admin-role-change-sales-manager")

    page.goto(f"{demo_site}/admin/orgs/employee/")
    expect(page.locator("#result_list")).to_contain_text("王芳")
    shot(page, "13-admin-employees")

    response = page.goto(f"{demo_site}/admin/orgs/dictionary/")
    assert response.ok
    expect(page.locator("#changelist")).to_be_visible()
    shot(page, "14-admin-dictionaries")


def test_wrong_password_is_refused_and_sign_out_returns_to_login(
    page, demo_site, sign_in, shot
):
    sign_in(page, "rep_wangfang", password="not-the-password")

    expect(page).to_have_url(f"{demo_site}/login/")
    error = page.get_by_test_id("login-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("密码")  # Django's own message, in Chinese
    expect(page.locator("#id_username")).to_have_value("rep_wangfang")
    expect(page.locator("#id_password")).to_have_value("")
    shot(page, "15-login-wrong-password")

    sign_in(page, "rep_wangfang")
    expect(page).to_have_url(f"{demo_site}/workbench/")

    with page.expect_navigation():
        page.get_by_test_id("sign-out").click()

    expect(page).to_have_url(f"{demo_site}/login/")
    expect(page.get_by_test_id("login-heading")).to_be_visible()
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    page.goto(f"{demo_site}/workbench/")
    expect(page).to_have_url(f"{demo_site}/login/?next=/workbench/")
    shot(page, "16-signed-out-back-at-login")


@pytest.mark.parametrize(
    ("username", "home", "heading", "name", "entries"),
    [
        ("qa_hemei", "/qa/", "qa-heading", "何美玲", ["qa_home", "team"]),
        ("marketing", "/marketing/", "marketing-heading", "林晓雯",
         ["marketing_home", "pool", "team", "rules"]),
    ],
)
def test_qa_and_marketing_land_on_their_own_homes(
    page, demo_site, sign_in, shot, username, home, heading, name, entries
):
    sign_in(page, username)

    expect(page).to_have_url(f"{demo_site}{home}")
    expect(page.get_by_test_id(heading)).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text(name)
    assert nav_entries(page) == entries
    assert page_fits_width(page)
    shot(page, f"17-{username}-home")


def test_rep_and_manager_on_a_phone(new_page, demo_site, sign_in, shot):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{demo_site}/login/")
    assert page_fits_width(page)
    shot(page, "18-phone-login")

    sign_in(page, "rep_wangfang")

    expect(page).to_have_url(f"{demo_site}/workbench/")
    expect(page.get_by_test_id("workbench-heading")).to_be_visible()
    # The menu folds behind the toggle; the bar itself stays one slim row.
    expect(page.get_by_test_id("main-nav")).to_be_hidden()
    assert page.locator("nav.navbar").first.bounding_box()["height"] < 70
    assert page_fits_width(page)
    shot(page, "19-phone-rep-workbench")

    page.get_by_test_id("nav-toggle").click()

    # Bootstrap's collapse animates; "show" is set once the menu is fully open.
    expect(page.locator("#main-navbar")).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator("[data-entry=workbench]")).to_be_visible()
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    expect(page.get_by_test_id("language-switch")).to_be_visible()
    shot(page, "20-phone-rep-menu-open")

    manager = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(manager, "mgr_shanghai")
    expect(manager).to_have_url(f"{demo_site}/manager/")
    # Wide tables scroll inside their card instead of squeezing names onto two lines.
    # The team table shows name, mobile and status whole; names stay on one line.
    table = manager.get_by_test_id("team-table")
    row = table.locator("tbody tr", has_text="王芳")
    expect(row).to_contain_text("138****5678")
    assert row.bounding_box()["height"] < 60
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert page_fits_width(manager)
    shot(manager, "21-phone-manager-home")

    manager.get_by_test_id("nav-toggle").click()
    expect(manager.locator("#main-navbar")).to_have_class(re.compile(r"\bshow\b"))
    manager.get_by_test_id("menu-team").click()
    manager.locator("[data-entry=team]").click()
    expect(manager).to_have_url(f"{demo_site}/team/")
    expect(manager.get_by_test_id("directory-table")).to_contain_text("王芳")
    assert page_fits_width(manager)
    shot(manager, "22-phone-team-directory")
