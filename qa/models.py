"""Quality inspection (质检): scorecards, plans, the queue, inspections, appeals, calibration.

A follow-up enters the inspection queue at most once (sampled by a plan, or because it hit
a sensitive word); the inspector it is assigned to scores it against the current version
of the plan's scorecard. The scores keep the version they were made with, so changing a
scorecard never rewrites past inspections. Calibration sessions ask several inspectors to
score the same items blind; those scores are not verdicts and never reach the rep.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leads.models import FollowUp
from orgs.models import DictionaryItem, OrgUnit


def _bilingual(chinese: str, english: str) -> str:
    if (get_language() or "").startswith("en") and english:
        return english
    return chinese


class SensitiveHit(models.Model):
    """A sensitive word found in a follow-up's text, with where it stands in that text.

    ``start``/``end`` are offsets into the follow-up's content as written (not the
    normalised text the matcher reads), so the inspector's view can highlight them.
    """

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="qa_hits",
                                 verbose_name=_("follow-up"))
    word = models.ForeignKey(DictionaryItem, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("sensitive word"))
    category = models.SlugField(_("category"), max_length=64, blank=True)
    severity = models.SlugField(_("severity"), max_length=16, blank=True)
    start = models.PositiveIntegerField(_("from"))
    end = models.PositiveIntegerField(_("to"))

    class Meta:
        verbose_name = _("sensitive-word hit")
        verbose_name_plural = _("sensitive-word hits")
        constraints = [
            models.UniqueConstraint(fields=["followup", "word", "start"], name="qa_hit_once"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="qa_hit_span"),
        ]
        indexes = [models.Index(fields=["category", "followup"], name="qa_hit_category")]

    def __str__(self) -> str:
        return f"{self.followup_id}:{self.word_id}@{self.start}"


class Scorecard(models.Model):
    """A named checklist; what inspectors score against is one of its versions."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _bilingual(self.name, self.name_en)

    def current_version(self):
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()


