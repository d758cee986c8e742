from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The funnel, daily snapshots, targets and pool health (PRODUCT.md §7)."""

    name = "reports"
    verbose_name = _("Reports")
