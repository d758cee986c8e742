"""Money, numbering, allocations, attachments, approvals, payments and sweeps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contracts.models import (
    ApprovalStep,
    Contract,
    ContractAttachment,
    Order,
    PaymentInstalment,
)
from contracts.money import line_total, order_total
from contracts.services import agreements, approvals, common, orders, payments, renewals
from leads.models import FollowUp
from notifications.models import Notification
from tests.helpers import user

from .conftest import PDF, PNG, make_contract, make_order, upload


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English here; the pages check the Chinese ones."""
    from django.utils import translation

    with translation.override("en"):
        yield


def test_line_totals_round_half_up_per_line_and_add_up():
    assert line_total(Decimal("3"), Decimal("0.335")) == Decimal("1.01")  # 1.005 → 1.01
    assert line_total("1", "10.005", "0") == Decimal("10.01")
    assert line_total("3", "33.33", "10") == Decimal("89.99")  # 89.991
    # Rounded per line: two lines of 1.005 make 2.02, not round(2.01) = 2.01.
    assert order_total([("1", "1.005", "0"), ("1", "1.005", "0")]) == Decimal("2.02")
    assert isinstance(order_total([("2", "0.1", "0")]), Decimal)


def test_order_total_is_computed_on_the_server(won):
    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer, (3, "0.335", 0), (2, "4821.00", "12.5"),
                       opportunity=won)
    order.refresh_from_db()
    assert order.total == Decimal("1.01") + Decimal("8436.75")
    assert [li.line_total for li in order.lines.all()] == [Decimal("1.01"), Decimal("8436.75")]
    with pytest.raises(ValidationError):
        make_order(wangfang, won.customer, (1, "10", "120"))
    with pytest.raises(ValidationError):
        make_order(wangfang, won.customer, (0, "10", "0"))
    assert Order.objects.count() == 1  # nothing half-saved


def test_contract_numbers_follow_the_pattern(settings, won):
    settings.CONTRACT_NUMBER_PATTERN = "HT{yyyy}{mm}-{seq:04d}"
    wangfang = user("rep_wangfang")
    first = make_contract(wangfang, won.customer)
    second = make_contract(wangfang, won.customer)
    prefix = f"HT{timezone.localdate():%Y%m}-"
    assert first.number == f"{prefix}0001"
    assert second.number == f"{prefix}0002"


def test_allocations_never_exceed_either_side(won):
    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer, (1, "30000", 0))
    other = make_order(wangfang, won.customer, (1, "40000", 0))
    contract = make_contract(wangfang, won.customer, "50000")
    agreements.allocation_set(contract_id=contract.pk, order_id=order.pk, amount="30000",
                            user=wangfang)
    with pytest.raises(common.ActionRefused, match=r"20,000|20000"):
        agreements.allocation_set(contract_id=contract.pk, order_id=other.pk, amount="25000",
                                user=wangfang)
    agreements.allocation_set(contract_id=contract.pk, order_id=other.pk, amount="20000",
                            user=wangfang)
    second = make_contract(wangfang, won.customer, "50000")
    with pytest.raises(common.ActionRefused):
        agreements.allocation_set(contract_id=second.pk, order_id=order.pk, amount="1",
                                user=wangfang)
    assert sum(a.amount for a in contract.allocations.all()) == Decimal("50000")


def test_attachments_are_checked_by_extension_size_and_content(won, settings):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer)
    a = agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                upload=upload("扫描件.png", PNG))
    assert a.kind == "image" and a.file.storage.exists(a.file.name)
    p = agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                upload=upload("contract.PDF", PDF))
    assert p.kind == "pdf"
    with pytest.raises(ValidationError, match="not an allowed file type"):
        agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                upload=upload("run.exe", b"MZ\x90\x00"))
    with pytest.raises(ValidationError, match=r"content of “fake\.pdf” is not a PDF"):
        agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                upload=upload("fake.pdf", b"<html><script>"))
    settings.CONTRACT_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="the limit is 100"):
        agreements.attachment_add(contract_id=contract.pk, user=wangfang,
                                upload=upload("big.pdf", PDF + b"0" * 200))
    assert ContractAttachment.objects.count() == 2


