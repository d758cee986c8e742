"""Property-based tests of the rule engine's decisions (plain functions, no database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from leads.engine import clock, routing, strategies
from leads.engine.strategies import Candidate, Caps, Item, assign, ineligibility

REGIONS = ["east", "south", "north"]
GRADES = ["A", "B", "C", ""]

user_ids = st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12,
                    unique=True)


def plain(ids, **fields):
    return [Candidate(user_id=u, **fields) for u in ids]


def items(count, start=1, **fields):
    return [Item(id=n, **fields) for n in range(start, start + count)]


# --- round-robin -----------------------------------------------------------------------


@given(ids=user_ids, batches=st.lists(st.integers(min_value=0, max_value=30), min_size=1,
                                      max_size=6))
def test_round_robin_never_lets_two_eligible_reps_differ_by_more_than_one(ids, batches):
    """Across batches (a restart in between: only the stored pointer carries over)."""
    pointer, received, next_id = None, Counter(), 1
    for size in batches:
        outcome = assign(items(size, next_id), plain(ids), strategy="round_robin",
                         caps=Caps(), rr_last_user_id=pointer)
        next_id += size
        pointer = outcome.rr_last_user_id
        received.update(d.user_id for d in outcome.decisions)
        counts = [received.get(u, 0) for u in ids]
        assert max(counts) - min(counts) <= 1
        assert not outcome.unassigned


@given(ids=user_ids, before=st.integers(min_value=0, max_value=25),
       newcomer=st.integers(min_value=1, max_value=10_000))
def test_a_new_member_joins_the_rotation_without_breaking_it(ids, before, newcomer):
    assume(newcomer not in ids)
    first = assign(items(before), plain(ids), strategy="round_robin", caps=Caps())
    members = [*ids, newcomer]
    after = assign(items(len(members), 1000), plain(members), strategy="round_robin",
                   caps=Caps(), rr_last_user_id=first.rr_last_user_id)
    # The next full turn gives every member, the newcomer included, exactly one lead.
    assert sorted(d.user_id for d in after.decisions) == sorted(members)


# --- weighted ------------------------------------------------------------------------------


@given(weights=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=8),
       cycles=st.integers(min_value=1, max_value=3))
@example(weights=[1, 1, 1, 5, 5, 5], cycles=1)  # "most behind first" drifts past one lead here
def test_weighted_stays_within_one_lead_of_the_exact_proportion(weights, cycles):
    ids = list(range(1, len(weights) + 1))
    members = [Candidate(user_id=u, weight=w) for u, w in zip(ids, weights, strict=True)]
    total = sum(weights)
    outcome = assign(items(total * cycles), members, strategy="weighted", caps=Caps())
    received = Counter()
    for k, decision in enumerate(outcome.decisions, start=1):
        received[decision.user_id] += 1
        for user, weight in zip(ids, weights, strict=True):
            assert abs(received[user] - k * weight / total) < 1 + 1e-9
    # Every full cycle gives each member exactly their weight.
    assert [received[u] for u in ids] == [w * cycles for w in weights]


@given(weights=st.lists(st.integers(min_value=1, max_value=9), min_size=2, max_size=6),
       split=st.integers(min_value=0, max_value=40))
def test_weighted_counters_carry_over_between_runs(weights, split):
    """Two runs with the stored counters hand out what one long run would."""
    members = [Candidate(user_id=u, weight=w) for u, w in enumerate(weights, start=1)]
    total = sum(weights) * 3
    split = min(split, total)
    whole = assign(items(total), members, strategy="weighted", caps=Caps())
    first = assign(items(split), members, strategy="weighted", caps=Caps())
    resumed = [Candidate(user_id=c.user_id, weight=c.weight,
                         swrr_current=first.swrr[c.user_id]) for c in members]
    second = assign(items(total - split, split + 1), resumed, strategy="weighted",
                    caps=Caps())
    assert [d.user_id for d in first.decisions + second.decisions] == [
        d.user_id for d in whole.decisions]


# --- caps and eligibility, every strategy -----------------------------------------------


candidate_st = st.builds(
    Candidate,
    user_id=st.integers(min_value=1, max_value=50),
    weight=st.integers(min_value=1, max_value=5),
    open_total=st.integers(min_value=0, max_value=12),
    open_in_pool=st.integers(min_value=0, max_value=8),
    open_by_grade=st.dictionaries(st.sampled_from(["A", "B"]),
                                  st.integers(min_value=0, max_value=4)),
    regions=st.frozensets(st.sampled_from(REGIONS), max_size=2),
    categories=st.frozensets(st.sampled_from(["software", "hardware"]), max_size=1),
    available=st.booleans(),
)
item_st = st.builds(
    Item,
    id=st.integers(min_value=1, max_value=10**6),
    region=st.sampled_from(["", *REGIONS]),
    category=st.sampled_from(["", "software", "hardware"]),
    grade=st.sampled_from(GRADES),
    blocked=st.frozensets(st.integers(min_value=1, max_value=50), max_size=3),
)
caps_st = st.builds(
    Caps,
    pool_cap=st.one_of(st.none(), st.integers(min_value=0, max_value=10)),
    overall_cap=st.one_of(st.none(), st.integers(min_value=0, max_value=15)),
    grade_caps=st.dictionaries(st.sampled_from(["A", "B"]),
                               st.integers(min_value=0, max_value=5)),
)


@settings(max_examples=300)
@given(members=st.lists(candidate_st, min_size=0, max_size=10,
                        unique_by=lambda c: c.user_id),
       leads=st.lists(item_st, max_size=40, unique_by=lambda i: i.id),
       caps=caps_st, strategy=st.sampled_from(strategies.STRATEGIES),
       pool_region=st.sampled_from(["", *REGIONS]))
def test_no_cap_is_ever_exceeded_and_no_ineligible_rep_receives_a_lead(
        members, leads, caps, strategy, pool_region):
    outcome = assign(leads, members, strategy=strategy, caps=caps, pool_region=pool_region)
    state = {c.user_id: Candidate(user_id=c.user_id, weight=c.weight,
                                  open_total=c.open_total, open_in_pool=c.open_in_pool,
                                  open_by_grade=dict(c.open_by_grade), regions=c.regions,
                                  categories=c.categories, available=c.available)
             for c in members}
    by_id = {lead.id: lead for lead in leads}
    decided = {d.item_id: d for d in outcome.decisions}
    assert set(decided) | set(outcome.unassigned) == set(by_id)
    assert not set(decided) & set(outcome.unassigned)
    # Replay in order: at the moment of each decision, the receiver was eligible, and a
    # lead left unassigned had nobody eligible.
    for lead in leads:
        eligible = [u for u, c in state.items()
                    if ineligibility(lead, c, caps, pool_region=pool_region) is None]
        decision = decided.get(lead.id)
        if decision is None:
            assert eligible == []
            continue
        assert decision.user_id in eligible
        if strategy == "least_loaded":
            assert state[decision.user_id].open_total == min(state[u].open_total
                                                             for u in eligible)
        receiver = state[decision.user_id]
        receiver.open_total += 1
        receiver.open_in_pool += 1
        if lead.grade:
            receiver.open_by_grade[lead.grade] = receiver.open_by_grade.get(lead.grade, 0) + 1
    for user, candidate in state.items():
        original = next(c for c in members if c.user_id == user)
        gained = candidate.open_total - original.open_total
        if gained:
            if caps.pool_cap is not None:
                assert candidate.open_in_pool <= caps.pool_cap
            if caps.overall_cap is not None:
                assert candidate.open_total <= caps.overall_cap
            for grade, cap in caps.grade_caps.items():
                if candidate.open_by_grade.get(grade, 0) > original.open_by_grade.get(grade, 0):
                    assert candidate.open_by_grade[grade] <= cap


@settings(max_examples=300)
@given(members=st.lists(candidate_st, min_size=0, max_size=10,
                        unique_by=lambda c: c.user_id),
       leads=st.lists(item_st, max_size=40, unique_by=lambda i: i.id),
       caps=caps_st, unscoped=st.booleans(), plain_leads=st.booleans(),
       pointer=st.one_of(st.none(), st.integers(min_value=0, max_value=60)))
def test_round_robin_decides_the_same_with_and_without_its_shortcut(
        members, leads, caps, unscoped, plain_leads, pointer):
    """Most leads only need "the next member with room" (a bisection); the vector path
    that checks regions, categories, grades and cool-downs must agree with it."""
    if unscoped:
        members = [Candidate(user_id=c.user_id, open_total=c.open_total,
                             open_in_pool=c.open_in_pool, open_by_grade=c.open_by_grade,
                             available=c.available) for c in members]
    if plain_leads:
        leads = [Item(id=lead.id, region=lead.region, category=lead.category)
                 for lead in leads]
    fast = assign(leads, members, strategy="round_robin", caps=caps,
                  rr_last_user_id=pointer)
    original = strategies._Roster.only_room_matters
    strategies._Roster.only_room_matters = lambda self, item: False
    try:
        slow = assign(leads, members, strategy="round_robin", caps=caps,
                      rr_last_user_id=pointer)
    finally:
        strategies._Roster.only_room_matters = original
    assert fast == slow


def test_decisions_explain_who_was_passed_over_and_why():
    members = [Candidate(user_id=1, open_in_pool=5), Candidate(user_id=2, available=False),
               Candidate(user_id=3)]
    outcome = assign([Item(id=9)], members, strategy="round_robin", caps=Caps(pool_cap=5),
                     rr_last_user_id=None)
    [decision] = outcome.decisions
    assert decision.user_id == 3
    assert decision.detail["skipped"] == {"1": "pool_cap", "2": "unavailable"}
    assert outcome.passed_over == {"pool_cap": 1, "unavailable": 1}


def test_weights_from_results_are_deterministic_and_bounded():
    weights = strategies.weights_from_scores({1: 0.5, 2: 0.25, 3: 0.0, 4: None})
    assert weights == {1: 10, 2: 6, 3: 1, 4: 1}
    assert strategies.weights_from_scores({1: 0, 2: 0}) == {1: 1, 2: 1}


# --- routing ---------------------------------------------------------------------------------


def test_first_matching_rule_wins_then_the_default_then_nothing():
    rules = [
        routing.RouteRule(id=1, target_pool_id=10, regions=frozenset({"east"}),
                          channels=frozenset({"search_ads"})),
        routing.RouteRule(id=2, target_pool_id=20, regions=frozenset({"east"})),
        routing.RouteRule(id=3, target_pool_id=30,
                          attribute_conditions=(("utm_source", "equals", "Baidu"),)),
    ]
    east_ads = routing.RouteFacts(id=1, region="east", channel="search_ads")
    east_web = routing.RouteFacts(id=2, region="east", channel="web_form")
    baidu = routing.RouteFacts(id=3, region="north", attributes={"utm_source": "baidu"})
    other = routing.RouteFacts(id=4, region="north")
    assert routing.route(east_ads, rules, None) == routing.Route(1, 10, 1)
    assert routing.route(east_web, rules, None) == routing.Route(2, 20, 2)
    assert routing.route(baidu, rules, None) == routing.Route(3, 30, 3)
    assert routing.route(other, rules, None) is None
    assert routing.route(other, rules, 99) == routing.Route(4, 99, None)


@pytest.mark.parametrize(("op", "value", "attributes", "expected"), [
    ("exists", None, {"k": "x"}, True),
    ("exists", None, {"k": ""}, False),
    ("contains", "华东", {"k": "华东大区展会"}, True),
    ("in", ["a", "b"], {"k": "B"}, True),
    ("in", "a,b", {"k": "c"}, False),
    ("equals", "x", {}, False),
])
def test_attribute_conditions(op, value, attributes, expected):
    rule = routing.RouteRule(id=1, target_pool_id=2, attribute_conditions=(("k", op, value),))
    assert routing.rule_matches(rule, routing.RouteFacts(id=1, attributes=attributes)) is expected


# --- the recycle clock -----------------------------------------------------------------------


T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def rule(kind, period, **fields):
    fields.setdefault("id", 1)
    return clock.ClockRule(kind=kind, period=period, **fields)


def test_no_followup_counts_from_the_later_of_assignment_and_the_last_qualifying_contact():
    r = rule("no_followup", 7 * DAY)
    fresh = clock.ClockFacts(id=1, assigned_at=T0)
    touched = clock.ClockFacts(id=1, assigned_at=T0, last_qualified_at=T0 + 3 * DAY)
    older_touch = clock.ClockFacts(id=1, assigned_at=T0, last_qualified_at=T0 - 30 * DAY)
    assert clock.rule_deadline(fresh, r) == T0 + 7 * DAY
    assert clock.rule_deadline(touched, r) == T0 + 10 * DAY
    assert clock.rule_deadline(older_touch, r) == T0 + 7 * DAY


def test_first_touch_stops_counting_once_contacted_after_the_assignment():
    r = rule("first_touch", timedelta(hours=4))
    assert clock.rule_deadline(clock.ClockFacts(id=1, assigned_at=T0), r) == T0 + timedelta(hours=4)
    contacted = clock.ClockFacts(id=1, assigned_at=T0, last_qualified_at=T0 + timedelta(hours=1))
    assert clock.rule_deadline(contacted, r) is None
    # A contact by a previous owner, before this assignment, does not count.
    before = clock.ClockFacts(id=1, assigned_at=T0, last_qualified_at=T0 - timedelta(hours=1))
    assert clock.rule_deadline(before, r) == T0 + timedelta(hours=4)


def test_grace_exclusions_and_the_earliest_rule_firing():
    slow = rule("not_converted", 30 * DAY, id=1, warn_offsets=(3 * DAY, DAY))
    fast = rule("no_followup", 7 * DAY, id=2, exclude_grades=frozenset({"A"}),
                warn_offsets=(3 * DAY, DAY))
    facts = clock.ClockFacts(id=5, assigned_at=T0, grace=2 * DAY)
    due = clock.due(facts, [slow, fast], now=T0)
    assert (due.at, due.rule_id, due.warn_at) == (T0 + 9 * DAY, 2, T0 + 6 * DAY)
    grade_a = clock.ClockFacts(id=5, assigned_at=T0, grade="A")
    assert clock.due(grade_a, [slow, fast], now=T0).rule_id == 1
    starred = rule("no_followup", DAY, id=3, exclude_starred=True)
    assert clock.due(clock.ClockFacts(id=5, assigned_at=T0, starred=True), [starred],
                     now=T0) is None


def test_a_warning_already_past_is_owed_at_once_then_the_next_one_follows():
    due_at = T0 + 5 * DAY
    offsets = (3 * DAY, DAY)
    assert clock.next_warning(due_at, offsets, now=T0) == T0 + 2 * DAY
    # Assigned two days before the deadline: the "three days left" warning is owed now.
    assert clock.next_warning(due_at, offsets, now=T0 + 3 * DAY) == T0 + 3 * DAY
    assert clock.warning_moment(due_at, offsets, now=T0 + 3 * DAY) == T0 + 2 * DAY
    # Once it went out, the next one is the "one day left" warning.
    assert clock.next_warning(due_at, offsets, now=T0 + 3 * DAY, owed=False) == T0 + 4 * DAY
    assert clock.next_warning(due_at, offsets, now=T0 + 4 * DAY, owed=False) is None
    assert clock.next_warning(due_at, offsets, now=T0 + 6 * DAY) is None


def test_where_a_recycled_record_goes():
    back = clock.destination(pool_id=5, parent_id=1, target="origin", target_pool_id=9,
                             max_recycles=None, dormant_pool_id=7)
    assert back.for_count(0) == (5, False) and back.for_count(99) == (5, False)
    up = clock.destination(pool_id=5, parent_id=1, target="parent", target_pool_id=None,
                           max_recycles=2, dormant_pool_id=7)
    assert [up.for_count(n) for n in range(4)] == [(1, False), (1, False), (7, True),
                                                   (7, True)]
    # A top pool's "parent" is itself; without a dormant pool the cap sends nowhere else.
    top = clock.destination(pool_id=1, parent_id=None, target="parent", target_pool_id=None,
                            max_recycles=1, dormant_pool_id=None)
    assert top.for_count(5) == (1, False)
    chosen = clock.destination(pool_id=5, parent_id=1, target="pool", target_pool_id=9,
                               max_recycles=None, dormant_pool_id=None)
    assert chosen.for_count(0) == (9, False)


@given(back=st.integers(1, 50), dormant=st.none() | st.integers(51, 60),
       cap=st.none() | st.integers(0, 6), count=st.integers(0, 10))
def test_the_bands_say_what_the_recycle_cap_says(back, dormant, cap, count):
    """Past the cap (one more recycle would exceed it) the dormant pool, if there is one;
    else the rule's own destination. The bands start at 0 and rise."""
    rule = clock.Destination(back, cap, dormant)
    over = cap is not None and dormant is not None and count + 1 > cap
    assert rule.for_count(count) == ((dormant, True) if over else (back, False))
    bands = rule.bands()
    assert bands[0].from_count == 0
    assert [b.from_count for b in bands] == sorted(b.from_count for b in bands)


@pytest.mark.parametrize(("content", "kind", "outcome", "expected"), [
    ("电话沟通了需求，下周发方案", "call", "connected", True),
    ("。。。", "call", "connected", False),
    ("  ok ", "call", "connected", False),
    ("客户不在，稍后再打", "call", "not_connected", False),
    ("发了产品资料和报价", "wechat", "connected", False),
])
def test_what_counts_as_contact(content, kind, outcome, expected):
    assert clock.qualifies(kind=kind, outcome=outcome, content=content, types=["call", "visit"],
                           outcomes=["connected", "interested", "appointment"],
                           min_length=4) is expected
