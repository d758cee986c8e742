"""Writes for leads: intake, claim, release, assign, transfer, invalidate, follow-ups.

Every ownership or pool change goes through one function here that changes the rows with
a conditional, set-based UPDATE and writes its ``LeadEvent`` rows in the same
transaction. Claims are race-free: the claimer's own row is locked first (so one rep's
parallel claims cannot slip past a cap together) and the lead is taken with
``UPDATE … WHERE owner IS NULL``, checked by row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.handover import register_handover_step
from orgs.models import DictionaryItem, Employee, Membership
from orgs.rights import Operation
from orgs.selectors import data_scope_for, rights_for

from .models import FollowUp, Lead, LeadEvent, LeadPool, PoolLeadOpen
from .normalize import normalize_company, normalize_email, normalize_phone
from .permissions import pool_allows
from .pools.claims import check_caps, check_cooldown, lock_reps, take
from .pools.config import schedule_arrivals
from .pools.due import refresh_due, returned_values
from .subjects import LEADS


class LeadActionRefused(Exception):
    """An action the user may not take now; ``message`` says why, in their language."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _display(user) -> str:
    employee = Employee.objects.filter(user_id=user.pk).only("name", "name_en").first()
    return employee.display_name if employee else user.get_username()


def owner_team_name(user_id: int) -> str:
    membership = (
        Membership.objects.filter(employee__user_id=user_id)
        .select_related("org_unit").order_by("-is_primary", "pk").first()
    )
    return membership.org_unit.display_name if membership else "—"


def _check_dictionary(code: str, dictionary: str, label: str) -> None:
    if not code or not DictionaryItem.objects.active().of(dictionary).filter(code=code).exists():
        raise LeadActionRefused(_("Choose a %(what)s from the list.") % {"what": label},
                                "reason_required")


# --- caps -------------------------------------------------------------------------


def _check_caps(user_id: int, pool: LeadPool, *, adding: int, claiming: bool, who: str,
                grades: Sequence[str] = ()) -> None:
    """Refuse, naming the cap, if ``adding`` more leads of ``pool`` would exceed one."""
    check_caps(LEADS, user_id, pool, adding=adding, claiming=claiming, who=who,
               grades=grades, refused=LeadActionRefused)


# Fields of a lead handed to a new owner: a fresh recycle clock.
_FRESH_CLOCK = {"recycle_grace": timedelta(0), "clock_paused_at": None}


def _start_clocks(lead_ids) -> None:
    """Set the recycle due time of leads that just got an owner (same transaction)."""
    refresh_due(LEADS, ids=list(lead_ids))


# --- claim, release, assign, transfer --------------------------------------------------


def lead_claim(*, lead_id: int, user) -> Lead:
    """A rep takes a pool lead. Exactly one of several simultaneous claimers wins."""
    with transaction.atomic():
        lock_reps([user.pk])
        lead = Lead.objects.select_related("pool").filter(pk=lead_id).first()
        if lead is None or not pool_allows(user, lead.pool, "claim_from_pool"):
            raise LeadActionRefused(_("You may not claim leads from this pool."), "forbidden")
        if lead.owner_id == user.pk:
            raise LeadActionRefused(_("This lead is already yours."), "already_yours")
        if lead.owner_id is not None or lead.status != Lead.Status.IN_POOL:
            raise _taken(lead)
        check_cooldown(LEADS, lead.pool, lead.pk, user.pk, refused=LeadActionRefused)
        _check_caps(user.pk, lead.pool, adding=1, claiming=True, who=_("You"),
                    grades=[lead.grade])
        if not take(LEADS, record=lead, user=user, now=timezone.now()):
            lead.refresh_from_db()
            raise _taken(lead)
    lead.refresh_from_db()
    return lead


