"""Lead pools (the pool pyramid), leads, their events, touchpoints and follow-ups.

Pool permissions are granted per pool to users or groups through django-guardian, in
direct foreign-key tables (never one row per lead, never a generic object id).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from orgs.models import BilingualNameMixin, OrgUnit

from .normalize import normalize_company, normalize_email, normalize_phone


class LeadPool(BilingualNameMixin):
    """A lead pool: the master pool, a sub-pool by region or product, or a dormant pool."""

    class Kind(models.TextChoices):
        MASTER = "master", _("Master pool")
        SUB = "sub", _("Sub-pool")
        DORMANT = "dormant", _("Dormant pool")
        OPPORTUNITY = "opportunity", _("Opportunity pool")

    class Strategy(models.TextChoices):
        MANUAL = "manual", _("Manual (managers assign, reps claim)")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        WEIGHTED = "weighted", _("Weighted")
        LEAST_LOADED = "least_loaded", _("Least-loaded")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SUB)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent pool"),
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="pools",
        verbose_name=_("owning org unit"),
    )
    region = models.SlugField(_("region"), max_length=64, blank=True,
                              help_text=_("Region dictionary code this sub-pool serves."))
    product_category = models.SlugField(
        _("product category"), max_length=64, blank=True,
        help_text=_("Product category dictionary code this sub-pool serves."),
    )
    owned_cap = models.PositiveIntegerField(
        _("owned-lead cap per rep"), null=True, blank=True,
        help_text=_("Most leads of this pool one rep may own at a time. Empty: no cap."),
    )
    daily_claim_limit = models.PositiveIntegerField(
        _("daily claim limit"), null=True, blank=True,
        help_text=_("Most leads one rep may claim from this pool per day. Empty: no limit."),
    )
    cooldown_days = models.PositiveIntegerField(
        _("previous-owner cool-down (days)"), default=7,
        help_text=_("A rep who released or lost a lead may not claim it back for this long."),
    )
    hide_contact_until_claimed = models.BooleanField(
        _("hide contact data until claimed"), default=False,
    )
    daily_open_limit = models.PositiveIntegerField(
        _("daily open limit"), null=True, blank=True,
        help_text=_("Most pool leads one rep may open per day. Empty: no limit."),
    )
    # --- the rule engine (see leads.engine) ---
    strategy = models.CharField(
        _("assignment strategy"), max_length=16, choices=Strategy.choices,
        default=Strategy.MANUAL,
        help_text=_("How waiting leads go to the pool's members: on arrival, on every tick "
                    "of the rule engine and with “Assign now”."),
    )
    weight_source = models.SlugField(
        _("weights from"), max_length=32, default="configured",
        help_text=_("Weighted strategy only: the weights set per member, or computed from "
                    "each member's results over the last 30 days."),
    )
    rr_last_user_id = models.BigIntegerField(
        _("round-robin pointer"), null=True, blank=True, editable=False,
        help_text=_("The member who received the last lead; the rotation continues after "
                    "them, across restarts and new members."),
    )
    default_route_pool = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("default sub-pool"),
        help_text=_("Where leads no routing rule matches go. Empty: they wait here to be "
                    "routed by hand."),
    )
    qualifying_types = models.JSONField(
        _("qualifying follow-up types"), default=list, blank=True,
        help_text=_("Follow-up types that count as contact for the recycle clock and the "
                    "first-touch SLA. Empty: every type."),
    )
    qualifying_outcomes = models.JSONField(
        _("qualifying outcomes"), default=list, blank=True,
        help_text=_("Outcomes that count as contact. Empty: every outcome."),
    )
    qualifying_min_length = models.PositiveSmallIntegerField(
        _("shortest qualifying note"), default=4,
        help_text=_("A follow-up with a shorter note (in characters) never resets the clock."),
    )
    routed_until = models.DateTimeField(
        _("routing checked until"), null=True, blank=True, editable=False,
        help_text=_("Leads that entered the pool before this were checked against the "
                    "current routing rules; changing a rule clears it."),
    )
    extension_days = models.PositiveSmallIntegerField(
        _("extension (days)"), default=7,
        help_text=_("How much later a lead is recycled when a manager approves a rep's "
                    "extension request."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("lead pool")
        verbose_name_plural = _("lead pools")
        permissions = [
            ("view_pool_leads", _("View the pool's leads")),
            ("claim_from_pool", _("Claim leads from the pool")),
            ("assign_from_pool", _("Assign leads from the pool")),
            ("manage_pool", _("Manage the pool and its rules")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="master"), name="one_master_pool"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class LeadPoolUserPermission(UserObjectPermissionBase):
    """A pool permission granted to one user."""

    content_object = models.ForeignKey(LeadPool, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("pool permission (user)")
        verbose_name_plural = _("pool permissions (users)")


class LeadPoolGroupPermission(GroupObjectPermissionBase):
    """A pool permission granted to a group of users."""

    content_object = models.ForeignKey(LeadPool, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("pool permission (group)")
        verbose_name_plural = _("pool permissions (groups)")


class Circulating(models.Model):
    """What the rule engine keeps on anything that circulates between pools and reps.

    Leads and opportunities share it, so that one engine assigns and recycles both. The due
    times are stored (and indexed) rather than computed by a query: a periodic sweep picks
    up what is due with an index scan, and no long Celery ETA is ever needed.
    """

    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    pooled_at = models.DateTimeField(
        _("in pool since"), default=timezone.now, db_default=Now(),
        help_text=_("When it last entered its pool."),
    )
    last_qualified_at = models.DateTimeField(
        _("last qualifying contact"), null=True, blank=True,
        help_text=_("The last follow-up (or, for opportunities, stage progress) that counts "
                    "for the recycle clock."),
    )
    recycle_due_at = models.DateTimeField(_("recycle due"), null=True, blank=True)
    # Worked out from the facts and the rules by ``refresh_due``, like the due time: a
    # reference without a database constraint (no check for each of the records an
    # assignment or a sweep moves); the sweep takes a rule it does not know as a clock to
    # recompute.
    recycle_rule = models.ForeignKey(
        "leads.RecycleRule", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("rule that will fire"), db_index=False,
        db_constraint=False,
    )
    recycle_warn_at = models.DateTimeField(_("next warning"), null=True, blank=True)
    recycle_grace = models.DurationField(
        _("clock paused or extended by"), default=timedelta, db_default=timedelta(0),
        help_text=_("Added to every recycle deadline: approved extensions and time the "
                    "owner spent on leave."),
    )
    clock_paused_at = models.DateTimeField(
        _("clock paused since"), null=True, blank=True,
        help_text=_("Set while the owner is on leave."),
    )
    recycle_count = models.PositiveSmallIntegerField(_("times recycled"), default=0,
                                                     db_default=0)

    class Meta:
        abstract = True


class LeadQuerySet(models.QuerySet):
    def in_pool(self) -> "LeadQuerySet":
        return self.filter(owner__isnull=True, status=Lead.Status.IN_POOL)

    def owned_by(self, user) -> "LeadQuerySet":
        return self.filter(owner=user, status__in=Lead.OPEN_STATUSES)


class Lead(Circulating):
    """A person or company that may buy: in a pool, or owned by one rep."""

    class Status(models.TextChoices):
        IN_POOL = "in_pool", _("In pool")
        ASSIGNED = "assigned", _("Assigned")
        FOLLOWING = "following", _("Following")
        CONVERTED = "converted", _("Converted")
        INVALID = "invalid", _("Invalid")

    OPEN_STATUSES = (Status.ASSIGNED, Status.FOLLOWING)

    # Foreign keys covered by the composite indexes below get no index of their own: every
    # index costs each of the millions of inserts an import or a sweep makes.
    pool = models.ForeignKey(LeadPool, on_delete=models.PROTECT, related_name="leads",
                             verbose_name=_("pool"), db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="owned_leads", verbose_name=_("owner"), db_index=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.IN_POOL)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    region = models.SlugField(_("region"), max_length=64, blank=True, db_index=False)
    product_category = models.SlugField(_("product interest"), max_length=64, blank=True,
                                        db_index=False)
    industry = models.SlugField(_("industry"), max_length=64, blank=True, db_index=False)
    customer_size = models.SlugField(_("customer size"), max_length=32, blank=True,
                                     db_index=False, default="", db_default="")
    channel = models.SlugField(_("channel"), max_length=64, blank=True, db_index=False)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    platform_user_id = models.CharField(_("platform user ID"), max_length=128, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    grade = models.CharField(_("grade"), max_length=8, blank=True)
    is_starred = models.BooleanField(_("key lead"), default=False)
    invalid_reason = models.SlugField(_("invalid reason"), max_length=64, blank=True,
                                      db_index=False)
    notes = models.TextField(_("notes"), blank=True)

    mobile_key = models.CharField(max_length=40, blank=True, editable=False)
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    company_key = models.CharField(max_length=200, blank=True, editable=False)

    # Who entered or imported the lead: a reference without a database constraint, as
    # on the events (see ``OwnershipEvent``), checked by nobody at commit.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"), db_index=False, db_constraint=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)

    # Conversion: the lead keeps its links to what it became.
    customer = models.ForeignKey(
        "opportunities.Customer", on_delete=models.PROTECT, null=True, blank=True,
        related_name="leads", verbose_name=_("customer"), db_index=False,
    )
    contact = models.ForeignKey(
        "opportunities.Contact", on_delete=models.PROTECT, null=True, blank=True,
        related_name="leads", verbose_name=_("contact"), db_index=False,
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.PROTECT, null=True, blank=True,
        related_name="source_leads", verbose_name=_("opportunity"), db_index=False,
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        # Every index costs each of the millions of rows an import writes and each lead an
        # assignment or a sweep moves, so there are few and most are partial. A rep holds
        # a few hundred leads at most (the caps): *My leads* sorts them in memory after
        # ``lead_owner_status``, whichever column it sorts by.
        indexes = [
            # A rep's open leads (My leads, loads against caps).
            models.Index(fields=["owner", "status", "id"], name="lead_owner_status",
                         condition=models.Q(owner__isnull=False)),
            # The owned leads of a pool (loads per pool, recycle previews, pool figures).
            models.Index(fields=["pool", "status", "id"], name="lead_pool_owned",
                         condition=models.Q(owner__isnull=False)),
            # The pool page: newest unowned leads of one pool first.
            models.Index(F("pool"), F("status"), F("pooled_at").desc(), F("id").desc(),
                         name="lead_pool_queue", condition=models.Q(owner__isnull=True)),
            # The rule engine's sweeps. Partial: pool leads never touch them.
            models.Index(fields=["recycle_due_at"], name="lead_recycle_due",
                         condition=models.Q(recycle_due_at__isnull=False)),
            models.Index(fields=["recycle_warn_at"], name="lead_recycle_warn",
                         condition=models.Q(recycle_warn_at__isnull=False)),
            models.Index(fields=["mobile_key"], name="lead_mobile_key",
                         condition=~models.Q(mobile_key="")),
            models.Index(fields=["email_key"], name="lead_email_key",
                         condition=~models.Q(email_key="")),
            models.Index(fields=["company_key"], name="lead_company_key",
                         condition=~models.Q(company_key="")),
            # Converted leads of a customer.
            models.Index(fields=["customer"], name="lead_customer",
                         condition=models.Q(customer__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="lead_channel_external_id",
                condition=~models.Q(external_id=""),
            ),
            models.CheckConstraint(
                name="lead_owner_matches_status",
                condition=(
                    models.Q(owner__isnull=True, status__in=["in_pool", "invalid", "converted"])
                    | models.Q(owner__isnull=False,
                               status__in=["assigned", "following", "converted", "invalid"])
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.company}" if self.company else self.name

    def refresh_keys(self) -> None:
        """Recompute the duplicate-check keys from the contact fields."""
        self.mobile_key = normalize_phone(self.mobile)
        self.email_key = normalize_email(self.email)
        self.company_key = normalize_company(self.company)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OwnershipEvent(models.Model):
    """One append-only record of an ownership or pool change (shared by leads and
    opportunities): who did it, from which owner and pool to which, why, and which rule.

    Everything an event names (the record, people, pools) is a reference without a
    database constraint (``db_constraint=False``): events are the hot path of every
    import, assignment and sweep, and a constraint is checked row by row at commit
    (~3.5 µs a row and column, and a row lock written on the record: a recycle sweep spent
    a third as long checking as moving). Nothing is lost by it: the log is append-only,
    every event is written in the statement or transaction that changed (or locked) its
    record, and nothing an event names is ever deleted — leads and opportunities stay for
    good, a departure deactivates the account, a pool is switched off — while Django still
    refuses to delete any of them that an event names (``on_delete=PROTECT`` is the ORM's
    rule).
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ROUTED = "routed", _("Routed")
        ASSIGNED = "assigned", _("Assigned")
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Released")
        TRANSFERRED = "transferred", _("Transferred")
        RECYCLED = "recycled", _("Recycled")
        CONVERTED = "converted", _("Converted")
        INVALIDATED = "invalidated", _("Marked invalid")
        MERGED = "merged", _("Merged")

    # Kinds that start an ownership stint, and kinds that end one.
    ACQUIRING = (Kind.ASSIGNED, Kind.CLAIMED, Kind.TRANSFERRED)
    LOSING = (Kind.RELEASED, Kind.TRANSFERRED, Kind.RECYCLED)

    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"),
                              db_index=False, db_constraint=False)
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("from owner"), db_index=False,
                                   db_constraint=False)
    to_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("to owner"), db_index=False,
                                 db_constraint=False)
    from_pool = models.ForeignKey(LeadPool, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("from pool"),
                                  db_index=False, db_constraint=False)
    to_pool = models.ForeignKey(LeadPool, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("to pool"), db_index=False,
                                db_constraint=False)
    reason = models.SlugField(_("reason"), max_length=64, blank=True, db_index=False)
    note = models.TextField(_("note"), blank=True)
    rule_id = models.PositiveBigIntegerField(_("rule"), null=True, blank=True)
    # The engine's reasoning for an automatic decision (strategy, weights, loads, caps),
    # rendered in the viewer's language by the assignment log.
    detail = models.JSONField(_("details"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            raise ValueError("Ownership events are append-only.")
        super().save(*args, **kwargs)


class LeadEvent(OwnershipEvent):
    """One append-only record per ownership or pool change of a lead."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events",
                             verbose_name=_("lead"), db_index=False, db_constraint=False)

    class Meta:
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")
        # Partial where they can be: the CREATED events of an import and the RECYCLED
        # events of a sweep touch the primary key and ``event_lead_time`` only, an
        # assignment two more.
        indexes = [
            models.Index(fields=["lead", "created_at", "id"], name="event_lead_time"),
            # A rep's claims today (the daily claim limit).
            models.Index(fields=["actor", "created_at"], name="event_claims",
                         condition=models.Q(kind="claimed")),
            # Leads a rep converted (weights from conversion rates). What a rep lost (the
            # cool-down, a former owner's masking) is always asked of given leads:
            # ``event_lead_time`` answers it.
            models.Index(fields=["from_owner", "created_at"], name="event_conversions",
                         condition=models.Q(kind="converted")),
            # Leads a rep received (weights from results).
            models.Index(fields=["to_owner", "created_at"], name="event_to_owner",
                         condition=models.Q(to_owner__isnull=False)),
            # The assignment log and the distribution view of a pool.
            models.Index(fields=["to_pool", "created_at"], name="event_pool_assigned",
                         condition=models.Q(kind__in=["assigned", "claimed"])),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead_id}"


class Touchpoint(models.Model):
    """Each time the same person reached us again, through any channel."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touchpoints",
                             verbose_name=_("lead"))
    channel = models.SlugField(_("channel"), max_length=64, blank=True, db_index=False)
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    occurred_at = models.DateTimeField(_("at"), default=timezone.now)
    payload = models.JSONField(_("data received"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        indexes = [models.Index(fields=["lead", "occurred_at"], name="touch_lead_time")]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"],
                                    name="touch_channel_external_id",
                                    condition=~models.Q(external_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} · {self.occurred_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """A contact attempt: how, what happened, and when to follow up next.

    It belongs to a lead, a customer or an opportunity (one at least; a follow-up on an
    opportunity also names its customer, so the customer's timeline shows it). Its
    ``next_at`` is a plan: a reminder goes out when it is due, unless a later follow-up
    on the same record closed the plan first.
    """

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NOT_CONNECTED = "not_connected", _("Not reached")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        APPOINTMENT = "appointment", _("Appointment made")
        OTHER = "other", _("Other")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="followups", verbose_name=_("lead"))
    customer = models.ForeignKey(
        "opportunities.Customer", on_delete=models.PROTECT, null=True, blank=True,
        related_name="followups", verbose_name=_("customer"),
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.PROTECT, null=True, blank=True,
        related_name="followups", verbose_name=_("opportunity"),
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("by"))
    kind = models.SlugField(_("type"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    content = models.TextField(_("content"))
    next_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    # Whether it counted as contact for the recycle clock when it was written.
    qualifies = models.BooleanField(_("counts as contact"), default=False, db_default=False)
    plan_open = models.BooleanField(_("plan open"), default=False, db_default=False)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["lead", "created_at"], name="followup_lead_time"),
            models.Index(fields=["author", "created_at"], name="followup_author_time"),
            # The reminder sweep: open plans whose reminder has not gone out yet.
            models.Index(fields=["next_at"], name="followup_reminder_due",
                         condition=models.Q(plan_open=True, reminded_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                name="followup_has_subject",
                condition=(models.Q(lead__isnull=False) | models.Q(customer__isnull=False)
                           | models.Q(opportunity__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.created_at:%Y-%m-%d %H:%M}"


class PoolLeadOpen(models.Model):
    """A rep opened a pool lead's page on a day; counts against the pool's daily open limit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lead", "day"], name="one_open_per_day"),
        ]
        indexes = [models.Index(fields=["user", "day"], name="open_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.lead_id} · {self.day}"


from .models_intake import (  # noqa: E402, F401
    ChannelToken,
    ImportBatch,
    ImportJob,
    ImportMapping,
    ImportRejectedRow,
)
from .models_rules import (  # noqa: E402, F401
    ExtensionRequest,
    PoolMember,
    RecycleRule,
    RoutingRule,
)
