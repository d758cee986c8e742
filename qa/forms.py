"""Forms of the QA workbench: the score sheet, the appeal, the decision, the filters."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Inspection, QueueItem, ViolationType

MAX_ID = 2**63 - 1  # a larger number in a URL is no record (and no database error)


class QueueFilterForm(forms.Form):
    plan = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    rep = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    item = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    category = forms.SlugField(required=False, max_length=64)
    age = forms.IntegerField(required=False, min_value=0, max_value=3650)
    status = forms.ChoiceField(required=False, choices=QueueItem.Status.choices)
    cursor = forms.CharField(required=False, max_length=200)


class ScoreSheetForm(forms.Form):
    """One ``score_<item id>`` field per scorecard item, a verdict, violations, a comment."""

    verdict = forms.ChoiceField(label=_("Verdict"), choices=Inspection.Verdict.choices)
    violations = forms.ModelMultipleChoiceField(
        label=_("Violations"), required=False,
        queryset=ViolationType.objects.filter(is_active=True))
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"score_{item.pk}"] = forms.IntegerField(
                label=item.display_label, min_value=0, max_value=item.max_score,
                error_messages={"required": _("Score this item.")})

    def scores(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[f"score_{item.pk}"] for item in self.items}


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Why the verdict is wrong"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("uphold", _("Uphold")), ("overturn", _("Overturn"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


class CalibrationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    items = forms.IntegerField(label=_("Items"), min_value=1, max_value=50, initial=5)
    tolerance = forms.IntegerField(label=_("Tolerance (points of %)"), min_value=0,
                                   max_value=100, initial=10)
    inspectors = forms.ModelMultipleChoiceField(label=_("Inspectors"), queryset=None)

    def __init__(self, *args, inspectors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = inspectors


class ReportPeriodForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("period", "From"), required=False)
    end = forms.DateField(label=pgettext_lazy("period", "To"), required=False)

    def period(self):
        """The chosen period (the last 30 days by default; a reversed one is put right)."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        if (end - start).days > 366:
            start = end - timedelta(days=366)
        return start, end
