"""Contact data in Django admin, for staff without the unmask right.

``MaskedFieldsAdminMixin`` takes ``masked_fields`` (a field name → its masking kind, with
``"bag"`` for a free-form JSON field): for a viewer who may not see contact data in clear in
admin, those fields leave the change form (their values are never sent, and so never
overwritten) and show masked, read-only, in the form and in the list.
"""

from __future__ import annotations

from django.contrib import admin

from crm_site.lib.admin import ViewerAwareAdminMixin
from crm_site.lib.masking import Scenario

from .masking import show, show_bag
from .rights import can_unmask

BAG = "bag"


def _masked_name(field: str) -> str:
    return f"{field}_masked"


class MaskedFieldsAdminMixin(ViewerAwareAdminMixin):
    masked_fields: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        model = getattr(cls, "model", None)
        for field, kind in cls.masked_fields.items():
            label = model._meta.get_field(field).verbose_name if model else field

            def display(self, obj, field=field, kind=kind):
                value = getattr(obj, field, "")
                if kind == BAG:
                    return show_bag(self.viewer, value, Scenario.ADMIN) or "—"
                return show(self.viewer, value, kind, Scenario.ADMIN) or "—"

            setattr(cls, _masked_name(field), admin.display(description=label)(display))

    def _clear(self, request) -> bool:
        return can_unmask(request.user, Scenario.ADMIN)

    def _swap(self, names, request):
        if self._clear(request):
            return names
        return [_masked_name(n) if n in self.masked_fields else n for n in names]

    def get_list_display(self, request):
        return self._swap(super().get_list_display(request), request)

    def get_fields(self, request, obj=None):
        return self._swap(super().get_fields(request, obj), request)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self._clear(request):
            return fieldsets
        return [(name, {**options, "fields": self._swap(options.get("fields", ()), request)})
                for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._clear(request):
            return readonly
        return readonly + [_masked_name(n) for n in self.masked_fields]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self._clear(request):
            return exclude or None
        return exclude + [n for n in self.masked_fields if n not in exclude]
