"""What contracts give other apps: signed orders as an amount source of customer
grading, and the departure handover step of orders, contracts and payment plans.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from opportunities.customers.grading import register_amount_source
from orgs.handover import register_handover_step
from orgs.models import Employee

from ..models import (
    ApprovalStep,
    Contract,
    Order,
    PaymentInstalment,
)


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