def pool_lead_open(*, lead: Lead, user) -> bool:
    """Record that ``user`` opened pool lead ``lead`` today, within the pool's daily limit.

    Returns whether a new open was counted; raises ``LeadActionRefused`` (code
    ``open_limit``) once the rep has opened the pool's limit of leads today. Re-opening a
    lead already opened today is free. The count and the insert run in one short
    transaction under the rep's own row lock, so parallel opens (two tabs, a fast
    double-click) cannot together go past the limit.
    """
    limit = lead.pool.daily_open_limit
    if limit is None or lead.owner_id is not None:
        return False
    today = timezone.localdate()
    with transaction.atomic():
        lock_reps([user.pk])
        # The limit is the pool's: opens of other pools' leads do not use it up.
        opened = PoolLeadOpen.objects.filter(user=user, day=today, lead__pool_id=lead.pool_id)
        if opened.filter(lead=lead).exists():
            return False
        if opened.count() >= limit:
            raise LeadActionRefused(
                _("You have opened %(limit)d pool leads today, the most this pool allows. "
                  "Claim a lead to work on it.") % {"limit": limit}, "open_limit")
        PoolLeadOpen.objects.create(user=user, lead=lead, day=today)
    return True


def _taken(lead: Lead) -> LeadActionRefused:
    if lead.owner_id and lead.is_open:
        return LeadActionRefused(
            _("Someone was faster: %(name)s (%(team)s) has just taken this lead.")
            % {"name": _display(lead.owner), "team": owner_team_name(lead.owner_id)},
            "taken",
        )
    return LeadActionRefused(_("This lead is no longer in the pool."), "taken")


def lead_release(*, lead_id: int, user, reason: str, note: str = "") -> Lead:
    """The owner gives a lead back to its pool, with a reason from the dictionary."""
    _check_dictionary(reason, "release_reason", _("release reason"))
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("pool").filter(
            pk=lead_id).first()
        if lead is None or lead.owner_id != user.pk or not lead.is_open:
            raise LeadActionRefused(_("Only the owner can release this lead."), "not_owner")
        now = timezone.now()
        Lead.objects.filter(pk=lead.pk).update(**returned_values(LEADS, now))
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.RELEASED, actor=user, from_owner=user,
            from_pool=lead.pool, to_pool=lead.pool, reason=reason, note=note, created_at=now,
        )
        pool_id = lead.pool_id
        transaction.on_commit(lambda: schedule_arrivals([pool_id]))
    lead.refresh_from_db()
    return lead


def _target_user(user_id: int):
    employee = Employee.objects.select_related("user").filter(user_id=user_id).first()
    if employee is None or employee.status != Employee.Status.ACTIVE or not employee.user.is_active:
        raise LeadActionRefused(_("Leads can only go to an active employee."), "inactive")
    return employee


def lead_assign(*, lead_ids: Sequence[int], to_user_id: int, actor) -> int:
    """A manager hands pool leads to a rep; leads someone took meanwhile are skipped."""
    target = _target_user(to_user_id)
    in_scope = data_scope_for(actor).users().filter(pk=to_user_id).exists()
    with transaction.atomic():
        lock_reps([to_user_id])
        leads = list(
            Lead.objects.select_for_update(of=("self",)).select_related("pool")
            .filter(pk__in=lead_ids, owner__isnull=True, status=Lead.Status.IN_POOL)
            .order_by("pk")
        )
        for pool in {lead.pool for lead in leads}:
            if not pool_allows(actor, pool, "assign_from_pool"):
                raise LeadActionRefused(
                    _("You may not assign leads from %(pool)s.") % {"pool": pool.display_name},
                    "forbidden",
                )
            # The receiver must be able to work the leads: claim from the pool, or, within
            # the assigner's scope, claim at all.
            if not pool_allows(target.user, pool, "claim_from_pool") and not (
                    in_scope and rights_for(target.user).can(Operation.CLAIM)):
                raise LeadActionRefused(
                    _("%(name)s cannot work leads of %(pool)s.")
                    % {"name": target.display_name, "pool": pool.display_name},
                    "forbidden",
                )
            adding = sum(1 for lead in leads if lead.pool_id == pool.pk)
            _check_caps(to_user_id, pool, adding=adding, claiming=False,
                        who=target.display_name,
                        grades=[lead.grade for lead in leads if lead.pool_id == pool.pk])
        now = timezone.now()
        ids = [lead.pk for lead in leads]
        Lead.objects.filter(pk__in=ids).update(owner_id=to_user_id,
                                               status=Lead.Status.ASSIGNED, assigned_at=now,
                                               **_FRESH_CLOCK)
        LeadEvent.objects.bulk_create(
            LeadEvent(lead=lead, kind=LeadEvent.Kind.ASSIGNED, actor=actor,
                      to_owner_id=to_user_id, from_pool=lead.pool, to_pool=lead.pool,
                      reason="manual", created_at=now)
            for lead in leads
        )
        _start_clocks(ids)
    return len(ids)


