"""The import sweep: a job whose lease ran out is queued again or, after three attempts,
failed with the count written; a worker that lost its job writes nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from crm_site.lib.imports.registry import ImportCounts
from leads.imports.runner import MAX_ATTEMPTS, JobJournal, LeaseLost, sweep
from leads.models import LeadPool
from leads.models_intake import ImportBatch, ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(demo_org):
    past = timezone.now() - timedelta(seconds=5)
    return ImportJob.objects.create(
        created_by=get_user_model().objects.get(username="marketing"),
        pool=LeadPool.objects.get(kind=LeadPool.Kind.MASTER),
        file=ContentFile(b"name\n", name="x.csv"), original_name="x.csv",
        status=ImportJob.Status.RUNNING, lease_token="dead", lease_until=past, attempts=1)


def test_an_expired_lease_is_queued_again_once(running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        assert sweep() == {"resumed": 1, "failed": 0}
        assert sweep() == {"resumed": 0, "failed": 0}  # a second sweep finds nothing
    running.refresh_from_db()
    assert (running.status, running.lease_token) == ("queued", "")
    assert len(queued) == 1


def test_a_live_lease_is_left_alone(running):
    ImportJob.objects.filter(pk=running.pk).update(
        lease_until=timezone.now() + timedelta(minutes=1))
    assert sweep() == {"resumed": 0, "failed": 0}


def test_after_the_last_attempt_the_job_fails_saying_what_was_written(running):
    ImportJob.objects.filter(pk=running.pk).update(attempts=MAX_ATTEMPTS)
    for number in (1, 2):
        ImportBatch.objects.create(job=running, number=number, first_line=2, rows=100,
                                   accepted=90, merged=4, rejected=6)
    ImportJob.objects.filter(pk=running.pk).update(language="en")
    assert sweep() == {"resumed": 0, "failed": 1}
    running.refresh_from_db()
    assert running.status == ImportJob.Status.FAILED
    assert (running.accepted, running.merged, running.processed_rows) == (180, 8, 200)
    assert "180 rows were added" in running.error


def test_a_worker_that_lost_its_job_cannot_record_another_batch(running):
    journal = JobJournal(running, "dead")
    ImportJob.objects.filter(pk=running.pk).update(lease_token="new")  # taken over
    with pytest.raises(LeaseLost):
        journal.record(3, 200, 100, ImportCounts(accepted=100))
    assert not ImportBatch.objects.exists()


def test_a_file_that_kills_every_worker_reading_it_is_failed(running):
    ImportJob.objects.filter(pk=running.pk).update(status=ImportJob.Status.READING,
                                                   attempts=MAX_ATTEMPTS, language="en")
    assert sweep() == {"resumed": 0, "failed": 1}
    running.refresh_from_db()
    assert running.status == ImportJob.Status.FAILED and "0 rows were added" in running.error
