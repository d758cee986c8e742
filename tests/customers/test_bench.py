"""The grading benchmark runs end to end at small scale and leaves nothing behind."""

import pytest

from opportunities import bench_grading
from opportunities.models import Customer, Opportunity


@pytest.mark.django_db(transaction=True)
def test_small_grading_bench_reports_and_cleans_up(demo_org):
    measurements = {m["name"]: m for m in bench_grading.run("small")}
    assert measurements["grading_s"]["value"] > 0
    assert measurements["grading_customers"]["value"] == 2_000
    assert not Customer.objects.filter(external_id__startswith=bench_grading.PREFIX).exists()
    assert not Opportunity.objects.filter(
        external_id__startswith=bench_grading.PREFIX).exists()
