"""Local stand-ins for WeCom, DingTalk and Feishu/Lark, for tests and for trying by hand.

Each fake is a small HTTP server (standard library, one thread) on 127.0.0.1 that answers
the requests LeadPool makes the way the platform documents them: the token endpoint, the
person and robot send endpoints, signed robot requests, duplicate checks, rate limits and
the error codes for an expired token, a wrong signature or too many messages. What a
reader would see is kept in ``received``; requests the platform would refuse in
``refused``. Tests can make the next answers fail (``fail_next``), expire every token
(``expire_tokens``) and run the fake on their own clock.

``python manage.py im_fake --platform wecom --port 8765`` runs one by hand and prints what
it receives (README: "Trying it without a tenant").
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import dingtalk, feishu


@dataclass
class Received:
    kind: str            # "person" or "robot"
    to: str              # user ID or robot key
    text: str
    at: float
    extra: dict = field(default_factory=dict)


@dataclass
class RefusedRequest:
    kind: str
    to: str
    code: str
    reason: str
    at: float


@dataclass
class _Failure:
    status: int
    after_accepting: bool


DEFAULTS = {
    "wecom": {"app_id": "ww-fake-corp", "secret": "fake-secret", "agent_id": "1000002",
              "robots": {"fake-robot": ""}},
    "dingtalk": {"app_id": "ding-fake-app", "secret": "fake-secret", "agent_id": "1000002",
                 "robots": {"fake-robot": "SECfake-sign-secret"}},
    "feishu": {"app_id": "cli_fake_app", "secret": "fake-secret", "agent_id": "",
               "robots": {"fake-robot": "fake-sign-secret"}},
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up waiting (its timeout) is part of what the fakes simulate.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakePlatform:
    platform = ""
    token_lifetime = 7200

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.time, app_id: str | None = None,
                 secret: str | None = None, agent_id: str | None = None,
                 robots: dict[str, str] | None = None, users: set[str] | None = None,
                 out: Callable[[str], None] | None = None):
        defaults = DEFAULTS[self.platform]
        self.host, self.port = host, port
        self.clock = clock
        self.app_id = defaults["app_id"] if app_id is None else app_id
        self.secret = defaults["secret"] if secret is None else secret
        self.agent_id = defaults["agent_id"] if agent_id is None else agent_id
        self.robots = dict(defaults["robots"] if robots is None else robots)
        self.users = users
        self.out = out
        self.received: list[Received] = []
        self.refused: list[RefusedRequest] = []
        self.duplicates: list[Received] = []
        self.token_requests = 0
        self._tokens: dict[str, float] = {}
        self._numbers = itertools.count(1)
        self._sends: dict[str, list[float]] = defaultdict(list)
        self._throttled: dict[str, float] = {}
        self._failures: list[_Failure] = []
        self._stalls: list[float] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

            def log_message(self, format, *args):
                pass

        self._server = _Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"fake-{self.platform}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests steer --------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 503,
                  after_accepting: bool = False) -> None:
        """The next ``count`` send requests answer ``status``; with ``after_accepting`` the
        message is delivered first and only the answer is lost."""
        with self._lock:
            self._failures.extend(_Failure(status, after_accepting) for _ in range(count))

    def stall_next(self, count: int = 1, *, seconds: float = 2.0) -> None:
        """The next ``count`` send requests are handled only after ``seconds`` (a client
        with a shorter timeout gives up; the message still arrives)."""
        with self._lock:
            self._stalls.extend([seconds] * count)

    def expire_tokens(self) -> None:
        """Every token issued so far has expired (the platform says 42001 / 99991677)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def forget_tokens(self) -> None:
        """The platform no longer knows any token issued so far (40014 / 99991663)."""
        with self._lock:
            self._tokens = {}

    def robot_webhook(self, key: str = "fake-robot") -> str:
        raise NotImplementedError

    def texts(self, to: str | None = None) -> list[str]:
        return [r.text for r in self.received if to is None or r.to == to]

    # --- plumbing ----------------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(request.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode() or "{}")
        except ValueError:
            body = None
        with self._lock:
            stall = self._stalls.pop(0) if (self._is_send(parts.path) and self._stalls) else 0
        if stall:
            time.sleep(stall)
        with self._lock:
            status, answer, headers = self._answer(method, parts.path, query,
                                                   dict(request.headers), body)
        data = json.dumps(answer, ensure_ascii=False).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _answer(self, method, path, query, headers, body):
        is_send = self._is_send(path)
        failure = self._failures.pop(0) if (is_send and self._failures) else None
        if failure and not failure.after_accepting:
            self._say(f"answered HTTP {failure.status} (made to fail)")
            return failure.status, {"errmsg": "made to fail"}, {}
        if body is None:
            return 400, {"errcode": 40035, "code": 9499, "msg": "invalid json"}, {}
        status, answer, extra = self.handle(method, path, query, headers, body)
        if failure:
            self._say(f"delivered, then answered HTTP {failure.status} (made to fail)")
            return failure.status, {"errmsg": "made to fail"}, {}
        return status, answer, extra

    def _is_send(self, path: str) -> bool:
        return "token" not in path

    def handle(self, method, path, query, headers, body):
        raise NotImplementedError

    def _issue_token(self) -> str:
        self.token_requests += 1
        token = f"{self.platform}-token-{next(self._numbers)}"
        self._tokens[token] = self.clock() + self.token_lifetime
        return token

    def _token_state(self, token: str | None) -> str:
        if not token or token not in self._tokens:
            return "invalid"
        return "ok" if self._tokens[token] > self.clock() else "expired"

    def _over(self, bucket: str, limits: tuple[tuple[int, float], ...]) -> bool:
        """Record a send in ``bucket`` unless one of ``limits`` (count, seconds) is full."""
        now = self.clock()
        stamps = self._sends[bucket]
        for count, seconds in limits:
            if sum(1 for s in stamps if s > now - seconds) >= count:
                return True
        stamps.append(now)
        return False

    def _deliver(self, kind: str, to: str, text: str, **extra) -> Received:
        item = Received(kind, to, text, self.clock(), extra)
        self.received.append(item)
        self._say(f"{kind} {to}: {text}")
        return item

    def _refuse(self, kind: str, to: str, code, reason: str) -> None:
        self.refused.append(RefusedRequest(kind, to, str(code), reason, self.clock()))
        self._say(f"REFUSED {kind} {to}: {code} {reason}")

    def _say(self, line: str) -> None:
        if self.out is not None:
            stamp = time.strftime("%H:%M:%S")
            self.out(f"[{stamp} {self.platform}] {line}")


