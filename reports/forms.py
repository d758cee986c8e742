"""The report filter: a period (day … year or a custom range), a breakdown and a mode."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

PERIODS = [("day", _("Day")), ("week", _("Week")), ("month", _("Month")),
           ("quarter", _("Quarter")), ("year", _("Year")), ("custom", _("Custom range"))]
BREAKDOWN_CHOICES = [("", _("No breakdown")), ("channel", _("Channel")), ("team", _("Team")),
                     ("rep", _("Rep")), ("region", _("Region")),
                     ("product", _("Product category")), ("pool", _("Pool")),
                     ("month", _("Month")), ("quarter", _("Quarter"))]
MODE_CHOICES = [("static", _("Static (as of the end of the period)")),
                ("dynamic", _("Dynamic (as of today)"))]
# A custom range longer than this is refused (a report over decades helps nobody).
MAX_DAYS = 3 * 366


def period_range(period: str, anchor: date) -> tuple[date, date]:
    """The first and last day of the ``period`` that contains ``anchor``."""
    if period == "day":
        return anchor, anchor
    if period == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        start = anchor.replace(day=1)
    elif period == "quarter":
        start = anchor.replace(month=(anchor.month - 1) // 3 * 3 + 1, day=1)
    else:
        start = anchor.replace(month=1, day=1)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    following = start.replace(year=start.year + month // 12, month=month % 12 + 1)
    return start, following - timedelta(days=1)


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, initial="month",
                               required=False)
    anchor = forms.DateField(label=_("Containing"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateField(label=pgettext_lazy("range", "From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=pgettext_lazy("range", "To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("Breakdown"), choices=BREAKDOWN_CHOICES, required=False)
    mode = forms.ChoiceField(label=_("Mode"), choices=MODE_CHOICES, initial="static",
                             required=False)

    def clean(self):
        data = super().clean()
        period = data.get("period") or "month"
        data["period"] = period
        data["mode"] = data.get("mode") or "static"
        data["by"] = data.get("by") or None
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Choose the first and the last day of the range."))
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a range of at most %(days)d days.") % {"days": MAX_DAYS})
        else:
            anchor = data.get("anchor") or timezone.localdate()
            data["anchor"] = anchor
            data["start"], data["end"] = period_range(period, anchor)
        return data
