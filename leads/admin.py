"""Admin for pools, leads, channel tokens and imports. Contact data is masked here too."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from crm_site.lib.admin import ViewerAwareAdminMixin
from crm_site.lib.masking import can_unmask, mask_for

from .models import Lead, LeadEvent, LeadPool
from .models_intake import ChannelToken, ImportJob, ImportMapping


@admin.register(LeadPool)
class LeadPoolAdmin(GuardedModelAdmin):
    """Pools and their settings; "Object permissions" grants view/claim/assign/manage."""

    list_display = ["code", "name", "name_en", "kind", "parent", "org_unit", "owned_cap",
                    "daily_claim_limit", "cooldown_days", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent", "org_unit"]
    list_select_related = ["parent", "org_unit"]


class EventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "from_owner", "to_owner", "from_pool", "to_pool",
              "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(ViewerAwareAdminMixin, admin.ModelAdmin):
    """Leads for support staff: ownership changes go through the workbench, not here."""

    list_display = ["pk", "name", "company", "masked_mobile", "status", "owner", "pool",
                    "channel", "created_at"]
    list_filter = ["status", "pool", "channel"]
    search_fields = ["name", "company", "external_id", "mobile_key"]
    list_select_related = ["owner", "pool"]
    show_full_result_count = False
    inlines = [EventInline]
    readonly_fields = ["owner", "status", "pool", "assigned_at", "created_at", "created_by",
                       "masked_mobile", "masked_phone", "masked_email"]
    exclude = ["mobile", "phone", "email"]

    def get_exclude(self, request, obj=None):
        return [] if can_unmask(request.user, "detail") else self.exclude

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if can_unmask(request.user, "detail"):
            fields = [f for f in fields if not f.startswith("masked_")]
        return fields

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_for(self.viewer, obj.mobile, "phone", "list")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_for(self.viewer, obj.phone, "phone", "detail")

    @admin.display(description=_("e-mail"))
    def masked_email(self, obj):
        return mask_for(self.viewer, obj.email, "email", "detail")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChannelToken)
class ChannelTokenAdmin(admin.ModelAdmin):
    """Tokens of the ingest endpoint; the secret is shown once, when created."""

    list_display = ["name", "channel", "pool", "token_hint", "is_active", "last_used_at"]
    list_filter = ["channel", "is_active"]
    readonly_fields = ["token_hint", "created_at", "last_used_at"]
    actions = ["rotate"]

    def save_model(self, request, obj, form, change):
        if not change:
            token = obj.issue()
            messages.warning(request, _("Token for %(name)s: %(token)s — copy it now, it is "
                                        "not shown again.") % {"name": obj.name, "token": token})
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def rotate(self, request, queryset):
        for obj in queryset:
            token = obj.issue()
            obj.save(update_fields=["token_hash", "token_hint"])
            messages.warning(request, _("Token for %(name)s: %(token)s — copy it now, it is "
                                        "not shown again.") % {"name": obj.name, "token": token})


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ["name", "name_template", "created_by", "created_at"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "pool", "status", "total_rows", "accepted", "merged",
                    "skipped", "rejected", "created_by", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False
