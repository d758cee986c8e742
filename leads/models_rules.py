"""Configuration of the rule engine: pool members, routing rules, recycle rules and
extension requests. The decisions themselves are plain functions in ``leads.engine``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def rule_name(name: str, name_en: str) -> str:
    """A rule's name for the reader: English for English readers when there is one."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


class PoolMember(models.Model):
    """A rep who receives leads of a pool automatically, with a weight and a scope.

    A pool without members hands its leads (by its strategy) to the people who may claim
    from it, each with weight 1; members make the roster explicit.
    """

    pool = models.ForeignKey("leads.LeadPool", on_delete=models.CASCADE,
                             related_name="members", verbose_name=_("pool"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="pool_memberships", verbose_name=_("rep"))
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1,
        help_text=_("Weighted strategy: this member's share of leads relative to the others."),
    )
    regions = models.JSONField(_("regions"), default=list, blank=True,
                               help_text=_("Region codes this rep covers. Empty: any."))
    categories = models.JSONField(_("product categories"), default=list, blank=True,
                                  help_text=_("Product categories this rep sells. Empty: any."))
    is_active = models.BooleanField(_("receives leads"), default=True)
    # Smooth weighted round-robin state (see leads.engine.strategies).
    swrr_current = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        ordering = ["pool", "user_id"]
        verbose_name = _("pool member")
        verbose_name_plural = _("pool members")
        constraints = [
            models.UniqueConstraint(fields=["pool", "user"], name="one_membership_per_pool"),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="member_weight_min_1"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.pool}"


class RoutingRule(models.Model):
    """Routes a pool's new leads into one of its sub-pools when every condition matches.

    Rules of a pool are tried in ``order``; the first match wins. An empty condition
    matches anything.
    """

    source_pool = models.ForeignKey("leads.LeadPool", on_delete=models.CASCADE,
                                    related_name="routing_rules",
                                    verbose_name=_("routes leads of"))
    order = models.PositiveIntegerField(_("order"), default=100)
    name = models.CharField(_("rule name"), max_length=200)
    name_en = models.CharField(_("rule name (English)"), max_length=200, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    product_categories = models.JSONField(_("product categories"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    customer_sizes = models.JSONField(_("customer sizes"), default=list, blank=True)
    attribute_conditions = models.JSONField(
        _("attribute conditions"), default=list, blank=True,
        help_text=_("Conditions on the lead's attribute bag, each with a key, an operator "
                    "(equals, contains, exists, in) and a value."),
    )
    target_pool = models.ForeignKey("leads.LeadPool", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("to sub-pool"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        ordering = ["source_pool", "order", "pk"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (the Chinese one until an English one is set)."""
        return rule_name(self.name, self.name_en)


class RecycleRule(models.Model):
    """When an owned lead (or opportunity) of a pool goes back, and where to."""

    class Kind(models.TextChoices):
        NO_FOLLOWUP = "no_followup", _("No qualifying follow-up")
        NOT_CONVERTED = "not_converted", _("Not converted")
        FIRST_TOUCH = "first_touch", _("First-touch SLA")
        NO_PROGRESS = "no_progress", _("No stage progress or follow-up")

    class Unit(models.TextChoices):
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    class Target(models.TextChoices):
        ORIGIN = "origin", _("Back to its own pool")
        PARENT = "parent", _("The parent pool")
        POOL = "pool", _("A chosen pool")

    pool = models.ForeignKey("leads.LeadPool", on_delete=models.CASCADE,
                             related_name="recycle_rules", verbose_name=_("pool"))
    name = models.CharField(_("rule name"), max_length=200)
    name_en = models.CharField(_("rule name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("fires when"), max_length=16, choices=Kind.choices)
    threshold = models.PositiveIntegerField(_("after"), default=7)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.DAYS)
    exclude_grades = models.JSONField(_("except grades"), default=list, blank=True)
    exclude_starred = models.BooleanField(_("except key (starred)"), default=False)
    exclude_statuses = models.JSONField(_("except statuses"), default=list, blank=True)
    warn_offsets = models.JSONField(
        _("warn the owner (hours before)"), default=list, blank=True,
        help_text=_("E.g. [72, 24]: warnings three days and one day before the deadline."),
    )
    target = models.CharField(_("goes to"), max_length=8, choices=Target.choices,
                              default=Target.ORIGIN)
    target_pool = models.ForeignKey("leads.LeadPool", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+",
                                    verbose_name=_("chosen pool"))
    max_recycles = models.PositiveSmallIntegerField(
        _("recycle cap"), null=True, blank=True,
        help_text=_("After this many recycles it goes to the dormant pool instead. "
                    "Empty: no cap."),
    )
    dormant_pool = models.ForeignKey("leads.LeadPool", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("dormant pool"))
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        ordering = ["pool", "order", "pk"]
        verbose_name = _("recycle rule")
        verbose_name_plural = _("recycle rules")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (the Chinese one until an English one is set)."""
        return rule_name(self.name, self.name_en)


class ExtensionRequest(models.Model):
    """A rep asks once for more time before a lead (or opportunity) is recycled."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="extension_requests", verbose_name=_("lead"))
    opportunity = models.ForeignKey("opportunities.Opportunity", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="extension_requests",
                                    verbose_name=_("opportunity"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    reason = models.TextField(_("reason"))
    days = models.PositiveSmallIntegerField(_("days"))
    due_before = models.DateTimeField(_("was due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(fields=["lead", "requested_by"],
                                    name="one_extension_per_lead",
                                    condition=models.Q(lead__isnull=False)),
            models.UniqueConstraint(fields=["opportunity", "requested_by"],
                                    name="one_extension_per_opportunity",
                                    condition=models.Q(opportunity__isnull=False)),
            models.CheckConstraint(
                name="extension_has_subject",
                condition=models.Q(lead__isnull=False) | models.Q(opportunity__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="extension_status")]

    def __str__(self) -> str:
        return f"{self.lead_id or self.opportunity_id} · {self.get_status_display()}"
