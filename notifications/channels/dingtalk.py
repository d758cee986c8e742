"""DingTalk (钉钉): work notifications to a person; custom robots post to a group chat.

Documentation (open.dingtalk.com/document/orgapp):

- access token — GET /gettoken?appkey=…&appsecret=… →
  ``{"errcode":0,"access_token":…,"expires_in":7200}``; within its lifetime the same token
  comes back (obtain-orgapp-token);
- work notification — POST /topapi/message/corpconversation/asyncsend_v2?access_token=…
  with ``agent_id``, ``userid_list`` and ``msg`` (asynchronous-sending-of-enterprise-session-
  messages): "同一个应用相同内容的消息，同一个用户一天只能接收一次" and "同一个企业内部应用在一天
  之内，最多可以给一个用户发送500条消息通知" — the same content reaches a person once a day
  (so a retry never shows twice) and at most 500 a day per person;
- custom robot — POST /robot/send?access_token=… (custom-robot-access): "每个机器人每分钟最多
  发送20条消息到群里，如果超过20条，会限流10分钟" — at most 20 a minute, else throttled for 10
  minutes (errcode 130101). With the *signed* security setting (加签) the URL carries
  ``timestamp`` (ms) and ``sign`` = urlencode(base64(HmacSHA256(key=secret,
  msg=f"{timestamp}\\n{secret}"))); a wrong one answers 310000.
- error codes: 40014 invalid access_token, 42001 access_token expired, 88 with sub_code
  40014, 90018 / 90002 frequency limits, -1 system busy, 300001 unknown robot token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

from django.utils.translation import gettext as _

from . import base, http
from .base import Refused, TokenExpired
from .ratelimit import Limit

TOKEN_ERRORS = {"40014", "42001", "40001"}
RATE_ERRORS = {"90018", "90002", "90006", "130101"}
BUSY = {"-1"}
ROBOT_THROTTLE_SECONDS = 600


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` parameter of a signed robot request (not yet URL-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalk(base.Platform):
    code = "dingtalk"
    robot_path = "/robot/send"
    robot_query = "access_token"
    robot_limits = (Limit(20, 60),)
    person_limits = (Limit(500, 86400),)

    def fetch_token(self, config) -> tuple[str, int]:
        answer = http.get_json(http.url(config.base_url, "/gettoken", {
            "appkey": config.app_id, "appsecret": config.secret()}))
        code = base.body_code(answer.body)
        if code == "0" and answer.body.get("access_token"):
            return answer.body["access_token"], int(answer.body.get("expires_in", 7200))
        if code in BUSY:
            raise http.Transient(f"{code} {base.body_message(answer.body)}")
        raise Refused(_("DingTalk refused the app credentials (%(code)s %(message)s): check "
                        "the AppKey and AppSecret.")
                      % {"code": code, "message": base.body_message(answer.body)}, code)

    def send_person(self, config, address, text, *, dedupe, now):
        if not config.agent_id.isdigit():
            return base.failed(_("The DingTalk channel has no numeric AgentId."))

        def call(token):
            answer = http.post_json(
                http.url(config.base_url, "/topapi/message/corpconversation/asyncsend_v2",
                         {"access_token": token}),
                {"agent_id": int(config.agent_id), "userid_list": address,
                 "msg": {"msgtype": "text", "text": {"content": text}}})
            body = answer.body
            code = base.body_code(body)
            if code in TOKEN_ERRORS or (code == "88" and str(body.get("sub_code")) in
                                        TOKEN_ERRORS):
                raise TokenExpired(code)
            if code == "0":
                return base.sent(code, body.get("task_id", ""))
            message = base.body_message(body)
            if code in RATE_ERRORS:
                return base.wait(60, f"{code} {message}", code)
            if code in BUSY:
                return base.retry(f"{code} {message}", code)
            return base.failed(f"{code} {message}".strip()
                               or _("Unexpected answer from DingTalk."), code)

        return base.guarded(lambda: self.with_token(config, call))

    def send_robot(self, webhook, secret, text, *, now):
        def call():
            target = webhook
            if secret:
                stamp = int(now.timestamp() * 1000)
                target += ("&" if "?" in target else "?") + urllib.parse.urlencode(
                    {"timestamp": stamp, "sign": sign(secret, stamp)})
            answer = http.post_json(target, {"msgtype": "text",
                                             "text": {"content": text}})
            code = base.body_code(answer.body)
            message = base.body_message(answer.body)
            if code == "0":
                return base.sent(code)
            if code == "130101":
                return base.wait(ROBOT_THROTTLE_SECONDS, f"{code} {message}", code)
            if code in BUSY:
                return base.retry(f"{code} {message}", code)
            if code == "310000":
                return base.failed(_("DingTalk refused the robot's request (310000: signature, "
                                     "keyword or IP address): check the signing secret and "
                                     "the robot's security settings."), code)
            if code in ("300001", "400101"):
                return base.failed(_("DingTalk does not know this robot's webhook: copy it "
                                     "again from the group's robot settings."), code)
            return base.failed(f"{code} {message}".strip()
                               or _("Unexpected answer from DingTalk."), code)

        return base.guarded(call)


PLATFORM = DingTalk()
