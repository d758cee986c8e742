"""Approvals: the band an amount falls in, the chain of approvers, submitting an order
or contract and deciding a step (once, by its approver).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many
from orgs.models import Employee

from ..models import (
    ApprovalBand,
    ApprovalBandStep,
    ApprovalRequest,
    ApprovalStep,
    Contract,
    Order,
    Subject,
)
from .common import ActionRefused, actor_name

register_kind("approval_requested",
              gettext_lazy("%(subject)s %(number)s (%(amount)s) waits for your approval."),
              icon="bi-patch-question")
register_kind("approval_approved",
              gettext_lazy("%(subject)s %(number)s was approved by %(by)s."),
              icon="bi-patch-check")
register_kind("approval_rejected",
              gettext_lazy("%(subject)s %(number)s was rejected by %(by)s: %(comment)s"),
              icon="bi-patch-exclamation")
def band_for(subject: str, amount) -> ApprovalBand | None:
    """The active band covering ``amount`` for ``subject`` (the highest floor wins)."""
    bands = ApprovalBand.objects.filter(subject=subject, is_active=True,
                                        min_amount__lte=amount).order_by("-min_amount", "pk")
    for band in bands:
        if band.max_amount is None or amount < band.max_amount:
            return band
    return None


def _supervisor_user_id(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return (Employee.objects.filter(user_id=user_id).values_list("supervisor__user_id",
                                                                   flat=True).first())


def resolve_chain(band: ApprovalBand, owner_id: int) -> list[int]:
    """The approvers of a band's steps for one owner, in order, without repeats or the
    owner themself."""
    chain: list[int] = []
    previous = None
    for step in band.steps.order_by("position", "pk"):
        if step.kind == ApprovalBandStep.Kind.NAMED:
            approver = step.approver_id
        elif step.kind == ApprovalBandStep.Kind.MANAGER:
            approver = _supervisor_user_id(owner_id)
        else:
            approver = _supervisor_user_id(previous or _supervisor_user_id(owner_id))
        if approver is None:
            raise ActionRefused(_("The approval chain “%(band)s” has no approver for step "
                                  "%(n)s; ask an administrator.")
                                % {"band": band.name, "n": step.position}, "no_approver")
        previous = approver
        if approver != owner_id and approver not in chain:
            chain.append(approver)
    if not chain:
        raise ActionRefused(_("The approval chain “%(band)s” has no approver; ask an "
                              "administrator.") % {"band": band.name}, "no_approver")
    return chain


def _subject_row(subject: str, pk: int, *, lock: bool = False):
    model = Contract if subject == Subject.CONTRACT else Order
    queryset = model.objects.select_for_update() if lock else model.objects
    return queryset.select_related("customer").get(pk=pk) if not lock else queryset.get(pk=pk)


def _subject_params(subject: str, row) -> dict:
    label = Subject(subject).label
    amount = row.amount if subject == Subject.CONTRACT else row.total
    return {"subject": str(label), "number": str(row), "amount": f"{amount:,.2f}"}


def _subject_url(subject: str, pk: int) -> str:
    return reverse("contract_detail" if subject == Subject.CONTRACT else "order_detail",
                   args=[pk])


def approval_submit(*, subject: str, pk: int, user) -> ApprovalRequest:
    """Send a draft contract or order up its band's chain (status: pending approval)."""
    with transaction.atomic():
        row = _subject_row(subject, pk, lock=True)
        if row.status != row.Status.DRAFT:
            raise ActionRefused(_("Only a draft can be submitted for approval."), "not_draft")
        amount = row.amount if subject == Subject.CONTRACT else row.total
        band = band_for(subject, amount)
        if band is None:
            raise ActionRefused(_("This amount needs no approval."), "no_band")
        chain = resolve_chain(band, row.owner_id)
        try:
            with transaction.atomic():
                request = ApprovalRequest.objects.create(
                    subject=subject, band=band, amount=amount, submitted_by=user,
                    **{subject: row})
        except IntegrityError:
            raise ActionRefused(_("This is already waiting for approval."), "pending") from None
        ApprovalStep.objects.bulk_create(
            ApprovalStep(request=request, position=n, approver_id=approver,
                         status=(ApprovalStep.Status.CURRENT if n == 1
                                 else ApprovalStep.Status.WAITING))
            for n, approver in enumerate(chain, start=1))
        row.status = row.Status.PENDING_APPROVAL
        row.save(update_fields=["status"])
        params = _subject_params(subject, row)
        url = _subject_url(subject, pk)
        transaction.on_commit(lambda: notify_many([Message(
            chain[0], "approval_requested", params, url, key=f"approval:{request.pk}:1")]))
    return request


