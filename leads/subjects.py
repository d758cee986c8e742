"""What circulates: leads, and opportunities (which the same engine moves).

A subject tells the engine which table holds the records, which statuses mean "waiting
in a pool" and "owned", where its ownership events go, and how to read a record's grade
and key flag. Pools of kind ``opportunity`` hold opportunities; every other pool holds
leads.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.urls import reverse


@dataclass(frozen=True)
class Subject:
    code: str
    model_label: str
    event_label: str
    event_fk: str  # the event model's foreign key to the record
    in_pool_status: str
    owned_status: str  # status of a record handed to a rep
    open_statuses: tuple[str, ...]
    grade_path: str  # ORM path of the grade that caps and exclusions look at
    starred_path: str  # ORM path of the "key record" flag
    detail_url: str  # URL name of the record's page
    label_field: str = "name"
    # Extra fields reset when a record goes back to a pool (the owner's own marks).
    reset_on_return: tuple[tuple[str, object], ...] = ()

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def event_model(self):
        return apps.get_model(self.event_label)

    def url(self, pk: int) -> str:
        return reverse(self.detail_url, args=[pk])


LEADS = Subject(
    code="lead", model_label="leads.Lead", event_label="leads.LeadEvent", event_fk="lead",
    in_pool_status="in_pool", owned_status="assigned", open_statuses=("assigned", "following"),
    grade_path="grade", starred_path="is_starred", detail_url="lead_detail",
    reset_on_return=(("is_starred", False), ("next_followup_at", None)),
)

OPPORTUNITIES = Subject(
    code="opportunity", model_label="opportunities.Opportunity",
    event_label="opportunities.OpportunityEvent", event_fk="opportunity",
    in_pool_status="in_pool", owned_status="open", open_statuses=("open",),
    grade_path="customer__grade", starred_path="customer__is_starred",
    detail_url="opportunity_detail",
)

SUBJECTS = {LEADS.code: LEADS, OPPORTUNITIES.code: OPPORTUNITIES}


def subject_for_pool(pool) -> Subject:
    return OPPORTUNITIES if pool.kind == "opportunity" else LEADS
