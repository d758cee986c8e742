from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    """Orders, contracts, approvals and payments (PRODUCT.md §5)."""

    name = "contracts"
    verbose_name = _("Orders and contracts")