class ScorecardVersion(models.Model):
    """One frozen edition of a scorecard. Published versions are never edited: a change
    is a new version, and inspections keep the version they were scored with."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="versions",
                                  verbose_name=_("scorecard"))
    number = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=80,
        help_text=_("An inspection scoring below this share of the maximum fails."))
    coaching_mark = models.PositiveSmallIntegerField(
        _("coaching mark (%)"), default=90,
        help_text=_("Below this share, a passing inspection suggests coaching."))

    class Meta:
        ordering = ["scorecard", "-number"]
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="qa_version_number"),
            models.CheckConstraint(condition=Q(pass_mark__lte=100, coaching_mark__lte=100),
                                   name="qa_version_marks_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number}"


class ScorecardSection(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE,
                                related_name="sections", verbose_name=_("version"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("scorecard section")
        verbose_name_plural = _("scorecard sections")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _bilingual(self.name, self.name_en)


class ScorecardItem(models.Model):
    """One scored point: a weight, a scale 0…``max_score`` with what each score means, and
    whether it is *critical* (scoring 0 fails the whole inspection)."""

    section = models.ForeignKey(ScorecardSection, on_delete=models.CASCADE,
                                related_name="items", verbose_name=_("section"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=64,
                            help_text=_("A QA checklist item from the dictionary."))
    label = models.CharField(_("label (Chinese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    max_score = models.PositiveSmallIntegerField(_("highest score"), default=2)
    # [{"score": 0, "meaning": "…", "meaning_en": "…"}, …], one per score 0…max_score.
    scale = models.JSONField(_("scale"), default=list, blank=True)
    critical = models.BooleanField(
        _("critical"), default=False,
        help_text=_("Scoring 0 on a critical item fails the whole inspection."))

    class Meta:
        ordering = ["section__order", "order", "pk"]
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="qa_item_weight_positive"),
            models.CheckConstraint(condition=Q(max_score__gte=1, max_score__lte=10),
                                   name="qa_item_scale_1_10"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return _bilingual(self.label, self.label_en)

    def meanings(self) -> list[tuple[int, str]]:
        english = (get_language() or "").startswith("en")
        by_score = {int(step.get("score", -1)): step for step in self.scale or []}
        result = []
        for score in range(self.max_score + 1):
            step = by_score.get(score, {})
            text = (step.get("meaning_en") if english else "") or step.get("meaning", "")
            result.append((score, text))
        return result


class ViolationType(models.Model):
    """What went wrong, as an inspector records it; some send the lead back at once."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    recycle_now = models.BooleanField(
        _("recycle now"), default=False,
        help_text=_("A failed inspection with this violation returns the lead to its pool "
                    "at once (the rep is notified and cooled down as on any recycle)."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("violation type")
        verbose_name_plural = _("violation types")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _bilingual(self.name, self.name_en)


class InspectionPlan(models.Model):
    """Which follow-ups the nightly sampling puts in the queue, and who inspects them."""

    class Period(models.TextChoices):
        DAY = "day", _("Per day")
        WEEK = "week", _("Per week")

    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="plans",
                                  verbose_name=_("scorecard"))
    period = models.CharField(_("sampling period"), max_length=8, choices=Period.choices,
                              default=Period.DAY)
    share_percent = models.PositiveSmallIntegerField(
        _("share of each rep's follow-ups (%)"), default=10)
    min_per_rep = models.PositiveSmallIntegerField(
        _("at least, per rep and period"), default=1)
    include_hits = models.BooleanField(_("every follow-up with a sensitive word"), default=True)
    include_lost = models.BooleanField(_("every follow-up on a lost deal"), default=True)
    before_recycle = models.PositiveSmallIntegerField(
        _("last follow-ups before a recycle"), default=0,
        help_text=_("How many of a lead's last follow-ups to inspect when it is recycled; "
                    "0: none."))
    org_units = models.ManyToManyField(
        OrgUnit, blank=True, related_name="+", verbose_name=_("org units"),
        help_text=_("Reps of these units and every unit below. Empty: everyone."))
    followup_types = ArrayField(
        models.SlugField(max_length=64), default=list, blank=True,
        verbose_name=_("follow-up types"), help_text=_("Empty: every type."))
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("inspectors"),
        help_text=_("Items go to these inspectors in turn. Empty: everyone with the inspect "
                    "right."))
    appeal_days = models.PositiveSmallIntegerField(
        _("appeal within (days)"), default=7,
        help_text=_("How long a rep may appeal a failed inspection."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        constraints = [
            models.CheckConstraint(condition=Q(share_percent__lte=100),
                                   name="qa_plan_share_0_100"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _bilingual(self.name, self.name_en)


class QueueItem(models.Model):
    """A follow-up waiting for (or given) its inspection. A follow-up queues once, ever."""

    class Reason(models.TextChoices):
        SAMPLE = "sample", _("Sampled")
        HIT = "hit", _("Sensitive word")
        LOST = "lost", _("Lost deal")
        RECYCLE = "recycle", _("Before a recycle")
        CALIBRATION = "calibration", _("Calibration")

    class Status(models.TextChoices):
        OPEN = "open", _("To inspect")
        DONE = "done", _("Inspected")

    followup = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="qa_item",
                                    verbose_name=_("follow-up"))
    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="items",
                             verbose_name=_("plan"))
    reason = models.CharField(_("why"), max_length=16, choices=Reason.choices)
    day = models.DateField(_("queued for"))
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="+", verbose_name=_("rep"))
    team = models.ForeignKey(OrgUnit, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("team"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("inspector"))
    hit_categories = ArrayField(models.SlugField(max_length=64), default=list, blank=True,
                                verbose_name=_("hit categories"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.OPEN)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("queue item")
        verbose_name_plural = _("queue items")
        constraints = [
            models.CheckConstraint(condition=~Q(assignee=models.F("rep")),
                                   name="qa_item_not_own"),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "created_at", "id"],
                         name="qa_queue_keyset"),
            models.Index(fields=["day", "plan"], name="qa_queue_day"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.followup_id}"


class CalibrationSession(models.Model):
    """Several inspectors score the same items blind; the page compares their scores."""

    name = models.CharField(_("name"), max_length=120)
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("scorecard version"))
    tolerance = models.PositiveSmallIntegerField(
        _("tolerance (points of %)"), default=10,
        help_text=_("Two inspectors agree on an item when their totals differ by at most "
                    "this many percentage points."))
    items = models.ManyToManyField(QueueItem, related_name="calibrations",
                                   verbose_name=_("items"))
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+",
                                        verbose_name=_("inspectors"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """An inspector's scores for one queue item against one scorecard version.

    The verdict of the item is its official inspection (the assignee's); calibration
    scores sit beside it with ``calibration`` set and are never official.
    ``disqualified``/``recycled`` record what the verdict did to the engine, so that an
    overturned appeal can undo exactly that.
    """

    class Verdict(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        COACHING = "coaching", _("Needs coaching")

    class State(models.TextChoices):
        FINAL = "final", _("Final")
        APPEALED = "appealed", _("Appealed")
        UPHELD = "upheld", _("Upheld on appeal")
        OVERTURNED = "overturned", _("Overturned on appeal")

    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="inspections",
                             verbose_name=_("queue item"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("inspector"))
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("scorecard version"))
    calibration = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, null=True,
                                    blank=True, related_name="inspections",
                                    verbose_name=_("calibration"))
    official = models.BooleanField(_("official"), default=True)
    percent = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1)
    critical_failed = models.BooleanField(_("failed a critical item"), default=False)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    violations = models.ManyToManyField(ViolationType, blank=True, related_name="inspections",
                                        verbose_name=_("violations"))
    comment = models.TextField(_("comment"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices,
                             default=State.FINAL)
    disqualified = models.BooleanField(_("stopped counting as contact"), default=False)
    recycled = models.BooleanField(_("sent the lead back"), default=False)
    created_at = models.DateTimeField(_("inspected"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = [
            models.UniqueConstraint(fields=["item", "inspector"], name="qa_one_per_inspector",
                                    condition=Q(calibration__isnull=True)),
            models.UniqueConstraint(fields=["item", "inspector", "calibration"],
                                    name="qa_one_per_calibration",
                                    condition=Q(calibration__isnull=False)),
            models.UniqueConstraint(fields=["item"], condition=Q(official=True),
                                    name="qa_one_official"),
            models.CheckConstraint(condition=Q(official=False) | Q(calibration__isnull=True),
                                   name="qa_calibration_not_official"),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100),
                                   name="qa_percent_0_100"),
        ]
        indexes = [models.Index(fields=["created_at"], name="qa_inspection_time")]

    def __str__(self) -> str:
        return f"{self.item_id} · {self.inspector_id} · {self.verdict}"


class ItemScore(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="scores",
                                   verbose_name=_("inspection"))
    item = models.ForeignKey(ScorecardItem, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("scorecard item"))
    score = models.PositiveSmallIntegerField(_("score"))

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="qa_score_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}={self.score}"


class Appeal(models.Model):
    """A rep disputes a failed inspection; a QA lead upholds or overturns it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting decision")
        UPHELD = "upheld", _("Upheld")
        OVERTURNED = "overturned", _("Overturned")

    inspection = models.OneToOneField(Inspection, on_delete=models.CASCADE,
                                      related_name="appeal", verbose_name=_("inspection"))
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="+", verbose_name=_("rep"))
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    created_at = models.DateTimeField(_("appealed"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="qa_appeal_decided_when_closed"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="qa_appeal_open")]

    def __str__(self) -> str:
        return f"{self.inspection_id} · {self.status}"


class QAEvent(models.Model):
    """The audit trail of every QA action: who did what to which item, when."""

    class Kind(models.TextChoices):
        QUEUED = "queued", _("Queued")
        INSPECTED = "inspected", _("Inspected")
        APPEALED = "appealed", _("Appealed")
        UPHELD = "upheld", _("Appeal upheld")
        OVERTURNED = "overturned", _("Appeal overturned")
        CALIBRATED = "calibrated", _("Calibration scored")
        CONFIGURED = "configured", _("Configuration changed")
        RESCANNED = "rescanned", _("Sensitive words rescanned")

    kind = models.CharField(_("event"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="events", verbose_name=_("queue item"))
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="events", verbose_name=_("inspection"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("QA event")
        verbose_name_plural = _("QA events")
        indexes = [models.Index(fields=["item", "created_at"], name="qa_event_item")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.created_at:%Y-%m-%d %H:%M}"