class FakeWeCom(FakePlatform):
    """qyapi.weixin.qq.com: gettoken, message/send, webhook/send."""

    platform = "wecom"

    def robot_webhook(self, key: str = "fake-robot") -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    def handle(self, method, path, query, headers, body):
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid corpid"}, {}
            if query.get("corpsecret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._issue_token(),
                         "expires_in": self.token_lifetime}, {}
        if path == "/cgi-bin/message/send" and method == "POST":
            state = self._token_state(query.get("access_token"))
            to = str(body.get("touser", ""))
            if state == "invalid":
                self._refuse("person", to, 40014, "invalid access_token")
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}, {}
            if state == "expired":
                self._refuse("person", to, 42001, "access_token expired")
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}, {}
            if str(body.get("agentid")) != self.agent_id:
                return 200, {"errcode": 40056, "errmsg": "invalid agentid"}, {}
            if self.users is not None and to not in self.users:
                self._refuse("person", to, 81013, "user not found")
                return 200, {"errcode": 81013,
                             "errmsg": "user & party & tag all invalid"}, {}
            text = (body.get("text") or {}).get("content", "")
            if body.get("enable_duplicate_check"):
                interval = float(body.get("duplicate_check_interval") or 1800)
                if any(r.to == to and r.text == text and r.at > self.clock() - interval
                       for r in self.received):
                    self.duplicates.append(Received("person", to, text, self.clock()))
                    self._say(f"duplicate to {to} dropped")
                    return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "",
                                 "msgid": "duplicate"}, {}
            # Documented: per app and member at most 30 a minute, 1,000 an hour.
            if self._over(f"user:{to}", ((30, 60), (1000, 3600))):
                self._refuse("person", to, 45009, "api freq out of limit")
                return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, {}
            self._deliver("person", to, text)
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "",
                         "msgid": f"msg-{next(self._numbers)}"}, {}
        if path == "/cgi-bin/webhook/send" and method == "POST":
            key = query.get("key", "")
            if key not in self.robots:
                self._refuse("robot", key, 93000, "invalid webhook url")
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, {}
            # Documented: at most 20 messages a minute per robot.
            if self._over(f"robot:{key}", ((20, 60),)):
                self._refuse("robot", key, 45009, "api freq out of limit")
                return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, {}
            kind = body.get("msgtype")
            self._deliver("robot", key, (body.get(kind) or {}).get("content", ""))
            return 200, {"errcode": 0, "errmsg": "ok"}, {}
        return 404, {"errcode": 404, "errmsg": "not found"}, {}


