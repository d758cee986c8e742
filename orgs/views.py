"""Organisation pages: the team directory, scoped by the viewer's data boundary."""

from django.shortcuts import render

from crm_site.lib.access import entry_required
from orgs.rights import Entry
from orgs.selectors import data_scope_for, employee_list

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
    template = "orgs/team_directory.html"
    if request.htmx:
        template += "#rows"
    return render(request, template, context)
