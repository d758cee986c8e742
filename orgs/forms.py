"""Admin and page forms of the orgs app."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Employee, Membership, Position, Role
from .presets import STAGE_NAMES
from .rights import Entry, Operation


class RoleAdminForm(forms.ModelForm):
    """Entries and operations as checkboxes from the catalogue, stored as code lists."""

    entries = forms.MultipleChoiceField(
        label=_("Pages"), choices=Entry.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    operations = forms.MultipleChoiceField(
        label=_("Operations"), choices=Operation.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Role
        fields = ["code", "name", "name_en", "description", "entries", "operations",
                  "data_scope", "is_active"]


class PositionAdminForm(forms.ModelForm):
    class Meta:
        model = Position
        fields = ["code", "name", "name_en", "org_unit", "is_manager", "default_roles"]

    def clean(self):
        cleaned = super().clean()
        unit = cleaned.get("org_unit")
        roles = cleaned.get("default_roles")
        if unit is not None and roles:
            allowed = set(unit.effective_allowed_roles().values_list("pk", flat=True))
            refused = [r.display_name for r in roles if r.pk not in allowed]
            if refused:
                self.add_error(
                    "default_roles",
                    _("%(unit)s does not allow these roles: %(roles)s")
                    % {"unit": unit.display_name, "roles": ", ".join(refused)},
                )
        return cleaned


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["org_unit", "position", "is_primary", "extra_roles", "revoked_roles"]

    def clean(self):
        cleaned = super().clean()
        unit = cleaned.get("org_unit")
        extra = cleaned.get("extra_roles")
        if unit is not None and extra:
            allowed = set(unit.effective_allowed_roles().values_list("pk", flat=True))
            refused = [r.display_name for r in extra if r.pk not in allowed]
            if refused:
                self.add_error(
                    "extra_roles",
                    _("%(unit)s does not allow these roles: %(roles)s")
                    % {"unit": unit.display_name, "roles": ", ".join(refused)},
                )
        return cleaned


class DepartureForm(forms.Form):
    """Chosen in admin when marking employees departed."""

    successor = forms.ModelChoiceField(
        label=_("Successor"),
        queryset=Employee.objects.exclude(status=Employee.Status.DEPARTED),
        required=False,
        help_text=_(
            "Receives the departed employee's leads, customers and opportunities. "
            "Leave empty to return leads to their pools and other records to the manager."
        ),
    )


class StageForm(forms.Form):
    stage = forms.TypedChoiceField(
        label=_("Org stage"), coerce=int, choices=sorted(STAGE_NAMES.items())
    )
