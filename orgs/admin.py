"""Admin for the organisation: org tree, roles, positions, employees, dictionaries."""

from auditlog.admin import LogEntryAdmin
from auditlog.filters import CIDFilter, ResourceTypeFilter
from auditlog.models import LogEntry
from auditlog.render import get_field_verbose_name
from axes.utils import reset
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from crm_site.lib.admin import ViewerAwareAdminMixin
from orgs.access import can_unmask, mask_for

from . import services
from .forms import (
    DepartureForm,
    MembershipInlineForm,
    PositionAdminForm,
    RoleAdminForm,
    StageForm,
)
from .models import (
    Dictionary,
    DictionaryItem,
    Employee,
    Membership,
    OrgUnit,
    Position,
    Role,
    StageApplication,
)
from .presets import STAGE_NAMES, apply_org_stage
from .selectors import holders_of_role


@admin.register(OrgUnit)
class OrgUnitAdmin(TreeAdmin):
    form = movenodeform_factory(OrgUnit, exclude=["allowed_roles"])
    list_display = ["name", "name_en", "code", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_en", "code"]
    actions = ["apply_stage_preset"]

    @admin.action(description=_("Apply an org-stage preset…"))
    def apply_stage_preset(self, request, queryset):
        form = StageForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            stage = form.cleaned_data["stage"]
            created = apply_org_stage(stage, actor=request.user)
            summary = ", ".join(f"{k}: {len(v)}" for k, v in created.items() if isinstance(v, list))
            self.message_user(
                request,
                _("%(stage)s applied. Created %(summary)s. Existing data was kept.")
                % {"stage": STAGE_NAMES[stage], "summary": summary},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/orgs/apply_stage.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Apply an org-stage preset"),
                "form": form,
                "queryset": queryset,
                "opts": self.model._meta,
                "action": "apply_stage_preset",
            },
        )


class OrgUnitAllowedRolesInline(admin.TabularInline):
    model = OrgUnit.allowed_roles.through
    extra = 0
    verbose_name = _("allowed role")
    verbose_name_plural = _("allowed roles (empty: as the parent unit)")
    autocomplete_fields = ["role"]


