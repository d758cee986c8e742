"""QA reports: pass rate and average score by rep, team, inspector and violation type; hits
by word category; appeals and their outcomes; inspectors' agreement in calibration.

Every figure is scoped by the viewer's data boundary over the rep; a verdict overturned on
appeal counts as a pass. Each table is one grouped query (no row-by-row work).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Case, CharField, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from orgs.selectors import data_scope_for

from .calibration import Scored, agreement
from .categories import category_label
from .models import Appeal, CalibrationSession, Inspection, SensitiveHit, ViolationType

PASSED = Q(effective="pass")


@dataclass(frozen=True)
class Row:
    key: int | str | None
    label: str
    inspections: int
    passed: int
    average: float | None

    @property
    def pass_rate(self) -> float | None:
        return round(100 * self.passed / self.inspections, 1) if self.inspections else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _label(zh, en) -> str:
    return (en if _english() and en else zh) or "—"


def inspections_in(*, user, start: date, end: date):
    first, last = _bounds(start, end)
    queryset = Inspection.objects.filter(official=True, created_at__gte=first,
                                         created_at__lt=last)
    return data_scope_for(user).filter(queryset, owner_field="item__rep").annotate(
        effective=Case(When(state=Inspection.State.OVERTURNED, then=Value("pass")),
                       default=F("verdict"), output_field=CharField()))


def _grouped(queryset, key: str, zh: str, en: str) -> list[Row]:
    rows = (queryset.values(key, zh, en)
            .annotate(n=Count("pk", distinct=True), ok=Count("pk", filter=PASSED, distinct=True),
                      avg=Avg("percent"))
            .order_by(zh, key))
    return [Row(r[key], _label(r[zh], r[en]), r["n"], r["ok"],
                round(float(r["avg"]), 1) if r["avg"] is not None else None) for r in rows]


def by_rep(queryset) -> list[Row]:
    return _grouped(queryset, "item__rep", "item__rep__employee__name",
                    "item__rep__employee__name_en")


def by_team(queryset) -> list[Row]:
    return _grouped(queryset, "item__team", "item__team__name", "item__team__name_en")


def by_inspector(queryset) -> list[Row]:
    return _grouped(queryset, "inspector", "inspector__employee__name",
                    "inspector__employee__name_en")


def by_violation(queryset) -> list[Row]:
    rows = []
    for r in (queryset.filter(violations__isnull=False)
              .values("violations", "violations__name", "violations__name_en")
              .annotate(n=Count("pk"), ok=Count("pk", filter=PASSED), avg=Avg("percent"))
              .order_by("-n", "violations")):
        rows.append(Row(r["violations"], _label(r["violations__name"], r["violations__name_en"]),
                        r["n"], r["ok"], round(float(r["avg"]), 1) if r["avg"] else None))
    return rows


def hits_by_category(*, user, start: date, end: date) -> list[tuple[str, int]]:
    first, last = _bounds(start, end)
    hits = SensitiveHit.objects.filter(followup__created_at__gte=first,
                                       followup__created_at__lt=last)
    hits = data_scope_for(user).filter(hits, owner_field="followup__author")
    return [(category_label(r["category"]), r["n"]) for r in
            hits.values("category").annotate(n=Count("pk")).order_by("-n", "category")]


def appeal_outcomes(queryset) -> list[tuple[str, str, int]]:
    counts = dict(Appeal.objects.filter(inspection__in=queryset.values("pk"))
                  .values_list("status").annotate(n=Count("pk")))
    return [(code, str(label), counts.get(code, 0)) for code, label in Appeal.Status.choices]


def calibration_agreement(*, start: date, end: date) -> list[dict]:
    first, last = _bounds(start, end)
    sessions = list(CalibrationSession.objects.filter(created_at__gte=first, created_at__lt=last)
                    .order_by("-created_at")[:20])
    scored = (Inspection.objects.filter(calibration__in=sessions)
              .prefetch_related("scores"))
    by_session: dict[int, dict[int, list[Scored]]] = {}
    for inspection in scored:
        by_session.setdefault(inspection.calibration_id, {}).setdefault(
            inspection.item_id, []).append(Scored(
                inspection.inspector_id, inspection.percent,
                {s.item_id: s.score for s in inspection.scores.all()}))
    result = []
    for session in sessions:
        found = agreement(by_session.get(session.pk, {}), session.tolerance)
        result.append({"session": session, "compared": found.compared, "agreed": found.agreed,
                       "rate": round(100 * found.rate, 1) if found.rate is not None else None})
    return result


TABLES = {
    "rep": (_("Rep"), by_rep),
    "team": (_("Team"), by_team),
    "inspector": (_("Inspector"), by_inspector),
    "violation": (_("Violation type"), by_violation),
}


def qa_report(*, user, start: date, end: date) -> dict:
    queryset = inspections_in(user=user, start=start, end=end)
    tables = {code: (label, fn(queryset)) for code, (label, fn) in TABLES.items()}
    overall = queryset.aggregate(n=Count("pk"), ok=Count("pk", filter=PASSED),
                                 avg=Avg("percent"))
    return {"tables": tables, "overall": Row(None, "", overall["n"], overall["ok"],
                                             round(float(overall["avg"]), 1)
                                             if overall["avg"] is not None else None),
            "hits": hits_by_category(user=user, start=start, end=end),
            "appeals": appeal_outcomes(queryset),
            "agreement": calibration_agreement(start=start, end=end),
            "violation_types": ViolationType.objects.count()}
