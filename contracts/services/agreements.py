"""Contracts: numbering, create, edit, activate, terminate, their attachments, and the
allocation of orders' amounts to a contract.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..attachments import check_attachment
from ..models import (
    Contract,
    ContractAttachment,
    ContractOrder,
    Order,
    Subject,
)
from ..money import to_money
from .approvals import approval_submit, band_for
from .common import ActionRefused, transition_status

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
    elif not transition_status(Contract, contract.pk, [Contract.Status.DRAFT],
                               Contract.Status.ACTIVE,
                               signed_on=contract.signed_on or timezone.localdate()):
        raise ActionRefused(_("Someone changed this contract meanwhile; reload the page."))
    contract.refresh_from_db()
    return contract


def contract_terminate(*, contract_id: int, user) -> Contract:
    if not transition_status(Contract, contract_id, [Contract.Status.ACTIVE],
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
