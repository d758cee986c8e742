"""QA reports: figures by rep, team, inspector, violation; hits; appeals; CSV."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from qa.inspections import appeal_decide, appeal_file, inspection_submit
from qa.models import QueueItem, ScorecardItem, ViolationType
from qa.reports import by_rep, inspections_in
from qa.sampling import queue_fill
from qa.scanning import rescan_all
from tests.qa.conftest import make_lead, user, write_followup, yesterday

pytestmark = pytest.mark.django_db


def _scores(**overrides):
    return {i.pk: overrides.get(i.code, i.max_score) for i in ScorecardItem.objects.all()}


@pytest.fixture
def inspected(qa_setup, pool, wangfang, lilei, hemei):
    for rep, texts in ((wangfang, ["好的", "回扣可以谈"]), (lilei, ["你好"])):
        lead = make_lead(pool, owner=rep)
        for text in texts:
            write_followup(lead, rep, content=text)
    rescan_all()
    queue_fill(day=yesterday())
    items = list(QueueItem.objects.order_by("pk"))
    rude = ViolationType.objects.get(code="rude")
    results = []
    for number, item in enumerate(items):
        failing = item.rep_id == wangfang.pk and number % 2 == 0
        results.append(inspection_submit(
            item_id=item.pk, inspector=hemei,
            scores=_scores(accuracy=0) if failing else _scores(),
            verdict="fail" if failing else "pass",
            violation_ids=[rude.pk] if failing else []))
    return results


def test_pass_rate_by_rep_counts_an_overturned_fail_as_a_pass(inspected, client_for, wangfang):
    failed = next(i for i in inspected if i.verdict == "fail")
    lead = get_user_model().objects.create_superuser("lead", "l@example.com", "x-pass-123")
    client = client_for("qa_hemei")
    page = client.get("/qa/reports/").content.decode()
    assert 'data-testid="overall-pass-rate">' in page
    today = timezone.localdate()
    rows = {r.key: r for r in by_rep(inspections_in(user=user("qa_hemei"), start=today,
                                                    end=today))}
    before = rows[wangfang.pk]
    assert before.passed < before.inspections
    appeal = appeal_file(inspection_id=failed.pk, rep=wangfang, reason="有录音")
    appeal_decide(appeal_id=appeal.pk, user=lead, overturn=True)
    rows = {r.key: r for r in by_rep(inspections_in(user=user("qa_hemei"), start=today,
                                                    end=today))}
    assert rows[wangfang.pk].passed == before.passed + 1
    page = client.get("/qa/reports/").content.decode()
    assert 'data-testid="appeals-overturned">1<' in page
    assert "回扣" not in page  # words are not shown, their categories are


def test_csv_export_and_hits_by_category(inspected, client_for):
    client = client_for("qa_hemei")
    response = client.get("/qa/reports/?export=rep")
    assert response.status_code == 403  # the inspector role has no export right
    lead = get_user_model().objects.create_superuser("lead", "l@example.com", "x-pass-123")
    client.force_login(lead)
    body = b"".join(client.get("/qa/reports/?export=violation").streaming_content).decode()
    assert "Rude" in body or "态度恶劣" in body
    hits = b"".join(client.get("/qa/reports/?export=hits").streaming_content).decode()
    assert hits.splitlines()[1].endswith(",1")  # one follow-up hit one bribery word


def test_reps_cannot_open_reports_and_bad_dates_do_not_break(inspected, client_for):
    assert client_for("rep_wangfang").get("/qa/reports/").status_code == 403
    response = client_for("qa_hemei").get("/qa/reports/?start=2026-99-01&end=x")
    assert response.status_code == 200
