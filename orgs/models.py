"""Organisation: the org tree, roles, positions, employees and their memberships,
plus the dictionaries every other app reads its option lists from."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from .rights import DataScope, Entry, Operation


def _is_english() -> bool:
    return (get_language() or "").startswith("en")


class BilingualNameMixin(models.Model):
    """A display name kept in both UI languages; falls back to Chinese if English is empty."""

    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def display_name(self) -> str:
        if _is_english() and self.name_en:
            return self.name_en
        return self.name


class Role(BilingualNameMixin):
    """A bundle of rights: the pages it opens, the actions it allows and a data boundary."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)
    entries = models.JSONField(_("pages"), default=list, blank=True)
    operations = models.JSONField(_("operations"), default=list, blank=True)
    data_scope = models.PositiveSmallIntegerField(
        _("data boundary"), choices=DataScope.choices, default=DataScope.SELF
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    def clean(self) -> None:
        unknown_entries = set(self.entries or []) - set(Entry.values)
        unknown_ops = set(self.operations or []) - set(Operation.values)
        if unknown_entries or unknown_ops:
            raise ValidationError(
                _("Unknown pages or operations: %(codes)s"),
                params={"codes": ", ".join(sorted(unknown_entries | unknown_ops))},
            )


class OrgUnitQuerySet(MP_NodeQuerySet):
    def subtree_of(self, unit: "OrgUnit") -> "OrgUnitQuerySet":
        """The unit and every unit below it: one prefix match on the indexed path."""
        return self.filter(path__startswith=unit.path)


class OrgUnitManager(MP_NodeManager):
    def get_queryset(self) -> OrgUnitQuerySet:
        return OrgUnitQuerySet(self.model).order_by("path")


class OrgUnit(MP_Node):
    """A node of the org tree: company → region / business unit → department → team.

    The materialised ``path`` (indexed, with a pattern index on PostgreSQL) makes "this
    unit and everything below" one prefix query, so a unit created under a granted unit
    is covered at once.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        REGION = "region", _("Region")
        BUSINESS_UNIT = "business_unit", _("Business unit")
        DEPARTMENT = "department", _("Department")
        TEAM = "team", _("Team")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TEAM)
    allowed_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="allowing_units",
        verbose_name=_("allowed roles"),
        help_text=_(
            "Roles this unit's positions may hold. Leave empty to allow what the parent allows."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = OrgUnitManager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if _is_english() and self.name_en:
            return self.name_en
        return self.name

    def effective_allowed_roles(self) -> models.QuerySet:
        """The roles allowed here: this unit's list, else the nearest ancestor's, else all."""
        chain = (
            [self, *reversed(list(OrgUnit.objects.get_ancestors(self)))] if self.pk else [self]
        )
        for unit in chain:
            if unit.pk and unit.allowed_roles.exists():
                return unit.allowed_roles.all()
        return Role.objects.filter(is_active=True)


class Position(BilingualNameMixin):
    """A job in a unit (岗位). Members of the unit or any unit below may hold it."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="positions", verbose_name=_("org unit")
    )
    is_manager = models.BooleanField(
        _("manages the unit"),
        default=False,
        help_text=_("Holders are the unit's managers (approvers, escalation target)."),
    )
    default_roles = models.ManyToManyField(
        Role, blank=True, related_name="positions", verbose_name=_("default roles")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")

    def __str__(self) -> str:
        return f"{self.display_name} · {self.org_unit.display_name}"


class Employee(models.Model):
    """A person who works in the organisation, linked one-to-one to a login."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ON_LEAVE = "on_leave", _("On leave")
        DEPARTED = "departed", _("Departed")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="employee",
        verbose_name=_("user"),
    )
    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    # Their accounts in the messaging apps reminders can reach them through
    # (notifications.channels): the user ID each tenant's address book shows.
    wecom_userid = models.CharField(
        _("WeCom user ID"), max_length=64, blank=True,
        help_text=_("The member's account (UserID) in the WeCom admin console's contacts."))
    dingtalk_userid = models.CharField(
        _("DingTalk user ID"), max_length=64, blank=True,
        help_text=_("The member's userId in the DingTalk admin console's contacts."))
    feishu_userid = models.CharField(
        _("Feishu/Lark user ID"), max_length=64, blank=True,
        help_text=_("The member's user ID (or open ID, as the channel is set up) in the "
                    "Feishu/Lark admin console."))
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("direct supervisor"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("successor"),
    )
    units = models.ManyToManyField(
        OrgUnit, through="Membership", related_name="employees", verbose_name=_("org units")
    )

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if _is_english() and self.name_en:
            return self.name_en
        return self.name

    @property
    def is_departed(self) -> bool:
        return self.status == self.Status.DEPARTED


class Membership(models.Model):
    """An employee's place in one org unit, with a position.

    The membership's roles are the position's default roles, plus any granted here,
    minus any revoked here; "restore default roles" clears both lists.
    """

    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("employee")
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("org unit")
    )
    position = models.ForeignKey(
        Position,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("position"),
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    extra_roles = models.ManyToManyField(
        Role, blank=True, related_name="granted_memberships", verbose_name=_("extra roles")
    )
    revoked_roles = models.ManyToManyField(
        Role, blank=True, related_name="revoked_memberships", verbose_name=_("revoked roles")
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "org_unit", "position"], name="uniq_membership_position"
            ),
        ]

    def __str__(self) -> str:
        position = self.position.display_name if self.position_id else "—"
        return f"{self.employee} @ {self.org_unit} ({position})"

    def clean(self) -> None:
        if self.position_id and self.org_unit_id:
            holder_path = self.org_unit.path
            if not holder_path.startswith(self.position.org_unit.path):
                raise ValidationError(
                    {
                        "position": _(
                            "This position belongs to %(unit)s; "
                            "only members of that unit or a unit below it may hold it."
                        )
                        % {"unit": self.position.org_unit.display_name}
                    }
                )


class UserSession(models.Model):
    """The sessions a user has open, so that a departure can end every one of them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=True
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("open session")
        verbose_name_plural = _("open sessions")

    def __str__(self) -> str:
        return self.session_key[:8]


class StageApplication(models.Model):
    """A record of each time an org-stage preset was applied."""

    stage = models.PositiveSmallIntegerField(_("stage"))
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("org-stage application")
        verbose_name_plural = _("org-stage applications")

    def __str__(self) -> str:
        return f"{self.stage} @ {self.applied_at:%Y-%m-%d %H:%M}"


class Dictionary(BilingualNameMixin):
    """An admin-edited option list (channels, regions, stages, lost reasons, ...)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")

    def __str__(self) -> str:
        return self.display_name


class DictionaryItemQuerySet(models.QuerySet):
    def active(self) -> "DictionaryItemQuerySet":
        return self.filter(is_active=True)

    def of(self, dictionary_code: str) -> "DictionaryItemQuerySet":
        return self.filter(dictionary__code=dictionary_code)


class DictionaryItem(models.Model):
    """One option: a stable code that data refers to, and labels in both languages."""

    dictionary = models.ForeignKey(
        Dictionary, on_delete=models.CASCADE, related_name="items", verbose_name=_("dictionary")
    )
    code = models.SlugField(_("code"), max_length=64)
    label = models.CharField(_("label (Chinese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"),
        null=True,
        blank=True,
        help_text=_("Opportunity stages only: the chance of winning at this stage."),
    )
    extra = models.JSONField(_("extra settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = DictionaryItemQuerySet.as_manager()

    class Meta:
        ordering = ["dictionary", "sort_order", "code"]
        verbose_name = _("dictionary item")
        verbose_name_plural = _("dictionary items")
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "code"], name="uniq_dictionary_item"),
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True) | models.Q(probability__lte=100),
                name="dictionary_item_probability_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        if _is_english() and self.label_en:
            return self.label_en
        return self.label


class TeamStint(models.Model):
    """Which org unit an employee worked in, day by day (their primary membership's unit).

    Reports count a rep's day for the team they were in that day, so a rep who moves
    teams mid-month counts for each team on the right days. A stint covers the days
    ``started_on`` ≤ day < ``ended_on`` (open-ended while current); a change during a day
    counts from that day on. Kept by ``orgs.services.team_history_sync`` whenever a
    membership changes.
    """

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE,
                                 related_name="team_stints", verbose_name=_("employee"))
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("org unit"))
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["employee", "started_on"]
        verbose_name = _("team history")
        verbose_name_plural = _("team history")
        indexes = [models.Index(fields=["employee", "started_on"], name="team_stint_time")]
        constraints = [
            models.UniqueConstraint(fields=["employee"], condition=models.Q(ended_on__isnull=True),
                                    name="one_current_team_stint"),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gt=models.F("started_on")),
                name="team_stint_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} @ {self.org_unit_id} {self.started_on}–{self.ended_on or ''}"
