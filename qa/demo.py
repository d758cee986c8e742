"""The QA step of ``seed_demo``: a scorecard built from the QA checklist dictionary,
violation types, one plan, the word scan of the demo's follow-ups and one night's
sampling — so the demo inspector has a queue the morning after seeding."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orgs.demo import DemoReport
from orgs.models import DictionaryItem

from .calibration import calibration_create, calibration_score
from .inspections import compute_score, inspection_submit, version_items
from .models import (
    CalibrationSession,
    Inspection,
    InspectionPlan,
    QueueItem,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    SensitiveHit,
    ViolationType,
)
from .sampling import queue_fill
from .scanning import rescan_all

# (section, English, checklist codes); items marked critical fail the whole inspection.
SECTIONS = [
    ("沟通规范", "Conduct", ["greeting", "no_overpromise"]),
    ("销售过程", "Selling", ["needs", "accuracy", "next_step"]),
    ("记录质量", "Record", ["record"]),
]
CRITICAL = {"no_overpromise", "accuracy"}
WEIGHTS = {"no_overpromise": 3, "accuracy": 2, "needs": 2}
SCALE = [
    {"score": 0, "meaning": "未做到", "meaning_en": "Not done"},
    {"score": 1, "meaning": "部分做到", "meaning_en": "Partly done"},
    {"score": 2, "meaning": "完全做到", "meaning_en": "Fully done"},
]
VIOLATIONS = [
    ("overpromise", "过度承诺", "Over-promising", False),
    ("rude", "态度恶劣", "Rude to the customer", False),
    ("private_deal", "私下交易", "Private dealing", True),
    ("false_record", "虚假记录", "False record", False),
]
# The demo's nights of sampling: the last few days, so the queue has some depth.
DEMO_NIGHTS = 3


def seed_scorecard() -> ScorecardVersion:
    scorecard, _ = Scorecard.objects.get_or_create(
        code="followup", defaults={"name": "跟进记录质检表", "name_en": "Follow-up scorecard"})
    version = scorecard.current_version()
    if version is not None:
        return version
    labels = {item.code: item for item in DictionaryItem.objects.of("qa_checklist")}
    version = ScorecardVersion.objects.create(scorecard=scorecard, number=1)
    for order, (name, name_en, codes) in enumerate(SECTIONS):
        section = ScorecardSection.objects.create(version=version, order=order, name=name,
                                                  name_en=name_en)
        for position, code in enumerate(codes):
            item = labels.get(code)
            ScorecardItem.objects.create(
                section=section, order=position, code=code,
                label=item.label if item else code, label_en=item.label_en if item else code,
                weight=WEIGHTS.get(code, 1), max_score=2, scale=SCALE,
                critical=code in CRITICAL)
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    return version


def _demo_scores(items, rng: random.Random) -> tuple[dict[int, int], str]:
    """Mostly full marks; some notes miss a step (coaching) or several (a non-critical
    fail) — the demo's verdicts leave the engine's recycle clocks as they are."""
    roll = rng.random()
    scores = {item.pk: item.max_score for item in items}
    if roll < 0.15:
        for item in items:
            if not item.critical:
                scores[item.pk] = 0
        return scores, Inspection.Verdict.FAIL
    if roll < 0.35:
        for item in items:
            if not item.critical and rng.random() < 0.2:
                scores[item.pk] = 1
        return scores, Inspection.Verdict.COACHING
    return scores, Inspection.Verdict.PASS


def inspect_older_items(*, before) -> int:
    """The inspector has worked through the queue of the nights before the last one."""
    done = 0
    for item in (QueueItem.objects.filter(status=QueueItem.Status.OPEN, day__lt=before,
                                          assignee__isnull=False)
                 .select_related("plan__scorecard", "assignee").order_by("pk")):
        version = item.plan.scorecard.current_version()
        items = version_items(version)
        rng = random.Random(item.pk)
        scores, verdict = _demo_scores(items, rng)
        score = compute_score(items, scores)
        if verdict == Inspection.Verdict.PASS and score.percent < version.pass_mark:
            verdict = Inspection.Verdict.FAIL
        if verdict == Inspection.Verdict.COACHING and score.percent < version.pass_mark:
            verdict = Inspection.Verdict.FAIL
        false_record = ViolationType.objects.filter(code="false_record").first()
        violations = [false_record.pk] if false_record and verdict == "fail" else []
        inspection_submit(item_id=item.pk, inspector=item.assignee, scores=scores,
                          verdict=verdict, violation_ids=violations,
                          comment="" if verdict == "pass" else "跟进记录不完整，请补充需求与下一步")
        done += 1
    return done


def seed_calibration() -> None:
    """One calibration session: the demo inspector and the administrator (who leads QA in
    the demo) have scored two of three items; the inspector's third is left to do."""
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    inspector = (QueueItem.objects.exclude(assignee=None).values_list("assignee", flat=True)
                 .first())
    if admin is None or inspector is None or CalibrationSession.objects.exists():
        return
    session = calibration_create(user=admin, name="本周校准", item_count=3,
                                 inspector_user_ids=[admin.pk, inspector], seed=7)
    items = version_items(session.version)
    rng = random.Random(11)
    inspector_user = get_user_model().objects.get(pk=inspector)
    for number, queued in enumerate(session.items.order_by("pk")):
        for who in (admin, inspector_user):
            if who is inspector_user and number == 2:
                continue
            scores = {item.pk: item.max_score if rng.random() < 0.8 else 1 for item in items}
            calibration_score(session_id=session.pk, item_id=queued.pk, inspector=who,
                              scores=scores, verdict=Inspection.Verdict.PASS
                              if compute_score(items, scores).percent >= 80
                              else Inspection.Verdict.FAIL)


def seed_demo() -> DemoReport:
    before = QueueItem.objects.count()
    with transaction.atomic():
        version = seed_scorecard()
        for code, name, name_en, recycle_now in VIOLATIONS:
            ViolationType.objects.get_or_create(
                code=code, defaults={"name": name, "name_en": name_en,
                                     "recycle_now": recycle_now})
        if not InspectionPlan.objects.exists():
            InspectionPlan.objects.create(
                name="每日抽检", name_en="Daily sample", scorecard=version.scorecard,
                period=InspectionPlan.Period.DAY, share_percent=20, min_per_rep=1,
                include_hits=True, include_lost=True, before_recycle=2, appeal_days=7)
    if not SensitiveHit.objects.exists():
        rescan_all()
    today = timezone.localdate()
    for back in range(DEMO_NIGHTS, 0, -1):
        queue_fill(day=today - timedelta(days=back))
    inspect_older_items(before=today - timedelta(days=1))
    seed_calibration()
    return DemoReport(
        {"queue items": QueueItem.objects.count(),
         "inspections": Inspection.objects.filter(official=True).count(),
         "sensitive-word hits": SensitiveHit.objects.count()},
        added=QueueItem.objects.count() > before)
