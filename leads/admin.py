from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from .models import LeadPool


@admin.register(LeadPool)
class LeadPoolAdmin(GuardedModelAdmin):
    """Pools; "Object permissions" grants view/claim/assign/manage per pool."""

    list_display = ["code", "name", "name_en", "kind", "parent", "org_unit", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent", "org_unit"]
