"""Money reads grouped by thousands in both languages on every page (CSV keeps raw
numbers); customers and opportunities link to each other; a converted lead's opportunity
is not named after the company alone."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from crm_site.lib.formatting import format_money
from leads.models import LeadPool
from opportunities.models import Opportunity
from orgs.models import OrgUnit
from tests.helpers import user
from tests.leads.conftest import make_lead

from .conftest import make_opportunity

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_money_is_grouped_by_thousands_in_both_languages(language):
    with translation.override(language):
        assert format_money(Decimal("186000")) == "186,000.00"
        assert format_money("1234567.5", 0) == "1,234,568"
        assert format_money(Decimal("-950.5")) == "-950.50"
        assert format_money(None) == ""


# A printed value whose name says it is money, with no ``|money`` after it. Form values
# (``value="…"``, ``data-price="…"``) are numbers for inputs, not text for people.
_PRINTED = re.compile(r'(?<!value=")(?<!data-price=")\{\{\s*([\w.]*(?:amount|total|price|'
                      r'weighted|outstanding|received|signed_amount_12m))(?=[\s|}])([^}]*)\}\}')
# Counts that happen to be called ``total`` (rows of a file, leads waiting).
NOT_MONEY = {("leads/import_progress.html", "total"), ("leads/pool_fairness.html",
                                                       "heat.ages.total")}


def test_every_template_prints_money_through_the_money_filter():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for match in _PRINTED.finditer(path.read_text()):
            name, filters = match.groups()
            where = str(path.relative_to(TEMPLATES))
            if "|money" not in filters and (where, name) not in NOT_MONEY:
                offenders.append(f"{where}: {match.group(0)}")
    assert not offenders, "\n".join(offenders)


@pytest.fixture
def won(demo_org):
    return make_opportunity(owner=user("rep_wangfang"), stage="won", amount=186_000,
                            status=Opportunity.Status.WON, name="锦程 MES 项目",
                            customer_name="上海锦程智能制造有限公司")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_opportunity_and_customer_pages_show_grouped_amounts_and_link_each_other(
        won, client_for, language):
    client = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE=language)
    page = client.get(f"/opportunities/{won.pk}/").content.decode()
    assert "186,000.00" in page and "186000" not in page
    assert f'href="/customers/{won.customer_id}/"' in page
    page = client.get(f"/customers/{won.customer_id}/").content.decode()
    assert "186,000.00" in page and "186000" not in page
    assert f'href="/opportunities/{won.pk}/"' in page
    for url in ("/opportunities/", "/opportunities/board/"):
        page = client.get(url).content.decode()
        assert "186,000" in page and "186000" not in page, url


def test_the_csv_export_keeps_raw_amounts(won, client_for):
    body = b"".join(client_for("director").get("/opportunities/export.csv")
                    .streaming_content).decode("utf-8-sig")
    assert "186000.00" in body and "186,000" not in body


def test_a_customer_link_only_where_the_viewer_may_open_the_customer(won, client_for):
    # The customer moved to a colleague: the opportunity stays with Wang Fang, but its
    # customer page is no longer hers to open, so the name is not a dead link.
    won.customer.owner = user("rep_zhangwei")
    won.customer.save(update_fields=["owner"])
    client = client_for("rep_wangfang")
    assert client.get(f"/customers/{won.customer_id}/").status_code == 404
    page = client.get(f"/opportunities/{won.pk}/").content.decode()
    assert f'href="/customers/{won.customer_id}/"' not in page
    assert "上海锦程智能制造有限公司" in page


def test_a_converted_leads_opportunity_is_named_after_company_and_product(demo_org,
                                                                       client_for):
    pool = LeadPool.objects.create(code="t_east", name="测试华东池",
                                   org_unit=OrgUnit.objects.get(code="east"))
    owner = user("rep_wangfang")
    lead = make_lead(pool, owner=owner, company="锦程智能", product_category="software")
    bare = make_lead(pool, owner=owner, company="云帆网络")
    page = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="zh-hans").get(
        f"/opportunities/convert/{lead.pk}/").content.decode()
    assert 'value="锦程智能 · 软件订阅"' in page
    page = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en").get(
        f"/opportunities/convert/{lead.pk}/").content.decode()
    assert 'value="锦程智能 · Software subscription"' in page
    page = client_for("rep_wangfang").get(f"/opportunities/convert/{bare.pk}/").content.decode()
    assert f'value="云帆网络 · {timezone.localdate():%Y-%m-%d}"' in page
