"""Admin of the messaging channels: connect a platform, manage team robots, read the
delivery log (failures first in mind) and send a test message."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from crm_site.lib.admin import ViewerAwareAdminMixin

from . import crypto, services, topics
from .forms import ChannelConfigForm, SampleMessageForm, TeamRobotForm
from .models import EMPLOYEE_ID_FIELDS, ChannelConfig, Delivery, ImPreference, TeamRobot
from .render import mask_contacts


class _KeyWarningMixin:
    """Say plainly, on every page of these models, when secrets cannot be stored."""

    def _warn_missing_key(self, request):
        if not crypto.key_configured():
            messages.warning(request, crypto.MISSING_KEY_MESSAGE)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._warn_missing_key(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "GET":
            self._warn_missing_key(request)
        return super().changeform_view(request, object_id, form_url, extra_context)


def _delivery_message(delivery: Delivery) -> tuple[str, int]:
    log = reverse("admin:notifications_delivery_changelist")
    if delivery.status == Delivery.Status.SENT:
        return (format_html(_("Test message delivered to {to}. See the {log}."),
                            to=delivery.address,
                            log=format_html('<a href="{}">{}</a>', log, _("delivery log"))),
                messages.SUCCESS)
    if delivery.status == Delivery.Status.PENDING:
        return (format_html(_("Test message to {to} not sent yet ({error}); it is queued."),
                            to=delivery.address, error=delivery.error or "—"), messages.WARNING)
    return (format_html(_("Test message to {to} failed: {error}"), to=delivery.address,
                        error=delivery.error), messages.ERROR)


@admin.register(ChannelConfig)
class ChannelConfigAdmin(_KeyWarningMixin, admin.ModelAdmin):
    form = ChannelConfigForm
    list_display = ["platform", "is_enabled", "app_id", "agent_id", "secret_state",
                    "address"]
    readonly_fields = ["secret_state"]
    actions = ["send_sample_message"]
    fieldsets = [
        (None, {"fields": ["platform", "is_enabled"]}),
        (gettext_lazy("Internal app (messages to a person)"),
         {"fields": ["app_id", "agent_id", "secret_state", "new_secret", "clear_secret"]}),
        (gettext_lazy("More"), {"fields": ["receive_id_type", "api_base"]}),
    ]

    @admin.display(description=gettext_lazy("stored secret"))
    def secret_state(self, obj):
        return _("set") if obj and obj.has_secret else _("not set")

    @admin.display(description=gettext_lazy("API address"))
    def address(self, obj):
        return obj.base_url

    def save_model(self, request, obj, form, change):
        services.channel_config_save(config=obj, secret=form.cleaned_data.get("new_secret", ""),
                                     clear_secret=form.cleaned_data.get("clear_secret", False))

    @admin.action(description=gettext_lazy("Send test message"))
    def send_sample_message(self, request, queryset):
        configs = list(queryset)
        if len(configs) != 1:
            self.message_user(request, _("Choose one channel to test."), messages.WARNING)
            return None
        config = configs[0]
        employee = getattr(request.user, "employee", None)
        initial = {"address": getattr(employee, EMPLOYEE_ID_FIELDS[config.platform], "")
                   if employee else "", "language": request.LANGUAGE_CODE}
        form = SampleMessageForm(request.POST if "apply" in request.POST else None,
                                 initial=initial)
        if "apply" in request.POST and form.is_valid():
            delivery = services.sample_message_send(
                platform=config.platform, address=form.cleaned_data["address"].strip(),
                language=form.cleaned_data["language"])
            self.message_user(request, *_delivery_message(delivery))
            return None
        return TemplateResponse(request, "admin/notifications/send_sample_message.html", {
            **self.admin_site.each_context(request), "title": _("Send test message"),
            "form": form, "config": config, "opts": self.model._meta,
            "action": "send_sample_message",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


@admin.register(TeamRobot)
class TeamRobotAdmin(_KeyWarningMixin, admin.ModelAdmin):
    form = TeamRobotForm
    list_display = ["name", "org_unit", "platform", "is_active", "digest_enabled",
                    "digest_time", "webhook_state", "signed", "last_digest_on"]
    list_filter = ["platform", "is_active", "digest_enabled"]
    search_fields = ["name", "org_unit__name", "org_unit__name_en"]
    list_select_related = ["org_unit"]
    actions = ["send_sample_message", "send_digest_now"]

    def get_fields(self, request, obj=None):
        fields = ["org_unit", "platform", "name", "webhook", "sign_secret"]
        if obj is not None and obj.has_sign_secret:
            fields.append("clear_sign_secret")
        return [*fields, "is_active", "digest_enabled", "digest_time", "language", "topics"]

    @admin.display(description=gettext_lazy("webhook"))
    def webhook_state(self, obj):
        return _("set") if obj.webhook_encrypted else _("not set")

    @admin.display(description=gettext_lazy("signed"), boolean=True)
    def signed(self, obj):
        return obj.has_sign_secret

    def save_model(self, request, obj, form, change):
        services.team_robot_save(robot=obj, webhook=form.cleaned_data.get("webhook", ""),
                                 sign_secret=form.cleaned_data.get("sign_secret", ""),
                                 clear_sign_secret=form.cleaned_data.get("clear_sign_secret",
                                                                         False),
                                 actor=request.user)

    @admin.action(description=gettext_lazy("Send test message"))
    def send_sample_message(self, request, queryset):
        for robot in queryset:
            delivery = services.sample_message_send(platform=robot.platform, robot=robot)
            self.message_user(request, *_delivery_message(delivery))

    @admin.action(description=gettext_lazy("Send today's digest now"))
    def send_digest_now(self, request, queryset):
        for robot in queryset.select_related("org_unit"):
            delivery = services.digest_send_now(robot=robot)
            self.message_user(request, *_delivery_message(delivery))


class WhatFilter(admin.SimpleListFilter):
    """Deliveries by what they were about, as a reader names it (not by kind code)."""

    title = gettext_lazy("what")
    parameter_name = "what"

    def lookups(self, request, model_admin):
        return [*[(t.code, t.label) for t in topics.topics()],
                ("digest", _("Daily digest")), ("test", _("Test message"))]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value in ("digest", "test"):
            return queryset.filter(kind=value)
        return queryset.filter(kind__in=[kind for _t, kind in topics.topic_kinds([value])])


@admin.register(Delivery)
class DeliveryAdmin(ViewerAwareAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "platform", "destination", "kind_label", "status_badge",
                    "attempts", "short_error", "sent_at"]
    list_filter = ["status", "platform", "target", WhatFilter]
    search_fields = ["address", "recipient__username", "kind", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient", "robot"]
    fields = ["key", "platform", "target", "destination", "kind_label", "status", "attempts",
              "next_attempt_at", "last_attempt_at", "sent_at", "response_code", "error",
              "masked_text", "url", "notification"]
    readonly_fields = fields
    actions = ["retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("notifications.change_delivery")

    @admin.display(description=pgettext_lazy("delivery", "to"))
    def destination(self, obj):
        if obj.target == Delivery.Target.GROUP:
            return f"{obj.address} ({obj.robot.org_unit if obj.robot_id else '—'})"
        who = obj.recipient.username if obj.recipient_id else ""
        return f"{obj.address} ({who})" if who else obj.address

    @admin.display(description=gettext_lazy("what"))
    def kind_label(self, obj):
        return obj.kind_label

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        colour = {"sent": "#198754", "failed": "#dc3545", "unknown": "#dc3545"}.get(
            obj.status, "#b58100")
        return format_html('<strong style="color:{}" data-status="{}">{}</strong>', colour,
                           obj.status, obj.get_status_display())

    @admin.display(description=gettext_lazy("error"))
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description=gettext_lazy("text"))
    def masked_text(self, obj):
        return mask_contacts(obj.text, self.viewer)

    @admin.action(description=gettext_lazy("Send the failed ones again"),
                  permissions=["retry"])
    def retry_failed(self, request, queryset):
        count = services.deliveries_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d deliveries queued again.") % {"count": count})


@admin.register(ImPreference)
class ImPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "topics", "language", "updated_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