class FakeDingTalk(FakePlatform):
    """oapi.dingtalk.com: gettoken, corpconversation/asyncsend_v2, robot/send (signed)."""

    platform = "dingtalk"

    def robot_webhook(self, key: str = "fake-robot") -> str:
        return f"{self.url}/robot/send?access_token={key}"

    def handle(self, method, path, query, headers, body):
        if path == "/gettoken":
            if query.get("appkey") != self.app_id or query.get("appsecret") != self.secret:
                return 200, {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._issue_token(),
                         "expires_in": self.token_lifetime}, {}
        if path == "/topapi/message/corpconversation/asyncsend_v2" and method == "POST":
            state = self._token_state(query.get("access_token"))
            users = [u for u in str(body.get("userid_list", "")).split(",") if u]
            if state != "ok":
                code = 40014 if state == "invalid" else 42001
                self._refuse("person", ",".join(users), code, f"access_token {state}")
                return 200, {"errcode": code, "errmsg": f"access_token {state}"}, {}
            if str(body.get("agent_id")) != self.agent_id:
                return 200, {"errcode": 40056, "errmsg": "invalid agent_id"}, {}
            msg = body.get("msg") or {}
            text = (msg.get(msg.get("msgtype")) or {}).get("content", "")
            day = int(self.clock() // 86400)
            for user in users:
                if self.users is not None and user not in self.users:
                    continue  # asynchronous: an unknown user simply receives nothing
                # Documented: the same content reaches a person once a day; at most 500 a day.
                if any(r.to == user and r.text == text and int(r.at // 86400) == day
                       for r in self.received):
                    self.duplicates.append(Received("person", user, text, self.clock()))
                    self._say(f"duplicate to {user} dropped")
                    continue
                if self._over(f"user:{user}", ((500, 86400),)):
                    self._refuse("person", user, "daily", "500 a day reached (dropped)")
                    continue
                self._deliver("person", user, text)
            return 200, {"errcode": 0, "errmsg": "ok", "task_id": next(self._numbers),
                         "request_id": f"req-{next(self._numbers)}"}, {}
        if path == "/robot/send" and method == "POST":
            key = query.get("access_token", "")
            if key not in self.robots:
                self._refuse("robot", key, 300001, "token is not exist")
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}, {}
            secret = self.robots[key]
            if secret:
                stamp, signature = query.get("timestamp", ""), query.get("sign", "")
                fresh = stamp.isdigit() and abs(self.clock() * 1000 - int(stamp)) < 3600_000
                if not fresh or signature != dingtalk.sign(secret, int(stamp)):
                    self._refuse("robot", key, 310000, "sign not match")
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}, {}
            # Documented: 20 a minute per robot, then throttled for 10 minutes.
            if self._throttled.get(key, 0) > self.clock() or \
                    self._over(f"robot:{key}", ((20, 60),)):
                self._throttled[key] = max(self._throttled.get(key, 0), self.clock() + 600)
                self._refuse("robot", key, 130101, "send too fast")
                return 200, {"errcode": 130101,
                             "errmsg": "send too fast, exceed 20 times per minute"}, {}
            kind = body.get("msgtype")
            self._deliver("robot", key, (body.get(kind) or {}).get("content", ""))
            return 200, {"errcode": 0, "errmsg": "ok"}, {}
        return 404, {"errcode": 404, "errmsg": "not found"}, {}


