"""Contact data on customer and contact pages and their edit forms, for a viewer without
the detail unmask right: never sent in clear, and kept as stored unless a new value is
typed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm_site.lib.masking import mask_address
from opportunities.models import ContactMethod, Customer
from orgs.models import Role
from orgs.rights import Operation
from tests.customers.conftest import make_contact, make_customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "上海市浦东新区世纪大道100号"


def _without_detail_unmask():
    role = Role.objects.get(code="sales_rep")
    role.operations = [op for op in role.operations if op != Operation.UNMASK_DETAIL]
    role.save()


@pytest.fixture
def mine(wangfang):
    customer = make_customer(wangfang, "上海星辰科技有限公司", address=ADDRESS)
    contact = make_contact(customer, "刘经理", mobile="13911112222", email="liu@example.com")
    return customer, contact


def _method_post(contact, values: dict[int, str], name: str = "刘经理") -> dict:
    methods = list(contact.methods.order_by("-is_primary", "pk"))
    data = {"name": name, "title": "", "notes": "",
            "methods-TOTAL_FORMS": str(len(methods)), "methods-INITIAL_FORMS": "0"}
    for n, method in enumerate(methods):
        data[f"methods-{n}-kind"] = method.kind
        data[f"methods-{n}-value"] = values.get(n, "")
        data[f"methods-{n}-stored"] = str(method.pk)
        if method.is_primary:
            data[f"methods-{n}-is_primary"] = "on"
    return data


def test_the_contact_form_shows_masked_placeholders_and_keeps_stored_values(
        mine, client_for):
    _customer, contact = mine
    _without_detail_unmask()
    client = client_for("rep_wangfang")
    page = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert "13911112222" not in page and "liu@example.com" not in page
    assert 'placeholder="139****2222"' in page and 'placeholder="l***@example.com"' in page

    # Saved without typing: the stored values stay (the name changes).
    response = client.post(f"/contacts/{contact.pk}/edit/", _method_post(contact, {}, "刘总"))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "刘总"
    assert sorted(contact.methods.values_list("value", flat=True)) == [
        "13911112222", "liu@example.com"]

    # A value typed in replaces the stored one.
    response = client.post(f"/contacts/{contact.pk}/edit/",
                           _method_post(contact, {0: "13955556666"}, "刘总"))
    assert response.status_code == 302
    assert sorted(ContactMethod.objects.filter(contact=contact)
                  .values_list("value", flat=True)) == ["13955556666", "liu@example.com"]


def test_a_stored_method_of_another_contact_cannot_be_borrowed(mine, wangfang, client_for):
    _customer, contact = mine
    stranger = make_contact(None, "外人", mobile="13977778888")
    _without_detail_unmask()
    data = _method_post(contact, {})
    data["methods-0-stored"] = str(stranger.methods.get().pk)
    client_for("rep_wangfang").post(f"/contacts/{contact.pk}/edit/", data)
    assert "13977778888" not in ContactMethod.objects.filter(contact=contact).values_list(
        "value", flat=True)


def test_the_contact_form_is_in_clear_for_a_viewer_who_may_unmask(mine, client_for):
    _customer, contact = mine
    page = client_for("rep_wangfang").get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert 'value="13911112222"' in page


def test_customer_address_is_masked_on_the_page_and_the_form(mine, client_for):
    customer, _contact = mine
    _without_detail_unmask()
    client = client_for("rep_wangfang")
    for url in (f"/customers/{customer.pk}/", f"/customers/{customer.pk}/edit/"):
        page = client.get(url).content.decode()
        assert "世纪大道" not in page, url
        assert mask_address(ADDRESS) in page, url

    # Saving the form without typing an address keeps the stored one.
    form = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()
            if name in form.fields}
    data.update({"name": "上海星辰科技有限公司", "kind": customer.kind, "address": ""})
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(pk=customer.pk).address == ADDRESS


def test_customer_address_is_in_clear_for_the_owner_who_may_unmask(mine, client_for):
    customer, _contact = mine
    client = client_for("rep_wangfang")
    assert ADDRESS in client.get(f"/customers/{customer.pk}/").content.decode()
    assert ADDRESS in client.get(f"/customers/{customer.pk}/edit/").content.decode()


def test_customer_admin_masks_address_and_attributes_for_staff_without_unmask(mine, client):
    customer, _contact = mine
    Customer.objects.filter(pk=customer.pk).update(attributes={"备用电话": "13800001111"})
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_customer", "change_customer"]))
    client.force_login(staff)
    listing = client.get(reverse("admin:opportunities_customer_changelist")).content.decode()
    page = client.get(reverse("admin:opportunities_customer_change", args=[customer.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "上海星辰科技有限公司" in listing
    for text in (listing, body):
        assert "世纪大道" not in text and "13800001111" not in text
    assert mask_address(ADDRESS) in body and "138****1111" in body
