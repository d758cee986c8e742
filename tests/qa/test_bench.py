"""The QA benchmark runs end to end at small scale and leaves nothing behind (its figures
at this size mean nothing; no time is asserted)."""

import pytest
from django.contrib.auth import get_user_model

from leads.models import FollowUp, LeadPool
from orgs.models import DictionaryItem
from qa import bench
from qa.models import InspectionPlan, QueueItem


@pytest.mark.django_db(transaction=True)
def test_small_run_reports_the_three_figures_and_cleans_up():
    from orgs.models import Dictionary

    Dictionary.objects.get_or_create(code="sensitive_word", defaults={"name": "敏感词"})
    before = FollowUp.objects.count()
    measured = {m["name"]: m["value"] for m in bench.run("small")}
    for name in ("qa_scan_rows_per_s", "qa_sample_s", "qa_queue_ms"):
        assert measured[name] > 0, name
    assert measured["qa_scan_rows"] == 5000
    # 500 follow-ups of 20 reps on the sampled day: 10 % each, and every one with a word.
    assert measured["qa_sample_queued"] >= 50
    assert measured["qa_queue_queries"] < 40
    assert FollowUp.objects.count() == before
    assert not LeadPool.objects.filter(code=bench.PREFIX).exists()
    assert not InspectionPlan.objects.filter(name=bench.PREFIX).exists()
    assert not QueueItem.objects.exists()
    assert not DictionaryItem.objects.filter(code__startswith=bench.PREFIX).exists()
    assert not get_user_model().objects.filter(username__startswith=bench.PREFIX).exists()
