"""The rule engine on PostgreSQL: routing, assignment, first-touch SLA, recycling, warnings,
leave, extensions, previews and run_rules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads import services
from leads.models import (
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadPool,
    PoolMember,
    RecycleRule,
    RoutingRule,
)
from leads.pools.assign import assign_pool, simulate_next
from leads.pools.due import refresh_due
from leads.pools.extensions import ExtensionRefused, extension_decide, extension_request
from leads.pools.previews import preview_recycle
from leads.pools.route import RoutingRefused, lead_route, route_pool
from leads.pools.runs import recycle_run, tick
from leads.pools.sweeps import RECYCLE_KINDS, sweep_due
from leads.subjects import LEADS
from notifications.models import Notification
from orgs.models import DictionaryItem, Employee, OrgUnit
from tests.helpers import user

from .conftest import make_lead

pytestmark = pytest.mark.django_db

EAST_REPS = ("rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang")


def members(pool, usernames, **fields):
    return [PoolMember.objects.create(pool=pool, user=user(name), **fields)
            for name in usernames]


def recycle_rule(pool, kind="no_followup", threshold=7, unit="days", **fields):
    fields.setdefault("name", f"{kind} {threshold} {unit}")
    return RecycleRule.objects.create(pool=pool, kind=kind, threshold=threshold, unit=unit,
                                      **fields)


def owned(pool, owner, *, assigned_ago=timedelta(0), **fields):
    """A lead owned since ``assigned_ago``, with its clock set as a claim would set it."""
    lead = make_lead(pool, owner=owner, **fields)
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - assigned_ago)
    refresh_due(LEADS, ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def open_count(username):
    return Lead.objects.filter(owner__username=username, status__in=Lead.OPEN_STATUSES).count()


# --- assignment ------------------------------------------------------------------------


def test_round_robin_hands_out_evenly_with_one_event_each_and_a_stored_pointer(pool):
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    members(pool, EAST_REPS)
    leads = [make_lead(pool) for _ in range(10)]
    report = assign_pool(pool)
    assert sum(report.assigned.values()) == 10
    counts = sorted(open_count(name) for name in EAST_REPS)
    assert counts == [2, 2, 3, 3]
    events = LeadEvent.objects.filter(lead__in=leads, kind=LeadEvent.Kind.ASSIGNED)
    assert events.count() == 10
    assert {e.reason for e in events} == {"round_robin"}
    assert all(e.detail["s"] == "round_robin" and e.actor_id is None for e in events)
    pool.refresh_from_db()
    last = events.order_by("pk").last()
    assert pool.rr_last_user_id == last.to_owner_id
    # The rotation goes on from the pointer: the next two go to the two with fewer.
    more = [make_lead(pool) for _ in range(2)]
    assign_pool(pool)
    assert sorted(open_count(name) for name in EAST_REPS) == [3, 3, 3, 3]
    assert all(Lead.objects.get(pk=lead.pk).owner_id for lead in more)


def test_weighted_follows_the_weights(pool):
    pool.strategy = LeadPool.Strategy.WEIGHTED
    pool.save()
    for name, weight in zip(EAST_REPS[:3], (3, 2, 1), strict=True):
        PoolMember.objects.create(pool=pool, user=user(name), weight=weight)
    for _ in range(12):
        make_lead(pool)
    assign_pool(pool)
    assert [open_count(n) for n in EAST_REPS[:3]] == [6, 4, 2]


def test_least_loaded_fills_the_emptiest_first(pool, wangfang, lilei):
    pool.strategy = LeadPool.Strategy.LEAST_LOADED
    pool.save()
    members(pool, ["rep_wangfang", "rep_lilei"])
    for _ in range(4):
        make_lead(pool, owner=wangfang)
    for _ in range(4):
        make_lead(pool)
    assign_pool(pool)
    assert (open_count("rep_wangfang"), open_count("rep_lilei")) == (4, 4)


def test_assignment_skips_reps_on_leave_at_a_cap_in_cooldown_or_outside_their_region(
        pool, wangfang, lilei, zhangwei):
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.owned_cap = 1
    pool.save()
    members(pool, ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang"])
    Employee.objects.filter(user__username="rep_liuyang").update(
        status=Employee.Status.ON_LEAVE)
    PoolMember.objects.filter(pool=pool, user=zhangwei).update(regions=["south"])
    PoolMember.objects.filter(pool=pool, user=wangfang).update(regions=["east"])
    make_lead(pool, owner=lilei)  # at the cap of 1
    lead = make_lead(pool, region="east")
    # Wang Fang held this lead and released it yesterday: she is in the cool-down.
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.RELEASED, from_owner=wangfang,
                             from_pool=pool, to_pool=pool,
                             created_at=timezone.now() - timedelta(days=1))
    report = assign_pool(pool)
    assert sum(report.assigned.values()) == 0
    assert report.unassigned[pool.pk] == 1
    lead.refresh_from_db()
    assert lead.owner_id is None
    # Zhang Wei covers the south (Wang Fang only the east): a south lead goes to him.
    south = make_lead(pool, region="south")
    assign_pool(pool)
    south.refresh_from_db()
    assert south.owner_id == zhangwei.pk


def test_grade_caps_from_the_grade_dictionary_apply_to_assignment_and_claims(pool, wangfang):
    DictionaryItem.objects.filter(dictionary__code="customer_grade", code="A").update(
        extra={"cap_per_rep": 1})
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    members(pool, ["rep_wangfang"])
    first, second = make_lead(pool, grade="A"), make_lead(pool, grade="A")
    plain = make_lead(pool, grade="B")
    assign_pool(pool)
    first.refresh_from_db(), second.refresh_from_db(), plain.refresh_from_db()
    assert first.owner_id == wangfang.pk and plain.owner_id == wangfang.pk
    assert second.owner_id is None
    with pytest.raises(services.LeadActionRefused) as refused:
        services.lead_claim(lead_id=second.pk, user=wangfang)
    assert refused.value.code == "grade_cap" and "A" in refused.value.message


def test_a_manual_pool_is_never_assigned_automatically(pool):
    members(pool, EAST_REPS)
    lead = make_lead(pool)
    assert not assign_pool(pool).assigned
    lead.refresh_from_db()
    assert lead.owner_id is None


def test_a_pool_without_members_hands_leads_to_those_who_may_claim_from_it(pool):
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    leads = [make_lead(pool) for _ in range(8)]
    assign_pool(pool)
    owners = Counter(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
                     .values_list("owner__username", flat=True))
    # Every East China rep may claim from the East pool; managers and the director, who
    # may claim too, are not handed leads.
    assert set(owners) == set(EAST_REPS)


def test_dry_run_decides_without_writing(pool):
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    members(pool, EAST_REPS)
    leads = [make_lead(pool) for _ in range(5)]
    report = assign_pool(pool, dry_run=True)
    assert sum(report.assigned.values()) == 5
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in leads],
                                   owner__isnull=False).exists()
    pool.refresh_from_db()
    assert pool.rr_last_user_id is None


def test_simulation_of_the_next_n_matches_what_assignment_then_does(pool):
    pool.strategy = LeadPool.Strategy.WEIGHTED
    pool.save()
    for name, weight in zip(EAST_REPS, (2, 1, 1, 1), strict=True):
        PoolMember.objects.create(pool=pool, user=user(name), weight=weight)
    leads = [make_lead(pool, created_at=timezone.now() - timedelta(minutes=10 - n))
             for n in range(5)]
    for n, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(pooled_at=timezone.now() - timedelta(minutes=10 - n))
    predicted = [(d.item_id, d.user_id) for d in simulate_next(pool, 5)]
    assign_pool(pool)
    actual = [(lead.pk, Lead.objects.get(pk=lead.pk).owner_id) for lead in leads]
    assert predicted == actual


def test_claims_get_a_recycle_clock_and_release_clears_it(pool, wangfang):
    rule = recycle_rule(pool, threshold=7, warn_offsets=[72, 24])
    lead = make_lead(pool)
    services.lead_claim(lead_id=lead.pk, user=wangfang)
    lead.refresh_from_db()
    assert lead.recycle_rule_id == rule.pk
    assert abs((lead.recycle_due_at - lead.assigned_at) - timedelta(days=7)) < timedelta(seconds=1)
    assert lead.recycle_warn_at == lead.recycle_due_at - timedelta(hours=72)
    services.lead_release(lead_id=lead.pk, user=wangfang, reason="no_need")
    lead.refresh_from_db()
    assert (lead.recycle_due_at, lead.recycle_rule_id, lead.recycle_warn_at) == (None, None, None)


# --- routing -----------------------------------------------------------------------------


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


@pytest.fixture
def south_pool(demo_org, master):
    return LeadPool.objects.create(code="t_south", name="测试华南池", parent=master,
                                   org_unit=OrgUnit.objects.get(code="south"))


def test_routing_first_match_wins_then_the_default_else_the_lead_waits(
        master, pool, south_pool):
    RoutingRule.objects.create(source_pool=master, order=10, name="ads east",
                               regions=["east"], channels=["search_ads"], target_pool=south_pool)
    RoutingRule.objects.create(source_pool=master, order=20, name="east",
                               regions=["east"], target_pool=pool)
    ads = make_lead(master, region="east", channel="search_ads")
    east = make_lead(master, region="east", channel="web_form")
    north = make_lead(master, region="north")
    report = route_pool(master)
    assert report.routed == Counter({(master.pk, south_pool.pk): 1, (master.pk, pool.pk): 1})
    for lead, target in ((ads, south_pool), (east, pool), (north, master)):
        lead.refresh_from_db()
        assert lead.pool_id == target.pk
    event = LeadEvent.objects.get(lead=east, kind=LeadEvent.Kind.ROUTED)
    assert (event.from_pool_id, event.to_pool_id, event.reason) == (master.pk, pool.pk,
                                                                     "routing_rule")
    assert event.rule_id == RoutingRule.objects.get(name="east").pk
    # With a default sub-pool, the North China lead goes there on a rules change.
    master.default_route_pool = south_pool
    master.routed_until = None
    master.save()
    route_pool(master)
    north.refresh_from_db()
    assert north.pool_id == south_pool.pk
    assert LeadEvent.objects.get(lead=north, kind=LeadEvent.Kind.ROUTED).reason == "default_route"


def test_routing_looks_only_at_newcomers_once_a_run_went_through(master, pool):
    RoutingRule.objects.create(source_pool=master, name="east", regions=["east"],
                               target_pool=pool)
    old = make_lead(master, region="east")
    route_pool(master)
    Lead.objects.filter(pk=old.pk).update(pool=master,
                                          pooled_at=timezone.now() - timedelta(hours=2))
    newcomer = make_lead(master, region="east")
    route_pool(master)
    old.refresh_from_db(), newcomer.refresh_from_db()
    assert newcomer.pool_id == pool.pk
    assert old.pool_id == master.pk  # entered before the last run: not looked at again


def test_arrival_routes_and_assigns_at_once(master, pool, django_capture_on_commit_callbacks):
    """A lead entered into the master pool lands with a rep of the routed sub-pool."""
    RoutingRule.objects.create(source_pool=master, name="east", regions=["east"],
                               target_pool=pool)
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    members(pool, ["rep_lilei"])
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_create(pool=master, actor=user("marketing"),
                                    data={"name": "韩梅", "mobile": "13700001111",
                                          "region": "east"})
    lead.refresh_from_db()
    assert (lead.pool_id, lead.owner.username, lead.status) == (pool.pk, "rep_lilei",
                                                                Lead.Status.ASSIGNED)
    kinds = list(LeadEvent.objects.filter(lead=lead).order_by("pk").values_list("kind",
                                                                                 flat=True))
    assert kinds == ["created", "routed", "assigned"]
    assert Notification.objects.filter(recipient__username="rep_lilei",
                                       kind="lead_assigned").exists()


def test_marketing_routes_waiting_leads_by_hand(master, pool):
    marketing = user("marketing")
    leads = [make_lead(master, region="north") for _ in range(3)]
    moved = lead_route(lead_ids=[lead.pk for lead in leads], to_pool=pool,
                                   actor=marketing)
    assert moved == 3
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
               .values_list("pool_id", flat=True)) == {pool.pk}
    assert LeadEvent.objects.filter(lead__in=leads, kind="routed", actor=marketing,
                                    reason="manual").count() == 3


def test_reps_may_not_route(master, pool, wangfang):
    lead = make_lead(master)
    with pytest.raises(RoutingRefused):
        lead_route(lead_ids=[lead.pk], to_pool=pool, actor=wangfang)


# --- recycling ---------------------------------------------------------------------------


def test_a_stale_lead_is_warned_first_then_recycled_to_its_pool(pool, wangfang):
    rule = recycle_rule(pool, threshold=7, warn_offsets=[24])
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=6, hours=1))
    assert lead.recycle_rule_id == rule.pk
    # Within a day of the deadline: the sweep warns, and nothing moves yet.
    report = recycle_run()
    assert report.warned == 1 and not report.recycled
    note = Notification.objects.get(recipient=wangfang, kind="recycle_warning")
    assert lead.name in note.text and rule.name in note.text
    assert recycle_run().warned == 0  # warned once
    # Past the deadline it goes back to its pool, with one event naming the rule.
    later = timezone.now() + timedelta(hours=24)
    report = recycle_run(now=later)
    assert report.recycled == Counter({rule.pk: 1})
    lead.refresh_from_db()
    assert (lead.owner_id, lead.status, lead.pool_id, lead.recycle_count) == (
        None, Lead.Status.IN_POOL, pool.pk, 1)
    assert lead.recycle_due_at is None and lead.pooled_at == later
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.RECYCLED)
    assert (event.from_owner_id, event.rule_id, event.reason, event.to_pool_id) == (
        wangfang.pk, rule.pk, "no_followup", pool.pk)
    assert Notification.objects.filter(recipient=wangfang, kind="lead_recycled").exists()
    # The previous owner's cool-down starts.
    with pytest.raises(services.LeadActionRefused) as refused:
        services.lead_claim(lead_id=lead.pk, user=wangfang)
    assert refused.value.code == "cooldown"


def test_a_qualifying_followup_resets_the_clock_and_an_empty_note_does_not(pool, wangfang):
    pool.qualifying_types = ["call", "visit"]
    pool.qualifying_outcomes = ["connected", "interested"]
    pool.save()
    recycle_rule(pool, threshold=7)
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=5))
    due = lead.recycle_due_at
    services.followup_add(lead_id=lead.pk, user=wangfang, kind="call", outcome="connected",
                          content="。。。")
    services.followup_add(lead_id=lead.pk, user=wangfang, kind="wechat",
                          outcome="connected", content="发了资料和报价单")
    services.followup_add(lead_id=lead.pk, user=wangfang, kind="call",
                          outcome="not_connected", content="没有接通，明天再打")
    lead.refresh_from_db()
    assert lead.recycle_due_at == due and lead.last_qualified_at is None
    services.followup_add(lead_id=lead.pk, user=wangfang, kind="call", outcome="connected",
                          content="电话沟通了需求，下周发方案")
    lead.refresh_from_db()
    assert lead.recycle_due_at > due + timedelta(days=4)
    assert lead.followups.filter(qualifies=True).count() == 1


def test_not_converted_goes_to_the_parent_pool_and_past_the_cap_to_the_dormant_pool(
        master, pool, wangfang):
    dormant = LeadPool.objects.get(kind=LeadPool.Kind.DORMANT)
    rule = recycle_rule(pool, kind="not_converted", threshold=30, target="parent",
                        max_recycles=2, dormant_pool=dormant)
    first = owned(pool, wangfang, assigned_ago=timedelta(days=31))
    worn = owned(pool, wangfang, assigned_ago=timedelta(days=31))
    Lead.objects.filter(pk=worn.pk).update(recycle_count=2)
    report = recycle_run()
    assert report.recycled[rule.pk] == 2 and report.dormant == 1
    first.refresh_from_db(), worn.refresh_from_db()
    assert first.pool_id == master.pk and worn.pool_id == dormant.pk
    assert LeadEvent.objects.get(lead=worn, kind="recycled").detail["dormant"] is True


def test_a_lead_whose_rule_was_switched_off_stays_and_gets_a_fresh_clock(pool, wangfang):
    old = recycle_rule(pool, threshold=3, order=1)
    later = recycle_rule(pool, threshold=30, order=2)
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=5))
    assert lead.recycle_rule_id == old.pk and lead.recycle_due_at < timezone.now()
    # Switched off behind the engine's back (no refresh of the pool's clocks).
    RecycleRule.objects.filter(pk=old.pk).update(is_active=False)
    report = recycle_run()
    assert not report.recycled
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk and lead.recycle_rule_id == later.pk
    assert lead.recycle_due_at > timezone.now()
    assert not LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.RECYCLED).exists()


def test_a_sweep_with_a_limit_moves_that_many_oldest_first_and_the_next_the_rest(
        pool, wangfang, lilei):
    rule = recycle_rule(pool, threshold=7)
    leads = [owned(pool, owner, assigned_ago=timedelta(days=8, hours=n), name=f"客户{n}")
             for n, owner in enumerate((wangfang, lilei, wangfang, lilei, wangfang))]
    first = sweep_due(kinds=RECYCLE_KINDS, limit=2)
    assert first.recycled == Counter({rule.pk: 2})
    # Oldest deadline first: the leads assigned longest ago.
    gone = set(LeadEvent.objects.filter(kind="recycled").values_list("lead_id", flat=True))
    assert gone == {leads[4].pk, leads[3].pk}
    rest = sweep_due(kinds=RECYCLE_KINDS)
    assert rest.recycled == Counter({rule.pk: 3})
    assert LeadEvent.objects.filter(kind="recycled").count() == 5
    # Each owner hears once per batch and rule, the leads named oldest deadline first.
    told = Notification.objects.filter(recipient=wangfang, kind="lead_recycled")
    assert sorted(n.params["count"] for n in told) == [1, 2]
    assert told.get(params__count=2).params["names"] == "、".join(
        lead.name for lead in (leads[2], leads[0]))
    detail = LeadEvent.objects.get(lead=leads[0], kind="recycled").detail
    assert detail["count"] == 1 and detail["dormant"] is False
    assert detail["due"].startswith(leads[0].recycle_due_at.date().isoformat())


def test_history_keeps_its_leads_even_without_database_constraints(pool, wangfang):
    """Events name their lead without a database constraint (see ``OwnershipEvent``);
    the ORM still refuses to delete a lead that has history."""
    from django.db.models import ProtectedError

    lead = owned(pool, wangfang)
    with pytest.raises(ProtectedError):
        Lead.objects.filter(pk=lead.pk).delete()
    assert LeadEvent.objects.filter(lead=lead).count() == 2


def test_key_leads_are_spared_when_the_rule_says_so(pool, wangfang):
    recycle_rule(pool, threshold=7, exclude_starred=True)
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=8))
    assert lead.recycle_due_at is not None
    services.lead_star(lead_id=lead.pk, user=wangfang, starred=True)
    lead.refresh_from_db()
    assert lead.recycle_due_at is None
    assert not recycle_run().recycled


def test_first_touch_sla_reassigns_inside_the_pool(pool, wangfang, lilei):
    pool.strategy = LeadPool.Strategy.ROUND_ROBIN
    pool.save()
    members(pool, ["rep_wangfang", "rep_lilei"])
    rule = recycle_rule(pool, kind="first_touch", threshold=4, unit="hours")
    lead = owned(pool, wangfang, assigned_ago=timedelta(hours=5))
    touched = owned(pool, wangfang, assigned_ago=timedelta(hours=5))
    services.followup_add(lead_id=touched.pk, user=wangfang, kind="call",
                          outcome="connected", content="电话沟通了需求，下周发方案")
    report = tick()
    assert report.reassigned == Counter({rule.pk: 1})
    lead.refresh_from_db(), touched.refresh_from_db()
    assert lead.owner_id == lilei.pk and touched.owner_id == wangfang.pk
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.TRANSFERRED)
    assert (event.from_owner_id, event.to_owner_id, event.reason, event.rule_id) == (
        wangfang.pk, lilei.pk, "first_touch_sla", rule.pk)
    # Li Lei's own clock starts now.
    assert lead.recycle_due_at > timezone.now() + timedelta(hours=3)
    assert Notification.objects.filter(recipient=wangfang, kind="reassigned_away").exists()


def test_first_touch_in_a_manual_pool_returns_the_lead_to_the_pool(pool, wangfang):
    recycle_rule(pool, kind="first_touch", threshold=4, unit="hours")
    lead = owned(pool, wangfang, assigned_ago=timedelta(hours=5))
    tick()
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.status == Lead.Status.IN_POOL


def test_leave_pauses_the_clock_and_return_pushes_deadlines_back(pool, wangfang):
    recycle_rule(pool, threshold=7)
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=6))
    due = lead.recycle_due_at
    Employee.objects.filter(user=wangfang).update(status=Employee.Status.ON_LEAVE)
    start = timezone.now()
    assert tick(now=start).paused == 1
    # Three days away: the deadline passes, nothing happens.
    assert not recycle_run(now=start + timedelta(days=3)).recycled
    Employee.objects.filter(user=wangfang).update(status=Employee.Status.ACTIVE)
    assert tick(now=start + timedelta(days=3)).resumed == 1
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk and lead.clock_paused_at is None
    assert abs(lead.recycle_due_at - (due + timedelta(days=3))) < timedelta(seconds=2)


def test_one_extension_request_approved_by_the_manager_moves_the_deadline(pool, wangfang,
                                                                          lilei):
    pool.extension_days = 5
    pool.save()
    recycle_rule(pool, threshold=7)
    lead = owned(pool, wangfang, assigned_ago=timedelta(days=6))
    due = lead.recycle_due_at
    request = extension_request(subject=LEADS, record_id=lead.pk, user=wangfang,
                                            reason="客户下周出差回来再谈")
    manager = user("mgr_shanghai")
    assert Notification.objects.filter(recipient=manager, kind="extension_requested").exists()
    with pytest.raises(ExtensionRefused) as again:
        extension_request(subject=LEADS, record_id=lead.pk, user=wangfang,
                                      reason="再多给几天时间吧")
    assert again.value.code == "already"
    with pytest.raises(ExtensionRefused):
        extension_decide(request_id=request.pk, user=lilei, approve=True)
    extension_decide(request_id=request.pk, user=manager, approve=True,
                                 note="好的")
    lead.refresh_from_db()
    assert abs(lead.recycle_due_at - (due + timedelta(days=5))) < timedelta(seconds=2)
    with pytest.raises(ExtensionRefused) as twice:
        extension_decide(request_id=request.pk, user=manager, approve=False)
    assert twice.value.code == "decided"
    assert ExtensionRequest.objects.get(pk=request.pk).status == "approved"
    assert Notification.objects.filter(recipient=wangfang, kind="extension_approved").exists()


def test_the_preview_lists_exactly_what_the_sweep_then_recycles(pool, wangfang, lilei):
    for ago in (8, 8, 2):
        owned(pool, wangfang, assigned_ago=timedelta(days=ago))
    owned(pool, lilei, assigned_ago=timedelta(days=9))
    owned(pool, lilei, assigned_ago=timedelta(days=1))
    proposed = RecycleRule(pool=pool, name="一周无跟进", kind="no_followup", threshold=7,
                           unit="days", is_active=True)
    preview = preview_recycle(pool, [proposed])
    assert preview.per_rep[wangfang.pk] == {"now": 2, "soon": 1, "held": 3}
    assert preview.per_rep[lilei.pk] == {"now": 1, "soon": 1, "held": 2}
    listed = {row["id"] for row in preview.due_now}
    # Nothing is due before the rule is saved; the pool's leads get clocks when it is.
    assert not recycle_run().recycled
    proposed.save()
    refresh_due(LEADS, pool_id=pool.pk)
    recycle_run()
    recycled = set(LeadEvent.objects.filter(kind="recycled").values_list("lead_id", flat=True))
    assert recycled == listed


def test_run_rules_prints_what_moved_and_dry_run_moves_nothing(master, pool, wangfang):
    RoutingRule.objects.create(source_pool=master, name="east", regions=["east"],
                               target_pool=pool)
    recycle_rule(pool, threshold=7)
    routed = make_lead(master, region="east")
    stale = owned(pool, wangfang, assigned_ago=timedelta(days=8))
    out = StringIO()
    call_command("run_rules", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "dry run" in text.lower() and "routed: 1" in text and "recycled: 1" in text
    routed.refresh_from_db(), stale.refresh_from_db()
    assert routed.pool_id == master.pk and stale.owner_id == wangfang.pk
    out = StringIO()
    call_command("run_rules", "--pool", "master", stdout=out)
    routed.refresh_from_db()
    assert routed.pool_id == pool.pk
    call_command("run_rules", stdout=StringIO())
    stale.refresh_from_db()
    assert stale.owner_id is None


def test_a_run_killed_mid_batch_leaves_nothing_half_done_and_the_next_run_redoes_it(
        pool, wangfang, lilei, monkeypatch):
    rule = recycle_rule(pool, threshold=7)
    stale = [owned(pool, owner, assigned_ago=timedelta(days=8))
             for owner in (wangfang, lilei, wangfang)]

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    # The batch's statement moved the leads and wrote their events; the worker dies before
    # the batch commits (while telling the owners).
    monkeypatch.setattr("leads.pools.recycle.notify_many", killed)
    with pytest.raises(SystemExit):
        recycle_run()
    for lead in stale:
        lead.refresh_from_db()
        assert lead.owner_id is not None and lead.recycle_count == 0
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.RECYCLED).exists()
    monkeypatch.undo()
    assert recycle_run().recycled == Counter({rule.pk: 3})
    assert recycle_run().recycled == Counter()
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.RECYCLED).count() == 3
