"""The pages: a person's choices on the notifications page, a manager's team robots, the
admin's channels, test messages and the delivery log — and secrets never shown again."""

from __future__ import annotations

import logging

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from notifications.apps import _secrets_key_check
from notifications.channels import crypto, services
from notifications.channels.models import ChannelConfig, Delivery, ImPreference, TeamRobot
from orgs.models import Employee
from tests.helpers import user

from .conftest import connect, give_accounts, opt_in, robot

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --- the person's choices --------------------------------------------------------------------


def test_a_rep_chooses_what_reaches_them_on_the_notifications_page(wecom, demo_org, login,
                                                                   client):
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    client = login("rep_wangfang")
    html = page(client, "/notifications/")
    assert 'data-testid="im-card"' in html and "<code>wangfang</code>" in html
    assert "跟进提醒" in html and "回收预警" in html and "质检结果" in html
    assert "team-robots-link" not in html  # a rep manages no team

    refused = client.post("/notifications/settings/im/",
                          {"topics": ["followups", "nonsense"], "language": "en"}, follow=True)
    assert "无法保存这些选择" in refused.content.decode()
    assert not ImPreference.objects.exists()

    response = client.post("/notifications/settings/im/",
                           {"topics": ["followups", "recycling"], "language": "en"})

    assert response.status_code == 302
    preference = ImPreference.objects.get(user__username="rep_wangfang")
    assert (preference.topics, preference.language) == (["followups", "recycling"], "en")
    html = page(client, "/notifications/")
    assert 'value="followups" id="im-topic-followups" checked' in html
    assert 'value="approvals" id="im-topic-approvals" checked' not in html
    assert "消息推送设置已保存" in html


def test_a_rep_without_an_account_is_told_to_ask_an_administrator(wecom, demo_org, login):
    connect(wecom)
    client = login("rep_lilei")
    assert "请让管理员添加您的用户 ID" in page(client, "/notifications/")
    response = client.post("/notifications/settings/im/", {"topics": ["followups"],
                                                            "language": "zh-hans"},
                           follow=True)
    assert "系统中还没有您的账号" in response.content.decode()


def test_the_card_says_when_no_platform_is_connected(demo_org, login):
    html = page(login("rep_lilei"), "/notifications/")
    assert "本 CRM 尚未连接任何消息应用" in html
    assert 'data-testid="im-form"' not in html


# --- a manager's team robots -----------------------------------------------------------------


def test_a_manager_adds_a_signed_group_robot_and_tests_it(dingtalk, demo_org, login):
    connect(dingtalk)
    client = login("mgr_shanghai")
    assert "team-robots-link" in page(client, "/notifications/")
    form = page(client, "/notifications/team-robots/new/")
    assert "上海一组" in form and "杭州二组" not in form  # only the manager's own units
    shanghai = Employee.objects.get(user__username="mgr_shanghai").memberships.get().org_unit
    webhook = dingtalk.robot_webhook()
    secret = dingtalk.robots["fake-robot"]

    response = client.post("/notifications/team-robots/new/", {
        "org_unit": shanghai.pk, "platform": "dingtalk", "name": "上海一组群",
        "webhook": webhook, "sign_secret": secret, "digest_enabled": "on",
        "digest_time": "08:45", "language": "zh-hans", "topics": ["assigned"],
        "is_active": "on"})

    assert response.status_code == 302
    bot = TeamRobot.objects.get()
    assert (bot.org_unit, bot.topics, str(bot.digest_time)) == (shanghai, ["assigned"],
                                                                 "08:45:00")
    assert webhook not in bot.webhook_encrypted and bot.webhook() == webhook
    assert bot.sign_secret() == secret and bot.created_by.username == "mgr_shanghai"
    listing = page(client, "/notifications/team-robots/")
    assert "上海一组群" in listing and "fake-robot" not in listing and secret not in listing
    edit = page(client, f"/notifications/team-robots/{bot.pk}/")
    assert "fake-robot" not in edit and secret not in edit and "当前：已设置" in edit

    response = client.post(f"/notifications/team-robots/{bot.pk}/test/", follow=True)

    assert "已送达 上海一组群" in response.content.decode()
    [message] = dingtalk.received
    assert message.kind == "robot" and message.text.startswith("LeadPool CRM · 测试消息")
    with CaptureQueriesContext(connection) as one_robot:
        client.get("/notifications/team-robots/")
    for number in range(3):  # more robots, more messages: the same number of queries
        other = robot(dingtalk, name=f"群{number}", digest_enabled=False)
        services.sample_message_send(platform="dingtalk", robot=other)
    with CaptureQueriesContext(connection) as four_robots:
        assert client.get("/notifications/team-robots/").content.decode().count(
            'data-testid="robot-delivery"') == 4
    assert len(four_robots) == len(one_robot)


