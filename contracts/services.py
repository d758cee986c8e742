"""Writes of orders, contracts, allocations, approvals, payments and renewals.

Every write is one atomic function: it validates, locks the rows it changes in a fixed
order, writes, and defers notifications to after the commit. Money is Decimal throughout;
totals are recomputed here from the lines, never taken from a form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many
from opportunities.customers.grading import register_amount_source
from orgs.handover import register_handover_step
from orgs.models import Employee

from .attachments import check_attachment
from .models import (
    ApprovalBand,
    ApprovalBandStep,
    ApprovalRequest,
    ApprovalStep,
    Contract,
    ContractAttachment,
    ContractOrder,
    Order,
    OrderLine,
    Payment,
    PaymentInstalment,
    Product,
    Subject,
)
from .money import line_total, to_money

register_kind("approval_requested",
              gettext_lazy("%(subject)s %(number)s (%(amount)s) waits for your approval."),
              icon="bi-patch-question")
register_kind("approval_approved",
              gettext_lazy("%(subject)s %(number)s was approved by %(by)s."),
              icon="bi-patch-check")
register_kind("approval_rejected",
              gettext_lazy("%(subject)s %(number)s was rejected by %(by)s: %(comment)s"),
              icon="bi-patch-exclamation")
register_kind("payment_due",
              gettext_lazy("Payment %(amount)s from %(customer)s is due on %(due)s."),
              icon="bi-cash-coin")
register_kind("contract_renewal",
              gettext_lazy("Contract %(number)s with %(customer)s ends on %(end)s: "
                           "a renewal follow-up is planned."),
              icon="bi-arrow-repeat")


class ActionRefused(Exception):
    """An action the user may not take now; ``message`` says why, in their language."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _who(user) -> str:
    employee = getattr(user, "employee", None)
    return employee.display_name if employee else user.get_username()


# --- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal("0")


def _build_lines(lines: Sequence[LineInput]) -> list[OrderLine]:
    if not lines:
        raise ValidationError(_("An order needs at least one line."), code="no_lines")
    products = set(Product.objects.filter(pk__in={li.product_id for li in lines}, is_active=True)
                   .values_list("pk", flat=True))
    built = []
    for number, li in enumerate(lines, start=1):
        if li.product_id not in products:
            raise ValidationError(_("Line %(n)s: choose an active product.") % {"n": number})
        if li.quantity is None or li.quantity <= 0:
            raise ValidationError(_("Line %(n)s: the quantity must be above zero.") % {"n": number})
        if li.unit_price is None or li.unit_price < 0:
            raise ValidationError(_("Line %(n)s: the unit price cannot be negative.")
                                  % {"n": number})
        discount = li.discount or Decimal("0")
        if not Decimal("0") <= discount <= Decimal("100"):
            raise ValidationError(_("Line %(n)s: the discount is a percentage from 0 to 100.")
                                  % {"n": number})
        built.append(OrderLine(product_id=li.product_id, quantity=li.quantity,
                               unit_price=to_money(li.unit_price), discount=discount,
                               line_total=line_total(li.quantity, li.unit_price, discount)))
    return built


def order_create(*, user, customer, lines: Sequence[LineInput], opportunity=None,
                 signed_on: date | None = None, notes: str = "") -> Order:
    """A draft order with its lines; the total is the sum of the rounded line totals."""
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise ValidationError(_("The opportunity belongs to another customer."))
    built = _build_lines(lines)
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, opportunity=opportunity, owner=user, signed_on=signed_on,
            notes=notes, created_by=user, total=sum((li.line_total for li in built), Decimal("0")))
        for li in built:
            li.order = order
        OrderLine.objects.bulk_create(built)
    return order


def order_update_lines(*, order_id: int, user, lines: Sequence[LineInput],
                       signed_on: date | None = None, notes: str | None = None) -> Order:
    """Replace a draft order's lines and recompute its total."""
    built = _build_lines(lines)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.DRAFT:
            raise ActionRefused(_("Only a draft order can be changed."), "not_draft")
        if order.allocations.exists():
            allocated = order.allocations.aggregate(s=Sum("amount"))["s"]
            new_total = sum((li.line_total for li in built), Decimal("0"))
            if new_total < allocated:
                raise ActionRefused(_("Contracts already carry %(a)s of this order; the new "
                                      "total %(t)s would be less.") % {"a": allocated,
                                                                       "t": new_total})
        order.lines.all().delete()
        for li in built:
            li.order = order
        OrderLine.objects.bulk_create(built)
        order.total = sum((li.line_total for li in built), Decimal("0"))
        order.signed_on = signed_on
        if notes is not None:
            order.notes = notes
        order.save(update_fields=["total", "signed_on", "notes"])
    return order


