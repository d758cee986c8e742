"""The life of a demo opportunity and of a customer relationship, over a controlled clock.

An opportunity moves through the stage dictionary with follow-ups between the moves and
ends won, lost, or still open today; an owner who lets it stall loses it to the
opportunity pool when the pool's recycle clock (``leads.engine.clock.due`` over the pool's
rules) runs out, and another rep may claim it there. A customer with a signed deal gets
care visits, payment calls and renewal talks. Nothing is written here: the results are
rows for ``opportunities.demo`` to insert, stamped as the services would have stamped them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from leads.demo import texts
from leads.demo.world import Note
from leads.engine import clock
from orgs.demo import office_after

from ..stages import Stage

DEALS = {
    "software": ["CRM 系统采购", "MES 系统实施", "数据中台建设", "ERP 升级项目", "年度软件订阅"],
    "hardware": ["视觉检测设备采购", "智能仓储 AGV 项目", "门店收银系统更换", "边缘网关部署"],
    "services": ["私有化部署服务", "年度维保服务", "数据迁移项目", "系统集成项目"],
    "training": ["管理层数字化培训", "操作员认证培训"],
}
AMOUNTS = {"software": (60, 1200), "hardware": (50, 1800), "services": (30, 400),
           "training": (20, 150)}  # thousands of yuan


@dataclass(frozen=True)
class Move:
    from_stage: str
    to_stage: str
    by: int | None
    at: datetime
    held: timedelta | None


@dataclass(frozen=True)
class Hand:
    """An ownership event of an opportunity."""

    kind: str
    at: datetime
    actor: int | None = None
    from_owner: int | None = None
    to_owner: int | None = None
    to_pool: bool = True
    reason: str = ""
    rule_id: int | None = None
    detail: dict | None = None


@dataclass
class Deal:
    """One opportunity from the moment it is opened to today."""

    name: str
    category: str
    amount: Decimal
    created_at: datetime
    owner: int | None
    stage: str
    opened_by: int | None = None  # who opened it: its first owner, or who imported it
    converted_from: int | None = None  # the lead it was converted from
    type: str = "solution"
    status: str = "open"
    lost_reason: str = ""
    closed_at: datetime | None = None
    stage_changed_at: datetime | None = None
    assigned_at: datetime | None = None
    pooled_at: datetime | None = None
    last_qualified_at: datetime | None = None
    last_followup_at: datetime | None = None
    next_followup_at: datetime | None = None
    recycle_count: int = 0
    moves: list[Move] = field(default_factory=list)
    hands: list[Hand] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class DealRules:
    """What a deal's life follows: the stage dictionary and the opportunity pool's clock."""

    stages: list[Stage]
    lost_reasons: list[str]
    clock_rules: list[clock.ClockRule]
    rule_names: dict[int, str]
    claimers: list[int]  # reps who may claim from the opportunity pool


def new_deal(rng: random.Random, *, company: str, category: str, at: datetime,
             owner: int | None, stage: str) -> Deal:
    low, high = AMOUNTS[category]
    amount = Decimal(rng.randrange(low, high) * 1000)
    short = company[2:6] if len(company) > 8 else company
    return Deal(name=f"{short}{rng.choice(DEALS[category])}", category=category,
                amount=amount, created_at=at, owner=owner, stage=stage, opened_by=owner,
                status="open" if owner else "in_pool",
                type="bidding" if amount >= 800_000 and rng.random() < 0.6 else "solution",
                stage_changed_at=at, assigned_at=at if owner else None, pooled_at=at,
                last_qualified_at=at if owner else None)


def live(deal: Deal, rng: random.Random, rules: DealRules, *, now: datetime) -> Deal:
    """Play the deal from its creation to ``now``: stage moves with follow-ups between
    them, then won or lost (or still open today), or stalled — when the pool's clock runs
    out it goes back to the opportunity pool, where another rep may claim it and carry on."""
    moment = deal.created_at
    if deal.owner is None:
        moment = _wait_in_pool(deal, rng, rules, moment, now)
    while deal.owner is not None and deal.status == "open":
        fate = rng.choices(["won", "lost", "stall"], weights=[45, 40, 15])[0]
        ended = _work(deal, rng, rules, fate, moment, now)
        if ended is None:
            return deal  # today, or closed
        moment = _wait_in_pool(deal, rng, rules, ended, now)
    return deal


def _work(deal: Deal, rng: random.Random, rules: DealRules, fate: str, moment: datetime,
          now: datetime) -> datetime | None:
    """One owner's work on the deal; returns when the pool took it back (else None)."""
    open_stages = [s.code for s in rules.stages if not s.closed]
    closing = {s.closed: s.code for s in rules.stages if s.closed}
    last_open = len(open_stages) - 1
    position = open_stages.index(deal.stage) if deal.stage in open_stages else 0
    target = last_open if fate == "won" else rng.randrange(position, last_open + 1)
    end = moment + timedelta(days=rng.uniform(*((12, 60) if rng.random() < 0.7 else (40, 120))))
    worked = 0
    while True:
        if fate == "stall" and worked and rng.random() < 0.45:
            # The owner stops: the pool's clock runs out, or is about to.
            due = clock.due(clock.ClockFacts(id=0, assigned_at=deal.assigned_at,
                                             last_qualified_at=deal.last_qualified_at),
                            rules.clock_rules, moment)
            if due is None or due.at > now:
                return None
            _recycle(deal, due)
            return due.at
        moment = office_after(moment, rng, hours=(10, 24 * 8))
        if moment > now:
            return None
        write_note(deal, rng, moment)
        worked += 1
        position = open_stages.index(deal.stage)
        if position < target and (moment >= end or rng.random() < 0.5):
            moment = office_after(moment, rng, hours=(0.5, 6))
            if moment > now:
                return None
            move_stage(deal, open_stages[position + 1], moment)
            position += 1
        if moment >= end and fate in closing and (fate == "lost" or position == last_open):
            moment = office_after(moment, rng, hours=(1, 30))
            if moment > now:
                return None
            move_stage(deal, closing[fate], moment)
            deal.status, deal.closed_at = fate, moment
            if fate == "lost":
                deal.lost_reason = rng.choice(rules.lost_reasons)
            return None


