"""Report pages: permission → filter form → one selector → render (or download)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm_site.lib.access import entry_required
from crm_site.lib.exports import csv_response
from orgs.rights import Entry
from orgs.selectors import data_scope_for, rights_for

from .forms import ReportFilterForm
from .funnel import funnel_rows, funnel_total
from .labels import empty_label, group_labels


def _rate(value) -> str:
    return "" if value is None else f"{value:.4f}"


def funnel_report(*, user, data) -> tuple[list, object]:
    """The funnel rows of the filter ``data`` with their labels, and their total."""
    scope = data_scope_for(user)
    rows = funnel_rows(scope=scope, start=data["start"], end=data["end"], mode=data["mode"],
                       by=data["by"])
    labels = group_labels(data["by"], [r.key for r in rows])
    blank = empty_label(data["by"])
    rows = [r.__class__(**{**r.__dict__, "label": labels.get(r.key) or r.key or blank})
            for r in rows]
    rows.sort(key=lambda r: (-r.leads, r.label))
    return rows, funnel_total(rows)


@require_GET
@entry_required(Entry.REPORTS)
def funnel(request):
    # No query string: this month, static, no breakdown (every field has a default).
    form = ReportFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else None
    rows, total = funnel_report(user=request.user, data=data) if data else ([], None)
    if data and request.GET.get("format") == "csv":
        header = ["group", "leads", "sub_pool", "owned", "opportunities", "won", "won_amount",
                  "lead_to_opportunity", "opportunity_to_won", "lead_to_won"]
        return csv_response(
            f"funnel-{data['start']}-{data['end']}.csv", header,
            ([r.label, r.leads, r.sub_pool, r.owned, r.opportunities, r.won,
              f"{r.won_amount:.2f}", _rate(r.lead_to_opportunity), _rate(r.opportunity_to_won),
              _rate(r.lead_to_won)] for r in rows))
    levels = [_("Master pool"), _("Sub-pools"), _("Owned"), _("Opportunities"), _("Won")]
    chart = ({"levels": [{"name": name, "value": value}
                         for name, value in zip(levels, total.levels, strict=True)]}
             if total else None)
    return render(request, "reports/funnel.html", {
        "form": form, "data": data, "rows": rows, "total": total, "levels": levels,
        "chart": chart, "rights": rights_for(request.user),
    })
