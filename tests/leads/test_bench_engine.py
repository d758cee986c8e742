"""The engine benchmark (``crm_bench``'s ``leads.bench_engine``) runs end to end on small
sizes, so that it never rots.

No time is asserted: only that every measurement issue 4 names is reported, that the
benchmark did what it claims (every waiting lead assigned within the caps, exactly the
due leads recycled) and that it leaves no scratch data behind.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from leads import bench_engine
from leads.models import Lead, LeadEvent, LeadPool
from notifications.models import Notification
from orgs.models import Employee, OrgUnit

REQUIRED = ["assign_leads_per_s", "assign_vs_per_lead_loop", "assign_queries_per_batch",
            "recycle_sweep_s", "recycle_vs_raw_update"]


@pytest.mark.django_db(transaction=True)
def test_small_engine_run_reports_every_measurement_and_cleans_up():
    measurements = {m["name"]: m for m in bench_engine.run("small")}

    for name in REQUIRED:
        value = measurements[name]["value"]
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        assert value > 0, name
        assert measurements[name]["unit"], name
    size = bench_engine.SCALES["small"]
    assert measurements["assign_leads"]["value"] == size.assign_leads
    assert measurements["recycle_moved"]["value"] == size.due
    # One batch at small scale: its queries do not grow with the leads in it.
    assert measurements["assign_queries_per_batch"]["value"] < 60

    assert not LeadPool.objects.filter(code__startswith=bench_engine.POOL_PREFIX).exists()
    assert not Lead.objects.filter(channel=bench_engine.CHANNEL).exists()
    assert not LeadEvent.objects.filter(lead__channel=bench_engine.CHANNEL).exists()
    users = get_user_model().objects.filter(username__startswith=bench_engine.USER_PREFIX)
    assert not users.exists()
    assert not Employee.objects.filter(employee_no__startswith=bench_engine.EMPLOYEE_PREFIX
                                       ).exists()
    assert not Notification.objects.filter(recipient__username__startswith=bench_engine
                                           .USER_PREFIX).exists()
    assert not OrgUnit.objects.filter(code=bench_engine.UNIT_CODE).exists()
