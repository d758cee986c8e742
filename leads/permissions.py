"""Who may view, claim from, assign from and manage each pool.

Two sources, unioned:

* the org tree: a pool belongs to an org unit; members of that unit, of units below it
  and of units above it reach the pool, for the actions their roles allow (a rep with
  *claim* may claim, a manager with *assign* may assign). Rules (*manage pools*) are set
  for the pools of one's unit and below, and for the pool one's team works from: the
  nearest sub-pool up the tree (a team manager sets the rules of the region pool their
  team claims from, not those of the department's pools further up). A rep who joins a
  team reaches its pools at once, with no grant to maintain;
* explicit grants per pool through django-guardian (direct foreign-key tables, to users or
  groups), for access across the tree — e.g. a cross-department pool.

These are the pool rules of ``orgs.access`` (registered in ``LeadsConfig.ready``):
``orgs.access.may_act(user, pool, "claim_from_pool")`` asks :func:`pool_allows`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Length

from orgs.access import Rights, rights_for, rights_for_many
from orgs.models import Employee, Membership, OrgUnit
from orgs.rights import DataScope, Operation

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
    """The org-tree reach of ``user`` as a filter over pools (``_org_reaches`` is the same
    rule for one pool in Python, for many users at once)."""
    rights = rights_for(user)
    if not (rights.operations & _OPERATIONS_FOR[perm]):
        return None
    if any(g.scope == DataScope.ALL for g in rights.grants):
        return Q(pk__isnull=False)  # everything; unlike Q(), survives being OR-ed
    q = Q(pk__in=[])
    for grant in rights.grants:
        # Pools of one's unit and of the units below it: the pools of the units one heads.
        q |= Q(org_unit__path__startswith=grant.unit_path)
        if perm != "manage_pool":
            # Pools above one's unit are worked from below (a team claims from its
            # region's pool) ...
            q |= Q(org_unit__path__in=_ancestor_paths(grant.unit_path))
    if perm == "manage_pool":
        # ... and the nearest of them is the pool one's team works from: its rules are set
        # by the team's manager too (not those of the pools further up: the department's
        # shared, dormant or opportunity pools).
        for grant in rights.grants:
            q |= _nearest_above_q(grant.unit_path)
    return q


def _nearest_above_q(path: str) -> Q:
    """Sub-pools of the nearest unit above ``path`` that holds one — none when the unit
    at ``path`` holds one itself (one correlated subquery, no query of its own)."""
    line = _ancestor_paths(path)  # from the root down to the unit itself
    nearer = LeadPool.objects.filter(
        kind=LeadPool.Kind.SUB, is_active=True, org_unit__path__in=line,
    ).annotate(depth=Length("org_unit__path")).filter(
        depth__gt=Length(OuterRef("org_unit__path")))
    return Q(kind=LeadPool.Kind.SUB, org_unit__path__in=line[:-1]) & ~Exists(nearer)


def _granted_q(user, perm: str) -> Q:
    """Pools granted ``perm`` to the user or one of their groups, read straight from
    django-guardian's direct foreign-key tables (no content-type lookups)."""
    from .models import LeadPoolGroupPermission, LeadPoolUserPermission

    return Q(pk__in=LeadPoolUserPermission.objects.filter(
        user=user, permission__codename=perm).values("content_object_id")) | Q(
        pk__in=LeadPoolGroupPermission.objects.filter(
            group__user=user, permission__codename=perm).values("content_object_id"))


def _pools_q(user, perm: str) -> Q:
    if user.is_superuser:
        return Q(pk__isnull=False)
    q = _granted_q(user, perm)
    org_q = _org_pools_q(user, perm)
    if org_q is not None:
        if perm == "claim_from_pool":
            # Nobody claims straight from the master pool through the org tree: its leads
            # are routed or assigned first (an explicit grant can still allow it).
            org_q &= ~Q(kind=LeadPool.Kind.MASTER)
        q |= org_q
    return q


def pools_for(user, perm: str = "view_pool_leads") -> QuerySet:
    """Active pools on which ``user`` holds ``perm``, through the org tree or a grant."""
    if user is None or not user.is_authenticated or not user.is_active:
        return LeadPool.objects.none()
    return LeadPool.objects.filter(_pools_q(user, perm), is_active=True).distinct()