def _transition(model, pk: int, allowed_from, to: str, **extra) -> bool:
    """Move the status only if it still is one of ``allowed_from``, under a row lock (so
    two clicks at once move it once) and through ``save`` (so the audit log records it)."""
    with transaction.atomic():
        row = (model.objects.select_for_update().filter(pk=pk, status__in=list(allowed_from))
               .first())
        if row is None:
            return False
        row.status = to
        for name, value in extra.items():
            setattr(row, name, value)
        row.save(update_fields=["status", *extra])
    return True


def order_confirm(*, order_id: int, user) -> Order:
    """Confirm a draft order; one whose amount falls in an approval band goes to approval."""
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.DRAFT:
        raise ActionRefused(_("Only a draft order can be confirmed."), "not_draft")
    if not order.lines.exists():
        raise ActionRefused(_("An order needs at least one line."), "no_lines")
    if band_for(Subject.ORDER, order.total) is not None:
        approval_submit(subject=Subject.ORDER, pk=order.pk, user=user)
    elif not _transition(Order, order.pk, [Order.Status.DRAFT], Order.Status.CONFIRMED,
                         signed_on=order.signed_on or timezone.localdate()):
        raise ActionRefused(_("Someone changed this order meanwhile; reload the page."))
    order.refresh_from_db()
    return order


def order_mark_paid(*, order_id: int, user) -> Order:
    if not _transition(Order, order_id, [Order.Status.CONFIRMED], Order.Status.PAID):
        raise ActionRefused(_("Only a confirmed order can be marked paid."), "not_confirmed")
    return Order.objects.get(pk=order_id)


def order_cancel(*, order_id: int, user) -> Order:
    with transaction.atomic():
        if not _transition(Order, order_id, [Order.Status.DRAFT, Order.Status.CONFIRMED],
                           Order.Status.CANCELLED):
            raise ActionRefused(_("A paid order, or one waiting for approval, cannot be "
                                  "cancelled."), "not_cancellable")
        # A cancelled order carries no revenue: its allocations are released.
        ContractOrder.objects.filter(order_id=order_id).delete()
    return Order.objects.get(pk=order_id)


# --- contracts -------------------------------------------------------------------------------

DEFAULT_NUMBER_PATTERN = "HT{yyyy}{mm}-{seq:04d}"
_PATTERN_KEY = re.compile(r"\{seq[^}]*\}")


def contract_number_next(*, today: date | None = None) -> str:
    """The next contract number from ``CONTRACT_NUMBER_PATTERN``.

    The sequence restarts for each distinct prefix (``HT202611-`` → its own counter) and is
    taken with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so two people creating
    contracts at the same moment never get the same number.
    """
    today = today or timezone.localdate()
    pattern = getattr(settings, "CONTRACT_NUMBER_PATTERN", DEFAULT_NUMBER_PATTERN)
    parts = {"yyyy": f"{today:%Y}", "yy": f"{today:%y}", "mm": f"{today:%m}",
             "dd": f"{today:%d}"}
    key = _PATTERN_KEY.sub("#", pattern).format(**parts)[:64]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contracts_contractsequence (key, value) VALUES (%s, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = contracts_contractsequence.value + 1 "
            "RETURNING value", [key])
        seq = cursor.fetchone()[0]
    return pattern.format(seq=seq, **parts)


def contract_create(*, user, customer, title: str, start_on: date, end_on: date,
                    amount, signed_on: date | None = None, notes: str = "") -> Contract:
    amount = to_money(amount)
    if end_on < start_on:
        raise ValidationError(_("The contract cannot end before it starts."))
    if amount <= 0:
        raise ValidationError(_("The contract amount must be above zero."))
    with transaction.atomic():
        return Contract.objects.create(
            number=contract_number_next(), title=title, customer=customer, owner=user,
            start_on=start_on, end_on=end_on, amount=amount, signed_on=signed_on,
            notes=notes, created_by=user)