def write_note(deal: Deal, rng: random.Random, moment: datetime) -> None:
    kind, outcome, content = texts.followup(rng, "opportunity", category=deal.category)
    planned = office_after(moment, rng, hours=(30, 150)) if rng.random() < 0.7 else None
    # The opportunity pool counts every follow-up with a real note as progress.
    deal.notes.append(Note(moment, deal.owner, kind, outcome, content, planned, True))
    deal.last_followup_at, deal.next_followup_at = moment, planned
    deal.last_qualified_at = moment


def move_stage(deal: Deal, to: str, moment: datetime) -> None:
    held = moment - deal.stage_changed_at if deal.moves else moment - deal.created_at
    deal.moves.append(Move(deal.stage, to, deal.owner, moment, held))
    deal.stage, deal.stage_changed_at = to, moment
    deal.last_qualified_at = moment


def _recycle(deal: Deal, due: clock.Due) -> None:
    deal.recycle_count += 1
    deal.hands.append(Hand("recycled", due.at, from_owner=deal.owner, reason="no_progress",
                           rule_id=due.rule_id,
                           detail={"due": due.at.isoformat(), "count": deal.recycle_count,
                                   "dormant": False}))
    deal.owner, deal.status, deal.assigned_at = None, "in_pool", None
    deal.pooled_at = due.at


def _wait_in_pool(deal: Deal, rng: random.Random, rules: DealRules, moment: datetime,
                  now: datetime) -> datetime:
    """Someone may claim the deal from the opportunity pool (not whoever just lost it)."""
    deal.status = "in_pool"
    losers = {h.from_owner for h in deal.hands if h.kind == "recycled"}
    able = [u for u in rules.claimers if u not in losers]
    claim_at = office_after(moment, rng, hours=(6, 24 * 20))
    if not able or claim_at > now or rng.random() < 0.35:
        return moment
    owner = rng.choice(able)
    deal.hands.append(Hand("claimed", claim_at, actor=owner, to_owner=owner))
    deal.owner, deal.status, deal.assigned_at = owner, "open", claim_at
    deal.last_qualified_at = claim_at
    return claim_at


def care(rng: random.Random, *, owner: int, since: datetime, now: datetime,
         every: tuple[float, float] = (12, 45)) -> list[Note]:
    """Follow-ups on a customer the owner looks after: visits, payment calls, renewals."""
    notes: list[Note] = []
    moment = since
    while True:
        moment = office_after(moment, rng, hours=(every[0] * 24, every[1] * 24))
        if moment > now:
            return notes
        kind, outcome, content = texts.followup(rng, "customer")
        planned = office_after(moment, rng, hours=(48, 400)) if rng.random() < 0.6 else None
        notes.append(Note(moment, owner, kind, outcome, content, planned, True))
