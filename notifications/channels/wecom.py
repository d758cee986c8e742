"""WeCom (企业微信): an internal app messages a person; a group robot posts to a group chat.

Documentation (developer.work.weixin.qq.com):

- access token — GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET →
  ``{"errcode":0,"access_token":…,"expires_in":7200}`` (/document/path/91039);
- app message — POST /cgi-bin/message/send?access_token=… with ``touser``, ``agentid``,
  ``msgtype: text`` (content up to 2,048 bytes) and ``enable_duplicate_check`` /
  ``duplicate_check_interval``: WeCom drops a repeat of the same content to the same member
  within the interval, so a retry after a lost answer never shows twice (/document/path/90236);
- group robot — POST /cgi-bin/webhook/send?key=… (/document/path/91770): "每个机器人发送的
  消息不能超过20条/分钟" (at most 20 messages a minute per robot);
- limits (/document/path/90454): "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会
  被丢弃不下发" — per app and member at most 30 a minute and 1,000 an hour, the rest dropped
  silently, so we stay under them ourselves;
- error codes (/document/path/90313): 42001 access_token expired, 40014 invalid
  access_token, 45009 API frequency limit, 45033 concurrency limit, -1 system busy,
  81013 / 40003 invalid user, 93000 invalid webhook key.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from . import base, http
from .base import Refused, TokenExpired
from .ratelimit import Limit

TOKEN_ERRORS = {"42001", "40014", "41001"}
RATE_ERRORS = {"45009", "45033"}
BUSY = {"-1"}
BAD_USER = {"81013", "40003", "60111"}
BAD_CREDENTIALS = {"40013", "40001", "40056", "48002"}
DUPLICATE_CHECK_SECONDS = 1800


class WeCom(base.Platform):
    code = "wecom"
    robot_path = "/cgi-bin/webhook/send"
    robot_query = "key"
    robot_limits = (Limit(20, 60),)
    person_limits = (Limit(30, 60), Limit(1000, 3600))

    def fetch_token(self, config) -> tuple[str, int]:
        answer = http.get_json(http.url(config.base_url, "/cgi-bin/gettoken", {
            "corpid": config.app_id, "corpsecret": config.secret()}))
        code = base.body_code(answer.body)
        if code == "0" and answer.body.get("access_token"):
            return answer.body["access_token"], int(answer.body.get("expires_in", 7200))
        if code in BUSY:
            raise http.Transient(f"{code} {base.body_message(answer.body)}")
        raise Refused(_("WeCom refused the app credentials (%(code)s %(message)s): check the "
                        "Corp ID and the app's Secret.")
                      % {"code": code, "message": base.body_message(answer.body)}, code)

    def send_person(self, config, address, text, *, dedupe, now):
        if not config.agent_id.isdigit():
            return base.failed(_("The WeCom channel has no numeric AgentId."))

        def call(token):
            answer = http.post_json(
                http.url(config.base_url, "/cgi-bin/message/send", {"access_token": token}),
                {"touser": address, "msgtype": "text", "agentid": int(config.agent_id),
                 "text": {"content": text}, "safe": 0,
                 "enable_duplicate_check": 1,
                 "duplicate_check_interval": DUPLICATE_CHECK_SECONDS})
            return self._outcome(answer.body, address)

        return base.guarded(lambda: self.with_token(config, call))

    def _outcome(self, body: dict, address: str) -> base.Outcome:
        code = base.body_code(body)
        message = base.body_message(body)
        if code in TOKEN_ERRORS:
            raise TokenExpired(code)
        if code == "0":
            if body.get("invaliduser"):
                return base.failed(_("WeCom does not know the user ID %(id)s in this app's "
                                     "visible range.") % {"id": address}, "invaliduser")
            return base.sent(code, body.get("msgid", ""))
        if code in RATE_ERRORS:
            return base.wait(60, f"{code} {message}", code)
        if code in BUSY:
            return base.retry(f"{code} {message}", code)
        if code in BAD_USER:
            return base.failed(_("WeCom does not know the user ID %(id)s in this app's "
                                 "visible range (%(code)s).") % {"id": address, "code": code},
                               code)
        return base.failed(f"{code} {message}".strip() or _("Unexpected answer from WeCom."),
                           code)

    def send_robot(self, webhook, secret, text, *, now):
        def call():
            answer = http.post_json(webhook, {"msgtype": "text",
                                              "text": {"content": text}})
            code = base.body_code(answer.body)
            message = base.body_message(answer.body)
            if code == "0":
                return base.sent(code)
            if code in RATE_ERRORS:
                return base.wait(60, f"{code} {message}", code)
            if code in BUSY:
                return base.retry(f"{code} {message}", code)
            if code == "93000":
                return base.failed(_("WeCom says the robot's webhook is not valid (93000): "
                                     "copy it again from the group's robot."), code)
            return base.failed(f"{code} {message}".strip()
                               or _("Unexpected answer from WeCom."), code)

        return base.guarded(call)


PLATFORM = WeCom()
