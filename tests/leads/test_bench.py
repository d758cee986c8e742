"""``manage.py crm_bench`` runs end to end on small sizes, so that it never rots.

Figures from ``--scale small`` mean nothing: no time is asserted here, only that every
measurement the issue names is reported, that the benchmark measured what it claims to
(the import added, skipped and rejected the rows it generated; the pages listed leads),
and that it leaves no scratch data behind.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from leads import bench
from leads.models import Lead, LeadEvent, LeadPool
from orgs.models import OrgUnit, Role

REQUIRED = ["import_rows_per_s", "import_vs_plain_resource", "import_vs_copy",
            "my_leads_p95_ms", "my_leads_queries", "pool_p95_ms", "pool_queries"]


@pytest.mark.django_db(transaction=True)
def test_small_run_reports_every_measurement_and_cleans_up(tmp_path, capsys):
    path = tmp_path / "bench.json"

    call_command("crm_bench", "--scale", "small", "--json", str(path))

    written = json.loads(path.read_text(encoding="utf-8"))
    assert set(written) == {"measurements"}
    measurements = {m["name"]: m for m in written["measurements"]}
    for name in REQUIRED:
        value = measurements[name]["value"]
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        assert value > 0, name
        assert measurements[name]["unit"], name
    printed = json.loads(capsys.readouterr().out)
    assert printed["scale"] == "small"
    assert printed["measurements"] == written["measurements"]

    size = bench.SCALES["small"]
    assert measurements["import_rows"]["value"] == size.import_rows
    # 10% repeat seeded leads, a few repeat earlier rows, a few have no name.
    assert measurements["import_skipped"]["value"] >= size.import_rows // 10
    assert measurements["import_rejected"]["value"] >= 1
    assert (measurements["import_added"]["value"] + measurements["import_skipped"]["value"]
            + measurements["import_rejected"]["value"]) == size.import_rows
    assert measurements["my_leads_rows"]["value"] == 50
    assert measurements["pool_rows"]["value"] == 50

    assert not LeadPool.objects.filter(code=bench.POOL_CODE).exists()
    assert not Lead.objects.filter(channel=bench.CHANNEL).exists()
    assert not LeadEvent.objects.filter(reason=bench.CHANNEL).exists()
    assert not get_user_model().objects.filter(username=bench.USERNAME).exists()
    assert not OrgUnit.objects.filter(code=bench.UNIT_CODE).exists()
    assert not Role.objects.filter(code=bench.ROLE_CODE).exists()