def approval_decide(*, step_id: int, user, approve: bool, comment: str = "") -> ApprovalStep:
    """Approve or reject the step waiting for ``user``.

    The request row is locked first and the step moves with a conditional UPDATE (only
    from ``current``, only by its approver), so a double click or two approvers at once
    decide it exactly once; the loser gets a clear refusal.
    """
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError(_("Say why you reject it."), code="comment")
    with transaction.atomic():
        request_id = ApprovalStep.objects.filter(pk=step_id).values_list("request_id",
                                                                        flat=True).first()
        if request_id is None:
            raise ActionRefused(_("There is no such approval step."), "missing")
        request = ApprovalRequest.objects.select_for_update().get(pk=request_id)
        now = timezone.now()
        decided = ApprovalStep.objects.filter(
            pk=step_id, approver=user, status=ApprovalStep.Status.CURRENT,
            request__status=ApprovalRequest.Status.PENDING,
        ).update(status=(ApprovalStep.Status.APPROVED if approve
                         else ApprovalStep.Status.REJECTED), comment=comment, decided_at=now)
        if not decided:
            raise ActionRefused(_("This approval was already decided."), "decided")
        subject = request.subject
        pk = request.contract_id or request.order_id
        row = _subject_row(subject, pk, lock=True)
        params = {**_subject_params(subject, row), "by": actor_name(user), "comment": comment}
        url = _subject_url(subject, pk)
        messages: list[Message] = []
        if not approve:
            request.status, request.decided_at = ApprovalRequest.Status.REJECTED, now
            request.save(update_fields=["status", "decided_at"])
            ApprovalStep.objects.filter(request=request, status=ApprovalStep.Status.WAITING
                                        ).update(status=ApprovalStep.Status.SKIPPED)
            row.status = row.Status.DRAFT
            row.save(update_fields=["status"])
            messages.append(Message(request.submitted_by_id, "approval_rejected", params, url,
                                    key=f"approval:{request.pk}:done"))
        else:
            following = (ApprovalStep.objects.filter(request=request,
                                                     status=ApprovalStep.Status.WAITING)
                         .order_by("position").first())
            if following is not None:
                following.status = ApprovalStep.Status.CURRENT
                following.save(update_fields=["status"])
                messages.append(Message(following.approver_id, "approval_requested",
                                        _subject_params(subject, row), url,
                                        key=f"approval:{request.pk}:{following.position}"))
            else:
                request.status, request.decided_at = ApprovalRequest.Status.APPROVED, now
                request.save(update_fields=["status", "decided_at"])
                row.approved_at = now
                if subject == Subject.CONTRACT:
                    row.status = Contract.Status.ACTIVE
                else:
                    row.status = Order.Status.CONFIRMED
                row.signed_on = row.signed_on or timezone.localdate()
                row.save(update_fields=["status", "approved_at", "signed_on"])
                messages.append(Message(request.submitted_by_id, "approval_approved", params,
                                        url, key=f"approval:{request.pk}:done"))
        transaction.on_commit(lambda: notify_many(messages))
    return ApprovalStep.objects.get(pk=step_id)
