"""Organisation pages: the team directory, scoped by the viewer's data boundary."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx
from orgs.access import entry_required, mask_for
from orgs.rights import Entry, Operation
from orgs.selectors import data_scope_for, employee_list, rights_for

PAGE_SIZE = 50


@entry_required(Entry.TEAM)
def team_directory(request):
    """Everyone the viewer may see, with contact data masked unless they may unmask it."""
    scope = data_scope_for(request.user)
    units = list(scope.units().order_by("path")) if not scope.sees_all else None
    try:
        unit_id = int(request.GET.get("unit") or 0) or None
    except ValueError:
        unit_id = None
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        after = 0
    queryset = employee_list(user=request.user, unit_id=unit_id)
    if after:
        queryset = queryset.filter(pk__gt=after)
    page = list(queryset.order_by("pk")[: PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    context = {
        "employees": page,
        "next_after": page[-1].pk if has_next else None,
        "unit_id": unit_id,
        "units": units,
    }
    return render_htmx(request, "orgs/team_directory.html", context, fragment="rows")


@entry_required(Entry.TEAM)
def team_export(request):
    """The directory as CSV: same scope as the page, contact data masked for export."""
    if not rights_for(request.user).can(Operation.EXPORT):
        raise PermissionDenied(_("Your roles do not allow exporting data."))
    header = [_("Employee no."), _("Name"), _("Units and positions"), _("Mobile"),
              _("E-mail"), _("Supervisor"), _("Status")]
    user = request.user

    def rows():
        for employee in employee_list(user=user).iterator(chunk_size=500):
            places = "; ".join(
                f"{m.org_unit.display_name}"
                + (f" · {m.position.display_name}" if m.position_id else "")
                for m in employee.memberships.all()
            )
            yield [
                employee.employee_no,
                employee.display_name,
                places,
                mask_for(user, employee.mobile, "phone", "export"),
                mask_for(user, employee.user.email, "email", "export"),
                employee.supervisor.display_name if employee.supervisor_id else "",
                employee.get_status_display(),
            ]

    return csv_response("team.csv", header, rows())
