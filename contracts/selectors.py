"""Scoped reads: every order, contract, approval and receivable a person sees passes here.

A record is visible when its owner is inside the viewer's data boundary; an approver also
sees what waits for (or was decided by) them. Lists use keyset pagination on indexed
columns and a fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from crm_site.lib.keyset import Page, keyset_page
from orgs.selectors import data_scope_for

from .models import (
    ApprovalRequest,
    ApprovalStep,
    Contract,
    ContractAttachment,
    Order,
    PaymentInstalment,
    Product,
)


def _approver_q(user, field: str) -> Q:
    steps = ApprovalStep.objects.filter(request__in=ApprovalRequest.objects.filter(
        **{field: OuterRef("pk")}), approver_id=user.pk)
    return Q(Exists(steps))


def visible_orders(user) -> QuerySet:
    return Order.objects.filter(data_scope_for(user).owners_q("owner"))


def visible_contracts(user) -> QuerySet:
    return Contract.objects.filter(data_scope_for(user).owners_q("owner"))


def order_list(*, user, status: str = "", search: str = "", cursor: str | None = None,
               size: int = 50) -> Page:
    queryset = visible_orders(user).select_related("customer", "owner", "owner__employee",
                                                   "opportunity")
    if status in Order.Status.values:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(customer__name__icontains=search)
    return keyset_page(queryset, field="created_at", descending=True, cursor=cursor, size=size)


def order_get(*, user, order_id: int) -> Order:
    order = (Order.objects.filter(pk=order_id)
             .filter(data_scope_for(user).owners_q("owner") | _approver_q(user, "order"))
             .select_related("customer", "owner", "owner__employee", "opportunity").first())
    if order is None:
        raise Http404
    return order


def contract_list(*, user, status: str = "", search: str = "", cursor: str | None = None,
                  size: int = 50) -> Page:
    queryset = visible_contracts(user).select_related("customer", "owner", "owner__employee")
    if status in Contract.Status.values:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(customer__name__icontains=search)
                                   | Q(number__icontains=search) | Q(title__icontains=search))
    return keyset_page(queryset, field="created_at", descending=True, cursor=cursor, size=size)


def contract_get(*, user, contract_id: int) -> Contract:
    contract = (Contract.objects.filter(pk=contract_id)
                .filter(data_scope_for(user).owners_q("owner") | _approver_q(user, "contract"))
                .select_related("customer", "owner", "owner__employee").first())
    if contract is None:
        raise Http404
    return contract


def attachment_get(*, user, attachment_id: int) -> ContractAttachment:
    """An attachment of a contract the viewer may open; 404 for anyone else."""
    attachment = ContractAttachment.objects.filter(pk=attachment_id).only(
        "pk", "contract_id", "file", "original_name", "content_type", "kind").first()
    if attachment is None:
        raise Http404
    contract_get(user=user, contract_id=attachment.contract_id)
    return attachment


def approval_history(*, contract=None, order=None) -> list[ApprovalRequest]:
    """Every submission with its steps (newest first), in two queries."""
    queryset = ApprovalRequest.objects.filter(contract=contract) if contract else \
        ApprovalRequest.objects.filter(order=order)
    return list(queryset.select_related("submitted_by", "submitted_by__employee")
                .prefetch_related("steps__approver__employee").order_by("-submitted_at", "-pk"))


def approval_inbox(*, user, decided: bool = False, size: int = 100) -> list[ApprovalStep]:
    """Steps waiting for ``user`` (or, with ``decided``, the ones they decided lately)."""
    queryset = ApprovalStep.objects.filter(approver_id=user.pk)
    if decided:
        queryset = queryset.filter(status__in=[ApprovalStep.Status.APPROVED,
                                               ApprovalStep.Status.REJECTED]
                                   ).order_by("-decided_at", "-pk")
    else:
        queryset = queryset.filter(status=ApprovalStep.Status.CURRENT).order_by("pk")
    return list(queryset.select_related(
        "request", "request__submitted_by", "request__submitted_by__employee",
        "request__contract", "request__contract__customer", "request__order",
        "request__order__customer")[:size])


def receivables(*, user, status: str = "", cursor: str | None = None,
                size: int = 50) -> Page:
    """Open instalments in the viewer's scope, soonest due first."""
    queryset = (PaymentInstalment.objects.filter(data_scope_for(user).owners_q("owner"))
                .exclude(status=PaymentInstalment.Status.DONE)
                .select_related("customer", "owner", "owner__employee", "contract", "order"))
    if status in PaymentInstalment.Status.values:
        queryset = queryset.filter(status=status)
    return keyset_page(queryset, field="due_on", cursor=cursor, size=size)


def instalments_of(*, contract=None, order=None) -> list[PaymentInstalment]:
    queryset = PaymentInstalment.objects.filter(contract=contract) if contract else \
        PaymentInstalment.objects.filter(order=order)
    return list(queryset.prefetch_related("payments").order_by("seq"))


def allocated_total(*, contract=None, order=None):
    from .models import ContractOrder

    queryset = ContractOrder.objects.filter(contract=contract) if contract else \
        ContractOrder.objects.filter(order=order)
    return queryset.aggregate(s=Sum("amount"))["s"] or 0


def renewals_for(*, user, days: int | None = None, size: int = 10) -> list[Contract]:
    """The viewer's own active contracts ending soon (the workbench card)."""
    from .services.renewals import renewal_days

    today = timezone.localdate()
    days = renewal_days() if days is None else days
    return list(Contract.objects.filter(owner_id=user.pk, status=Contract.Status.ACTIVE,
                                        end_on__gte=today,
                                        end_on__lte=today + timedelta(days=days))
                .select_related("customer").order_by("end_on", "pk")[:size])


def product_choices() -> QuerySet:
    """The active products an order line may name, by name."""
    return Product.objects.filter(is_active=True).order_by("name")
