"""A worker killed (SIGKILL) in the middle of an import: the job's lease runs out, the
sweep queues it again, another worker resumes it from its last written batch, and every
row ends up written exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection

from leads import tasks
from leads.imports.lead_rows import guess_mapping
from leads.imports.runner import sweep
from leads.models import Lead, LeadPool
from leads.models_intake import ImportBatch, ImportJob

from .hostile import lead_rows

ROOT = Path(__file__).resolve().parents[2]
ROWS, BATCH = 12_000, 60  # 200 batches: a few seconds of writing on a busy machine


def _database_url() -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


def start_worker(name: str, log: Path) -> subprocess.Popen:
    """A real Celery worker process on this test's database and Redis db."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
           "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
           "IMPORT_BATCH_SIZE": str(BATCH), "IMPORT_LEASE_SECONDS": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool", "solo",
         "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.fixture
def on_redis(transactional_db):
    """Tasks go to Redis (not run in-process), starting from an empty queue."""
    from crm_site.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        yield app
    finally:
        app.control.purge()
        app.conf.task_always_eager = previous


def test_a_killed_worker_s_import_is_resumed_and_writes_every_row_once(
        on_redis, tmp_path, artifacts_dir):
    from orgs.demo import seed_demo_org

    seed_demo_org()
    pool = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    raw = ("姓名,手机,公司\n" + "\n".join(lead_rows(ROWS)) + "\n").encode()
    headers = ["姓名", "手机", "公司"]
    job = ImportJob.objects.create(
        created_by=get_user_model().objects.get(username="marketing"), pool=pool,
        file=ContentFile(raw, name="killed.csv"), original_name="killed.csv",
        headers=headers, mapping=guess_mapping(headers), status=ImportJob.Status.QUEUED,
        language="en")
    first = start_worker("first", artifacts_dir / "import-worker-first.log")
    second = None
    try:
        tasks.import_file.delay(job.pk, language="en")
        # Kill it once a few batches are written, well before the end.
        written = wait_for(lambda: ImportBatch.objects.filter(job=job).count() >= 5, 90)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert written, (artifacts_dir / "import-worker-first.log").read_text()[-3000:]
        job.refresh_from_db()
        at_kill = ImportBatch.objects.filter(job=job).count()
        assert job.status == ImportJob.Status.RUNNING and at_kill < ROWS // BATCH
        assert Lead.objects.count() < ROWS

        # Nothing renews the lease now; the sweep (beat, every minute) finds it.
        assert sweep()["resumed"] == 0  # not before the lease ran out
        time.sleep(3.5)
        second = start_worker("second", artifacts_dir / "import-worker-second.log")
        assert sweep() == {"resumed": 1, "failed": 0}
        finished = wait_for(lambda: ImportJob.objects.filter(
            pk=job.pk, status__in=["done", "failed"]).exists(), 120, step=0.25)
        assert finished, (artifacts_dir / "import-worker-second.log").read_text()[-3000:]
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(5)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.attempts == 2
    assert (job.accepted, job.rejected, job.skipped, job.processed_rows) == (ROWS, 0, 0, ROWS)
    numbers = sorted(ImportBatch.objects.filter(job=job).values_list("number", flat=True))
    assert numbers == list(range(1, ROWS // BATCH + 1))  # each batch written once
    assert Lead.objects.count() == ROWS
    assert Lead.objects.values("mobile_key").distinct().count() == ROWS
