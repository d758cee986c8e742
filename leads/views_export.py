"""Lead exports: the same scope as the pages, contact data masked for the export scenario."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm_site.lib.exports import csv_response
from crm_site.lib.masking import mask
from orgs.access import can_unmask, entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import data_scope_for, rights_for

from .models import Lead


@entry_required(Entry.TEAM_LEADS)
def team_leads_export(request):
    """Open leads of everyone in the manager's scope as CSV (streamed, set-based)."""
    if not rights_for(request.user).can(Operation.EXPORT):
        raise PermissionDenied(_("Your roles do not allow exporting data."))
    clear = can_unmask(request.user, "export")
    queryset = (
        Lead.objects.filter(data_scope_for(request.user).owners_q("owner"),
                            status__in=Lead.OPEN_STATUSES)
        .select_related("pool", "owner", "owner__employee").order_by("pk")
    )
    header = [_("Lead"), _("Company"), _("Mobile"), _("E-mail"), _("Owner"), _("Status"),
              _("Pool"), _("Assigned"), _("Last follow-up"), _("Next follow-up")]

    def rows():
        for lead in queryset.iterator(chunk_size=2000):
            owner = getattr(lead.owner, "employee", None)
            yield [
                lead.name, lead.company,
                lead.mobile if clear else mask(lead.mobile, "phone"),
                lead.email if clear else mask(lead.email, "email"),
                owner.display_name if owner else lead.owner.get_username(),
                lead.get_status_display(), lead.pool.display_name,
                _fmt(lead.assigned_at), _fmt(lead.last_followup_at), _fmt(lead.next_followup_at),
            ]

    return csv_response("team-leads.csv", header, rows())


def _fmt(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
