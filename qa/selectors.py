"""Scoped reads of quality inspection: the inspector's queue, an item in its context, the
rep's results, open appeals.

Every read is limited twice: by the QA role (an inspector sees the items assigned to them,
or given to them for calibration; a QA lead sees every item) and by the viewer's data
boundary over the rep who wrote the follow-up. Contact data is always masked here, as for
a viewer without unmask rights: inspecting a note never needs a customer's number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from crm_site.lib.keyset import Page, keyset_page
from crm_site.lib.masking import mask
from leads.models import FollowUp
from orgs.selectors import data_scope_for

from .inspections import appeal_deadline, is_qa_lead
from .matcher import highlight_spans
from .models import (
    Appeal,
    Inspection,
    QueueItem,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    SensitiveHit,
)

PAGE_SIZE = 25
EARLIER = 10  # earlier follow-ups shown beside the one inspected


@dataclass
class QueueFilters:
    plan: int | None = None
    team: int | None = None
    rep: int | None = None
    category: str = ""
    age: int | None = None  # queued at least this many days ago
    status: str = QueueItem.Status.OPEN


def _visible_items(user) -> QuerySet:
    items = QueueItem.objects.all()
    if not is_qa_lead(user):
        items = items.filter(Q(assignee=user) | Q(calibrations__inspectors=user)).distinct()
    return data_scope_for(user).filter(items, owner_field="rep")


def queue_page(*, user, filters: QueueFilters, cursor: str | None = None,
               size: int = PAGE_SIZE) -> Page:
    """The inspector's own queue, oldest first, a keyset page at a time."""
    items = QueueItem.objects.filter(assignee=user, status=filters.status)
    items = data_scope_for(user).filter(items, owner_field="rep")
    if filters.plan:
        items = items.filter(plan_id=filters.plan)
    if filters.team:
        items = items.filter(team_id=filters.team)
    if filters.rep:
        items = items.filter(rep_id=filters.rep)
    if filters.category:
        items = items.filter(hit_categories__contains=[filters.category])
    if filters.age:
        items = items.filter(day__lte=timezone.localdate() - timedelta(days=filters.age))
    items = items.select_related("plan", "team", "rep__employee", "followup")
    return keyset_page(items, field="created_at", cursor=cursor, size=size)


def queue_choices(*, user) -> dict:
    """What the queue's filters offer: the plans, teams, reps and hit categories present
    in the inspector's open items (a few small grouped queries)."""
    items = QueueItem.objects.filter(assignee=user, status=QueueItem.Status.OPEN)
    plans = {i.plan_id: i.plan for i in items.select_related("plan").distinct("plan_id")
             .order_by("plan_id")}
    teams = {i.team_id: i.team for i in items.exclude(team=None).select_related("team")
             .distinct("team_id").order_by("team_id")}
    reps = {i.rep_id: i.rep for i in items.select_related("rep__employee").distinct("rep_id")
            .order_by("rep_id")}
    categories = sorted({c for row in items.values_list("hit_categories", flat=True)
                         .distinct() for c in row})
    return {"plans": list(plans.values()), "teams": list(teams.values()),
            "reps": list(reps.values()), "categories": categories}


@dataclass
class Context:
    """A queue item with what an inspector needs to judge it."""

    item: QueueItem
    followup: FollowUp
    pieces: list[tuple[str, bool]]
    hits: list[SensitiveHit]
    earlier: list[FollowUp]
    record: dict
    version: ScorecardVersion | None
    sections: list[ScorecardSection]
    inspection: Inspection | None
    can_score: bool
    appeal: Appeal | None = None
    extra: dict = field(default_factory=dict)


