from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    """Customers, contacts, opportunities and follow-ups (PRODUCT.md §4)."""

    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models, weights  # noqa: F401  (registers the win_rate weight source)

        auditlog.register(models.Opportunity,
                          exclude_fields=["version", "recycle_due_at", "recycle_warn_at",
                                          "recycle_rule", "pooled_at", "stage_changed_at"])
