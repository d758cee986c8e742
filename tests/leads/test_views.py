"""Lead pages as reps and managers use them: scope, masking, limits, htmx fragments."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_site.lib.masking import mask_phone
from leads import services
from leads.models import FollowUp, Lead, LeadEvent, LeadPool
from orgs.models import Membership, Role
from tests.helpers import user

from .conftest import make_lead, team

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ROW = re.compile(r'<tr data-lead="(\d+)"')
CURSOR = re.compile(r"after=([\w-]+)")


def html(response) -> str:
    return response.content.decode()


def row_ids(response) -> list[int]:
    return [int(pk) for pk in ROW.findall(html(response))]


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def lead_state(lead) -> dict:
    return {
        **Lead.objects.filter(pk=lead.pk).values(
            "owner_id", "status", "is_starred", "invalid_reason", "last_followup_at",
            "pool_id").get(),
        "events": LeadEvent.objects.filter(lead=lead).count(),
        "followups": FollowUp.objects.filter(lead=lead).count(),
    }


# --- scope: guessing URLs -------------------------------------------------------------------


ACTIONS = [
    ("claim", {}),
    ("release", {"reason": "no_need"}),
    ("invalidate", {"reason": "spam"}),
    ("star", {"starred": "1"}),
    ("followups", {"kind": "call", "outcome": "connected", "content": "冒名跟进"}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_a_rep_cannot_act_on_another_reps_lead_by_guessing_urls(pool, zhangwei, client_for,
                                                                action, data):
    lead = make_lead(pool, owner=zhangwei, mobile="13600001111")
    before = lead_state(lead)
    client = client_for("rep_wangfang")

    response = client.post(f"/leads/{lead.pk}/{action}/", data)

    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert error_messages(response), "refused without telling the rep"
        assert client.get(response.url).status_code == 404  # and the lead stays hidden
    assert lead_state(lead) == before


def test_a_rep_cannot_open_another_reps_lead(pool, zhangwei, client_for):
    lead = make_lead(pool, owner=zhangwei, mobile="13600002222")
    client = client_for("rep_wangfang")
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 404
    assert "13600002222" not in html(response)
    # The htmx star button of the list refuses too.
    refused = client.post(f"/leads/{lead.pk}/star/", {"from": "list", "starred": "1"}, **HX)
    assert refused.status_code == 403
    assert not Lead.objects.get(pk=lead.pk).is_starred


def test_a_rep_cannot_open_a_lead_of_a_pool_out_of_reach(demo_leads, client_for):
    south_lead = make_lead(demo_leads["south_pool"], mobile="13600003333")
    client = client_for("rep_wangfang")
    assert client.get(f"/leads/{south_lead.pk}/").status_code == 404
    response = client.post(f"/leads/{south_lead.pk}/claim/")
    assert error_messages(response)
    assert Lead.objects.get(pk=south_lead.pk).owner_id is None


# --- masking ------------------------------------------------------------------------------


def test_a_former_owner_loses_the_contact_data(pool, wangfang, client_for):
    mobile = "13812345678"
    lead = make_lead(pool, owner=wangfang, mobile=mobile)
    client = client_for("rep_wangfang")
    assert mobile in html(client.get(f"/leads/{lead.pk}/"))

    response = client.post(f"/leads/{lead.pk}/release/", {"reason": "no_need"})
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner_id is None

    page = html(client.get(f"/leads/{lead.pk}/"))
    assert "138****5678" in page
    assert mobile not in page
    # A colleague who never held it sees it in clear: the masking follows the history.
    assert mobile in html(client_for("rep_lilei").get(f"/leads/{lead.pk}/"))


def test_a_pool_can_hide_contacts_until_claimed(pool, client_for):
    mobile = "13811112222"
    lead = make_lead(pool, mobile=mobile)
    admin = client_for("admin")  # holds unmask_list: sees pool contacts in lists
    rep = client_for("rep_wangfang")
    assert mobile in html(admin.get("/leads/pool/?pool=t_east"))
    assert mobile in html(rep.get(f"/leads/{lead.pk}/"))

    pool.hide_contact_until_claimed = True
    pool.save()

    listing = html(admin.get("/leads/pool/?pool=t_east"))
    assert mask_phone(mobile) in listing and mobile not in listing
    detail = html(rep.get(f"/leads/{lead.pk}/"))
    assert mask_phone(mobile) in detail and mobile not in detail

    rep.post(f"/leads/{lead.pk}/claim/")
    assert mobile in html(rep.get(f"/leads/{lead.pk}/"))


def test_my_leads_list_is_masked_and_my_lead_detail_is_clear(pool, wangfang, client_for):
    mobile = "13822223333"
    lead = make_lead(pool, owner=wangfang, mobile=mobile)
    client = client_for("rep_wangfang")
    listing = html(client.get("/leads/"))
    assert f'data-lead="{lead.pk}"' in listing
    assert mask_phone(mobile) in listing and mobile not in listing
    assert mobile in html(client.get(f"/leads/{lead.pk}/"))

    # With the list unmask right, the same list shows it.
    unmask = Role.objects.create(code="t_unmask_list", name="列表明文", entries=[],
                                 operations=["unmask_list"], data_scope=10)
    Membership.objects.get(employee__user=wangfang).extra_roles.add(unmask)
    assert mobile in html(client.get("/leads/"))


# --- pool open limit -----------------------------------------------------------------------


def test_the_daily_open_limit_refuses_the_next_pool_lead(pool, client_for):
    pool.daily_open_limit = 2
    pool.save()
    first, second, third = (make_lead(pool) for _ in range(3))
    client = client_for("rep_wangfang")
    assert client.get(f"/leads/{first.pk}/").status_code == 200
    assert client.get(f"/leads/{second.pk}/").status_code == 200
    refused = client.get(f"/leads/{third.pk}/")
    assert refused.status_code == 403
    assert third.mobile not in html(refused)
    # Re-opening a lead already opened today is free; other reps have their own count.
    assert client.get(f"/leads/{first.pk}/").status_code == 200
    assert client_for("rep_lilei").get(f"/leads/{third.pk}/").status_code == 200


def test_the_daily_open_limit_counts_the_pools_own_leads(pool, client_for):
    other = LeadPool.objects.create(code="t_east_b", name="测试华东二池", parent=pool.parent,
                                    org_unit=pool.org_unit, daily_open_limit=1)
    pool.daily_open_limit = 2
    pool.save()
    client = client_for("rep_wangfang")
    for lead in (make_lead(pool), make_lead(pool)):
        assert client.get(f"/leads/{lead.pk}/").status_code == 200
    # Two opens in the first pool do not use up the second pool's single open.
    assert client.get(f"/leads/{make_lead(other).pk}/").status_code == 200
    assert client.get(f"/leads/{make_lead(other).pk}/").status_code == 403


# --- My leads: keyset pagination and query counts ------------------------------------------


def _expected_order(leads, field, descending):
    valued = sorted((lead for lead in leads if getattr(lead, field) is not None),
                    key=lambda lead: (getattr(lead, field), lead.pk), reverse=descending)
    nulls = sorted((lead for lead in leads if getattr(lead, field) is None),
                   key=lambda lead: lead.pk, reverse=descending)
    return [lead.pk for lead in valued + nulls]


@pytest.fixture
def many_owned(pool, wangfang):
    """130 leads of Wang Fang with ties on every sort column (and empty next follow-ups)."""
    base = timezone.now().replace(microsecond=0)
    leads = []
    for i in range(130):
        leads.append(make_lead(
            pool, owner=wangfang, name=f"客户{i:03d}",
            created_at=base - timedelta(minutes=i // 3),
            grade=["", "A", "B", "C", "A"][i % 5],
            is_starred=i % 3 == 0,
        ))
        if i % 4:
            leads[-1].next_followup_at = base + timedelta(hours=i % 7)
            leads[-1].save(update_fields=["next_followup_at"])
    return leads


@pytest.mark.parametrize("sort", ["next", "age", "newest", "grade", "star"])
def test_my_leads_pages_show_every_lead_once_in_order(many_owned, client_for, sort):
    from leads.selectors import MY_LEADS_SORTS

    client = client_for("rep_wangfang")
    response = client.get(f"/leads/?sort={sort}")
    seen, pages = row_ids(response), 1
    cursor = CURSOR.search(html(response))
    while cursor:
        response = client.get(f"/leads/?sort={sort}&after={cursor.group(1)}", **HX)
        assert response.status_code == 200
        assert "<html" not in html(response)  # the rows fragment, not a page
        seen += row_ids(response)
        pages += 1
        cursor = CURSOR.search(html(response))
    field, descending = MY_LEADS_SORTS[sort]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 130
    assert seen == _expected_order(many_owned, field, descending)


def _cursor(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize("sort", ["next", "grade", "star"])
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _cursor(["A", 3]),  # a grade cursor kept after switching the sort
        _cursor([{"dt": 5}, 1]),
        _cursor([None, "x"]),
        _cursor([True, None]),
        _cursor(7),
    ],
)
def test_an_edited_or_stale_cursor_shows_the_first_page(pool, wangfang, client_for, sort,
                                                        cursor):
    lead = make_lead(pool, owner=wangfang, grade="B")
    response = client_for("rep_wangfang").get(f"/leads/?sort={sort}&after={cursor}")
    assert response.status_code == 200
    assert row_ids(response) == [lead.pk]


@pytest.mark.parametrize(
    ("username", "url", "owned"),
    [("rep_wangfang", "/leads/pool/?pool=t_east", False), ("mgr_shanghai", "/leads/team/", True)],
)
def test_pool_and_team_pages_show_every_lead_once(pool, wangfang, client_for, username, url,
                                                  owned):
    base = timezone.now()
    leads = {make_lead(pool, owner=wangfang if owned else None,
                       created_at=base - timedelta(minutes=i // 4)).pk for i in range(75)}
    client = client_for(username)
    response = client.get(url)
    seen = row_ids(response)
    cursor = CURSOR.search(html(response))
    while cursor:
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}after={cursor.group(1)}", **HX)
        seen += row_ids(response)
        cursor = CURSOR.search(html(response))
    assert len(seen) == len(set(seen)) == 75
    assert set(seen) == leads


def _query_count(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured), [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    ("username", "url", "owned"),
    [
        ("rep_wangfang", "/leads/", True),
        ("rep_wangfang", "/leads/pool/?pool=t_east", False),
        ("admin", "/leads/pool/?pool=t_east", False),  # unmask rights: the contact check runs
        ("mgr_shanghai", "/leads/team/", True),
    ],
)
def test_list_pages_do_not_grow_queries_with_rows(pool, wangfang, client_for, username, url,
                                                  owned):
    owner = wangfang if owned else None
    for _ in range(10):
        make_lead(pool, owner=owner, channel="web_form", region="east")
    client = client_for(username)
    client.get(url)  # warm the per-process caches
    few, _ = _query_count(client, url)
    for number in range(50):
        make_lead(pool, owner=owner, channel=["event", "app"][number % 2], region="east")
    many, sql = _query_count(client, url)
    assert many <= few, "\n".join(sql)


# --- htmx claim from the pool list -----------------------------------------------------------


def test_htmx_claim_from_the_pool_tells_the_slower_rep_who_was_faster(pool, client_for):
    lead = make_lead(pool)
    listing = html(client_for("rep_wangfang").get("/leads/pool/?pool=t_east"))
    assert f'id="claim-{lead.pk}"' in listing

    first = client_for("rep_wangfang").post(f"/leads/{lead.pk}/claim/", {"from": "pool"}, **HX)
    assert 'data-testid="claim-ok"' in html(first)
    assert f'href="/leads/{lead.pk}/"' in html(first)
    assert "<html" not in html(first)

    second = client_for("rep_zhangwei").post(f"/leads/{lead.pk}/claim/", {"from": "pool"},
                                             **HX)
    body = html(second)
    assert 'data-testid="claim-refused"' in body and 'data-testid="claim-ok"' not in body
    assert team("east_shanghai") in body and "王芳" in body
    assert Lead.objects.get(pk=lead.pk).owner == user("rep_wangfang")
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CLAIMED).count() == 1


# --- manager: team leads and bulk transfer --------------------------------------------------


def test_manager_sees_the_teams_leads_only_and_transfers_in_bulk(pool, wangfang, lilei,
                                                                 zhangwei, client_for):
    hers = [make_lead(pool, owner=wangfang) for _ in range(3)]
    his = make_lead(pool, owner=lilei)
    hangzhou = make_lead(pool, owner=zhangwei)
    client = client_for("mgr_shanghai")

    page = client.get("/leads/team/")
    assert set(row_ids(page)) == {lead.pk for lead in [*hers, his]}
    assert f'<option value="{lilei.pk}">' in html(page)
    assert f'<option value="{zhangwei.pk}">' not in html(page)

    response = client.post("/leads/team/transfer/", {
        "leads": [hers[0].pk, hers[1].pk], "to_rep": lilei.pk, "reason": "rebalance",
        "note": "平衡负载"}, follow=True)
    assert response.redirect_chain[-1][0] == "/leads/team/"
    assert not error_messages(response)
    assert set(Lead.objects.filter(owner=lilei).values_list("pk", flat=True)) == {
        hers[0].pk, hers[1].pk, his.pk}
    for lead in hers[:2]:
        event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.TRANSFERRED)
        assert (event.from_owner_id, event.to_owner_id, event.reason, event.note) == (
            wangfang.pk, lilei.pk, "rebalance", "平衡负载")

    # A lead outside the manager's scope cannot ride along in a hand-made POST.
    refused = client.post("/leads/team/transfer/", {
        "leads": [hers[2].pk, hangzhou.pk], "to_rep": lilei.pk, "reason": "rebalance"},
        follow=True)
    assert error_messages(refused)
    assert Lead.objects.get(pk=hers[2].pk).owner_id == wangfang.pk
    assert Lead.objects.get(pk=hangzhou.pk).owner_id == zhangwei.pk
    # Nor can a lead be pushed to a rep of another team.
    refused = client.post("/leads/team/transfer/", {
        "leads": [hers[2].pk], "to_rep": zhangwei.pk, "reason": "rebalance"}, follow=True)
    assert error_messages(refused)
    assert Lead.objects.get(pk=hers[2].pk).owner_id == wangfang.pk


def test_a_rep_cannot_open_the_team_pages(pool, wangfang, lilei, client_for):
    lead = make_lead(pool, owner=lilei)
    client = client_for("rep_wangfang")
    assert client.get("/leads/team/").status_code == 403
    response = client.post("/leads/team/transfer/", {"leads": [lead.pk], "to_rep": wangfang.pk,
                                                     "reason": "rebalance"})
    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner_id == lilei.pk


# --- manual entry with duplicate check -------------------------------------------------------


def test_manual_entry_refuses_a_lead_another_rep_follows_naming_the_team(pool, zhangwei,
                                                                         client_for):
    make_lead(pool, owner=zhangwei, mobile="13944448888")
    count = Lead.objects.count()
    response = client_for("rep_wangfang").post("/leads/new/", {
        "name": "重复客户", "mobile": "+86 139 4444 8888", "pool": pool.pk,
        "channel": "manual", "keep": "on"})
    assert response.status_code == 200
    body = html(response)
    assert 'data-testid="form-error"' in body and 'data-testid="dupe-other"' in body
    assert team("east_hangzhou") in body
    assert Lead.objects.count() == count


def test_manual_entry_saves_and_keeps_a_new_lead(pool, wangfang, client_for):
    response = client_for("rep_wangfang").post("/leads/new/", {
        "name": "新客户", "mobile": "１３９ ５５５５ ６６６６", "pool": pool.pk,
        "channel": "manual", "keep": "on"})
    lead = Lead.objects.get(mobile_key="13955556666")
    assert response.status_code == 302 and response.url == f"/leads/{lead.pk}/"
    assert (lead.owner_id, lead.pool_id, lead.created_by_id) == (wangfang.pk, pool.pk,
                                                                 wangfang.pk)


def test_live_check_offers_to_claim_a_pool_lead_instead(pool, wangfang, client_for):
    waiting = make_lead(pool, mobile="13977778888")
    mine = make_lead(pool, owner=wangfang, email="mine@example.com")
    client = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en")

    response = client.post("/leads/new/check/", {"mobile": "１３９７７７７８８８８"})
    body = html(response)
    assert 'data-testid="dupe-pool"' in body
    assert 'data-testid="claim-instead"' in body and "Claim it instead" in body
    assert f'action="/leads/{waiting.pk}/claim/"' in body
    assert "<html" not in body

    own = html(client.post("/leads/new/check/", {"email": "MINE@example.com "}))
    assert 'data-testid="dupe-own"' in own and f'href="/leads/{mine.pk}/"' in own
    nothing = html(client.post("/leads/new/check/", {"mobile": "13000000000"}))
    assert "data-testid=\"dupe-" not in nothing


def test_claim_it_instead_claims_the_pool_lead(pool, wangfang, client_for):
    waiting = make_lead(pool, mobile="13977779999")
    response = client_for("rep_wangfang").post(f"/leads/{waiting.pk}/claim/")
    assert response.status_code == 302 and response.url == f"/leads/{waiting.pk}/"
    assert services.duplicate_hits(mobile="13977779999")[0].lead.owner_id == wangfang.pk


def test_follow_up_form_on_the_detail_page(pool, wangfang, client_for):
    lead = make_lead(pool, owner=wangfang)
    client = client_for("rep_wangfang")
    next_at = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/leads/{lead.pk}/followups/", {
        "kind": "call", "outcome": "interested", "content": "客户想看演示", "next_at": next_at},
        **HX)
    body = html(response)
    assert "客户想看演示" in body
    assert 'data-testid="lead-status"' in body
    lead.refresh_from_db()
    assert lead.status == Lead.Status.FOLLOWING
    # An empty note is refused on the form, nothing saved.
    refused = client.post(f"/leads/{lead.pk}/followups/", {
        "kind": "call", "outcome": "connected", "content": ""}, **HX)
    assert "is-invalid" in html(refused)
    assert FollowUp.objects.filter(lead=lead).count() == 1


def test_pool_tabs_list_only_reachable_pools(demo_leads, client_for):
    body = html(client_for("rep_wangfang").get("/leads/pool/"))
    for code in ("east_pool", "sales_pool"):
        assert f"?pool={code}\"" in body
    for code in ("south_pool", "master"):
        assert f"?pool={code}\"" not in body
