from django import template

register = template.Library()


@register.inclusion_tag("contracts/_renewals_card.html", takes_context=True)
def renewals_card(context):
    """The workbench card: my active contracts ending within the renewal window."""
    from contracts.selectors import renewals_for

    from ..services.renewals import renewal_days

    request = context["request"]
    return {"renewals": renewals_for(user=request.user), "days": renewal_days()}


@register.inclusion_tag("contracts/_customer_deals.html", takes_context=True)
def customer_deals(context, customer):
    """The customer page's card: orders, contracts and open payments the viewer may see
    (three queries whatever the customer holds)."""
    from datetime import timedelta

    from django.db.models import Count, Q, Sum
    from django.utils import timezone

    from contracts.models import PaymentInstalment
    from contracts.selectors import visible_contracts, visible_orders
    from orgs.rights import Entry
    from orgs.selectors import data_scope_for, rights_for

    from ..services.renewals import renewal_days

    user = context["request"].user
    today = timezone.localdate()
    contracts = list(visible_contracts(user).filter(customer=customer)
                     .order_by("-created_at", "-pk")[:10])
    for contract in contracts:
        contract.renewal_due = (contract.status == "active"
                                and contract.end_on <= today + timedelta(days=renewal_days()))
    payments = (PaymentInstalment.objects.filter(data_scope_for(user).owners_q("owner"),
                                                 customer=customer)
                .exclude(status=PaymentInstalment.Status.DONE)
                .aggregate(planned=Sum("amount"), received=Sum("received"),
                           overdue=Count("pk", filter=Q(status="overdue"))))
    open_amount = (payments["planned"] or 0) - (payments["received"] or 0)
    return {
        "orders": list(visible_orders(user).filter(customer=customer)
                       .order_by("-created_at", "-pk")[:10]),
        "contracts": contracts, "open_amount": open_amount, "overdue": payments["overdue"],
        "customer": customer, "can_order": rights_for(user).opens(Entry.ORDERS),
    }
