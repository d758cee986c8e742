"""``{% load followups %}{% followup_panel record %}``: the follow-up list and add form of
a lead, customer or opportunity, updated in place through htmx."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def followup_panel(context, record) -> str:
    from ..followups.views import PANEL_TEMPLATE, panel_context

    request = context["request"]
    return render_to_string(PANEL_TEMPLATE, panel_context(request, record), request=request)
