"""Intake bookkeeping: channel tokens for the ingest endpoint, file-import jobs and mappings."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CollisionPolicy(models.TextChoices):
    """What intake does with a lead that collides with an existing lead, customer or contact."""

    REFUSE = "refuse", _("Refuse the new lead")
    ATTACH = "attach", _("Attach it to the existing owner")
    POOL = "pool", _("Route it to the pool")


class ChannelToken(models.Model):
    """The secret one channel (web form, mini-program, ads, ...) uses to push leads to us.

    Only a hash is stored; the token itself is shown once, when it is created.
    """

    channel = models.SlugField(_("channel"), max_length=64,
                               help_text=_("Code from the channel dictionary."))
    name = models.CharField(_("name"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token ends with"), max_length=8, editable=False)
    pool = models.ForeignKey("leads.LeadPool", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("target pool"))
    is_active = models.BooleanField(_("active"), default=True)
    collision_policy = models.CharField(
        _("when a duplicate is found"), max_length=8, choices=CollisionPolicy.choices,
        default=CollisionPolicy.ATTACH,
        help_text=_("What a lead from this channel does when its phone, e-mail or company "
                    "already belongs to a lead, customer or contact: refuse it, attach it to "
                    "the existing owner, or send it to the pool. Manual entry and file "
                    "import of the same channel code follow the same policy."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel token")
        verbose_name_plural = _("channel tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.channel}) …{self.token_hint}"

    def issue(self) -> str:
        """Generate a new secret, keep its hash, and return it (to be shown once)."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.token_hint = token[-6:]
        return token


class ImportMapping(models.Model):
    """A saved header mapping, re-used when the same kind of file comes again."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    mapping = models.JSONField(_("column → field"), default=dict)
    name_template = models.CharField(
        _("name when the file has none"), max_length=200, blank=True,
        help_text=_("E.g. “Lead {Lead Number}”: column names in braces."),
    )
    empty_markers = models.JSONField(_("values read as empty"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One uploaded file, its mapping, progress and outcome."""

    class Status(models.TextChoices):
        READING = "reading", _("Reading the file")
        UPLOADED = "uploaded", _("Waiting for mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class DuplicateMode(models.TextChoices):
        SKIP = "skip", _("Skip duplicates")
        MERGE = "merge", _("Merge into the existing lead")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # What the rows become: a kind of the import registry (``crm_site.lib.imports``):
    # leads (into ``pool``), customers, contacts, opportunities, products or employees.
    kind = models.SlugField(_("records"), max_length=16, default="leads", db_default="leads")
    mapping_name = models.CharField(_("saved mapping"), max_length=200, blank=True,
                                    default="", db_default="")
    pool = models.ForeignKey("leads.LeadPool", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("pool"), null=True, blank=True)
    channel = models.SlugField(_("channel"), max_length=64, default="file_import")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    headers = models.JSONField(default=list)
    # The first rows as [line, cells], read by the worker for the mapping page.
    preview = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict)
    name_template = models.CharField(max_length=200, blank=True)
    empty_markers = models.JSONField(default=list, blank=True)
    duplicate_mode = models.CharField(_("duplicates"), max_length=8,
                                      choices=DuplicateMode.choices, default=DuplicateMode.SKIP)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(_("added"), default=0)
    merged = models.PositiveIntegerField(_("merged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The uploader's language: rejected rows are explained in it, whichever worker runs.
    language = models.CharField(max_length=16, blank=True, default="")
    # Rows per batch, fixed when the job first runs: a resumed run skips the same batches.
    batch_size = models.PositiveIntegerField(default=0)
    # The worker holding the job renews its lease with every batch; a job whose lease ran
    # out lost its worker and is resumed (or failed) by ``leads.import_sweep``.
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lease_until"], name="importjob_running_lease",
                                condition=models.Q(status__in=["running", "reading"]))]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.original_name} · {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def kind_label(self) -> str:
        """What the rows become, in the viewer's language."""
        from crm_site.lib.imports.registry import all_kinds

        kind = all_kinds().get(self.kind)
        return str(kind.label) if kind else self.kind

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportRejectedRow(models.Model):
    """A row that could not be imported: its line number in the file and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField(_("line"))
    reason = models.CharField(_("reason"), max_length=300)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="reject_job_line")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line}"


class ImportBatch(models.Model):
    """One batch of a job's file written (in the transaction that wrote it): a resumed
    job skips the batches it finds here, so no row is written twice. Batch 0 holds the
    rows rejected while reading the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    first_line = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    accepted = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "number"],
                                               name="importbatch_once")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.number}"
