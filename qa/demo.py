"""The QA step of ``seed_demo``: a scorecard built from the QA checklist dictionary,
violation types, one plan, the word scan of the demo's follow-ups and one night's
sampling — so the demo inspector has a queue the morning after seeding."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orgs.demo import DemoReport
from orgs.models import DictionaryItem

from .models import (
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
    return DemoReport(
        {"queue items": QueueItem.objects.count(),
         "sensitive-word hits": SensitiveHit.objects.count()},
        added=QueueItem.objects.count() > before)