def contract_update(*, contract_id: int, user, **fields) -> Contract:
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        if contract.status != Contract.Status.DRAFT:
            raise ActionRefused(_("Only a draft contract can be changed."), "not_draft")
        if "amount" in fields:
            fields["amount"] = to_money(fields["amount"])
            allocated = contract.allocations.aggregate(s=Sum("amount"))["s"] or Decimal("0")
            if fields["amount"] < allocated:
                raise ActionRefused(_("Orders already carry %(a)s of this contract.")
                                    % {"a": allocated})
        for name, value in fields.items():
            setattr(contract, name, value)
        if contract.end_on < contract.start_on:
            raise ValidationError(_("The contract cannot end before it starts."))
        contract.save()
    return contract


def contract_activate(*, contract_id: int, user) -> Contract:
    """Activate a draft contract; one whose band needs approval goes to approval instead."""
    contract = Contract.objects.get(pk=contract_id)
    if contract.status != Contract.Status.DRAFT:
        raise ActionRefused(_("Only a draft contract can be submitted."), "not_draft")
    if band_for(Subject.CONTRACT, contract.amount) is not None:
        approval_submit(subject=Subject.CONTRACT, pk=contract.pk, user=user)
    elif not _transition(Contract, contract.pk, [Contract.Status.DRAFT], Contract.Status.ACTIVE,
                         signed_on=contract.signed_on or timezone.localdate()):
        raise ActionRefused(_("Someone changed this contract meanwhile; reload the page."))
    contract.refresh_from_db()
    return contract


def contract_terminate(*, contract_id: int, user) -> Contract:
    if not _transition(Contract, contract_id, [Contract.Status.ACTIVE],
                       Contract.Status.TERMINATED):
        raise ActionRefused(_("Only an active contract can be terminated."), "not_active")
    return Contract.objects.get(pk=contract_id)


def attachment_add(*, contract_id: int, user, upload) -> ContractAttachment:
    """Store a checked scan; a file refused by the checks leaves nothing behind."""
    checked = check_attachment(upload)
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        if contract.status in (Contract.Status.EXPIRED, Contract.Status.TERMINATED):
            raise ActionRefused(_("A closed contract takes no new attachments."))
        attachment = ContractAttachment(
            contract=contract, original_name=upload.name[:200], kind=checked.kind,
            content_type=checked.content_type, size=upload.size, uploaded_by=user)
        attachment.file.save(upload.name, upload, save=False)
        name = attachment.file.name
        # If the row cannot be written, the stored file goes too.
        try:
            attachment.save()
        except Exception:
            attachment.file.storage.delete(name)
            raise
    return attachment


def attachment_delete(*, attachment_id: int, user) -> None:
    with transaction.atomic():
        attachment = ContractAttachment.objects.select_related("contract").get(pk=attachment_id)
        if attachment.contract.status != Contract.Status.DRAFT:
            raise ActionRefused(_("Attachments of a submitted contract are kept."))
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


# --- allocations -----------------------------------------------------------------------------


def allocation_set(*, contract_id: int, order_id: int, amount, user) -> ContractOrder | None:
    """Let an order carry ``amount`` of a contract (0 removes the link).

    Both rows are locked (contract first, then order, always in that order) and the sums
    checked under the locks, so two allocations made at once can never together exceed
    the contract's amount or the order's total.
    """
    amount = to_money(amount)
    if amount < 0:
        raise ValidationError(_("An allocation cannot be negative."))
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.customer_id != contract.customer_id:
            raise ActionRefused(_("The order and the contract belong to different customers."))
        if order.status == Order.Status.CANCELLED:
            raise ActionRefused(_("A cancelled order carries no contract amount."))
        others_on_contract = (ContractOrder.objects.filter(contract=contract)
                              .exclude(order=order).aggregate(s=Sum("amount"))["s"]
                              or Decimal("0"))
        others_on_order = (ContractOrder.objects.filter(order=order)
                           .exclude(contract=contract).aggregate(s=Sum("amount"))["s"]
                           or Decimal("0"))
        if others_on_contract + amount > contract.amount:
            raise ActionRefused(
                _("The contract has %(free)s left to allocate; %(amount)s is too much.")
                % {"free": contract.amount - others_on_contract, "amount": amount}, "over")
        if others_on_order + amount > order.total:
            raise ActionRefused(
                _("The order has %(free)s left to allocate; %(amount)s is too much.")
                % {"free": order.total - others_on_order, "amount": amount}, "over")
        if amount == 0:
            ContractOrder.objects.filter(contract=contract, order=order).delete()
            return None
        link, _created = ContractOrder.objects.update_or_create(
            contract=contract, order=order, defaults={"amount": amount})
    return link


