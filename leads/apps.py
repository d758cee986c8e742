from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Lead pools, intake, claiming and the rule engine (PRODUCT.md §3)."""

    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # Registers the departure handover step and the pools of each org-stage preset.
        from . import presets, services  # noqa: F401
