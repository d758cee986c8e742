"""Corrections a reviewer makes to the engine's facts after the fact.

Quality inspection may decide that a follow-up did not really count as contact (it failed
a critical check), or that a lead must go back to its pool at once. These functions are
the engine's side of that: they run inside the caller's transaction, move the recycle
clock the way a follow-up or a recycle would, write the lead's events, and can be undone
(an appeal overturned) by calling them the other way round.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from notifications.kinds import in_languages
from notifications.services import Message, notify_many

from . import circulation
from .models import FollowUp, Lead, LeadEvent
from .subjects import SUBJECTS

REASON_QA = "quality_inspection"


def followup_set_qualifying(*, followup_id: int, qualifies: bool, now=None) -> bool:
    """Make a follow-up count (or stop counting) as contact, and recompute the clock of
    the lead or opportunity it was written on. Returns whether anything changed.

    The record's last qualifying contact becomes the newest follow-up that still counts;
    its recycle due time is recomputed at once (same transaction).
    """
    now = now or timezone.now()
    followup = FollowUp.objects.select_for_update(of=("self",)).filter(pk=followup_id).first()
    if followup is None or followup.qualifies == qualifies:
        return False
    FollowUp.objects.filter(pk=followup.pk).update(qualifies=qualifies)
    for code, record_id in (("lead", followup.lead_id), ("opportunity", followup.opportunity_id)):
        if record_id is None:
            continue
        subject = SUBJECTS[code]
        last = (FollowUp.objects.filter(**{subject.event_fk: record_id}, qualifies=True)
                .aggregate(last=Max("created_at"))["last"])
        subject.model.objects.filter(pk=record_id).update(last_qualified_at=last)
        circulation.refresh_due(subject, ids=[record_id], now=now)
    return True


def lead_recycle_now(*, lead_id: int, owner_id: int, actor, note: str = "", now=None) -> bool:
    """Send a lead back to its pool at once, as the engine's recycle does: a RECYCLED event
    (the former owner's cool-down runs from it), its count goes up, the owner is told.

    Only while ``owner_id`` still holds it; returns whether it went back.
    """
    now = now or timezone.now()
    lead = (Lead.objects.select_for_update(of=("self",)).select_related("pool")
            .filter(pk=lead_id, owner_id=owner_id, status__in=Lead.OPEN_STATUSES).first())
    if lead is None:
        return False
    subject = SUBJECTS["lead"]
    Lead.objects.filter(pk=lead.pk).update(recycle_count=lead.recycle_count + 1,
                                           **circulation.returned_values(subject, now))
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.RECYCLED, actor=actor, from_owner_id=owner_id,
        from_pool=lead.pool, to_pool=lead.pool, reason=REASON_QA, note=note, created_at=now,
        detail={"assigned_at": lead.assigned_at.isoformat() if lead.assigned_at else None,
                "count": lead.recycle_count + 1, "quality_inspection": True})
    notify_many([Message(owner_id, "lead_recycled",
                         {"count": 1, "rule": in_languages("质检", "quality inspection"),
                          "names": lead.name},
                         key=f"qa-recycled:{lead.pk}:{now.isoformat()}")])
    return True


def lead_recycle_undo(*, lead_id: int, owner_id: int, actor, note: str = "", now=None) -> bool:
    """Give a lead that quality inspection sent back to its former owner again, with the
    assignment time it had (so its clock is where it was), if it is still in its pool.
    Returns whether it went back to the owner."""
    now = now or timezone.now()
    lead = (Lead.objects.select_for_update(of=("self",)).select_related("pool")
            .filter(pk=lead_id, owner__isnull=True, status=Lead.Status.IN_POOL).first())
    if lead is None:
        return False
    recycled = (LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.RECYCLED,
                                         reason=REASON_QA, from_owner_id=owner_id)
                .order_by("-created_at", "-pk").first())
    if recycled is None:
        return False
    assigned_at = (recycled.detail or {}).get("assigned_at")
    assigned_at = datetime.fromisoformat(assigned_at) if assigned_at else now
    Lead.objects.filter(pk=lead.pk).update(
        owner_id=owner_id, status=Lead.Status.ASSIGNED,
        assigned_at=assigned_at, recycle_count=max(lead.recycle_count - 1, 0),
        recycle_grace=timedelta(0), clock_paused_at=None)
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.ASSIGNED, actor=actor, to_owner_id=owner_id,
        from_pool=lead.pool, to_pool=lead.pool, reason=REASON_QA, note=note, created_at=now)
    circulation.refresh_due(SUBJECTS["lead"], ids=[lead.pk], now=now)
    return True