def lead_transfer(*, lead_ids: Sequence[int], to_user_id: int, actor, reason: str,
                  note: str = "") -> int:
    """Move owned leads from their reps to another rep, with a reason (single or bulk)."""
    _check_dictionary(reason, "transfer_reason", _("transfer reason"))
    if not rights_for(actor).can(Operation.TRANSFER):
        raise LeadActionRefused(_("Your roles do not allow transferring leads."), "forbidden")
    target = _target_user(to_user_id)
    scope = data_scope_for(actor)
    if not scope.users().filter(pk=to_user_id).exists():
        raise LeadActionRefused(
            _("%(name)s is outside your scope: you may transfer leads only to reps you "
              "manage.") % {"name": target.display_name},
            "forbidden",
        )
    with transaction.atomic():
        lock_reps([to_user_id])
        leads = list(
            Lead.objects.select_for_update(of=("self",)).select_related("pool")
            .filter(scope.owners_q("owner"), pk__in=lead_ids,
                    status__in=Lead.OPEN_STATUSES)
            .exclude(owner_id=to_user_id).order_by("pk")
        )
        if len(leads) != len(set(lead_ids)):
            raise LeadActionRefused(
                _("Some of the chosen leads are outside your scope, already with %(name)s, "
                  "or no longer open. Reload the list and try again.")
                % {"name": target.display_name},
                "stale",
            )
        for pool in {lead.pool for lead in leads}:
            adding = sum(1 for lead in leads if lead.pool_id == pool.pk)
            _check_caps(to_user_id, pool, adding=adding, claiming=False,
                        who=target.display_name,
                        grades=[lead.grade for lead in leads if lead.pool_id == pool.pk])
        now = timezone.now()
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
            owner_id=to_user_id, status=Lead.Status.ASSIGNED, assigned_at=now, **_FRESH_CLOCK)
        LeadEvent.objects.bulk_create(
            LeadEvent(lead=lead, kind=LeadEvent.Kind.TRANSFERRED, actor=actor,
                      from_owner_id=lead.owner_id, to_owner_id=to_user_id,
                      from_pool=lead.pool, to_pool=lead.pool, reason=reason, note=note,
                      created_at=now)
            for lead in leads
        )
        _start_clocks([lead.pk for lead in leads])
    return len(leads)


def lead_invalidate(*, lead_id: int, user, reason: str, note: str = "") -> Lead:
    _check_dictionary(reason, "lead_status_reason", _("reason"))
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("pool").filter(
            pk=lead_id).first()
        if lead is None or lead.owner_id != user.pk or not lead.is_open:
            raise LeadActionRefused(_("Only the owner can mark this lead invalid."),
                                    "not_owner")
        Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.INVALID, invalid_reason=reason,
                                               recycle_due_at=None, recycle_rule=None,
                                               recycle_warn_at=None)
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.INVALIDATED, actor=user,
                                 from_owner=user, to_owner=user, from_pool=lead.pool,
                                 to_pool=lead.pool, reason=reason, note=note)
    lead.refresh_from_db()
    return lead


def lead_star(*, lead_id: int, user, starred: bool) -> Lead:
    """The owner marks a key lead; rules that spare key leads stop (or start) counting."""
    with transaction.atomic():
        updated = Lead.objects.filter(pk=lead_id, owner=user).update(is_starred=starred)
        if not updated:
            raise LeadActionRefused(_("Only the owner can star this lead."), "not_owner")
        refresh_due(LEADS, ids=[lead_id])
    return Lead.objects.get(pk=lead_id)


