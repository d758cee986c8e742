"""Reminders reach people and team groups in WeCom, DingTalk and Feishu — once.

Every platform is a fake on 127.0.0.1 speaking the documented request and answer shapes
(``notifications.channels.fake``); the tests and the fakes share one clock.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from leads.followups.services import reminder_sweep
from notifications import services as notify_services
from notifications.channels import services
from notifications.channels.models import Delivery
from notifications.models import Notification
from tests.followups.test_reminders import plan
from tests.helpers import user
from tests.leads.conftest import make_lead

from .conftest import connect, give_accounts, opt_in, robot

pytestmark = pytest.mark.django_db(transaction=False)


def remind(username: str, name: str, *, key: str, url: str = "/leads/1/") -> None:
    notify_services.notify(recipient_id=user(username).pk, kind="followup_due_lead",
                           params={"name": name, "due": "10:00"}, url=url, key=key)


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_due_follow_up_reaches_the_reps_account_with_a_link(platform, fakes, pool, wangfang,
                                                              clock, settings):
    settings.SITE_BASE_URL = "https://crm.example.com"
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups", language="en")
    lead = make_lead(pool, owner=wangfang, name="苏州精工")
    plan("lead", lead, wangfang)
    reminder_sweep()

    report = services.im_sweep(now=clock.now)

    assert (report.queued, report.sent, report.failed) == (1, 1, 0)
    [message] = fake.received
    assert message.kind == "person" and message.to == "wangfang"
    assert message.text.startswith("LeadPool CRM · Follow-up reminders\nFollow-up due")
    assert "苏州精工" in message.text
    assert message.text.endswith(f"https://crm.example.com/leads/{lead.pk}/")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.address, delivery.attempts) == ("sent", "wangfang", 1)
    assert delivery.text == message.text
    # Offered again by the next sweeps, it is not sent again.
    clock.advance(30)
    assert services.im_sweep(now=clock.now).queued == 0
    assert len(fake.received) == 1


def test_only_the_kinds_a_person_chose_reach_them(wecom, demo_org, clock):
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    give_accounts("rep_lilei", "lilei")
    opt_in("rep_wangfang", "recycling")
    remind("rep_wangfang", "A", key="a")              # a follow-up: not chosen
    notify_services.notify(recipient_id=user("rep_wangfang").pk, kind="recycle_warning",
                           params={"name": "B", "due": "明天", "rule": "7天"}, key="b")
    remind("rep_lilei", "C", key="c")                  # Li Lei chose nothing

    services.im_sweep(now=clock.now)

    assert [r.to for r in wecom.received] == ["wangfang"]
    assert "“B”" in wecom.received[0].text and wecom.received[0].text.startswith(
        "LeadPool CRM · 回收预警")


def test_a_rep_without_an_account_or_a_switched_off_channel_gets_nothing(wecom, demo_org,
                                                                        clock):
    config = connect(wecom)
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    assert services.im_sweep(now=clock.now).queued == 0  # no WeCom user ID recorded
    give_accounts("rep_wangfang", "wangfang")
    config.is_enabled = False
    config.save()
    remind("rep_wangfang", "B", key="b")
    assert services.im_sweep(now=clock.now).queued == 0
    assert wecom.received == []
    # The in-app notifications are there whatever happens to the messages.
    assert Notification.objects.filter(recipient__username="rep_wangfang").count() == 2


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_5xx_is_retried_later_and_the_person_reads_it_once(platform, fakes, demo_org, clock):
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "苏州精工", key="a")
    fake.fail_next(1, status=503)

    first = services.im_sweep(now=clock.now)

    assert (first.sent, first.retrying) == (0, 1)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "503" in delivery.error
    assert delivery.next_attempt_at >= clock.now + timedelta(seconds=30)
    clock.advance(10)
    assert services.im_sweep(now=clock.now).sent == 0  # not before its backoff
    clock.advance(40)
    assert services.im_sweep(now=clock.now).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, "")
    assert len(fake.received) == 1


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_lost_answer_retried_shows_once_thanks_to_the_platforms_duplicate_check(
        platform, fakes, demo_org, clock):
    """The message arrived but the answer was a 502: the retry carries what the platform
    needs to drop a repeat (WeCom's duplicate check, Feishu's uuid, DingTalk's same-content
    rule)."""
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "苏州精工", key="a")
    fake.fail_next(1, status=502, after_accepting=True)

    assert services.im_sweep(now=clock.now).retrying == 1
    clock.advance(40)
    assert services.im_sweep(now=clock.now).sent == 1

    assert len(fake.received) == 1 and len(fake.duplicates) == 1
    assert Delivery.objects.get().status == "sent"


def test_timeouts_give_up_after_the_last_backoff_and_say_why(wecom, demo_org, clock, settings):
    settings.IM_HTTP_TIMEOUT = 1
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    wecom.fail_next(services.MAX_ATTEMPTS, status=500)
    for _attempt in range(services.MAX_ATTEMPTS):
        services.im_sweep(now=clock.now)
        clock.advance(2 * 3600)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == services.MAX_ATTEMPTS
    assert "6" in delivery.error and "500" in delivery.error
    assert wecom.received == []


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_timeout_is_retried_and_the_message_shows_once(platform, fakes, demo_org, clock,
                                                         settings):
    """The platform took longer than ``IM_HTTP_TIMEOUT``: we gave up, it delivered anyway."""
    settings.IM_HTTP_TIMEOUT = 0.3
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "苏州精工", key="a")
    services.im_sweep(now=clock.now)  # fetches the token first
    fake.stall_next(1, seconds=1.0)
    remind("rep_wangfang", "宁波港务", key="b")

    report = services.im_sweep(now=clock.now)

    assert report.retrying == 1
    retried = Delivery.objects.get(notification__key="b")
    assert (retried.status, retried.error) == ("pending", "timeout")
    time.sleep(1.2)  # meanwhile the platform finishes and delivers it
    clock.advance(40)
    assert services.im_sweep(now=clock.now).sent == 1
    assert [t for t in fake.texts() if "宁波港务" in t] != []
    assert len([t for t in fake.texts() if "宁波港务" in t]) == 1
    assert len(fake.duplicates) == 1


@pytest.mark.parametrize("platform,code", [("wecom", "40014"), ("dingtalk", "40014"),
                                           ("feishu", "99991663")])
def test_a_token_the_platform_no_longer_knows_is_replaced(platform, code, fakes, demo_org,
                                                          clock):
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    services.im_sweep(now=clock.now)
    fake.forget_tokens()
    remind("rep_wangfang", "B", key="b")
    assert services.im_sweep(now=clock.now).sent == 1
    assert [r.code for r in fake.refused] == [code] and fake.token_requests == 2


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_an_expired_token_is_refreshed_and_the_message_still_goes(platform, fakes, demo_org,
                                                                  clock):
    fake = fakes[platform]
    connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    services.im_sweep(now=clock.now)
    remind("rep_wangfang", "B", key="b")
    services.im_sweep(now=clock.now)
    assert fake.token_requests == 1  # cached between sends

    fake.expire_tokens()  # the platform drops it before its announced expiry
    remind("rep_wangfang", "C", key="c")
    report = services.im_sweep(now=clock.now)

    assert (report.sent, report.failed, report.retrying) == (1, 0, 0)
    assert fake.token_requests == 2
    assert [r.code for r in fake.refused] == [{"wecom": "42001", "dingtalk": "42001",
                                               "feishu": "99991677"}[platform]]
    assert len(fake.received) == 3


def test_a_token_is_replaced_before_it_expires(wecom, demo_org, clock):
    """Kept in Redis until five minutes before its expiry, then fetched anew."""
    from notifications.channels import tokens

    config = connect(wecom)
    wecom.token_lifetime = 7200
    token = tokens.get(config, lambda: wecom_token(wecom, config))
    key = tokens._key(config)
    ttl = connection_ttl(key)
    assert 7200 - tokens.REFRESH_MARGIN - 5 <= ttl <= 7200 - tokens.REFRESH_MARGIN
    assert tokens.get(config, lambda: ("other", 7200)) == token


def wecom_token(fake, config):
    from notifications.channels.wecom import PLATFORM

    return PLATFORM.fetch_token(config)


def connection_ttl(key: str) -> int:
    from django.core.cache import cache

    return cache._cache.get_client().ttl(cache.make_and_validate_key(key))


def test_a_burst_to_a_group_robot_is_spread_over_minutes_never_refused(dingtalk, demo_org,
                                                                       clock):
    """45 assignments in one go to a signed DingTalk robot (20 a minute, else throttled for
    10 minutes): 20 now, 20 a minute later, 5 after that."""
    connect(dingtalk)
    robot(dingtalk, topics=["assigned"], digest_enabled=False)
    rep = user("rep_wangfang")
    notify_services.notify_many(
        notify_services.Message(rep.pk, "lead_assigned",
                                {"count": 1, "pool": "华东", "names": f"客户{n}"},
                                key=f"assigned:{n}") for n in range(45))
    start = clock.t

    sent = []
    for offset in (0, 30, 61, 91, 122, 180):
        clock.t = start + offset
        sent.append(services.im_sweep(now=clock.now).sent)

    assert sent == [20, 0, 20, 0, 5, 0]
    assert dingtalk.refused == []
    stamps = sorted(r.at for r in dingtalk.received)
    assert len(stamps) == 45
    assert all(sum(1 for t in stamps if s <= t < s + 60) <= 20 for s in stamps)
    assert all(text.startswith("LeadPool CRM · 新分配的线索和商机\n王芳：")
               for text in dingtalk.texts())


def test_a_platform_that_says_too_many_is_waited_for_not_counted_as_a_failure(wecom, demo_org,
                                                                             clock):
    """Another system used up the robot's minute: WeCom answers 45009; we wait a minute."""
    connect(wecom)
    bot = robot(wecom, topics=["assigned"], digest_enabled=False)
    for _n in range(20):  # someone else's messages fill the robot's minute
        wecom._over("robot:fake-robot", ((20, 60),))
    rep = user("rep_wangfang")
    notify_services.notify(recipient_id=rep.pk, kind="lead_assigned",
                           params={"count": 1, "pool": "华东", "names": "甲"}, key="x")

    report = services.im_sweep(now=clock.now)

    assert (report.sent, report.waiting, report.failed) == (0, 1, 0)
    delivery = Delivery.objects.get(robot=bot)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 0,
                                                                             "45009")
    clock.advance(61)
    assert services.im_sweep(now=clock.now).sent == 1