class FakeFeishu(FakePlatform):
    """open.feishu.cn: tenant_access_token/internal, im/v1/messages, bot/v2/hook (signed)."""

    platform = "feishu"
    receive_id_type = "user_id"

    def robot_webhook(self, key: str = "fake-robot") -> str:
        return f"{self.url}/open-apis/bot/v2/hook/{key}"

    def handle(self, method, path, query, headers, body):
        if path == "/open-apis/auth/v3/tenant_access_token/internal" and method == "POST":
            if body.get("app_id") != self.app_id or body.get("app_secret") != self.secret:
                return 200, {"code": 10014, "msg": "app secret invalid"}, {}
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": self._issue_token(),
                         "expire": self.token_lifetime}, {}
        if path == "/open-apis/im/v1/messages" and method == "POST":
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            token = auth.removeprefix("Bearer ").strip()
            to = str(body.get("receive_id", ""))
            state = self._token_state(token)
            if state != "ok":
                code = 99991663 if state == "invalid" else 99991677
                self._refuse("person", to, code, f"token {state}")
                return 400, {"code": code, "msg": f"Invalid access token ({state})"}, {}
            if query.get("receive_id_type") != self.receive_id_type:
                return 400, {"code": 99992402, "msg": "field validation failed"}, {}
            if self.users is not None and to not in self.users:
                self._refuse("person", to, 230001, "invalid receive_id")
                return 400, {"code": 230001, "msg": "Your request contains an invalid "
                                                    "request parameter, ext=invalid receive_id"}, {}
            try:
                text = json.loads(body.get("content") or "{}").get("text", "")
            except ValueError:
                return 400, {"code": 230001, "msg": "content is not JSON"}, {}
            uuid = body.get("uuid")
            # Documented: requests with the same uuid send at most one message within an hour.
            if uuid and any(r.extra.get("uuid") == uuid and r.at > self.clock() - 3600
                            for r in self.received):
                self.duplicates.append(Received("person", to, text, self.clock()))
                self._say(f"duplicate uuid to {to} dropped")
                return 200, {"code": 0, "msg": "success",
                             "data": {"message_id": "om_duplicate"}}, {}
            # Documented: 50 a second per app (429, code 99991400) and 5 a second per person.
            if self._over("app", ((50, 1), (1000, 60))):
                self._refuse("person", to, 99991400, "request trigger frequency limit")
                return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, {
                    "x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "1"}
            if self._over(f"user:{to}", ((5, 1),)):
                self._refuse("person", to, 230020, "frequency limit for this user")
                return 400, {"code": 230020, "msg": "This operation triggers the frequency "
                                                    "limit."}, {}
            self._deliver("person", to, text, uuid=uuid)
            return 200, {"code": 0, "msg": "success",
                         "data": {"message_id": f"om_{next(self._numbers)}"}}, {}
        if path.startswith("/open-apis/bot/v2/hook/") and method == "POST":
            key = path.rsplit("/", 1)[-1]
            if key not in self.robots:
                self._refuse("robot", key, 19001, "incoming webhook access token invalid")
                return 200, {"code": 19001, "msg": "param invalid: incoming webhook access "
                                                   "token invalid"}, {}
            secret = self.robots[key]
            if secret:
                stamp, signature = str(body.get("timestamp", "")), body.get("sign", "")
                fresh = stamp.isdigit() and abs(self.clock() - int(stamp)) < 3600
                if not fresh or signature != feishu.sign(secret, int(stamp)):
                    self._refuse("robot", key, 19021, "sign match fail")
                    return 200, {"code": 19021, "msg": "sign match fail or timestamp is not "
                                                       "within one hour from current time"}, {}
            # Documented: 100 a minute and 5 a second per bot (code 11232).
            if self._over(f"robot:{key}", ((5, 1), (100, 60))):
                self._refuse("robot", key, 11232, "frequency limited")
                return 200, {"code": 11232, "msg": "frequency limited"}, {}
            content = body.get("content") or {}
            self._deliver("robot", key, content.get("text", ""))
            return 200, {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                         "msg": "success"}, {}
        return 404, {"code": 404, "msg": "not found"}, {}


FAKES: dict[str, type[FakePlatform]] = {
    "wecom": FakeWeCom, "dingtalk": FakeDingTalk, "feishu": FakeFeishu,
}

