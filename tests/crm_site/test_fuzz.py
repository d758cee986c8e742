"""A fuzz pass over every URL of the site: whatever a signed-in rep or manager sends, no 5xx.

Every pattern of the URLconf (the Django admin's own pages aside) is resolved, its path
parameters filled with real ids of the seeded demo (so the views go past their 404s) or
with junk, and hit with hypothesis-generated query strings and form posts; the ingest API
gets generated JSON payloads. Derandomized and bounded: the same examples on every run, in
well under a minute.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ROLES = ("rep_wangfang", "mgr_shanghai")
SKIPPED = {"logout", "lead_ingest"}  # signing out ends the session; the API has its own test

# What a path parameter names, by the URL's name: the model whose real ids fill it.
MODEL_OF = [
    (r"^(lead_|followup_add)", "leads.Lead"), (r"^import_", "leads.ImportJob"),
    (r"^pool_member", "leads.PoolMember"), (r"^recycle_rule", "leads.RecycleRule"),
    (r"^routing_rule", "leads.RoutingRule"), (r"^extension", "leads.ExtensionRequest"),
    (r"^notification", "notifications.Notification"),
    (r"^team_robot", "notifications.TeamRobot"), (r"^order_", "contracts.Order"),
    (r"^contract_attachment", "contracts.ContractAttachment"),
    (r"^(contract_|payment_)", "contracts.Contract"),
    (r"^approval", "contracts.ApprovalRequest"), (r"^customer_", "opportunities.Customer"),
    (r"^contact_", "opportunities.Contact"), (r"^(opportunity_|board_)",
                                                "opportunities.Opportunity"),
    (r"^followup_panel", "leads.Lead"),
]
SLUGS = {
    "action": ["submit", "terminate", "attach", "allocate", "confirm", "cancel", "approve",
               "deliver", "x"],
    "decision": ["approve", "reject", "maybe"],
    "kind": ["contract", "order", "lead"],
    "subject": ["lead", "customer", "opportunity", "contract", "nope"],
    "stage": ["prospecting", "qualification", "proposal", "negotiation", "won", "lost", "x"],
}
# Hypothesis starts from the first one of each list: the value that broke most views.
# (NUL bytes have their own test: the request-wide guard refuses them before any view.)
HOSTILE = ["²", "", "0", "-1", "١٢", "1e5", "1e999999", "NaN", "Infinity", "-Infinity",
           "99999999999999999999999", "9223372036854775808", "3.5", " 7 ",
           "'; DROP TABLE leads_lead; --", "<script>alert(1)</script>", "%00", "\ufeff",
           "2026-02-30", "2026-12-31", "true", "[]", "{}", "x" * 5000, "//evil.example/",
           "on", "1"]
KEYS = ["q", "after", "status", "owner", "customer", "order", "opportunity", "pool", "part",
        "stage", "n", "days", "sort", "starred", "grade", "region", "industry", "inline",
        "fragment", "type", "close_from", "close_to", "customer_name", "next", "name",
        "mobile", "email", "company", "lines", "amount", "received_on", "instalment", "note",
        "reason", "comment", "to_user", "to_rep", "ids", "leads", "lead", "to_pool", "other",
        "survivor", "decision", "weight", "from", "title", "start_on", "end_on", "kind",
        "value", "lost_reason", "to_stage", "due_at", "outcome", "channel", "file",
        "lines-TOTAL_FORMS", "lines-INITIAL_FORMS", "lines-0-product", "lines-0-quantity",
        "lines-0-unit_price", "methods-TOTAL_FORMS", "methods-0-kind", "methods-0-value",
        "preview", "save_as", "language", "col_0", "name_template", "duplicate_mode",
        "saved_mapping", "load"]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name not in SKIPPED:
            yield entry.name, prefix + str(entry.pattern)


PATTERNS = sorted(set(_patterns()))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo (``seed_demo``), once for the module, rolled back at its end; real ids."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", stdout=StringIO())
            ids = {}
            for _, label in MODEL_OF:
                model = apps.get_model(label)
                ids[label] = list(model.objects.order_by("pk").values_list("pk", flat=True)[:3])
                ids[label] += list(model.objects.order_by("-pk").values_list("pk", flat=True)[:3])
            ids["codes"] = list(apps.get_model("leads.LeadPool").objects.values_list(
                "code", flat=True))
            users = get_user_model().objects
            for username in ROLES:
                own = apps.get_model("leads.Lead").objects.filter(
                    owner__username=username).values_list("pk", flat=True)[:3]
                ids["leads.Lead"] += list(own)
            clients = {}
            for username in ROLES:
                client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
                client.force_login(users.get(username=username), backend=MODEL_BACKEND)
                clients[username] = client
            yield {"ids": ids, "clients": clients}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _path_value(draw, name: str, converter: str, param: str, ids: dict) -> str:
    if converter == "int":
        label = next((label for rx, label in MODEL_OF if re.search(rx, name)), None)
        real = ids.get(label) or [1]
        return str(draw(st.one_of(st.sampled_from(real), st.integers(1, 2**63 - 1))))
    choices = ids["codes"] if param == "code" else SLUGS.get(param, ["x"])
    return draw(st.one_of(st.sampled_from(choices), st.from_regex(r"[-a-zA-Z0-9_]{1,12}",
                                                                  fullmatch=True)))


def _url(draw, name: str, route: str, ids: dict) -> str:
    def fill(match):
        converter, param = match.group(1) or "str", match.group(2)
        return _path_value(draw, name, converter, param, ids)

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


def _params(draw, ids: dict) -> dict:
    """Every parameter name any view reads, each with a hostile, real-id or random value,
    and a few random names besides."""
    real = [str(i) for values in ids.values() for i in values]
    value = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(real or ["1"]),
                      text.filter(lambda t: "\x00" not in t))
    params = draw(st.fixed_dictionaries(dict.fromkeys(KEYS, value)))
    params.update(draw(st.dictionaries(text.filter(lambda t: "\x00" not in t),
                                       st.lists(value, max_size=3), max_size=3)))
    return params


def _check(response, what: str) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@pytest.mark.parametrize(("name", "route"), PATTERNS, ids=[n for n, _ in PATTERNS])
def test_no_url_answers_5xx_to_any_query_or_form(world, db, name, route):
    @settings(max_examples=2, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        role = data.draw(st.sampled_from(ROLES))
        client = world["clients"][role]
        url = _url(data.draw, name, route, world["ids"])
        query, form = _params(data.draw, world["ids"]), _params(data.draw, world["ids"])
        htmx = {"HTTP_HX_REQUEST": "true"} if data.draw(st.booleans()) else {}
        # Each example in a savepoint rolled back: the demo stays as seeded for the next one.
        with transaction.atomic():
            _check(client.get(url, query, **htmx), f"GET {url} {query!r} as {role}")
            _check(client.post(url + "?" + "&".join(f"{k}=" for k in list(query)[:2]), form,
                               **htmx), f"POST {url} {form!r} as {role}")
            transaction.set_rollback(True)

    run()


RAW_QUERIES = ["q=%00", "q=%ED%A0%80", "q=%FF%FE", "after=%C2%B2", "owner=%D9%A1",
               "q=" + "%F0%9F%98%80" * 50, "%00=1", "q=a&q=%00"]


@pytest.mark.parametrize("url", ["/leads/", "/customers/", "/contacts/", "/contracts/",
                                 "/opportunities/", "/contracts/orders/", "/leads/pool/",
                                 "/leads/team/", "/opportunities/board/", "/notifications/"])
def test_raw_percent_escapes_never_answer_5xx(world, db, url):
    client = world["clients"]["mgr_shanghai"]
    for raw in RAW_QUERIES:
        with transaction.atomic():
            _check(client.get(f"{url}?{raw}"), f"GET {url}?{raw}")
            transaction.set_rollback(True)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children,
                                                                       max_size=3),
    max_leaves=8)


@settings(max_examples=120, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries(
    {}, optional={"external_id": st.one_of(text, json_values),
                  "name": st.one_of(text, json_values), "mobile": st.one_of(text, json_values),
                  "email": text, "occurred_at": st.one_of(text, json_values),
                  "attributes": json_values, "company": json_values}),
    st.sampled_from(["", "garbage", "NaN", "\x00", "[" * 50]))
def test_the_ingest_api_never_answers_5xx(ingest_token, payload, tail):
    body = json.dumps(payload) if not tail else json.dumps(payload)[:-1] + tail
    with transaction.atomic():
        response = Client().post("/api/leads/ingest/", data=body,
                                 content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {ingest_token}")
        transaction.set_rollback(True)
    assert response.status_code < 500, f"{body!r} answered {response.status_code}"
    assert response.status_code in (200, 201, 400, 409), response.content


@pytest.fixture
def ingest_token(world, db):
    from leads.models import LeadPool
    from leads.models_intake import ChannelToken

    token = ChannelToken(channel="web_form", name="fuzz",
                         pool=LeadPool.objects.get(kind=LeadPool.Kind.MASTER))
    secret = token.issue()
    token.save()
    return secret