@pytest.mark.parametrize("platform,code", [("dingtalk", "310000"), ("feishu", "19021")])
def test_a_wrong_signing_secret_is_refused_by_the_platform_and_shown(platform, code, fakes,
                                                                     demo_org, clock):
    fake = fakes[platform]
    connect(fake)
    bad = robot(fake, name="wrong", secret="SECnot-the-robots-secret", topics=["assigned"],
                digest_enabled=False)
    rep = user("rep_wangfang")
    notify_services.notify(recipient_id=rep.pk, kind="lead_assigned",
                           params={"count": 1, "pool": "华东", "names": "甲"}, key="x")

    report = services.im_sweep(now=clock.now)

    assert report.failed == 1 and fake.received == []
    assert [r.code for r in fake.refused] == [code]
    delivery = Delivery.objects.get(robot=bad)
    assert delivery.status == "failed" and delivery.response_code == code
    assert "signing secret" in delivery.error or "签名" in delivery.error
    # With the robot's real secret the same kind of message goes through.
    bad.delete()
    robot(fake, name="right", topics=["assigned"], digest_enabled=False)
    notify_services.notify(recipient_id=rep.pk, kind="lead_assigned",
                           params={"count": 1, "pool": "华东", "names": "乙"}, key="y")
    # (the earlier notification is still news, so the new robot posts both)
    assert services.im_sweep(now=clock.now).sent == 2
    assert len(fake.received) == 2 and "乙" in fake.received[-1].text


