"""Candidates: a pool's roster, the members' weights and loads, the records an
assignment may hand out, the caps and the cool-down after a rep released a record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from orgs.models import Employee

from ..engine import strategies
from ..models import LeadPool, PoolMember
from ..subjects import Subject
from .claims import lock_reps
from .config import OVERALL_CAP, grade_caps


def pool_claimer_ids(pool: LeadPool) -> list[int]:
    """Users who may claim from ``pool`` (for pools without an explicit member list)."""
    from ..permissions import claimer_ids

    return sorted(claimer_ids([pool])[pool.pk])


def _roster(pool: LeadPool) -> list[PoolMember]:
    """The pool's member list; without one, the reps who may claim from the pool (people
    whose roles open no manager page: managers and directors are not handed leads)."""
    members = list(pool.members.all())
    if members:
        return members
    from orgs.rights import Entry
    from orgs.selectors import rights_for

    users = get_user_model().objects.filter(pk__in=pool_claimer_ids(pool))
    return [PoolMember(pool=pool, user_id=u.pk) for u in users
            if not rights_for(u).opens(Entry.MANAGER_HOME)]


def member_weights(pool: LeadPool, members: list[PoolMember], now: datetime) -> dict[int, int]:
    if pool.strategy != LeadPool.Strategy.WEIGHTED or pool.weight_source == "configured":
        return {m.user_id: m.weight for m in members}
    from ..weights import scores

    return strategies.weights_from_scores(
        scores(pool.weight_source, [m.user_id for m in members], since=now - timedelta(days=30)))


@dataclass(frozen=True)
class Roster:
    """Who receives a pool's leads and with what weight: read once per run."""

    members: list[PoolMember]
    weights: dict[int, int]


def read_roster(pool: LeadPool, now: datetime) -> Roster:
    members = _roster(pool)
    return Roster(members, member_weights(pool, members, now) if members else {})


def load_candidates(pool: LeadPool, subject: Subject, *, lock: bool, now: datetime,
                    roster: Roster | None = None) -> list[strategies.Candidate]:
    """The pool's members with their availability and current loads.

    With ``lock`` the members' user rows are locked first (id order), as a claim locks its
    claimer, so that loads cannot change under the decision. ``roster`` is the run's
    (read here when not given); loads and availability are always read afresh.
    """
    roster = roster or read_roster(pool, now)
    weights, members = roster.weights, roster.members
    user_ids = sorted({m.user_id for m in members})
    if not user_ids:
        return []
    if lock:
        # The same lock, in the same (id) order, a claim takes on its claimer.
        lock_reps(user_ids)
    available = set(
        Employee.objects.filter(user_id__in=user_ids, status=Employee.Status.ACTIVE,
                                user__is_active=True).values_list("user_id", flat=True))
    caps = grade_caps()
    loads = subject.model.objects.filter(owner_id__in=user_ids,
                                         status__in=subject.open_statuses)
    # Both loads in one pass over the members' open records.
    totals, in_pool = {}, {}
    for owner, total, here in (loads.values_list("owner_id")
                               .annotate(n=Count("pk"), here=Count("pk", filter=Q(
                                   pool_id=pool.pk)))
                               .values_list("owner_id", "n", "here")):
        totals[owner], in_pool[owner] = total, here
    by_grade: dict[int, dict[str, int]] = defaultdict(dict)
    if caps:
        for owner, grade, n in (loads.filter(**{f"{subject.grade_path}__in": list(caps)})
                                .values_list("owner_id", subject.grade_path)
                                .annotate(n=Count("pk"))
                                .values_list("owner_id", subject.grade_path, "n")):
            by_grade[owner][grade] = n
    return [
        strategies.Candidate(
            user_id=m.user_id, weight=weights.get(m.user_id, m.weight),
            swrr_current=m.swrr_current, open_total=totals.get(m.user_id, 0),
            open_in_pool=in_pool.get(m.user_id, 0), open_by_grade=by_grade.get(m.user_id, {}),
            regions=frozenset(m.regions or ()), categories=frozenset(m.categories or ()),
            available=m.is_active and m.user_id in available,
        )
        for m in members
    ]


def pool_caps(pool: LeadPool) -> strategies.Caps:
    return strategies.Caps(pool_cap=pool.owned_cap, overall_cap=OVERALL_CAP,
                           grade_caps=grade_caps())
