"""Celery runs on the real Redis: a worker picks up the health task and answers."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from crm_site.celery import app as celery_app
from crm_site.tasks import health


@pytest.fixture
def redis_worker(transactional_db):
    """A real worker thread consuming from Redis (not eager) for the test's duration."""
    previous = {
        key: celery_app.conf[key]
        for key in ("task_always_eager", "broker_url", "result_backend")
    }
    celery_app.conf.update(
        task_always_eager=False,
        broker_url=settings.REDIS_URL,
        result_backend=settings.REDIS_URL,
    )
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False,
                          shutdown_timeout=10):
            yield celery_app
    finally:
        celery_app.conf.update(previous)


def test_health_task_runs_on_a_real_worker(redis_worker):
    result = health.delay()
    payload = result.get(timeout=20)
    assert payload["status"] == "ok"
    assert payload["vendor"] == "postgresql"


def test_tasks_are_json_only_with_time_limits():
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert health.time_limit and health.soft_time_limit
    assert "crm_site.health" in celery_app.conf.beat_schedule["crm-health"]["task"]
