"""Fixtures of the messaging-channel tests: a fake of each platform on 127.0.0.1 (no test
reaches the internet), a clock the tests and the fakes share, and people with accounts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from notifications.channels import services
from notifications.channels.fake import FakeDingTalk, FakeFeishu, FakeWeCom
from notifications.channels.models import ChannelConfig, ImPreference, TeamRobot
from orgs.models import Employee, OrgUnit
from tests.helpers import user
from tests.leads.conftest import pool  # noqa: F401  (fixtures)


class Clock:
    """Seconds since the epoch, moved on by the test; ``now`` as an aware datetime."""

    def __init__(self):
        # A minute ahead of the wall clock, so rows the test writes "now" are in its past.
        self.t = float(int(time.time()) + 60)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def _fresh_im_cache():
    """Tokens and rate-limit windows of earlier tests must not leak into this one."""
    client = cache._cache.get_client()
    for key in client.scan_iter(match="*:im:*"):
        client.delete(key)


USERS = {"wangfang", "lilei", "zhoujianguo"}


@pytest.fixture
def wecom(clock):
    with FakeWeCom(clock=clock, users=USERS) as fake:
        yield fake


@pytest.fixture
def dingtalk(clock):
    with FakeDingTalk(clock=clock, users=USERS) as fake:
        yield fake


@pytest.fixture
def feishu(clock):
    with FakeFeishu(clock=clock, users=USERS) as fake:
        yield fake


@pytest.fixture
def fakes(wecom, dingtalk, feishu):
    return {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu}


def connect(fake, **fields) -> ChannelConfig:
    """The channel of ``fake``'s platform, pointing at the fake, saved as admin saves it."""
    config = ChannelConfig(platform=fake.platform, app_id=fake.app_id, agent_id=fake.agent_id,
                           api_base=fake.url, **fields)
    return services.channel_config_save(config=config, secret=fake.secret)


def give_accounts(username: str, account: str) -> Employee:
    Employee.objects.filter(user__username=username).update(
        wecom_userid=account, dingtalk_userid=account, feishu_userid=account)
    return Employee.objects.get(user__username=username)


def opt_in(username: str, *topic_codes: str, language: str = "zh-hans") -> ImPreference:
    return services.im_preference_set(user=user(username), topic_codes=topic_codes,
                                      language=language)


def robot(fake, *, team: str = "east_shanghai", key: str = "fake-robot", secret=None,
          **fields) -> TeamRobot:
    fields.setdefault("name", f"{fake.platform} group")
    bot = TeamRobot(org_unit=OrgUnit.objects.get(code=team), platform=fake.platform, **fields)
    sign = fake.robots.get(key, "") if secret is None else secret
    return services.team_robot_save(robot=bot, webhook=fake.robot_webhook(key),
                                    sign_secret=sign)
