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
from .permissions import pool_allows
from .rules import services as rules_services
from .rules.forms import RecycleRuleForm, RoutingRuleForm


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    extra = 0
    fields = ["user", "weight", "regions", "categories", "is_active"]
    raw_id_fields = ["user"]


class RecycleRuleInline(admin.TabularInline):
    """The pool's recycle rules at a glance; each is edited on its own change page."""

    model = RecycleRule
    extra = 0
    fk_name = "pool"
    fields = ["name", "kind", "threshold", "unit", "warn_offsets", "target", "max_recycles",
              "is_active"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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


class PoolRuleAdmin(admin.ModelAdmin):
    """A pool's rule edited with the rules page's form and saved by its service.

    The same validation, audit and follow-up work (re-timing the pool's leads, routing
    its waiting leads again) as on the pool's rules page, which is where rules are added.
    Only someone who may manage the rule's pool may change or delete it here.
    """

    pool_attr: str
    rules_form: type

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return super().get_form(request, obj, change, **kwargs)
        kwargs["form"] = self.rules_form
        form_class = super().get_form(request, obj, change, **kwargs)
        pool = getattr(obj, self.pool_attr)

        class PoolRuleForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, pool=pool, **form_kwargs)

        return PoolRuleForm

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or pool_allows(request.user, getattr(obj, self.pool_attr),
                                       "manage_pool"))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or pool_allows(request.user, getattr(obj, self.pool_attr),
                                       "manage_pool"))

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            try:
                self.delete_model(request, rule)
            except rules_services.RulesRefused as refused:
                self.message_user(request, refused.message, messages.ERROR)


@admin.register(RoutingRule)
class RoutingRuleAdmin(PoolRuleAdmin):
    list_display = ["name", "name_en", "source_pool", "order", "target_pool", "is_active",
                    "updated_at", "updated_by"]
    list_filter = ["source_pool", "is_active"]
    list_select_related = ["source_pool", "target_pool", "updated_by"]
    readonly_fields = ["source_pool", "updated_at", "updated_by"]
    pool_attr = "source_pool"
    rules_form = RoutingRuleForm

    def save_model(self, request, obj, form, change):
        rules_services.routing_rule_save(pool=obj.source_pool, form=form, user=request.user)

    def delete_model(self, request, obj):
        rules_services.routing_rule_delete(rule=obj, user=request.user)


@admin.register(RecycleRule)
class RecycleRuleAdmin(PoolRuleAdmin):
    list_display = ["name", "name_en", "pool", "kind", "threshold", "unit", "target",
                    "max_recycles", "is_active", "updated_at"]
    list_filter = ["pool", "kind", "is_active"]
    list_select_related = ["pool"]
    readonly_fields = ["pool", "updated_at", "updated_by"]
    pool_attr = "pool"
    rules_form = RecycleRuleForm

    def save_model(self, request, obj, form, change):
        rules_services.recycle_rule_save(pool=obj.pool, form=form, user=request.user)

    def delete_model(self, request, obj):
        rules_services.recycle_rule_delete(rule=obj, user=request.user)


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
