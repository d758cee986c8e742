"""Extension requests: a rep asks for more time on a record, the manager decides.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Message, notify_many
from orgs.models import Employee, Membership
from orgs.rights import Operation

from ..engine import clock
from ..subjects import LEADS, Subject, get_subject
from .config import local_text
from .due import refresh_due


class ExtensionRefused(Exception):
    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _approvers(owner_id: int) -> list[int]:
    """Who is told about a rep's request: their supervisor and the managers of their units."""
    employee = Employee.objects.filter(user_id=owner_id).select_related(
        "supervisor").first()
    if employee is None:
        return []
    found = set()
    if employee.supervisor_id:
        found.add(employee.supervisor.user_id)
    units = Membership.objects.filter(employee=employee).values("org_unit_id")
    found |= set(Membership.objects.filter(org_unit_id__in=units, position__is_manager=True)
                 .values_list("employee__user_id", flat=True))
    found.discard(owner_id)
    return sorted(found)


def extension_request(*, subject: Subject, record_id: int, user, reason: str):
    """The owner asks once for more time before a record is recycled."""
    from ..models import ExtensionRequest

    reason = (reason or "").strip()
    if clock.meaningful_length(reason) < 4:
        raise ExtensionRefused(_("Say why you need more time."), "invalid")
    with transaction.atomic():
        record = (subject.model.objects.select_for_update(of=("self",))
                  .select_related("pool").filter(pk=record_id).first())
        if record is None or record.owner_id != user.pk or record.status not in (
                subject.open_statuses):
            raise ExtensionRefused(_("Only the owner can ask for more time."), "not_owner")
        if record.recycle_due_at is None:
            raise ExtensionRefused(_("No rule will recycle this record; there is nothing to "
                                     "extend."), "not_due")
        fk = {subject.event_fk: record}
        if ExtensionRequest.objects.filter(**fk, requested_by=user).exists():
            raise ExtensionRefused(_("You have already asked for more time on this record; "
                                     "one request per record."), "already")
        request = ExtensionRequest.objects.create(
            **fk, requested_by=user, reason=reason, days=record.pool.extension_days,
            due_before=record.recycle_due_at)
        employee = Employee.objects.filter(user_id=user.pk).first()
        rep = employee.display_name if employee else user.get_username()
        notify_many(Message(approver, "extension_requested",
                            {"rep": rep, "days": request.days, "name": record.name,
                             "reason": reason[:120]},
                            url="/leads/extensions/", key=f"ext:{request.pk}")
                    for approver in _approvers(user.pk))
    return request


def extension_decide(*, request_id: int, user, approve: bool, note: str = ""):
    """A manager whose scope covers the owner approves (the deadline moves back by the
    pool's extension) or rejects; a request is decided once, whoever clicks first."""
    from orgs.selectors import data_scope_for, rights_for

    from ..models import ExtensionRequest

    if not rights_for(user).can(Operation.APPROVE):
        raise ExtensionRefused(_("Your roles do not allow approving requests."), "forbidden")
    with transaction.atomic():
        request = (ExtensionRequest.objects.select_for_update()
                   .filter(pk=request_id).first())
        if request is None or not data_scope_for(user).users().filter(
                pk=request.requested_by_id).exists() or request.requested_by_id == user.pk:
            raise ExtensionRefused(_("This request is not yours to decide."), "forbidden")
        if request.status != ExtensionRequest.Status.PENDING:
            raise ExtensionRefused(_("This request was already decided."), "decided")
        request.status = (ExtensionRequest.Status.APPROVED if approve
                          else ExtensionRequest.Status.REJECTED)
        request.decided_by, request.decided_at = user, timezone.now()
        request.decision_note = (note or "").strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        subject = LEADS if request.lead_id else get_subject("opportunity")
        record_id = request.lead_id or request.opportunity_id
        record = subject.model.objects.select_for_update(of=("self",)).get(pk=record_id)
        if approve and record.owner_id == request.requested_by_id:
            subject.model.objects.filter(pk=record_id).update(
                recycle_grace=F("recycle_grace") + timedelta(days=request.days))
            refresh_due(subject, ids=[record_id])
            record.refresh_from_db(fields=["recycle_due_at"])
        due = local_text(record.recycle_due_at) if record.recycle_due_at else "—"
        notify_many([Message(
            request.requested_by_id, "extension_approved" if approve else "extension_rejected",
            {"name": record.name, "due": due, "note": request.decision_note},
            url=subject.url(record_id), key=f"ext-decided:{request.pk}")])
    return request
