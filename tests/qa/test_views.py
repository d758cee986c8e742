"""The inspector's workbench, the rep's results and the QA lead's appeals, over HTTP."""

import re

import pytest

from qa.models import Inspection, QueueItem, ScorecardItem
from qa.sampling import queue_fill
from qa.scanning import rescan_all
from tests.qa.conftest import make_lead, write_followup, yesterday

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(qa_setup, pool, wangfang, lilei):
    lead = make_lead(pool, owner=wangfang, mobile="13912345678")
    hit = write_followup(lead, wangfang, content="放心，这个稳赚不赔")
    for rep in (wangfang, lilei):
        other = make_lead(pool, owner=rep)
        for _ in range(5):
            write_followup(other, rep)
    rescan_all()
    queue_fill(day=yesterday())
    return QueueItem.objects.get(followup=hit)


def _form(item, **scores):
    data = {"verdict": "pass", "comment": ""}
    for it in ScorecardItem.objects.all():
        data[f"score_{it.pk}"] = scores.get(it.code, it.max_score)
    return data


def test_inspector_sees_the_item_in_context_masked_and_highlighted(queue, client_for):
    client = client_for("qa_hemei")
    page = client.get(f"/qa/?item={queue.pk}").content.decode()
    assert '<mark class="bg-warning-subtle px-0" data-testid="hit">稳赚不赔</mark>' in page
    assert "139****5678" in page and "13912345678" not in page
    assert page.count('data-testid="queue-item"') == QueueItem.objects.filter(
        assignee__username="qa_hemei").count()
    assert 'data-testid="score-sheet"' in page and "<script>" not in page


def test_queue_page_queries_do_not_grow_with_the_queue(queue, client_for, pool, wangfang,
                                                       django_assert_max_num_queries):
    client = client_for("qa_hemei")
    client.get("/qa/")
    with django_assert_max_num_queries(40) as small:
        client.get("/qa/")
    lead = make_lead(pool, owner=wangfang)
    for _ in range(40):
        write_followup(lead, wangfang, content="返点可以谈")
    rescan_all()
    queue_fill(day=yesterday())
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/qa/")


def test_filters_narrow_the_queue(queue, client_for):
    client = client_for("qa_hemei")
    page = client.get("/qa/?category=return_promise").content.decode()
    assert re.findall(r'data-testid="queue-item" data-id="(\d+)"', page) == [str(queue.pk)]
    assert "queue-item" not in client.get("/qa/?age=30").content.decode()


