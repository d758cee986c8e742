"""In-app notifications: what the bell in the top bar counts.

A notification stores a *kind* and its parameters, not a finished sentence: the text is
rendered when the recipient looks at it, in the language they use then (a sweep running
in a worker does not know it). Kinds are registered by the apps that send them
(``notifications.kinds``).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one user: unread until they open it or mark it read."""

    class Email(models.TextChoices):
        NONE = "none", _("No e-mail")
        PENDING = "pending", _("E-mail waiting")
        SENT = "sent", _("E-mail sent")
        FAILED = "failed", _("E-mail failed")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("recipient"),
                                  db_index=False)
    kind = models.SlugField(_("kind"), max_length=64, db_index=False)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # Makes sending idempotent: a sweep that runs twice writes a (recipient, key) once.
    key = models.CharField(_("key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email = models.CharField(_("e-mail"), max_length=8, choices=Email.choices,
                             default=Email.NONE)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_time"),
            models.Index(fields=["recipient"], name="notif_unread",
                         condition=models.Q(read_at__isnull=True)),
            models.Index(fields=["id"], name="notif_email_pending",
                         condition=models.Q(email="pending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notif_once_per_key",
                                    condition=~models.Q(key="")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    def get_absolute_url(self) -> str:
        return self.url or "/notifications/"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def text(self) -> str:
        from .kinds import render

        return render(self)

    @property
    def icon(self) -> str:
        from .kinds import icon

        return icon(self.kind)


class NotificationSettings(models.Model):
    """A user's choices: whether notifications are also e-mailed to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_settings", verbose_name=_("user"))
    email_enabled = models.BooleanField(
        _("also send by e-mail"), default=False,
        help_text=_("Reminders and warnings are e-mailed to the address of your account too."),
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)


# The messaging channels' models (WeCom, DingTalk, Feishu) live with their package.
from .channels.models import (  # noqa: E402, F401
    ChannelConfig,
    Delivery,
    ImPreference,
    TeamRobot,
)
