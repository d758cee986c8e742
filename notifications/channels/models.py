"""What the messaging channels store: per-install channels, team robots, people's choices and
the delivery log. Secrets are kept only encrypted (``crypto``) and never shown again."""

from __future__ import annotations

import hashlib
from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import crypto


class Platform(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu / Lark")


# The settings that hold each platform's API address (tests and the walk-through point them
# at a local fake; ``IM_FEISHU_BASE_URL=https://open.larksuite.com`` serves Lark).
BASE_URL_SETTINGS = {
    Platform.WECOM: "IM_WECOM_BASE_URL",
    Platform.DINGTALK: "IM_DINGTALK_BASE_URL",
    Platform.FEISHU: "IM_FEISHU_BASE_URL",
}

# Where each employee's account in each platform is kept (``orgs.Employee``).
EMPLOYEE_ID_FIELDS = {
    Platform.WECOM: "wecom_userid",
    Platform.DINGTALK: "dingtalk_userid",
    Platform.FEISHU: "feishu_userid",
}


def default_language() -> str:
    return settings.LANGUAGE_CODE


def default_base_url(platform: str) -> str:
    return getattr(settings, BASE_URL_SETTINGS[Platform(platform)]).rstrip("/")


class ChannelConfig(models.Model):
    """One platform's connection for this install: the internal app that messages people.

    Group robots (``TeamRobot``) need no app credentials, but send only while the channel
    of their platform is enabled.
    """

    class ReceiveIdType(models.TextChoices):
        USER_ID = "user_id", _("user ID")
        OPEN_ID = "open_id", _("open ID")
        UNION_ID = "union_id", _("union ID")

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices,
                                unique=True)
    is_enabled = models.BooleanField(
        _("enabled"), default=True,
        help_text=_("Switch off to stop every message of this platform (nothing is lost: "
                    "waiting messages are sent when it is switched on again, within a few "
                    "hours)."))
    app_id = models.CharField(
        _("app ID"), max_length=128, blank=True,
        help_text=_("WeCom: the Corp ID (企业ID, My Company → Company Info). DingTalk: the "
                    "internal app's AppKey (Client ID). Feishu/Lark: the app's App ID."))
    agent_id = models.CharField(
        _("agent ID"), max_length=32, blank=True,
        help_text=_("WeCom and DingTalk: the internal app's AgentId. Not used by Feishu/Lark."))
    secret_encrypted = models.TextField(_("secret (encrypted)"), blank=True, editable=False)
    receive_id_type = models.CharField(
        _("Feishu/Lark ID type"), max_length=16, choices=ReceiveIdType.choices,
        default=ReceiveIdType.USER_ID,
        help_text=_("Feishu/Lark only: which kind of ID the employee records hold."))
    api_base = models.URLField(
        _("API address"), max_length=200, blank=True,
        help_text=_("Leave empty for the platform's own address. For Lark enter "
                    "https://open.larksuite.com; for a local test server, its address."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["platform"]
        verbose_name = _("messaging channel")
        verbose_name_plural = _("messaging channels")

    def __str__(self) -> str:
        return self.get_platform_display()

    @property
    def base_url(self) -> str:
        return (self.api_base or default_base_url(self.platform)).rstrip("/")

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value) if value else ""

    @property
    def fingerprint(self) -> str:
        """Changes whenever the credentials do, so a cached token of old ones is never used."""
        raw = "|".join([self.platform, self.app_id, self.agent_id, self.base_url,
                        self.secret_encrypted])
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


class TeamRobot(models.Model):
    """A team's group chat robot (webhook): the daily digest and, if chosen, live messages."""

    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE,
                                 related_name="im_robots", verbose_name=_("team"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("group name"), max_length=80,
                            help_text=_("How you recognise the group, e.g. “Shanghai team "
                                        "group”."))
    webhook_encrypted = models.TextField(_("webhook (encrypted)"), editable=False)
    sign_secret_encrypted = models.TextField(_("signing secret (encrypted)"), blank=True,
                                             editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    digest_enabled = models.BooleanField(
        _("daily digest"), default=True,
        help_text=_("Every day at the digest time: who has follow-ups due today and what is "
                    "about to go back to the pool."))
    digest_time = models.TimeField(_("digest time"), default=time(9, 0))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=default_language)
    topics = models.JSONField(
        _("also post at once"), default=list, blank=True,
        help_text=_("Notifications of these kinds to any team member are also posted to the "
                    "group as they happen (contact data always masked)."))
    last_digest_on = models.DateField(_("last digest"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["org_unit__path", "name"]
        verbose_name = _("team group robot")
        verbose_name_plural = _("team group robots")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "name"], name="im_robot_name_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    def webhook(self) -> str:
        return crypto.decrypt(self.webhook_encrypted)

    def sign_secret(self) -> str:
        return crypto.decrypt(self.sign_secret_encrypted)

    @property
    def has_sign_secret(self) -> bool:
        return bool(self.sign_secret_encrypted)


class ImPreference(models.Model):
    """A person's choice of what reaches them in WeCom, DingTalk or Feishu, and in which
    language (a worker sending at night cannot ask their browser)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="im_preference", verbose_name=_("user"))
    topics = models.JSONField(_("topics"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=default_language)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("messaging preference")
        verbose_name_plural = _("messaging preferences")

    def __str__(self) -> str:
        return str(self.user)


class Delivery(models.Model):
    """One message to one destination on one platform, and what became of it.

    ``key`` is unique: a notification goes to a person's WeCom once, to a team group once, a
    team's digest once a day — however often a sweep offers it. A row is marked *sending*
    before the request goes out and is never sent again from that state: a worker that dies
    mid-request leaves it *outcome unknown*, not resent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery", "Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    class Target(models.TextChoices):
        PERSON = "person", _("Person")
        GROUP = "group", _("Team group")

    key = models.CharField(_("key"), max_length=200, unique=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    target = models.CharField(_("person or group"), max_length=8, choices=Target.choices)
    notification = models.ForeignKey("notifications.Notification", on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="deliveries",
                                     verbose_name=_("notification"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  null=True, blank=True, related_name="im_deliveries",
                                  verbose_name=_("recipient"), db_index=False)
    robot = models.ForeignKey(TeamRobot, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="deliveries", verbose_name=_("team group robot"),
                              db_index=False)
    address = models.CharField(_("address"), max_length=100, blank=True,
                               help_text=_("The person's user ID, or the group's name."))
    kind = models.CharField(_("kind"), max_length=64)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_code = models.CharField(_("platform code"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message delivery")
        verbose_name_plural = _("message deliveries")
        indexes = [
            # The sweep's queue: only waiting rows, in due order.
            models.Index(fields=["next_attempt_at", "id"], name="im_delivery_due",
                         condition=models.Q(status="pending")),
            models.Index(fields=["last_attempt_at"], name="im_delivery_sending",
                         condition=models.Q(status="sending")),
            models.Index(fields=["-created_at", "-id"], name="im_delivery_log"),
            models.Index(fields=["robot", "-created_at"], name="im_delivery_robot",
                         condition=models.Q(robot__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} → {self.address or '—'} ({self.kind_label})"

    @property
    def kind_label(self) -> str:
        from . import topics

        if self.kind == "digest":
            return str(_("Daily digest"))
        if self.kind == "test":
            return str(_("Test message"))
        topic = topics.topic_of(self.kind)
        return str(topic.label) if topic else self.kind
