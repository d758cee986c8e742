"""What the messages say: the team's daily digest, and contact data masked as a page would
mask it for the reader."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications import services as notify_services
from notifications.channels import services
from notifications.channels.models import Delivery, TeamRobot
from notifications.channels.render import mask_contacts
from orgs.models import Employee
from orgs.rights import Operation
from tests.factories import RoleFactory
from tests.helpers import user
from tests.leads.conftest import make_lead

from .conftest import connect, give_accounts, opt_in, robot

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at_local(clock, year, month, day, hour, minute=0) -> None:
    clock.t = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def test_the_team_digest_goes_to_the_group_at_its_time_once_a_day(wecom, pool, clock):
    connect(wecom)
    bot = robot(wecom, digest_time=datetime(2000, 1, 1, 9, 0).time(), language="zh-hans")
    TeamRobot.objects.filter(pk=bot.pk).update(last_digest_on=None)
    at_local(clock, 2026, 3, 2, 8, 30)
    now = clock.now
    wangfang, lilei = user("rep_wangfang"), user("rep_lilei")
    make_lead(pool, owner=wangfang, name="逾期客户", next_followup_at=now - timedelta(hours=20))
    make_lead(pool, owner=wangfang, name="今日客户", next_followup_at=now + timedelta(hours=3))
    make_lead(pool, owner=wangfang, name="明日客户", next_followup_at=now + timedelta(days=1))
    make_lead(pool, owner=lilei, name="将回收", recycle_due_at=now + timedelta(hours=5))
    make_lead(pool, owner=user("rep_zhangwei"), name="杭州的",  # another team
              next_followup_at=now + timedelta(hours=1))

    assert services.im_sweep(now=clock.now).digests == 0  # 08:30: not yet
    at_local(clock, 2026, 3, 2, 9, 0)
    report = services.im_sweep(now=clock.now)

    assert (report.digests, report.sent) == (1, 1)
    [digest] = wecom.received
    assert digest.kind == "robot" and digest.to == "fake-robot"
    lines = digest.text.splitlines()
    assert lines[0] == "LeadPool CRM · 上海一组 · 今日 2026-03-02"
    assert "王芳：已逾期 1 · 今日待跟进 1" in lines
    assert "李磊：24小时内回收 1" in lines
    assert "全组：已逾期 1 · 今日待跟进 1 · 24小时内回收 1" in lines
    assert not any("张伟" in line for line in lines)
    assert lines[-1].endswith("/")  # the link: each reader lands on their own home
    # Later sweeps the same day send nothing more; the next morning brings the next one.
    clock.advance(3600)
    assert services.im_sweep(now=clock.now).digests == 0
    at_local(clock, 2026, 3, 3, 9, 1)
    assert services.im_sweep(now=clock.now).digests == 1
    assert len(wecom.received) == 2


def test_a_digest_missed_by_hours_is_skipped_not_sent_late(wecom, demo_org, clock):
    connect(wecom)
    bot = robot(wecom, digest_time=datetime(2000, 1, 1, 9, 0).time())
    TeamRobot.objects.filter(pk=bot.pk).update(last_digest_on=None)
    at_local(clock, 2026, 3, 2, 15, 0)  # the workers were down all morning
    assert services.im_sweep(now=clock.now).digests == 0
    assert wecom.received == []
    bot.refresh_from_db()
    assert str(bot.last_digest_on) == "2026-03-02"


def test_an_english_group_gets_an_english_digest_and_an_empty_day_says_so(feishu, demo_org,
                                                                          clock):
    connect(feishu)
    bot = robot(feishu, digest_time=datetime(2000, 1, 1, 9, 0).time(), language="en")
    TeamRobot.objects.filter(pk=bot.pk).update(last_digest_on=None)
    at_local(clock, 2026, 3, 2, 9, 10)
    services.im_sweep(now=clock.now)
    [digest] = feishu.received
    assert digest.text.splitlines()[:2] == [
        "LeadPool CRM · Shanghai team · today 2026-03-02",
        "Nothing due today and nothing about to go back to the pool."]


PHONE, EMAIL, ID_CARD = "13812345678", "zhang.san@example.com", "110101199003071234"


def contact_reminder(username: str, key: str) -> None:
    notify_services.notify(
        recipient_id=user(username).pk, kind="followup_due_lead", key=key,
        params={"name": f"张三 {PHONE} {EMAIL} 身份证{ID_CARD}", "due": "10:00"})


def test_contact_data_in_a_message_is_masked_for_a_rep_without_unmask_rights(wecom, demo_org,
                                                                             clock):
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    contact_reminder("rep_wangfang", "a")
    services.im_sweep(now=clock.now)
    [message] = wecom.received
    assert "138****5678" in message.text and "z***@example.com" in message.text
    assert "110101********1234" in message.text
    for clear in (PHONE, EMAIL, ID_CARD):
        assert clear not in message.text
    assert Delivery.objects.get().text == message.text  # the log keeps the masked text


def test_a_reader_who_may_see_contact_data_in_lists_gets_it_in_clear(wecom, demo_org, clock):
    clear = RoleFactory(code="t-im-clear", operations=[Operation.UNMASK_LIST])
    Employee.objects.get(user__username="rep_wangfang").memberships.get().extra_roles.add(clear)
    connect(wecom)
    give_accounts("rep_wangfang", "wangfang")
    opt_in("rep_wangfang", "followups")
    contact_reminder("rep_wangfang", "a")
    services.im_sweep(now=clock.now)
    assert PHONE in wecom.received[0].text and EMAIL in wecom.received[0].text


def test_a_team_group_always_sees_contact_data_masked(dingtalk, demo_org, clock):
    clear = RoleFactory(code="t-im-clear2", operations=[Operation.UNMASK_LIST])
    Employee.objects.get(user__username="rep_wangfang").memberships.get().extra_roles.add(clear)
    connect(dingtalk)
    robot(dingtalk, topics=["followups"], digest_enabled=False)
    contact_reminder("rep_wangfang", "a")
    services.im_sweep(now=clock.now)
    [message] = dingtalk.received
    assert message.kind == "robot" and "王芳：跟进到期" in message.text
    assert "138****5678" in message.text and PHONE not in message.text


@pytest.mark.parametrize("text,masked", [
    ("回电 138 1234 5678", "回电 138****5678"),
    ("座机 021-62345678", "座机 021****5678"),
    ("身份证110101199003071234号", "身份证110101********1234号"),
    ("卡号 6222 0212 3456 7890", "卡号 **** **** **** 7890"),
    ("全角 １３８１２３４５６７８", "全角 138****5678"),
    ("+86 13812345678", "138****5678"),
])
def test_masking_finds_contact_data_in_free_text(db, text, masked):
    assert mask_contacts(text, None) == masked


@pytest.mark.parametrize("text", [
    "合同 HT202603-0001 将于 2026-03-30 到期", "回款 1,200,000.00 元于 2026-03-02 到期",
    "Follow-up due 2026-03-02 10:00: lead “苏州精工”",
])
def test_masking_leaves_dates_amounts_and_numbers_alone(db, text):
    assert mask_contacts(text, None) == text