def _record(followup: FollowUp) -> dict:
    """The lead, customer and opportunity of a follow-up, contact data masked."""
    result = {}
    lead = followup.lead
    if lead is not None:
        result["lead"] = {
            "name": lead.name, "company": lead.company, "status": lead.get_status_display(),
            "mobile": mask(lead.mobile, "phone"), "phone": mask(lead.phone, "phone"),
            "email": mask(lead.email, "email"), "address": mask(lead.address, "address"),
            "wechat": mask(lead.wechat, "phone") if lead.wechat else "",
            "recycle_due_at": lead.recycle_due_at, "pool": lead.pool.display_name,
        }
    opportunity = followup.opportunity
    if opportunity is not None:
        result["opportunity"] = {"name": opportunity.name, "stage": opportunity.stage,
                                 "status": opportunity.get_status_display(),
                                 "amount": opportunity.amount}
    customer = followup.customer or (opportunity.customer if opportunity else None)
    if customer is not None:
        result["customer"] = {"name": customer.name, "grade": customer.grade,
                              "address": mask(customer.address, "address")}
    return result


def current_sections(version: ScorecardVersion | None) -> list[ScorecardSection]:
    if version is None:
        return []
    return list(version.sections.prefetch_related(
        Prefetch("items", queryset=ScorecardItem.objects.order_by("order", "pk"))))


def item_context(*, user, item_id: int) -> Context | None:
    """An item the viewer may see, in context; ``None`` when it is not theirs to see."""
    item = (_visible_items(user).filter(pk=item_id)
            .select_related("plan__scorecard", "team", "rep__employee",
                            "followup__lead__pool", "followup__customer",
                            "followup__opportunity__customer", "followup__author__employee")
            .first())
    if item is None:
        return None
    followup = item.followup
    hits = list(SensitiveHit.objects.filter(followup=followup).select_related("word")
                .order_by("start"))
    subject = ({"lead_id": followup.lead_id} if followup.lead_id else
               {"opportunity_id": followup.opportunity_id} if followup.opportunity_id else
               {"customer_id": followup.customer_id})
    earlier = list(FollowUp.objects.filter(**subject, created_at__lt=followup.created_at)
                   .select_related("author__employee").order_by("-created_at", "-pk")[:EARLIER])
    inspection = (Inspection.objects.filter(item=item, official=True)
                  .select_related("inspector__employee", "version")
                  .prefetch_related("violations", "scores").first())
    version = inspection.version if inspection else item.plan.scorecard.current_version()
    appeal = Appeal.objects.filter(inspection=inspection).first() if inspection else None
    return Context(
        item=item, followup=followup,
        pieces=highlight_spans(followup.content, [(h.start, h.end) for h in hits]),
        hits=hits, earlier=earlier, record=_record(followup), version=version,
        sections=current_sections(version), inspection=inspection,
        can_score=item.assignee_id == user.pk and item.status == QueueItem.Status.OPEN,
        appeal=appeal)


def next_item_id(*, user, after_id: int | None = None) -> int | None:
    """The inspector's next open item, oldest first (after the one just done)."""
    items = QueueItem.objects.filter(assignee=user, status=QueueItem.Status.OPEN)
    items = data_scope_for(user).filter(items, owner_field="rep")
    if after_id:
        items = items.exclude(pk=after_id)
    return items.order_by("created_at", "pk").values_list("pk", flat=True).first()


@dataclass
class Result:
    inspection: Inspection
    deadline: object
    can_appeal: bool


def rep_results(*, user, limit: int = 50) -> list[Result]:
    """The rep's own inspection results, newest first, with whether each may be appealed."""
    now = timezone.now()
    inspections = (Inspection.objects.filter(item__rep=user, official=True)
                   .select_related("item__plan", "item__followup", "version")
                   .prefetch_related("violations")
                   .select_related("appeal")
                   .order_by("-created_at", "-pk")[:limit])
    results = []
    for inspection in inspections:
        deadline = appeal_deadline(inspection)
        results.append(Result(inspection, deadline,
                              inspection.verdict == Inspection.Verdict.FAIL
                              and inspection.state == Inspection.State.FINAL
                              and now <= deadline))
    return results


def open_appeals(*, user, status: str = Appeal.Status.OPEN, limit: int = 100) -> list[Appeal]:
    appeals = Appeal.objects.filter(status=status)
    appeals = data_scope_for(user).filter(appeals, owner_field="rep")
    return list(appeals.select_related(
        "rep__employee", "inspection__inspector__employee", "inspection__item__followup",
        "inspection__item__plan", "decided_by__employee")
        .prefetch_related("inspection__violations").order_by("created_at", "pk")[:limit])
