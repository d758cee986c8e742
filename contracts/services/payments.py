"""Payment plans and payments: instalments, recording a payment, the status of each
instalment, and the sweeps that mark them overdue and remind their owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many

from ..models import (
    Contract,
    Order,
    Payment,
    PaymentInstalment,
)
from ..money import to_money

register_kind("payment_due",
              gettext_lazy("Payment %(amount)s from %(customer)s is due on %(due)s."),
              icon="bi-cash-coin")
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
