"""Lock and statement timeouts: a request never hangs behind someone else's lock."""

from __future__ import annotations

import time

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from leads.models import Lead, LeadEvent, LeadPool
from tests.leads.conftest import make_lead, pool  # noqa: F401

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def other_connection(transactional_db):
    """A second session on the test database, as another process would hold it."""
    params = connection.get_connection_params()
    params.pop("options", None)
    other = psycopg2.connect(**params)
    yield other
    other.rollback()
    other.close()


def _limits() -> tuple[int, int]:
    """This session's (lock_timeout, statement_timeout) in milliseconds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting::int FROM pg_settings WHERE name IN "
                       "('lock_timeout', 'statement_timeout') ORDER BY name")
        lock, statement = (row[0] for row in cursor.fetchall())
    return lock, statement


def test_web_sessions_have_short_limits_and_workers_longer_ones(db):
    assert _limits() == (settings.DB_LOCK_TIMEOUT_MS, settings.DB_STATEMENT_TIMEOUT_MS)
    assert settings.DB_WORKER_LOCK_TIMEOUT_MS > settings.DB_LOCK_TIMEOUT_MS
    assert settings.DB_WORKER_STATEMENT_TIMEOUT_MS > settings.DB_STATEMENT_TIMEOUT_MS


def test_a_claim_behind_a_held_row_lock_says_busy_instead_of_hanging(pool, other_connection):  # noqa: F811
    rep = get_user_model().objects.get(username="rep_wangfang")
    lead = make_lead(pool)
    with other_connection.cursor() as cursor:  # another session holds the lead's row
        cursor.execute("SELECT id FROM leads_lead WHERE id = %s FOR UPDATE", [lead.pk])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep, backend=MODEL_BACKEND)
    started = time.monotonic()
    response = client.post(f"/leads/{lead.pk}/claim/")
    waited = time.monotonic() - started
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Busy, try again" in body and "Nothing was changed" in body
    assert waited < settings.DB_LOCK_TIMEOUT_MS / 1000 + 10
    lead.refresh_from_db()
    assert lead.owner_id is None
    assert not LeadEvent.objects.filter(lead=lead, kind="claimed").exists()

    other_connection.rollback()  # the other session is done: the claim now goes through
    assert client.post(f"/leads/{lead.pk}/claim/").status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner_id == rep.pk


def test_the_busy_answer_is_translated_and_json_for_the_api(demo_org, other_connection):
    from leads.models_intake import ChannelToken

    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    token = ChannelToken(channel="web_form", name="表单", pool=master)
    secret = token.issue()
    token.save()
    with other_connection.cursor() as cursor:  # the token's row, touched by every call
        cursor.execute("SELECT id FROM leads_channeltoken WHERE id = %s FOR UPDATE",
                       [token.pk])
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        "/api/leads/ingest/", {"external_id": "B-1", "name": "周杰", "mobile": "13911112222"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 503
    assert response.json()["error"] == "busy" and "请稍后再试" in response.json()["message"]


def test_a_worker_gets_its_longer_limits_on_every_new_connection(transactional_db):
    from crm_site.lib.timeouts import pg_timeouts, use_worker_timeouts

    web_options = connection.settings_dict["OPTIONS"]["options"]
    try:
        use_worker_timeouts(settings)
        assert _limits() == (settings.DB_WORKER_LOCK_TIMEOUT_MS,
                             settings.DB_WORKER_STATEMENT_TIMEOUT_MS)
    finally:
        connection.settings_dict["OPTIONS"]["options"] = web_options
        connection.close()
    assert web_options == pg_timeouts(lock_ms=settings.DB_LOCK_TIMEOUT_MS,
                                      statement_ms=settings.DB_STATEMENT_TIMEOUT_MS)


def test_the_web_process_sets_its_limits_and_management_commands_keep_none(db):
    """gunicorn's entry point (crm_site.wsgi) gives its connections the web limits; a
    management command (migrate, seed_demo, an import) is not cut off after 20 s."""
    import os
    import subprocess
    import sys

    script = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='crm_site.settings.local';"
              "{setup}; from django.db import connection; c = connection.cursor();"
              "c.execute(\"SELECT setting FROM pg_settings WHERE name IN ('lock_timeout',"
              " 'statement_timeout') ORDER BY name\"); print([r[0] for r in c.fetchall()])")
    db = connection.settings_dict  # the test database, which exists while this runs
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = {**os.environ, "DEBUG": "false",
           "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    runs = {}
    for name, setup in (("command", "django.setup()"), ("web", "import crm_site.wsgi")):
        out = subprocess.run([sys.executable, "-c", script.format(setup=setup)], env=env,
                             capture_output=True, text=True, timeout=120, check=True,
                             cwd=settings.BASE_DIR)
        runs[name] = out.stdout.strip().splitlines()[-1]
    assert runs["command"] == "['0', '0']"
    assert runs["web"] == (f"['{settings.DB_LOCK_TIMEOUT_MS}', "
                           f"'{settings.DB_STATEMENT_TIMEOUT_MS}']")