def test_a_webhook_of_another_platform_or_host_is_refused_with_a_clear_message(wecom, demo_org,
                                                                               login):
    connect(wecom)
    client = login("mgr_shanghai")
    shanghai = Employee.objects.get(user__username="mgr_shanghai").memberships.get().org_unit
    data = {"org_unit": shanghai.pk, "platform": "wecom", "name": "群", "digest_time": "09:00",
            "language": "zh-hans", "is_active": "on"}
    html = client.post("/notifications/team-robots/new/",
                       {**data, "webhook": "https://evil.example.com/cgi-bin/webhook/send?key=1"}
                       ).content.decode()
    assert "这不是该平台的 Webhook" in html
    html = client.post("/notifications/team-robots/new/",
                       {**data, "webhook": f"{wecom.url}/robot/send?access_token=1"}
                       ).content.decode()
    assert "该平台的机器人 Webhook 形如" in html
    html = client.post("/notifications/team-robots/new/", data).content.decode()
    assert "请填写机器人的 Webhook 地址" in html
    assert not TeamRobot.objects.exists()


def test_a_manager_cannot_reach_another_teams_robot_and_a_rep_no_robot_page(wecom, demo_org,
                                                                           login, client):
    connect(wecom)
    hangzhou_bot = robot(wecom, team="east_hangzhou", name="杭州群")
    manager = login("mgr_shanghai")
    assert manager.get(f"/notifications/team-robots/{hangzhou_bot.pk}/").status_code == 404
    assert manager.post(f"/notifications/team-robots/{hangzhou_bot.pk}/test/").status_code \
        == 404
    shanghai = Employee.objects.get(user__username="mgr_shanghai").memberships.get().org_unit
    hangzhou = hangzhou_bot.org_unit
    response = manager.post("/notifications/team-robots/new/", {
        "org_unit": hangzhou.pk, "platform": "wecom", "name": "x",
        "webhook": wecom.robot_webhook(), "digest_time": "09:00", "language": "zh-hans"})
    assert response.status_code == 200 and TeamRobot.objects.count() == 1
    assert shanghai != hangzhou
    manager.logout()
    rep = login("rep_wangfang")
    assert rep.get("/notifications/team-robots/").status_code == 403


def test_the_manager_sends_todays_digest_from_the_robot_page(feishu, demo_org, login):
    connect(feishu)
    bot = robot(feishu, name="上海飞书群")
    client = login("mgr_shanghai")
    response = client.post(f"/notifications/team-robots/{bot.pk}/digest/", follow=True)
    assert "已送达 上海飞书群" in response.content.decode()
    assert feishu.received[0].text.startswith("LeadPool CRM · 上海一组 · 今日")
    assert Delivery.objects.get().kind == "digest"
    assert "每日摘要" in page(client, "/notifications/team-robots/")


# --- administration --------------------------------------------------------------------------


def test_an_admin_connects_wecom_and_the_secret_is_never_shown_again(wecom, demo_org, login):
    client = login("admin")
    response = client.post("/admin/notifications/channelconfig/add/", {
        "platform": "wecom", "is_enabled": "on", "app_id": wecom.app_id,
        "agent_id": wecom.agent_id, "new_secret": wecom.secret, "receive_id_type": "user_id",
        "api_base": wecom.url})
    assert response.status_code == 302
    config = ChannelConfig.objects.get()
    assert config.secret() == wecom.secret and wecom.secret not in config.secret_encrypted
    html = page(client, f"/admin/notifications/channelconfig/{config.pk}/change/")
    assert wecom.secret not in html and "已设置" in html
    # Saving again without a secret keeps the stored one.
    client.post(f"/admin/notifications/channelconfig/{config.pk}/change/", {
        "platform": "wecom", "is_enabled": "on", "app_id": wecom.app_id,
        "agent_id": wecom.agent_id, "new_secret": "", "receive_id_type": "user_id",
        "api_base": wecom.url})
    config.refresh_from_db()
    assert config.secret() == wecom.secret