def test_scoring_with_htmx_answers_the_next_item_and_drops_the_row(queue, client_for):
    client = client_for("qa_hemei")
    response = client.post(f"/qa/items/{queue.pk}/inspect/", _form(queue),
                           HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qa-item")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="queue-item-{queue.pk}" hx-swap-oob="delete"' in body
    following = QueueItem.objects.filter(status="open", assignee__username="qa_hemei") \
        .order_by("created_at", "pk").first()
    assert f'data-id="{following.pk}"' in body
    queue.refresh_from_db()
    assert queue.status == "done"


def test_a_bad_sheet_says_why_in_the_panel(queue, client_for):
    client = client_for("qa_hemei")
    data = _form(queue)
    data.pop(next(k for k in data if k.startswith("score_")))
    response = client.post(f"/qa/items/{queue.pk}/inspect/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="qa-error"' in response.content.decode()
    response = client.post(f"/qa/items/{queue.pk}/inspect/", data)
    assert response.status_code == 422


def test_reps_and_other_inspectors_cannot_reach_the_workbench_or_items(queue, client_for):
    assert client_for("rep_wangfang").get("/qa/").status_code == 403
    assert client_for("rep_wangfang").post(f"/qa/items/{queue.pk}/inspect/",
                                           _form(queue)).status_code == 403
    assert client_for("mgr_shanghai").get(f"/qa/items/{queue.pk}/",
                                          HTTP_HX_REQUEST="true").status_code == 403


def test_the_rep_sees_the_result_and_appeals(queue, client_for):
    client_for("qa_hemei").post(f"/qa/items/{queue.pk}/inspect/",
                                _form(queue, no_overpromise=0))
    rep = client_for("rep_wangfang")
    page = rep.get("/qa/results/").content.decode()
    assert 'data-testid="appeal-form"' in page
    inspection_id = re.search(r'data-testid="result" data-id="(\d+)"', page).group(1)
    rep.post(f"/qa/results/{inspection_id}/appeal/", {"reason": "客户原话"})
    page = rep.get("/qa/results/").content.decode()
    assert 'data-testid="appeal-form"' not in page
    assert client_for("rep_lilei").get("/qa/results/").content.decode().count(
        'data-testid="result"') == 0
    assert client_for("qa_hemei").get("/qa/appeals/").status_code == 403


def test_the_reps_workbench_shows_the_latest_results(queue, client_for):
    rep = client_for("rep_wangfang")
    assert 'data-testid="my-qa-result"' not in rep.get("/workbench/").content.decode()
    client_for("qa_hemei").post(f"/qa/items/{queue.pk}/inspect/",
                                _form(queue, accuracy=0))
    page = rep.get("/workbench/").content.decode()
    assert page.count('data-testid="my-qa-result"') == 1 and "text-bg-danger" in page


def test_calibration_is_blind_until_each_inspector_is_done(queue, client_for, demo_org):
    from django.contrib.auth import get_user_model

    from orgs.models import Employee, Membership
    from qa.calibration import agreement, calibration_create, session_view
    from tests.leads.conftest import user
    hemei = user("qa_hemei")
    # A second inspector: the demo's QA position given to a new colleague.
    second = get_user_model().objects.create_user("qa_second", password="x-pass-123")
    employee = Employee.objects.create(user=second, employee_no="QA2", name="质检二")
    membership = Membership.objects.get(employee__user=hemei)
    Membership.objects.create(employee=employee, org_unit=membership.org_unit,
                              position=membership.position, is_primary=True)
    lead = get_user_model().objects.create_superuser("lead", "l@example.com", "x-pass-123")
    session = calibration_create(user=lead, name="第一次校准", item_count=2,
                                 inspector_user_ids=[hemei.pk, second.pk], seed=1)
    items = list(session.items.order_by("pk"))
    client = client_for("qa_hemei")
    for item in items:
        client.post(f"/qa/calibration/{session.pk}/items/{item.pk}/", _form(item))
    other = client_for("qa_second")
    page = other.get(f"/qa/calibration/{session.pk}/").content.decode()
    assert 'data-testid="agreement"' not in page and "100.0%" not in page
    other.post(f"/qa/calibration/{session.pk}/items/{items[0].pk}/", _form(items[0]))
    other.post(f"/qa/calibration/{session.pk}/items/{items[1].pk}/",
               _form(items[1], greeting=0, needs=0))
    view = session_view(session=session, user=second)
    assert view["reveal"] and view["agreement"].compared == 2
    assert view["agreement"].agreed == 1  # the second item's totals are 30 points apart
    page = other.get(f"/qa/calibration/{session.pk}/").content.decode()
    assert "50%" in page
    # The official queue is untouched: calibration scores are not verdicts.
    assert not Inspection.objects.filter(official=True).exists()
    assert not QueueItem.objects.filter(pk__in=[i.pk for i in items], status="done").exists()
    assert agreement({}, 10).rate is None


def test_numbers_beyond_any_record_answer_404_not_an_error(queue, client_for):
    client = client_for("qa_hemei")
    huge = "9" * 25
    assert client.get(f"/qa/items/{huge}/", HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(f"/qa/?item={huge}&plan={huge}").status_code == 200
    assert client_for("rep_wangfang").post(f"/qa/results/{huge}/appeal/",
                                           {"reason": "x"}).status_code == 404
