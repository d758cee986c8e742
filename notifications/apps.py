from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """In-app notifications (the bell) and optional e-mail copies, for every app."""

    name = "notifications"
    verbose_name = _("Notifications")