def test_contract_needs_approval_through_the_chain(won, band, django_capture_on_commit_callbacks):
    wangfang, mgr, director = (user("rep_wangfang"), user("mgr_shanghai"), user("director"))
    contract = make_contract(wangfang, won.customer, "50000")
    with django_capture_on_commit_callbacks(execute=True):
        contract = agreements.contract_activate(contract_id=contract.pk, user=wangfang)
    assert contract.status == Contract.Status.PENDING_APPROVAL
    steps = list(ApprovalStep.objects.filter(request__contract=contract).order_by("position"))
    assert [s.approver for s in steps] == [mgr, director]
    assert Notification.objects.filter(recipient=mgr, kind="approval_requested").exists()
    # The director cannot jump the queue; nobody else can decide.
    with pytest.raises(common.ActionRefused):
        approvals.approval_decide(step_id=steps[1].pk, user=director, approve=True)
    approvals.approval_decide(step_id=steps[0].pk, user=mgr, approve=True, comment="可以")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING_APPROVAL
    with pytest.raises(common.ActionRefused, match="already decided"):
        approvals.approval_decide(step_id=steps[0].pk, user=mgr, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approval_decide(step_id=steps[1].pk, user=director, approve=True)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE and contract.approved_at
    assert Notification.objects.filter(recipient=wangfang, kind="approval_approved").exists()


def test_rejection_needs_a_comment_and_returns_a_draft(won, band,
                                                      django_capture_on_commit_callbacks):
    wangfang, mgr = user("rep_wangfang"), user("mgr_shanghai")
    contract = make_contract(wangfang, won.customer, "50000")
    agreements.contract_activate(contract_id=contract.pk, user=wangfang)
    step = ApprovalStep.objects.get(request__contract=contract, position=1)
    with pytest.raises(ValidationError):
        approvals.approval_decide(step_id=step.pk, user=mgr, approve=False)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approval_decide(step_id=step.pk, user=mgr, approve=False, comment="金额有误")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT and contract.approved_at is None
    note = Notification.objects.get(recipient=wangfang, kind="approval_rejected")
    assert "金额有误" in note.text


def test_small_contract_activates_without_approval(won, band):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer, "9999.99")
    assert agreements.contract_activate(contract_id=contract.pk,
                                      user=wangfang).status == Contract.Status.ACTIVE


def test_payment_plan_payments_and_statuses(won, django_capture_on_commit_callbacks):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer, "100000")
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="more than the amount"):
        payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
            payments.InstalmentInput(today, Decimal("60000")),
            payments.InstalmentInput(today, Decimal("50000"))])
    first, second = payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
        payments.InstalmentInput(today - timedelta(days=1), Decimal("60000")),
        payments.InstalmentInput(today + timedelta(days=30), Decimal("40000"))])
    payments.payment_record(instalment_id=second.pk, user=wangfang, amount="10000",
                            received_on=today)
    with pytest.raises(ValidationError, match=r"30,000|30000"):
        payments.payment_record(instalment_id=second.pk, user=wangfang, amount="30000.01",
                                received_on=today)
    PaymentInstalment.objects.filter(pk=first.pk).update(status="pending")
    assert payments.payment_sweep(today=today) == 1
    statuses = dict(PaymentInstalment.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "overdue", second.pk: "partial"}
    assert payments.payment_sweep(today=today) == 0  # nothing left to change
    payments.payment_record(instalment_id=first.pk, user=wangfang, amount="60000",
                            received_on=today)
    assert PaymentInstalment.objects.get(pk=first.pk).status == "done"
    with django_capture_on_commit_callbacks(execute=True):
        assert payments.payment_reminder_sweep(today=today, days=40) == 1
    assert payments.payment_reminder_sweep(today=today, days=40) == 0
    assert Notification.objects.filter(recipient=wangfang, kind="payment_due").count() == 1


