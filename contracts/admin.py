from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from orgs.models import DictionaryItem

from .models import (
    ApprovalBand,
    ApprovalBandStep,
    ApprovalRequest,
    ApprovalStep,
    Contract,
    ContractAttachment,
    ContractOrder,
    Order,
    OrderLine,
    PaymentInstalment,
    Product,
)
from .resources import ProductResource


class ProductForm(forms.ModelForm):
    """The category is picked from the product-category dictionary."""

    category = forms.ChoiceField(label=_("category"), required=False)

    class Meta:
        model = Product
        fields = ("code", "name", "series", "category", "list_price", "unit_cost", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (item.code, item.display_label)
            for item in DictionaryItem.objects.active().of("product_category")]


@admin.register(Product)
class ProductAdmin(ImportExportModelAdmin):
    form = ProductForm
    resource_classes = [ProductResource]
    list_display = ("name", "code", "series", "category", "list_price", "unit_cost",
                    "is_active")
    list_filter = ("is_active", "series", "category")
    search_fields = ("name", "code", "series")


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ("line_total",)
    autocomplete_fields = ("product",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "owner", "status", "total", "signed_on")
    list_filter = ("status",)
    search_fields = ("customer__name",)
    raw_id_fields = ("customer", "opportunity", "owner", "created_by")
    readonly_fields = ("total", "approved_at")
    inlines = [OrderLineInline]


class AttachmentInline(admin.TabularInline):
    model = ContractAttachment
    extra = 0
    fields = ("original_name", "kind", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AllocationInline(admin.TabularInline):
    model = ContractOrder
    extra = 0
    raw_id_fields = ("order",)
    readonly_fields = ("order", "amount")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "customer", "owner", "status", "amount", "start_on",
                    "end_on")
    list_filter = ("status",)
    search_fields = ("number", "title", "customer__name")
    raw_id_fields = ("customer", "owner", "created_by")
    readonly_fields = ("number", "status", "approved_at", "renewal_planned_at")
    inlines = [AllocationInline, AttachmentInline]


class BandStepInline(admin.TabularInline):
    model = ApprovalBandStep
    extra = 1
    raw_id_fields = ("approver",)


@admin.register(ApprovalBand)
class ApprovalBandAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "min_amount", "max_amount", "is_active")
    list_filter = ("subject", "is_active")
    inlines = [BandStepInline]


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 0
    readonly_fields = ("position", "approver", "status", "comment", "decided_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = ("__str__", "subject", "amount", "status", "submitted_by", "submitted_at")
    list_filter = ("subject", "status")
    readonly_fields = ("subject", "contract", "order", "band", "amount", "status",
                       "submitted_by", "submitted_at", "decided_at")
    inlines = [ApprovalStepInline]

    def has_add_permission(self, request):
        return False


@admin.register(PaymentInstalment)
class PaymentInstalmentAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "owner", "due_on", "amount", "received", "status")
    list_filter = ("status",)
    raw_id_fields = ("contract", "order", "customer", "owner")
    readonly_fields = ("received", "status", "reminded_at")
