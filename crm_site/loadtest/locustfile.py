"""Simulated reps and managers of the demo company (run by ``manage.py load_test``).

Reps (4 in 5 users) work the way the demo's reps do: the workbench, My leads, the pool,
claiming from it, opening a lead, writing a follow-up, releasing a lead they cannot work,
the pipeline board and moving a card. Managers look at their home, the team's leads, the
pool and the board. Every request is named by its page so the report groups them.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "leadpool-demo")
REPS = ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang", "rep_chenjing",
        "rep_yangfan", "rep_zhaomin", "rep_sunli"]
MANAGERS = ["mgr_shanghai", "mgr_hangzhou", "mgr_shenzhen", "mgr_guangzhou"]
OPEN_STAGES = ["prospecting", "engaging", "qualification", "proposal", "negotiation"]
OUTCOMES = ["connected", "not_connected", "interested", "other"]

CLAIM = re.compile(r'/leads/(\d+)/claim/')
LEAD = re.compile(r'href="/leads/(\d+)/"')
CARD = re.compile(r'data-id="(\d+)" data-version="(\d+)" data-stage="([\w-]+)"')


class _Signed(HttpUser):
    """A user already signed in: ``manage.py load_test`` opens one session per demo login
    (``LOAD_SESSIONS``) so that the run measures the work, not password hashing."""

    abstract = True
    usernames: list[str] = []

    def on_start(self):
        sessions = json.loads(os.environ.get("LOAD_SESSIONS", "{}"))
        self.client.headers["Accept-Language"] = "zh-hans"
        username = random.choice([u for u in self.usernames if u in sessions] or
                                 self.usernames)
        if username in sessions:
            self.client.cookies.set("sessionid", sessions[username])
        else:  # run by hand against a site: sign in through the form
            self.client.get("/login/", name="login")
            self.client.post("/login/", {"username": username, "password": PASSWORD,
                                         "csrfmiddlewaretoken":
                                         self.client.cookies.get("csrftoken", "")},
                             name="login")
        self.client.get("/", name="home")

    def post(self, url: str, data: dict, name: str, **headers):
        headers["X-CSRFToken"] = self.client.cookies.get("csrftoken", "")
        headers["Referer"] = self.host + url
        return self.client.post(url, data, name=name, headers=headers)


class Rep(_Signed):
    weight = 4
    wait_time = between(1, 4)
    usernames = REPS

    @task(3)
    def workbench(self):
        self.client.get("/workbench/", name="workbench")

    @task(3)
    def my_leads(self):
        page = self.client.get("/leads/", name="my leads")
        self.mine = LEAD.findall(page.text)

    @task(2)
    def pool_and_claim(self):
        page = self.client.get("/leads/pool/", name="pool")
        ids = CLAIM.findall(page.text)
        if ids:
            self.post(f"/leads/{random.choice(ids)}/claim/", {"from": "pool"},
                      name="claim", **{"HX-Request": "true"})

    @task(2)
    def lead_and_follow_up(self):
        if not getattr(self, "mine", None):
            return
        lead = random.choice(self.mine)
        self.client.get(f"/leads/{lead}/", name="lead detail")
        self.post(f"/leads/{lead}/followups/",
                  {"kind": "call", "outcome": random.choice(OUTCOMES),
                   "content": "负载测试：电话沟通需求"}, name="follow-up")

    @task(1)
    def release(self):
        if getattr(self, "mine", None) and random.random() < 0.5:
            lead = self.mine.pop()
            self.post(f"/leads/{lead}/release/", {"reason": "capacity"}, name="release")

    @task(2)
    def board_and_move(self):
        page = self.client.get("/opportunities/board/", name="board")
        cards = [c for c in CARD.findall(page.text) if c[2] in OPEN_STAGES]
        if cards and random.random() < 0.5:
            pk, version, stage = random.choice(cards)
            target = random.choice([s for s in OPEN_STAGES if s != stage])
            self.post(f"/opportunities/{pk}/move/", {"stage": target, "version": version,
                                                      "from": "board"},
                      name="board move", **{"HX-Request": "true"})


class Manager(_Signed):
    weight = 1
    wait_time = between(2, 5)
    usernames = MANAGERS

    @task(2)
    def home(self):
        self.client.get("/manager/", name="manager home")

    @task(2)
    def team(self):
        self.client.get("/leads/team/", name="team leads")

    @task(1)
    def pool(self):
        self.client.get("/leads/pool/", name="pool")

    @task(1)
    def board(self):
        self.client.get("/opportunities/board/", name="board")
