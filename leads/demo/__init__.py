"""Demo leads: the regional pools, the rule engine's configuration and six months of lead
history through every channel and region.

With ``engine`` (what ``manage.py seed_demo`` does) the pools get the rule engine's
configuration: the master pool routes East and South China leads into their sub-pools,
marketing routes the other regions by hand into the sales pool, the East pool hands leads
out by weight, the South, sales and dormant pools are claimed from, stale leads are
recycled after a warning, and leads that arrived in the last hour wait for the engine's
first tick. Without it every pool is manual with no rules (what most tests start from).

The history (``world``) is simulated with the engine's own decisions, then written in bulk
with the moments the services would have stamped: every lead's events, follow-ups and
touchpoints. Leads that were converted become customers, contacts and opportunities
through the converter the opportunities app registers (``register_demo_conversions``).

Deterministic (seeded random) and idempotent: leads are keyed by their external id
``demo-<n>``; a second run adds nothing and reports what is there.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from orgs.demo import DemoReport
from orgs.models import Employee, OrgUnit

from ..engine import strategies
from ..models import (
    FollowUp,
    Lead,
    LeadEvent,
    LeadPool,
    PoolMember,
    RecycleRule,
    RoutingRule,
    Touchpoint,
)
from ..pools.config import OVERALL_CAP, clock_rules, grade_caps
from ..pools.due import refresh_due
from ..pools.recycle import recycle_destination
from ..pools.route import route_rules
from ..subjects import LEADS
from . import texts
from .world import (
    CATEGORIES,
    CHANNELS,
    REGIONS,
    Life,
    Note,
    Policy,
    PoolInfo,
    Rep,
    RuleInfo,
    World,
    arrival_moments,
)

HISTORY_DAYS = 182
SEED = 20261122

EAST_REPS = ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang"]
SOUTH_REPS = ["rep_chenjing", "rep_yangfan", "rep_zhaomin", "rep_sunli"]
# Open leads each rep is comfortable holding before they stop claiming more.
COMFORT = {"rep_wangfang": 42, "rep_lilei": 38, "rep_zhangwei": 34, "rep_liuyang": 32,
           "rep_chenjing": 38, "rep_yangfan": 34, "rep_zhaomin": 34, "rep_sunli": 30}
WEIGHTS = {"rep_wangfang": 2, "rep_lilei": 2, "rep_zhangwei": 1, "rep_liuyang": 1,
           "rep_chenjing": 1, "rep_yangfan": 1, "rep_zhaomin": 1, "rep_sunli": 1}

DEMO_POOLS = [
    ("east_pool", "华东公海", "East China pool", "east", "east"),
    ("south_pool", "华南公海", "South China pool", "south", "south"),
]
QUALIFYING = {"qualifying_types": ["call", "visit", "meeting", "wechat"],
              "qualifying_outcomes": ["connected", "interested", "appointment"],
              "qualifying_min_length": 4}


# --- conversions: written by the app that owns customers and opportunities ---------------


@dataclass
class Conversion:
    """A demo lead its owner converted at ``at``; the converter fills in what it became."""

    lead: Lead
    owner_id: int
    at: datetime
    notes: list[Note]
    customer_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    customer_created: bool = True
    extra: dict = field(default_factory=dict)


_CONVERTERS: list[Callable[..., None]] = []


def register_demo_conversions(converter: Callable[..., None]):
    """Called in the ready() of the app that owns customers and opportunities.

    ``converter(conversions, engine=...)`` writes, for each demo conversion, the customer,
    contact and opportunity ``lead_convert`` would have written at ``conversion.at`` (and
    whatever followed; with ``engine``, under the opportunity pool's recycle rules), and
    sets the conversion's ``customer_id``, ``contact_id`` and ``opportunity_id``. Without
    a converter the demo's reps convert nothing.
    """
    if converter not in _CONVERTERS:
        _CONVERTERS.append(converter)
    return converter


# --- the step ---------------------------------------------------------------------------


def demo_leads():
    return Lead.objects.filter(external_id__startswith="demo-")


def report(*, added: bool) -> DemoReport:
    leads = demo_leads()
    return DemoReport({
        "leads": leads.count(),
        "waiting in pools": leads.filter(owner__isnull=True, status=Lead.Status.IN_POOL).count(),
        "owned": leads.filter(status__in=Lead.OPEN_STATUSES).count(),
        "converted": leads.filter(status=Lead.Status.CONVERTED).count(),
        "lead events": LeadEvent.objects.filter(lead__in=leads).count(),
        "follow-ups on leads": FollowUp.objects.filter(lead__in=leads).count(),
    }, added=added)


def seed_demo(count: int = 1200, *, engine: bool = True) -> DemoReport:
    """Create the regional pools and ``count`` leads with their history."""
    with transaction.atomic():
        pools = _configure_pools(engine=engine)
        if demo_leads().exists():
            return report(added=False)
        now = timezone.now()
        world = World(_policy(pools), now=now, seed=SEED, can_convert=bool(_CONVERTERS))
        _arrivals(world, count=count, now=now)
        world.run()
        _write(world, now=now, engine=engine)
    return report(added=True)


def _configure_pools(*, engine: bool) -> dict[str, LeadPool]:
    """The demo's pools (idempotent): the regional sub-pools, the sales pool for regions
    without a team of their own, the dormant pool, and with ``engine`` their rules."""
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pools = {"master": master}
    for code, name, name_en, unit_code, region in DEMO_POOLS:
        pools[region], _ = LeadPool.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "kind": LeadPool.Kind.SUB,
                      "parent": master, "org_unit": OrgUnit.objects.get(code=unit_code),
                      "region": region, "owned_cap": 60, "daily_claim_limit": 30,
                      "cooldown_days": 7})
    pools["sales"] = LeadPool.objects.get(code="sales_pool")
    pools["dormant"] = LeadPool.objects.get(kind=LeadPool.Kind.DORMANT)
    if pools["sales"].owned_cap is None:
        # Leads of regions without a team: any rep may claim a few.
        LeadPool.objects.filter(pk=pools["sales"].pk).update(owned_cap=30, daily_claim_limit=10)
    if engine:
        _configure_engine(pools)
    for pool in pools.values():
        pool.refresh_from_db()
    return pools


def _configure_engine(pools: dict[str, LeadPool]) -> None:
    """Routing, strategies, members and recycle rules of the demo pools (idempotent)."""
    User = get_user_model()
    master, east, south, sales = pools["master"], pools["east"], pools["south"], pools["sales"]
    dormant = pools["dormant"]
    for order, (pool, name, name_en, region) in enumerate(
            [(east, "华东线索 → 华东公海", "East China leads → East China pool", "east"),
             (south, "华南线索 → 华南公海", "South China leads → South China pool", "south")],
            start=1):
        RoutingRule.objects.get_or_create(
            source_pool=master, name=name,
            defaults={"name_en": name_en, "order": order * 10, "regions": [region],
                      "target_pool": pool})
    # East China hands leads out by weight; South China reps claim from their pool (a
    # manager can switch it to round-robin or least-loaded on the rules page).
    LeadPool.objects.filter(pk=east.pk).update(strategy=LeadPool.Strategy.WEIGHTED,
                                               **QUALIFYING)
    LeadPool.objects.filter(pk__in=[south.pk, sales.pk]).update(
        strategy=LeadPool.Strategy.MANUAL, **QUALIFYING)
    for user in User.objects.filter(username__in=WEIGHTS):
        pool = east if user.username in EAST_REPS else south
        PoolMember.objects.get_or_create(pool=pool, user=user,
                                         defaults={"weight": WEIGHTS[user.username]})
    rules = [
        (east, "7 天无有效跟进", "No qualifying follow-up for 7 days",
         RecycleRule.Kind.NO_FOLLOWUP, 7, RecycleRule.Unit.DAYS, [72, 24],
         RecycleRule.Target.ORIGIN),
        (east, "分配后 24 小时未首次联系", "No first contact within 24 hours",
         RecycleRule.Kind.FIRST_TOUCH, 24, RecycleRule.Unit.HOURS, [4],
         RecycleRule.Target.ORIGIN),
        (south, "10 天无有效跟进", "No qualifying follow-up for 10 days",
         RecycleRule.Kind.NO_FOLLOWUP, 10, RecycleRule.Unit.DAYS, [48],
         RecycleRule.Target.ORIGIN),
        (south, "30 天未转化退回总池", "Not converted in 30 days: back to the master pool",
         RecycleRule.Kind.NOT_CONVERTED, 30, RecycleRule.Unit.DAYS, [72],
         RecycleRule.Target.PARENT),
        (sales, "15 天无有效跟进", "No qualifying follow-up for 15 days",
         RecycleRule.Kind.NO_FOLLOWUP, 15, RecycleRule.Unit.DAYS, [72, 24],
         RecycleRule.Target.ORIGIN),
    ]
    for pool, name, name_en, kind, threshold, unit, warn, target in rules:
        RecycleRule.objects.get_or_create(
            pool=pool, name=name,
            defaults={"name_en": name_en, "kind": kind, "threshold": threshold, "unit": unit,
                      "warn_offsets": warn,
                      "target": target, "max_recycles": 3, "dormant_pool": dormant,
                      "exclude_starred": kind == RecycleRule.Kind.NO_FOLLOWUP})


def _policy(pools: dict[str, LeadPool]) -> Policy:
    """The pools, rules and people as configured now: the history follows them."""
    User = get_user_model()
    users = {u.username: u.pk for u in User.objects.filter(
        username__in=[*EAST_REPS, *SOUTH_REPS, "marketing"])}
    managers = dict(Employee.objects.filter(user_id__in=users.values()).values_list(
        "user_id", "supervisor__user_id"))
    reps = {users[name]: Rep(users[name], "east" if name in EAST_REPS else "south",
                             managers.get(users[name]), COMFORT[name])
            for name in [*EAST_REPS, *SOUTH_REPS] if name in users}
    east_ids = [u for u, r in reps.items() if r.region == "east"]
    south_ids = [u for u, r in reps.items() if r.region == "south"]
    pool_clock_rules = clock_rules([p.pk for p in pools.values()])
    dormant_default = pools["dormant"].pk
    rules_by_pool: dict[int, dict[int, RuleInfo]] = {}
    for rule in RecycleRule.objects.filter(pool__in=pools.values(), is_active=True):
        rules_by_pool.setdefault(rule.pool_id, {})[rule.pk] = RuleInfo(
            rule.pk, rule.name, rule.kind,
            recycle_destination(rule, rule.pool, dormant_default))
    members = {}
    for member in PoolMember.objects.filter(pool__in=pools.values(), is_active=True):
        members.setdefault(member.pool_id, []).append(
            strategies.Candidate(user_id=member.user_id, weight=member.weight,
                                 regions=frozenset(member.regions or ()),
                                 categories=frozenset(member.categories or ())))

    def info(key: str, claimers: list[int], **options) -> PoolInfo:
        pool = pools[key]
        return PoolInfo(
            id=pool.pk, code=pool.code, region=pool.region, strategy=pool.strategy,
            owned_cap=pool.owned_cap, daily_claim_limit=pool.daily_claim_limit,
            cooldown=timedelta(days=pool.cooldown_days),
            clock_rules=pool_clock_rules.get(pool.pk, []), rules=rules_by_pool.get(pool.pk, {}),
            qualifying={"types": pool.qualifying_types, "outcomes": pool.qualifying_outcomes,
                        "min_length": pool.qualifying_min_length},
            claimers=claimers, members=members.get(pool.pk, []), **options)

    everyone = sorted(reps)
    return Policy(
        master=info("master", []),
        pools={"east": info("east", east_ids), "south": info("south", south_ids),
               "sales": info("sales", everyone, claim_delay=(4, 120), interest=0.35),
               "dormant": info("dormant", everyone, claim_delay=(200, 900), interest=0.15)},
        routes=route_rules(pools["master"]),
        reps=reps, marketing_id=users.get("marketing"),
        caps=strategies.Caps(None, OVERALL_CAP, grade_caps()))


# --- arrivals ----------------------------------------------------------------------------


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Phones:
    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def __call__(self) -> str:
        while True:
            mobile = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if mobile not in self.used:
                self.used.add(mobile)
                return mobile


def _lead_data(rng: random.Random, number: int, *, channel: str, region: str, phone) -> dict:
    company, industry = texts.company_name(rng, region)
    ours = [c for c in texts.LONG_STANDING if c[1] == region]
    if ours and channel in ("referral", "web_form", "event") and rng.random() < 0.12:
        company, _region, industry = rng.choice(ours)  # a long-standing customer asks again
    is_person = channel in ("ecommerce", "app") and rng.random() < 0.3
    data = {
        "name": texts.person_name(rng), "company": "" if is_person else company,
        "title": "" if is_person else rng.choice(texts.TITLES), "mobile": phone(),
        "email": f"lead{number}@example.com" if rng.random() < 0.35 else "",
        "wechat": f"wx_{rng.randrange(10**7, 10**8)}" if rng.random() < 0.3 else "",
        "region": region, "product_category": _pick(rng, CATEGORIES),
        "industry": "" if is_person else industry,
        "customer_size": rng.choice(["small", "small", "medium", "large", ""]),
        "channel": channel, "campaign": rng.choice(texts.CAMPAIGNS.get(channel, [""])),
        "external_id": f"demo-{number}", "notes": rng.choice(texts.LEAD_NOTES[channel]),
        "grade": rng.choice(["", "", "A", "B", "B", "C", "C"]),
        "platform_user_id": (f"U{rng.randrange(10**6, 10**7)}"
                             if channel in ("app", "mini_program") and rng.random() < 0.5
                             else ""),
        "attributes": {"source_page": rng.choice(["/pricing", "/demo", "/cases", "/contact"]),
                       "utm_source": rng.choice(["baidu", "wechat", "douyin", "zhihu", ""])},
    }
    if channel == "event":
        data["attributes"]["booth_visit"] = rng.choice(["A3-12", "B1-07", "C2-20"])
    return data


def _arrivals(world: World, *, count: int, now: datetime) -> None:
    """Leads arriving over the last six months through every channel and region, two
    imported lists, a few entered by reps, and a handful in the last hour that wait for
    the engine's first tick."""
    rng = random.Random(SEED + 1)
    phone = _Phones(rng)
    reps = world.policy.reps
    marketing = world.policy.marketing_id
    number = 0

    def add(moment, channel, region, **how):
        nonlocal number
        data = _lead_data(rng, number, channel=channel, region=region, phone=phone)
        world.arrive(Life(number, data, moment), **how)
        number += 1

    imports = [now - timedelta(days=days) for days in (150, 61)]
    moments = arrival_moments(rng, count=count - 70 - 12, days=HISTORY_DAYS,
                              now=now - timedelta(hours=2))
    batches = [(m, None) for m in moments] + [(imports[0], 40), (imports[1], 30)]
    for moment, batch in sorted(batches, key=lambda item: item[0]):
        if batch:  # marketing imported an exhibitor list: one moment, many leads
            moment = timezone.localtime(moment).replace(hour=10, minute=30, second=0,
                                                        microsecond=0)
            for _ in range(batch):
                add(moment, "file_import", _pick(rng, REGIONS), by=marketing)
            continue
        channel = _pick(rng, CHANNELS)
        if channel == "manual" and reps:
            rep = rng.choice(sorted(reps))
            add(moment, channel, reps[rep].region, by=rep, take=True)
        else:
            add(moment, channel, _pick(rng, REGIONS))
    recent = ["east", "south", "north", "east", "south", "east", "north", "south", "east",
              "south", "east", "south"]
    for minutes, region in zip(sorted(rng.sample(range(3, 80), 12), reverse=True), recent,
                               strict=True):
        add(now - timedelta(minutes=minutes), _pick(rng, CHANNELS | {"manual": 0}), region,
            route=False)


# --- writing -----------------------------------------------------------------------------


def _write(world: World, *, now: datetime, engine: bool) -> None:
    """Insert what the world did: leads, then conversions, events, follow-ups,
    touchpoints; the clocks and the assignment counters as the engine keeps them."""
    lives = world.lives
    leads = [_lead_row(life) for life in lives]
    Lead.objects.bulk_create(leads, batch_size=1000)
    for life, lead in zip(lives, leads, strict=True):
        life.data["pk"] = lead.pk
    by_number = {life.number: lead for life, lead in zip(lives, leads, strict=True)}
    converted_events = _convert(world, by_number, engine=engine)
    events = [LeadEvent(lead_id=life.data["pk"], kind=e.kind, actor_id=e.actor,
                        from_owner_id=e.from_owner, to_owner_id=e.to_owner,
                        from_pool_id=e.from_pool, to_pool_id=e.to_pool, reason=e.reason,
                        rule_id=e.rule_id, detail=e.detail, note=e.note, created_at=e.at)
              for life in lives for e in life.events]
    LeadEvent.objects.bulk_create(events + converted_events, batch_size=2000)
    followups = []
    for life in lives:
        followups += followup_rows(life.notes, open_record=life.status in Lead.OPEN_STATUSES,
                                   now=now, lead_id=life.data["pk"])
    FollowUp.objects.bulk_create(followups, batch_size=2000)
    overdue_reminders(followups, code="lead", names={lead.pk: lead.name for lead in leads},
                      owners={lead.pk: lead.owner_id for lead in leads}, now=now)
    _touchpoints(lives, now=now)
    for pool_id, counters in world.swrr.items():
        for user_id, current in counters.items():
            PoolMember.objects.filter(pool_id=pool_id, user_id=user_id).update(
                swrr_current=current)
    owned = [life.data["pk"] for life in lives if life.status in Lead.OPEN_STATUSES]
    refresh_due(LEADS, ids=owned, now=now)


def _lead_row(life: Life) -> Lead:
    data = {k: v for k, v in life.data.items() if k != "pk"}
    created_by = life.events[0].actor
    lead = Lead(**data, pool_id=life.pool.id, owner_id=life.owner, status=life.status,
                created_at=life.created_at, created_by_id=created_by,
                assigned_at=life.assigned_at if life.owner else None,
                pooled_at=life.pooled_at, last_qualified_at=life.last_qualified_at,
                last_followup_at=life.last_followup_at,
                next_followup_at=life.next_followup_at, recycle_count=life.recycle_count,
                is_starred=life.starred and life.status in Lead.OPEN_STATUSES,
                invalid_reason=life.invalid_reason, converted_at=life.converted_at)
    lead.refresh_keys()
    return lead


def _convert(world: World, by_number: dict[int, Lead], *, engine: bool) -> list[LeadEvent]:
    """Hand the converted leads to the registered converter; link what it made and
    return the CONVERTED events (``lead_convert`` writes them with these details)."""
    conversions = [Conversion(lead=by_number[life.number], owner_id=owner, at=moment,
                              notes=life.notes)
                   for life, owner, moment in world.conversions]
    if not conversions:
        return []
    for converter in _CONVERTERS:
        converter(conversions, engine=engine)
    from crm_site.lib.bulk import update_rows

    update_rows(Lead, ["pk", "customer", "contact", "opportunity"],
                [(c.lead.pk, c.customer_id, c.contact_id, c.opportunity_id)
                 for c in conversions])
    return [LeadEvent(lead_id=c.lead.pk, kind=LeadEvent.Kind.CONVERTED, actor_id=c.owner_id,
                      from_owner_id=c.owner_id, to_owner_id=c.owner_id,
                      from_pool_id=c.lead.pool_id, to_pool_id=c.lead.pool_id, created_at=c.at,
                      detail={"customer": c.customer_id, "contact": c.contact_id,
                              "opportunity": c.opportunity_id,
                              "customer_created": c.customer_created})
            for c in conversions]


def followup_rows(notes: list[Note], *, open_record: bool, now: datetime,
                  **subject) -> list[FollowUp]:
    """The follow-ups of one record as ``followup_record`` leaves them: each newer one
    closes the plan of the one before (whose reminder went out if it fell due first), and
    only the newest plan of a record still open stays open."""
    rows = []
    for index, note in enumerate(notes):
        newer = notes[index + 1] if index + 1 < len(notes) else None
        planned = note.next_at
        if newer is not None:
            plan_open = False
            reminded = planned if planned is not None and planned <= newer.at else None
        else:
            plan_open = planned is not None and open_record
            reminded = planned if planned is not None and planned <= now else None
        rows.append(FollowUp(author_id=note.author, kind=note.kind, outcome=note.outcome,
                             content=note.content, next_at=planned, qualifies=note.qualifies,
                             plan_open=plan_open, reminded_at=reminded, created_at=note.at,
                             **subject))
    return rows


def overdue_reminders(followups: list[FollowUp], *, code: str, names: dict[int, str],
                      owners: dict[int, int], now: datetime) -> None:
    """The reminders ``reminder_sweep`` sent for open plans that fell due — to the
    record's owner, unread: the same kind, text and idempotency key, at the moment the
    plan fell due."""
    from ..followups.services import REMINDER_KINDS

    url = {"lead": "lead_detail", "customer": "customer_detail",
           "opportunity": "opportunity_detail"}[code]
    rows = []
    for followup in followups:
        if not (followup.plan_open and followup.next_at and followup.next_at <= now):
            continue
        record_id = getattr(followup, f"{code}_id")
        due = timezone.localtime(followup.next_at)
        if owners.get(record_id) is None:
            continue
        rows.append(Notification(
            recipient_id=owners[record_id], kind=REMINDER_KINDS[code],
            params={"name": names.get(record_id, ""), "due": f"{due:%Y-%m-%d %H:%M}"},
            url=reverse(url, args=[record_id]),
            key=f"followup:{followup.pk}:{followup.next_at.astimezone(UTC).isoformat()}",
            created_at=followup.next_at))
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _touchpoints(lives: list[Life], *, now: datetime) -> None:
    """Some people came back through another channel after they were first recorded."""
    rng = random.Random(SEED + 2)
    rows = []
    for life in lives:
        if rng.random() > 0.08:
            continue
        for _ in range(rng.randrange(1, 3)):
            moment = life.created_at + timedelta(days=rng.uniform(1, 40))
            if moment < now:
                channel = rng.choice(["web_form", "official_account", "mini_program",
                                      "search_ads"])
                rows.append(Touchpoint(lead_id=life.data["pk"], channel=channel,
                                       occurred_at=moment,
                                       payload={"name": life.data["name"], "channel": channel,
                                                "note": rng.choice(texts.LEAD_NOTES[channel])}))
    Touchpoint.objects.bulk_create(rows, batch_size=1000)


__all__ = ["Conversion", "demo_leads", "followup_rows", "overdue_reminders",
           "register_demo_conversions", "seed_demo"]
