from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    """Customers, contacts, opportunities and follow-ups (PRODUCT.md §4)."""

    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        # Registers the departure handover step of customers, contacts and opportunities,
        # the win_rate weight source of the rule engine, and the demo's conversions of
        # leads into customers and opportunities.
        from auditlog.registry import auditlog

        from leads.demo import register_demo_conversions
        from orgs.access import register_record_rules

        from . import importing, models, services_customers, weights  # noqa: F401
        from .demo import convert_demo_leads
        from .selectors_customers import visible_contacts, visible_customers
        from .selectors_pipeline import visible_opportunities

        register_demo_conversions(convert_demo_leads)
        # Who may open and unmask customers, contacts and opportunities (``orgs.access``).
        register_record_rules("opportunities.Customer", visible=visible_customers)
        register_record_rules("opportunities.Contact", visible=visible_contacts)
        register_record_rules("opportunities.Opportunity", visible=visible_opportunities)
        # Customers, contacts and opportunities as import kinds; the customers and contacts
        # a lead import collides with.
        importing.register()

        auditlog.register(models.Customer, exclude_fields=["updated_at", "graded_at",
                                                           "signed_amount_12m", "grade"])
        auditlog.register(models.Contact)
        auditlog.register(models.CustomerContact)
        auditlog.register(models.ContactMethod, mask_fields=["value", "value_key"])
        auditlog.register(models.Opportunity,
                          exclude_fields=["version", "recycle_due_at", "recycle_warn_at",
                                          "recycle_rule", "pooled_at", "stage_changed_at"])
