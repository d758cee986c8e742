"""Admin for customers, contacts and opportunities. Contact methods are masked here as on
the pages; ownership and stages change through the workbench, with their events."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm_site.lib.admin import ViewerAwareAdminMixin
from orgs.access import Kind, can_unmask, mask_for
from orgs.access.admin import BAG, MaskedFieldsAdminMixin

from .models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from .selectors_customers import METHOD_MASK


class CustomerContactInline(admin.TabularInline):
    model = CustomerContact
    extra = 0
    fields = ["contact", "role", "is_primary"]
    raw_id_fields = ["contact"]


@admin.register(Customer)
class CustomerAdmin(MaskedFieldsAdminMixin, admin.ModelAdmin):
    """Customers for support staff; merges and transfers go through the workbench."""

    model = Customer
    masked_fields = {"address": Kind.ADDRESS, "attributes": BAG}

    list_display = ["pk", "name", "grade", "is_starred", "owner", "region", "industry",
                    "merged_into", "created_at"]
    list_filter = ["grade", "is_starred", "region", "industry"]
    search_fields = ["name", "external_id", "name_key"]
    list_select_related = ["owner", "merged_into"]
    show_full_result_count = False
    raw_id_fields = ["owner", "merged_into", "created_by"]
    readonly_fields = ["grade", "graded_at", "signed_amount_12m", "merged_into", "created_at",
                       "created_by"]
    inlines = [CustomerContactInline]

    def has_delete_permission(self, request, obj=None):
        return False


class ContactMethodInline(ViewerAwareAdminMixin, admin.TabularInline):
    model = ContactMethod
    extra = 0

    def get_fields(self, request, obj=None):
        if can_unmask(request.user, "detail"):
            return ["kind", "value", "is_primary"]
        return ["kind", "masked_value", "is_primary"]

    def get_readonly_fields(self, request, obj=None):
        if can_unmask(request.user, "detail"):
            return []
        return ["kind", "masked_value", "is_primary"]

    def has_add_permission(self, request, obj=None):
        return can_unmask(request.user, "detail")

    def has_delete_permission(self, request, obj=None):
        return can_unmask(request.user, "detail")

    @admin.display(description=_("value"))
    def masked_value(self, obj):
        return mask_for(None, obj.value, METHOD_MASK.get(obj.kind, "address"), "detail")


@admin.register(Contact)
class ContactAdmin(ViewerAwareAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "name", "title", "primary_method", "merged_into", "created_at"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["merged_into", "created_by"]
    readonly_fields = ["merged_into", "created_at", "created_by"]
    show_full_result_count = False
    inlines = [ContactMethodInline]

    def save_formset(self, request, form, formset, change):
        from .services_customers import method_key

        for method in formset.save(commit=False):
            method.value_key = method_key(method.kind, method.value)
            method.save()
        for method in formset.deleted_objects:
            method.delete()
        formset.save_m2m()

    def get_queryset(self, request):
        from django.db.models import Prefetch

        return super().get_queryset(request).prefetch_related(
            Prefetch("methods", queryset=ContactMethod.objects.order_by("-is_primary", "pk")))

    @admin.display(description=_("primary contact method"))
    def primary_method(self, obj):
        method = next(iter(obj.methods.all()), None)
        if method is None:
            return "—"
        return mask_for(self.viewer, method.value, METHOD_MASK.get(method.kind, "address"),
                        "list")

    def has_delete_permission(self, request, obj=None):
        return False


class StageChangeInline(admin.TabularInline):
    model = OpportunityStageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "time_in_stage"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OpportunityEventInline(admin.TabularInline):
    model = OpportunityEvent
    extra = 0
    fields = ["created_at", "kind", "actor", "from_owner", "to_owner", "from_pool", "to_pool",
              "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    """Opportunities for support staff: owner, pool, stage and status change on the board and
    in the opportunity pool (versioned, with history and events), never here."""

    list_display = ["pk", "name", "customer", "owner", "pool", "stage", "status", "amount",
                    "expected_close", "created_at"]
    list_filter = ["status", "type", "pool"]
    search_fields = ["name", "external_id", "customer__name"]
    list_select_related = ["customer", "owner", "pool"]
    show_full_result_count = False
    raw_id_fields = ["customer", "contact", "product", "created_by"]
    readonly_fields = ["owner", "pool", "stage", "stage_changed_at", "status", "lost_reason",
                       "closed_at", "created_at", "created_by", "assigned_at", "recycle_due_at",
                       "recycle_rule", "recycle_count"]
    exclude = ["version", "pooled_at", "last_qualified_at", "recycle_warn_at", "recycle_grace",
               "clock_paused_at"]
    inlines = [StageChangeInline, OpportunityEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
