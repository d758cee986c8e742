"""Edit forms for a rep without the detail unmask right, in a real browser: the stored
mobile and address are never in the page, their masked forms are the placeholders, and
saving without typing keeps them. Screenshots: ``tests/artifacts/browser/masking-*``."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MOBILE, ADDRESS = "13911112222", "上海市浦东新区世纪大道100号"


@pytest.fixture
def masked_rep(demo_site):
    from django.contrib.auth import get_user_model

    from orgs.models import Role
    from orgs.rights import Operation
    from tests.customers.conftest import make_contact, make_customer

    role = Role.objects.get(code="sales_rep")
    role.operations = [op for op in role.operations if op != Operation.UNMASK_DETAIL]
    role.save()
    rep = get_user_model().objects.get(username="rep_wangfang")
    customer = make_customer(rep, "上海星辰科技有限公司", address=ADDRESS)
    contact = make_contact(customer, "刘经理", mobile=MOBILE, email="liu@example.com")
    return customer, contact


def test_edit_forms_show_masked_placeholders_and_keep_stored_values(
        page, sign_in, demo_site, masked_rep, shot):
    from opportunities.models import ContactMethod, Customer

    customer, contact = masked_rep
    sign_in(page, "rep_wangfang")
    page.goto(f"{demo_site}/contacts/{contact.pk}/edit/")
    mobile = page.locator("input[placeholder='139****2222']")
    expect(mobile).to_have_value("")
    assert MOBILE not in page.content()
    shot(page, "masking-contact-form")
    page.locator("input[name=name]").fill("刘总")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("联系人已保存")).to_be_visible()
    assert ContactMethod.objects.get(contact=contact, kind="mobile").value == MOBILE

    page.goto(f"{demo_site}/customers/{customer.pk}/edit/")
    address = page.locator("input[name=address]")
    expect(address).to_have_value("")
    expect(address).to_have_attribute("placeholder", "上海市浦东****")
    assert "世纪大道" not in page.content()
    shot(page, "masking-customer-form")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("客户已保存")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).address == ADDRESS