def followup_add(*, lead_id: int, user, kind: str, outcome: str, content: str,
                 next_at=None) -> FollowUp:
    """The owner records a contact attempt; it moves the lead to 'following'.

    The same write as on customers and opportunities (``services_followups``).
    """
    from .followups.services import followup_record

    return followup_record(subject="lead", record_id=lead_id, user=user, kind=kind,
                           outcome=outcome, content=content, next_at=next_at)


# --- intake ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateHit:
    lead: Lead
    matched_on: str  # "mobile", "email" or "company"

    @property
    def in_pool(self) -> bool:
        return self.lead.owner_id is None and self.lead.status == Lead.Status.IN_POOL


def duplicate_hits(*, mobile: str = "", email: str = "", company: str = "",
                   exclude_id: int | None = None, limit: int = 5) -> list[DuplicateHit]:
    """Leads (in pools or owned) sharing a normalised mobile, e-mail or company name."""
    keys = {
        "mobile": normalize_phone(mobile),
        "email": normalize_email(email),
        "company": normalize_company(company),
    }
    q = Q(pk__in=[])
    for field, key in keys.items():
        if key:
            q |= Q(**{f"{field}_key": key})
    if not any(keys.values()):
        return []
    queryset = Lead.objects.filter(q).exclude(status=Lead.Status.INVALID).select_related(
        "pool", "owner")
    if exclude_id:
        queryset = queryset.exclude(pk=exclude_id)
    hits = []
    for lead in queryset.order_by("pk")[:limit]:
        matched = next(f for f, k in keys.items() if k and getattr(lead, f"{f}_key") == k)
        hits.append(DuplicateHit(lead=lead, matched_on=matched))
    return hits


LEAD_FIELDS = ("name", "company", "title", "mobile", "phone", "email", "wechat", "address",
               "region", "product_category", "industry", "channel", "campaign", "notes",
               "grade", "external_id", "platform_user_id")


def lead_create(*, pool: LeadPool, actor, data: dict, attributes: dict | None = None,
                take_ownership: bool = False) -> Lead:
    """Enter a lead by hand. A duplicate is refused (see ``duplicate_hits``).

    With ``take_ownership`` the entering rep owns it at once (caps apply), else it waits
    in ``pool``.
    """
    if not (data.get("name") or "").strip():
        raise LeadActionRefused(_("A lead needs a name."), "invalid")
    if not any((data.get(f) or "").strip() for f in ("mobile", "phone", "email", "wechat")):
        raise LeadActionRefused(_("Give at least one way to reach the lead."), "invalid")
    from .intake import collision

    contact_data = {"mobile": data.get("mobile", ""), "email": data.get("email", ""),
                    "company": data.get("company", "")}
    hits = duplicate_hits(**contact_data)
    others = collision.record_collisions(collision.keys_of(**contact_data))
    policy = collision.policy_for(data.get("channel") or "manual", "manual")
    attach_to = None
    attributes = dict(attributes or {})
    if hits or others:
        if policy == collision.CollisionPolicy.REFUSE:
            raise DuplicateLead(hits) if hits else DuplicateRecord(others)
        if policy == collision.CollisionPolicy.ATTACH:
            if hits:
                return _touch_existing(hits[0].lead, data, actor)
            attach_to = next((c for c in others if c.owner_id), None)
        if attach_to is None:
            take_ownership = False
            attributes["_possible_duplicates"] = [
                {"kind": c.kind, "id": c.record_id, "on": c.matched_on}
                for c in [*(collision.Collision("lead", h.lead.pk, h.lead.name, h.lead.owner_id,
                                                h.matched_on) for h in hits), *others]]
    with transaction.atomic():
        owner_id = attach_to.owner_id if attach_to else (actor.pk if take_ownership else None)
        if owner_id:
            lock_reps([owner_id])
            _check_caps(owner_id, pool, adding=1, claiming=False,
                        who=_("You") if owner_id == actor.pk else _display_id(owner_id))
        now = timezone.now()
        lead = Lead(pool=pool, created_by=actor, created_at=now, attributes=attributes,
                    **{f: (data.get(f) or "").strip() for f in LEAD_FIELDS})
        if owner_id:
            lead.owner_id, lead.status, lead.assigned_at = owner_id, Lead.Status.ASSIGNED, now
        if attach_to is not None:
            lead.customer_id = attach_to.customer_id
        lead.refresh_keys()
        lead.save()
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CREATED, actor=actor,
                                 to_owner_id=owner_id if attach_to is None else None,
                                 to_pool=pool, created_at=now, reason=lead.channel)
        if attach_to is not None:
            LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ASSIGNED, actor=actor,
                                     to_owner_id=owner_id, from_pool=pool, to_pool=pool,
                                     reason="collision", created_at=now)
        if owner_id:
            _start_clocks([lead.pk])
        else:
            transaction.on_commit(lambda: schedule_arrivals([pool.pk]))
    return lead


