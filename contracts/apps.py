from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    """Orders, contracts, approvals and payments (PRODUCT.md §5)."""

    name = "contracts"
    verbose_name = _("Orders and contracts")

    def ready(self) -> None:
        # Registers notification kinds, the departure handover step and the
        # signed-orders amount source of customer grading.
        from auditlog.registry import auditlog

        from crm_site.lib.imports.registry import register_kind

        from . import models, services  # noqa: F401
        from .importing import PRODUCTS

        register_kind(PRODUCTS)

        auditlog.register(models.Product)
        auditlog.register(models.Order)
        auditlog.register(models.OrderLine)
        auditlog.register(models.Contract, exclude_fields=["renewal_planned_at"])
        auditlog.register(models.ContractAttachment)
        auditlog.register(models.ContractOrder)
        auditlog.register(models.ApprovalBand)
        auditlog.register(models.ApprovalBandStep)
        auditlog.register(models.PaymentInstalment, exclude_fields=["status", "reminded_at"])
        auditlog.register(models.Payment)
