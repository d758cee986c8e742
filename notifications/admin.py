from django.contrib import admin

from .models import Notification, NotificationSettings


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "text", "read_at", "email")
    list_filter = ("kind", "email")
    search_fields = ("recipient__username", "kind")
    raw_id_fields = ("recipient",)
    date_hierarchy = "created_at"
    readonly_fields = ("recipient", "kind", "params", "url", "key", "created_at", "emailed_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled")
    raw_id_fields = ("user",)


from .channels import admin as _channels_admin  # noqa: E402, F401  (registers its models)
