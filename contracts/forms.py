from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Product


class OrderForm(forms.Form):
    signed_on = forms.DateField(label=_("signed on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label=_("notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(forms.Form):
    """One order line; the line total is never taken from the browser."""

    product = forms.ModelChoiceField(label=_("product"), required=False,
                                     queryset=Product.objects.filter(is_active=True))
    quantity = forms.DecimalField(label=_("quantity"), required=False, max_digits=12,
                                  decimal_places=2, min_value=Decimal("0.01"))
    unit_price = forms.DecimalField(label=_("unit price"), required=False, max_digits=14,
                                    decimal_places=2, min_value=Decimal("0"))
    discount = forms.DecimalField(label=_("discount %"), required=False, max_digits=5,
                                  decimal_places=2, min_value=Decimal("0"),
                                  max_value=Decimal("100"))

    def clean(self):
        data = super().clean()
        if data.get("product") and not data.get("quantity"):
            self.add_error("quantity", _("Enter a quantity."))
        typed = any(data.get(name) not in (None, "") for name in ("quantity", "unit_price",
                                                                  "discount"))
        if not data.get("product") and typed and "product" not in self.errors:
            # What was typed stays on the page; the line only lacks its product.
            self.add_error("product", _("Choose a product for this line."))
        if data.get("product") and data.get("unit_price") is None:
            data["unit_price"] = data["product"].list_price
        return data


LineFormSet = forms.formset_factory(LineForm, extra=0, min_num=1, max_num=100,
                                    validate_max=True)


class ContractForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    start_on = forms.DateField(label=_("starts"), widget=forms.DateInput(attrs={"type": "date"}))
    end_on = forms.DateField(label=_("ends"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("amount"), max_digits=16, decimal_places=2,
                                min_value=Decimal("0.01"))
    signed_on = forms.DateField(label=_("signed on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label=_("notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("start_on") and data.get("end_on") and data["end_on"] < data["start_on"]:
            self.add_error("end_on", _("The contract cannot end before it starts."))
        return data


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Scan or PDF"))


class AllocationForm(forms.Form):
    order = forms.IntegerField(label=_("order"), widget=forms.Select)
    amount = forms.DecimalField(label=_("allocated amount"), max_digits=16, decimal_places=2,
                                min_value=Decimal("0"))


# An instalment's amount: finite (no NaN/Infinity), in cents, within the column's digits.
INSTALMENT_AMOUNT = forms.DecimalField(max_digits=16, decimal_places=2,
                                       min_value=Decimal("0.01"))


class PlanForm(forms.Form):
    """Instalments as lines of ``YYYY-MM-DD amount``."""

    lines = forms.CharField(label=_("Instalments (one per line: due date and amount)"),
                            widget=forms.Textarea(attrs={"rows": 3,
                                                         "placeholder": "2026-12-31 50000"}))

    def clean_lines(self):
        from datetime import date
        from decimal import InvalidOperation

        result = []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            raw = raw.strip()
            if not raw:
                continue
            parts = raw.replace(",", " ").split()
            try:
                due = date.fromisoformat(parts[0])
                amount = INSTALMENT_AMOUNT.clean(parts[1])
            except (IndexError, ValueError, InvalidOperation):
                raise forms.ValidationError(
                    _("Line %(n)s: write a date (YYYY-MM-DD) and an amount.") % {"n": number}
                ) from None
            except forms.ValidationError as problem:
                raise forms.ValidationError(
                    _("Line %(n)s: %(problem)s") % {"n": number,
                                                    "problem": " ".join(problem.messages)}
                ) from None
            result.append((due, amount))
        if not result:
            raise forms.ValidationError(_("Enter at least one instalment."))
        return result


class PaymentForm(forms.Form):
    instalment = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("amount"), max_digits=16, decimal_places=2,
                                min_value=Decimal("0.01"))
    received_on = forms.DateField(label=_("received on"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("note"), required=False, max_length=200)


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("comment"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
