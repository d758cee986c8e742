"""Customers, contacts, contact methods and opportunities (PRODUCT.md §4).

Everything links by id, never by a phone or ID-card number: a contact may act for several
customers, a customer has many contacts, each contact has several contact methods.
Opportunities circulate like leads (``leads.models.Circulating``): unowned ones wait in
an opportunity pool and the same rule engine assigns and recycles them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Circulating, LeadPool, OwnershipEvent


class Customer(models.Model):
    """A company (B2B) or a person (B2C) that buys, owned by one rep."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices,
                            default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    industry = models.SlugField(_("industry"), max_length=64, blank=True, db_index=False)
    region = models.SlugField(_("region"), max_length=64, blank=True, db_index=False)
    size = models.SlugField(_("size"), max_length=32, blank=True, db_index=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    grade = models.CharField(_("grade"), max_length=8, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)
    signed_amount_12m = models.DecimalField(_("signed in the last 12 months"), max_digits=16,
                                            decimal_places=2, default=Decimal("0"))
    is_starred = models.BooleanField(_("key customer"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="customers", verbose_name=_("owner"))
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("merged into"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name_key"], name="customer_name_key",
                         condition=~models.Q(name_key="")),
            models.Index(fields=["owner", "grade"], name="customer_owner_grade"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="customer_external_id",
                                    condition=~models.Q(external_id="")),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person we talk to; may act for several customers."""

    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    customers = models.ManyToManyField(Customer, through="CustomerContact",
                                       related_name="contacts", verbose_name=_("customers"))
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("merged into"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class CustomerContact(models.Model):
    """A contact's role at one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="contact_links", verbose_name=_("customer"))
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE,
                                related_name="customer_links", verbose_name=_("contact"))
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("customer contact")
        verbose_name_plural = _("customer contacts")
        constraints = [
            models.UniqueConstraint(fields=["customer", "contact"], name="one_link_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.customer}"


class ContactMethod(models.Model):
    """One way to reach a contact: a mobile, a phone, an e-mail or a WeChat ID."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="methods",
                                verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=254)
    # Normalised like the lead keys (digits only, lower-case e-mail) for the duplicate check.
    value_key = models.CharField(max_length=254, blank=True, editable=False)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        indexes = [
            models.Index(fields=["kind", "value_key"], name="contact_method_key",
                         condition=~models.Q(value_key="")),
        ]

    def __str__(self) -> str:
        # Masked: a string form ends up in admin headers and audit entries.
        from crm_site.lib.masking import mask

        kind = "email" if self.kind == self.Kind.EMAIL else (
            "phone" if self.kind in (self.Kind.MOBILE, self.Kind.PHONE) else "address")
        return f"{self.get_kind_display()}: {mask(self.value, kind)}"


class Opportunity(Circulating):
    """A chance to sell to a customer (商机), moving through the stage dictionary."""

    class Type(models.TextChoices):
        SOLUTION = "solution", _("Solution sale")
        BIDDING = "bidding", _("Bidding")

    class Status(models.TextChoices):
        IN_POOL = "in_pool", _("In the opportunity pool")
        OPEN = "open", _("In progress")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    OPEN_STATUSES = (Status.OPEN,)

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="opportunities", verbose_name=_("customer"))
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="opportunities", verbose_name=_("contact"),
                                db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="opportunities", verbose_name=_("owner"),
                              db_index=False)
    pool = models.ForeignKey(LeadPool, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="opportunities", verbose_name=_("opportunity pool"),
                             db_index=False)
    product = models.ForeignKey("contracts.Product", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="opportunities",
                                verbose_name=_("product"), db_index=False)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices,
                            default=Type.SOLUTION)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 default=Decimal("0"))
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    stage = models.SlugField(_("stage"), max_length=64, db_index=False)
    stage_changed_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.OPEN)
    lost_reason = models.SlugField(_("lost reason"), max_length=64, blank=True,
                                   db_index=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Optimistic concurrency: a move made from a stale board is refused, not lost.
    version = models.PositiveIntegerField(default=1, editable=False)
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["owner", "stage", "id"], name="opp_owner_stage"),
            # The pipeline board's per-column count and total: an index-only scan over
            # the owners in scope.
            models.Index(fields=["owner", "stage"], include=["amount", "status"],
                         name="opp_board_totals", condition=models.Q(owner__isnull=False)),
            models.Index(fields=["stage", "status"], name="opp_stage_status"),
            models.Index(fields=["pool", "status", "id"], name="opp_pool_status",
                         condition=models.Q(owner__isnull=True)),
            models.Index(fields=["recycle_due_at"], name="opp_recycle_due",
                         condition=models.Q(recycle_due_at__isnull=False)),
            models.Index(fields=["recycle_warn_at"], name="opp_recycle_warn",
                         condition=models.Q(recycle_warn_at__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="opportunity_external_id",
                                    condition=~models.Q(external_id="")),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityStageChange(models.Model):
    """One move of an opportunity between stages (the stage history)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="stage_changes",
                                    verbose_name=_("opportunity"), db_index=False)
    from_stage = models.SlugField(_("from stage"), max_length=64, blank=True, db_index=False)
    to_stage = models.SlugField(_("to stage"), max_length=64, db_index=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("by"), db_index=False)
    changed_at = models.DateTimeField(_("at"), default=timezone.now)
    time_in_stage = models.DurationField(_("time in previous stage"), null=True, blank=True)

    class Meta:
        ordering = ["opportunity", "changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["opportunity", "changed_at", "id"],
                                name="stage_change_opp_time")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class OpportunityEvent(OwnershipEvent):
    """One append-only record per ownership or pool change of an opportunity."""

    # No database constraint, as on every ownership event (see ``OwnershipEvent``).
    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT,
                                    related_name="events", verbose_name=_("opportunity"),
                                    db_index=False, db_constraint=False)

    class Meta:
        verbose_name = _("opportunity event")
        verbose_name_plural = _("opportunity events")
        indexes = [
            models.Index(fields=["opportunity", "created_at", "id"], name="opp_event_time"),
            models.Index(fields=["to_pool", "created_at"], name="opp_event_pool_assigned",
                         condition=models.Q(kind__in=["assigned", "claimed"])),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.opportunity_id}"
