"""Shared fixtures: the suite runs on the real PostgreSQL (and Redis where it says so)."""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave screenshots and files for a person to look at (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def demo_org(db):
    """The demo company of ``seed_demo``: returns the list of demo logins."""
    from orgs.demo import seed_demo_org

    return seed_demo_org()


@pytest.fixture
def login(client):
    """Sign in a demo user by username through the real login form."""
    from orgs.demo import DEMO_PASSWORD

    def _login(username: str, password: str = DEMO_PASSWORD):
        response = client.post("/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"login of {username} failed"
        return client

    return _login


@pytest.fixture
def redis_worker(transactional_db):
    """A real Celery worker thread consuming from Redis (not eager) for one test."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings
    from django.db import connections

    from crm_site.celery import app as celery_app

    keys = ("task_always_eager", "broker_url", "result_backend")
    previous = {key: celery_app.conf[key] for key in keys}
    # The worker, started in this process, gives the connections the workers' longer
    # database timeouts (crm_site.celery); the tests after it play web requests again.
    options = {alias: dict(connections[alias].settings_dict.get("OPTIONS", {}))
               for alias in connections}
    celery_app.conf.update(task_always_eager=False, broker_url=settings.CELERY_BROKER_URL,
                           result_backend=settings.CELERY_RESULT_BACKEND)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False,
                          shutdown_timeout=10):
            yield celery_app
    finally:
        celery_app.conf.update(previous)
        for alias, saved in options.items():
            connections[alias].settings_dict["OPTIONS"] = saved
            connections[alias].close()


@pytest.fixture
def wangfang(demo_org):
    """Shanghai team rep of the demo company."""
    from tests.helpers import user

    return user("rep_wangfang")


@pytest.fixture
def lilei(demo_org):
    """Shanghai team rep."""
    from tests.helpers import user

    return user("rep_lilei")


@pytest.fixture
def zhangwei(demo_org):
    """Hangzhou team rep: outside the Shanghai manager's unit."""
    from tests.helpers import user

    return user("rep_zhangwei")


@pytest.fixture
def client_for(db):
    """``client_for("rep_wangfang")``: a separate signed-in browser for each user."""
    from django.test import Client

    from tests.helpers import MODEL_BACKEND, user

    def _client(username: str, **defaults) -> Client:
        client = Client(**defaults)
        client.force_login(user(username), backend=MODEL_BACKEND)
        return client

    return _client
