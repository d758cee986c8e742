"""Pages as users see them: creating an order from a won opportunity, scope on every URL
and attachment download, masking in the export, constant queries on the lists."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import ApprovalStep, Contract, Order
from contracts.services import agreements, approvals, orders, payments
from tests.helpers import user

from .conftest import PDF, PNG, make_contract, make_order, upload


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_order_from_a_won_opportunity(won, products, client_for):
    rep = client_for("rep_wangfang")
    page = rep.get(f"/contracts/orders/new/?opportunity={won.pk}").content.decode()
    assert "上海锦程智能制造有限公司" in page and 'value="1"' in page  # prefilled line
    response = rep.post("/contracts/orders/new/", {
        "opportunity": won.pk, "signed_on": "2026-11-20", "notes": "",
        "lines-TOTAL_FORMS": 2, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 100,
        "lines-0-product": products[1].pk, "lines-0-quantity": "2",
        "lines-0-unit_price": "4821.00", "lines-0-discount": "12.5",
        "lines-1-product": products[0].pk, "lines-1-quantity": "3",
        "lines-1-unit_price": "", "lines-1-discount": "",
        "total": "1.00",  # never trusted
    })
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contracts/orders/{order.pk}/"
    assert order.total == Decimal("8436.75") + Decimal("1650.00")
    assert order.opportunity == won and order.owner == user("rep_wangfang")
    detail = rep.get(response["Location"]).content.decode()
    assert "10,086.75" in detail


def test_an_open_opportunity_does_not_become_an_order(demo_org, products, client_for):
    from tests.pipeline.conftest import make_opportunity

    opp = make_opportunity(owner=user("rep_wangfang"), stage="proposal")
    response = client_for("rep_wangfang").get(f"/contracts/orders/new/?opportunity={opp.pk}")
    assert response.status_code == 302
    assert Order.objects.count() == 0


def test_another_rep_gets_404_everywhere(won, client_for):
    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer)
    contract = make_contract(wangfang, won.customer)
    attachment = agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                         upload=upload("scan.png", PNG))
    plan = payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
        payments.InstalmentInput(contract.start_on, Decimal("100"))])[0]
    lilei = client_for("rep_lilei")
    for url in (f"/contracts/orders/{order.pk}/", f"/contracts/{contract.pk}/",
                f"/contracts/attachments/{attachment.pk}/",
                f"/contracts/attachments/{attachment.pk}/?inline=1",
                f"/contracts/orders/new/?opportunity={won.pk}",
                f"/contracts/orders/new/?customer={won.customer_id}",
                f"/contracts/new/?order={order.pk}",
                f"/contracts/new/?customer={won.customer_id}"):
        assert lilei.get(url).status_code == 404, url
    for url, data in ((f"/contracts/orders/{order.pk}/confirm/", {}),
                      (f"/contracts/orders/{order.pk}/cancel/", {}),
                      (f"/contracts/{contract.pk}/do/submit/", {}),
                      (f"/contracts/{contract.pk}/do/attach/", {"file": upload("x.pdf", PDF)}),
                      (f"/contracts/{contract.pk}/do/allocate/", {"order": order.pk,
                                                                  "amount": "1"}),
                      (f"/contracts/contract/{contract.pk}/plan/", {"lines": "2030-01-01 1"}),
                      (f"/contracts/contract/{contract.pk}/payment/",
                       {"instalment": plan.pk, "amount": "1", "received_on": "2026-01-01"}),
                      (f"/contracts/order/{order.pk}/plan/", {"lines": "2030-01-01 1"})):
        assert lilei.post(url, data).status_code == 404, url
    for url in ("/contracts/orders/", "/contracts/"):
        assert contract.number not in lilei.get(url).content.decode()
        assert str(order) not in lilei.get(url).content.decode()
    # Reps see no receivables page and no approvals of others.
    assert lilei.get("/contracts/receivables/").status_code == 403
    order.refresh_from_db()
    contract.refresh_from_db()
    assert order.status == "draft" and contract.status == "draft"
    assert contract.attachments.count() == 1
    # The owner downloads; the manager of the team sees it read-only.
    owner_download = client_for("rep_wangfang").get(f"/contracts/attachments/{attachment.pk}/")
    assert owner_download.status_code == 200
    assert b"".join(owner_download.streaming_content) == PNG
    assert client_for("mgr_shanghai").get(f"/contracts/{contract.pk}/").status_code == 200
    assert client_for("mgr_hangzhou").get(f"/contracts/{contract.pk}/").status_code == 404


def test_upload_refusals_are_clear_and_store_nothing(won, client_for):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer)
    rep = client_for("rep_wangfang")
    response = rep.post(f"/contracts/{contract.pk}/do/attach/",
                        {"file": upload("合同.pdf", b"GIF89a not a pdf")}, follow=True)
    assert "不是 PDF 文件" in response.content.decode() or "is not a PDF" in \
        response.content.decode()
    assert contract.attachments.count() == 0


def test_export_masks_the_address_and_stays_in_scope(won, client_for):
    won.customer.address = "上海市浦东新区张江路 123 号"
    won.customer.save()
    make_order(user("rep_wangfang"), won.customer)
    make_order(user("rep_zhangwei"), won.customer)
    rows = _csv(client_for("mgr_shanghai").get("/contracts/orders/export.csv"))
    assert len(rows) == 2  # header + the Shanghai team's order only
    assert "张江路" not in rows[1][2] and rows[1][2].endswith("****")
    assert client_for("rep_wangfang").get("/contracts/orders/export.csv").status_code == 403


@pytest.mark.parametrize("url", ["/contracts/orders/", "/contracts/", "/contracts/receivables/"])
def test_lists_cost_the_same_at_two_sizes(won, client_for, url):
    wangfang = user("rep_wangfang")
    manager = client_for("mgr_shanghai")

    def grow(n):
        for _ in range(n):
            order = make_order(wangfang, won.customer)
            contract = make_contract(wangfang, won.customer, "1000")
            payments.payment_plan_set(user=wangfang, order_id=order.pk, instalments=[
                payments.InstalmentInput(contract.end_on, Decimal("50"))])

    grow(2)
    manager.get(url)
    with CaptureQueriesContext(connection) as small:
        assert manager.get(url).status_code == 200
    grow(12)
    with CaptureQueriesContext(connection) as large:
        assert manager.get(url).status_code == 200
    assert len(large) == len(small)


def test_manager_approves_from_the_inbox(won, band, client_for):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer, "20000")
    rep = client_for("rep_wangfang")
    rep.post(f"/contracts/{contract.pk}/do/submit/")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING_APPROVAL
    manager = client_for("mgr_shanghai")
    inbox = manager.get("/contracts/approvals/").content.decode()
    assert contract.number in inbox
    step = ApprovalStep.objects.get(request__contract=contract, position=1)
    # Another manager cannot decide it, even by URL.
    assert client_for("mgr_hangzhou").post(
        f"/contracts/approvals/{step.pk}/approve/").status_code == 404
    manager.post(f"/contracts/approvals/{step.pk}/approve/", {"comment": "同意"})
    step.refresh_from_db()
    assert step.status == "approved" and step.comment == "同意"
    assert contract.number not in manager.get("/contracts/approvals/").content.decode().split(
        "Recently decided")[0].split("最近处理")[0]


def test_customer_page_shows_deals_in_scope(won, client_for):
    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer, (1, "1234.5", 0))
    contract = make_contract(wangfang, won.customer, "8888")
    payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
        payments.InstalmentInput(contract.start_on, Decimal("8888"))])
    page = client_for("rep_wangfang").get(f"/customers/{won.customer_id}/").content.decode()
    assert str(order) in page and contract.number in page and "8,888.00" in page


def test_receivables_pages_on_by_due_date(won, client_for):
    from datetime import timedelta

    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer, "100000")
    payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
        payments.InstalmentInput(contract.start_on + timedelta(days=n), Decimal("100"))
        for n in range(60)])
    manager = client_for("mgr_shanghai")
    first = manager.get("/contracts/receivables/").content.decode()
    assert first.count("#1<") + first.count(f"{contract.number}</a> #") >= 50
    import re

    cursor = re.search(r"after=([\w-]+)", first).group(1)
    more = manager.get(f"/contracts/receivables/?after={cursor}", HTTP_HX_REQUEST="true")
    assert more.status_code == 200 and more.content.decode().count(contract.number) == 10


def test_order_over_the_threshold_is_confirmed_by_approval(won):
    from contracts.models import ApprovalBand, ApprovalBandStep

    band = ApprovalBand.objects.create(subject="order", name="大单", min_amount=100000)
    ApprovalBandStep.objects.create(band=band, position=1, kind="named",
                                    approver=user("director"))
    wangfang = user("rep_wangfang")
    small = make_order(wangfang, won.customer, (1, "99999.99", 0))
    big = make_order(wangfang, won.customer, (1, "100000", 0))
    assert orders.order_confirm(order_id=small.pk, user=wangfang).status == "confirmed"
    assert orders.order_confirm(order_id=big.pk, user=wangfang).status == "pending_approval"
    step = ApprovalStep.objects.get(request__order=big)
    approvals.approval_decide(step_id=step.pk, user=user("director"), approve=True)
    big.refresh_from_db()
    assert big.status == "confirmed" and big.approved_at is not None


def test_owner_edits_a_draft_orders_lines_and_the_total_follows(won, products, client_for):
    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer, (1, "100.00", 0))
    assert client_for("rep_lilei").get(f"/contracts/orders/{order.pk}/edit/").status_code == 404
    rep = client_for("rep_wangfang")
    assert "100.00" in rep.get(f"/contracts/orders/{order.pk}/edit/").content.decode()
    response = rep.post(f"/contracts/orders/{order.pk}/edit/", {
        "signed_on": "", "notes": "改为两台",
        "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 100, "lines-0-product": products[0].pk,
        "lines-0-quantity": "2", "lines-0-unit_price": "0.13", "lines-0-discount": "3"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("0.25") and order.notes == "改为两台"  # 0.2522 → 0.25
    orders.order_confirm(order_id=order.pk, user=wangfang)
    response = rep.get(f"/contracts/orders/{order.pk}/edit/")
    assert response.status_code == 302 and response["Location"].endswith(f"/{order.pk}/")
