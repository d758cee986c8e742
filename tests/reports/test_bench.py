"""``crm_bench --app reports --scale small`` runs end to end, so that it never rots (figures
at this scale mean nothing: only that each is reported and the scratch data goes)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from leads.models import Lead, LeadPool
from opportunities.models import Opportunity
from orgs.models import OrgUnit
from reports import bench_reports
from reports.models import RepDay

REQUIRED = ["report_funnel_ms", "report_rep_ms", "snapshot_day_s", "backfill_year_s",
            "report_funnel_queries", "report_rep_queries", "snapshot_day_full_s"]


@pytest.mark.django_db(transaction=True)
def test_small_reports_bench_reports_every_figure_and_cleans_up(tmp_path):
    path = tmp_path / "bench.json"
    call_command("crm_bench", "--scale", "small", "--app", "reports", "--json", str(path))
    measurements = {m["name"]: m for m in json.loads(path.read_text())["measurements"]}
    for name in REQUIRED:
        assert measurements[name]["value"] > 0, name
    assert measurements["report_leads"]["value"] == bench_reports.SCALES["small"].leads
    prefix = bench_reports.PREFIX
    assert not LeadPool.objects.filter(code__startswith=prefix).exists()
    assert not Lead.objects.filter(external_id__startswith=prefix).exists()
    assert not Opportunity.objects.filter(external_id__startswith=prefix).exists()
    assert not get_user_model().objects.filter(username__startswith=prefix).exists()
    assert not OrgUnit.objects.filter(code__startswith=prefix).exists()
    assert not RepDay.objects.filter(day__year=2001).exists()
