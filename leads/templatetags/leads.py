"""``{% lead_contact lead "mobile" "list" %}``: a lead's contact field as the viewer may see it."""

from django import template

from crm_site.lib.masking import mask
from leads.selectors import lead_contact_clear

register = template.Library()

_KINDS = {"mobile": "phone", "phone": "phone", "email": "email", "wechat": "address",
          "address": "address"}


@register.simple_tag(takes_context=True)
def lead_contact(context, lead, field: str, scenario: str = "list") -> str:
    value = getattr(lead, field, "")
    if not value:
        return ""
    request = context.get("request")
    user = getattr(request, "user", None)
    former = context.get("former")
    owners_in_scope = context.get("owners_in_scope")
    if owners_in_scope and lead.owner_id is not None:
        from crm_site.lib.masking import can_unmask

        clear = can_unmask(user, scenario)
    else:
        clear = lead_contact_clear(
            user, lead, scenario,
            former=(lead.pk in former) if former is not None else None,
        )
    return value if clear else mask(value, _KINDS[field])


@register.simple_tag(takes_context=True)
def dict_label(context, dictionary: str, code: str) -> str:
    """The label of a dictionary code in the viewer's language (one query per dictionary)."""
    if not code:
        return "—"
    from orgs.models import DictionaryItem

    cache = context.render_context.setdefault("_dict_labels", {})
    if dictionary not in cache:
        cache[dictionary] = {
            item.code: item.display_label for item in DictionaryItem.objects.of(dictionary)
        }
    return cache[dictionary].get(code, code)
