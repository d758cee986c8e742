from django import template

register = template.Library()


@register.inclusion_tag("contracts/_renewals_card.html", takes_context=True)
def renewals_card(context):
    """The workbench card: my active contracts ending within the renewal window."""
    from contracts.selectors import renewals_for
    from contracts.services import renewal_days

    request = context["request"]
    return {"renewals": renewals_for(user=request.user), "days": renewal_days()}


@register.filter
def money(value) -> str:
    """A Decimal amount as ``10,086.75``: grouped, two places, no float on the way."""
    from decimal import Decimal, InvalidOperation

    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
