"""Calibration: several inspectors score the same items blind; how far apart they are.

``agreement`` is pure: given each inspector's totals and item scores per queue item, it
says which items the inspectors agree on (totals within the session's tolerance) and, per
scorecard item, how often they scored it differently.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .inspections import (
    QARefused,
    _check_scores,
    compute_score,
    is_qa_lead,
    version_items,
)
from .models import (
    CalibrationSession,
    Inspection,
    InspectionPlan,
    ItemScore,
    QAEvent,
    QueueItem,
)
from .sampling import inspector_ids


@dataclass(frozen=True)
class Scored:
    inspector: int
    percent: Decimal
    scores: dict[int, int]  # scorecard item → score


@dataclass
class Agreement:
    compared: int = 0  # queue items scored by two inspectors or more
    agreed: int = 0
    spread: dict[int, Decimal] = field(default_factory=dict)  # queue item → max - min total
    disagreement: dict[int, float] = field(default_factory=dict)  # scorecard item → share

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def agreement(by_item: dict[int, list[Scored]], tolerance: int) -> Agreement:
    result = Agreement()
    differing, seen = defaultdict(int), defaultdict(int)
    for item, scored in by_item.items():
        if len(scored) < 2:
            continue
        result.compared += 1
        totals = [s.percent for s in scored]
        result.spread[item] = max(totals) - min(totals)
        result.agreed += result.spread[item] <= tolerance
        for point in set().union(*(s.scores for s in scored)):
            values = {s.scores[point] for s in scored if point in s.scores}
            seen[point] += 1
            differing[point] += len(values) > 1
    result.disagreement = {point: differing[point] / seen[point] for point in seen}
    return result


def calibration_create(*, user, name: str, item_count: int, inspector_user_ids,
                       tolerance: int = 10, days: int = 14, seed: int | None = None
                       ) -> CalibrationSession:
    """A QA lead picks ``item_count`` recent queue items at random for the chosen
    inspectors to score blind."""
    if not is_qa_lead(user):
        raise QARefused(_("Only a QA lead runs calibration."), "forbidden")
    inspectors = sorted(set(inspector_user_ids))
    if len(inspectors) < 2:
        raise QARefused(_("Choose at least two inspectors."), "invalid")
    if not (name or "").strip() or not 1 <= item_count <= 50:
        raise QARefused(_("Name the session and pick 1 to 50 items."), "invalid")
    since = timezone.localdate() - timedelta(days=days)
    pool = list(QueueItem.objects.filter(day__gte=since).exclude(rep_id__in=inspectors)
                .order_by("pk").values_list("pk", "plan__scorecard_id"))
    if not pool:
        raise QARefused(_("No recent items to calibrate on."), "invalid")
    chosen = random.Random(seed).sample(pool, min(item_count, len(pool)))
    scorecard_id = chosen[0][1]
    chosen = [pk for pk, card in chosen if card == scorecard_id]
    with transaction.atomic():
        version = (QueueItem.objects.get(pk=chosen[0]).plan.scorecard.current_version())
        session = CalibrationSession.objects.create(
            name=name.strip(), version=version, tolerance=tolerance, created_by=user)
        session.items.set(chosen)
        session.inspectors.set(inspectors)
        QAEvent.objects.create(kind=QAEvent.Kind.CONFIGURED, actor=user,
                               detail={"calibration": session.pk, "items": chosen,
                                       "inspectors": inspectors})
    return session


def calibration_score(*, session_id: int, item_id: int, inspector, scores: dict[int, int],
                      verdict: str, comment: str = "") -> Inspection:
    """An inspector's blind score of one calibration item (never a verdict for the rep)."""
    if verdict not in Inspection.Verdict.values:
        raise QARefused(_("Choose a verdict: pass, fail or needs coaching."), "invalid")
    with transaction.atomic():
        session = CalibrationSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or not session.inspectors.filter(pk=inspector.pk).exists() \
                or not session.items.filter(pk=item_id).exists():
            raise QARefused(_("This item is not yours to calibrate."), "forbidden")
        if Inspection.objects.filter(calibration=session, item_id=item_id,
                                     inspector=inspector).exists():
            raise QARefused(_("You have already scored this item."), "done")
        items = version_items(session.version)
        clean = _check_scores(items, scores)
        score = compute_score(items, clean)
        inspection = Inspection.objects.create(
            item_id=item_id, inspector=inspector, version=session.version, calibration=session,
            official=False, percent=score.percent, critical_failed=score.critical_failed,
            verdict=Inspection.Verdict.FAIL if score.critical_failed else verdict,
            comment=(comment or "").strip())
        ItemScore.objects.bulk_create(ItemScore(inspection=inspection, item_id=pk, score=v)
                                      for pk, v in clean.items())
        QAEvent.objects.create(kind=QAEvent.Kind.CALIBRATED, actor=inspector, item_id=item_id,
                               inspection=inspection, detail={"calibration": session.pk})
    return inspection


def session_view(*, session: CalibrationSession, user) -> dict:
    """What the session page shows ``user``: the items, and — for a QA lead, or an inspector
    who has scored every item — everyone's scores side by side with the agreement."""
    items = list(session.items.select_related("followup", "rep__employee").order_by("pk"))
    inspectors = list(session.inspectors.select_related("employee").order_by("pk"))
    scored = list(Inspection.objects.filter(calibration=session).prefetch_related("scores"))
    mine = {i.item_id for i in scored if i.inspector_id == user.pk}
    reveal = is_qa_lead(user) or (mine and len(mine) == len(items))
    by_item: dict[int, list[Scored]] = defaultdict(list)
    cells: dict[tuple[int, int], Inspection] = {}
    for inspection in scored:
        cells[(inspection.item_id, inspection.inspector_id)] = inspection
        by_item[inspection.item_id].append(Scored(
            inspection.inspector_id, inspection.percent,
            {s.item_id: s.score for s in inspection.scores.all()}))
    result = agreement(by_item, session.tolerance)
    points = version_items(session.version)
    rows = [{"item": item, "mine": item.pk in mine, "spread": result.spread.get(item.pk),
             "cells": [cells.get((item.pk, i.pk)) for i in inspectors]} for item in items]
    return {"session": session, "rows": rows, "inspectors": inspectors, "reveal": reveal,
            "agreement": result,
            "points": [(p, result.disagreement.get(p.pk)) for p in points]}


def eligible_inspectors():
    """Who can be asked to calibrate: the inspectors of the active plans."""
    found: set[int] = set()
    for plan in InspectionPlan.objects.filter(is_active=True):
        found.update(inspector_ids(plan))
    return get_user_model().objects.filter(pk__in=found).select_related("employee") \
        .order_by("pk")
