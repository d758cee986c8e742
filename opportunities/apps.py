from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    """Customers, contacts, opportunities and follow-ups (PRODUCT.md §4)."""

    name = "opportunities"
    verbose_name = _("Opportunities")
