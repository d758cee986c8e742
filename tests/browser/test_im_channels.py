"""Reminders in WeCom through a real browser, against a fake WeCom on 127.0.0.1: an admin
connects the channel, sends a test message and finds it in the delivery log, gives a rep
their WeCom user ID; the rep opts in; the rep's due follow-up reaches their WeCom; a
manager connects the team's group robot and posts today's digest."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_admin_connects_wecom_and_a_reps_reminder_reaches_their_wecom(
        page, new_page, demo_site, sign_in, shot, settings):
    from leads.followups.services import reminder_sweep
    from leads.models import FollowUp, Lead, LeadPool
    from notifications.channels.fake import FakeWeCom
    from notifications.channels.models import ChannelConfig, Delivery
    from notifications.channels.services import im_sweep
    from orgs.models import Employee, OrgUnit
    from tests.helpers import user
    from tests.leads.conftest import make_lead

    settings.SITE_BASE_URL = demo_site
    fake = FakeWeCom(users={"wangfang", "zhoujianguo"}).start()
    try:
        # The admin connects WeCom, pointing the channel at the fake.
        sign_in(page, "admin")
        page.goto(f"{demo_site}/admin/notifications/channelconfig/add/")
        page.locator("#id_platform").select_option("wecom")
        page.locator("#id_app_id").fill(fake.app_id)
        page.locator("#id_agent_id").fill(fake.agent_id)
        page.locator("#id_new_secret").fill(fake.secret)
        page.locator("#id_api_base").fill(fake.url)
        shot(page, "im-01-admin-connects-wecom-zh")
        page.locator("input[name=_save]").click()
        row = page.locator("#result_list tbody tr").first
        expect(row).to_contain_text("企业微信")
        expect(row).to_contain_text("已设置")
        assert fake.secret not in page.content()
        config = ChannelConfig.objects.get()
        assert config.secret() == fake.secret

        # A test message from admin, to a WeCom user ID.
        row.locator("input.action-select").check()
        page.locator("select[name=action]").select_option("send_sample_message")
        page.locator("button[name=index]").click()
        page.locator("#id_address").fill("wangfang")
        shot(page, "im-02-admin-test-message-form-zh")
        page.locator("input[name=apply]").click()
        expect(page.locator("ul.messagelist")).to_contain_text("测试消息已送达 wangfang")
        shot(page, "im-03-admin-test-message-delivered-zh")
        assert fake.received[-1].to == "wangfang"
        assert fake.received[-1].text.startswith("LeadPool CRM · 测试消息")

        page.locator("ul.messagelist a").click()  # “the delivery log”
        log_row = page.locator("#result_list tbody tr").first
        expect(log_row).to_contain_text("wangfang")
        expect(log_row).to_contain_text("测试消息")
        expect(log_row.locator("[data-status=sent]")).to_have_text("已发送")
        shot(page, "im-04-delivery-log-zh")

        # The rep's WeCom user ID, entered on their employee record.
        employee = Employee.objects.get(user__username="rep_wangfang")
        page.goto(f"{demo_site}/admin/orgs/employee/{employee.pk}/change/")
        page.locator("#id_wecom_userid").fill("wangfang")
        page.locator("input[name=_save]").click()
        expect(page.locator("ul.messagelist")).to_be_visible()
        employee.refresh_from_db()
        assert employee.wecom_userid == "wangfang"

        # The rep chooses follow-up reminders on the notifications page.
        rep = new_page()
        sign_in(rep, "rep_wangfang")
        rep.goto(f"{demo_site}/notifications/")
        card = rep.get_by_test_id("im-card")
        expect(card.get_by_test_id("im-accounts")).to_contain_text("企业微信")
        expect(card.get_by_test_id("im-accounts").locator("code")).to_have_text("wangfang")
        card.get_by_label("跟进提醒").check()
        card.get_by_label("回收预警").check()
        card.get_by_test_id("im-save").click()
        expect(rep.get_by_text("消息推送设置已保存。")).to_be_visible()
        expect(rep.get_by_test_id("im-card").get_by_label("跟进提醒")).to_be_checked()
        shot(rep, "im-05-rep-opts-in-zh")

        # A follow-up planned on one of the rep's leads comes due; the sweeps run.
        master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
        pool = LeadPool.objects.create(code="im_east", name="消息测试池", parent=master,
                                       org_unit=OrgUnit.objects.get(code="east"))
        lead = make_lead(pool, owner=user("rep_wangfang"), name="钱塘精密 13812345678")
        past = timezone.now() - timedelta(minutes=1)
        FollowUp.objects.create(author=user("rep_wangfang"), lead=lead, kind="call",
                                outcome="connected", content="约好回电", next_at=past,
                                plan_open=True)
        Lead.objects.filter(pk=lead.pk).update(next_followup_at=past)
        assert reminder_sweep().reminded == 1
        report = im_sweep()
        assert report.sent == 1, report

        reminder = fake.received[-1]
        assert reminder.to == "wangfang"
        assert reminder.text.startswith("LeadPool CRM · 跟进提醒\n跟进到期")
        assert "钱塘精密 138****5678" in reminder.text and "13812345678" not in reminder.text
        assert reminder.text.endswith(f"{demo_site}/leads/{lead.pk}/")
        # The link opens the lead for the rep.
        rep.goto(reminder.text.splitlines()[-1])
        expect(rep.locator("h1")).to_contain_text("钱塘精密")

        page.goto(f"{demo_site}/admin/notifications/delivery/")
        first = page.locator("#result_list tbody tr").first
        expect(first).to_contain_text("跟进提醒")
        expect(first).to_contain_text("rep_wangfang")
        shot(page, "im-06-delivery-log-with-the-reminder-zh")
        assert Delivery.objects.filter(status="sent").count() == 2
    finally:
        fake.stop()


def test_a_manager_connects_the_teams_group_robot_and_posts_the_digest(
        page, demo_site, sign_in, shot):
    from notifications.channels.fake import FakeWeCom
    from notifications.channels.models import ChannelConfig, TeamRobot
    from notifications.channels.services import channel_config_save

    fake = FakeWeCom().start()
    try:
        channel_config_save(config=ChannelConfig(platform="wecom", app_id=fake.app_id,
                                                 agent_id=fake.agent_id, api_base=fake.url),
                            secret=fake.secret)
        sign_in(page, "mgr_shanghai")
        page.goto(f"{demo_site}/notifications/")
        page.get_by_test_id("team-robots-link").click()
        page.get_by_test_id("add-robot").click()
        form = page.get_by_test_id("robot-form")
        form.locator("#id_org_unit").select_option(label="上海一组")
        form.locator("#id_name").fill("上海一组群")
        form.get_by_test_id("robot-webhook").fill("https://example.com/not-wecom")
        form.get_by_test_id("robot-save").click()
        expect(page.get_by_test_id("robot-form")).to_contain_text("这不是该平台的 Webhook")
        shot(page, "im-07-manager-robot-wrong-webhook-zh")
        form = page.get_by_test_id("robot-form")
        form.get_by_test_id("robot-webhook").fill(fake.robot_webhook())
        form.locator("#id_digest_time").fill("08:30")
        form.get_by_label("新分配的线索和商机").check()
        form.get_by_test_id("robot-save").click()
        expect(page.get_by_text("群机器人已保存。")).to_be_visible()
        bot = TeamRobot.objects.get()
        card = page.get_by_test_id(f"robot-{bot.pk}")
        expect(card).to_contain_text("每天 08:30 发送摘要")
        assert "fake-robot" not in page.content()

        card.get_by_test_id("robot-test").click()
        expect(page.get_by_text("已送达 上海一组群")).to_be_visible()
        page.get_by_test_id(f"robot-{bot.pk}").get_by_test_id("robot-digest").click()
        expect(page.get_by_text("已送达 上海一组群")).to_be_visible()
        rows = page.get_by_test_id(f"robot-{bot.pk}").get_by_test_id("robot-delivery")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("每日摘要")
        shot(page, "im-08-manager-robot-page-zh")
        assert [r.kind for r in fake.received] == ["robot", "robot"]
        assert fake.received[1].text.startswith("LeadPool CRM · 上海一组 · 今日")
    finally:
        fake.stop()