OrgUnitAdmin.inlines = [OrgUnitAllowedRolesInline]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleAdminForm
    list_display = ["code", "name", "name_en", "data_scope", "is_active", "holder_count"]
    list_filter = ["data_scope", "is_active"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["holders"]
    actions = ["remove_from_everyone"]

    @admin.display(description=_("holders"))
    def holder_count(self, obj):
        return holders_of_role(obj).count()

    @admin.display(description=_("Who holds this role"))
    def holders(self, obj):
        if not obj.pk:
            return "—"
        people = list(holders_of_role(obj)[:200])
        if not people:
            return _("Nobody holds this role.")
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:orgs_employee_change", args=[e.pk]), e.display_name)
                for e in people
            ),
        )

    @admin.action(description=_("Remove the selected roles from everyone"))
    def remove_from_everyone(self, request, queryset):
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/orgs/confirm_action.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Remove roles from everyone?"),
                    "message": _(
                        "Every position and every employee loses the roles below. "
                        "The roles stay in the role pool and can be granted again."
                    ),
                    "queryset": queryset,
                    "opts": self.model._meta,
                    "action": "remove_from_everyone",
                },
            )
        total = sum(
            services.role_remove_from_everyone(role_id=role.pk, actor=request.user)
            for role in queryset
        )
        self.message_user(
            request,
            _("Removed from %(count)d positions and memberships.") % {"count": total},
            messages.SUCCESS,
        )
        return None


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    form = PositionAdminForm
    list_display = ["code", "name", "name_en", "org_unit", "is_manager", "role_list"]
    list_filter = ["is_manager", "org_unit"]
    search_fields = ["code", "name", "name_en"]
    filter_horizontal = ["default_roles"]
    autocomplete_fields = ["org_unit"]
    actions = ["restore_default_roles"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("org_unit").prefetch_related(
            "default_roles"
        )

    @admin.display(description=_("default roles"))
    def role_list(self, obj):
        return ", ".join(r.display_name for r in obj.default_roles.all())

    @admin.action(description=_("Restore default roles for everyone in these positions"))
    def restore_default_roles(self, request, queryset):
        total = sum(
            services.position_restore_default_roles(position_id=p.pk, actor=request.user)
            for p in queryset
        )
        self.message_user(
            request,
            _("%(count)d memberships now hold exactly their position's default roles.")
            % {"count": total},
            messages.SUCCESS,
        )


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0
    autocomplete_fields = ["org_unit", "position"]
    filter_horizontal = ["extra_roles", "revoked_roles"]


@admin.register(Employee)
class EmployeeAdmin(ViewerAwareAdminMixin, admin.ModelAdmin):
    inlines = [MembershipInline]
    list_display = ["employee_no", "name", "name_en", "masked_mobile", "supervisor", "status"]
    list_filter = ["status", "memberships__org_unit"]
    search_fields = ["employee_no", "name", "name_en", "user__username", "wecom_userid",
                     "dingtalk_userid", "feishu_userid"]
    autocomplete_fields = ["user", "supervisor", "successor"]
    readonly_fields = ["departed_at", "successor"]
    actions = ["mark_departed"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "supervisor")

    def get_fields(self, request, obj=None):
        fields = ["user", "employee_no", "name", "name_en", "mobile", "supervisor",
                  "status", "hired_on", "departed_at", "successor",
                  "wecom_userid", "dingtalk_userid", "feishu_userid"]
        if not can_unmask(request.user, "detail"):
            fields[fields.index("mobile")] = "masked_mobile_detail"
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = [*self.readonly_fields]
        if not can_unmask(request.user, "detail"):
            readonly.append("masked_mobile_detail")
        if obj is not None and obj.is_departed:
            readonly.append("status")
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        status = form.base_fields.get("status")
        if status is not None:
            # Departure goes through the "mark departed" action so that handover runs.
            status.choices = [c for c in status.choices if c[0] != Employee.Status.DEPARTED]
        return form

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_for(self.viewer, obj.mobile, "phone", "list")

    @admin.display(description=_("mobile"))
    def masked_mobile_detail(self, obj):
        # The change page is the detail scenario: unmask_list alone must not reveal it.
        return mask_for(self.viewer, obj.mobile, "phone", "detail")

    @admin.action(description=_("Mark as departed and hand over…"))
    def mark_departed(self, request, queryset):
        form = DepartureForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            successor = form.cleaned_data["successor"]
            for employee in queryset:
                try:
                    report = services.employee_depart(
                        employee_id=employee.pk,
                        successor_id=successor.pk if successor else None,
                        actor=request.user,
                    )
                except ValidationError as exc:
                    self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                    continue
                moved = ", ".join(f"{r.label}: {r.moved}" for r in report.handover)
                self.message_user(
                    request,
                    _("%(name)s departed: login blocked, %(sessions)d sessions ended. %(moved)s")
                    % {
                        "name": employee.display_name,
                        "sessions": report.sessions_ended,
                        "moved": moved,
                    },
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/orgs/departure.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Mark employees as departed"),
                "form": form,
                "queryset": queryset,
                "opts": self.model._meta,
                "action": "mark_departed",
            },
        )


class DictionaryItemInlineForm(forms.ModelForm):
    """Inputs sized to their content, so the item table fits a laptop screen beside the
    admin's side menu (text inputs default to 20 characters, number inputs to full width)."""

    class Meta:
        model = DictionaryItem
        fields = ["code", "label", "label_en", "sort_order", "probability", "is_active"]
        widgets = {
            "code": forms.TextInput(attrs={"size": 14}),
            "label": forms.TextInput(attrs={"size": 16}),
            "label_en": forms.TextInput(attrs={"size": 20}),
            "sort_order": forms.NumberInput(attrs={"style": "width: 5em"}),
            "probability": forms.NumberInput(attrs={"style": "width: 4.5em"}),
        }


