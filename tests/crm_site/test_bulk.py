"""Set-based writes (``crm_site.lib.bulk``) and the read-ahead thread of file imports."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_site.lib.bulk import array_literal, text_array_literal, update_and_log
from crm_site.lib.overlap import read_ahead

# --- array literals ------------------------------------------------------------------------


@pytest.mark.parametrize("values", [
    [], [""], ["a", "b c"], ['say "hi"', "back\\slash"], ["中文", "", "{braces}, comma"],
    ["NULL", "null"],
])
def test_the_fast_text_literal_is_the_general_one(values):
    assert text_array_literal(values) == array_literal(values)


@pytest.mark.django_db
def test_text_literals_round_trip_through_postgresql():
    from django.db import connection

    values = ['say "hi"', "back\\slash", "中文", "", "{x,y}", "NULL"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array_literal(values)])
        assert cursor.fetchone()[0] == values


# --- update_and_log ------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_and_log_writes_one_event_per_row_it_updated():
    from django.contrib.auth import get_user_model

    from leads.models import Lead, LeadEvent, LeadPool
    from tests.leads.conftest import make_lead

    pool = LeadPool.objects.create(code="bulk_pool", name="批量", name_en="Bulk")
    rep = get_user_model().objects.create_user("bulk_rep")
    leads = [make_lead(pool) for _ in range(3)]
    now = timezone.now()
    gone = max(lead.pk for lead in leads) + 1000  # no such lead: no event for it
    rows = [(lead.pk, rep.pk) for lead in leads] + [(gone, rep.pk)]
    details = [{"s": "round_robin", "n": n, "名": "王芳"} for n in range(3)] + [{}]
    updated = update_and_log(
        Lead, ["pk", "owner"], rows, constants={"status": "assigned", "assigned_at": now},
        log_model=LeadEvent, log_names=["lead", "to_owner", "detail"],
        log_rows=[(pk, owner, detail) for (pk, owner), detail in zip(rows, details,
                                                                     strict=True)],
        log_constants={"kind": "assigned", "to_pool": pool.pk, "reason": "test",
                       "created_at": now})
    assert updated == 3
    events = list(LeadEvent.objects.filter(kind="assigned").order_by("lead_id"))
    assert [e.lead_id for e in events] == [lead.pk for lead in leads]
    # JSON arrives as JSON (objects, not strings), each with its own row.
    assert [e.detail for e in events] == details[:3]
    assert all(e.to_owner_id == rep.pk and e.to_pool_id == pool.pk for e in events)
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
               .values_list("owner_id", "status")) == {(rep.pk, "assigned")}


@pytest.mark.django_db
def test_a_missing_detail_is_stored_as_null_not_as_json_null():
    from leads.models import Lead, LeadEvent, LeadPool
    from tests.leads.conftest import make_lead

    pool = LeadPool.objects.create(code="bulk_pool2", name="批量2", name_en="Bulk 2")
    lead = make_lead(pool)
    update_and_log(Lead, ["pk", "name"], [(lead.pk, "改名")], log_model=LeadEvent,
                   log_names=["lead", "detail"], log_rows=[(lead.pk, None)],
                   log_constants={"kind": "merged", "created_at": timezone.now()})
    assert LeadEvent.objects.filter(lead=lead, kind="merged", detail__isnull=True).exists()


# --- read_ahead ----------------------------------------------------------------------------


def test_read_ahead_yields_everything_in_order_while_the_consumer_works():
    produced = []

    def slow_source():
        for n in range(20):
            produced.append(n)
            yield n

    seen = []
    for item in read_ahead(slow_source(), depth=2):
        time.sleep(0.001)
        seen.append(item)
    assert seen == list(range(20)) and produced == seen


def test_a_failing_producer_fails_the_consumer():
    def broken():
        yield 1
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        list(read_ahead(broken()))


def test_a_consumer_that_stops_early_stops_the_producer():
    before = threading.active_count()
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    items = read_ahead(endless(), depth=2)
    assert next(items) == 0
    items.close()
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count  # it stopped
    assert threading.active_count() == before


def test_the_producer_speaks_the_consumers_language():
    def messages():
        yield _("Upload a .csv or .xlsx file.")

    with translation.override("zh-hans"):
        chinese = list(read_ahead(messages()))
    with translation.override("en"):
        english = list(read_ahead(messages()))
    assert english == ["Upload a .csv or .xlsx file."] and chinese != english


def test_timedelta_and_times_keep_their_array_form():
    now = timezone.now()
    literal = array_literal([now, None, timedelta(hours=2)])
    assert literal.startswith('{"') and "NULL" in literal and "7200.0 seconds" in literal


# --- side_by_side --------------------------------------------------------------------------


def test_side_by_side_works_every_item_on_worker_threads():
    from crm_site.lib.overlap import side_by_side

    main = threading.get_ident()
    results = dict(side_by_side(range(30), lambda n: (n * n, threading.get_ident()),
                                workers=2))
    assert sorted(results) == list(range(30))
    assert all(square == n * n for n, (square, _thread) in results.items())
    threads = {thread for _square, thread in results.values()}
    assert main not in threads and len(threads) <= 2


def test_side_by_side_stops_at_the_first_failure_and_raises_it():
    from crm_site.lib.overlap import side_by_side

    started = []

    def work(n):
        started.append(n)
        if n == 3:
            raise ValueError("batch 3 failed")
        time.sleep(0.01)
        return n

    finished = []
    with pytest.raises(ValueError, match="batch 3 failed"):
        for n, _result in side_by_side(range(100), work, workers=2):
            finished.append(n)
    assert 3 not in finished and len(started) < 100
