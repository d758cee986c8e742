"""Lead pools (the pool pyramid) and their per-pool permissions.

Pool permissions are granted per pool to users or groups through django-guardian, in
direct foreign-key tables (never one row per lead, never a generic object id).
"""


from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from orgs.models import OrgUnit


class LeadPool(models.Model):
    """A lead pool: the master pool, a sub-pool by region or product, or a dormant pool."""

    class Kind(models.TextChoices):
        MASTER = "master", _("Master pool")
        SUB = "sub", _("Sub-pool")
        DORMANT = "dormant", _("Dormant pool")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SUB)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent pool"),
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="pools",
        verbose_name=_("owning org unit"),
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

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


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