class DictionaryItemInline(admin.TabularInline):
    model = DictionaryItem
    form = DictionaryItemInlineForm
    extra = 1
    fields = ["code", "label", "label_en", "sort_order", "probability", "is_active"]


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    inlines = [DictionaryItemInline]
    list_display = ["code", "name", "name_en", "item_count"]
    search_fields = ["code", "name", "name_en", "items__label", "items__label_en"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_items=Count("items"))

    @admin.display(description=_("items"), ordering="_items")
    def item_count(self, obj):
        return obj._items


class DictionaryItemResource(resources.ModelResource):
    dictionary = fields.Field(
        column_name="dictionary",
        attribute="dictionary",
        widget=resources.widgets.ForeignKeyWidget(Dictionary, field="code"),
    )

    class Meta:
        model = DictionaryItem
        import_id_fields = ["dictionary", "code"]
        fields = ["dictionary", "code", "label", "label_en", "sort_order", "probability",
                  "is_active"]
        skip_unchanged = True
        report_skipped = True


@admin.register(DictionaryItem)
class DictionaryItemAdmin(ImportExportModelAdmin):
    resource_classes = [DictionaryItemResource]
    list_display = ["dictionary", "code", "label", "label_en", "sort_order", "probability",
                    "is_active"]
    list_editable = ["label", "label_en", "sort_order", "is_active"]
    list_filter = ["dictionary", "is_active"]
    search_fields = ["code", "label", "label_en"]
    list_select_related = ["dictionary"]


@admin.register(StageApplication)
class StageApplicationAdmin(admin.ModelAdmin):
    list_display = ["stage_name", "applied_at", "applied_by"]
    readonly_fields = ["stage", "applied_at", "applied_by", "summary"]

    @admin.display(description=_("stage"))
    def stage_name(self, obj):
        return STAGE_NAMES.get(obj.stage, obj.stage)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Let the employee form search users by name.
User = get_user_model()
if admin.site.is_registered(User):
    user_admin = admin.site.get_model_admin(User)
    if not user_admin.search_fields:
        user_admin.search_fields = ["username", "first_name", "last_name", "email"]


@admin.action(description=_("Unlock sign-in (clear failed attempts)"), permissions=["change"])
def unlock_sign_in(modeladmin, request, queryset):
    """Lift a lock-out before its cool-off ends, whatever addresses it was earned from."""
    cleared = sum(reset(username=username) for username in
                  queryset.values_list("username", flat=True))
    modeladmin.message_user(request, _("Sign-in unlocked for %(users)d users "
                                       "(%(attempts)d failed attempts cleared).")
                            % {"users": queryset.count(), "attempts": cleared})


if admin.site.is_registered(User):
    user_admin.actions = [*(user_admin.actions or []), unlock_sign_in]


# --- the audit log ------------------------------------------------------------------------


class _ResourceTypeFilter(ResourceTypeFilter):
    """Filter by the kind of record, named as the models name themselves (translated)."""

    title = _("Resource type")

    def lookups(self, request, model_admin):
        found = []
        for pk, _model in super().lookups(request, model_admin):
            model = ContentType.objects.get_for_id(pk).model_class()
            found.append((pk, capfirst(model._meta.verbose_name_plural) if model else _model))
        return sorted(found, key=lambda row: str(row[1]))


class _CorrelationFilter(CIDFilter):
    title = _("Correlation ID")


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogEntryAdmin(LogEntryAdmin):
    """django-auditlog's log entries with every column, filter and summary translated."""

    list_filter = ["action", _ResourceTypeFilter, _CorrelationFilter]

    @admin.display(description=_("Resource"))
    def resource_url(self, obj):
        return super().resource_url(obj)

    @admin.display(description=_("Changes"))
    def msg_short(self, obj):
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        changes = obj.changes_dict
        fields = ", ".join(str(get_field_verbose_name(obj, name)) for name in changes)
        if len(fields) > 60:
            fields = fields[:fields.rfind(",", 0, 60)] + " …"
        return ngettext("%(count)d change: %(fields)s", "%(count)d changes: %(fields)s",
                        len(changes)) % {"count": len(changes), "fields": fields}

    @admin.display(description=_("User"))
    def user_url(self, obj):
        return super().user_url(obj) if obj.actor else _("system")

    @admin.display(description=_("Correlation ID"))
    def cid_url(self, obj):
        return super().cid_url(obj)
