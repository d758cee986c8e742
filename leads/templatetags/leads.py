"""``{% lead_contact lead "mobile" "list" %}``: a lead's contact field as the viewer may see it."""

from django import template
from django.utils.translation import gettext_lazy as _

from crm_site.lib.masking import mask
from leads.selectors import lead_contact_clear
from orgs.access import can_unmask

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


# Why an ownership event happened, for codes the engine and the services write (the
# reasons people choose come from dictionaries: ``dict_label``).
_EVENT_REASONS = {
    "manual": _("by hand"),
    "collision": _("to the owner of the known customer"),
    "first_touch_sla": _("not contacted in time"),
    "departure": _("departure handover"),
    "lead_conversion": _("converted from a lead"),
    "file_import": _("file import"),
}


@register.simple_tag(takes_context=True)
def event_reason(context, event) -> str:
    """The reason of an ownership event in the reader's language."""
    from leads.models import LeadEvent, LeadPool, RecycleRule

    reason = event.reason
    if not reason:
        return ""
    dictionaries = {LeadEvent.Kind.CREATED: "channel", LeadEvent.Kind.RELEASED: "release_reason",
                    LeadEvent.Kind.TRANSFERRED: "transfer_reason",
                    LeadEvent.Kind.INVALIDATED: "lead_status_reason"}
    if isinstance(event, LeadEvent) and event.kind in dictionaries:
        return dict_label(context, dictionaries[event.kind], reason)
    if event.kind == LeadEvent.Kind.RECYCLED and reason in RecycleRule.Kind.values:
        return str(RecycleRule.Kind(reason).label)
    if reason in _EVENT_REASONS:
        return str(_EVENT_REASONS[reason])
    if reason in LeadPool.Strategy.values:
        return str(LeadPool.Strategy(reason).label)
    return reason
