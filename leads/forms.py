"""Forms of the lead workbench. Choices come from the dictionaries, never hard-coded."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.lib.inputs import parse_id, parse_ids
from orgs.models import DictionaryItem

from .models import FollowUp, Lead


def dictionary_choices(code: str, *, blank: bool = True) -> list[tuple[str, str]]:
    items = [(i.code, i.display_label) for i in DictionaryItem.objects.active().of(code)]
    return ([("", "—")] if blank else []) + items


class DictionaryChoiceField(forms.ChoiceField):
    """A choice from a dictionary, loaded when the form is built (in the user's language)."""

    def __init__(self, dictionary: str, *args, **kwargs):
        self.dictionary = dictionary
        super().__init__(*args, choices=(), **kwargs)

    def load(self) -> None:
        self.choices = dictionary_choices(self.dictionary, blank=True)


class DictionaryFormMixin:
    def _load_dictionaries(self) -> None:
        for field in self.fields.values():
            if isinstance(field, DictionaryChoiceField):
                field.load()


class LeadForm(DictionaryFormMixin, forms.ModelForm):
    """Manual entry of a lead."""

    region = DictionaryChoiceField("region", label=_("Region"), required=False)
    product_category = DictionaryChoiceField("product_category", label=_("Product interest"),
                                             required=False)
    industry = DictionaryChoiceField("industry", label=_("Industry"), required=False)
    channel = DictionaryChoiceField("channel", label=_("Channel"), required=False)
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=None, empty_label=None)
    keep = forms.BooleanField(label=_("Keep this lead myself"), required=False, initial=True)

    class Meta:
        model = Lead
        fields = ["name", "company", "title", "mobile", "phone", "email", "wechat", "address",
                  "region", "product_category", "industry", "channel", "campaign", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, pools=None, can_keep: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_dictionaries()
        self.fields["pool"].queryset = pools
        self.fields["channel"].initial = "manual"
        if not can_keep:
            del self.fields["keep"]
        for name in ("mobile", "email", "company"):
            self.fields[name].widget.attrs["data-dupe-check"] = "1"

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f) for f in ("mobile", "phone", "email", "wechat")):
            raise forms.ValidationError(_("Give at least one way to reach the lead."))
        return cleaned


class ReasonForm(DictionaryFormMixin, forms.Form):
    reason = DictionaryChoiceField("release_reason", label=_("Reason"))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, dictionary: str = "release_reason", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].dictionary = dictionary
        self._load_dictionaries()


class FollowUpForm(DictionaryFormMixin, forms.Form):
    kind = DictionaryChoiceField("followup_type", label=_("Type"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUp.Outcome.choices)
    content = forms.CharField(label=_("What was said or done"),
                              widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    next_at = forms.DateTimeField(
        label=_("Next follow-up"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_dictionaries()

    def clean_next_at(self):
        value = self.cleaned_data.get("next_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("The next follow-up must be in the future."))
        return value


class LeadIdsField(forms.Field):
    """Selected lead ids from checkboxes (``lead`` repeated)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value or []
        if any(parse_id(v) is None for v in values):
            raise forms.ValidationError(_("Invalid selection."))
        ids = sorted(parse_ids(values))
        if not ids:
            raise forms.ValidationError(_("Select at least one lead."))
        if len(ids) > 500:
            raise forms.ValidationError(_("Select at most 500 leads at a time."))
        return ids


class TransferForm(DictionaryFormMixin, forms.Form):
    leads = LeadIdsField()
    to_rep = forms.TypedChoiceField(label=_("To rep"), coerce=int)
    reason = DictionaryChoiceField("transfer_reason", label=_("Reason"))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._load_dictionaries()
        self.fields["to_rep"].choices = [("", "—")] + [(r.user_id, r.display_name) for r in reps]


class AssignForm(forms.Form):
    leads = LeadIdsField()
    to_rep = forms.TypedChoiceField(label=_("To rep"), coerce=int)

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_rep"].choices = [("", "—")] + [(r.user_id, r.display_name) for r in reps]
