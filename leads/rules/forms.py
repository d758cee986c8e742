"""Forms of the pool rules pages: assignment policy, members, recycle and routing rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from ..forms import dictionary_choices
from ..models import FollowUp, Lead, LeadPool, PoolMember, RecycleRule, RoutingRule
from ..permissions import descendant_pools
from ..weights import choices as weight_choices

CHECKS = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


def _multi(label, help_text="") -> forms.MultipleChoiceField:
    """Ticks of a dictionary's items (choices loaded per form, in the user's language)."""
    return forms.MultipleChoiceField(label=label, required=False, widget=CHECKS,
                                     help_text=help_text, choices=())


def _load(form, **dictionaries) -> None:
    for name, dictionary in dictionaries.items():
        if name in form.fields:
            form.fields[name].choices = dictionary_choices(dictionary, blank=False)


def _bootstrap(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")


class PoolPolicyForm(forms.ModelForm):
    """How a pool hands out leads, what counts as contact, and its caps."""

    weight_source = forms.ChoiceField(label=_("Weights from"), choices=())
    qualifying_types = _multi(_("Follow-up types that count as contact"),
                              _("None ticked: every type counts."))
    qualifying_outcomes = forms.MultipleChoiceField(
        label=_("Outcomes that count as contact"), required=False, widget=CHECKS,
        choices=FollowUp.Outcome.choices, help_text=_("None ticked: every outcome counts."))

    class Meta:
        model = LeadPool
        fields = ["strategy", "weight_source", "owned_cap", "daily_claim_limit", "cooldown_days",
                  "daily_open_limit", "hide_contact_until_claimed", "qualifying_types",
                  "qualifying_outcomes", "qualifying_min_length", "extension_days",
                  "default_route_pool"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weight_source"].choices = weight_choices()
        _load(self, qualifying_types="followup_type")
        below = descendant_pools(self.instance)
        if below.exists():
            self.fields["default_route_pool"].queryset = below
        else:
            del self.fields["default_route_pool"]
        _bootstrap(self)


class MemberForm(forms.ModelForm):
    regions = _multi(_("Regions"), _("None ticked: any region."))
    categories = _multi(_("Product categories"),
                        _("None ticked: any category."))

    class Meta:
        model = PoolMember
        fields = ["weight", "regions", "categories", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _load(self, regions="region", categories="product_category")
        self.fields["weight"].widget.attrs["min"] = 1
        self.fields["weight"].widget.attrs["max"] = 100
        _bootstrap(self)

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if not 1 <= weight <= 100:
            raise forms.ValidationError(_("A weight is a whole number from 1 to 100."))
        return weight


class AddMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Rep"), queryset=get_user_model().objects.none(),
                                  empty_label="—")
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, candidates=None, labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates if candidates is not None else (
            get_user_model().objects.none())
        labels = labels or {}
        self.fields["user"].label_from_instance = lambda u: labels.get(u.pk, u.get_username())
        _bootstrap(self)


def _hours_list(text: str) -> list[float]:
    values = []
    for part in (text or "").replace("，", ",").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            number = float(part)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Write the warning times as hours separated by commas, e.g. 72, 24.")) from exc
        if number <= 0:
            raise forms.ValidationError(_("Warning times are hours before the deadline, "
                                          "greater than 0."))
        values.append(int(number) if number.is_integer() else number)
    return sorted(set(values), reverse=True)


class RecycleRuleForm(forms.ModelForm):
    """A recycle rule of one pool; the kinds offered depend on what the pool holds."""

    exclude_grades = _multi(_("Except grades"))
    exclude_statuses = forms.MultipleChoiceField(
        label=_("Except statuses"), required=False, widget=CHECKS,
        choices=[(s, Lead.Status(s).label) for s in Lead.OPEN_STATUSES])
    warn_offsets = forms.CharField(
        label=_("Warn the owner (hours before)"), required=False,
        help_text=_("E.g. 72, 24: three days and one day before. Empty: no warning."))

    class Meta:
        model = RecycleRule
        fields = ["name", "name_en", "kind", "threshold", "unit", "exclude_grades",
                  "exclude_starred",
                  "exclude_statuses", "warn_offsets", "target", "target_pool", "max_recycles",
                  "dormant_pool", "order", "is_active"]

    def __init__(self, *args, pool: LeadPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = pool
        _load(self, exclude_grades="customer_grade")
        holds_opportunities = pool.kind == LeadPool.Kind.OPPORTUNITY
        kinds = [RecycleRule.Kind.NO_PROGRESS if holds_opportunities
                 else RecycleRule.Kind.NO_FOLLOWUP,
                 RecycleRule.Kind.NOT_CONVERTED, RecycleRule.Kind.FIRST_TOUCH]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]
        if holds_opportunities:
            self.fields["kind"].choices[1] = (RecycleRule.Kind.NOT_CONVERTED.value,
                                             _("Not won"))
            del self.fields["exclude_statuses"]
        self.fields["target_pool"].queryset = same_kind_pools(pool).exclude(pk=pool.pk)
        self.fields["dormant_pool"].queryset = LeadPool.objects.filter(
            kind=LeadPool.Kind.DORMANT, is_active=True)
        if self.instance.pk or self.initial.get("warn_offsets"):
            offsets = self.instance.warn_offsets if self.instance.pk else self.initial[
                "warn_offsets"]
            self.initial["warn_offsets"] = ", ".join(str(h) for h in offsets or [])
        self.fields["threshold"].widget.attrs["min"] = 1
        _bootstrap(self)

    def clean_warn_offsets(self):
        return _hours_list(self.cleaned_data.get("warn_offsets", ""))

    def clean(self):
        cleaned = super().clean()
        threshold, unit = cleaned.get("threshold"), cleaned.get("unit")
        if threshold is not None and threshold < 1:
            self.add_error("threshold", _("A rule needs at least 1 hour or day."))
        if cleaned.get("target") == RecycleRule.Target.POOL and not cleaned.get("target_pool"):
            self.add_error("target_pool", _("Choose the pool the leads go to."))
        if cleaned.get("target") == RecycleRule.Target.PARENT and not self.pool.parent_id:
            self.add_error("target", _("This pool has no parent pool."))
        if cleaned.get("max_recycles") is not None and not (
                cleaned.get("dormant_pool") or LeadPool.objects.filter(
                    kind=LeadPool.Kind.DORMANT, is_active=True).exists()):
            self.add_error("dormant_pool", _("A recycle cap needs a dormant pool."))
        offsets = cleaned.get("warn_offsets") or []
        if threshold and unit and offsets:
            period_hours = threshold * (24 if unit == RecycleRule.Unit.DAYS else 1)
            if max(offsets) >= period_hours:
                self.add_error("warn_offsets", _(
                    "A warning must come after the clock starts: less than %(hours)s hours "
                    "before the deadline.") % {"hours": period_hours})
        return cleaned


def same_kind_pools(pool: LeadPool):
    """Active pools that hold what ``pool`` holds (leads, or opportunities)."""
    pools = LeadPool.objects.filter(is_active=True)
    if pool.kind == LeadPool.Kind.OPPORTUNITY:
        return pools.filter(kind=LeadPool.Kind.OPPORTUNITY)
    return pools.exclude(kind=LeadPool.Kind.OPPORTUNITY)


OPERATORS = {"equals": _("equals"), "contains": _("contains"), "exists": _("is filled"),
             "in": _("is one of")}


def _conditions(text: str) -> list[dict]:
    """``key op value`` per line (``utm_source equals baidu``, ``tags in a,b``)."""
    conditions = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in OPERATORS:
            raise forms.ValidationError(
                _("Line %(line)d: write “attribute operator value”, the operator one of "
                  "%(ops)s.") % {"line": number, "ops": ", ".join(OPERATORS)})
        key, op = parts[0], parts[1]
        value = parts[2].strip() if len(parts) > 2 else ""
        if op != "exists" and not value:
            raise forms.ValidationError(_("Line %(line)d: the condition needs a value.")
                                        % {"line": number})
        if op == "in":
            value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        conditions.append({"key": key, "op": op, "value": value if op != "exists" else None})
    return conditions


def conditions_text(conditions) -> str:
    lines = []
    for c in conditions or []:
        value = c.get("value")
        if isinstance(value, list):
            value = ",".join(map(str, value))
        lines.append(" ".join(str(p) for p in (c.get("key"), c.get("op"), value or "") if p))
    return "\n".join(lines)


class RoutingRuleForm(forms.ModelForm):
    regions = _multi(_("Regions"))
    product_categories = _multi(_("Product categories"))
    channels = _multi(_("Channels"))
    customer_sizes = _multi(_("Customer sizes"))
    attribute_conditions = forms.CharField(
        label=_("Attribute conditions"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "utm_source equals baidu"}),
        help_text=_("One per line: attribute, operator (equals, contains, exists, in), value."))

    class Meta:
        model = RoutingRule
        fields = ["name", "name_en", "order", "regions", "product_categories", "channels",
                  "customer_sizes", "attribute_conditions", "target_pool", "is_active"]

    def __init__(self, *args, pool: LeadPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = pool
        _load(self, regions="region", product_categories="product_category",
              channels="channel", customer_sizes="customer_size")
        self.fields["target_pool"].queryset = descendant_pools(pool).exclude(
            kind=LeadPool.Kind.OPPORTUNITY)
        if self.instance.pk:
            self.initial["attribute_conditions"] = conditions_text(
                self.instance.attribute_conditions)
        _bootstrap(self)

    def clean_attribute_conditions(self):
        return _conditions(self.cleaned_data.get("attribute_conditions", ""))
