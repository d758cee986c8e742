"""Writes of the pipeline: stage moves (board drag, keyboard, detail page), won / lost,
and taking opportunities out of the opportunity pool (claim, manual assignment).

A stage move is an optimistic, versioned write: the mover sends the version their board
showed; ``UPDATE … WHERE id = %s AND version = %s`` either wins (the version goes up and a
stage-change row is written in the same transaction) or changes nothing, and the mover is
told who moved the card meanwhile. Two people moving the same card at once therefore never
lose a stage change, and the history stays complete and ordered.

Progress to a later open stage counts as qualifying activity for the recycle clock
(``last_qualified_at``), and the due time is recomputed by the rule engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import LeadPool
from leads.permissions import pool_allows
from leads.pools.claims import check_caps, check_cooldown, lock_reps, take
from leads.pools.due import refresh_due
from opportunities.subjects import OPPORTUNITIES
from orgs.models import Employee
from orgs.selectors import data_scope_for

from .. import stages as stage_dictionary
from ..models import Opportunity, OpportunityEvent, OpportunityStageChange


class OpportunityActionRefused(Exception):
    """An action the user may not take now; ``message`` says why, in their language."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _display(user_id: int | None) -> str:
    if user_id is None:
        return "—"
    employee = Employee.objects.filter(user_id=user_id).only("name", "name_en").first()
    if employee:
        return employee.display_name
    return get_user_model().objects.filter(pk=user_id).values_list(
        "username", flat=True).first() or "—"


def _audit(instance, changes: dict, actor) -> None:
    LogEntry.objects.log_create(instance, force_log=True, action=LogEntry.Action.UPDATE,
                                changes=changes,
                                actor=actor if getattr(actor, "is_authenticated", False)
                                else None)


def may_move(user, opportunity: Opportunity) -> bool:
    """The owner, or someone whose data scope covers the owner, moves an owned opportunity."""
    if opportunity.owner_id is None:
        return False
    if opportunity.owner_id == user.pk:
        return True
    scope = data_scope_for(user)
    return scope.sees_all or Opportunity.objects.filter(
        scope.owners_q("owner"), pk=opportunity.pk).exists()


def opportunity_move(*, opportunity_id: int, user, to_stage: str, version: int,
                     lost_reason: str = "", note: str = "") -> Opportunity:
    """Move an opportunity to ``to_stage`` if nobody moved it since ``version``.

    A closing stage sets won / lost (lost needs a reason from the dictionary); a move back
    to an open stage reopens it. Raises ``OpportunityActionRefused`` (code ``stale`` when
    the card moved meanwhile).
    """
    found = stage_dictionary.stage_map()
    target = found.get(to_stage)
    if target is None:
        raise OpportunityActionRefused(_("Choose a stage from the list."), "invalid")
    if target.closed == "lost":
        reasons = {code for code, _label in stage_dictionary.lost_reasons()}
        if lost_reason not in reasons:
            raise OpportunityActionRefused(_("Choose why the opportunity was lost."),
                                           "reason_required")
    else:
        lost_reason = ""
    with transaction.atomic():
        current = Opportunity.objects.filter(pk=opportunity_id).first()
        if current is None or not may_move(user, current):
            raise OpportunityActionRefused(_("You may not move this opportunity."),
                                           "forbidden")
        if current.version != version:
            raise _stale(current, found)
        if current.stage == to_stage:
            raise OpportunityActionRefused(
                _("The opportunity is already at %(stage)s.") % {"stage": target.label},
                "unchanged")
        now = timezone.now()
        changes = {"stage": to_stage, "stage_changed_at": now, "version": F("version") + 1,
                   "lost_reason": lost_reason}
        if target.closed:
            changes.update(status=(Opportunity.Status.WON if target.closed == "won"
                                   else Opportunity.Status.LOST),
                           closed_at=now, recycle_due_at=None, recycle_rule=None,
                           recycle_warn_at=None)
        else:
            changes.update(status=Opportunity.Status.OPEN, closed_at=None)
            previous = found.get(current.stage)
            if previous is None or previous.closed or target.order > previous.order:
                # Progress (or a reopening) counts as qualifying activity.
                changes["last_qualified_at"] = now
        # The optimistic check: nobody moved it since the mover's board was drawn.
        moved = Opportunity.objects.filter(pk=current.pk, version=version).update(**changes)
        if moved != 1:
            current.refresh_from_db()
            raise _stale(current, found)
        OpportunityStageChange.objects.create(
            opportunity=current, from_stage=current.stage, to_stage=to_stage, changed_by=user,
            changed_at=now, time_in_stage=now - current.stage_changed_at)
        if not target.closed:
            refresh_due(OPPORTUNITIES, ids=[current.pk], now=now)
        from_stage = current.stage
        current.refresh_from_db()
        _audit(current, {"stage": [from_stage, to_stage],
                         **({"lost_reason": ["", lost_reason]} if lost_reason else {}),
                         **({"note": ["", note]} if note else {})}, user)
    return current


def _stage_label(found, code: str) -> str:
    stage = found.get(code)
    return stage.label if stage else code


