"""Customers through a real browser: the list, a customer page, and a duplicate merge from
the possible-duplicates panel. Screenshots land in ``tests/artifacts/browser/customers-*``."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def duplicate_customers(demo_site):
    from django.contrib.auth import get_user_model

    from leads.models import FollowUp
    from tests.customers.conftest import make_contact, make_customer, make_opportunity

    rep = get_user_model().objects.get(username="rep_wangfang")
    keep = make_customer(rep, "上海星辰科技有限公司", grade="A", region="east",
                         industry="technology")
    twin = make_customer(rep, "上海星辰科技 有限公司", grade="B")
    make_contact(keep, "刘经理", mobile="13911112222", role="采购经理")
    make_contact(twin, "陈工", mobile="13933334444", role="技术负责人")
    make_opportunity(twin, rep, amount="250000", stage="proposal")
    FollowUp.objects.create(customer=twin, author=rep, kind="visit", outcome="interested",
                            content="现场演示，客户很感兴趣")
    return keep, twin


def test_merge_a_duplicate_from_the_panel(page, sign_in, demo_site, duplicate_customers,
                                          shot):
    from opportunities.models import Customer

    keep, twin = duplicate_customers
    sign_in(page, "rep_wangfang")
    page.goto(f"{demo_site}/customers/")
    expect(page.get_by_test_id("customers")).to_contain_text("上海星辰科技有限公司")
    expect(page.get_by_test_id("customers")).to_contain_text("139****2222")
    shot(page, "customers-list")

    page.goto(f"{demo_site}/customers/{keep.pk}/")
    panel = page.get_by_test_id("duplicates")
    expect(panel).to_contain_text("上海星辰科技 有限公司")
    expect(panel).to_contain_text("公司名称相同")
    shot(page, "customers-detail-with-duplicate")

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_test_id(f"merge-form-{twin.pk}").get_by_test_id("keep-this").click()
    expect(page.get_by_text("已合并")).to_be_visible()
    expect(page.get_by_test_id("contacts")).to_contain_text("陈工")
    expect(page.get_by_test_id("contacts")).to_contain_text("13933334444")
    expect(page.get_by_test_id("timeline")).to_contain_text("现场演示")
    expect(page.get_by_test_id("duplicates")).to_contain_text("没有疑似重复的记录")
    shot(page, "customers-after-merge")
    assert Customer.objects.get(pk=twin.pk).merged_into_id == keep.pk

    # The merged customer's old address leads to the survivor.
    page.goto(f"{demo_site}/customers/{twin.pk}/")
    expect(page.get_by_test_id("customer-name")).to_contain_text("上海星辰科技有限公司")
    shot(page, "customers-merged-address")

    # The contact page: methods in clear for the owner, the customers it acts for.
    page.get_by_test_id("contacts").get_by_role("link", name="陈工").click()
    expect(page.get_by_test_id("methods")).to_contain_text("13933334444")
    expect(page.get_by_test_id("links")).to_contain_text("上海星辰科技有限公司")
    shot(page, "customers-contact-page")
