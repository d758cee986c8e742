from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


# Information, not warnings: an install that does not use the messaging channels needs
# neither setting, and ``check --deploy --fail-level WARNING`` must still pass for it.
def _secrets_key_check(app_configs, **kwargs):
    from .channels import crypto

    if crypto.key_configured():
        return []
    return [checks.Info(
        "IM_SECRETS_KEY is not set: WeCom, DingTalk and Feishu secrets cannot be saved or "
        "used, so reminders reach the bell and e-mail only.",
        hint="Set IM_SECRETS_KEY to a Fernet key (python -c \"from cryptography.fernet import "
             "Fernet; print(Fernet.generate_key().decode())\") and restart.",
        id="notifications.I001")]


def _site_address_check(app_configs, **kwargs):
    from urllib.parse import urlsplit

    from django.conf import settings

    host = urlsplit(settings.SITE_BASE_URL).hostname or ""
    if host not in ("127.0.0.1", "localhost", ""):
        return []
    return [checks.Info(
        f"SITE_BASE_URL is {settings.SITE_BASE_URL!r}: links in WeCom, DingTalk and Feishu "
        "messages would point there.",
        hint="Set SITE_BASE_URL to the address people open the CRM at, e.g. "
             "https://crm.example.com.",
        id="notifications.I002")]


class NotificationsConfig(AppConfig):
    """In-app notifications (the bell), optional e-mail copies, and messages in WeCom,
    DingTalk and Feishu/Lark, for every app."""

    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .channels import models

        checks.register(_secrets_key_check, checks.Tags.security)
        checks.register(_site_address_check, checks.Tags.security, deploy=True)
        # Who changed a channel or a team robot, and when (never the secrets themselves).
        auditlog.register(models.ChannelConfig, exclude_fields=["secret_encrypted"])
        auditlog.register(models.TeamRobot,
                          exclude_fields=["webhook_encrypted", "sign_secret_encrypted",
                                          "last_digest_on"])