# --- approvals -------------------------------------------------------------------------------


def band_for(subject: str, amount) -> ApprovalBand | None:
    """The active band covering ``amount`` for ``subject`` (the highest floor wins)."""
    bands = ApprovalBand.objects.filter(subject=subject, is_active=True,
                                        min_amount__lte=amount).order_by("-min_amount", "pk")
    for band in bands:
        if band.max_amount is None or amount < band.max_amount:
            return band
    return None


def _supervisor_user_id(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return (Employee.objects.filter(user_id=user_id).values_list("supervisor__user_id",
                                                                   flat=True).first())


def resolve_chain(band: ApprovalBand, owner_id: int) -> list[int]:
    """The approvers of a band's steps for one owner, in order, without repeats or the
    owner themself."""
    chain: list[int] = []
    previous = None
    for step in band.steps.order_by("position", "pk"):
        if step.kind == ApprovalBandStep.Kind.NAMED:
            approver = step.approver_id
        elif step.kind == ApprovalBandStep.Kind.MANAGER:
            approver = _supervisor_user_id(owner_id)
        else:
            approver = _supervisor_user_id(previous or _supervisor_user_id(owner_id))
        if approver is None:
            raise ActionRefused(_("The approval chain “%(band)s” has no approver for step "
                                  "%(n)s; ask an administrator.")
                                % {"band": band.name, "n": step.position}, "no_approver")
        previous = approver
        if approver != owner_id and approver not in chain:
            chain.append(approver)
    if not chain:
        raise ActionRefused(_("The approval chain “%(band)s” has no approver; ask an "
                              "administrator.") % {"band": band.name}, "no_approver")
    return chain


def _subject_row(subject: str, pk: int, *, lock: bool = False):
    model = Contract if subject == Subject.CONTRACT else Order
    queryset = model.objects.select_for_update() if lock else model.objects
    return queryset.select_related("customer").get(pk=pk) if not lock else queryset.get(pk=pk)


def _subject_params(subject: str, row) -> dict:
    label = Subject(subject).label
    amount = row.amount if subject == Subject.CONTRACT else row.total
    return {"subject": str(label), "number": str(row), "amount": f"{amount:,.2f}"}


def _subject_url(subject: str, pk: int) -> str:
    return reverse("contract_detail" if subject == Subject.CONTRACT else "order_detail",
                   args=[pk])


def approval_submit(*, subject: str, pk: int, user) -> ApprovalRequest:
    """Send a draft contract or order up its band's chain (status: pending approval)."""
    with transaction.atomic():
        row = _subject_row(subject, pk, lock=True)
        if row.status != row.Status.DRAFT:
            raise ActionRefused(_("Only a draft can be submitted for approval."), "not_draft")
        amount = row.amount if subject == Subject.CONTRACT else row.total
        band = band_for(subject, amount)
        if band is None:
            raise ActionRefused(_("This amount needs no approval."), "no_band")
        chain = resolve_chain(band, row.owner_id)
        try:
            with transaction.atomic():
                request = ApprovalRequest.objects.create(
                    subject=subject, band=band, amount=amount, submitted_by=user,
                    **{subject: row})
        except IntegrityError:
            raise ActionRefused(_("This is already waiting for approval."), "pending") from None
        ApprovalStep.objects.bulk_create(
            ApprovalStep(request=request, position=n, approver_id=approver,
                         status=(ApprovalStep.Status.CURRENT if n == 1
                                 else ApprovalStep.Status.WAITING))
            for n, approver in enumerate(chain, start=1))
        row.status = row.Status.PENDING_APPROVAL
        row.save(update_fields=["status"])
        params = _subject_params(subject, row)
        url = _subject_url(subject, pk)
        transaction.on_commit(lambda: notify_many([Message(
            chain[0], "approval_requested", params, url, key=f"approval:{request.pk}:1")]))
    return request


def approval_decide(*, step_id: int, user, approve: bool, comment: str = "") -> ApprovalStep:
    """Approve or reject the step waiting for ``user``.

    The request row is locked first and the step moves with a conditional UPDATE (only
    from ``current``, only by its approver), so a double click or two approvers at once
    decide it exactly once; the loser gets a clear refusal.
    """
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError(_("Say why you reject it."), code="comment")
    with transaction.atomic():
        request_id = ApprovalStep.objects.filter(pk=step_id).values_list("request_id",
                                                                        flat=True).first()
        if request_id is None:
            raise ActionRefused(_("There is no such approval step."), "missing")
        request = ApprovalRequest.objects.select_for_update().get(pk=request_id)
        now = timezone.now()
        decided = ApprovalStep.objects.filter(
            pk=step_id, approver=user, status=ApprovalStep.Status.CURRENT,
            request__status=ApprovalRequest.Status.PENDING,
        ).update(status=(ApprovalStep.Status.APPROVED if approve
                         else ApprovalStep.Status.REJECTED), comment=comment, decided_at=now)
        if not decided:
            raise ActionRefused(_("This approval was already decided."), "decided")
        subject = request.subject
        pk = request.contract_id or request.order_id
        row = _subject_row(subject, pk, lock=True)
        params = {**_subject_params(subject, row), "by": _who(user), "comment": comment}
        url = _subject_url(subject, pk)
        messages: list[Message] = []
        if not approve:
            request.status, request.decided_at = ApprovalRequest.Status.REJECTED, now
            request.save(update_fields=["status", "decided_at"])
            ApprovalStep.objects.filter(request=request, status=ApprovalStep.Status.WAITING
                                        ).update(status=ApprovalStep.Status.SKIPPED)
            row.status = row.Status.DRAFT
            row.save(update_fields=["status"])
            messages.append(Message(request.submitted_by_id, "approval_rejected", params, url,
                                    key=f"approval:{request.pk}:done"))
        else:
            following = (ApprovalStep.objects.filter(request=request,
                                                     status=ApprovalStep.Status.WAITING)
                         .order_by("position").first())
            if following is not None:
                following.status = ApprovalStep.Status.CURRENT
                following.save(update_fields=["status"])
                messages.append(Message(following.approver_id, "approval_requested",
                                        _subject_params(subject, row), url,
                                        key=f"approval:{request.pk}:{following.position}"))
            else:
                request.status, request.decided_at = ApprovalRequest.Status.APPROVED, now
                request.save(update_fields=["status", "decided_at"])
                row.approved_at = now
                if subject == Subject.CONTRACT:
                    row.status = Contract.Status.ACTIVE
                else:
                    row.status = Order.Status.CONFIRMED
                row.signed_on = row.signed_on or timezone.localdate()
                row.save(update_fields=["status", "approved_at", "signed_on"])
                messages.append(Message(request.submitted_by_id, "approval_approved", params,
                                        url, key=f"approval:{request.pk}:done"))
        transaction.on_commit(lambda: notify_many(messages))
    return ApprovalStep.objects.get(pk=step_id)


# --- payments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalmentInput:
    due_on: date
    amount: Decimal


def payment_plan_set(*, user, instalments: Sequence[InstalmentInput], contract_id=None,
                     order_id=None) -> list[PaymentInstalment]:
    """Replace the plan of a contract or an order; the instalments may not add up to more
    than its amount, and instalments that already received money are kept."""
    if bool(contract_id) == bool(order_id):
        raise ValidationError("one of contract_id / order_id")
    with transaction.atomic():
        if contract_id:
            row = Contract.objects.select_for_update().get(pk=contract_id)
            total, subject = row.amount, {"contract": row}
        else:
            row = Order.objects.select_for_update().get(pk=order_id)
            total, subject = row.total, {"order": row}
        existing = PaymentInstalment.objects.filter(**subject)
        kept = list(existing.filter(received__gt=0).order_by("seq"))
        new_amounts = [to_money(i.amount) for i in instalments]
        if any(a <= 0 for a in new_amounts):
            raise ValidationError(_("Every instalment needs an amount above zero."))
        planned = sum(new_amounts, Decimal("0")) + sum((k.amount for k in kept), Decimal("0"))
        if planned > total:
            raise ValidationError(_("The instalments add up to %(planned)s, more than the "
                                    "amount %(total)s.") % {"planned": planned, "total": total})
        existing.filter(received=0).delete()
        start = max((k.seq for k in kept), default=0)
        today = timezone.localdate()
        created = PaymentInstalment.objects.bulk_create(
            PaymentInstalment(customer_id=row.customer_id, owner_id=row.owner_id,
                              seq=start + n, due_on=i.due_on, amount=amount,
                              status=(PaymentInstalment.Status.OVERDUE if i.due_on < today
                                      else PaymentInstalment.Status.PENDING), **subject)
            for n, (i, amount) in enumerate(zip(instalments, new_amounts, strict=True), 1))
    return kept + created


def payment_record(*, instalment_id: int, user, amount, received_on: date,
                   note: str = "") -> Payment:
    """Record money received; the instalment's received sum and status follow at once."""
    amount = to_money(amount)
    if amount <= 0:
        raise ValidationError(_("The amount received must be above zero."))
    if received_on > timezone.localdate():
        raise ValidationError(_("The payment date cannot be in the future."))
    with transaction.atomic():
        instalment = PaymentInstalment.objects.select_for_update().get(pk=instalment_id)
        if instalment.received + amount > instalment.amount:
            raise ValidationError(
                _("Only %(open)s is still open on this instalment.")
                % {"open": instalment.amount - instalment.received})
        payment = Payment.objects.create(instalment=instalment, amount=amount,
                                         received_on=received_on, note=note, recorded_by=user)
        instalment.received += amount
        instalment.status = instalment_status(instalment.amount, instalment.received,
                                              instalment.due_on, timezone.localdate())
        instalment.save(update_fields=["received", "status"])
    return payment


def instalment_status(amount: Decimal, received: Decimal, due_on: date, today: date) -> str:
    """done when fully received; overdue past the due date; partial; else pending."""
    if received >= amount:
        return PaymentInstalment.Status.DONE
    if due_on < today:
        return PaymentInstalment.Status.OVERDUE
    if received > 0:
        return PaymentInstalment.Status.PARTIAL
    return PaymentInstalment.Status.PENDING


def payment_sweep(*, today: date | None = None) -> int:
    """Recompute every open instalment's status in one UPDATE (same rule as
    ``instalment_status``); only rows whose status changes are written. Returns that count."""
    today = today or timezone.localdate()
    table = PaymentInstalment._meta.db_table
    sql = f"""
        UPDATE {table} SET status = s.new_status FROM (
            SELECT id, CASE WHEN received >= amount THEN 'done'
                            WHEN due_on < %(today)s THEN 'overdue'
                            WHEN received > 0 THEN 'partial'
                            ELSE 'pending' END AS new_status
            FROM {table} WHERE status <> 'done'
        ) s
        WHERE {table}.id = s.id AND {table}.status <> s.new_status
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"today": today})
        return cursor.rowcount


def payment_reminder_sweep(*, today: date | None = None, days: int | None = None,
                           limit: int = 5000) -> int:
    """Remind owners of instalments due within ``days``; each instalment once.

    Rows are taken with ``SKIP LOCKED`` and marked in the same transaction, so two sweeps
    at once never remind twice.
    """
    today = today or timezone.localdate()
    days = days if days is not None else getattr(settings, "PAYMENT_REMINDER_DAYS", 3)
    with transaction.atomic():
        due = list(
            PaymentInstalment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(reminded_at__isnull=True, due_on__lte=today + timedelta(days=days))
            .exclude(status=PaymentInstalment.Status.DONE)
            .select_related("customer").order_by("due_on", "pk")[:limit])
        if not due:
            return 0
        PaymentInstalment.objects.filter(pk__in=[i.pk for i in due]).update(
            reminded_at=timezone.now())
        messages = [Message(i.owner_id, "payment_due",
                            {"amount": f"{i.amount - i.received:,.2f}",
                             "customer": i.customer.name, "due": i.due_on.isoformat()},
                            reverse("receivables"), key=f"payment_due:{i.pk}")
                    for i in due]
        transaction.on_commit(lambda: notify_many(messages))
    return len(due)


# --- renewals and expiry -----------------------------------------------------------------


def renewal_days() -> int:
    return int(getattr(settings, "CONTRACT_RENEWAL_DAYS", 30))


def renewal_sweep(*, today: date | None = None, days: int | None = None,
                  limit: int = 20000) -> int:
    """Active contracts ending within ``days`` get a renewal plan once: an open follow-up
    plan on the customer for the owner (due ``days`` before the end, or today) and a
    notification. Set-based and safe to run twice at once (SKIP LOCKED, marked in the
    same transaction)."""
    from leads.models import FollowUp

    today = today or timezone.localdate()
    days = renewal_days() if days is None else days
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Contract.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Contract.Status.ACTIVE, renewal_planned_at__isnull=True,
                    end_on__lte=today + timedelta(days=days), end_on__gte=today)
            .select_related("customer").order_by("end_on", "pk")[:limit])
        if not due:
            return 0
        Contract.objects.filter(pk__in=[c.pk for c in due]).update(renewal_planned_at=now)
        FollowUp.objects.bulk_create(
            FollowUp(customer_id=c.customer_id, author_id=c.owner_id, kind="call",
                     outcome=FollowUp.Outcome.OTHER,
                     content=_("Renewal of contract %(number)s (ends %(end)s)")
                     % {"number": c.number, "end": c.end_on.isoformat()},
                     next_at=now, plan_open=True, created_at=now)
            for c in due)
        # The plan shows in the owner's agenda, which reads the customer's next follow-up.
        from opportunities.models import Customer

        Customer.objects.filter(pk__in={c.customer_id for c in due}).filter(
            Q(next_followup_at__isnull=True) | Q(next_followup_at__gt=now)
        ).update(next_followup_at=now)
        messages = [Message(c.owner_id, "contract_renewal",
                            {"number": c.number, "customer": c.customer.name,
                             "end": c.end_on.isoformat()},
                            reverse("contract_detail", args=[c.pk]), key=f"renewal:{c.pk}")
                    for c in due]
        transaction.on_commit(lambda: notify_many(messages))
    return len(due)


def expiry_sweep(*, today: date | None = None) -> int:
    """Active contracts past their end date become expired (one UPDATE)."""
    today = today or timezone.localdate()
    return Contract.objects.filter(status=Contract.Status.ACTIVE, end_on__lt=today).update(
        status=Contract.Status.EXPIRED)


# --- customer grading and departure handover -----------------------------------------------

@register_amount_source("signed_orders")
def signed_order_amounts() -> str:
    """Grading amount: confirmed or paid orders signed in the window, per customer."""
    table = Order._meta.db_table
    return (f"SELECT customer_id, SUM(total) AS total FROM {table} "
            f"WHERE status IN ('confirmed', 'paid') AND signed_on >= (%(since)s)::date "
            f"GROUP BY customer_id")


@register_handover_step("contracts", gettext_lazy("Orders, contracts and payment plans"))
def contracts_handover(*, employee, successor, actor) -> int:
    """A departed rep's orders, contracts and payment plans go to the successor, or else
    to the rep's supervisor, and so do the approvals waiting for them; nothing is deleted."""
    if successor is not None:
        to_user_id = successor.user_id
    else:
        to_user_id = (Employee.objects.filter(pk=employee.supervisor_id,
                                              status=Employee.Status.ACTIVE)
                      .values_list("user_id", flat=True).first())
    if to_user_id is None:
        return 0
    moved = Order.objects.filter(owner_id=employee.user_id).update(owner_id=to_user_id)
    moved += Contract.objects.filter(owner_id=employee.user_id).update(owner_id=to_user_id)
    moved += PaymentInstalment.objects.filter(owner_id=employee.user_id).update(
        owner_id=to_user_id)
    # Approvals still waiting for the departed employee wait for the successor instead.
    moved += ApprovalStep.objects.filter(
        approver_id=employee.user_id,
        status__in=[ApprovalStep.Status.WAITING, ApprovalStep.Status.CURRENT],
    ).update(approver_id=to_user_id)
    return moved
