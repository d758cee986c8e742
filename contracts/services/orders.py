"""Orders: create and edit a draft's lines (totals recomputed from the lines), confirm
(through approval when a band applies), mark paid, cancel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    ContractOrder,
    Order,
    OrderLine,
    Product,
    Subject,
)
from ..money import line_total, to_money
from .approvals import approval_submit, band_for
from .common import ActionRefused, transition_status


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


def order_confirm(*, order_id: int, user) -> Order:
    """Confirm a draft order; one whose amount falls in an approval band goes to approval."""
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.DRAFT:
        raise ActionRefused(_("Only a draft order can be confirmed."), "not_draft")
    if not order.lines.exists():
        raise ActionRefused(_("An order needs at least one line."), "no_lines")
    if band_for(Subject.ORDER, order.total) is not None:
        approval_submit(subject=Subject.ORDER, pk=order.pk, user=user)
    elif not transition_status(Order, order.pk, [Order.Status.DRAFT], Order.Status.CONFIRMED,
                               signed_on=order.signed_on or timezone.localdate()):
        raise ActionRefused(_("Someone changed this order meanwhile; reload the page."))
    order.refresh_from_db()
    return order


def order_mark_paid(*, order_id: int, user) -> Order:
    if not transition_status(Order, order_id, [Order.Status.CONFIRMED], Order.Status.PAID):
        raise ActionRefused(_("Only a confirmed order can be marked paid."), "not_confirmed")
    return Order.objects.get(pk=order_id)


def order_cancel(*, order_id: int, user) -> Order:
    with transaction.atomic():
        if not transition_status(Order, order_id, [Order.Status.DRAFT, Order.Status.CONFIRMED],
                                 Order.Status.CANCELLED):
            raise ActionRefused(_("A paid order, or one waiting for approval, cannot be "
                                  "cancelled."), "not_cancellable")
        # A cancelled order carries no revenue: its allocations are released.
        ContractOrder.objects.filter(order_id=order_id).delete()
    return Order.objects.get(pk=order_id)
