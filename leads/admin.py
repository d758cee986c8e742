"""Admin for pools, leads, channel tokens and imports. Contact data is masked here too."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from orgs.access import can_unmask, mask_for
from orgs.access.admin import BAG, MaskedFieldsAdminMixin

from .models import (
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadPool,
    PoolMember,
    RecycleRule,
    RoutingRule,
)
from .models_intake import ChannelToken, ImportJob, ImportMapping


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    extra = 0
    fields = ["user", "weight", "regions", "categories", "is_active"]
    raw_id_fields = ["user"]


class RecycleRuleInline(admin.TabularInline):
    model = RecycleRule
    extra = 0
    fk_name = "pool"
    fields = ["name", "kind", "threshold", "unit", "warn_offsets", "target", "max_recycles",
              "is_active"]
    show_change_link = True


@admin.register(LeadPool)
class LeadPoolAdmin(GuardedModelAdmin):
    """Pools and their settings; "Object permissions" grants view/claim/assign/manage.

    The rules pages of the workbench (/leads/rules/) edit the same settings with a preview.
    """

    list_display = ["code", "name", "name_en", "kind", "parent", "org_unit", "strategy",
                    "owned_cap", "daily_claim_limit", "cooldown_days", "is_active"]
    list_filter = ["kind", "strategy", "is_active"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent", "org_unit", "default_route_pool"]
    list_select_related = ["parent", "org_unit"]
    inlines = [PoolMemberInline, RecycleRuleInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "source_pool", "order", "target_pool", "is_active",
                    "updated_at", "updated_by"]
    list_filter = ["source_pool", "is_active"]
    list_editable = ["order", "is_active"]
    list_select_related = ["source_pool", "target_pool", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        obj.updated_at, obj.updated_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)
        # Waiting leads are routed again under the changed rules.
        LeadPool.objects.filter(pk=obj.source_pool_id).update(routed_until=None)


@admin.register(RecycleRule)
class RecycleRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "pool", "kind", "threshold", "unit", "target",
                    "max_recycles", "is_active", "updated_at"]
    list_filter = ["pool", "kind", "is_active"]
    list_select_related = ["pool"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        from django.db import transaction
        from django.utils import timezone

        from .tasks import refresh_pool_due

        obj.updated_at, obj.updated_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)
        pool_id = obj.pool_id
        transaction.on_commit(lambda: refresh_pool_due.delay(pool_id))


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "requested_by", "lead", "opportunity", "days", "status",
                    "decided_by", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["lead", "opportunity", "requested_by", "decided_by"]
    readonly_fields = ["created_at", "due_before", "decided_at"]


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
class LeadAdmin(MaskedFieldsAdminMixin, admin.ModelAdmin):
    """Leads for support staff: ownership changes go through the workbench, not here."""

    model = Lead
    masked_fields = {"attributes": BAG}

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
        exclude = super().get_exclude(request, obj) or []
        if can_unmask(request.user, "admin"):
            return exclude
        return [*exclude, *self.exclude]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if can_unmask(request.user, "admin"):
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

    list_display = ["name", "channel", "pool", "token_hint", "collision_policy", "is_active",
                    "last_used_at"]
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
