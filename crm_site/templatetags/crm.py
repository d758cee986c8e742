"""Template helpers: ``{% masked value "phone" "list" %}``, rights checks and
``{{ amount|money }}``, the one way pages print money."""

from django import template

from crm_site.lib.formatting import format_money
from orgs.access import mask_for
from orgs.selectors import rights_for

register = template.Library()


@register.simple_tag(takes_context=True)
def masked(context, value, kind: str, scenario: str = "list") -> str:
    """Show ``value`` in clear only if the viewer may unmask it in this scenario."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return mask_for(user, value, kind, scenario)


@register.simple_tag(takes_context=True)
def can(context, operation: str) -> bool:
    request = context.get("request")
    return rights_for(getattr(request, "user", None)).can(operation)


@register.filter
def with_errors(bound_field):
    """Render a form field's widget, marked ``is-invalid`` when the field has errors."""
    if not bound_field.errors:
        return bound_field
    css = bound_field.field.widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{css} is-invalid".strip(),
                                        "aria-invalid": "true"})


@register.filter
def money(value, places=2) -> str:
    """An amount grouped by thousands in the viewer's language: ``186,000.00``
    (``|money:0`` for whole yuan)."""
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 2
    return format_money(value, places)
