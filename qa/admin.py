"""Admin for QA leads: scorecards (versioned), violation types, plans. Saves go through
``qa.configuration`` (audited; published versions read-only)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from . import configuration
from .models import (
    Appeal,
    InspectionPlan,
    QAEvent,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    ViolationType,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        configuration.config_save(obj=obj, actor=request.user, created=not change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            configuration.config_save(obj=obj, actor=request.user, created=obj.pk is None)
        formset.save_m2m()

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)


class SectionInline(admin.TabularInline):
    model = ScorecardSection
    extra = 0
    show_change_link = True


class ItemInline(admin.StackedInline):
    model = ScorecardItem
    extra = 0


@admin.register(Scorecard)
class ScorecardAdmin(AuditedAdmin):
    list_display = ("code", "name", "name_en", "is_active")
    actions = ["new_version"]

    @admin.action(description=_("New draft version (copy of the newest)"))
    def new_version(self, request, queryset):
        for scorecard in queryset:
            configuration.version_new_draft(scorecard=scorecard, actor=request.user)


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(AuditedAdmin):
    list_display = ("scorecard", "number", "published_at", "pass_mark")
    inlines = [SectionInline]
    readonly_fields = ("published_at",)
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.published_at:
            return ("scorecard", "number", "published_at", "pass_mark", "coaching_mark")
        return self.readonly_fields

    @admin.action(description=_("Publish"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                configuration.version_publish(version_id=version.pk, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)


@admin.register(ScorecardSection)
class ScorecardSectionAdmin(AuditedAdmin):
    list_display = ("version", "order", "name", "name_en")
    inlines = [ItemInline]


@admin.register(ViolationType)
class ViolationTypeAdmin(AuditedAdmin):
    list_display = ("code", "name", "name_en", "recycle_now", "is_active")


@admin.register(InspectionPlan)
class InspectionPlanAdmin(AuditedAdmin):
    list_display = ("name", "period", "share_percent", "min_per_rep", "include_hits",
                    "include_lost", "before_recycle", "appeal_days", "is_active")
    filter_horizontal = ("org_units", "inspectors")


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ("inspection", "rep", "status", "created_at", "decided_by")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(QAEvent)
class QAEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "actor", "item", "inspection")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
