"""Forms of the customer and contact pages. Choices come from the dictionaries."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site.lib.masking import Kind, mask
from leads.forms import DictionaryChoiceField, DictionaryFormMixin
from leads.normalize import normalize_email, normalize_phone

from .models import Contact, ContactMethod, Customer


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

    def __init__(self, *args, address_clear: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_dictionaries()
        self.address_kept = bool(not address_clear and self.instance.pk
                                 and self.instance.address)
        if self.address_kept:
            # Never send an address the viewer may not see: an empty field with the masked
            # address as its placeholder; left empty, the stored address stays.
            self.initial["address"] = ""
            self.fields["address"].widget.attrs["placeholder"] = mask(
                self.instance.address, Kind.ADDRESS)
            self.fields["address"].help_text = _(
                "Leave empty to keep the current address.")

    def clean_address(self):
        address = (self.cleaned_data.get("address") or "").strip()
        if not address and self.address_kept:
            return self.instance.address
        return address


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
    # The stored method this row edits: left empty, the row keeps its stored value (which
    # the viewer may not be allowed to see, so it is never sent to the browser).
    stored = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1,
                                max_value=2**31 - 1)

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
    """The contact methods of a contact. ``stored`` maps the ids of the contact's stored
    methods to their values: a row naming one of them and left empty keeps that value."""

    def __init__(self, *args, stored: dict[int, str] | None = None,
                 placeholders: dict[int, str] | None = None, **kwargs):
        self.stored = stored or {}
        super().__init__(*args, **kwargs)
        for form in self.forms:
            try:
                kept = int(form["stored"].value() or 0)
            except (TypeError, ValueError):
                kept = 0
            if placeholders and kept in placeholders:
                form.fields["value"].widget.attrs["placeholder"] = placeholders[kept]

    def _value(self, form) -> str:
        value = (form.cleaned_data.get("value") or "").strip()
        if not value and form.cleaned_data.get("stored") is not None:
            return self.stored.get(form.cleaned_data["stored"], "")
        return value

    def clean(self):
        if any(self.errors):
            return
        filled = [f for f in self.forms if self._value(f)
                  and not f.cleaned_data.get("DELETE")]
        primaries = sum(1 for f in filled if f.cleaned_data.get("is_primary"))
        if not filled:
            raise forms.ValidationError(_("Give at least one way to reach the contact."))
        if len(filled) == 1 and primaries == 0:
            filled[0].cleaned_data["is_primary"] = True
        elif primaries != 1:
            raise forms.ValidationError(_("Mark exactly one contact method as primary."))

    def methods(self) -> list[dict]:
        return [{**f.cleaned_data, "value": self._value(f)} for f in self.forms
                if self._value(f) and not f.cleaned_data.get("DELETE")]


MethodFormSet = forms.formset_factory(MethodForm, formset=BaseMethodFormSet, extra=2,
                                      can_delete=True, max_num=10, validate_max=True)


class MergeForm(forms.Form):
    survivor = forms.IntegerField(widget=forms.HiddenInput)
    other = forms.IntegerField(widget=forms.HiddenInput)
