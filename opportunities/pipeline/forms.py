"""Forms of the pipeline pages. Stages and lost reasons come from the dictionaries."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .. import stages as stage_dictionary
from ..models import Opportunity


class ConvertForm(forms.Form):
    """Converting a lead: the customer (new or found), the contact and the opportunity."""

    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_name = forms.CharField(label=_("Customer"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=200)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200)
    type = forms.ChoiceField(label=pgettext_lazy("opportunity", "Type"),
                             choices=Opportunity.Type.choices)
    amount = forms.DecimalField(label=_("Amount (¥)"), min_value=0, max_digits=14,
                                decimal_places=2, initial=0)
    expected_close = forms.DateField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    stage = forms.ChoiceField(label=_("Stage"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s.code, f"{s.label} · {s.probability}%")
                                        for s in stage_dictionary.stages() if not s.closed]

    def clean(self):
        data = super().clean()
        if not data.get("customer_id") and not (data.get("customer_name") or "").strip():
            self.add_error("customer_name", _("Enter a new customer's name or pick an "
                                              "existing customer."))
        if not (data.get("mobile") or "").strip() and not (data.get("email") or "").strip():
            self.add_error("mobile", _("Enter a mobile number or an e-mail for the contact."))
        return data


class MoveForm(forms.Form):
    stage = forms.CharField(max_length=64)
    version = forms.IntegerField(min_value=1)
    lost_reason = forms.CharField(max_length=64, required=False)
