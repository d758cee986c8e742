from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Lead pools, intake, claiming and the rule engine (PRODUCT.md §3)."""

    name = "leads"
    verbose_name = _("Leads")
