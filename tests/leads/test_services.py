"""Lead services: claim, release, transfer, assign, invalidate, follow-ups, intake, handover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from leads import services
from leads.models import FollowUp, Lead, LeadEvent
from leads.selectors import my_leads
from leads.services import DuplicateLead, LeadActionRefused
from orgs.services import employee_depart
from tests.helpers import user

from .conftest import make_lead, team

pytestmark = pytest.mark.django_db


def events(lead, kind=None):
    queryset = LeadEvent.objects.filter(lead=lead)
    return queryset.filter(kind=kind) if kind else queryset


def refused(fn, **kwargs) -> LeadActionRefused:
    with pytest.raises(LeadActionRefused) as info:
        fn(**kwargs)
    return info.value


# --- claim -----------------------------------------------------------------------------


def test_claim_makes_the_rep_owner_with_one_claimed_event(pool, wangfang):
    lead = make_lead(pool)
    claimed = services.lead_claim(lead_id=lead.pk, user=wangfang)
    assert (claimed.owner_id, claimed.status) == (wangfang.pk, Lead.Status.ASSIGNED)
    assert claimed.assigned_at is not None
    event = events(lead).get(kind=LeadEvent.Kind.CLAIMED)
    assert (event.actor_id, event.to_owner_id, event.from_pool_id) == (
        wangfang.pk, wangfang.pk, pool.pk)
    assert [lead.pk for lead in my_leads(user=wangfang).rows] == [lead.pk]


def test_claim_refused_at_the_pool_cap(pool, wangfang, lilei):
    pool.owned_cap = 2
    pool.save()
    first, second, third = (make_lead(pool) for _ in range(3))
    services.lead_claim(lead_id=first.pk, user=wangfang)
    services.lead_claim(lead_id=second.pk, user=wangfang)
    error = refused(services.lead_claim, lead_id=third.pk, user=wangfang)
    assert error.code == "pool_cap"
    assert "2" in error.message and pool.display_name in error.message
    third.refresh_from_db()
    assert third.owner_id is None and third.status == Lead.Status.IN_POOL
    assert not events(third, LeadEvent.Kind.CLAIMED).exists()
    # The cap is per rep: a colleague still may.
    assert services.lead_claim(lead_id=third.pk, user=lilei).owner_id == lilei.pk


def test_cap_counts_only_open_leads(pool, wangfang):
    pool.owned_cap = 1
    pool.save()
    first, second = make_lead(pool), make_lead(pool)
    services.lead_claim(lead_id=first.pk, user=wangfang)
    services.lead_invalidate(lead_id=first.pk, user=wangfang, reason="spam")
    assert services.lead_claim(lead_id=second.pk, user=wangfang).owner_id == wangfang.pk


def test_claim_refused_past_the_daily_limit_counting_today_only(pool, wangfang):
    pool.daily_claim_limit = 2
    pool.save()
    # Claimed yesterday: does not count against today's limit.
    make_lead(pool, owner=wangfang, created_at=timezone.now() - timedelta(days=1, hours=1))
    leads = [make_lead(pool) for _ in range(3)]
    services.lead_claim(lead_id=leads[0].pk, user=wangfang)
    services.lead_claim(lead_id=leads[1].pk, user=wangfang)
    error = refused(services.lead_claim, lead_id=leads[2].pk, user=wangfang)
    assert error.code == "daily_limit"
    assert "2" in error.message
    # Releasing does not give a claim back: the limit counts claims, not holdings.
    services.lead_release(lead_id=leads[0].pk, user=wangfang, reason="no_need")
    assert refused(services.lead_claim, lead_id=leads[2].pk, user=wangfang).code == "daily_limit"
    leads[2].refresh_from_db()
    assert leads[2].owner_id is None


def test_cooldown_after_release_names_when_the_rep_may_claim_again(pool, wangfang, lilei):
    lead = make_lead(pool)
    services.lead_claim(lead_id=lead.pk, user=wangfang)
    services.lead_release(lead_id=lead.pk, user=wangfang, reason="no_need")
    released_at = events(lead, LeadEvent.Kind.RELEASED).get().created_at
    error = refused(services.lead_claim, lead_id=lead.pk, user=wangfang)
    assert error.code == "cooldown"
    until = timezone.localtime(released_at + timedelta(days=7))
    assert until.strftime("%Y-%m-%d %H:%M") in error.message
    lead.refresh_from_db()
    assert lead.owner_id is None
    # Someone else may claim it at once.
    assert services.lead_claim(lead_id=lead.pk, user=lilei).owner_id == lilei.pk


def test_cooldown_ends_after_the_pool_setting(pool, wangfang):
    lead = make_lead(pool)
    services.lead_claim(lead_id=lead.pk, user=wangfang)
    services.lead_release(lead_id=lead.pk, user=wangfang, reason="no_need")
    events(lead, LeadEvent.Kind.RELEASED).update(
        created_at=timezone.now() - timedelta(days=7, minutes=1))
    assert services.lead_claim(lead_id=lead.pk, user=wangfang).owner_id == wangfang.pk


def test_claiming_an_owned_lead_names_the_owner_and_team(pool, wangfang, zhangwei):
    lead = make_lead(pool, owner=wangfang)
    error = refused(services.lead_claim, lead_id=lead.pk, user=zhangwei)
    assert error.code == "taken"
    assert "王芳" in error.message and team("east_shanghai") in error.message
    assert refused(services.lead_claim, lead_id=lead.pk, user=wangfang).code == "already_yours"


def test_claim_from_a_pool_out_of_reach_is_refused(demo_leads, wangfang):
    south_lead = make_lead(demo_leads["south_pool"])
    assert refused(services.lead_claim, lead_id=south_lead.pk, user=wangfang).code == "forbidden"
    south_lead.refresh_from_db()
    assert south_lead.owner_id is None


# --- release -----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "bogus", "spam"])  # spam: an invalid reason, not release
def test_release_needs_a_release_reason_from_the_dictionary(pool, wangfang, reason):
    lead = make_lead(pool, owner=wangfang)
    error = refused(services.lead_release, lead_id=lead.pk, user=wangfang, reason=reason)
    assert error.code == "reason_required"
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk
    assert not events(lead, LeadEvent.Kind.RELEASED).exists()


def test_release_returns_the_lead_to_its_pool_with_the_reason(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang, next_followup_at=timezone.now() + timedelta(days=1))
    assert refused(services.lead_release, lead_id=lead.pk, user=lilei,
                   reason="no_need").code == "not_owner"
    released = services.lead_release(lead_id=lead.pk, user=wangfang, reason="unreachable",
                                     note="三次未接")
    assert released.owner_id is None and released.status == Lead.Status.IN_POOL
    assert released.next_followup_at is None
    event = events(lead, LeadEvent.Kind.RELEASED).get()
    assert (event.from_owner_id, event.reason, event.note) == (wangfang.pk, "unreachable",
                                                               "三次未接")


# --- transfer ----------------------------------------------------------------------------


def test_manager_bulk_transfer_writes_one_event_per_lead(pool, wangfang, lilei):
    manager = user("mgr_shanghai")
    leads = [make_lead(pool, owner=wangfang) for _ in range(3)]
    before = LeadEvent.objects.count()
    moved = services.lead_transfer(lead_ids=[lead.pk for lead in leads], to_user_id=lilei.pk,
                                   actor=manager, reason="ineffective_followup", note="月度调整")
    assert moved == 3
    assert LeadEvent.objects.count() == before + 3
    for lead in leads:
        lead.refresh_from_db()
        assert (lead.owner_id, lead.status) == (lilei.pk, Lead.Status.ASSIGNED)
        event = events(lead, LeadEvent.Kind.TRANSFERRED).get()
        assert (event.actor_id, event.from_owner_id, event.to_owner_id, event.reason) == (
            manager.pk, wangfang.pk, lilei.pk, "ineffective_followup")
    assert my_leads(user=wangfang).rows == []
    assert len(my_leads(user=lilei).rows) == 3


def test_transfer_only_within_the_managers_scope(pool, wangfang, lilei, zhangwei):
    manager = user("mgr_shanghai")
    mine = make_lead(pool, owner=wangfang)
    hangzhou = make_lead(pool, owner=zhangwei)  # Hangzhou team: outside mgr_shanghai's unit
    error = refused(services.lead_transfer, lead_ids=[mine.pk, hangzhou.pk],
                    to_user_id=lilei.pk, actor=manager, reason="rebalance")
    assert error.code == "stale"
    for lead, owner in ((mine, wangfang), (hangzhou, zhangwei)):
        lead.refresh_from_db()
        assert lead.owner_id == owner.pk
        assert not events(lead, LeadEvent.Kind.TRANSFERRED).exists()


def test_transfer_only_to_a_rep_within_the_managers_scope(pool, wangfang, zhangwei):
    lead = make_lead(pool, owner=wangfang)
    error = refused(services.lead_transfer, lead_ids=[lead.pk], to_user_id=zhangwei.pk,
                    actor=user("mgr_shanghai"), reason="rebalance")
    assert error.code == "forbidden"
    assert "张伟" in error.message
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk
    # The director's scope covers both teams.
    assert services.lead_transfer(lead_ids=[lead.pk], to_user_id=zhangwei.pk,
                                  actor=user("director"), reason="region_change") == 1


def test_transfer_needs_a_reason_and_the_transfer_right(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang)
    manager = user("mgr_shanghai")
    assert refused(services.lead_transfer, lead_ids=[lead.pk], to_user_id=lilei.pk,
                   actor=manager, reason="").code == "reason_required"
    assert refused(services.lead_transfer, lead_ids=[lead.pk], to_user_id=lilei.pk,
                   actor=manager, reason="no_need").code == "reason_required"  # a release reason
    # A rep's roles do not include transferring.
    assert refused(services.lead_transfer, lead_ids=[lead.pk], to_user_id=lilei.pk,
                   actor=wangfang, reason="rebalance").code == "forbidden"
    lead.refresh_from_db()
    assert lead.owner_id == wangfang.pk


def test_transfer_refused_when_the_target_would_exceed_the_cap(pool, wangfang, lilei):
    pool.owned_cap = 2
    pool.save()
    make_lead(pool, owner=lilei)
    leads = [make_lead(pool, owner=wangfang) for _ in range(2)]
    error = refused(services.lead_transfer, lead_ids=[lead.pk for lead in leads],
                    to_user_id=lilei.pk, actor=user("mgr_shanghai"), reason="rebalance")
    assert error.code == "pool_cap"
    assert "李磊" in error.message
    assert Lead.objects.filter(owner=wangfang).count() == 2
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.TRANSFERRED).exists()
    # One fits.
    assert services.lead_transfer(lead_ids=[leads[0].pk], to_user_id=lilei.pk,
                                  actor=user("mgr_shanghai"), reason="rebalance") == 1


def test_transfer_to_a_departed_employee_is_refused(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang)
    employee_depart(employee_id=lilei.employee.pk)
    error = refused(services.lead_transfer, lead_ids=[lead.pk], to_user_id=lilei.pk,
                    actor=user("mgr_shanghai"), reason="rebalance")
    assert error.code == "inactive"


# --- assign ------------------------------------------------------------------------------


def test_assign_skips_leads_someone_claimed_meanwhile(pool, wangfang, lilei):
    manager = user("mgr_shanghai")
    first, taken, third = make_lead(pool), make_lead(pool), make_lead(pool)
    services.lead_claim(lead_id=taken.pk, user=wangfang)  # between page load and submit
    moved = services.lead_assign(lead_ids=[first.pk, taken.pk, third.pk], to_user_id=lilei.pk,
                                 actor=manager)
    assert moved == 2
    assert set(Lead.objects.filter(owner=lilei).values_list("pk", flat=True)) == {
        first.pk, third.pk}
    taken.refresh_from_db()
    assert taken.owner_id == wangfang.pk
    assert not events(taken, LeadEvent.Kind.ASSIGNED).exists()
    for lead in (first, third):
        event = events(lead, LeadEvent.Kind.ASSIGNED).get()
        assert (event.actor_id, event.to_owner_id) == (manager.pk, lilei.pk)


def test_assign_needs_the_assign_permission_on_the_pool(pool, wangfang, lilei):
    lead = make_lead(pool)
    error = refused(services.lead_assign, lead_ids=[lead.pk], to_user_id=lilei.pk,
                    actor=wangfang)
    assert error.code == "forbidden"
    lead.refresh_from_db()
    assert lead.owner_id is None


def test_assign_respects_the_cap_of_the_target(pool, lilei):
    pool.owned_cap = 1
    pool.save()
    leads = [make_lead(pool) for _ in range(2)]
    error = refused(services.lead_assign, lead_ids=[lead.pk for lead in leads],
                    to_user_id=lilei.pk, actor=user("mgr_shanghai"))
    assert error.code == "pool_cap"
    assert not Lead.objects.filter(owner=lilei).exists()


# --- invalidate --------------------------------------------------------------------------


def test_invalidate_keeps_the_lead_out_of_my_list_and_duplicate_checks(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang, mobile="13700001111")
    assert refused(services.lead_invalidate, lead_id=lead.pk, user=lilei,
                   reason="spam").code == "not_owner"
    assert refused(services.lead_invalidate, lead_id=lead.pk, user=wangfang,
                   reason="no_such").code == "reason_required"
    invalid = services.lead_invalidate(lead_id=lead.pk, user=wangfang, reason="wrong_number")
    assert (invalid.status, invalid.invalid_reason) == (Lead.Status.INVALID, "wrong_number")
    event = events(lead, LeadEvent.Kind.INVALIDATED).get()
    assert (event.actor_id, event.reason) == (wangfang.pk, "wrong_number")
    assert my_leads(user=wangfang).rows == []
    assert services.duplicate_hits(mobile="13700001111") == []
    assert refused(services.lead_invalidate, lead_id=lead.pk, user=wangfang,
                   reason="spam").code == "not_owner"  # not open any more


# --- follow-ups --------------------------------------------------------------------------


def test_followup_moves_the_lead_to_following(pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    next_at = timezone.now() + timedelta(days=2)
    followup = services.followup_add(lead_id=lead.pk, user=wangfang, kind="call",
                                     outcome="connected", content="  客户要报价  ",
                                     next_at=next_at)
    assert followup.content == "客户要报价"
    lead.refresh_from_db()
    assert lead.status == Lead.Status.FOLLOWING
    assert lead.last_followup_at == followup.created_at
    assert lead.next_followup_at == next_at


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"content": "   "}, "invalid"),
        ({"content": ""}, "invalid"),
        ({"next_at": timezone.now() - timedelta(minutes=1)}, "invalid"),
        ({"outcome": "won"}, "invalid"),
        ({"kind": "telepathy"}, "reason_required"),
    ],
)
def test_followup_refuses_empty_content_past_next_time_and_unknown_choices(
    pool, wangfang, kwargs, code
):
    lead = make_lead(pool, owner=wangfang)
    values = {"kind": "call", "outcome": "connected", "content": "聊了需求", **kwargs}
    assert refused(services.followup_add, lead_id=lead.pk, user=wangfang, **values).code == code
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ASSIGNED
    assert not FollowUp.objects.filter(lead=lead).exists()


def test_only_the_owner_adds_followups(pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang)
    error = refused(services.followup_add, lead_id=lead.pk, user=lilei, kind="call",
                    outcome="connected", content="冒名跟进")
    assert error.code == "not_owner"
    assert not FollowUp.objects.filter(lead=lead).exists()


# --- intake and duplicates ----------------------------------------------------------------


def test_create_refuses_a_duplicate_owned_by_another_rep_naming_the_team(pool, wangfang,
                                                                          zhangwei):
    existing = make_lead(pool, owner=wangfang, mobile="13911112222")
    count = Lead.objects.count()
    with pytest.raises(DuplicateLead) as info:
        services.lead_create(pool=pool, actor=zhangwei,
                             data={"name": "张三", "mobile": "+86 139-1111-2222"})
    assert info.value.hits[0].lead == existing
    assert info.value.hits[0].matched_on == "mobile"
    assert team("east_shanghai") in info.value.message
    assert Lead.objects.count() == count


def test_create_offers_the_pool_lead_for_a_full_width_variant(pool, zhangwei):
    existing = make_lead(pool, mobile="13922223333")
    with pytest.raises(DuplicateLead) as info:
        services.lead_create(pool=pool, actor=zhangwei,
                             data={"name": "李四", "mobile": "１３９２２２２３３３３"})
    hit = info.value.hits[0]
    assert hit.lead == existing and hit.in_pool
    assert pool.display_name in info.value.message


def test_create_finds_the_users_own_lead(pool, wangfang):
    existing = make_lead(pool, owner=wangfang, mobile="13933334444")
    with pytest.raises(DuplicateLead) as info:
        services.lead_create(pool=pool, actor=wangfang,
                             data={"name": "王五", "mobile": "0086 13933334444"})
    assert info.value.hits[0].lead.owner_id == wangfang.pk == existing.owner_id


def test_create_matches_email_and_company_after_folding(pool, wangfang):
    make_lead(pool, email="Buyer@Example.com", company="ＡＢＣ 有限公司")
    for data in ({"email": " buyer@example.COM "}, {"company": "abc有限公司", "wechat": "abc"}):
        with pytest.raises(DuplicateLead) as info:
            services.lead_create(pool=pool, actor=wangfang, data={"name": "甲", **data})
        assert info.value.hits[0].matched_on in ("email", "company")


def test_create_writes_one_created_event_and_keeps_it_if_asked(pool, wangfang):
    kept = services.lead_create(pool=pool, actor=wangfang, take_ownership=True,
                                data={"name": "赵六", "mobile": "+86 13944445555",
                                      "channel": "manual"})
    assert kept.mobile_key == "13944445555"
    assert (kept.owner_id, kept.status) == (wangfang.pk, Lead.Status.ASSIGNED)
    event = events(kept).get()
    assert (event.kind, event.to_owner_id, event.to_pool_id) == (
        LeadEvent.Kind.CREATED, wangfang.pk, pool.pk)
    waiting = services.lead_create(pool=pool, actor=wangfang,
                                   data={"name": "钱七", "email": "qian@example.com"})
    assert waiting.owner_id is None and waiting.status == Lead.Status.IN_POOL
    assert events(waiting).get().to_owner_id is None


def test_create_needs_a_name_and_a_way_to_reach(pool, wangfang):
    assert refused(services.lead_create, pool=pool, actor=wangfang,
                   data={"name": " ", "mobile": "13955556666"}).code == "invalid"
    assert refused(services.lead_create, pool=pool, actor=wangfang,
                   data={"name": "孙八", "company": "孙氏商贸"}).code == "invalid"
    assert not Lead.objects.filter(pool=pool).exists()


def test_keeping_a_new_lead_respects_the_cap(pool, wangfang):
    pool.owned_cap = 1
    pool.save()
    make_lead(pool, owner=wangfang)
    assert refused(services.lead_create, pool=pool, actor=wangfang, take_ownership=True,
                   data={"name": "周九", "mobile": "13966667777"}).code == "pool_cap"
    assert not Lead.objects.filter(mobile_key="13966667777").exists()


# --- events: one per change, in the same transaction -------------------------------------------


def test_every_ownership_change_writes_exactly_one_event_per_lead(pool, wangfang, lilei):
    manager = user("mgr_shanghai")
    a, b, c = make_lead(pool), make_lead(pool), make_lead(pool)

    def count():
        return LeadEvent.objects.filter(lead__pool=pool).count()

    steps = [
        (lambda: services.lead_claim(lead_id=a.pk, user=wangfang), 1),
        (lambda: services.lead_assign(lead_ids=[b.pk, c.pk], to_user_id=wangfang.pk,
                                      actor=manager), 2),
        (lambda: services.lead_transfer(lead_ids=[a.pk, b.pk], to_user_id=lilei.pk,
                                        actor=manager, reason="rebalance"), 2),
        (lambda: services.lead_release(lead_id=a.pk, user=lilei, reason="capacity"), 1),
        (lambda: services.lead_invalidate(lead_id=b.pk, user=lilei, reason="spam"), 1),
        (lambda: services.followup_add(lead_id=c.pk, user=wangfang, kind="call",
                                       outcome="connected", content="ok"), 0),
        (lambda: services.lead_star(lead_id=c.pk, user=wangfang, starred=True), 0),
    ]
    for step, added in steps:
        before = count()
        step()
        assert count() == before + added


@pytest.mark.parametrize("action", ["claim", "release", "invalidate"])
def test_no_ownership_change_without_its_event(pool, wangfang, monkeypatch, action):
    lead = make_lead(pool) if action == "claim" else make_lead(pool, owner=wangfang)
    before = Lead.objects.values("owner_id", "status").get(pk=lead.pk)

    def broken(*args, **kwargs):
        raise RuntimeError("event table unavailable")

    monkeypatch.setattr(LeadEvent.objects, "create", broken)
    call = {
        "claim": lambda: services.lead_claim(lead_id=lead.pk, user=wangfang),
        "release": lambda: services.lead_release(lead_id=lead.pk, user=wangfang,
                                                 reason="no_need"),
        "invalidate": lambda: services.lead_invalidate(lead_id=lead.pk, user=wangfang,
                                                       reason="spam"),
    }[action]
    with pytest.raises(RuntimeError):
        call()
    assert Lead.objects.values("owner_id", "status").get(pk=lead.pk) == before


@pytest.mark.parametrize("action", ["assign", "transfer"])
def test_no_bulk_move_without_its_events(pool, wangfang, lilei, monkeypatch, action):
    owner = wangfang if action == "transfer" else None
    leads = [make_lead(pool, owner=owner) for _ in range(3)]
    ids = [lead.pk for lead in leads]

    def broken(*args, **kwargs):
        raise RuntimeError("event table unavailable")

    monkeypatch.setattr(LeadEvent.objects, "bulk_create", broken)
    manager = user("mgr_shanghai")
    with pytest.raises(RuntimeError):
        if action == "assign":
            services.lead_assign(lead_ids=ids, to_user_id=lilei.pk, actor=manager)
        else:
            services.lead_transfer(lead_ids=ids, to_user_id=lilei.pk, actor=manager,
                                   reason="rebalance")
    assert not Lead.objects.filter(pk__in=ids, owner=lilei).exists()


# --- departure handover --------------------------------------------------------------------


def test_departure_hands_open_leads_to_the_successor(pool, wangfang, lilei):
    director = user("director")
    open_leads = [make_lead(pool, owner=wangfang) for _ in range(2)]
    services.followup_add(lead_id=open_leads[1].pk, user=wangfang, kind="call",
                          outcome="connected", content="在跟")
    invalid = make_lead(pool, owner=wangfang)
    services.lead_invalidate(lead_id=invalid.pk, user=wangfang, reason="spam")

    report = employee_depart(employee_id=wangfang.employee.pk, successor_id=lilei.employee.pk,
                             actor=director)

    assert {r.name: r.moved for r in report.handover}["leads"] == 2
    for lead in open_leads:
        lead.refresh_from_db()
        assert (lead.owner_id, lead.status) == (lilei.pk, Lead.Status.ASSIGNED)
        event = events(lead, LeadEvent.Kind.TRANSFERRED).get()
        assert (event.from_owner_id, event.to_owner_id, event.reason, event.actor_id) == (
            wangfang.pk, lilei.pk, "departure", director.pk)
    invalid.refresh_from_db()
    assert (invalid.owner_id, invalid.status) == (wangfang.pk, Lead.Status.INVALID)
    assert not events(invalid, LeadEvent.Kind.TRANSFERRED).exists()
    assert len(my_leads(user=lilei).rows) == 2


def test_departure_without_successor_returns_leads_to_their_pools(demo_leads, zhangwei):
    east, master = demo_leads["east_pool"], demo_leads["master"]
    ours = [make_lead(east, owner=zhangwei), make_lead(master, owner=zhangwei)]
    owned = set(Lead.objects.filter(owner=zhangwei, status__in=Lead.OPEN_STATUSES)
                .values_list("pk", "pool_id"))
    assert len(owned) > 2  # the demo gave him some too

    employee_depart(employee_id=zhangwei.employee.pk, actor=user("director"))

    assert not Lead.objects.filter(owner=zhangwei, status__in=Lead.OPEN_STATUSES).exists()
    for pk, pool_id in owned:
        lead = Lead.objects.get(pk=pk)
        assert (lead.owner_id, lead.status, lead.pool_id) == (None, Lead.Status.IN_POOL,
                                                              pool_id)
        event = events(lead, LeadEvent.Kind.RELEASED).order_by("-created_at", "-pk").first()
        assert (event.from_owner_id, event.reason) == (zhangwei.pk, "departure")
    assert {lead.pool_id for lead in ours} == {east.pk, master.pk}
    # Nothing else moved (the demo's history has releases and transfers of its own).
    assert not LeadEvent.objects.filter(
        Q(kind=LeadEvent.Kind.TRANSFERRED, reason="departure")
        | (Q(reason="departure") & ~Q(from_owner=zhangwei))
    ).exists()
    assert LeadEvent.objects.filter(reason="departure").count() == len(owned)
