"""Writes of quality inspection: scoring an item, appeals and their decisions.

Each is one atomic function that locks what it changes, writes a ``QAEvent`` in the same
transaction and tells the people concerned (notifications are rows in the same
transaction, so nobody hears of a verdict that rolled back). A verdict changes the engine:
a fail on a critical item makes the follow-up stop counting as contact and recomputes the
record's recycle clock; a fail with a *recycle now* violation sends the lead back to its
pool. An appeal overturned undoes exactly what the verdict did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads import corrections
from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many
from orgs.models import Role
from orgs.rights import Operation
from orgs.selectors import holders_of_role, rights_for

from .models import (
    Appeal,
    Inspection,
    ItemScore,
    QAEvent,
    QueueItem,
    ScorecardItem,
    ScorecardVersion,
    ViolationType,
)

register_kind("qa_result", gettext_lazy("Quality inspection of your follow-up of %(day)s: "
                                        "%(verdict)s (%(percent)s%%)"),
              icon="bi-clipboard-check")
register_kind("qa_appeal_filed", gettext_lazy("%(rep)s appeals an inspection: %(reason)s"),
              icon="bi-megaphone")
register_kind("qa_appeal_decided", gettext_lazy("Your appeal was decided: %(outcome)s"),
              icon="bi-clipboard-check")

VERDICT_WORDS = {
    "pass": {"zh-hans": "通过", "en": "pass"},
    "fail": {"zh-hans": "不通过", "en": "fail"},
    "coaching": {"zh-hans": "需辅导", "en": "needs coaching"},
}
OUTCOME_WORDS = {
    "upheld": {"zh-hans": "维持原判", "en": "upheld"},
    "overturned": {"zh-hans": "已撤销", "en": "overturned"},
}


class QARefused(Exception):
    """An action refused; ``message`` says why in the user's language."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Score:
    percent: Decimal
    critical_failed: bool


def compute_score(items: list[ScorecardItem], scores: dict[int, int]) -> Score:
    """Weighted share of the maximum, and whether a critical item scored 0. Pure."""
    top = sum(item.weight * item.max_score for item in items)
    got = sum(item.weight * scores[item.pk] for item in items)
    percent = (Decimal(got * 100) / Decimal(top)) if top else Decimal(0)
    return Score(percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                 any(item.critical and scores[item.pk] == 0 for item in items))


def version_items(version: ScorecardVersion) -> list[ScorecardItem]:
    return list(ScorecardItem.objects.filter(section__version=version)
                .select_related("section").order_by("section__order", "order", "pk"))


def _check_scores(items: list[ScorecardItem], scores: dict[int, int]) -> dict[int, int]:
    clean = {}
    for item in items:
        value = scores.get(item.pk)
        if value is None:
            raise QARefused(_("Score every item: “%(item)s” has no score.")
                            % {"item": item.display_label}, "invalid")
        if not 0 <= value <= item.max_score:
            raise QARefused(_("“%(item)s” is scored from 0 to %(top)d.")
                            % {"item": item.display_label, "top": item.max_score}, "invalid")
        clean[item.pk] = value
    return clean


def is_qa_lead(user) -> bool:
    return rights_for(user).can(Operation.QA_LEAD)


