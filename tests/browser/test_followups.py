"""Follow-up reminders through a real browser: a rep plans the next follow-up, the time
comes, the sweep runs, and the bell shows the reminder without a reload; the workbench
lists it as overdue and both link back to the lead."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_due_followup_rings_the_bell_and_shows_as_overdue(page, demo_site, sign_in, shot):
    from leads.followups.services import reminder_sweep
    from leads.models import FollowUp, Lead, LeadPool
    from orgs.models import OrgUnit
    from tests.helpers import user
    from tests.leads.conftest import make_lead

    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pool = LeadPool.objects.create(code="fu_east", name="跟进测试池", parent=master,
                                   org_unit=OrgUnit.objects.get(code="east"))
    lead = make_lead(pool, owner=user("rep_wangfang"), name="钱塘精密", company="钱塘精密机械")

    # The browser's timers run on a clock the test moves: the bell polls every 30 s.
    page.clock.install()
    sign_in(page, "rep_wangfang")
    page.goto(f"{demo_site}/leads/{lead.pk}/")
    expect(page.get_by_test_id("bell")).to_be_visible()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    form = page.get_by_test_id("followup-form")
    form.locator("#id_kind").select_option("call")
    form.locator("#id_outcome").select_option("appointment")
    form.locator("#id_content").fill("约好明早回电确认报价。")
    soon = timezone.localtime() + timedelta(minutes=3)
    form.locator("#id_next_at").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[type=submit]").click()
    expect(page.locator("#lead-panel").get_by_role("alert")).to_have_text("跟进记录已保存。")
    planned = FollowUp.objects.get(lead=lead)
    assert planned.plan_open and planned.reminded_at is None

    # The planned time comes (moved into the past rather than waiting), the sweep runs.
    past = timezone.now() - timedelta(minutes=1)
    FollowUp.objects.filter(pk=planned.pk).update(next_at=past)
    Lead.objects.filter(pk=lead.pk).update(next_followup_at=past)
    assert reminder_sweep().reminded == 1

    url = page.url
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    assert page.url == url  # no reload
    page.get_by_test_id("bell").locator("button").first.click()
    item = page.get_by_test_id("bell-items").get_by_test_id("bell-item").first
    expect(item).to_contain_text("跟进到期")
    expect(item).to_contain_text("钱塘精密")
    shot(page, "followups-01-reminder-in-the-bell-zh")
    with page.expect_navigation():
        item.click()
    assert page.url.endswith(f"/leads/{lead.pk}/")

    page.goto(f"{demo_site}/workbench/")
    overdue = page.get_by_test_id("overdue")
    expect(overdue.get_by_test_id("agenda-item")).to_have_count(1)
    expect(overdue).to_contain_text("钱塘精密")
    expect(overdue).to_contain_text("线索")
    shot(page, "followups-02-workbench-overdue-zh")
    with page.expect_navigation():
        overdue.get_by_role("link", name="钱塘精密").click()
    assert page.url.endswith(f"/leads/{lead.pk}/")
