"""``{% method_value method "detail" %}``: a contact method as the viewer may see it."""

from django import template

from ..customers.selectors import method_display

register = template.Library()


@register.simple_tag(takes_context=True)
def method_value(context, method, scenario: str = "list") -> str:
    request = context.get("request")
    return method_display(getattr(request, "user", None), method, scenario)