def inspection_submit(*, item_id: int, inspector, scores: dict[int, int], verdict: str,
                      violation_ids=(), comment: str = "", now=None) -> Inspection:
    """The assigned inspector scores a queue item.

    A critical item scored 0 fails the inspection whatever the verdict chosen; a verdict
    other than fail needs the pass mark. Refused when the item is not theirs or already
    inspected (two tabs, a double click: exactly one inspection is written).
    """
    if verdict not in Inspection.Verdict.values:
        raise QARefused(_("Choose a verdict: pass, fail or needs coaching."), "invalid")
    now = now or timezone.now()
    with transaction.atomic():
        item = (QueueItem.objects.select_for_update(of=("self",))
                .select_related("plan__scorecard", "followup").filter(pk=item_id).first())
        if item is None or item.assignee_id != inspector.pk:
            raise QARefused(_("This item is not in your queue."), "forbidden")
        if item.status != QueueItem.Status.OPEN:
            raise QARefused(_("This item has already been inspected."), "done")
        version = item.plan.scorecard.current_version()
        if version is None:
            raise QARefused(_("The plan's scorecard has no published version."), "invalid")
        items = version_items(version)
        clean = _check_scores(items, scores)
        score = compute_score(items, clean)
        if score.critical_failed:
            verdict = Inspection.Verdict.FAIL
        elif verdict != Inspection.Verdict.FAIL and score.percent < version.pass_mark:
            raise QARefused(_("The score is below the pass mark (%(mark)s%%): the verdict "
                              "must be fail.") % {"mark": version.pass_mark}, "invalid")
        violations = list(ViolationType.objects.filter(pk__in=list(violation_ids),
                                                       is_active=True))
        if verdict == Inspection.Verdict.PASS and violations:
            raise QARefused(_("A passed inspection has no violations."), "invalid")
        inspection = Inspection.objects.create(
            item=item, inspector=inspector, version=version, percent=score.percent,
            critical_failed=score.critical_failed, verdict=verdict,
            comment=(comment or "").strip(), created_at=now)
        inspection.violations.set(violations)
        ItemScore.objects.bulk_create(ItemScore(inspection=inspection, item_id=pk, score=value)
                                      for pk, value in clean.items())
        QueueItem.objects.filter(pk=item.pk).update(status=QueueItem.Status.DONE)
        _apply_consequences(inspection, item, violations, inspector, now)
        QAEvent.objects.create(kind=QAEvent.Kind.INSPECTED, actor=inspector, item=item,
                               inspection=inspection, created_at=now,
                               detail={"verdict": verdict, "percent": str(score.percent),
                                       "critical_failed": score.critical_failed,
                                       "violations": [v.code for v in violations],
                                       "disqualified": inspection.disqualified,
                                       "recycled": inspection.recycled})
        notify_many([Message(item.rep_id, "qa_result",
                             {"day": timezone.localtime(item.followup.created_at)
                              .strftime("%Y-%m-%d"),
                              "verdict": VERDICT_WORDS[verdict], "percent": str(score.percent)},
                             url=reverse("qa_results"), key=f"qa-result:{inspection.pk}")])
    return inspection


def _apply_consequences(inspection: Inspection, item: QueueItem, violations, actor, now):
    if inspection.verdict != Inspection.Verdict.FAIL:
        return
    changed = []
    if inspection.critical_failed and corrections.followup_set_qualifying(
            followup_id=item.followup_id, qualifies=False, now=now):
        inspection.disqualified = True
        changed.append("disqualified")
    recycle = item.followup.lead_id and any(v.recycle_now for v in violations)
    if recycle and corrections.lead_recycle_now(
            lead_id=item.followup.lead_id, owner_id=item.rep_id, actor=actor,
            note=_("Quality inspection"), now=now):
        inspection.recycled = True
        changed.append("recycled")
    if changed:
        inspection.save(update_fields=changed)


def appeal_deadline(inspection: Inspection):
    return inspection.created_at + timedelta(days=inspection.item.plan.appeal_days)


