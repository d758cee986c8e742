"""Pipeline pages as users see them: scope (another rep's URL gives 404/403), masking on
the board, the list and the export, a constant number of queries on the board, and the
conversion form."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadPool
from opportunities.models import Customer, Opportunity
from opportunities.pipeline import services as services_pipeline
from orgs.models import OrgUnit
from tests.helpers import user
from tests.leads.conftest import make_lead

from .conftest import make_opportunity

MOBILE = "13912345678"
MASKED = "139****5678"


@pytest.fixture
def mine(demo_org):
    """An opportunity of rep_wangfang (Shanghai team), with a contact mobile."""
    return make_opportunity(owner=user("rep_wangfang"), stage="proposal", mobile=MOBILE,
                            name="锦程 MES 项目", customer_name="上海锦程智能制造有限公司")


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_another_rep_reaches_nothing_by_url(mine, client_for, opp_pool):
    lilei = client_for("rep_lilei")
    pk = mine.pk
    assert lilei.get(f"/opportunities/{pk}/").status_code == 404
    response = lilei.post(f"/opportunities/{pk}/move/",
                          {"stage": "won", "version": 1, "from": "board"})
    assert response.status_code == 404
    response = lilei.post(f"/opportunities/{pk}/move/", {"stage": "won", "version": 1})
    assert response.status_code == 404
    lilei.post(f"/opportunities/{pk}/claim/")
    assert lilei.post("/opportunities/pool/assign/",
                      {"ids": [pk], "to_user": user("rep_lilei").pk,
                       "pool": opp_pool.code}).status_code in (302, 403)
    mine.refresh_from_db()
    assert (mine.owner.username, mine.stage, mine.version) == ("rep_wangfang", "proposal", 1)
    for url in ("/opportunities/board/", "/opportunities/",
                "/opportunities/board/column/proposal/"):
        page = lilei.get(url).content.decode()
        assert "锦程 MES 项目" not in page, url
    assert lilei.get("/opportunities/export.csv").status_code == 403  # reps do not export
    # A manager of another team neither sees it nor gets it in an export.
    hangzhou = client_for("mgr_hangzhou")
    assert hangzhou.get(f"/opportunities/{pk}/").status_code == 404
    assert all("锦程 MES 项目" not in row for row in _csv(
        hangzhou.get("/opportunities/export.csv")))
    # Customer search of the conversion form stays in scope.
    assert "上海锦程" not in lilei.get("/opportunities/convert/customers/",
                                      {"customer_name": "锦程"}).content.decode()
    assert "上海锦程" in client_for("rep_wangfang").get(
        "/opportunities/convert/customers/", {"customer_name": "锦程"}).content.decode()


def test_pool_assign_needs_the_assign_right(client_for, opp_pool):
    waiting = make_opportunity(pool=opp_pool)
    rep = client_for("rep_lilei")
    response = rep.post("/opportunities/pool/assign/",
                        {"ids": [waiting.pk], "to_user": user("rep_lilei").pk,
                         "pool": opp_pool.code})
    assert response.status_code == 403
    waiting.refresh_from_db()
    assert waiting.owner_id is None


def test_a_pool_outside_ones_reach_stays_hidden(demo_org, client_for):
    south = LeadPool.objects.create(code="t_south_opp", name="华南商机池",
                                    kind=LeadPool.Kind.OPPORTUNITY,
                                    org_unit=OrgUnit.objects.get(code="south"))
    waiting = make_opportunity(pool=south, name="华南保密商机")
    east_rep = client_for("rep_wangfang")
    assert "华南保密商机" not in east_rep.get(
        "/opportunities/pool/", {"pool": south.code}).content.decode()
    assert east_rep.get(f"/opportunities/{waiting.pk}/").status_code == 404
    east_rep.post(f"/opportunities/{waiting.pk}/claim/")
    waiting.refresh_from_db()
    assert waiting.owner_id is None
    south_rep = client_for("rep_chenjing")
    assert "华南保密商机" in south_rep.get("/opportunities/pool/").content.decode()
    south_rep.post(f"/opportunities/{waiting.pk}/claim/")
    waiting.refresh_from_db()
    assert waiting.owner.username == "rep_chenjing"


def test_conversion_pages_are_the_owners_only(demo_org, client_for):
    pool = LeadPool.objects.create(code="t_east", name="测试华东池",
                                   org_unit=OrgUnit.objects.get(code="east"))
    lead = make_lead(pool, owner=user("rep_wangfang"), company="锦程智能")
    other = client_for("rep_lilei")
    assert other.get(f"/opportunities/convert/{lead.pk}/").status_code == 404
    assert other.post(f"/opportunities/convert/{lead.pk}/", {}).status_code == 404
    owner = client_for("rep_wangfang")
    page = owner.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/opportunities/convert/{lead.pk}/" in page
    response = owner.post(f"/opportunities/convert/{lead.pk}/", {
        "customer_name": "锦程智能", "contact_name": "王建国", "mobile": "13900001111",
        "opportunity_name": "锦程 ERP", "type": "bidding", "amount": "120000",
        "expected_close": "2027-01-31", "stage": "prospecting"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert response["Location"] == f"/opportunities/{lead.opportunity_id}/"
    detail = owner.get(response["Location"]).content.decode()
    assert "锦程 ERP" in detail and "13900001111" in detail  # the owner's detail: in clear
    assert "data-testid=\"followups-slot\"" in detail
    # Bad input: a clear message, nothing written.
    lead2 = make_lead(pool, owner=user("rep_wangfang"))
    response = owner.post(f"/opportunities/convert/{lead2.pk}/", {
        "customer_name": "", "contact_name": "李四", "opportunity_name": "x", "type": "solution",
        "amount": "-5", "stage": "prospecting"})
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    assert "mobile" in response.content.decode().lower() or "手机" in response.content.decode()


def test_masking_on_board_list_and_export(mine, client_for):
    # A rep has no unmask right for lists or exports; the manager exports masked data too
    # (sales managers have unmask_detail only), the director exports in clear.
    for who in ("rep_wangfang", "mgr_shanghai"):
        client = client_for(who)
        for url in ("/opportunities/board/", "/opportunities/"):
            page = client.get(url).content.decode()
            assert MASKED in page and MOBILE not in page, (who, url)
        detail = client.get(f"/opportunities/{mine.pk}/").content.decode()
        assert MOBILE in detail  # detail pages: unmask_detail
    rows = _csv(client_for("mgr_shanghai").get("/opportunities/export.csv"))
    assert rows[0][0] in ("Opportunity", "商机")
    row = next(r for r in rows if r[0] == "锦程 MES 项目")
    assert row[3] == MASKED
    rows = _csv(client_for("director").get("/opportunities/export.csv"))
    assert next(r for r in rows if r[0] == "锦程 MES 项目")[3] == MOBILE


def _board_queries(client, url="/opportunities/board/") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_board_and_list_query_counts_do_not_grow_with_data(demo_org, client_for):
    reps = [user(name) for name in ("rep_wangfang", "rep_lilei")]
    for number in range(6):
        make_opportunity(owner=reps[number % 2], stage=["prospecting", "proposal", "won"][
            number % 3])
    manager = client_for("mgr_shanghai")
    small_board, small_list = _board_queries(manager), _board_queries(manager, "/opportunities/")
    for number in range(60):
        make_opportunity(owner=reps[number % 2], stage=["prospecting", "qualification",
                                                        "proposal", "negotiation", "won",
                                                        "lost"][number % 6])
    large_board, large_list = _board_queries(manager), _board_queries(manager, "/opportunities/")
    assert large_board == small_board and large_list == small_list
    assert large_board <= 16
    page = manager.get("/opportunities/board/").content.decode()
    assert 'data-testid="count-prospecting"' in page


def test_board_totals_and_weighted_totals(demo_org, client_for):
    rep = user("rep_wangfang")
    make_opportunity(owner=rep, stage="proposal", amount=100_000)
    make_opportunity(owner=rep, stage="proposal", amount=300_000)
    make_opportunity(owner=rep, stage="negotiation", amount=200_000)
    page = client_for("rep_wangfang").get("/opportunities/board/").content.decode()
    assert 'data-testid="count-proposal">2<' in page
    assert 'data-testid="total-proposal">¥400,000<' in page
    assert "50% · weighted ¥200,000" in page or "50% · 加权 ¥200,000" in page
    assert "75% · weighted ¥150,000" in page or "75% · 加权 ¥150,000" in page


def test_board_pages_cards_per_column(demo_org, client_for):
    rep = user("rep_wangfang")
    made = [make_opportunity(owner=rep, stage="qualification", name=f"分页商机{n:02d}")
            for n in range(23)]
    client = client_for("rep_wangfang")
    page = client.get("/opportunities/board/").content.decode()
    assert page.count('data-stage="qualification"\n') + page.count(
        'data-stage="qualification" ') >= 1
    assert "分页商机22" in page and "分页商机02" not in page
    oldest_shown = made[3].pk
    more = client.get(f"/opportunities/board/column/qualification/?after={oldest_shown}")
    text = more.content.decode()
    assert all(f"分页商机{n:02d}" in text for n in range(3))
    assert "分页商机03" not in text


def test_moving_on_the_board_answers_with_the_refreshed_board(mine, client_for):
    client = client_for("rep_wangfang")
    response = client.post(f"/opportunities/{mine.pk}/move/",
                           {"stage": "negotiation", "version": 1, "from": "board"},
                           HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert 'id="board"' in text and 'data-testid="count-negotiation">1<' in text
    stale = client.post(f"/opportunities/{mine.pk}/move/",
                        {"stage": "won", "version": 1, "from": "board"},
                        HTTP_HX_REQUEST="true").content.decode()
    assert "board-message" in stale and 'data-testid="count-negotiation">1<' in stale
    mine.refresh_from_db()
    assert (mine.stage, mine.version) == ("negotiation", 2)
    assert Opportunity.objects.get(pk=mine.pk).stage_changes.count() == 2


def test_workbench_pipeline_summary_and_the_rules_page_of_an_opportunity_pool(
        mine, client_for, opp_pool):
    summary = client_for("rep_wangfang").get("/opportunities/board/summary/").content.decode()
    assert 'data-testid="summary-count-proposal">1<' in summary
    assert client_for("qa_hemei").get("/opportunities/board/summary/").content == b""
    workbench = client_for("rep_wangfang").get("/workbench/").content.decode()
    assert "/opportunities/board/summary/" in workbench
    # The opportunity pool is configured on the same rules page as lead pools.
    rules = client_for("director").get(f"/leads/rules/{opp_pool.code}/")
    assert rules.status_code == 200
    # Lead pages do not list opportunity pools.
    assert opp_pool.code not in client_for("rep_wangfang").get("/leads/pool/").content.decode()


def test_a_stage_missing_from_the_dictionary_still_shows_on_the_board(demo_org, client_for):
    make_opportunity(owner=user("rep_wangfang"), stage="engaging", name="导入阶段商机")
    page = client_for("rep_wangfang").get("/opportunities/board/").content.decode()
    assert 'data-testid="count-engaging">1<' in page and "导入阶段商机" in page


def test_a_pool_opportunity_page_offers_the_claim_and_masks_contacts(opp_pool, client_for):
    waiting = make_opportunity(pool=opp_pool, mobile=MOBILE)
    client = client_for("rep_wangfang")
    page = client.get(f"/opportunities/{waiting.pk}/").content.decode()
    assert 'data-testid="claim"' in page
    assert MASKED in page and MOBILE not in page  # masked until claimed
    client.post(f"/opportunities/{waiting.pk}/claim/")
    page = client.get(f"/opportunities/{waiting.pk}/").content.decode()
    assert MOBILE in page and 'data-testid="claim"' not in page


def test_admin_lists_opportunities_with_history_but_changes_nothing_of_ownership(
        mine, client_for, wangfang):
    services_pipeline.opportunity_move(opportunity_id=mine.pk, user=wangfang,
                                       to_stage="qualification", version=mine.version)
    admin = client_for("admin")
    listing = admin.get("/admin/opportunities/opportunity/")
    assert listing.status_code == 200 and mine.name in listing.content.decode()
    page = admin.get(f"/admin/opportunities/opportunity/{mine.pk}/change/").content.decode()
    assert "qualification" in page  # the stage history inline
    assert 'name="owner"' not in page and 'name="stage"' not in page  # read-only here
    assert admin.get("/admin/opportunities/opportunity/add/").status_code == 403
