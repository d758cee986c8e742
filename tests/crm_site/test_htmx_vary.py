"""Pages that htmx refreshes in place: one URL, the whole page or one fragment of it.

A cache that did not key on ``HX-Request`` could serve the fragment to someone opening
the page (a bare table without the site around it), or the page into an htmx swap (the
site nested inside itself). Every such URL answers ``Vary: HX-Request`` both ways, an
htmx request gets the fragment alone, and a plain request for the fragment's URL gets
the whole page.
"""

from __future__ import annotations

import pytest

from leads.models import LeadPool
from orgs.models import OrgUnit
from tests.customers.conftest import make_customer
from tests.helpers import user
from tests.leads.conftest import make_lead

pytestmark = pytest.mark.django_db

PAGE_MARK = "<html"

# (who asks, URL, query of the fragment request); ``{lead}``, ``{customer}`` and
# ``{pool}`` are filled in with records the viewer may open.
VIEWS = [
    ("rep_wangfang", "/leads/", "?q=x"),
    ("rep_wangfang", "/leads/", "?after=x"),
    ("rep_wangfang", "/leads/pool/?pool={pool}", "&after=x"),
    ("rep_wangfang", "/leads/{lead}/", ""),
    ("mgr_shanghai", "/leads/team/", "?after=x"),
    ("mgr_shanghai", "/leads/rules/{pool}/fairness/", "?after=x"),
    ("rep_wangfang", "/opportunities/board/", "?fragment=board"),
    ("rep_wangfang", "/opportunities/", "?after=x"),
    ("rep_wangfang", "/opportunities/pool/", "?after=x"),
    ("rep_wangfang", "/customers/", ""),
    ("rep_wangfang", "/customers/{customer}/", "?part=duplicates"),
    ("rep_wangfang", "/contacts/", "?after=x"),
    ("mgr_shanghai", "/team/", ""),
    ("mgr_shanghai", "/contracts/orders/", "?after=x"),
    ("mgr_shanghai", "/contracts/", "?after=x"),
    ("mgr_shanghai", "/contracts/receivables/", "?after=x"),
    ("rep_wangfang", "/notifications/", "?after=x"),
    ("qa_hemei", "/qa/", "?status=open"),
]
# Fragments chosen by the element htmx swaps, not by the query.
TARGETS = {"/qa/": "queue-rows"}


@pytest.fixture
def records(demo_org):
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pool = LeadPool.objects.create(code="t_east", name="测试华东池", name_en="Test east pool",
                                   parent=master, org_unit=OrgUnit.objects.get(code="east"),
                                   cooldown_days=7)
    rep = user("rep_wangfang")
    make_lead(pool)
    return {"pool": pool.code, "lead": make_lead(pool, owner=rep).pk,
            "customer": make_customer(rep).pk}


@pytest.mark.parametrize(("username", "url", "fragment_query"), VIEWS,
                         ids=[f"{u}{q}" for _w, u, q in VIEWS])
def test_page_and_fragment_vary_on_hx_request(records, client_for, username, url,
                                              fragment_query):
    client = client_for(username)
    url = url.format(**records)
    fragment_url = url + fragment_query

    page = client.get(url)
    assert page.status_code == 200, url
    assert "HX-Request" in page.get("Vary", ""), url
    assert PAGE_MARK in page.content.decode()

    headers = {"HTTP_HX_REQUEST": "true"}
    if url in TARGETS:
        headers["HTTP_HX_TARGET"] = TARGETS[url]
    fragment = client.get(fragment_url, **headers)
    assert fragment.status_code == 200, fragment_url
    assert "HX-Request" in fragment.get("Vary", ""), fragment_url
    assert PAGE_MARK not in fragment.content.decode(), fragment_url

    # Without htmx the fragment's own URL is still the whole page.
    plain = client.get(fragment_url)
    assert plain.status_code == 200 and PAGE_MARK in plain.content.decode(), fragment_url
    assert "HX-Request" in plain.get("Vary", ""), fragment_url
