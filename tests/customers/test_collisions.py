"""The intake duplicate check spans customers and contacts, with one policy per channel."""

from __future__ import annotations

import json

import pytest

from crm_site.lib.imports.reading import read_table
from leads import services as lead_services
from leads.imports.lead_kind import run_import
from leads.models import Lead, LeadPool, Touchpoint
from leads.models_intake import ChannelToken
from tests.customers.conftest import make_contact, make_customer, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


@pytest.fixture
def known(wangfang):
    """A customer of Wang Fang whose contact is reachable on 13955556666."""
    customer = make_customer(wangfang, "上海已知客户有限公司")
    make_contact(customer, "老客户", mobile="13955556666", email="old@known.cn")
    return customer


def _token(master, channel: str, policy: str) -> str:
    token = ChannelToken(channel=channel, name=channel, pool=master, collision_policy=policy)
    secret = token.issue()
    token.save()
    return secret


def _ingest(client, secret, **body):
    return client.post("/api/leads/ingest/", data=json.dumps(body),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_ingest_refuse_policy(client, master, known):
    secret = _token(master, "web_form", "refuse")
    response = _ingest(client, secret, external_id="R1", name="新人", mobile="+86 139 5555 6666")
    assert response.status_code == 409 and response.json()["error"] == "duplicate"
    assert not Lead.objects.exists()


def test_ingest_attach_policy_gives_the_lead_to_the_customers_owner(client, master, known,
                                                                   wangfang):
    secret = _token(master, "web_form", "attach")
    response = _ingest(client, secret, external_id="A1", name="新人", email="OLD@known.cn")
    assert response.status_code == 201 and response.json()["status"] == "attached"
    lead = Lead.objects.get()
    assert lead.owner == wangfang and lead.customer == known and lead.status == "assigned"
    assert list(lead.events.values_list("kind", "reason")) == [("created", "web_form"),
                                                              ("assigned", "collision")]
    # A second submission of the same person now meets the lead: a touchpoint.
    response = _ingest(client, secret, external_id="A2", name="新人", email="old@known.cn")
    assert response.json()["status"] == "touchpoint" and Lead.objects.count() == 1


def test_ingest_pool_policy_routes_to_the_pool_flagged(client, master, known, pool, lilei):
    make_lead(pool, owner=lilei, mobile="13977778888")
    secret = _token(master, "mini_program", "pool")
    response = _ingest(client, secret, external_id="P1", name="新人", mobile="13977778888")
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert lead.owner is None and lead.pool == master
    assert lead.attributes["_possible_duplicates"][0]["kind"] == "lead"
    response = _ingest(client, secret, external_id="P2", name="公司",
                       company="上海已知客户 有限公司", mobile="13600001111")
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert lead.owner is None
    assert lead.attributes["_possible_duplicates"] == [
        {"kind": "customer", "id": known.pk, "on": "company"}]


def test_manual_entry_refuses_a_known_customer_naming_the_team(master, known, lilei):
    with pytest.raises(lead_services.LeadActionRefused) as refused:
        lead_services.lead_create(pool=master, actor=lilei, take_ownership=True,
                                  data={"name": "新人", "mobile": "13955556666"})
    assert refused.value.code == "duplicate"
    assert "上海一组" in refused.value.message or "Shanghai team" in refused.value.message
    assert not Lead.objects.exists()


def test_manual_entry_attach_policy(master, known, lilei, wangfang, pool):
    _token(master, "event", "attach")
    lead = lead_services.lead_create(pool=master, actor=lilei, take_ownership=True,
                                     data={"name": "展会新人", "mobile": "13955556666",
                                           "channel": "event"})
    assert lead.owner == wangfang and lead.customer == known
    existing = make_lead(pool, owner=wangfang, mobile="13911110000")
    again = lead_services.lead_create(pool=master, actor=lilei, take_ownership=True,
                                      data={"name": "x", "mobile": "13911110000",
                                            "channel": "event"})
    assert again.pk == existing.pk and Touchpoint.objects.filter(lead=existing).count() == 1


def test_manual_entry_pool_policy(master, known, lilei):
    _token(master, "referral", "pool")
    lead = lead_services.lead_create(pool=master, actor=lilei, take_ownership=True,
                                     data={"name": "转介绍", "mobile": "13955556666",
                                           "channel": "referral"})
    assert lead.owner is None and lead.status == "in_pool"
    assert lead.attributes["_possible_duplicates"][0]["kind"] == "contact"


CSV = "姓名,手机,公司\n甲,13955556666,\n乙,13800009999,\n丙,13700001234,上海已知客户有限公司\n"
MAPPING = {"姓名": "name", "手机": "mobile", "公司": "company"}


@pytest.mark.parametrize("policy,accepted,skipped,owned", [
    ("refuse", 1, 2, 0), ("attach", 3, 0, 2), ("pool", 3, 0, 0)])
def test_import_follows_the_channel_policy(master, known, wangfang, policy, accepted,
                                           skipped, owned):
    _token(master, "file_import", policy)
    counts = run_import(table=read_table(CSV.encode(), "x.csv"), pool=master,
                        channel="file_import", mapping=MAPPING, actor=None)
    assert (counts.accepted, counts.skipped) == (accepted, skipped)
    assert Lead.objects.filter(owner=wangfang, customer=known).count() == owned
    if policy == "attach":
        assert set(Lead.objects.filter(owner=wangfang).values_list("status", flat=True)) == {
            "assigned"}
        assert all(lead.events.filter(kind="assigned", reason="collision").exists()
                   for lead in Lead.objects.filter(owner=wangfang))