def test_an_unknown_user_id_fails_with_a_reason_an_admin_can_act_on(wecom, demo_org, clock):
    connect(wecom)
    give_accounts("rep_wangfang", "wang.fang.typo")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    report = services.im_sweep(now=clock.now)
    assert report.failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "wang.fang.typo" in delivery.error


def test_a_delivery_left_sending_by_a_dead_worker_is_never_sent_again(wecom, demo_org, clock):
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    services.deliveries_fan_out(now=clock.now, platforms=["wecom"])
    Delivery.objects.update(status="sending", attempts=1, last_attempt_at=clock.now)
    clock.advance(11 * 60)
    report = services.im_sweep(now=clock.now)
    assert report.unknown == 1 and report.sent == 0
    assert Delivery.objects.get().status == "unknown"
    assert wecom.received == []


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_send_each_message_once(wecom, demo_org, clock):
    connect(wecom)
    for username, account in (("rep_wangfang", "wangfang"), ("rep_lilei", "lilei")):
        give_accounts(username, account)
        opt_in(username, "followups")
        for n in range(6):
            remind(username, f"客户{n}", key=f"{username}:{n}")
    errors = []

    def sweep():
        try:
            services.im_sweep(now=clock.now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    # A sweep that found another one sending to the same person leaves that message for
    # the next run (half a second later), rather than wait.
    clock.advance(1)
    services.im_sweep(now=clock.now)
    received = [(r.to, r.text) for r in wecom.received]
    assert len(received) == 12 and len(set(received)) == 12
    assert Delivery.objects.filter(status="sent").count() == 12


def test_the_same_notification_reaches_every_platform_the_person_uses(fakes, demo_org, clock):
    for fake in fakes.values():
        connect(fake)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    remind("rep_wangfang", "A", key="a")
    assert services.im_sweep(now=clock.now).sent == 3
    assert [len(f.received) for f in fakes.values()] == [1, 1, 1]
