"""Admin and page forms of the orgs app."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Employee, Membership, Position, Role
from .presets import STAGE_NAMES
from .rights import Entry, Operation
from .services import unit_roles_validate


def _check_allowed(form: forms.ModelForm, field: str, unit, roles) -> None:
    """Attach the service's refusal of roles the unit does not allow to ``field``."""
    if unit is None or not roles:
        return
    try:
        unit_roles_validate(unit=unit, roles=roles)
    except ValidationError as exc:
        form.add_error(field, exc)


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
        _check_allowed(self, "default_roles", cleaned.get("org_unit"),
                       cleaned.get("default_roles"))
        return cleaned


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["org_unit", "position", "is_primary", "extra_roles", "revoked_roles"]

    def clean(self):
        cleaned = super().clean()
        _check_allowed(self, "extra_roles", cleaned.get("org_unit"),
                       cleaned.get("extra_roles"))
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
