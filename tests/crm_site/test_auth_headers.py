"""Sign-in lock-out, security headers, private caching, safe ``next=`` and the health probe."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leads.models import LeadPool
from orgs.demo import DEMO_PASSWORD

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _from(address: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def _sign_in(client: Client, password: str, username: str = "rep_wangfang"):
    return client.post("/login/", {"username": username, "password": password})


def _signed_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.get(username=username), backend=MODEL_BACKEND)
    return client


# --- lock-out by username and address ------------------------------------------------------


def test_wrong_passwords_lock_the_account_only_from_that_address(demo_org, settings):
    attacker = _from("203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(attacker, "wrong")
    locked = _sign_in(attacker, DEMO_PASSWORD)
    assert locked.status_code == 429
    assert 'data-testid="locked-out"' in locked.content.decode()
    # The rep at their own desk still signs in.
    assert _sign_in(_from("10.1.2.3"), DEMO_PASSWORD).status_code == 302


def test_an_administrator_unlocks_a_locked_account(demo_org, settings):
    desk = _from("10.1.2.3")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(desk, "wrong")
    assert _sign_in(desk, DEMO_PASSWORD).status_code == 429
    admin = _signed_in("admin")
    rep = get_user_model().objects.get(username="rep_wangfang")
    response = admin.post("/admin/auth/user/", {"action": "unlock_sign_in",
                                                "_selected_action": [rep.pk]}, follow=True)
    assert "Sign-in unlocked for 1 users" in response.content.decode()
    assert _sign_in(desk, DEMO_PASSWORD).status_code == 302


# --- headers -------------------------------------------------------------------------------


def test_pages_carry_a_csp_without_inline_scripts_and_a_permissions_policy(demo_org):
    response = _signed_in("rep_wangfang").get("/workbench/")
    csp = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'self'"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    body = response.content.decode()
    assert "<script>" not in body and " onclick=" not in body


@pytest.mark.parametrize("url", ["/workbench/", "/leads/", "/customers/", "/customers/export.csv",
                                 "/team/export.csv", "/leads/team/export.csv",
                                 "/opportunities/export.csv", "/contracts/orders/export.csv"])
def test_what_a_signed_in_user_gets_is_never_cached(demo_org, url):
    response = _signed_in("mgr_shanghai").get(url)
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert "public" not in directives


def test_the_sign_in_page_and_static_files_may_be_cached(client):
    assert "no-store" not in client.get("/static/css/app.css").get("Cache-Control", "")


# --- next= ---------------------------------------------------------------------------------


@pytest.mark.parametrize("evil", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                  "javascript:alert(1)", "²", "home"])
def test_next_never_leaves_the_site(demo_org, evil):
    manager = _signed_in("mgr_shanghai")
    pool = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    assign = manager.post("/leads/pool/assign/", {"pool": pool.code, "next": evil})
    assert assign.status_code == 302 and assign["Location"] == "/leads/pool/"
    now = manager.post(f"/leads/pool/{pool.code}/assign-now/", {"next": evil})
    assert now.status_code in (302, 404)
    if now.status_code == 302:
        assert now["Location"].startswith("/leads/") and "evil" not in now["Location"]


def test_next_within_the_site_is_followed(demo_org):
    manager = _signed_in("mgr_shanghai")
    pool = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    assign = manager.post("/leads/pool/assign/", {"pool": pool.code,
                                                  "next": "/leads/pool/?pool=x"})
    assert assign["Location"] == "/leads/pool/?pool=x"


# --- the health probe ----------------------------------------------------------------------


def test_health_answers_plain_http_when_every_other_page_redirects_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/health/").status_code == 200
    assert client.get("/login/").status_code == 301
