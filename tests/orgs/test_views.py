"""Pages as the demo people see them: navigation, homes, refusals, the team directory."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from orgs.demo import PEOPLE
from orgs.models import Employee, OrgUnit, Position
from orgs.rights import Entry, Operation
from orgs.views import PAGE_SIZE
from tests.factories import EmployeeFactory, RoleFactory, add_member

pytestmark = pytest.mark.django_db

MOBILES = {p.username: p.mobile for p in PEOPLE}


def nav_entries(html: str) -> set[str]:
    """The entries in the main navigation bar, by their ``data-entry``."""
    match = re.search(
        r'<ul[^>]*data-testid="main-nav"[^>]*>(.*?)data-testid="user-menu"', html, re.S
    )
    assert match, "the page has no main navigation"
    return set(re.findall(r'data-entry="([^"]+)"', match.group(1)))


DEAL_ENTRIES = (Entry.ORDERS, Entry.CONTRACTS, Entry.APPROVALS, Entry.RECEIVABLES)


def directory_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-employee="([^"]+)"', html)


@pytest.mark.parametrize(
    ("username", "entries"),
    [
        ("rep_wangfang", {Entry.WORKBENCH, Entry.REPORTS, Entry.LEADS, Entry.POOL, Entry.CUSTOMERS,
                          Entry.OPPORTUNITIES, Entry.ORDERS, Entry.CONTRACTS}),
        ("mgr_shanghai", {Entry.WORKBENCH, Entry.MANAGER_HOME, Entry.REPORTS, Entry.TEAM,
                          Entry.LEADS, Entry.POOL, Entry.TEAM_LEADS, Entry.RULES, Entry.CUSTOMERS,
                          Entry.OPPORTUNITIES, *DEAL_ENTRIES}),
        ("director", {Entry.WORKBENCH, Entry.MANAGER_HOME, Entry.REPORTS, Entry.TEAM, Entry.LEADS,
                      Entry.POOL, Entry.TEAM_LEADS, Entry.RULES, Entry.CUSTOMERS,
                      Entry.OPPORTUNITIES, *DEAL_ENTRIES}),
        ("qa_hemei", {Entry.QA_HOME, Entry.TEAM}),
        ("marketing", {Entry.MARKETING_HOME, Entry.TEAM, Entry.POOL, Entry.RULES}),
        ("admin", set(Entry.values)),
    ],
)
def test_navigation_shows_only_what_the_roles_open(demo_org, login, client, username, entries):
    login(username)
    html = client.get("/", follow=True).content.decode()
    assert nav_entries(html) == {str(e) for e in entries}


def test_pool_entries_are_left_out_for_someone_who_reaches_no_pool(demo_org, login, client):
    """A manager of a unit no pool belongs to (nor one above or below it) would open
    *Lead pool* and *Pool rules* on "no pool": the bar leaves those entries out until a
    pool of their unit exists."""
    from leads.models import LeadPool
    from orgs.models import Employee, Membership, OrgUnit, Position
    from orgs.presets import company_root

    root = company_root()
    unit = OrgUnit.objects.add_child(root, create_kwargs={
        "code": "aftersales", "name": "售后服务部", "name_en": "After-sales",
        "kind": OrgUnit.Kind.DEPARTMENT})
    employee = Employee.objects.get(user__username="mgr_shanghai")
    Membership.objects.filter(employee=employee).update(org_unit=unit)
    assert Position.objects.get(code="sales_manager")  # the same roles as before
    login("mgr_shanghai")
    entries = nav_entries(client.get("/manager/").content.decode())
    assert Entry.POOL not in entries and Entry.RULES not in entries
    assert {Entry.LEADS, Entry.TEAM_LEADS, Entry.CUSTOMERS} <= entries
    LeadPool.objects.create(code="aftersales_pool", name="售后池", org_unit=unit)
    entries = nav_entries(client.get("/manager/").content.decode())
    assert Entry.POOL in entries and Entry.RULES in entries


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("rep_wangfang", "/workbench/"),
        ("rep_sunli", "/workbench/"),
        ("mgr_shanghai", "/manager/"),
        ("mgr_guangzhou", "/manager/"),
        ("director", "/manager/"),
        ("marketing", "/marketing/"),
        ("qa_hemei", "/qa/"),
        ("admin", "/manager/"),
    ],
)
def test_each_demo_login_lands_on_its_role_home(demo_org, login, client, username, home):
    login(username)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_every_demo_login_has_a_home(demo_org, login, client):
    usernames = [u for u, _, _ in demo_org]
    assert set(MOBILES) < set(usernames)
    for username in usernames:
        client.logout()
        login(username)
        response = client.get("/", follow=True)
        assert response.status_code == 200, username
        assert response.redirect_chain, username


def test_signed_out_visitor_is_sent_to_login(db, client):
    response = client.get("/team/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/team/")


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("rep_wangfang", "/manager/"),
        ("rep_wangfang", "/team/"),
        ("rep_wangfang", "/qa/"),
        ("marketing", "/workbench/"),
        ("qa_hemei", "/manager/"),
        ("mgr_shanghai", "/marketing/"),
    ],
)
def test_a_page_the_role_does_not_open_is_refused(demo_org, login, client, username, url):
    login(username)
    response = client.get(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="forbidden"' in html
    with translation.override("zh-hans"):
        assert gettext("None of your roles opens this page.") in html


def test_the_refusal_is_in_the_chosen_language(demo_org, login, client):
    login("rep_wangfang")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/manager/").content.decode()
    assert "None of your roles opens this page." in html


def test_signed_in_user_without_roles_sees_an_explanation(db, client):
    employee = EmployeeFactory()
    client.force_login(employee.user)
    response = client.get("/")
    assert response.status_code == 403
    assert 'data-testid="no-roles"' in response.content.decode()


def test_staff_without_roles_goes_to_the_admin(db, client):
    employee = EmployeeFactory(user__is_staff=True)
    client.force_login(employee.user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_manager_home_lists_the_team_with_masked_mobiles(demo_org, login, client):
    login("mgr_shanghai")
    html = client.get("/manager/").content.decode()
    assert "王芳" in html and "李磊" in html
    assert "张伟" not in html  # Hangzhou is outside the Shanghai manager's unit
    assert "138****5678" in html and MOBILES["rep_wangfang"] not in html


def test_team_directory_masks_mobiles_without_unmask_list(demo_org, login, client):
    login("director")
    html = client.get("/team/").content.decode()
    rows = directory_rows(html)
    assert len(rows) == Employee.objects.count()
    for username, mobile in MOBILES.items():
        assert mobile not in html, username
    assert "138****5678" in html
    assert "dir***@example.com" in html or "d***@example.com" in html


@pytest.fixture
def shanghai_manager_sees_mobiles(demo_org):
    """Give the Shanghai manager a role that shows contact data in lists."""
    clear = RoleFactory(code="t-clear-lists", entries=[Entry.TEAM],
                        operations=[Operation.UNMASK_LIST])
    membership = Employee.objects.get(user__username="mgr_shanghai").memberships.get()
    membership.extra_roles.add(clear)
    return clear


def test_team_directory_shows_mobiles_with_unmask_list(shanghai_manager_sees_mobiles, login,
                                                       client):
    login("mgr_shanghai")
    html = client.get("/team/").content.decode()
    assert MOBILES["rep_wangfang"] in html and MOBILES["rep_lilei"] in html
    assert "138****5678" not in html
    assert "rep_wangfang@example.com" in html
    # Seeing in clear does not widen the scope.
    assert MOBILES["rep_zhangwei"] not in html


def test_htmx_fragment_returns_only_rows_and_masks(demo_org, login, client):
    login("mgr_shanghai")
    full = client.get("/team/")
    fragment = client.get("/team/", headers={"HX-Request": "true"})

    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in html and 'data-testid="main-nav"' not in html
    assert directory_rows(html) == directory_rows(full.content.decode())
    assert len(directory_rows(html)) == 3  # the manager and the two Shanghai reps
    assert "138****5678" in html and MOBILES["rep_wangfang"] not in html


def test_htmx_fragment_shows_mobiles_to_a_role_with_unmask_list(shanghai_manager_sees_mobiles,
                                                                login, client):
    login("mgr_shanghai")
    html = client.get("/team/", headers={"HX-Request": "true"}).content.decode()
    assert MOBILES["rep_wangfang"] in html


def test_full_page_and_fragment_are_cached_apart(demo_org, login, client):
    """Same URL, two bodies: caches must key on the HX-Request header."""
    login("mgr_shanghai")
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/team/", headers=headers)
        assert "HX-Request" in response.get("Vary", ""), headers


def test_team_directory_unit_filter(demo_org, login, client):
    login("director")
    hangzhou = OrgUnit.objects.get(code="east_hangzhou")
    html = client.get("/team/", {"unit": hangzhou.pk}, headers={"HX-Request": "true"})
    names = set(directory_rows(html.content.decode()))
    expected = set(
        Employee.objects.filter(memberships__org_unit=hangzhou).values_list("employee_no",
                                                                            flat=True)
    )
    assert names == expected and len(expected) == 3


def test_team_directory_pages_through_everyone(demo_org, login, client):
    shanghai = OrgUnit.objects.get(code="east_shanghai")
    position = Position.objects.get(code="sales_rep")
    for _ in range(PAGE_SIZE):
        add_member(EmployeeFactory(), shanghai, position)
    login("director")

    first = client.get("/team/").content.decode()
    rows = directory_rows(first)
    assert len(rows) == PAGE_SIZE
    after = re.search(r"after=(\d+)", first).group(1)
    second = client.get("/team/", {"after": after}, headers={"HX-Request": "true"})
    more = directory_rows(second.content.decode())

    assert set(rows).isdisjoint(more)
    assert len(rows) + len(more) == Employee.objects.count()
    assert "after=" not in second.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
def test_team_directory_query_count_is_constant(demo_org, login, client, htmx,
                                                django_assert_max_num_queries):
    login("director")
    headers = {"HX-Request": "true"} if htmx else {}
    shanghai = OrgUnit.objects.get(code="east_shanghai")
    position = Position.objects.get(code="sales_rep")

    with CaptureQueriesContext(connection) as small:
        response = client.get("/team/", headers=headers)
    assert response.status_code == 200
    shown = len(directory_rows(response.content.decode()))

    # Grow to 40 people (still one page), each with a supervisor and a unit to show.
    while Employee.objects.count() < 40:
        supervisor = EmployeeFactory()
        add_member(supervisor, shanghai, position)
        add_member(EmployeeFactory(supervisor=supervisor), shanghai, position)
    assert Employee.objects.count() <= PAGE_SIZE

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/team/", headers=headers)
    assert len(directory_rows(response.content.decode())) == Employee.objects.count() > shown


def test_zh_hans_is_the_default_language(demo_org, login, client):
    login("rep_wangfang")
    html = client.get("/workbench/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'data-testid="current-user"' in html
    assert "王芳" in html
    with translation.override("zh-hans"):
        assert gettext("Sales workbench") in html


def test_switching_to_english_changes_the_page_text(demo_org, login, client):
    login("rep_wangfang")
    chinese = client.get("/workbench/").content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/workbench/"})
    assert response.status_code == 302

    html = client.get("/workbench/").content.decode()
    assert '<html lang="en">' in html
    assert "Wang Fang" in html and "Wang Fang" not in chinese
    assert "Sales workbench" in html and "Sales workbench" not in chinese
    assert "Sign out" in html and "Sign out" not in chinese
    with translation.override("zh-hans"):
        assert gettext("Sign out") in chinese

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/workbench/"})
    assert '<html lang="zh-hans">' in client.get("/workbench/").content.decode()


def test_login_page_follows_the_language_too(db, client):
    assert '<html lang="zh-hans">' in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html and "Sign in to LeadPool CRM" in html


def test_health_reports_the_database(db, client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