def reaches_pools(user, perms: tuple[str, ...]) -> dict[str, bool]:
    """``pools_for(user, perm).exists()`` for each of ``perms``, in one query (the
    navigation asks on every page)."""
    if user is None or not user.is_authenticated or not user.is_active or not perms:
        return dict.fromkeys(perms, False)
    checks = {f"reach_{n}": Exists(LeadPool.objects.filter(_pools_q(user, perm),
                                                          is_active=True))
              for n, perm in enumerate(perms)}
    row = LeadPool.objects.annotate(**checks).values(*checks).order_by()[:1]
    found = next(iter(row), None)  # no pool at all: nobody reaches one
    return {perm: bool(found and found[f"reach_{n}"]) for n, perm in enumerate(perms)}


def pool_allows(user, pool: LeadPool, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` on ``pool``; cached for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cache = user.__dict__.setdefault("_pool_perm_cache", {})
    key = (pool.pk, perm)
    if key not in cache:
        cache[key] = pools_for(user, perm).filter(pk=pool.pk).exists()
    return cache[key]


def _org_reaches(rights: Rights, perm: str, pool: LeadPool) -> bool:
    """``_org_pools_q`` for one user's rights and one pool (every right but *manage*)."""
    assert perm != "manage_pool", "managing reaches the nearest pool above: _org_pools_q"
    if not (rights.operations & _OPERATIONS_FOR[perm]):
        return False
    if perm == "claim_from_pool" and pool.kind == LeadPool.Kind.MASTER:
        return False
    if any(g.scope == DataScope.ALL for g in rights.grants):
        return True
    path = pool.org_unit.path if pool.org_unit_id else None
    if path is None:
        return False
    return any(path in _ancestor_paths(g.unit_path) or path.startswith(g.unit_path)
               for g in rights.grants)


def claimer_ids(pools: list[LeadPool]) -> dict[int, set[int]]:
    """For each pool, the users who may claim from it: active members (of active employees)
    of its unit and of the units above and below it whose roles allow claiming, and
    users or groups granted *claim* on it. The same answer as ``pools_for(user,
    "claim_from_pool")`` per user, in a fixed number of queries for any number of pools.
    """
    found: dict[int, set[int]] = {pool.pk: set() for pool in pools}
    if not pools:
        return found
    in_tree = Q(pk__in=[])
    for pool in pools:
        if pool.org_unit_id is None:
            in_tree = Q()
            break
        path = pool.org_unit.path
        in_tree |= Q(org_unit__path__startswith=path) | Q(
            org_unit__path__in=_ancestor_paths(path))
    placed = list(Membership.objects.filter(in_tree, employee__status=Employee.Status.ACTIVE)
                  .values_list("employee__user_id", "org_unit__path"))
    ids = [pool.pk for pool in pools]
    from .models import LeadPoolUserPermission

    granted: dict[int, set[int]] = {}
    for pool_id, user_id in LeadPoolUserPermission.objects.filter(
            content_object_id__in=ids, permission__codename="claim_from_pool"
    ).values_list("content_object_id", "user_id"):
        granted.setdefault(pool_id, set()).add(user_id)
    for pool_id, user_id in get_user_model().groups.through.objects.filter(
            group__leadpoolgrouppermission__content_object_id__in=ids,
            group__leadpoolgrouppermission__permission__codename="claim_from_pool",
    ).values_list("group__leadpoolgrouppermission__content_object_id", "user_id"):
        granted.setdefault(pool_id, set()).add(user_id)
    rights = rights_for_many({user_id for user_id, _path in placed}.union(*granted.values()))
    for pool in pools:
        if not pool.is_active:
            continue
        path = pool.org_unit.path if pool.org_unit_id else None
        near = {user_id for user_id, unit_path in placed
                if path is None or unit_path.startswith(path)
                or unit_path in _ancestor_paths(path)}
        for user_id in near | granted.get(pool.pk, set()):
            user_rights = rights.get(user_id)  # None: an inactive user
            if user_rights is not None and (
                    user_id in granted.get(pool.pk, ()) or user_rights.is_superuser
                    or _org_reaches(user_rights, "claim_from_pool", pool)):
                found[pool.pk].add(user_id)
    return found


def descendant_pools(pool: LeadPool) -> QuerySet:
    """Active pools below ``pool`` (any depth): where its routing rules may send leads."""
    ids, frontier = set(), {pool.pk}
    while frontier:
        children = set(LeadPool.objects.filter(parent_id__in=frontier, is_active=True)
                       .exclude(pk__in=ids | {pool.pk}).values_list("pk", flat=True))
        ids |= children
        frontier = children
    return LeadPool.objects.filter(pk__in=ids).order_by("kind", "code")

