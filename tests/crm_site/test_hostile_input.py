"""Input any signed-in user (or a channel) can send never answers 5xx.

Each case here was once a 500: a NUL byte in a search, a superscript digit as an id, a
non-finite amount, a missing partial, hostile JSON on the ingest API. What a user sees
instead is a clear 400 page (or a form error) in their language.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leads.models import Lead, LeadPool
from leads.models_intake import ChannelToken
from tests.contracts.conftest import make_contract
from tests.customers.conftest import make_customer

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _client(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(get_user_model().objects.get(username=username), backend=MODEL_BACKEND)
    return client


@pytest.fixture
def rep(demo_org):
    return _client("rep_wangfang")


@pytest.fixture
def manager(demo_org):
    return _client("mgr_shanghai")


# --- a NUL byte or a lone surrogate anywhere in a request -----------------------------------


@pytest.mark.parametrize("url", ["/leads/", "/customers/", "/contacts/", "/contracts/",
                                 "/opportunities/", "/contracts/orders/", "/leads/pool/"])
def test_a_nul_in_a_search_is_a_clear_400_not_a_500(rep, url):
    response = rep.get(url, {"q": "\x00"})
    assert response.status_code == 400
    assert "not allowed" in response.content.decode()


def test_the_400_page_speaks_the_users_language(demo_org):
    response = _client("rep_wangfang", "zh-hans").get("/leads/?q=a%00b")
    assert response.status_code == 400
    assert "不可见的控制字符" in response.content.decode()


def test_a_nul_in_a_form_post_is_refused_and_nothing_is_written(rep):
    before = Lead.objects.count()
    pool = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    response = rep.post("/leads/new/", {"name": "张\x00三", "mobile": "13900001111",
                                        "pool": pool.pk})
    assert response.status_code == 400
    assert Lead.objects.count() == before


# --- ids that are not plain digits -----------------------------------------------------------


@pytest.mark.parametrize("query", ["/contracts/new/?customer=²", "/contracts/new/?order=²",
                                   "/contracts/orders/new/?customer=²",
                                   "/contracts/orders/new/?opportunity=²",
                                   "/contracts/new/?customer=99999999999999999999999",
                                   "/leads/team/?owner=²", "/leads/team/?owner=1e5",
                                   "/customers/?owner=99999999999999999999999"])
def test_an_id_that_is_not_ascii_digits_is_no_server_error(manager, query):
    response = manager.get(query)
    assert response.status_code < 500


def test_pool_assign_with_a_superscript_id_says_what_to_choose(manager):
    response = manager.post("/opportunities/pool/assign/", {"ids": ["²"], "to_user": "²"},
                            follow=True)
    assert response.status_code == 200
    assert "Choose opportunities and a rep." in response.content.decode()


# --- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e999999", "sNaN",
                                    "12345678901234567890"])
def test_a_payment_plan_with_a_non_finite_or_huge_amount_is_a_form_error(demo_org, amount):
    owner = get_user_model().objects.get(username="rep_wangfang")
    contract = make_contract(owner, make_customer(owner))
    response = _client("rep_wangfang").post(
        f"/contracts/contract/{contract.pk}/plan/", {"lines": f"2030-01-31 {amount}"},
        follow=True)
    assert response.status_code == 200
    assert "Line 1" in response.content.decode()
    assert not contract.instalments.exists()


# --- a missing partial ----------------------------------------------------------------------


def test_the_duplicates_fragment_of_a_customer_renders(demo_org):
    owner = get_user_model().objects.get(username="rep_wangfang")
    customer = make_customer(owner, "上海重复测试有限公司")
    make_customer(owner, "上海重复测试有限公司")
    response = _client("rep_wangfang").get(f"/customers/{customer.pk}/?part=duplicates",
                                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="duplicates"' in body and "<html" not in body


# --- the ingest API -------------------------------------------------------------------------


@pytest.fixture
def token(demo_org):
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    channel_token = ChannelToken(channel="web_form", name="官网表单", pool=master)
    secret = channel_token.issue()
    channel_token.save()
    return secret


def _ingest(body, secret, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post("/api/leads/ingest/", data=data, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)


GOOD = '{"external_id": "X-1", "name": "周杰", "mobile": "13911112222"'


@pytest.mark.parametrize(("body", "code"), [
    (GOOD + ', "attributes": {"score": NaN}}', "malformed_json"),
    (GOOD + ', "attributes": {"score": Infinity}}', "malformed_json"),
    (GOOD + ', "attributes": {"score": -Infinity}}', "malformed_json"),
    (GOOD + ', "attributes": {"score": 1e999999}}', "malformed_json"),
    (GOOD + ', "attributes": {"note": "a\\u0000b"}}', "control_characters"),
    (GOOD + ', "attributes": {"a\\u0000": 1}}', "control_characters"),
    ('{"external_id": "X-1", "name": "周\\u0000杰", "mobile": "13911112222"}',
     "control_characters"),
    ('{"external_id": "X-1", "name": "\\ud800", "mobile": "13911112222"}',
     "control_characters"),
    (GOOD + ', "attributes": ' + "[" * 20_000 + "]" * 20_000 + "}", "too_deep"),
    (GOOD + ', "attributes": {"a": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}}", "too_deep"),
])
def test_hostile_json_is_a_clear_400(token, body, code):
    response = _ingest(body, token)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == code and response.json()["message"]
    assert Lead.objects.filter(external_id="X-1").count() == 0


def test_invalid_utf8_is_a_clear_400(token):
    response = _ingest(b'{"external_id": "X-1", "name": "\xff"}', token)
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"


@pytest.mark.parametrize(("field", "value"), [
    ("name", True), ("name", 12), ("name", ["周杰"]), ("mobile", "abc-not-a-phone"),
    ("mobile", "123"), ("occurred_at", "yesterday-ish"), ("occurred_at", 12),
    ("occurred_at", "2026-13-45T99:00:00"),
])
def test_wrong_types_are_refused_with_a_reason(token, field, value):
    body = {"external_id": "X-1", "name": "周杰", "mobile": "13911112222", field: value}
    response = _ingest(body, token)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Lead.objects.filter(external_id="X-1").count() == 0


def test_occurred_at_is_parsed_and_kept(token):
    body = {"external_id": "X-1", "name": "周杰", "mobile": "13911112222",
            "occurred_at": "2026-11-30T08:15:00+08:00"}
    response = _ingest(body, token)
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert lead.attributes["occurred_at"] == "2026-11-30T00:15:00+00:00"


def test_a_chunked_body_without_a_length_is_refused_with_411(token):
    """Behind gunicorn a chunked body reaches Django with no Content-Length, which Django
    reads as an empty body; it is refused (411) instead of being taken for ``{}``."""
    body = json.dumps({"external_id": "X-1", "name": "周杰", "mobile": "13911112222"}).encode()
    response = Client().generic("POST", "/api/leads/ingest/", body,
                                content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {token}",
                                HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH="")
    assert response.status_code == 411
    assert response.json()["error"] == "length_required"
    assert not Lead.objects.filter(external_id="X-1").exists()
