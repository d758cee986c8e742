"""Report pages: permission → filter form → one selector → render (or download)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from crm_site.lib.exports import csv_response, xlsx_response
from crm_site.lib.masking import Scenario, can_unmask, mask
from leads.models import Lead
from orgs.access import entry_required
from orgs.rights import Entry
from orgs.selectors import data_scope_for, rights_for

from .activity import followup_trend
from .forms import ReportFilterForm
from .funnel import LEVELS, funnel_lead_ids, funnel_rows, funnel_total
from .labels import empty_label, group_labels
from .pool_health import pool_health
from .rates import rate_rows


def _rate(value) -> str:
    return "" if value is None else f"{value:.4f}"


def _download(request, stem: str, data, header, rows):
    """The report as a CSV or XLSX download when ``?format=`` asks for one, else None."""
    kind = request.GET.get("format")
    if kind not in ("csv", "xlsx"):
        return None
    filename = f"{stem}-{data['start']}-{data['end']}.{kind}"
    if kind == "csv":
        return csv_response(filename, header, rows)
    return xlsx_response(filename, header, rows, title=stem)


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
    if data:
        header = ["group", "leads", "sub_pool", "owned", "opportunities", "won", "won_amount",
                  "lead_to_opportunity", "opportunity_to_won", "lead_to_won"]
        download = _download(request, "funnel", data, header, (
            [r.label, r.leads, r.sub_pool, r.owned, r.opportunities, r.won, r.won_amount,
             _rate(r.lead_to_opportunity), _rate(r.opportunity_to_won), _rate(r.lead_to_won)]
            for r in rows))
        if download is not None:
            return download
    levels = [str(level) for level in FUNNEL_LEVELS]
    query = request.GET.copy()
    query.pop("format", None)
    table = [{"row": r, "cells": list(zip(LEVELS, r.levels, strict=True))} for r in rows]
    chart = ({"levels": [{"name": name, "value": value}
                         for name, value in zip(levels, total.levels, strict=True)]}
             if total else None)
    return render(request, "reports/funnel.html", {
        "form": form, "data": data, "rows": rows, "total": total, "levels": levels,
        "table": table, "query": query.urlencode(),
        "chart": chart, "rights": rights_for(request.user),
    })


def rates_report(*, user, data) -> tuple[list, str]:
    """Rates, activity and results per rep (or per team) with labels, largest first."""
    by = "team" if data["by"] == "team" else "rep"
    rows = rate_rows(scope=data_scope_for(user), start=data["start"], end=data["end"],
                     by="team" if by == "team" else "user")
    labels = group_labels(by, [str(r.key) for r in rows if r.key is not None])
    blank = empty_label(by)
    rows = [r.__class__(**{**r.__dict__, "label": labels.get(str(r.key)) or blank})
            for r in rows]
    rows.sort(key=lambda r: (-(r.snapshot.orders_amount if r.snapshot else 0), r.label))
    return rows, by


RATE_COLUMNS = [
    ("customers", _("Customers")), ("followups", _("Follow-ups")),
    ("qualifying_followups", _("Qualifying follow-ups")),
    ("static_invitations", _("Static invitations")),
    ("dynamic_invitations", _("Dynamic invitations")),
    ("static_invitation_rate", _("Static invitation rate")),
    ("dynamic_invitation_rate", _("Dynamic invitation rate")),
    ("static_signings", _("Static signings")), ("dynamic_signings", _("Dynamic signings")),
    ("relative_static_signing_rate", _("Relative static signing rate")),
    ("relative_dynamic_signing_rate", _("Relative dynamic signing rate")),
    ("absolute_static_signing_rate", _("Absolute static signing rate")),
    ("absolute_dynamic_signing_rate", _("Absolute dynamic signing rate")),
    ("orders_amount", _("Signed amount")), ("gross_margin", _("Gross margin")),
    ("payments", _("Payments received")), ("won_closed", _("Won")),
    ("win_rate", _("Win rate")), ("days_to_close", _("Days to close")),
]
_SNAPSHOT_FIELDS = {"followups", "qualifying_followups", "orders_amount", "gross_margin",
                    "payments"}


def _cell(row, name):
    if name in _SNAPSHOT_FIELDS:
        return getattr(row.snapshot, name) if row.snapshot else 0
    return getattr(row, name)


@require_GET
@entry_required(Entry.REPORTS)
def rates(request):
    form = ReportFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else None
    if data is None:
        return render(request, "reports/rates.html", {"form": form, "data": None})
    rows, by = rates_report(user=request.user, data=data)
    table = [{"key": r.key, "label": r.label,
              "cells": [(name, _cell(r, name)) for name, _label in RATE_COLUMNS]} for r in rows]
    download = _download(request, "rates", data,
                         ["group", *[name for name, _label in RATE_COLUMNS]],
                         ([t["label"], *[("" if v is None else v) for _n, v in t["cells"]]]
                          for t in table))
    if download is not None:
        return download
    unit = "week" if (data["end"] - data["start"]).days > 62 else "day"
    trend = followup_trend(scope=data_scope_for(request.user), start=data["start"],
                           end=data["end"], unit=unit)
    kinds = group_labels("followup_type", list(trend["kinds"]))
    chart = {
        "bars": {"names": [r.label for r in rows][:30],
                 "values": [float(_cell(r, "orders_amount")) for r in rows][:30]},
        "trend": {"periods": trend["periods"],
                  "series": [{"name": kinds.get(k, k), "data": v}
                             for k, v in trend["kinds"].items()]},
    }
    return render(request, "reports/rates.html", {
        "form": form, "data": data, "table": table, "columns": RATE_COLUMNS, "by": by,
        "chart": chart, "trend": trend, "trend_kinds": kinds, "unit": unit,
    })


@require_GET
@entry_required(Entry.REPORTS)
def pools(request):
    form = ReportFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else None
    health = (pool_health(user=request.user, scope=data_scope_for(request.user),
                          start=data["start"], end=data["end"]) if data else [])
    if data:
        header = ["pool", "waiting", "waiting_under_1_day", "waiting_1_7_days",
                  "waiting_7_30_days", "waiting_over_30_days", "assigned", "claimed",
                  "released", "recycled", "converted"]
        download = _download(request, "pools", data, header, (
            [h.pool.display_name, h.waiting, h.ages["day"], h.ages["week"], h.ages["month"],
             h.ages["older"], *[h.flows.get(k, 0) for k in header[6:]]] for h in health))
        if download is not None:
            return download
    chart = {"pools": [h.pool.display_name for h in health],
             "series": [{"name": str(label), "data": [h.ages[key] for h in health]}
                        for key, label in AGE_LABELS]}
    return render(request, "reports/pools.html", {
        "form": form, "data": data, "health": health, "chart": chart,
        "age_labels": AGE_LABELS})


AGE_LABELS = [("day", _("Under a day")), ("week", _("1–7 days")),
              ("month", _("7–30 days")), ("older", _("Over 30 days"))]


DRILL_LIMIT = 200


@require_GET
@entry_required(Entry.REPORTS)
def funnel_leads(request):
    """The leads one number of the funnel counts, in the viewer's scope, contact data masked
    as in every list (clear only with the unmask right and an owner in the viewer's scope)."""
    form = ReportFilterForm(request.GET)
    level = request.GET.get("level", "leads")
    group = request.GET.get("group", "")[:64]
    if not form.is_valid() or level not in LEVELS:
        return render(request, "reports/funnel_leads.html", {"form": form, "data": None},
                      status=400)
    data = form.cleaned_data
    scope = data_scope_for(request.user)
    ids = funnel_lead_ids(scope=scope, start=data["start"], end=data["end"], mode=data["mode"],
                          by=data["by"], group=group, level=level, limit=DRILL_LIMIT + 1)
    leads = list(Lead.objects.filter(pk__in=ids[:DRILL_LIMIT])
                 .select_related("pool", "owner__employee").order_by("created_at", "pk"))
    in_scope = (None if scope.sees_all
                else set(scope.users().values_list("pk", flat=True)))
    unmask = can_unmask(request.user, Scenario.LIST)
    for lead in leads:
        clear = unmask and lead.owner_id is not None and (
            in_scope is None or lead.owner_id in in_scope)
        lead.shown_mobile = lead.mobile if clear else mask(lead.mobile, "phone")
    labels = group_labels(data["by"], [group])
    return render(request, "reports/funnel_leads.html", {
        "form": form, "data": data, "leads": leads, "more": len(ids) > DRILL_LIMIT,
        "level": dict(zip(LEVELS, FUNNEL_LEVELS, strict=True))[level],
        "group": labels.get(group) or group or empty_label(data["by"]),
        "limit": DRILL_LIMIT})


FUNNEL_LEVELS = [_("Master pool"), _("Sub-pools"), _("Owned"),
                 _("Opportunities"), _("Won")]
