"""Who may view, claim from, assign from and manage each pool.

Two sources, unioned:

* the org tree: a pool belongs to an org unit; members of that unit, of units below it
  and of units above it reach the pool, for the actions their roles allow (a rep with
  *claim* may claim, a manager with *assign* may assign, a manager with *manage pools*
  sets its rules — a team manager those of the pool their team works from). A rep who
  joins a team reaches its pools at once, with no grant to maintain;
* explicit grants per pool through django-guardian (direct foreign-key tables, to users or
  groups), for access across the tree — e.g. a cross-department pool.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from orgs.models import OrgUnit
from orgs.rights import DataScope, Operation
from orgs.selectors import rights_for

from .models import LeadPool

POOL_PERMS = ("view_pool_leads", "claim_from_pool", "assign_from_pool", "manage_pool")

# Which role operations open which pool permission through the org tree.
_OPERATIONS_FOR = {
    "view_pool_leads": {Operation.CLAIM, Operation.ASSIGN, Operation.ROUTE,
                        Operation.MANAGE_POOLS},
    "claim_from_pool": {Operation.CLAIM},
    "assign_from_pool": {Operation.ASSIGN},
    "manage_pool": {Operation.MANAGE_POOLS},
}


def _ancestor_paths(path: str) -> list[str]:
    step = OrgUnit.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def _org_pools_q(user, perm: str) -> Q | None:
    rights = rights_for(user)
    if not (rights.operations & _OPERATIONS_FOR[perm]):
        return None
    if any(g.scope == DataScope.ALL for g in rights.grants):
        return Q(pk__isnull=False)  # everything; unlike Q(), survives being OR-ed
    q = Q(pk__in=[])
    for grant in rights.grants:
        # A pool above one's unit is the pool one's team works from (a team claims from,
        # and its manager sets the rules of, its region's pool); one below is a pool of a
        # unit one heads.
        q |= Q(org_unit__path__in=_ancestor_paths(grant.unit_path))
        q |= Q(org_unit__path__startswith=grant.unit_path)
    return q


def pools_for(user, perm: str = "view_pool_leads") -> QuerySet:
    """Active pools on which ``user`` holds ``perm``, through the org tree or a grant."""
    if user is None or not user.is_authenticated or not user.is_active:
        return LeadPool.objects.none()
    granted = get_objects_for_user(user, f"leads.{perm}", klass=LeadPool,
                                   accept_global_perms=False)
    q = Q(pk__in=granted.values("pk"))
    org_q = _org_pools_q(user, perm)
    if org_q is not None:
        if perm == "claim_from_pool":
            # Nobody claims straight from the master pool through the org tree: its leads
            # are routed or assigned first (an explicit grant can still allow it).
            org_q &= ~Q(kind=LeadPool.Kind.MASTER)
        q |= org_q
    return LeadPool.objects.filter(q, is_active=True).distinct()


def pool_allows(user, pool: LeadPool, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` on ``pool``; cached for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cache = user.__dict__.setdefault("_pool_perm_cache", {})
    key = (pool.pk, perm)
    if key not in cache:
        cache[key] = pools_for(user, perm).filter(pk=pool.pk).exists()
    return cache[key]
