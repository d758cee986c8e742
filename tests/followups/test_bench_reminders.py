"""The reminder benchmark runs end to end on its small size and leaves nothing behind.

No time is asserted: only that it measured what it claims (every due plan reminded once,
the plans still ahead left alone) and cleaned up.
"""

import pytest
from django.contrib.auth import get_user_model

from leads import bench_reminders
from leads.models import FollowUp, Lead, LeadPool
from notifications.models import Notification


@pytest.mark.django_db(transaction=True)
def test_small_reminder_benchmark_reports_and_cleans_up():
    measurements = {m["name"]: m for m in bench_reminders.run("small")}
    assert measurements["reminder_sweep_rows"]["value"] == bench_reminders.SCALES["small"].due
    assert measurements["reminder_sweep_s"]["value"] > 0
    assert measurements["reminder_sweep_s"]["unit"] == "s"
    assert not LeadPool.objects.filter(code=bench_reminders.POOL_CODE).exists()
    assert not Lead.objects.filter(channel="crm_bench").exists()
    assert not FollowUp.objects.exists() and not Notification.objects.exists()
    assert not get_user_model().objects.filter(
        username__startswith=bench_reminders.USER_PREFIX).exists()
