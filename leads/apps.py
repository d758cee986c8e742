from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Lead pools, intake, claiming and the rule engine (PRODUCT.md §3)."""

    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # Registers the departure handover step, the pools of each org-stage preset and the
        # sections of the team digest in WeCom, DingTalk and Feishu.
        from auditlog.registry import auditlog

        from crm_site.lib.imports.registry import register_kind
        from orgs.access import register_record_rules

        from . import digest, models, presets, services  # noqa: F401
        from .imports.lead_kind import LEADS
        from .permissions import pool_allows, pools_for
        from .selectors import lead_contact_clear, visible_leads

        register_kind(LEADS)
        # Who may open, unmask and act on leads and pools (``orgs.access``).
        register_record_rules("leads.Lead", visible=visible_leads,
                              contact_clear=lead_contact_clear)
        register_record_rules("leads.LeadPool", visible=pools_for, may_act=pool_allows)

        # Rules and pool settings are audited: who changed what, when, before/after.
        auditlog.register(models.LeadPool, exclude_fields=["rr_last_user_id", "routed_until"])
        auditlog.register(models.PoolMember, exclude_fields=["swrr_current"])
        auditlog.register(models.RoutingRule)
        auditlog.register(models.RecycleRule)
        # Who wrote which follow-up on what (its plan's reminder state changes in bulk).
        auditlog.register(models.FollowUp, exclude_fields=["plan_open", "reminded_at"])
