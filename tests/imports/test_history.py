"""History from another CRM: a lead file may give each lead's channel, the date it was
first contacted or created and how it ended; an opportunity file may link each deal to the
lead it came from by the lead's external ID."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone, translation

from crm_site.lib.imports.reading import read_table
from leads.imports.lead_kind import run_import
from leads.imports.lead_rows import guess_mapping
from leads.imports.runner import import_table, resolve_mapping
from leads.models import Lead, LeadEvent, LeadPool
from opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

LEADS = ("外部ID,姓名,手机,渠道,创建时间,结果\n"
         "H1,历史甲,13900000101,官网表单,2023-03-05,已转化\n"
         "H2,Old Bee,13900000102,Search ads,2023/04/06 10:30,Junk\n"
         "H3,历史丙,13900000103,referral,,\n"
         "H4,历史丁,13900000104,电视广告,2023-01-01,\n"
         "H5,历史戊,13900000105,,2999-01-01,\n"
         "H6,历史己,13900000106,,2023-02-02,maybe\n")


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


def _import(master, text: str):
    table = read_table(text.encode(), "history.csv")
    with translation.override("en"):
        return run_import(table=table, pool=master, channel="file_import",
                          mapping=guess_mapping(table.headers), actor=None)


def test_a_lead_file_brings_channel_date_and_outcome(master):
    counts = _import(master, LEADS)
    assert (counts.accepted, counts.rejected) == (3, 3)
    reasons = {line: reason for line, reason, _d in counts.rejects}
    assert "电视广告" in reasons[5]  # not in the channel dictionary
    assert "2999-01-01" in reasons[6] and "maybe" in reasons[7]
    converted = Lead.objects.get(external_id="H1")
    day = timezone.make_aware(datetime(2023, 3, 5))
    assert (converted.channel, converted.status, converted.created_at,
            converted.converted_at) == ("web_form", "converted", day, day)
    junk = Lead.objects.get(external_id="H2")
    assert (junk.channel, junk.status) == ("search_ads", "invalid")
    assert junk.created_at == timezone.make_aware(datetime(2023, 4, 6, 10, 30))
    fresh = Lead.objects.get(external_id="H3")
    assert (fresh.channel, fresh.status) == ("referral", "in_pool")
    assert fresh.created_at > timezone.now() - timezone.timedelta(minutes=5)
    # The events carry the lead's own dates, so reports count the history when it happened.
    assert list(LeadEvent.objects.filter(lead=converted).order_by("kind").values_list(
        "kind", "created_at", "reason")) == [("converted", day, "web_form"),
                                             ("created", day, "web_form")]
    assert set(LeadEvent.objects.filter(lead=junk).values_list("kind", flat=True)) == {
        "created", "invalidated"}
    # Re-importing adds nothing twice: the external ID is keyed with the row's channel.
    again = _import(master, LEADS)
    assert (again.accepted, again.skipped) == (0, 3)


def test_an_opportunity_links_to_its_lead_by_the_lead_s_external_id(master):
    _import(master, LEADS)
    deals = read_table(("商机名称,负责人,阶段,金额,线索编号\n"
                        "D1,王芳,方案/报价,100,H3\n"
                        "D2,王芳,方案/报价,100,NOPE\n").encode(), "o.csv")
    with translation.override("en"):
        counts = import_table("opportunities", table=deals,
                              mapping=resolve_mapping("opportunities", deals.headers))
    assert (counts.accepted, counts.rejected) == (1, 1)
    assert "NOPE" in counts.rejects[0][1]
    lead = Lead.objects.get(external_id="H3")
    deal = Opportunity.objects.get(name="D1")
    assert (lead.opportunity_id, lead.status) == (deal.pk, "converted")
    assert lead.converted_at == deal.created_at
    assert LeadEvent.objects.filter(lead=lead, kind="converted").count() == 1
