"""Writes of the pool rules pages. Each change is atomic and audited (django-auditlog keeps
before/after of pools, members and rules, with who and when) and sets off what it implies:
a changed recycle rule re-times every owned lead of the pool, a changed routing rule has
the waiting leads routed again, a new strategy or member starts assigning at once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import LeadPool, PoolMember, RecycleRule, RoutingRule
from ..permissions import pool_allows


class RulesRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _require_manage(user, pool: LeadPool) -> None:
    if not pool_allows(user, pool, "manage_pool"):
        raise RulesRefused(_("You may not change the rules of %(pool)s.")
                           % {"pool": pool.display_name})


def _after_commit_refresh(pool: LeadPool) -> None:
    from ..tasks import refresh_pool_due

    pool_id = pool.pk
    transaction.on_commit(lambda: refresh_pool_due.delay(pool_id))


def _after_commit_arrivals(pool: LeadPool) -> None:
    from ..pools.config import schedule_arrivals

    pool_id = pool.pk
    transaction.on_commit(lambda: schedule_arrivals([pool_id]))


def pool_policy_update(*, pool: LeadPool, form, user) -> LeadPool:
    """Save the pool's assignment policy, caps and what counts as contact."""
    _require_manage(user, pool)
    with transaction.atomic():
        before = LeadPool.objects.select_for_update(no_key=True).get(pk=pool.pk)
        pool = form.save()
        clock_changed = any(getattr(before, f) != getattr(pool, f) for f in (
            "qualifying_types", "qualifying_outcomes", "qualifying_min_length"))
        if before.default_route_pool_id != pool.default_route_pool_id:
            LeadPool.objects.filter(pk=pool.pk).update(routed_until=None)
        if clock_changed:
            _after_commit_refresh(pool)
        _after_commit_arrivals(pool)
    return pool


def member_add(*, pool: LeadPool, user_id: int, weight: int, actor) -> PoolMember:
    _require_manage(actor, pool)
    with transaction.atomic():
        member, created = PoolMember.objects.get_or_create(
            pool=pool, user_id=user_id, defaults={"weight": weight})
        if not created:
            raise RulesRefused(_("This rep is already a member of the pool."))
        _after_commit_arrivals(pool)
    return member


def member_update(*, member: PoolMember, form, actor) -> PoolMember:
    _require_manage(actor, member.pool)
    with transaction.atomic():
        member = form.save()
        _after_commit_arrivals(member.pool)
    return member


def member_remove(*, member: PoolMember, actor) -> None:
    _require_manage(actor, member.pool)
    with transaction.atomic():
        member.delete()


def recycle_rule_save(*, pool: LeadPool, form, user) -> RecycleRule:
    """Save a recycle rule; every owned lead of the pool gets its new recycle date."""
    _require_manage(user, pool)
    with transaction.atomic():
        rule = form.save(commit=False)
        rule.pool = pool
        rule.updated_at, rule.updated_by = timezone.now(), user
        rule.save()
        _after_commit_refresh(pool)
    return rule


def recycle_rule_delete(*, rule: RecycleRule, user) -> None:
    _require_manage(user, rule.pool)
    with transaction.atomic():
        pool = rule.pool
        rule.delete()
        _after_commit_refresh(pool)


def routing_rule_save(*, pool: LeadPool, form, user) -> RoutingRule:
    """Save a routing rule; the pool's waiting leads are routed again under the new rules."""
    _require_manage(user, pool)
    with transaction.atomic():
        rule = form.save(commit=False)
        rule.source_pool = pool
        rule.updated_at, rule.updated_by = timezone.now(), user
        rule.save()
        LeadPool.objects.filter(pk=pool.pk).update(routed_until=None)
        _after_commit_arrivals(pool)
    return rule


def routing_rule_delete(*, rule: RoutingRule, user) -> None:
    _require_manage(user, rule.source_pool)
    with transaction.atomic():
        rule.delete()