def _stale(current: Opportunity, found) -> OpportunityActionRefused:
    last = (OpportunityStageChange.objects.filter(opportunity=current)
            .order_by("-changed_at", "-pk").values_list("changed_by_id", flat=True).first())
    return OpportunityActionRefused(
        _("Someone moved this opportunity meanwhile: %(name)s put it at %(stage)s. "
          "The board was refreshed; try again if you still want to move it.")
        % {"name": _display(last), "stage": _stage_label(found, current.stage)},
        "stale")


# --- the opportunity pool ------------------------------------------------------------------


def _check_caps(user_id: int, pool: LeadPool, grades: Sequence[str], *, adding: int,
                claiming: bool, who: str) -> None:
    """The same caps as leads: the pool's, the overall cap, the pool's daily claim limit
    (claims only) and the customer-grade caps."""
    check_caps(OPPORTUNITIES, user_id, pool, adding=adding, claiming=claiming, who=who,
               grades=grades, refused=OpportunityActionRefused)


def opportunity_claim(*, opportunity_id: int, user) -> Opportunity:
    """A rep takes an opportunity from the opportunity pool; one of several claimers wins."""
    with transaction.atomic():
        lock_reps([user.pk])
        opportunity = (Opportunity.objects.select_related("pool", "customer")
                       .filter(pk=opportunity_id).first())
        if opportunity is None or opportunity.pool is None or not pool_allows(
                user, opportunity.pool, "claim_from_pool"):
            raise OpportunityActionRefused(_("You may not claim from this pool."), "forbidden")
        if opportunity.owner_id is not None or opportunity.status != Opportunity.Status.IN_POOL:
            if opportunity.owner_id == user.pk:
                raise OpportunityActionRefused(_("This opportunity is already yours."),
                                               "already_yours")
            raise OpportunityActionRefused(
                _("Someone was faster: %(name)s has just taken this opportunity.")
                % {"name": _display(opportunity.owner_id)}, "taken")
        check_cooldown(OPPORTUNITIES, opportunity.pool, opportunity.pk, user.pk,
                       refused=OpportunityActionRefused)
        _check_caps(user.pk, opportunity.pool, [opportunity.customer.grade], adding=1,
                    claiming=True, who=_("You"))
        if not take(OPPORTUNITIES, record=opportunity, user=user, now=timezone.now()):
            raise OpportunityActionRefused(_("This opportunity is no longer in the pool."),
                                           "taken")
    opportunity.refresh_from_db()
    return opportunity


def opportunity_assign(*, opportunity_ids: Sequence[int], to_user_id: int, actor) -> int:
    """A manager hands pool opportunities to a rep; ones someone took meanwhile are skipped."""
    employee = Employee.objects.select_related("user").filter(user_id=to_user_id).first()
    if employee is None or employee.status != Employee.Status.ACTIVE or not employee.user.is_active:
        raise OpportunityActionRefused(_("Opportunities can only go to an active employee."),
                                       "inactive")
    in_scope = data_scope_for(actor).users().filter(pk=to_user_id).exists()
    with transaction.atomic():
        lock_reps([to_user_id])
        rows = list(Opportunity.objects.select_for_update(of=("self",))
                    .select_related("pool", "customer")
                    .filter(pk__in=list(opportunity_ids), owner__isnull=True,
                            status=Opportunity.Status.IN_POOL, pool__isnull=False)
                    .order_by("pk"))
        for pool in {row.pool for row in rows}:
            if not pool_allows(actor, pool, "assign_from_pool"):
                raise OpportunityActionRefused(
                    _("You may not assign opportunities from %(pool)s.")
                    % {"pool": pool.display_name}, "forbidden")
            if not in_scope and not pool_allows(employee.user, pool, "claim_from_pool"):
                raise OpportunityActionRefused(
                    _("%(name)s is outside your scope and cannot work opportunities of "
                      "%(pool)s.") % {"name": employee.display_name, "pool": pool.display_name},
                    "forbidden")
            _check_caps(to_user_id, pool, [r.customer.grade for r in rows if r.pool_id == pool.pk],
                        adding=sum(1 for r in rows if r.pool_id == pool.pk), claiming=False,
                        who=employee.display_name)
        now = timezone.now()
        ids = [row.pk for row in rows]
        Opportunity.objects.filter(pk__in=ids).update(
            owner_id=to_user_id, status=Opportunity.Status.OPEN, assigned_at=now,
            recycle_grace=timedelta(0), clock_paused_at=None)
        OpportunityEvent.objects.bulk_create(
            OpportunityEvent(opportunity=row, kind=OpportunityEvent.Kind.ASSIGNED, actor=actor,
                             to_owner_id=to_user_id, from_pool=row.pool, to_pool=row.pool,
                             reason="manual", created_at=now)
            for row in rows)
        refresh_due(OPPORTUNITIES, ids=ids, now=now)
    return len(ids)


def pool_counts(pool_ids: Sequence[int]) -> dict[int, int]:
    """Waiting opportunities per pool (one grouped query)."""
    return dict(Opportunity.objects.filter(pool_id__in=list(pool_ids), owner__isnull=True,
                                           status=Opportunity.Status.IN_POOL)
                .values_list("pool_id").annotate(n=Count("pk")).values_list("pool_id", "n"))


