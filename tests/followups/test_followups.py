"""Follow-ups on leads, customers and opportunities: the one service, the shared panel and
who may reach it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.followups.services import followup_record
from leads.models import FollowUp, Lead
from leads.services import LeadActionRefused
from opportunities.models import Customer, Opportunity
from tests.followups.conftest import make_customer, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def record(subject, pk, user, **values):
    values = {"kind": "call", "outcome": "connected", "content": "聊了预算和时间表", **values}
    return followup_record(subject=subject, record_id=pk, user=user, **values)


def form(**values):
    return {"kind": "call", "outcome": "connected", "content": "电话沟通了方案细节", **values}


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- the service ------------------------------------------------------------------------------


def test_a_newer_followup_completes_the_plan_of_the_same_record_only(pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    other = make_lead(pool, owner=wangfang)
    soon = timezone.now() + timedelta(days=1)
    first = record("lead", lead.pk, wangfang, next_at=soon)
    elsewhere = record("lead", other.pk, wangfang, next_at=soon)
    assert first.plan_open and elsewhere.plan_open
    second = record("lead", lead.pk, wangfang, next_at=soon + timedelta(days=2))
    first.refresh_from_db()
    elsewhere.refresh_from_db()
    assert not first.plan_open
    assert second.plan_open and elsewhere.plan_open
    lead.refresh_from_db()
    assert lead.next_followup_at == soon + timedelta(days=2)
    # A follow-up without a next time closes the plan and clears the record's next time.
    record("lead", lead.pk, wangfang)
    assert not FollowUp.objects.filter(lead=lead, plan_open=True).exists()
    lead.refresh_from_db()
    assert lead.next_followup_at is None and lead.status == Lead.Status.FOLLOWING


def test_followup_on_an_opportunity_names_its_customer_and_moves_its_clock(
        wangfang, opportunity):
    before = timezone.now()
    followup = record("opportunity", opportunity.pk, wangfang,
                      next_at=before + timedelta(days=3))
    assert followup.opportunity_id == opportunity.pk
    assert followup.customer_id == opportunity.customer_id
    assert followup.qualifies
    opportunity.refresh_from_db()
    assert opportunity.last_qualified_at >= before
    assert opportunity.next_followup_at == before + timedelta(days=3)
    # The customer's own plans are separate from its opportunity's.
    customer_plan = record("customer", opportunity.customer_id, wangfang,
                           next_at=before + timedelta(days=5))
    followup.refresh_from_db()
    assert followup.plan_open and customer_plan.plan_open
    assert Customer.objects.get(pk=opportunity.customer_id).next_followup_at == (
        before + timedelta(days=5))


def test_a_short_note_does_not_count_as_contact_on_an_opportunity(wangfang, opportunity):
    followup = record("opportunity", opportunity.pk, wangfang, content="嗯")
    assert not followup.qualifies
    opportunity.refresh_from_db()
    assert opportunity.last_qualified_at is None
    assert opportunity.last_followup_at == followup.created_at


@pytest.mark.parametrize("subject", ["lead", "customer", "opportunity"])
def test_only_the_owner_of_an_open_record_writes_its_followups(pool, wangfang, lilei,
                                                               subject):
    target = {"lead": lambda: make_lead(pool, owner=wangfang),
              "customer": lambda: make_customer(wangfang),
              "opportunity": lambda: make_opportunity(wangfang)}[subject]()
    with pytest.raises(LeadActionRefused) as refused:
        record(subject, target.pk, lilei)
    assert refused.value.code == "not_owner"
    assert not FollowUp.objects.exists()


def test_a_closed_opportunity_takes_no_more_followups(wangfang):
    won = make_opportunity(wangfang, status=Opportunity.Status.WON)
    with pytest.raises(LeadActionRefused):
        record("opportunity", won.pk, wangfang)


# --- the panel: scoping of every URL and action --------------------------------------------


@pytest.fixture
def records(pool, wangfang):
    return {"lead": make_lead(pool, owner=wangfang), "customer": make_customer(wangfang),
            "opportunity": make_opportunity(wangfang)}


@pytest.mark.parametrize("subject", ["lead", "customer", "opportunity"])
def test_another_reps_record_is_a_404_to_read_and_to_write(client_for, records, subject):
    target = records[subject]
    url = f"/followups/{subject}/{target.pk}/"
    other = client_for("rep_zhangwei")  # another team: outside her boundary
    assert other.get(url).status_code == 404
    response = other.post(url, form(), HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert not FollowUp.objects.exists()
    assert client_for("rep_wangfang").get("/followups/lead/999999/").status_code == 404
    assert client_for("rep_wangfang").get(f"/followups/contract/{target.pk}/").status_code == 404


@pytest.mark.parametrize("subject", ["lead", "customer", "opportunity"])
def test_the_owner_adds_a_followup_in_place(client_for, records, subject):
    target = records[subject]
    url = f"/followups/{subject}/{target.pk}/"
    owner = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="zh-hans")
    next_at = timezone.now() + timedelta(days=2)
    response = owner.post(url, form(next_at=local_input(next_at)), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="followup-panel"' in html
    assert "电话沟通了方案细节" in html
    assert response["HX-Trigger"] == "followup-saved"
    followup = FollowUp.objects.get()
    assert getattr(followup, f"{subject}_id") == target.pk and followup.plan_open


def test_a_manager_reads_the_panel_but_has_no_form_and_cannot_post(client_for, records):
    lead = records["lead"]
    manager = client_for("mgr_shanghai")
    page = manager.get(f"/followups/lead/{lead.pk}/").content.decode()
    assert 'data-testid="followup-panel"' in page
    assert "followup-panel-form" not in page
    response = manager.post(f"/followups/lead/{lead.pk}/", form(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not FollowUp.objects.exists()
    assert 'role="alert"' in response.content.decode()


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(client_for, records):
    customer = records["customer"]
    owner = client_for("rep_wangfang")
    past = timezone.now() - timedelta(hours=1)
    response = owner.post(f"/followups/customer/{customer.pk}/",
                          form(content="", next_at=local_input(past)), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_without_htmx_the_form_goes_back_to_the_record(client_for, records):
    owner = client_for("rep_wangfang")
    lead = records["lead"]
    response = owner.post(f"/followups/lead/{lead.pk}/", form())
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert FollowUp.objects.filter(lead=lead).count() == 1


def test_panel_queries_do_not_grow_with_followups(client_for, records, wangfang,
                                                  django_assert_max_num_queries):
    lead = records["lead"]
    owner = client_for("rep_wangfang")
    url = f"/followups/lead/{lead.pk}/"
    record("lead", lead.pk, wangfang)
    owner.get(url)
    with django_assert_max_num_queries(20) as few:
        owner.get(url)
    for _ in range(15):
        record("lead", lead.pk, wangfang)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = owner.get(url).content.decode()
    assert html.count('class="list-group-item small"') == 16
