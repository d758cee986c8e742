"""``crm_bench --app opportunities --scale small`` runs end to end, so that it never rots.

No time is asserted (small figures mean nothing): the board is measured with the data in
place, its query count is the same at a tenth of the data, and no scratch data is left.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from opportunities import bench_pipeline
from opportunities.models import Customer, Opportunity
from orgs.models import OrgUnit


@pytest.mark.django_db(transaction=True)
def test_small_run_reports_the_board_and_cleans_up(tmp_path):
    path = tmp_path / "bench.json"
    call_command("crm_bench", "--scale", "small", "--app", "opportunities", "--json", str(path))
    found = {m["name"]: m["value"] for m in json.loads(path.read_text())["measurements"]}
    assert found["pipeline_board_ms"] > 0
    assert found["pipeline_board_queries"] == found["pipeline_board_queries_tenth"]
    assert found["pipeline_opportunities_in_scope"] == bench_pipeline.SCALES["small"].total // 4
    assert not Opportunity.objects.exists() and not Customer.objects.exists()
    assert not OrgUnit.objects.filter(code__startswith=bench_pipeline.PREFIX).exists()
    assert not get_user_model().objects.filter(
        username__startswith=bench_pipeline.PREFIX).exists()
