"""Celery runs on the real Redis: a worker picks up the health task and answers."""


from crm_site.celery import app as celery_app
from crm_site.tasks import health


def test_health_task_runs_on_a_real_worker(redis_worker):
    result = health.delay()
    payload = result.get(timeout=20)
    assert payload["status"] == "ok"
    assert payload["server_version"] >= 140000  # PostgreSQL 14 or later


def test_tasks_are_json_only_with_time_limits():
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert health.time_limit and health.soft_time_limit
    assert "crm_site.health" in celery_app.conf.beat_schedule["crm-health"]["task"]