def _display_id(user_id: int) -> str:
    return _display(get_user_model()(pk=user_id))


def _touch_existing(lead: Lead, data: dict, actor) -> Lead:
    """Attach a re-entered person to the lead that already holds them (a touchpoint)."""
    from .models import Touchpoint

    Touchpoint.objects.create(lead=lead, channel=(data.get("channel") or "manual"),
                              payload={k: v for k, v in data.items() if isinstance(v, str)})
    lead.attached = True
    return lead


class DuplicateRecord(LeadActionRefused):
    """Entering a lead whose person or company is already a customer or contact."""

    def __init__(self, collisions):
        self.collisions = collisions
        first = collisions[0]
        if first.owner_id:
            message = _("This person or company is already a customer of %(team)s.") % {
                "team": owner_team_name(first.owner_id)}
        else:
            message = _("This person or company is already a customer.")
        super().__init__(message, "duplicate")


class DuplicateLead(LeadActionRefused):
    """Entering a lead that already exists: says who has it and what the user can do."""

    def __init__(self, hits: list[DuplicateHit]):
        self.hits = hits
        first = hits[0]
        if first.in_pool:
            message = _("This lead is already in %(pool)s. Claim it instead.") % {
                "pool": first.lead.pool.display_name}
        else:
            message = _("This lead is already followed by %(team)s.") % {
                "team": owner_team_name(first.lead.owner_id)}
        super().__init__(message, "duplicate")


# --- departure handover -------------------------------------------------------------------


@register_handover_step("leads", _("Leads"))
def leads_handover(*, employee, successor, actor) -> int:
    """A departed rep's open leads go to the successor, or back to their pools."""
    open_leads = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(owner_id=employee.user_id, status__in=Lead.OPEN_STATUSES)
        .values_list("pk", "pool_id").order_by("pk")
    )
    if not open_leads:
        return 0
    now = timezone.now()
    ids = [pk for pk, _ in open_leads]
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    if successor is not None:
        Lead.objects.filter(pk__in=ids).update(owner_id=successor.user_id,
                                               status=Lead.Status.ASSIGNED, assigned_at=now,
                                               **_FRESH_CLOCK)
        kind, to_owner, reason = LeadEvent.Kind.TRANSFERRED, successor.user_id, "departure"
        _start_clocks(ids)
    else:
        Lead.objects.filter(pk__in=ids).update(**returned_values(LEADS, now))
        kind, to_owner, reason = LeadEvent.Kind.RELEASED, None, "departure"
        pool_ids = {pool_id for _pk, pool_id in open_leads}
        transaction.on_commit(lambda: schedule_arrivals(pool_ids))
    LeadEvent.objects.bulk_create(
        LeadEvent(lead_id=pk, kind=kind, actor_id=actor_id, from_owner_id=employee.user_id,
                  to_owner_id=to_owner, from_pool_id=pool_id, to_pool_id=pool_id,
                  reason=reason, created_at=now)
        for pk, pool_id in open_leads
    )
    return len(ids)
