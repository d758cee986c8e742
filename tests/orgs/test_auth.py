"""Signing in and out: clear errors, lock-out after repeated wrong passwords."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils import translation

from orgs.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_password_shows_a_clear_error(demo_org, client):
    response = sign_in(client, "rep_wangfang", "not-the-password")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="login-error"' in html
    error = html.split('data-testid="login-error"', 1)[1].split("</div>", 1)[0]
    with translation.override(settings.LANGUAGE_CODE):
        # Django's own wording, in the page's language (zh-hans by default).
        expected = AuthenticationForm.error_messages["invalid_login"] % {
            "username": get_user_model()._meta.get_field("username").verbose_name
        }
    assert str(expected) in error
    assert not is_signed_in(client)
    # The username the person typed stays in the form.
    assert 'value="rep_wangfang"' in html


def test_unknown_user_gets_the_same_error(demo_org, client):
    wrong_password = sign_in(client, "rep_wangfang", "nope").content.decode()
    unknown = sign_in(client, "nobody-here", "nope").content.decode()

    def error(html):
        return html.split('data-testid="login-error"', 1)[1].split("</div>", 1)[0]

    assert error(unknown) == error(wrong_password)


def test_right_password_signs_in(demo_org, client):
    response = sign_in(client, "rep_wangfang", DEMO_PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_three_wrong_passwords_lock_the_account(demo_org, client):
    assert settings.AXES_FAILURE_LIMIT == 3
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "rep_wangfang", "wrong")
        assert 'data-testid="login-error"' in response.content.decode()
    sign_in(client, "rep_wangfang", "wrong")

    response = sign_in(client, "rep_wangfang", DEMO_PASSWORD)

    assert not is_signed_in(client)
    assert response.status_code == 429  # Too Many Requests
    assert 'data-testid="locked-out"' in response.content.decode()


def test_lock_out_is_per_account(demo_org, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "rep_wangfang", "wrong")

    response = sign_in(client, "rep_lilei", DEMO_PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_success_before_the_limit_resets_the_count(demo_org, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "rep_wangfang", "wrong")
    assert sign_in(client, "rep_wangfang", DEMO_PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "rep_wangfang", "wrong")

    assert sign_in(client, "rep_wangfang", DEMO_PASSWORD).status_code == 302


def test_logout_by_post(demo_org, client):
    sign_in(client, "rep_wangfang", DEMO_PASSWORD)
    assert client.get("/workbench/").status_code == 200

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert not is_signed_in(client)
    after = client.get("/workbench/")
    assert after.status_code == 302 and after["Location"].startswith("/login/")


def test_logout_by_get_is_refused(demo_org, client):
    sign_in(client, "rep_wangfang", DEMO_PASSWORD)
    assert client.get("/logout/").status_code == 405
    assert is_signed_in(client)


def test_signed_in_user_skips_the_login_page(demo_org, client):
    sign_in(client, "rep_wangfang", DEMO_PASSWORD)
    response = client.get("/login/")
    assert response.status_code == 302


def test_login_returns_to_the_page_asked_for(demo_org, client):
    response = client.post(
        "/login/?next=/team/",
        {"username": "mgr_shanghai", "password": DEMO_PASSWORD, "next": "/team/"},
    )
    assert response["Location"] == "/team/"
