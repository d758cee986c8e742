"""The pyramid funnel: hand-computed counts, static vs dynamic, attribution to the stint
that converted, breakdowns, scope per role and a constant number of queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from leads.models import LeadPool
from opportunities.models import Customer, Opportunity
from orgs.selectors import data_scope_for
from reports.funnel import funnel_rows, funnel_total
from tests.factories import EmployeeFactory, add_member

from .conftest import at, lead_created, lead_event

pytestmark = pytest.mark.django_db

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NOW = at(date(2026, 5, 10))


def convert(lead, owner, when, *, won_at=None, amount="1000"):
    customer = Customer.objects.create(name=f"客户 {lead.pk}", owner=owner)
    opportunity = Opportunity.objects.create(
        name="商机", customer=customer, owner=owner, amount=Decimal(amount),
        status="won" if won_at else "open", stage="won" if won_at else "prospecting",
        closed_at=won_at)
    lead_event(lead, "converted", when, from_owner=owner, to_owner=owner)
    type(lead).objects.filter(pk=lead.pk).update(opportunity=opportunity, converted_at=when)


@pytest.fixture
def history(org):
    """March: six leads. Hand count (static = by 31 March, dynamic = by 10 May):

    1 web_form, pool only                 → leads
    2 web_form, routed to a sub-pool      → leads, sub
    3 web_form, a1 owns                   → leads, sub, owned
    4 search_ads, a1 converts 20 Mar, won 25 Mar (5,000)   → all levels, won for a1
    5 search_ads, a1 owns, transferred to b1, b1 converts 28 Mar, wins 5 Apr (2,000)
        → static: opportunity for b1 (not won yet); dynamic: won for b1
    6 event, a2 converts 3 Apr → static: owned by a2; dynamic: opportunity for a2
    and one lead of February that must not count.
    """
    sub = LeadPool.objects.create(code="east", name="华东", kind=LeadPool.Kind.SUB,
                                  parent=org.pool)
    lead_created(org.pool, at(date(2026, 3, 2)))
    routed = lead_created(org.pool, at(date(2026, 3, 3)))
    lead_event(routed, "routed", at(date(2026, 3, 3), 11))
    routed.events.filter(kind="routed").update(to_pool=sub)
    type(routed).objects.filter(pk=routed.pk).update(owner=None, status="in_pool", pool=sub)
    lead_created(sub, at(date(2026, 3, 4)), owner=org.a1.user)
    won = lead_created(sub, at(date(2026, 3, 5)), owner=org.a1.user, channel="search_ads")
    convert(won, org.a1.user, at(date(2026, 3, 20)), won_at=at(date(2026, 3, 25)),
            amount="5000")
    moved = lead_created(sub, at(date(2026, 3, 6)), owner=org.a1.user, channel="search_ads")
    lead_event(moved, "transferred", at(date(2026, 3, 10)), from_owner=org.a1.user,
               to_owner=org.b1.user, reason="rebalance")
    convert(moved, org.b1.user, at(date(2026, 3, 28)), won_at=at(date(2026, 4, 5)),
            amount="2000")
    late = lead_created(sub, at(date(2026, 3, 30)), owner=org.a2.user, channel="event")
    convert(late, org.a2.user, at(date(2026, 4, 3)))
    lead_created(sub, at(date(2026, 2, 27)), owner=org.a1.user)
    return org


def _funnel(user, mode="static", by=None):
    return funnel_rows(scope=data_scope_for(user), start=MARCH[0], end=MARCH[1], mode=mode,
                       by=by, now=NOW)


def test_static_and_dynamic_counts_of_the_march_cohort(history):
    static = funnel_total(_funnel(history.director.user))
    assert static.levels == [6, 5, 4, 2, 1]
    assert static.won_amount == Decimal("5000")
    assert (static.lead_to_opportunity, static.opportunity_to_won, static.lead_to_won) == (
        Decimal("0.3333"), Decimal("0.5000"), Decimal("0.1667"))
    dynamic = funnel_total(_funnel(history.director.user, mode="dynamic"))
    assert dynamic.levels == [6, 5, 4, 3, 2]
    assert dynamic.won_amount == Decimal("7000")


def test_wins_count_for_the_rep_and_team_that_converted(history):
    by_rep = {int(r.key): r.levels for r in _funnel(history.director.user, "dynamic", "rep")
              if r.key}
    assert by_rep == {history.a1.user_id: [2, 2, 2, 1, 1], history.b1.user_id: [1, 1, 1, 1, 1],
                      history.a2.user_id: [1, 1, 1, 1, 0]}
    by_team = {r.key: r.levels for r in _funnel(history.director.user, "dynamic", "team")}
    assert by_team[str(history.team_b.pk)] == [1, 1, 1, 1, 1]
    assert by_team[str(history.team_a.pk)] == [3, 3, 3, 2, 1]
    assert by_team[""] == [2, 1, 0, 0, 0]  # pool leads nobody owned
    by_channel = {r.key: r.levels[4] for r in _funnel(history.director.user, "dynamic",
                                                      "channel")}
    assert by_channel == {"web_form": 0, "search_ads": 2, "event": 0}
    assert [r.key for r in _funnel(history.director.user, by="month")] == ["2026-03"]
    assert [r.key for r in _funnel(history.director.user, by="quarter")] == ["2026Q1"]


def test_each_role_sees_its_own_scope(history):
    rep = funnel_total(_funnel(history.a1.user, "dynamic"))
    assert rep.levels == [2, 2, 2, 1, 1]
    manager = funnel_total(_funnel(history.manager_a.user, "dynamic"))
    assert manager.levels == [3, 3, 3, 2, 1]  # team A: a1 and a2, not b1's win
    director = funnel_total(_funnel(history.director.user, "dynamic"))
    assert director.leads == 6


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_funnel_and_its_table_in_constant_queries(
        history, django_assert_max_num_queries):
    query = "?period=custom&start=2026-03-01&end=2026-03-31&mode=static&by=rep"
    client = _client(history.director.user)
    with django_assert_max_num_queries(14):
        response = client.get("/reports/" + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="funnel-chart"' in html and "vendor/echarts/echarts.min.js" in html
    assert "销售a1" in html and "销售b1" in html
    # Ten more reps with leads of their own (ten more rows): the same number of queries.
    for _ in range(10):
        rep = EmployeeFactory()
        add_member(rep, history.team_b, is_primary=True)
        lead_created(history.pool, at(date(2026, 3, 15)), owner=rep.user)
    with django_assert_max_num_queries(14):
        assert client.get("/reports/" + query).status_code == 200


def test_the_rep_page_shows_only_their_figures_and_bad_input_gets_a_message(history):
    client = _client(history.a1.user)
    html = client.get("/reports/?period=custom&start=2026-03-01&end=2026-03-31&by=rep"
                      ).content.decode()
    assert "销售a1" in html and "销售b1" not in html and "销售a2" not in html
    bad = client.get("/reports/?period=custom&start=2026-03-31&end=2026-03-01")
    assert bad.status_code == 200 and "data-testid=\"report-errors\"" in bad.content.decode()
    assert client.get("/reports/?period=nonsense&by=nothing&anchor=xx").status_code == 200


def test_the_csv_download_has_the_scripting_columns(history):
    client = _client(history.director.user)
    response = client.get("/reports/?period=custom&start=2026-03-01&end=2026-03-31&by=channel"
                          "&format=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0].startswith("group,leads,sub_pool,owned,opportunities,won,won_amount")
    assert len(body) == 4


def test_people_without_the_reports_entry_are_refused(history, db):
    from tests.factories import RoleFactory, person_with_role

    nobody = person_with_role(history.team_a, RoleFactory(code="qa-only", entries=["qa_home"]))
    assert _client(nobody.user).get("/reports/").status_code == 403


def test_every_number_drills_down_to_the_leads_it_counts_masked(history):
    from leads.models import Lead

    Lead.objects.filter(owner=history.a1.user).update(mobile="13812345678")
    client = _client(history.a1.user)
    query = "period=custom&start=2026-03-01&end=2026-03-31&mode=dynamic&by=channel"
    page = client.get(f"/reports/?{query}").content.decode()
    link = f"/reports/funnel/leads/?{query}&level=won&group=search_ads"
    assert link.replace("&", "&amp;") in page
    html = client.get(link).content.decode()
    rows = html.count("<tr data-lead=")
    assert rows == 1  # a1's own win; b1's win in the same group is outside a1's scope
    # The rep has no unmask right: the number is masked, as in every list.
    assert "138****5678" in html and "13812345678" not in html
    director = _client(history.director.user)
    html = director.get(link).content.decode()
    assert html.count("<tr data-lead=") == 2
    assert director.get("/reports/funnel/leads/?level=nonsense").status_code == 400


def test_xlsx_download_neutralises_formulas(history):
    from io import BytesIO

    from openpyxl import load_workbook

    from orgs.models import DictionaryItem

    DictionaryItem.objects.filter(dictionary__code="channel", code="event").update(
        label="=HYPERLINK(\"http://x\")", label_en="=HYPERLINK(\"http://x\")")
    client = _client(history.director.user)
    response = client.get("/reports/?period=custom&start=2026-03-01&end=2026-03-31&by=channel"
                          "&format=xlsx")
    sheet = load_workbook(BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["group", "leads", "sub_pool"]
    labels = [row[0] for row in values[1:]]
    assert "'=HYPERLINK(\"http://x\")" in labels
    assert not any(str(v).startswith("=") for row in values for v in row if v is not None)
    event = next(row for row in values if row[0].startswith("'="))
    assert event[1] == 1  # numbers stay numbers


def test_nonsense_in_a_drill_down_link_answers_an_empty_list_not_an_error(history):
    client = _client(history.director.user)
    for group in ("abc", "1' OR '1'='1", "９", "²", "-1", "9" * 30):
        response = client.get("/reports/funnel/leads/", {
            "period": "month", "by": "rep", "level": "won", "group": group})
        assert response.status_code == 200
        assert "<tr data-lead=" not in response.content.decode()
