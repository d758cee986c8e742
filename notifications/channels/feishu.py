"""Feishu / Lark (飞书): the app's bot messages a person; a custom bot posts to a group.

Documentation (open.feishu.cn/document; Lark: open.larksuite.com, the same API):

- tenant_access_token — POST /open-apis/auth/v3/tenant_access_token/internal with
  ``app_id`` and ``app_secret`` → ``{"code":0,"tenant_access_token":…,"expire":7200}``; "剩余
  有效期小于 30 分钟时，调用本接口会返回一个新的 tenant_access_token" — asked within its last 30
  minutes it returns a new one (server-docs/authentication-management/access-token/
  tenant_access_token_internal);
- send message — POST /open-apis/im/v1/messages?receive_id_type=user_id|open_id|union_id
  with ``Authorization: Bearer <token>``, ``receive_id``, ``msg_type: text``, ``content``
  (a JSON string) and ``uuid``: "持有相同 uuid 的请求，在 1 小时内至多成功发送一条消息", so a
  retry never shows twice. Limits: 1,000 a minute and 50 a second per app, and "向同一用户发送
  消息的限频为 5 QPS" — 5 a second to one person (server-docs/im-v1/message/create);
- over a limit the answer is HTTP 429 (older APIs 400) with code 99991400 and the seconds
  to wait in ``x-ogw-ratelimit-reset`` (server-docs/api-call-guide/frequency-control);
- custom bot — POST /open-apis/bot/v2/hook/<token> (client-docs/bot-v3/add-custom-bot):
  "单租户单机器人 100 次/分钟，5 次/秒", throttled with code 11232. With signature checking
  the body carries ``timestamp`` (seconds) and ``sign`` = base64(HmacSHA256(key=
  f"{timestamp}\\n{secret}", msg="")); a wrong one answers 19021.
- invalid or expired tenant token: codes 99991663 / 99991661 / 99991668 / 99991677.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.utils.translation import gettext as _

from . import base, http
from .base import Refused, TokenExpired
from .ratelimit import Limit

TOKEN_ERRORS = {"99991663", "99991661", "99991668", "99991677", "99991664", "99991665"}
RATE_ERRORS = {"99991400", "230020", "11232", "9499"}
BUSY = {"-1", "1500", "2200"}


def sign(secret: str, timestamp: int) -> str:
    """The ``sign`` of a custom bot request with signature checking."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dedupe_uuid(key: str) -> str:
    # Feishu's uuid is at most 50 characters; the delivery key can be longer.
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Feishu(base.Platform):
    code = "feishu"
    robot_path = "/open-apis/bot/v2/hook/"
    robot_limits = (Limit(5, 1), Limit(100, 60))
    person_limits = (Limit(5, 1),)
    app_limits = (Limit(50, 1), Limit(1000, 60))

    def fetch_token(self, config) -> tuple[str, int]:
        answer = http.post_json(
            http.url(config.base_url, "/open-apis/auth/v3/tenant_access_token/internal"),
            {"app_id": config.app_id, "app_secret": config.secret()})
        code = base.body_code(answer.body)
        if code == "0" and answer.body.get("tenant_access_token"):
            return answer.body["tenant_access_token"], int(answer.body.get("expire", 7200))
        if code in BUSY:
            raise http.Transient(f"{code} {base.body_message(answer.body)}")
        raise Refused(_("Feishu/Lark refused the app credentials (%(code)s %(message)s): "
                        "check the App ID and App Secret.")
                      % {"code": code, "message": base.body_message(answer.body)}, code)

    def send_person(self, config, address, text, *, dedupe, now):
        def call(token):
            answer = http.post_json(
                http.url(config.base_url, "/open-apis/im/v1/messages",
                         {"receive_id_type": config.receive_id_type}),
                {"receive_id": address, "msg_type": "text",
                 "content": json.dumps({"text": text}, ensure_ascii=False),
                 "uuid": dedupe_uuid(dedupe)},
                headers={"Authorization": f"Bearer {token}"})
            body = answer.body
            code = base.body_code(body)
            if code in TOKEN_ERRORS:
                raise TokenExpired(code)
            if code == "0":
                return base.sent(code, (body.get("data") or {}).get("message_id", ""))
            message = base.body_message(body)
            if code in RATE_ERRORS:
                reset = answer.headers.get("x-ogw-ratelimit-reset")
                return base.wait(float(reset) if reset else 1, f"{code} {message}", code)
            if code in BUSY:
                return base.retry(f"{code} {message}", code)
            return base.failed(f"{code} {message}".strip()
                               or _("Unexpected answer from Feishu/Lark."), code)

        return base.guarded(lambda: self.with_token(config, call))

    def send_robot(self, webhook, secret, text, *, now):
        def call():
            payload = {"msg_type": "text", "content": {"text": text}}
            if secret:
                stamp = int(now.timestamp())
                payload = {"timestamp": str(stamp), "sign": sign(secret, stamp), **payload}
            answer = http.post_json(webhook, payload)
            code = base.body_code(answer.body)
            message = base.body_message(answer.body)
            if code == "0":
                return base.sent(code)
            if code in RATE_ERRORS:
                reset = answer.headers.get("x-ogw-ratelimit-reset")
                return base.wait(float(reset) if reset else 60, f"{code} {message}", code)
            if code in BUSY:
                return base.retry(f"{code} {message}", code)
            if code == "19021":
                return base.failed(_("Feishu/Lark refused the bot's signature (19021): check "
                                     "the signing secret and the server's clock."), code)
            if code in ("19022", "19024"):
                return base.failed(_("Feishu/Lark refused the message by the bot's security "
                                     "settings (%(code)s: IP allow-list or keyword).")
                                   % {"code": code}, code)
            return base.failed(f"{code} {message}".strip()
                               or _("Unexpected answer from Feishu/Lark."), code)

        return base.guarded(call)


PLATFORM = Feishu()
