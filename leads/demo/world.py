"""Six months of lead history, simulated over a controlled clock with the engine's own
decisions.

A discrete-event simulation: leads arrive through every channel and region; the routing
rules, the assignment strategy and the recycle clock of the demo pools decide what the
engine would have done — with the same pure functions the engine runs
(``leads.engine.routing``, ``strategies.assign``, ``clock.due``, ``clock.qualifies``) — and
reps claim, follow up, release, convert or let leads go stale as people do, within the
caps, daily claim limits and cool-downs the services enforce. Nothing is written here:
``leads.demo`` inserts the result in bulk, every row stamped with the moment the real
service would have stamped on it.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from orgs.demo import office_after, office_moment

from ..engine import clock, routing, strategies
from . import texts

# A lead's life is a few dozen scheduled steps; the whole demo, ~30,000.
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Rep:
    user_id: int
    region: str  # "east" or "south"
    manager_id: int
    comfort: int  # open leads a rep holds before they stop claiming more


@dataclass(frozen=True)
class RuleInfo:
    """What the simulation needs of a recycle rule besides its clock."""

    id: int
    name: str
    kind: str
    destination: clock.Destination


@dataclass
class PoolInfo:
    id: int
    code: str
    region: str
    strategy: str
    owned_cap: int | None
    daily_claim_limit: int | None
    cooldown: timedelta
    clock_rules: list[clock.ClockRule]
    rules: dict[int, RuleInfo]
    qualifying: dict
    claimers: list[int]  # reps who claim from the pool (when no strategy hands leads out)
    members: list[strategies.Candidate] = field(default_factory=list)  # the strategy's roster
    claim_delay: tuple[float, float] = (0.5, 30)  # hours until someone looks at a new lead
    interest: float = 0.8  # chance a rep who looks takes the lead


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    actor: int | None = None
    from_owner: int | None = None
    to_owner: int | None = None
    from_pool: int | None = None
    to_pool: int | None = None
    reason: str = ""
    rule_id: int | None = None
    detail: dict | None = None
    note: str = ""


@dataclass(frozen=True)
class Note:
    """A follow-up as ``followup_record`` writes it."""

    at: datetime
    author: int
    kind: str
    outcome: str
    content: str
    next_at: datetime | None
    qualifies: bool


@dataclass
class Life:
    """One lead: its fields (``data``), where it is now, and what happened to it."""

    number: int
    data: dict
    created_at: datetime
    pool: PoolInfo | None = None
    owner: int | None = None
    status: str = "in_pool"
    assigned_at: datetime | None = None
    pooled_at: datetime | None = None
    last_qualified_at: datetime | None = None
    last_followup_at: datetime | None = None
    next_followup_at: datetime | None = None
    recycle_count: int = 0
    returns: int = 0  # times it went back to a pool (released or recycled)
    starred: bool = False
    invalid_reason: str = ""
    converted_at: datetime | None = None
    events: list[Event] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    lost_by: dict[int, datetime] = field(default_factory=dict)
    stint: int = 0  # bumped at every change of hands: steps of an old stint are dropped
    clock_version: int = 0  # bumped whenever the recycle clock's facts change
    waiting_since: datetime | None = None


@dataclass(frozen=True)
class Policy:
    """The demo's pools and people, as the simulation sees them."""

    master: PoolInfo
    pools: dict[str, PoolInfo]  # by region code, plus "sales" and "dormant"
    routes: list[routing.RouteRule]  # the master pool's active routing rules
    reps: dict[int, Rep]
    marketing_id: int
    caps: strategies.Caps  # the overall and grade caps (each pool has its own cap)


