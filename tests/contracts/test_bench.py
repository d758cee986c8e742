"""The contracts benchmark runs end to end at small scale and leaves nothing behind."""

import pytest

from contracts import bench_contracts
from contracts.models import Contract, Order


@pytest.mark.django_db(transaction=True)
def test_small_contracts_bench_reports_and_cleans_up(demo_org):
    measurements = {m["name"]: m["value"] for m in bench_contracts.run("small")}
    assert measurements["order_list_ms"] > 0 and measurements["receivables_ms"] > 0
    assert measurements["order_list_queries"] < 20
    assert measurements["renewals_planned"] > 0 and measurements["instalments_changed"] > 0
    assert not Order.objects.exists() and not Contract.objects.exists()
