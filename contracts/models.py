"""Products, orders, contracts, approvals, payments and renewals (PRODUCT.md §5)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Product(models.Model):
    """An item of the product catalogue."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    series = models.CharField(_("series"), max_length=100, blank=True)
    category = models.SlugField(_("category"), max_length=64, blank=True, db_index=False)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2,
                                     default=Decimal("0"))
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("What one unit costs the company to buy or deliver; gross margin is the "
                    "price less this cost. Empty: not known."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


MONEY = {"max_digits": 16, "decimal_places": 2}


class Order(models.Model):
    """An order (订单): lines of products for a customer, with a total kept by the server."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        CONFIRMED = "confirmed", _("Confirmed")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    SIGNED_STATUSES = (Status.CONFIRMED, Status.PAID)

    customer = models.ForeignKey("opportunities.Customer", on_delete=models.PROTECT,
                                 related_name="orders", verbose_name=_("customer"))
    opportunity = models.ForeignKey("opportunities.Opportunity", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="orders",
                                    verbose_name=_("opportunity"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="orders", verbose_name=_("owner"), db_index=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.DRAFT)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    total = models.DecimalField(_("total"), default=Decimal("0"), **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="order_owner_time"),
            models.Index(fields=["-created_at", "-id"], name="order_time"),
            models.Index(fields=["customer", "signed_on"], name="order_customer_signed"),
        ]
        constraints = [
            models.CheckConstraint(name="order_total_not_negative",
                                   condition=models.Q(total__gte=0)),
        ]

    def __str__(self) -> str:
        return f"SO-{self.pk:06d}" if self.pk else "SO-new"

    @property
    def number(self) -> str:
        return str(self)


class OrderLine(models.Model):
    """One product on an order; its total is rounded per line (half up, to the cent)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"), db_index=False)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2,
                                   default=Decimal("0"))
    line_total = models.DecimalField(_("line total"), **MONEY)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(name="line_quantity_positive",
                                   condition=models.Q(quantity__gt=0)),
            models.CheckConstraint(name="line_price_not_negative",
                                   condition=models.Q(unit_price__gte=0)),
            models.CheckConstraint(name="line_discount_range",
                                   condition=models.Q(discount__gte=0, discount__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class ContractSequence(models.Model):
    """The last number handed out per numbering period (e.g. per month)."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("contract number sequence")
        verbose_name_plural = _("contract number sequences")

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class Contract(models.Model):
    """A contract (合同) with a customer over a period; orders carry parts of its amount."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        ACTIVE = "active", pgettext_lazy("contract", "Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey("opportunities.Customer", on_delete=models.PROTECT,
                                 related_name="contracts", verbose_name=_("customer"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="contracts", verbose_name=_("owner"), db_index=False)
    start_on = models.DateField(_("starts"))
    end_on = models.DateField(_("ends"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.DRAFT)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    renewal_planned_at = models.DateTimeField(_("renewal planned"), null=True, blank=True)
    orders = models.ManyToManyField(Order, through="ContractOrder", related_name="contracts",
                                    verbose_name=_("orders"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="contract_owner_time"),
            models.Index(fields=["-created_at", "-id"], name="contract_time"),
            # The renewal and expiry sweeps: active contracts by end date.
            models.Index(fields=["end_on", "id"], name="contract_active_end",
                         condition=models.Q(status="active")),
        ]
        constraints = [
            models.CheckConstraint(name="contract_period_order",
                                   condition=models.Q(end_on__gte=models.F("start_on"))),
            models.CheckConstraint(name="contract_amount_not_negative",
                                   condition=models.Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return self.number


def _attachment_path(instance, filename: str) -> str:
    # Random names: the stored path never reveals the customer or the original name.
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"contracts/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class ContractAttachment(models.Model):
    """A scanned page or PDF of a contract, stored through Django's storage API."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="attachments", verbose_name=_("contract"))
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("uploaded by"), db_index=False)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["contract", "id"]
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")

    def __str__(self) -> str:
        return self.original_name


class ContractOrder(models.Model):
    """How much of a contract one order carries (never more than either side's amount)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="allocations", verbose_name=_("contract"))
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="allocations",
                              verbose_name=_("order"))
    amount = models.DecimalField(_("allocated amount"), **MONEY)

    class Meta:
        verbose_name = _("contract allocation")
        verbose_name_plural = _("contract allocations")
        constraints = [
            models.UniqueConstraint(fields=["contract", "order"], name="one_allocation_per_pair"),
            models.CheckConstraint(name="allocation_positive",
                                   condition=models.Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} ↔ {self.order_id}: {self.amount}"


# --- approvals -------------------------------------------------------------------------------


class Subject(models.TextChoices):
    CONTRACT = "contract", _("Contract")
    ORDER = "order", _("Order")


class ApprovalBand(models.Model):
    """Amounts from ``min_amount`` (inclusive) up to ``max_amount`` (exclusive) need the
    band's steps; an amount no active band covers needs no approval."""

    subject = models.CharField(_("applies to"), max_length=10, choices=Subject.choices)
    name = models.CharField(_("name"), max_length=100)
    min_amount = models.DecimalField(_("from amount"), default=Decimal("0"), **MONEY)
    max_amount = models.DecimalField(_("below amount"), null=True, blank=True,
                                     help_text=_("Empty: no upper limit."), **MONEY)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["subject", "min_amount"]
        verbose_name = _("approval band")
        verbose_name_plural = _("approval bands")

    def __str__(self) -> str:
        return self.name


class ApprovalBandStep(models.Model):
    """One step of a band's chain, in ``position`` order."""

    class Kind(models.TextChoices):
        MANAGER = "manager", _("The owner's manager")
        NEXT_LEVEL = "next_level", _("The next level up")
        NAMED = "named", _("A named approver")

    band = models.ForeignKey(ApprovalBand, on_delete=models.CASCADE, related_name="steps",
                             verbose_name=_("band"))
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    kind = models.CharField(_("approver"), max_length=12, choices=Kind.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("named approver"), db_index=False)

    class Meta:
        ordering = ["band", "position", "id"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"


class ApprovalRequest(models.Model):
    """One submission of a contract or an order for approval, with its steps."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    subject = models.CharField(_("subject"), max_length=10, choices=Subject.choices)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="approvals", verbose_name=_("contract"))
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="approvals", verbose_name=_("order"))
    band = models.ForeignKey(ApprovalBand, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("band"), db_index=False)
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("submitted by"),
                                     db_index=False)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            # One open request per contract / order at a time.
            models.UniqueConstraint(fields=["contract"], name="one_open_contract_approval",
                                    condition=models.Q(status="pending", contract__isnull=False)),
            models.UniqueConstraint(fields=["order"], name="one_open_order_approval",
                                    condition=models.Q(status="pending", order__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} · {self.contract_id or self.order_id}"


class ApprovalStep(models.Model):
    """One approver's decision in a request; only the ``current`` step can be decided."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        CURRENT = "current", _("Awaiting decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SKIPPED = "skipped", _("Not needed")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE,
                                related_name="steps", verbose_name=_("request"))
    position = models.PositiveSmallIntegerField(_("order"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("approver"), db_index=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.WAITING)
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["request", "position"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        indexes = [models.Index(fields=["approver", "status"], name="approval_inbox",
                                condition=models.Q(status="current"))]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.position}: {self.status}"


# --- payments --------------------------------------------------------------------------------


class PaymentInstalment(models.Model):
    """One planned payment (回款计划) of a contract or an order, and how much came in."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PARTIAL = "partial", _("Partly received")
        DONE = "done", _("Received")
        OVERDUE = "overdue", _("Overdue")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="instalments", verbose_name=_("contract"))
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="instalments", verbose_name=_("order"))
    customer = models.ForeignKey("opportunities.Customer", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("customer"), db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"), db_index=False)
    seq = models.PositiveSmallIntegerField(_("instalment"))
    due_on = models.DateField(_("due"))
    amount = models.DecimalField(_("planned amount"), **MONEY)
    received = models.DecimalField(_("received"), default=Decimal("0"), **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("payment instalment")
        verbose_name_plural = _("payment instalments")
        indexes = [
            models.Index(fields=["owner", "due_on", "id"], name="instalment_owner_due"),
            models.Index(fields=["due_on", "id"], name="instalment_open_due",
                         condition=~models.Q(status="done")),
        ]
        constraints = [
            models.CheckConstraint(
                name="instalment_one_subject",
                condition=(models.Q(contract__isnull=False, order__isnull=True)
                           | models.Q(contract__isnull=True, order__isnull=False))),
            models.CheckConstraint(name="instalment_amount_positive",
                                   condition=models.Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.due_on} {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.received


class Payment(models.Model):
    """Money received (回款) against one instalment."""

    instalment = models.ForeignKey(PaymentInstalment, on_delete=models.PROTECT,
                                   related_name="payments", verbose_name=_("instalment"))
    amount = models.DecimalField(_("amount"), **MONEY)
    received_on = models.DateField(_("received on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"),
                                    db_index=False)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["instalment", "received_on", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(name="payment_positive",
                                              condition=models.Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.received_on} {self.amount}"
