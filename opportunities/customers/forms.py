"""Forms of the customer and contact pages. Choices come from the dictionaries."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import DictionaryChoiceField, DictionaryFormMixin
from leads.normalize import normalize_email, normalize_phone

from ..models import Contact, ContactMethod, Customer


class CustomerForm(DictionaryFormMixin, forms.ModelForm):
    region = DictionaryChoiceField("region", label=_("Region"), required=False)
    industry = DictionaryChoiceField("industry", label=_("Industry"), required=False)
    size = DictionaryChoiceField("customer_size", label=_("Size"), required=False)

    class Meta:
        model = Customer
        fields = ["kind", "name", "industry", "region", "size", "address", "website",
                  "external_id", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"name": {"required": _("A customer needs a name.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_dictionaries()


class ContactForm(forms.ModelForm):
    role = forms.CharField(label=_("Role at the customer"), required=False, max_length=100)
    is_primary = forms.BooleanField(label=_("Primary contact of the customer"), required=False)

    class Meta:
        model = Contact
        fields = ["name", "title", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"name": {"required": _("A contact needs a name.")}}

    def __init__(self, *args, with_link: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_link:
            del self.fields["role"]
            del self.fields["is_primary"]


class MethodForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactMethod.Kind.choices)
    value = forms.CharField(label=_("Value"), max_length=254, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        if not value:
            return cleaned
        if kind in (ContactMethod.Kind.MOBILE, ContactMethod.Kind.PHONE) and len(
                normalize_phone(value)) < 5:
            self.add_error("value", _("This is not a phone number."))
        if kind == ContactMethod.Kind.EMAIL and not normalize_email(value):
            self.add_error("value", _("This is not an e-mail address."))
        return cleaned


class BaseMethodFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        filled = [f for f in self.forms if (f.cleaned_data.get("value") or "").strip()
                  and not f.cleaned_data.get("DELETE")]
        primaries = sum(1 for f in filled if f.cleaned_data.get("is_primary"))
        if not filled:
            raise forms.ValidationError(_("Give at least one way to reach the contact."))
        if len(filled) == 1 and primaries == 0:
            filled[0].cleaned_data["is_primary"] = True
        elif primaries != 1:
            raise forms.ValidationError(_("Mark exactly one contact method as primary."))

    def methods(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms
                if (f.cleaned_data.get("value") or "").strip()
                and not f.cleaned_data.get("DELETE")]


MethodFormSet = forms.formset_factory(MethodForm, formset=BaseMethodFormSet, extra=2,
                                      can_delete=True, max_num=10, validate_max=True)


class MergeForm(forms.Form):
    survivor = forms.IntegerField(widget=forms.HiddenInput)
    other = forms.IntegerField(widget=forms.HiddenInput)