def test_renewal_sweep_plans_a_follow_up_once_and_expiry_flips(
        won, settings, django_capture_on_commit_callbacks):
    settings.CONTRACT_RENEWAL_DAYS = 30
    wangfang = user("rep_wangfang")
    today = timezone.localdate()
    ending = make_contract(wangfang, won.customer, "1000", days=20,
                           start=today - timedelta(days=10))
    later = make_contract(wangfang, won.customer, "1000", days=200)
    old = make_contract(wangfang, won.customer, "1000", days=10,
                        start=today - timedelta(days=40))
    Contract.objects.update(status=Contract.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        assert renewals.renewal_sweep(today=today) == 1
    assert renewals.renewal_sweep(today=today) == 0
    plan = FollowUp.objects.get(customer=won.customer)
    assert plan.plan_open and plan.author == wangfang and ending.number in plan.content
    won.customer.refresh_from_db()
    assert won.customer.next_followup_at == plan.next_at  # in the owner's agenda
    assert Notification.objects.filter(recipient=wangfang, kind="contract_renewal").count() == 1
    assert renewals.expiry_sweep(today=today) == 1
    assert Contract.objects.get(pk=old.pk).status == Contract.Status.EXPIRED
    assert Contract.objects.get(pk=later.pk).status == Contract.Status.ACTIVE


def test_grading_counts_signed_orders(won, settings):
    from opportunities.customers.grading import customers_grade

    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer, (1, "150000", 0))
    orders.order_confirm(order_id=order.pk, user=wangfang)
    make_order(wangfang, won.customer, (1, "900000", 0))  # a draft counts for nothing
    customers_grade(source="signed_orders")
    won.customer.refresh_from_db()
    assert won.customer.signed_amount_12m == Decimal("150000.00")
    assert won.customer.grade == "B"


def test_handover_moves_orders_contracts_plans_and_waiting_approvals(won, band):
    from orgs.handover import run_handover
    from orgs.models import Employee

    wangfang, lilei = user("rep_wangfang"), user("rep_lilei")
    order = make_order(wangfang, won.customer)
    contract = make_contract(wangfang, won.customer)
    payments.payment_plan_set(user=wangfang, contract_id=contract.pk, instalments=[
        payments.InstalmentInput(timezone.localdate(), Decimal("100"))])
    run_handover(employee=Employee.objects.get(user=wangfang),
                 successor=Employee.objects.get(user=lilei), actor=None)
    assert Order.objects.get(pk=order.pk).owner == lilei
    assert Contract.objects.get(pk=contract.pk).owner == lilei
    assert PaymentInstalment.objects.get(contract=contract).owner == lilei


def test_a_departed_managers_waiting_approvals_go_to_the_successor(won, band):
    from orgs.handover import run_handover
    from orgs.models import Employee

    wangfang, mgr, other = user("rep_wangfang"), user("mgr_shanghai"), user("mgr_hangzhou")
    contract = make_contract(wangfang, won.customer, "50000")
    agreements.contract_activate(contract_id=contract.pk, user=wangfang)
    run_handover(employee=Employee.objects.get(user=mgr),
                 successor=Employee.objects.get(user=other), actor=None)
    step = ApprovalStep.objects.get(request__contract=contract, position=1)
    assert step.approver == other and step.status == "current"


def test_status_changes_are_audited(won):
    from auditlog.models import LogEntry

    wangfang = user("rep_wangfang")
    order = make_order(wangfang, won.customer)
    orders.order_confirm(order_id=order.pk, user=wangfang)
    orders.order_mark_paid(order_id=order.pk, user=wangfang)
    changes = [e.changes_dict.get("status") for e in LogEntry.objects.get_for_object(order)
               .order_by("timestamp", "pk") if "status" in e.changes_dict]
    assert changes[-2:] == [["draft", "confirmed"], ["confirmed", "paid"]]
