"""Customer and contact pages: scope, masking, forms and constant query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opportunities.models import Contact, ContactMethod, Customer, CustomerContact
from tests.customers.conftest import make_contact, make_customer, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(wangfang, zhangwei, pool):
    mine = make_customer(wangfang, "上海星辰科技有限公司", grade="A", region="east")
    theirs = make_customer(zhangwei, "杭州云帆网络有限公司")
    contact = make_contact(mine, "刘经理", mobile="13911112222", email="liu@example.com",
                           role="采购经理")
    other_contact = make_contact(theirs, "陈总", mobile="13933334444")
    return {"mine": mine, "theirs": theirs, "contact": contact, "other_contact": other_contact}


def test_rep_lists_only_own_customers_masked(setup, client_for):
    client = client_for("rep_wangfang")
    response = client.get("/customers/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "上海星辰科技有限公司" in body
    assert "杭州云帆网络有限公司" not in body
    # Reps may not unmask in lists: the primary contact's mobile is masked.
    assert "139****2222" in body and "13911112222" not in body


def test_customer_list_filters(setup, client_for, wangfang):
    make_customer(wangfang, "北京普通客户", grade="C", region="north")
    client = client_for("rep_wangfang")
    body = client.get("/customers/?grade=A").content.decode()
    assert "上海星辰科技有限公司" in body and "北京普通客户" not in body
    body = client.get("/customers/?region=north").content.decode()
    assert "北京普通客户" in body and "上海星辰科技有限公司" not in body
    body = client.get("/customers/?q=星辰").content.decode()
    assert "上海星辰科技有限公司" in body and "北京普通客户" not in body
    fragment = client.get("/customers/?q=星辰", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "上海星辰科技有限公司" in fragment


def test_manager_sees_team_customers(setup, client_for):
    body = client_for("mgr_shanghai").get("/customers/").content.decode()
    assert "上海星辰科技有限公司" in body and "杭州云帆网络有限公司" not in body


def test_detail_shows_contacts_clear_for_owner(setup, client_for):
    customer = setup["mine"]
    body = client_for("rep_wangfang").get(f"/customers/{customer.pk}/").content.decode()
    assert "13911112222" in body and "liu@example.com" in body
    assert "采购经理" in body and 'data-testid="followups-slot"' in body


def test_every_url_of_another_reps_customer_is_refused(setup, client_for):
    client = client_for("rep_wangfang")
    theirs, other_contact = setup["theirs"], setup["other_contact"]
    for url in (f"/customers/{theirs.pk}/", f"/customers/{theirs.pk}/edit/",
                f"/contacts/{other_contact.pk}/", f"/contacts/{other_contact.pk}/edit/",
                f"/contacts/new/?customer={theirs.pk}"):
        assert client.get(url).status_code == 404, url
    posts = {
        f"/customers/{theirs.pk}/edit/": {"name": "hijack", "kind": "company"},
        f"/customers/{theirs.pk}/star/": {"starred": "1"},
        f"/customers/{theirs.pk}/transfer/": {"to_rep": setup["mine"].owner_id},
        f"/customers/{theirs.pk}/merge/": {"survivor": setup["mine"].pk, "other": theirs.pk},
        f"/contacts/{other_contact.pk}/edit/": {"name": "x"},
        f"/contacts/{other_contact.pk}/merge/": {"survivor": setup["contact"].pk,
                                                 "other": other_contact.pk},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    # Merging from one's own page cannot reach the other rep's record either.
    response = client.post(f"/customers/{setup['mine'].pk}/merge/",
                           {"survivor": setup["mine"].pk, "other": theirs.pk}, follow=True)
    assert "Both customers must be in your scope" in response.content.decode() or \
        "两个客户都必须" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.merged_into_id is None and theirs.name == "杭州云帆网络有限公司"
    assert not theirs.is_starred


def test_rep_without_entry_is_refused(demo_org, client_for):
    assert client_for("qa_hemei").get("/customers/").status_code == 403


def test_export_masks_without_unmask_export(setup, client_for):
    response = client_for("mgr_shanghai").get("/customers/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert "上海星辰科技有限公司" in body and "139****2222" in body
    assert "13911112222" not in body and "杭州云帆网络有限公司" not in body
    body = b"".join(client_for("director").get("/customers/export.csv")
                    .streaming_content).decode()
    assert "13911112222" in body  # the director may export in clear
    assert client_for("rep_wangfang").get("/customers/export.csv").status_code == 403


def test_create_customer_and_contact_with_methods(wangfang, client_for):
    client = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/customers/new/", {"kind": "company", "name": ""})
    assert response.status_code == 400
    response = client.post("/customers/new/", {"kind": "company", "name": "Acme 上海"})
    customer = Customer.objects.get(name="Acme 上海")
    assert response.status_code == 302 and customer.owner == wangfang
    assert customer.name_key == "acme上海"
    data = {"customer": customer.pk, "name": "Li", "title": "CTO", "role": "决策人",
            "methods-TOTAL_FORMS": "2", "methods-INITIAL_FORMS": "0",
            "methods-0-kind": "mobile", "methods-0-value": "+86 139-0000-1111",
            "methods-0-is_primary": "on",
            "methods-1-kind": "email", "methods-1-value": "li@example.com",
            "methods-1-is_primary": "on"}
    response = client.post("/contacts/new/", data)
    assert response.status_code == 400
    assert "Mark exactly one contact method as primary." in response.content.decode()
    data.pop("methods-1-is_primary")
    data["methods-1-value"] = "not-an-address"
    response = client.post("/contacts/new/", data)
    assert "This is not an e-mail address." in response.content.decode()
    data["methods-1-value"] = "li@example.com"
    response = client.post("/contacts/new/", data)
    assert response.status_code == 302
    contact = Contact.objects.get(name="Li")
    link = CustomerContact.objects.get(contact=contact)
    assert link.customer == customer and link.role == "决策人" and link.is_primary
    keys = set(ContactMethod.objects.filter(contact=contact).values_list("value_key",
                                                                         "is_primary"))
    assert keys == {("13900001111", True), ("li@example.com", False)}


def test_validation_messages_in_chinese(wangfang, client_for):
    client = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies["django_language"] = "zh-hans"
    body = client.post("/contacts/new/", {
        "name": "张三", "methods-TOTAL_FORMS": "1", "methods-INITIAL_FORMS": "0",
        "methods-0-kind": "mobile", "methods-0-value": "12"}).content.decode()
    assert "这不是电话号码。" in body


def test_contact_acting_for_several_customers(setup, wangfang, client_for):
    second = make_customer(wangfang, "星辰二号")
    CustomerContact.objects.create(customer=second, contact=setup["contact"], role="顾问")
    body = client_for("rep_wangfang").get(f"/contacts/{setup['contact'].pk}/").content.decode()
    assert "上海星辰科技有限公司" in body and "星辰二号" in body and "顾问" in body
    body = client_for("rep_wangfang").get("/contacts/").content.decode()
    assert "刘经理" in body and "陈总" not in body and "139****2222" in body


def _populate(owner, n: int, pool):
    for i in range(n):
        customer = make_customer(owner, f"批量客户{i}-{n}", grade="B")
        make_contact(customer, f"联系人{i}")
        make_opportunity(customer, owner)
        lead = make_lead(pool, owner=owner)
        lead.customer = customer
        lead.save(update_fields=["customer"])


def test_list_and_detail_queries_constant(wangfang, pool, client_for,
                                          django_assert_max_num_queries):
    client = client_for("rep_wangfang")
    _populate(wangfang, 3, pool)
    client.get("/customers/")  # warm per-process caches
    with django_assert_max_num_queries(16) as small:
        client.get("/customers/")
    _populate(wangfang, 30, pool)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/customers/")
    customer = make_customer(wangfang, "详情客户")
    for i in range(2):
        make_contact(customer, f"甲{i}")
        opp = make_opportunity(customer, wangfang)
        opp.stage_changes.create(from_stage="prospecting", to_stage="proposal")
        lead = make_lead(pool, owner=wangfang)
        lead.customer = customer
        lead.save(update_fields=["customer"])
    url = reverse("customer_detail", args=[customer.pk])
    client.get(url)
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    for i in range(10):
        make_contact(customer, f"乙{i}")
        opp = make_opportunity(customer, wangfang)
        opp.stage_changes.create(from_stage="prospecting", to_stage="proposal")
        lead = make_lead(pool, owner=wangfang)
        lead.customer = customer
        lead.save(update_fields=["customer"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(url).content.decode()
    assert body.count('data-kind="stage"') == 12


def test_list_fragment_and_load_more_stay_masked(setup, wangfang, client_for):
    for i in range(55):
        make_customer(wangfang, f"翻页客户{i}")
    client = client_for("rep_wangfang")
    first = client.get("/customers/", HTTP_HX_REQUEST="true").content.decode()
    assert "139****2222" not in first  # the oldest customer is on the next page
    import re

    cursor = re.search(r"after=([\w-]+)", first).group(1)
    more = client.get(f"/customers/?after={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert "上海星辰科技有限公司" in more and "139****2222" in more
    assert "13911112222" not in more and "<html" not in more


def test_link_and_unlink_a_contact(setup, wangfang, zhangwei, client_for):
    client = client_for("rep_wangfang")
    second = make_customer(wangfang, "第二家")
    contact = setup["contact"]
    response = client.post(f"/contacts/{contact.pk}/link/",
                           {"customer": second.pk, "role": "顾问"})
    assert response.status_code == 302
    assert CustomerContact.objects.get(customer=second, contact=contact).role == "顾问"
    # Another rep's customer cannot be linked to, nor unlinked from.
    client.post(f"/contacts/{contact.pk}/link/", {"customer": setup["theirs"].pk})
    assert not CustomerContact.objects.filter(customer=setup["theirs"], contact=contact).exists()
    other = setup["other_contact"]
    assert client.post(f"/contacts/{other.pk}/unlink/",
                       {"customer": setup["theirs"].pk}).status_code == 404
    client.post(f"/contacts/{contact.pk}/unlink/", {"customer": second.pk})
    assert not CustomerContact.objects.filter(customer=second, contact=contact).exists()


def test_admin_masks_contact_methods_without_unmask_right(setup, client_for, db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from tests.helpers import MODEL_BACKEND

    support = get_user_model().objects.create_user("support", is_staff=True)
    support.user_permissions.set(Permission.objects.filter(
        content_type__app_label="opportunities"))
    from django.test import Client

    client = Client()
    client.force_login(support, backend=MODEL_BACKEND)
    body = client.get("/admin/opportunities/contact/").content.decode()
    assert "139****2222" in body and "13911112222" not in body
    url = f"/admin/opportunities/contact/{setup['contact'].pk}/change/"
    body = client.get(url).content.decode()
    assert "139****2222" in body and "13911112222" not in body
    admin_body = client_for("admin").get("/admin/opportunities/contact/").content.decode()
    assert "13911112222" in admin_body


def test_contact_list_queries_constant(wangfang, client_for, django_assert_max_num_queries):
    client = client_for("rep_wangfang")
    for i in range(3):
        make_contact(make_customer(wangfang), f"甲{i}")
    client.get("/contacts/")
    with django_assert_max_num_queries(14) as small:
        client.get("/contacts/")
    for i in range(30):
        make_contact(make_customer(wangfang), f"乙{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/contacts/")


def test_manager_filters_by_rep(setup, lilei, client_for):
    make_customer(lilei, "李磊的客户")
    client = client_for("mgr_shanghai")
    body = client.get("/customers/").content.decode()
    assert "李磊的客户" in body and "上海星辰科技有限公司" in body and 'id="id_owner"' in body
    body = client.get(f"/customers/?owner={lilei.pk}").content.decode()
    assert "李磊的客户" in body and "上海星辰科技有限公司" not in body
    assert 'id="id_owner"' not in client_for("rep_wangfang").get("/customers/").content.decode()
