"""What every part of the pool engine shares: batch sizes and time budgets, the
notices it sends, the report of a run, the rules and caps it reads from configuration, and
the hand-off of pool arrivals to a Celery task.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.kinds import register as register_kind
from orgs.models import DictionaryItem

from ..engine import clock
from ..models import LeadPool, RecycleRule

BATCH = 5000
# Assignment takes bigger batches: each one re-reads, under the members' locks, every
# member's load (a count over all their open records, ~60 ms with 500 reps holding
# 100,000 leads), so fewer batches keep that a small share. ~0.8 s a batch on 2 cores,
# during which a member's own claim waits.
ASSIGN_BATCH = 20_000
OVERALL_CAP = getattr(settings, "LEADS_OWNED_CAP_PER_REP", 500)
# Routing re-checks the leads of the last few minutes on every run: a lead written by a
# transaction that committed late (an import batch) may carry an earlier pool-entry time
# than the last run saw.
ROUTING_OVERLAP = timedelta(minutes=5)
# A run of one pool stops starting new batches after this long (the rest waits for the
# next tick), well inside the tasks' time limits.
RUN_SECONDS = 40

register_kind("recycle_warning",
              _("“%(name)s” goes back to the pool on %(due)s (%(rule)s) unless you follow up."),
              icon="bi-hourglass-split")
register_kind("opportunity_recycle_warning",
              _("“%(name)s” goes back to the opportunity pool on %(due)s (%(rule)s) unless "
                "you follow up."),
              icon="bi-hourglass-split")
register_kind("lead_recycled",
              _("%(count)s of your leads went back to the pool (%(rule)s): %(names)s"),
              icon="bi-arrow-counterclockwise")
register_kind("opportunity_recycled",
              _("%(count)s of your opportunities went back to the opportunity pool (%(rule)s): "
                "%(names)s"),
              icon="bi-arrow-counterclockwise")
register_kind("reassigned_away",
              _("“%(name)s” was reassigned to a colleague: it was not contacted in time "
                "(%(rule)s)."),
              icon="bi-arrow-left-right")
register_kind("lead_assigned",
              _("%(count)s new leads were assigned to you from %(pool)s: %(names)s"),
              icon="bi-inbox")
register_kind("opportunity_assigned",
              _("%(count)s opportunities were assigned to you from %(pool)s: %(names)s"),
              icon="bi-inbox")
register_kind("extension_requested",
              _("%(rep)s asks for %(days)s more days on “%(name)s”: %(reason)s"),
              icon="bi-hourglass")
register_kind("extension_approved",
              _("Your request for more time on “%(name)s” was approved: it is now due on "
                "%(due)s. %(note)s"),
              icon="bi-hourglass-bottom")
register_kind("extension_rejected",
              _("Your request for more time on “%(name)s” was rejected. %(note)s"),
              icon="bi-hourglass-bottom")


@dataclass
class RunReport:
    """What one run moved (or, in a dry run, would move)."""

    dry_run: bool = False
    routed: Counter = field(default_factory=Counter)  # (from pool id, to pool id) → n
    assigned: Counter = field(default_factory=Counter)  # (pool id, user id) → n
    reassigned: Counter = field(default_factory=Counter)  # rule id → n
    recycled: Counter = field(default_factory=Counter)  # rule id → n
    dormant: int = 0
    warned: int = 0
    paused: int = 0
    resumed: int = 0
    unassigned: Counter = field(default_factory=Counter)  # pool id → waiting, nobody free
    skipped_pools: list[int] = field(default_factory=list)  # busy with another run

    def merge(self, other: RunReport) -> RunReport:
        for name in ("routed", "assigned", "reassigned", "recycled", "unassigned"):
            getattr(self, name).update(getattr(other, name))
        self.dormant += other.dormant
        self.warned += other.warned
        self.paused += other.paused
        self.resumed += other.resumed
        self.skipped_pools += other.skipped_pools
        return self

    @property
    def moved(self) -> int:
        return (sum(self.routed.values()) + sum(self.assigned.values())
                + sum(self.reassigned.values()) + sum(self.recycled.values()))


def clock_rules(pool_ids: Iterable[int], *, kinds: Iterable[str] | None = None
                ) -> dict[int, list[clock.ClockRule]]:
    """The active recycle rules of each pool, as the clock reads them (one query)."""
    rules: dict[int, list[clock.ClockRule]] = defaultdict(list)
    queryset = RecycleRule.objects.filter(pool_id__in=list(pool_ids), is_active=True)
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    for rule in queryset.order_by("order", "pk"):
        rules[rule.pool_id].append(to_clock_rule(rule))
    return rules


def to_clock_rule(rule: RecycleRule) -> clock.ClockRule:
    unit = timedelta(hours=1) if rule.unit == RecycleRule.Unit.HOURS else timedelta(days=1)
    offsets = []
    for hours in rule.warn_offsets or []:
        try:
            offsets.append(timedelta(hours=float(hours)))
        except (TypeError, ValueError):
            continue
    return clock.ClockRule(
        id=rule.pk or 0, kind=rule.kind, period=unit * rule.threshold,
        exclude_grades=frozenset(rule.exclude_grades or ()),
        exclude_starred=rule.exclude_starred,
        exclude_statuses=frozenset(rule.exclude_statuses or ()),
        warn_offsets=tuple(sorted(offsets, reverse=True)), order=rule.order,
    )


def grade_caps() -> dict[str, int]:
    """Most records of each grade one rep may hold (``cap_per_rep`` in the grade dictionary)."""
    caps = {}
    for code, extra in DictionaryItem.objects.active().of("customer_grade").values_list(
            "code", "extra"):
        cap = (extra or {}).get("cap_per_rep")
        if isinstance(cap, int) and cap >= 0:
            caps[code] = cap
    return caps


def followup_qualifies(pool: LeadPool, *, kind: str, outcome: str, content: str) -> bool:
    """Whether a follow-up counts as contact for ``pool``'s recycle clock."""
    return clock.qualifies(kind=kind, outcome=outcome, content=content,
                           types=pool.qualifying_types or (),
                           outcomes=pool.qualifying_outcomes or (),
                           min_length=pool.qualifying_min_length)


def local_text(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
def schedule_arrivals(pool_ids: Iterable[int]) -> None:
    """Records entered these pools: route and assign them now (a Celery task after
    commit)."""
    from ..tasks import pool_arrivals

    for pool_id in sorted(set(pool_ids)):
        pool_arrivals.delay(pool_id)
