"""The recycle clock: when an owned lead (or opportunity) is due to go back, and why.

Each active recycle rule of a pool gives a deadline:

* ``no_followup`` / ``no_progress``: N after the later of the assignment and the last
  *qualifying* contact (a follow-up of a configured type and outcome with a real note, or,
  for opportunities, stage progress) — editing a record never moves this anchor;
* ``not_converted``: M after the assignment, whatever happened since;
* ``first_touch`` (the fast clock): X hours after the assignment, unless a qualifying
  contact came after it; the lead is then reassigned inside its pool.

Every deadline is pushed back by the record's *grace*: approved extensions plus the time
its owner spent on leave. Exclusions (grades, key records, statuses) switch a rule off for
a record. The earliest deadline wins; its rule is "the rule that will fire". Warnings go
to the owner at the rule's offsets before the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

NO_FOLLOWUP = "no_followup"
NOT_CONVERTED = "not_converted"
FIRST_TOUCH = "first_touch"
NO_PROGRESS = "no_progress"
KINDS = (NO_FOLLOWUP, NOT_CONVERTED, FIRST_TOUCH, NO_PROGRESS)


@dataclass(frozen=True)
class ClockRule:
    id: int
    kind: str
    period: timedelta
    exclude_grades: frozenset[str] = frozenset()
    exclude_starred: bool = False
    exclude_statuses: frozenset[str] = frozenset()
    warn_offsets: tuple[timedelta, ...] = ()
    order: int = 100


@dataclass(frozen=True)
class ClockFacts:
    """What the clock looks at on one owned record."""

    id: int
    assigned_at: datetime | None
    last_qualified_at: datetime | None = None
    grace: timedelta = timedelta(0)
    grade: str = ""
    starred: bool = False
    status: str = ""


@dataclass(frozen=True)
class Due:
    id: int
    at: datetime
    rule_id: int
    warn_at: datetime | None


def excluded(facts: ClockFacts, rule: ClockRule) -> bool:
    return bool(
        (rule.exclude_starred and facts.starred)
        or (facts.grade and facts.grade in rule.exclude_grades)
        or (facts.status and facts.status in rule.exclude_statuses)
    )


def rule_deadline(facts: ClockFacts, rule: ClockRule) -> datetime | None:
    """When ``rule`` would recycle the record, or None if it never will as things stand."""
    if facts.assigned_at is None or excluded(facts, rule):
        return None
    assigned, touched = facts.assigned_at, facts.last_qualified_at
    if rule.kind == FIRST_TOUCH:
        if touched is not None and touched >= assigned:
            return None
        anchor = assigned
    elif rule.kind in (NO_FOLLOWUP, NO_PROGRESS):
        anchor = max(assigned, touched) if touched is not None else assigned
    elif rule.kind == NOT_CONVERTED:
        anchor = assigned
    else:
        return None
    return anchor + rule.period + facts.grace


def next_warning(due_at: datetime, offsets: Iterable[timedelta], now: datetime, *,
                 owed: bool = True) -> datetime | None:
    """When the owner should next be warned of ``due_at`` (None: no warning left).

    A warning moment already past while the deadline is still ahead is *owed*: the owner
    is warned at once (a lead assigned two days before its deadline still gets the
    "three days left" warning, late, rather than none). After a warning went out,
    ``owed=False`` gives the next moment strictly ahead.
    """
    if due_at <= now:
        return None
    moments = [due_at - offset for offset in offsets]
    if owed and any(moment <= now for moment in moments):
        return now
    ahead = [moment for moment in moments if moment > now]
    return min(ahead) if ahead else None


def warning_moment(due_at: datetime, offsets: Iterable[timedelta],
                   now: datetime) -> datetime | None:
    """The latest warning moment reached by ``now`` (identifies a warning, so that it is
    sent once however often the sweep looks)."""
    reached = [due_at - offset for offset in offsets if due_at - offset <= now]
    return max(reached) if reached else None


def due(facts: ClockFacts, rules: Sequence[ClockRule], now: datetime) -> Due | None:
    """The earliest deadline among ``rules`` and the rule that gives it (ties: rule order)."""
    best: tuple[datetime, int, int, ClockRule] | None = None
    for rule in rules:
        at = rule_deadline(facts, rule)
        if at is None:
            continue
        key = (at, rule.order, rule.id, rule)
        if best is None or key[:3] < best[:3]:
            best = key
    if best is None:
        return None
    at, _order, _id, rule = best
    return Due(facts.id, at, rule.id, next_warning(at, rule.warn_offsets, now))


def due_all(facts: Iterable[ClockFacts], rules: Sequence[ClockRule],
            now: datetime) -> dict[int, Due | None]:
    return {f.id: due(f, rules, now) for f in facts}


def meaningful_length(text: str) -> int:
    """Letters and digits in ``text`` (any script): punctuation and spaces do not count."""
    return sum(1 for ch in text or "" if ch.isalnum())


def qualifies(*, kind: str, outcome: str, content: str, types: Iterable[str] = (),
              outcomes: Iterable[str] = (), min_length: int = 0) -> bool:
    """Whether a follow-up counts as contact for the recycle clock of its pool.

    ``types`` and ``outcomes`` empty mean "any"; a note shorter than ``min_length``
    meaningful characters never counts (an empty "。" does not reset the clock).
    """
    types, outcomes = set(types or ()), set(outcomes or ())
    if types and kind not in types:
        return False
    if outcomes and outcome not in outcomes:
        return False
    return meaningful_length(content) >= min_length


@dataclass(frozen=True)
class Band:
    """One step of a destination: records recycled at least ``from_count`` times before go
    to ``pool_id`` (the dormant pool when ``dormant``)."""

    from_count: int
    pool_id: int
    dormant: bool


@dataclass(frozen=True)
class Destination:
    """Where a rule sends the records it recycles from one pool.

    The sub-pool of origin, its parent or a named pool; past ``dormant_after`` recycles,
    the dormant pool instead (when there is one).

    The rule is a step function of the recycle count, spelt out once by ``bands``: a
    record goes to the last band whose ``from_count`` it has reached. ``for_count`` reads
    the bands here; the set-based sweep joins the same bands as a table and picks the same
    band in SQL, so the two cannot drift apart.
    """

    pool_id: int
    dormant_after: int | None = None
    dormant_pool_id: int | None = None

    def bands(self) -> tuple[Band, ...]:
        """The steps, ``from_count`` ascending; the first starts at 0 (every count)."""
        steps = [Band(0, self.pool_id, False)]
        if self.dormant_after is not None and self.dormant_pool_id is not None:
            # Recycled once more, the record would exceed the cap: the dormant pool.
            steps.append(Band(max(self.dormant_after, 0), self.dormant_pool_id, True))
        return tuple(steps)

    def for_count(self, recycled_before: int) -> tuple[int, bool]:
        """The pool a record recycled ``recycled_before`` times goes to, and whether that is
        the dormant pool."""
        band = band_for(self.bands(), recycled_before)
        return band.pool_id, band.dormant


def band_for(bands: Sequence[Band], count: int) -> Band:
    """The last of ``bands`` whose ``from_count`` ``count`` has reached; the first band
    counts as always reached. (The sweep's SQL applies the same test.)"""
    return [band for i, band in enumerate(bands) if i == 0 or band.from_count <= count][-1]


def destination(*, pool_id: int, parent_id: int | None, target: str,
                target_pool_id: int | None, max_recycles: int | None,
                dormant_pool_id: int | None) -> Destination:
    """A rule's destination for records of pool ``pool_id``: ``target`` is ``parent`` (the
    parent pool, if any), ``pool`` (``target_pool_id``, if set) or anything else (back to
    the same pool)."""
    if target == "parent" and parent_id:
        back = parent_id
    elif target == "pool" and target_pool_id:
        back = target_pool_id
    else:
        back = pool_id
    return Destination(back, max_recycles, dormant_pool_id)