class World:
    """The clock, the agenda of steps, and every lead."""

    def __init__(self, policy: Policy, *, now: datetime, seed: int, can_convert: bool):
        self.policy = policy
        self.now = now
        self.rng = random.Random(seed)
        self.can_convert = can_convert
        self.lives: list[Life] = []
        self.conversions: list[tuple[Life, int, datetime]] = []  # life, owner, moment
        self.by_id = {pool.id: pool for pool in [policy.master, *policy.pools.values()]}
        self._agenda: list = []
        self._order = itertools.count()
        # Who holds what: open leads per (rep, pool), claims per (rep, pool, day).
        self.open: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.claims: dict[tuple, int] = defaultdict(int)
        self.swrr: dict[int, dict[int, int]] = defaultdict(dict)  # pool → rep → counter

    # --- the agenda ------------------------------------------------------------------------

    def at(self, moment: datetime, step: Callable, *args) -> None:
        if moment <= self.now:
            heapq.heappush(self._agenda, (moment, next(self._order), step, args))

    def run(self) -> None:
        while self._agenda:
            moment, _n, step, args = heapq.heappop(self._agenda)
            step(moment, *args)

    # --- loads -----------------------------------------------------------------------------

    def load(self, user_id: int) -> int:
        return sum(self.open[user_id].values())

    def _take(self, life: Life, user_id: int) -> None:
        self.open[user_id][life.pool.id] += 1

    def _drop(self, life: Life) -> None:
        if life.owner is not None:
            self.open[life.owner][life.pool.id] -= 1

    def _may_hold(self, user_id: int, pool: PoolInfo) -> bool:
        return pool.owned_cap is None or self.open[user_id][pool.id] < pool.owned_cap

    def _cooled(self, life: Life, user_id: int, moment: datetime) -> bool:
        lost = life.lost_by.get(user_id)
        return lost is not None and moment - lost < life.pool.cooldown

    # --- arrival and routing ---------------------------------------------------------------

    def arrive(self, life: Life, *, by: int | None = None, take: bool = False,
               route: bool = True) -> None:
        """A lead enters: into the master pool (channels, imports), or entered by a rep
        straight into their region's pool and owned at once. ``route=False``: it arrived
        while the engine was not running, and waits for its first tick."""
        self.lives.append(life)
        moment = life.created_at
        if take and by is not None:
            pool = self.policy.pools[self.policy.reps[by].region]
            life.pool, life.pooled_at = pool, moment
            life.events.append(Event("created", moment, actor=by, to_owner=by, to_pool=pool.id,
                                     reason=life.data["channel"]))
            self._start(moment, life, by)
            return
        life.pool, life.pooled_at = self.policy.master, moment
        life.events.append(Event("created", moment, actor=by, to_pool=self.policy.master.id,
                                 reason=life.data["channel"]))
        if route:
            self._route_later(life, moment)

    def _facts_for_routing(self, life: Life) -> routing.RouteFacts:
        return routing.RouteFacts(id=life.number, region=life.data["region"],
                                  product_category=life.data["product_category"],
                                  channel=life.data["channel"],
                                  customer_size=life.data["customer_size"],
                                  attributes=life.data["attributes"])

    def _route_later(self, life: Life, moment: datetime) -> None:
        """The engine routes by the master pool's rules at its next tick; what no rule
        matches, marketing routes by hand: to the region's pool, or to the sales pool for
        regions without a team of their own."""
        found = routing.route_all([self._facts_for_routing(life)], self.policy.routes, None)
        if found:
            self.at(moment + timedelta(seconds=self.rng.randrange(5, 40)), self._route, life,
                    found[0])
        else:
            self.at(office_after(moment, self.rng, hours=(0.5, 30)), self._route_by_hand, life)

    def _route(self, moment: datetime, life: Life, found: routing.Route) -> None:
        target = self.by_id[found.target_pool_id]
        life.events.append(Event("routed", moment, from_pool=life.pool.id, to_pool=target.id,
                                 reason="routing_rule", rule_id=found.rule_id))
        self._enter(moment, life, target)

    def _route_by_hand(self, moment: datetime, life: Life) -> None:
        region = life.data["region"]
        target = self.policy.pools[region if region in ("east", "south") else "sales"]
        life.events.append(Event("routed", moment, actor=self.policy.marketing_id,
                                 from_pool=life.pool.id, to_pool=target.id, reason="manual"))
        self._enter(moment, life, target)

    def _enter(self, moment: datetime, life: Life, pool: PoolInfo) -> None:
        """The lead waits in ``pool``: the pool's strategy hands it out at once, or reps
        come by and claim it."""
        life.pool, life.pooled_at, life.waiting_since = pool, moment, moment
        life.owner, life.status, life.assigned_at = None, "in_pool", None
        life.next_followup_at, life.starred = None, False
        if pool.id == self.policy.master.id:
            self._route_later(life, moment)
        elif pool.strategy in strategies.STRATEGIES:
            self.at(moment + timedelta(seconds=self.rng.randrange(5, 30)), self._assign, life,
                    life.stint)
        else:
            self.at(office_after(moment, self.rng, hours=pool.claim_delay), self._claim, life,
                    life.stint)

    def _assign(self, moment: datetime, life: Life, stint: int, *,
                away_from: int | None = None, sla: RuleInfo | None = None) -> bool:
        """The pool's strategy picks a member (``strategies.assign``); returns whether
        someone took the lead."""
        if life.stint != stint:
            return False
        pool = life.pool
        blocked = {u for u in life.lost_by if self._cooled(life, u, moment)}
        if away_from is not None:
            blocked.add(away_from)
        roster = [strategies.Candidate(
            user_id=m.user_id, weight=m.weight, swrr_current=self.swrr[pool.id].get(m.user_id, 0),
            open_total=self.load(m.user_id), open_in_pool=self.open[m.user_id][pool.id])
            for m in pool.members]
        item = strategies.Item(life.number, life.data["region"], life.data["product_category"],
                               life.data["grade"], frozenset(blocked))
        caps = strategies.Caps(pool.owned_cap, self.policy.caps.overall_cap,
                               self.policy.caps.grade_caps)
        outcome = strategies.assign([item], roster, strategy=pool.strategy, caps=caps,
                                    pool_region=pool.region)
        self.swrr[pool.id] = outcome.swrr
        if not outcome.decisions:
            if sla is None:  # nobody has room: the next tick tries again
                self.at(moment + DAY, self._assign, life, stint)
            return False
        user_id, detail = outcome.decisions[0].user_id, outcome.decisions[0].detail
        if sla is not None:
            life.events.append(Event("transferred", moment, from_owner=away_from,
                                     to_owner=user_id, from_pool=pool.id, to_pool=pool.id,
                                     reason="first_touch_sla", rule_id=sla.id,
                                     detail={**detail, "sla": sla.name}))
        else:
            life.events.append(Event("assigned", moment, to_owner=user_id, from_pool=pool.id,
                                     to_pool=pool.id, reason=pool.strategy, detail=detail))
        self._start(moment, life, user_id)
        return True

    def _claim(self, moment: datetime, life: Life, stint: int) -> None:
        if life.stint != stint or life.owner is not None:
            return
        pool, rng = life.pool, self.rng
        day = timezone.localtime(moment).date()
        able = [u for u in pool.claimers
                if self.load(u) < self.policy.reps[u].comfort and self._may_hold(u, pool)
                and not self._cooled(life, u, moment)
                and (pool.daily_claim_limit is None
                     or self.claims[(u, pool.id, day)] < pool.daily_claim_limit)]
        interest = pool.interest * 0.45 ** life.returns  # a lead others gave up on
        if not able or rng.random() > interest:
            if moment - life.waiting_since < timedelta(days=75):
                self.at(office_after(moment, rng, hours=(20, 120)), self._claim, life, stint)
            return
        user_id = rng.choices(able, weights=[self.policy.reps[u].comfort - self.load(u)
                                             for u in able])[0]
        self.claims[(user_id, pool.id, day)] += 1
        life.events.append(Event("claimed", moment, actor=user_id, to_owner=user_id,
                                 from_pool=pool.id, to_pool=pool.id))
        self._start(moment, life, user_id)

    # --- a stint: one owner working the lead -----------------------------------------------

    def _start(self, moment: datetime, life: Life, user_id: int) -> None:
        life.stint += 1
        life.clock_version += 1
        life.owner, life.status, life.assigned_at = user_id, "assigned", moment
        life.starred = life.data["grade"] in ("A", "B") and self.rng.random() < 0.1
        self._take(life, user_id)
        fate = self._fate(life)
        # Under a first-touch clock reps call new leads within hours, evenings and weekends
        # included now and then (once in a while nobody calls in time); a lead they claimed
        # themselves may wait for the next working day.
        rng = self.rng
        sla = any(rule.kind == clock.FIRST_TOUCH for rule in life.pool.clock_rules)
        late = sla and rng.random() < 0.03
        first = office_after(moment, rng, hours=(26, 60) if late else (0.2, 3) if sla
                             else (0.5, 20), weekend_work=0.6 if sla else 0.15)
        if sla and not late and first - moment > timedelta(hours=20):
            first = moment + timedelta(minutes=rng.randrange(20, 240))  # off hours
        self.at(first, self._contact, life, life.stint, fate, 0)
        self._watch(moment, life)

    def _fate(self, life: Life) -> dict:
        """How this stint will end, and roughly when."""
        rng, grade = self.rng, life.data["grade"]
        convert = {"A": 0.16, "B": 0.09, "C": 0.03}.get(grade, 0.05)
        if life.data["channel"] in ("referral", "event"):
            convert += 0.04
        convert *= 0.5 ** life.returns  # others have tried it before
        if not self.can_convert:
            convert = 0
        weights = {"convert": convert, "invalid": 0.13 + 0.05 * min(life.returns, 3),
                   "release": 0.08, "transfer": 0.04, "neglect": 0.1, "keep": 0.25}
        if life.starred:
            weights["neglect"] = 0  # nobody stars a lead to forget it
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        days = {"convert": (4, 26), "invalid": (0.5, 6), "release": (3, 20),
                "transfer": (5, 18), "neglect": (1, 6), "keep": (10, 35)}[kind]
        if kind == "keep":  # worked for weeks, then converted after all, or given up
            kind = "convert" if convert and rng.random() < 0.2 else "release"
        return {"kind": kind, "until": life.assigned_at + timedelta(days=rng.uniform(*days))}

    def _contact(self, moment: datetime, life: Life, stint: int, fate: dict, tries: int,
                 must: bool = False) -> None:
        """The owner's next contact attempt, and what they do after it. ``must``: the
        recycle clock is about to run out, and the owner makes a contact that counts."""
        if life.stint != stint:
            return
        rng, kind = self.rng, fate["kind"]
        uncontacted = (life.last_qualified_at is None
                       or life.last_qualified_at < life.assigned_at)
        if kind == "invalid":
            moment_of_talk = "invalid"
        elif tries == 0 or (tries < 4 and uncontacted):
            moment_of_talk = "first"
        elif kind in ("neglect", "transfer") and tries >= 2:
            moment_of_talk = "cold"
        elif moment >= fate["until"] and kind == "convert":
            moment_of_talk = "closing"
        else:
            moment_of_talk = "nurture"
        note = self._note(life, moment_of_talk, must=must and moment_of_talk != "cold")
        self._write(moment, life, *note)
        if moment >= fate["until"] or (kind == "invalid" and tries >= 1):
            self.at(office_after(moment, rng, hours=(0.2, 3)), self._finish, life, stint, fate)
            return
        if kind == "neglect" and tries >= 3:
            return  # no more contact: the recycle clock runs out
        if life.last_qualified_at is None or life.last_qualified_at < life.assigned_at:
            later = office_after(moment, rng, hours=(1, 5), weekend_work=0.6)  # try again
        else:
            later = office_after(moment, rng, hours=(30, 140))
        must = False
        due = clock.due(self._facts(life), life.pool.clock_rules, moment)
        if due is not None and kind not in ("neglect", "transfer") and later > due.at - HOUR:
            # The lead shows as "about to go back" on the workbench: the owner acts first,
            # in office hours when there is time for it.
            hours = max((due.at - moment).total_seconds() / 3600, 0.5)
            later = office_after(moment, rng, hours=(0.3 * hours, 0.8 * hours),
                                 weekend_work=1)
            if later > due.at - HOUR / 2:
                later = moment + timedelta(hours=rng.uniform(0.5, 0.9) * hours)
            must = True
        self.at(later, self._contact, life, stint, fate, tries + 1, must)

    def _note(self, life: Life, moment_of_talk: str, *, must: bool) -> tuple[str, str, str]:
        """What the owner writes; with ``must``, a contact the pool counts."""
        category = life.data["product_category"]
        for _ in range(12):
            note = texts.followup(self.rng, moment_of_talk, category=category)
            if not must or self._counts(life.pool, *note):
                return note
        return note

    @staticmethod
    def _counts(pool: PoolInfo, kind: str, outcome: str, content: str) -> bool:
        return clock.qualifies(kind=kind, outcome=outcome, content=content,
                               types=pool.qualifying["types"],
                               outcomes=pool.qualifying["outcomes"],
                               min_length=pool.qualifying["min_length"])

    def _write(self, moment: datetime, life: Life, kind: str, outcome: str, content: str) -> None:
        rng, pool = self.rng, life.pool
        planned = None
        if rng.random() < 0.75:
            planned = office_after(moment, rng, hours=(18, 100))
        counts = self._counts(pool, kind, outcome, content)
        life.notes.append(Note(moment, life.owner, kind, outcome, content, planned, counts))
        life.status = "following"
        life.last_followup_at, life.next_followup_at = moment, planned
        if counts:
            life.last_qualified_at = moment
            life.clock_version += 1
            self._watch(moment, life)

    def _finish(self, moment: datetime, life: Life, stint: int, fate: dict) -> None:
        if life.stint != stint:
            return
        rng, kind, owner = self.rng, fate["kind"], life.owner
        if kind == "convert" and self.can_convert:
            self._drop(life)
            life.status, life.converted_at = "converted", moment
            life.stint += 1
            self.conversions.append((life, owner, moment))
        elif kind == "invalid":
            self._drop(life)
            reason = ("wrong_number" if life.notes[-1].outcome == "not_connected"
                      else rng.choice(["no_need", "competitor", "spam", "duplicate"]))
            life.status, life.invalid_reason = "invalid", reason
            life.stint += 1
            life.events.append(Event("invalidated", moment, actor=owner, from_owner=owner,
                                     to_owner=owner, from_pool=life.pool.id,
                                     to_pool=life.pool.id, reason=reason))
        elif kind == "transfer" and self._transfer(moment, life):
            return
        else:
            reason = rng.choice(list(texts.RELEASE_NOTES))
            life.events.append(Event("released", moment, actor=owner, from_owner=owner,
                                     from_pool=life.pool.id, to_pool=life.pool.id,
                                     reason=reason, note=texts.RELEASE_NOTES[reason]))
            self._let_go(moment, life)
            self._enter(moment, life, life.pool)

    def _transfer(self, moment: datetime, life: Life) -> bool:
        """The owner's manager moves the lead to a colleague with room; False if none."""
        owner, pool = life.owner, life.pool
        rep = self.policy.reps[owner]
        others = [r.user_id for r in self.policy.reps.values()
                  if r.manager_id == rep.manager_id and r.user_id != owner
                  and self._may_hold(r.user_id, pool) and self.load(r.user_id) < r.comfort
                  and not self._cooled(life, r.user_id, moment)]
        if not others:
            return False
        to = min(others, key=self.load)
        reason = self.rng.choices(list(texts.TRANSFER_NOTES), weights=[6, 2, 1, 1])[0]
        life.events.append(Event("transferred", moment, actor=rep.manager_id, from_owner=owner,
                                 to_owner=to, from_pool=pool.id, to_pool=pool.id, reason=reason,
                                 note=texts.TRANSFER_NOTES[reason]))
        self._drop(life)
        life.lost_by[owner] = moment
        self._start(moment, life, to)
        return True

    def _let_go(self, moment: datetime, life: Life) -> None:
        """The owner loses the lead (release, recycle): cool-down starts, plans close."""
        self._drop(life)
        life.returns += 1
        life.lost_by[life.owner] = moment
        life.stint += 1
        life.clock_version += 1

    # --- the recycle clock -----------------------------------------------------------------

    def _facts(self, life: Life) -> clock.ClockFacts:
        return clock.ClockFacts(id=life.number, assigned_at=life.assigned_at,
                                last_qualified_at=life.last_qualified_at,
                                grade=life.data["grade"], starred=life.starred,
                                status=life.status)

    def _watch(self, moment: datetime, life: Life) -> None:
        """Put the lead's next deadline on the agenda (dropped if the facts change)."""
        due = clock.due(self._facts(life), life.pool.clock_rules, moment)
        if due is not None:
            self.at(max(due.at, moment), self._due, life, life.stint, life.clock_version,
                    due.rule_id)

    def _due(self, moment: datetime, life: Life, stint: int, version: int, rule_id: int) -> None:
        if life.stint != stint or life.clock_version != version or life.owner is None:
            return
        rule = life.pool.rules[rule_id]
        owner = life.owner
        if rule.kind == clock.FIRST_TOUCH and life.pool.strategy in strategies.STRATEGIES:
            self._drop(life)
            life.lost_by[owner] = moment
            life.stint += 1
            if self._assign(moment, life, life.stint, away_from=owner, sla=rule):
                return
            self.open[owner][life.pool.id] += 1  # nobody took it: recycled below instead
            life.stint -= 1
        target_id, dormant = rule.destination.for_count(life.recycle_count)
        life.recycle_count += 1
        life.events.append(Event("recycled", moment, from_owner=owner, from_pool=life.pool.id,
                                 to_pool=target_id, reason=rule.kind, rule_id=rule.id,
                                 detail={"due": moment.isoformat(),
                                         "count": life.recycle_count, "dormant": dormant}))
        self._let_go(moment, life)
        self._enter(moment, life, self.by_id[target_id])


# --- arrivals ---------------------------------------------------------------------------------

REGIONS = {"east": 38, "south": 34, "north": 8, "central": 6, "southwest": 5, "northwest": 3,
           "northeast": 3, "overseas": 3}
CHANNELS = {"web_form": 16, "official_account": 12, "mini_program": 8, "app": 5, "pc_site": 6,
            "search_ads": 15, "ecommerce": 7, "event": 9, "referral": 7, "manual": 7}
CATEGORIES = {"software": 45, "hardware": 25, "services": 20, "training": 10}


def arrival_moments(rng: random.Random, *, count: int, days: int, now: datetime) -> list[datetime]:
    """``count`` moments over the last ``days``, more on weekdays and more lately (the
    business grows)."""
    start = timezone.localtime(now).date() - timedelta(days=days)
    weights = [(0.7 + 0.6 * d / days) * (0.45 if (start + timedelta(days=d)).weekday() >= 5
                                         else 1.0) for d in range(days)]
    picked = rng.choices(range(days), weights=weights, k=count)
    moments = [office_moment(start + timedelta(days=d), rng, start=8, end=22) for d in picked]
    return sorted(m if m < now else m - DAY for m in moments)  # later today: the day before
