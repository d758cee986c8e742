"""Customer services: merge (complete and atomic), stars and grade caps, grading, handover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.test import override_settings
from django.utils import timezone

from leads.models import FollowUp
from opportunities.customers import grading, services
from opportunities.models import Contact, ContactMethod, Customer, CustomerContact, Opportunity
from orgs.models import DictionaryItem, Employee
from tests.customers.conftest import make_contact, make_customer, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(wangfang, pool):
    survivor = make_customer(wangfang, "星辰科技")
    other = make_customer(wangfang, "星辰科技 有限公司", region="east")
    shared = make_contact(survivor, "共同联系人", mobile="13800001111")
    CustomerContact.objects.create(customer=other, contact=shared, role="采购", is_primary=True)
    only_other = make_contact(other, "王采购", primary=False)
    opp = make_opportunity(other, wangfang)
    opp.stage_changes.create(from_stage="prospecting", to_stage="proposal")
    followup = FollowUp.objects.create(customer=other, author=wangfang, kind="call",
                                       outcome="connected", content="谈了价格")
    lead = make_lead(pool, owner=wangfang)
    lead.customer = other
    lead.save(update_fields=["customer"])
    return {"survivor": survivor, "other": other, "shared": shared, "only_other": only_other,
            "opp": opp, "followup": followup, "lead": lead}


def test_merge_moves_every_history(pair, wangfang):
    survivor, other = pair["survivor"], pair["other"]
    services.customer_merge(user=wangfang, survivor_id=survivor.pk, other_id=other.pk)
    other.refresh_from_db()
    survivor.refresh_from_db()
    assert other.merged_into_id == survivor.pk
    assert Opportunity.objects.get(pk=pair["opp"].pk).customer_id == survivor.pk
    assert pair["opp"].stage_changes.count() == 1
    assert FollowUp.objects.get(pk=pair["followup"].pk).customer_id == survivor.pk
    pair["lead"].refresh_from_db()
    assert pair["lead"].customer_id == survivor.pk
    links = dict(CustomerContact.objects.filter(customer=survivor)
                 .values_list("contact_id", "is_primary"))
    assert links == {pair["shared"].pk: True, pair["only_other"].pk: False}
    assert not CustomerContact.objects.filter(customer=other).exists()
    assert survivor.region == "east"  # a blank field filled from the duplicate
    entry = LogEntry.objects.get_for_object(survivor).filter(
        changes__icontains="merged_from").get()
    assert entry.actor == wangfang and "opportunities.Opportunity: 1" in str(entry.changes)


def test_merge_failing_half_way_changes_nothing(pair, wangfang, monkeypatch):
    survivor, other = pair["survivor"], pair["other"]

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    # Everything has moved by the time the audit entry is written; then it fails.
    monkeypatch.setattr(services, "_audit_merge", boom)
    with pytest.raises(RuntimeError):
        services.customer_merge(user=wangfang, survivor_id=survivor.pk, other_id=other.pk)
    other.refresh_from_db()
    assert other.merged_into_id is None
    assert Opportunity.objects.get(pk=pair["opp"].pk).customer_id == other.pk
    assert FollowUp.objects.get(pk=pair["followup"].pk).customer_id == other.pk
    assert CustomerContact.objects.filter(customer=other).count() == 2


def test_merge_is_scoped(wangfang, zhangwei, demo_org):
    mine = make_customer(wangfang, "A 公司")
    theirs = make_customer(zhangwei, "A 公司")
    with pytest.raises(services.CustomerActionRefused):
        services.customer_merge(user=wangfang, survivor_id=mine.pk, other_id=theirs.pk)
    assert Customer.objects.get(pk=theirs.pk).merged_into_id is None


def test_contact_merge_keeps_links_and_methods(wangfang):
    customer_a = make_customer(wangfang, "甲")
    customer_b = make_customer(wangfang, "乙")
    keep = make_contact(customer_a, "刘", mobile="13900000001")
    dupe = make_contact(customer_b, "刘总", mobile="+86 139 0000 0001", email="liu@x.cn")
    services.contact_merge(user=wangfang, survivor_id=keep.pk, other_id=dupe.pk)
    assert Contact.objects.get(pk=dupe.pk).merged_into_id == keep.pk
    assert set(keep.customer_links.values_list("customer_id", flat=True)) == {
        customer_a.pk, customer_b.pk}
    methods = list(ContactMethod.objects.filter(contact=keep).values_list("kind", "is_primary"))
    assert sorted(methods) == [("email", False), ("mobile", True)]


def test_possible_duplicates_by_name_and_phone(wangfang):
    from opportunities.customers.selectors import contact_duplicates, customer_duplicates

    base = make_customer(wangfang, "ＡＢＣ 有限公司")
    same_name = make_customer(wangfang, "abc有限公司")
    same_phone = make_customer(wangfang, "别名公司")
    unrelated = make_customer(wangfang, "无关公司")
    c1 = make_contact(base, "甲", mobile="13700001234")
    c2 = make_contact(same_phone, "乙", mobile="0086 137 0000 1234")
    make_contact(unrelated, "丙")
    found = {d["record"].pk: d["why"] for d in customer_duplicates(user=wangfang, customer=base)}
    assert found == {same_name.pk: "name", same_phone.pk: "contact"}
    assert [d["record"].pk for d in contact_duplicates(user=wangfang, contact=c1)] == [c2.pk]


def test_star_cap(wangfang):
    customers = [make_customer(wangfang) for _ in range(3)]
    with override_settings(CUSTOMER_STAR_CAP=2):
        services.customer_star(customer_id=customers[0].pk, user=wangfang, starred=True)
        services.customer_star(customer_id=customers[1].pk, user=wangfang, starred=True)
        with pytest.raises(services.CustomerActionRefused) as refused:
            services.customer_star(customer_id=customers[2].pk, user=wangfang, starred=True)
    assert refused.value.code == "star_cap" and "2" in refused.value.message
    assert not Customer.objects.get(pk=customers[2].pk).is_starred


def test_transfer_respects_grade_cap(wangfang, lilei, mgr_shanghai):
    item = DictionaryItem.objects.of("customer_grade").get(code="A")
    item.extra = {"cap_per_rep": 1}
    item.save()
    make_customer(lilei, grade="A")
    moving = make_customer(wangfang, grade="A")
    opp = make_opportunity(moving, wangfang)
    with pytest.raises(services.CustomerActionRefused) as refused:
        services.customer_transfer(customer_ids=[moving.pk], to_user_id=lilei.pk,
                                   actor=mgr_shanghai)
    assert refused.value.code == "grade_cap"
    assert Customer.objects.get(pk=moving.pk).owner == wangfang
    item.extra = {}
    item.save()
    services.customer_transfer(customer_ids=[moving.pk], to_user_id=lilei.pk,
                               actor=mgr_shanghai)
    assert Customer.objects.get(pk=moving.pk).owner == lilei
    opp.refresh_from_db()
    assert opp.owner == lilei and opp.events.get().kind == "transferred"


def test_grading_from_won_amounts_of_last_year(wangfang):
    now = timezone.now()
    big = make_customer(wangfang, grade="")
    mid = make_customer(wangfang, grade="A")
    old = make_customer(wangfang, grade="A")
    none = make_customer(wangfang, grade="")
    merged = make_customer(wangfang, grade="")
    Customer.objects.filter(pk=merged.pk).update(merged_into=big)
    for customer, amount, status, days in [(big, "800000", "won", 5), (big, "300000", "won", 300),
                                           (mid, "150000", "won", 1), (mid, "9000000", "open", 0),
                                           (old, "5000000", "won", 400),
                                           (merged, "5000000", "won", 0)]:
        make_opportunity(customer, wangfang, amount=amount, status=status,
                         closed_at=now - timedelta(days=days) if status == "won" else None)
    assert grading.customers_grade(now=now) == 4
    grades = dict(Customer.objects.values_list("pk", "grade"))
    assert grades[big.pk] == "A" and grades[mid.pk] == "B"
    assert grades[old.pk] == "C" and grades[none.pk] == "C" and grades[merged.pk] == ""
    assert Customer.objects.get(pk=big.pk).signed_amount_12m == 1100000
    assert grading.customers_grade(now=now) == 0  # a second run changes nothing
    item = DictionaryItem.objects.of("customer_grade").get(code="A")
    item.extra = {"min_amount": 2000000}
    item.save()
    grading.customers_grade(now=now)
    assert Customer.objects.get(pk=big.pk).grade == "B"


def test_grading_task_runs(wangfang):
    from opportunities.tasks import grade_customers

    make_customer(wangfang, grade="")
    assert grade_customers.delay().get()["changed"] == 1


def test_departure_hands_customers_opportunities_and_plans_to_successor(wangfang, lilei,
                                                                         pool):
    from orgs.services import employee_depart

    customer = make_customer(wangfang)
    contact = make_contact(customer, "联系人")
    opp = make_opportunity(customer, wangfang, stage="proposal")
    opp.stage_changes.create(from_stage="prospecting", to_stage="proposal")
    due = timezone.now() + timedelta(days=2)
    FollowUp.objects.create(opportunity=opp, customer=customer, author=wangfang, kind="call",
                            outcome="connected", content="下周报价", next_at=due,
                            plan_open=True)
    employee = Employee.objects.get(user=wangfang)
    successor = Employee.objects.get(user=lilei)
    report = employee_depart(employee_id=employee.pk, successor_id=successor.pk)
    assert any(r.name == "customers" and r.moved >= 2 for r in report.handover)
    customer.refresh_from_db()
    opp.refresh_from_db()
    assert customer.owner == lilei and opp.owner == lilei and opp.stage == "proposal"
    assert opp.stage_changes.count() == 1
    assert CustomerContact.objects.filter(customer=customer, contact=contact).exists()
    plan = FollowUp.objects.get(plan_open=True)
    assert plan.author == lilei and plan.next_at == due and plan.opportunity == opp
    assert FollowUp.objects.filter(author=wangfang, plan_open=False).count() == 1


def test_departure_without_successor_hands_customers_to_the_supervisor(wangfang, mgr_shanghai):
    from orgs.services import employee_depart

    customer = make_customer(wangfang)
    employee_depart(employee_id=Employee.objects.get(user=wangfang).pk)
    customer.refresh_from_db()
    assert customer.owner == mgr_shanghai
