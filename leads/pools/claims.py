"""Taking a record out of a pool, for any pool subject (leads, opportunities): the rep
lock, the caps, the cool-down and the conditional take.

Every path that gives a rep records — a claim, a manager's assignment or transfer, the
engine's automatic assignment — locks the receiving reps with ``lock_reps`` first (user
rows, ``FOR NO KEY UPDATE``, in id order), so that one rep's parallel claims and an
assignment cannot slip past a cap together. Claims and manual assignments then check the
same caps with ``check_caps`` (the pool's cap, the overall cap, the pool's daily claim
limit for claims, the grade caps) and the pool's cool-down with ``check_cooldown``, and
take the record with ``take``: ``UPDATE … WHERE owner IS NULL``, checked by row count, its
event in the same transaction and its recycle clock started.

The checks raise the caller's refusal class (``LeadActionRefused``,
``OpportunityActionRefused``) with a message in the user's language and a stable code:
``pool_cap``, ``overall_cap``, ``daily_limit``, ``grade_cap``, ``cooldown``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.lib.bulk import array_literal

from ..models import LeadEvent, LeadPool
from ..subjects import Subject
from .config import OVERALL_CAP, grade_caps
from .due import refresh_due


def lock_reps(user_ids: Iterable[int]) -> None:
    """The rep lock: serialise everything that adds records to these reps.

    ``FOR NO KEY UPDATE``, in id order: it serialises these writers, yet lets foreign-key
    checks (rows that merely point at the user: events, notifications) through — a plain
    ``FOR UPDATE`` would make a sweep writing events deadlock with an assignment locking
    its reps.
    """
    ids = sorted(set(user_ids))
    if ids:
        list(get_user_model().objects.select_for_update(no_key=True).filter(pk__in=ids)
             .order_by("pk").values_list("pk", flat=True))


def start_of_today() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Load:
    """How many records of a subject a rep owns and has claimed today from a pool, against
    the caps that apply."""

    owned_in_pool: int
    owned_total: int
    claimed_today: int
    pool_cap: int | None
    overall_cap: int
    daily_limit: int | None


def rep_load(subject: Subject, user_id: int, pool: LeadPool) -> Load:
    owned = subject.model.objects.filter(
        owner_id=user_id, status__in=subject.open_statuses).aggregate(
        total=Count("pk"), in_pool=Count("pk", filter=Q(pool=pool)))
    claimed = subject.event_model.objects.filter(
        actor_id=user_id, kind=LeadEvent.Kind.CLAIMED, from_pool=pool,
        created_at__gte=start_of_today()).count()
    return Load(owned["in_pool"], owned["total"], claimed, pool.owned_cap, OVERALL_CAP,
                pool.daily_claim_limit)


def _texts(subject: Subject) -> dict[str, str]:
    if subject.code == "opportunity":
        return {
            "pool_cap": _("%(who)s already owns %(owned)d of the %(cap)d opportunities "
                          "allowed from %(pool)s."),
            "overall_cap": _("%(who)s already owns %(owned)d opportunities, the most one rep "
                             "may hold is %(cap)d."),
            "daily_limit": _("You have reached today's claim limit of %(limit)d "
                             "opportunities from %(pool)s."),
            "grade_cap": _("%(who)s already holds %(held)d opportunities of "
                           "grade-%(grade)s customers; the most one rep may hold is %(cap)d."),
            "cooldown": _("You held this opportunity before; you may claim it again after "
                          "%(until)s."),
        }
    return {
        "pool_cap": _("%(who)s already owns %(owned)d of the %(cap)d leads allowed from "
                      "%(pool)s."),
        "overall_cap": _("%(who)s already owns %(owned)d leads, the most one rep may hold "
                         "is %(cap)d."),
        "daily_limit": _("You have reached today's claim limit of %(limit)d leads from "
                         "%(pool)s."),
        "grade_cap": _("%(who)s already holds %(held)d grade-%(grade)s leads, the most one "
                       "rep may hold is %(cap)d."),
        "cooldown": _("You held this lead before; you may claim it again after %(until)s."),
    }


def check_caps(subject: Subject, user_id: int, pool: LeadPool, *, adding: int,
               claiming: bool, who: str, grades: Sequence[str] = (),
               refused: type[Exception]) -> None:
    """Refuse, naming the cap, if ``adding`` more records of ``pool`` would exceed one.

    The caller holds the rep lock (``lock_reps``)."""
    texts = _texts(subject)
    load = rep_load(subject, user_id, pool)
    if load.pool_cap is not None and load.owned_in_pool + adding > load.pool_cap:
        raise refused(texts["pool_cap"] % {"who": who, "owned": load.owned_in_pool,
                                           "cap": load.pool_cap, "pool": pool.display_name},
                      "pool_cap")
    if load.owned_total + adding > load.overall_cap:
        raise refused(texts["overall_cap"] % {"who": who, "owned": load.owned_total,
                                              "cap": load.overall_cap}, "overall_cap")
    if (claiming and load.daily_limit is not None
            and load.claimed_today + adding > load.daily_limit):
        raise refused(texts["daily_limit"] % {"limit": load.daily_limit,
                                              "pool": pool.display_name}, "daily_limit")
    caps = grade_caps()
    adding_by_grade = Counter(g for g in grades if g and g in caps)
    if not adding_by_grade:
        return
    held = dict(subject.model.objects.filter(
        owner_id=user_id, status__in=subject.open_statuses,
        **{f"{subject.grade_path}__in": list(adding_by_grade)})
        .values_list(subject.grade_path).annotate(n=Count("pk"))
        .values_list(subject.grade_path, "n"))
    for grade, n in sorted(adding_by_grade.items()):
        if held.get(grade, 0) + n > caps[grade]:
            raise refused(texts["grade_cap"] % {"who": who, "held": held.get(grade, 0),
                                                "grade": grade, "cap": caps[grade]},
                          "grade_cap")


def lost_within(subject: Subject, pool: LeadPool, ids: Sequence[int], now: datetime
                ) -> dict[int, dict[int, datetime]]:
    """For each record, the users who lost it within the pool's cool-down and when they
    last did (one query)."""
    if not pool.cooldown_days or not ids:
        return {}
    since = now - timedelta(days=pool.cooldown_days)
    # One array parameter: the ORM's IN list of a batch's 5,000 ids cost more to build
    # than the query took to run.
    model = subject.event_model
    record = model._meta.get_field(subject.event_fk).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {record}, from_owner_id, MAX(created_at) FROM {model._meta.db_table} "
            f"WHERE {record} = ANY(%s::bigint[]) AND created_at >= %s "
            "AND kind = ANY(%s::text[]) AND from_owner_id IS NOT NULL "
            f"GROUP BY {record}, from_owner_id",
            [array_literal(ids), since, array_literal(list(LeadEvent.LOSING))])
        rows = cursor.fetchall()
    lost: dict[int, dict[int, datetime]] = defaultdict(dict)
    for record_id, user_id, at in rows:
        lost[record_id][user_id] = at
    return lost


def cooled_down(subject: Subject, pool: LeadPool, ids: Sequence[int],
                now: datetime) -> dict[int, frozenset[int]]:
    """For each record, the users who may not receive it yet (the pool's cool-down)."""
    return {record: frozenset(users)
            for record, users in lost_within(subject, pool, ids, now).items()}


def check_cooldown(subject: Subject, pool: LeadPool, record_id: int, user_id: int, *,
                   refused: type[Exception]) -> None:
    """Refuse a rep who lost the record within the pool's cool-down, saying until when."""
    last = lost_within(subject, pool, [record_id], timezone.now()).get(record_id, {}).get(
        user_id)
    if last is not None:
        until = timezone.localtime(last + timedelta(days=pool.cooldown_days))
        raise refused(_texts(subject)["cooldown"] % {"until": until.strftime("%Y-%m-%d %H:%M")},
                      "cooldown")


def take(subject: Subject, *, record, user, now: datetime) -> bool:
    """Give the pool record to ``user`` if it still waits there (row count), write its
    CLAIMED event and start its recycle clock, in the caller's transaction."""
    taken = subject.model.objects.filter(
        pk=record.pk, owner__isnull=True, status=subject.in_pool_status,
    ).update(owner=user, status=subject.owned_status, assigned_at=now,
             recycle_grace=timedelta(0), clock_paused_at=None)
    if taken != 1:
        return False
    subject.event_model.objects.create(
        **{subject.event_fk: record}, kind=LeadEvent.Kind.CLAIMED, actor=user, to_owner=user,
        from_pool=record.pool, to_pool=record.pool, created_at=now)
    refresh_due(subject, ids=[record.pk], now=now)
    return True