def test_the_admin_sends_a_test_message_and_reads_it_in_the_delivery_log(wecom, demo_org,
                                                                         login):
    config = connect(wecom)
    give_accounts("admin", "zhoujianguo")
    client = login("admin")
    confirm = client.post("/admin/notifications/channelconfig/", {
        "action": "send_sample_message", "_selected_action": [config.pk]})
    assert 'value="zhoujianguo"' in confirm.content.decode()  # the admin's own account

    response = client.post("/admin/notifications/channelconfig/", {
        "action": "send_sample_message", "_selected_action": [config.pk], "apply": "1",
        "address": "wangfang", "language": "en"}, follow=True)

    assert "Test message delivered to wangfang" in response.content.decode() or \
        "测试消息已送达 wangfang" in response.content.decode()
    assert wecom.received[0].to == "wangfang"
    assert wecom.received[0].text.startswith("LeadPool CRM · Test message\nThis is a test")
    log = page(client, "/admin/notifications/delivery/")
    assert "wangfang" in log and 'data-status="sent"' in log
    delivery = Delivery.objects.get()
    assert "This is a test message" in page(
        client, f"/admin/notifications/delivery/{delivery.pk}/change/")


def test_failures_are_listed_in_admin_and_can_be_sent_again(wecom, demo_org, login, clock):
    connect(wecom)
    give_accounts("rep_wangfang", "nobody-here")
    opt_in("rep_wangfang", "followups")
    from notifications import services as notify_services

    notify_services.notify(recipient_id=user("rep_wangfang").pk, kind="followup_due_lead",
                           params={"name": "甲", "due": "10:00"}, key="a")
    services.im_sweep(now=clock.now)
    client = login("admin")
    log = page(client, "/admin/notifications/delivery/?status__exact=failed")
    assert 'data-status="failed"' in log and "nobody-here" in log
    delivery = Delivery.objects.get()
    Employee.objects.filter(user__username="rep_wangfang").update(wecom_userid="wangfang")
    client.post("/admin/notifications/delivery/", {"action": "retry_failed",
                                                    "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_an_employees_accounts_are_edited_in_admin(demo_org, login):
    client = login("admin")
    employee = Employee.objects.get(user__username="rep_wangfang")
    html = page(client, f"/admin/orgs/employee/{employee.pk}/change/")
    assert 'name="wecom_userid"' in html and 'name="feishu_userid"' in html


# --- secrets ---------------------------------------------------------------------------------


def test_without_a_key_no_secret_is_saved_and_every_page_says_why(wecom, demo_org, login,
                                                                  settings):
    settings.IM_SECRETS_KEY = ""
    client = login("admin")
    assert "服务器未设置 IM_SECRETS_KEY" in page(client, "/admin/notifications/channelconfig/")
    html = client.post("/admin/notifications/channelconfig/add/", {
        "platform": "wecom", "is_enabled": "on", "app_id": "x", "agent_id": "1",
        "new_secret": "s3cret", "receive_id_type": "user_id"}).content.decode()
    assert "服务器未设置 IM_SECRETS_KEY" in html and not ChannelConfig.objects.exists()
    [warning] = _secrets_key_check(None)
    assert warning.id == "notifications.I001" and warning.level == checks.INFO


def test_a_rotated_key_still_reads_old_secrets_and_a_wrong_key_says_so(settings):
    settings.IM_SECRETS_KEY = "old-key"
    token = crypto.encrypt("the-secret")
    settings.IM_SECRETS_KEY = "new-key,old-key"
    assert crypto.decrypt(token) == "the-secret"
    settings.IM_SECRETS_KEY = "unrelated-key"
    with pytest.raises(crypto.SecretsUnavailable, match="IM_SECRETS_KEY"):
        crypto.decrypt(token)


def test_no_secret_token_or_webhook_key_ever_reaches_the_logs(fakes, demo_org, clock, caplog):
    caplog.set_level(logging.DEBUG)
    for fake in fakes.values():
        connect(fake)
        robot(fake, name=f"{fake.platform}-bad", secret="SECwrong", topics=["followups"],
              digest_enabled=False)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    from notifications import services as notify_services

    notify_services.notify(recipient_id=user("rep_wangfang").pk, kind="followup_due_lead",
                           params={"name": "甲", "due": "10:00"}, key="a")
    fakes["wecom"].expire_tokens()
    services.im_sweep(now=clock.now)
    logged = caplog.text + " ".join(str(d.error) for d in Delivery.objects.all())
    for secret in ("fake-secret", "fake-robot", "SECwrong", "SECfake-sign-secret",
                   "wecom-token", "dingtalk-token", "feishu-token"):
        assert secret not in logged


@override_settings(IM_SECRETS_KEY="")
def test_the_system_check_warns_at_startup_without_a_key(capsys):
    with translation.override("en"):
        call_command("check")
    assert "notifications.I001" in capsys.readouterr().err