def appeal_file(*, inspection_id: int, rep, reason: str, now=None) -> Appeal:
    """The rep appeals a failed inspection of their own follow-up, within the plan's days."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise QARefused(_("Say why you appeal."), "invalid")
    with transaction.atomic():
        inspection = (Inspection.objects.select_for_update(of=("self",))
                      .select_related("item__plan").filter(pk=inspection_id, official=True)
                      .first())
        if inspection is None or inspection.item.rep_id != rep.pk:
            raise QARefused(_("You can appeal only inspections of your own follow-ups."),
                            "forbidden")
        if inspection.verdict != Inspection.Verdict.FAIL:
            raise QARefused(_("Only a failed inspection can be appealed."), "invalid")
        if inspection.state != Inspection.State.FINAL or Appeal.objects.filter(
                inspection=inspection).exists():
            raise QARefused(_("This inspection has already been appealed."), "done")
        if now > appeal_deadline(inspection):
            raise QARefused(_("The appeal period of %(days)d days has ended.")
                            % {"days": inspection.item.plan.appeal_days}, "late")
        appeal = Appeal.objects.create(inspection=inspection, rep=rep, reason=reason,
                                       created_at=now)
        Inspection.objects.filter(pk=inspection.pk).update(state=Inspection.State.APPEALED)
        QAEvent.objects.create(kind=QAEvent.Kind.APPEALED, actor=rep, item=inspection.item,
                               inspection=inspection, created_at=now,
                               detail={"reason": reason})
        name = getattr(getattr(rep, "employee", None), "name", "") or rep.get_username()
        notify_many(Message(lead_id, "qa_appeal_filed", {"rep": name, "reason": reason[:80]},
                            url=reverse("qa_appeals"), key=f"qa-appeal:{appeal.pk}:{lead_id}")
                    for lead_id in qa_lead_ids())
    return appeal


def qa_lead_ids() -> list[int]:
    """Who decides appeals: everyone active holding the QA-lead right (superusers too)."""
    found = set(get_user_model().objects.filter(is_superuser=True, is_active=True)
                .values_list("pk", flat=True))
    for role in Role.objects.filter(is_active=True, operations__contains=[Operation.QA_LEAD]):
        found.update(holders_of_role(role).filter(user__is_active=True)
                     .values_list("user_id", flat=True))
    return sorted(found)


def appeal_decide(*, appeal_id: int, user, overturn: bool, comment: str = "",
                  now=None) -> Appeal:
    """A QA lead upholds or overturns an open appeal. Overturning undoes what the verdict
    did to the engine: the follow-up counts again (clock recomputed) and a lead sent back
    by the verdict returns to the rep if it is still in its pool."""
    if not is_qa_lead(user):
        raise QARefused(_("Only a QA lead decides appeals."), "forbidden")
    now = now or timezone.now()
    with transaction.atomic():
        appeal = (Appeal.objects.select_for_update(of=("self",))
                  .select_related("inspection__item__followup").filter(pk=appeal_id).first())
        if appeal is None:
            raise QARefused(_("No such appeal."), "forbidden")
        if appeal.status != Appeal.Status.OPEN:
            raise QARefused(_("This appeal has already been decided."), "done")
        inspection = appeal.inspection
        if inspection.inspector_id == user.pk:
            raise QARefused(_("You scored this inspection; another QA lead decides its "
                              "appeal."), "forbidden")
        item = inspection.item
        status = Appeal.Status.OVERTURNED if overturn else Appeal.Status.UPHELD
        Appeal.objects.filter(pk=appeal.pk).update(status=status, decided_by=user,
                                                   decided_at=now,
                                                   decision_comment=(comment or "").strip())
        undone = {}
        if overturn:
            if inspection.disqualified:
                undone["requalified"] = corrections.followup_set_qualifying(
                    followup_id=item.followup_id, qualifies=True, now=now)
            if inspection.recycled and item.followup.lead_id:
                undone["returned"] = corrections.lead_recycle_undo(
                    lead_id=item.followup.lead_id, owner_id=item.rep_id, actor=user,
                    note=_("Appeal overturned"), now=now)
        Inspection.objects.filter(pk=inspection.pk).update(
            state=Inspection.State.OVERTURNED if overturn else Inspection.State.UPHELD)
        QAEvent.objects.create(kind=QAEvent.Kind.OVERTURNED if overturn else QAEvent.Kind.UPHELD,
                               actor=user, item=item, inspection=inspection, created_at=now,
                               detail={"comment": comment, **undone})
        notify_many([Message(appeal.rep_id, "qa_appeal_decided",
                             {"outcome": OUTCOME_WORDS[status]}, url=reverse("qa_results"),
                             key=f"qa-decided:{appeal.pk}")])
    appeal.refresh_from_db()
    return appeal
