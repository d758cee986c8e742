from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm_site.lib.admin import ViewerAwareAdminMixin
from orgs.access import Scenario, show_bag, show_text

from .models import Notification, NotificationSettings


@admin.register(Notification)
class NotificationAdmin(ViewerAwareAdminMixin, admin.ModelAdmin):
    """Notifications as their readers got them; contact data in them masked for staff
    without the unmask right."""

    list_display = ("created_at", "recipient", "kind", "masked_text", "read_at", "email")
    list_filter = ("kind", "email")
    search_fields = ("recipient__username", "kind")
    raw_id_fields = ("recipient",)
    date_hierarchy = "created_at"
    fields = ("recipient", "kind", "masked_text", "masked_params", "url", "key", "read_at",
              "email", "created_at", "emailed_at")
    readonly_fields = ("recipient", "kind", "masked_text", "masked_params", "url", "key",
                       "created_at", "emailed_at")

    @admin.display(description=_("text"))
    def masked_text(self, obj):
        return show_text(self.viewer, obj.text, Scenario.ADMIN)

    @admin.display(description=_("parameters"))
    def masked_params(self, obj):
        return show_bag(self.viewer, obj.params, Scenario.ADMIN)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled")
    raw_id_fields = ("user",)


from .channels import admin as _channels_admin  # noqa: E402, F401  (registers its models)
