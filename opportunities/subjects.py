"""Customers and opportunities as subjects of follow-ups and (opportunities) of pools.

Registered in ``OpportunitiesConfig.ready`` with their scoped selectors, so that the
follow-up panel, the agenda and the pool engine of ``leads`` reach them without importing
this app.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leads.subjects import Subject

CUSTOMERS = Subject(
    code="customer", model_label="opportunities.Customer", label=_("Customer"),
    detail_url="customer_detail", open_statuses=None,
)

OPPORTUNITIES = Subject(
    code="opportunity", model_label="opportunities.Opportunity", label=_("Opportunity"),
    detail_url="opportunity_detail", open_statuses=("open",), pool_kind="opportunity",
    event_label="opportunities.OpportunityEvent", event_fk="opportunity",
    in_pool_status="in_pool", owned_status="open",
    grade_path="customer__grade", starred_path="customer__is_starred",
)
