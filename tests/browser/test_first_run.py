"""The first run, as a newcomer has it: ``bin/serve`` (what ``make run`` runs) with no
``DATABASE_URL`` and no ``REDIS_URL``, in a fresh data folder, on a free port.

It must start the embedded PostgreSQL and Redis, migrate, load the demo and run the web,
a Celery worker and beat as real processes; every demo role signs in and opens every entry
of the navigation its page shows (read from the page), and each answers without a server
error and shows its content; the worker runs a task sent to it and beat's engine tick
moves demo leads; Ctrl-C stops every process it started. Screenshots of every page are
kept in ``tests/artifacts/first_run/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "first_run"
STARTUP_SECONDS = 150  # cold: initdb, every migration and the demo on an empty database
BEAT_SECONDS = 90  # beat sends the first engine tick 30 s after it starts
# The variables of this test run that a newcomer's shell does not have.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                 "DJANGO_ALLOW_ASYNC_UNSAFE", "DATA_DIR", "HOST", "PORT")

ENGINE_CHECK = """
import json
from crm_site.tasks import health
from leads.models import LeadEvent
answer = health.delay().get(timeout=30)
moved = LeadEvent.objects.filter(actor__isnull=True, kind__in=["routed", "assigned"]).count()
print("RESULT " + json.dumps({"health": answer["status"], "moved": moved}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Run:
    """``bin/serve`` running in the background, its output in a file."""

    def __init__(self, data: Path, port: int):
        self.data, self.port = data, port
        self.url = f"http://127.0.0.1:{port}/"
        self.log_path = ARTIFACTS / "serve.log"
        self.env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        self.env.update(DATA_DIR=str(data), PORT=str(port))
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen([sys.executable, "bin/serve"], cwd=ROOT, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, seconds: float) -> re.Match | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found or self.process.poll() is not None:
                return found
            time.sleep(0.5)
        return None

    def processes(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        """What Ctrl-C in the terminal does to the launcher."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


def _roles() -> list[str]:
    """One demo login per role: the administrator and the first person of each position."""
    from orgs.demo import PEOPLE

    logins, seen = ["admin"], set()
    for person in PEOPLE:
        if person.position not in seen:
            seen.add(person.position)
            logins.append(person.username)
    return logins


def _visit_navigation(browser: Browser, url: str, username: str) -> tuple[list[str], int]:
    """Sign in as ``username`` and open every navigation entry; returns the problems seen
    and how many pages were opened."""
    from orgs.demo import DEMO_PASSWORD

    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"{username}: script error {exc}"))
    try:
        page.goto(url + "login/")
        form = page.get_by_test_id("login-form")
        form.locator("#id_username").fill(username)
        form.locator("#id_password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        if "/login/" in page.url:
            return [f"{username}: could not sign in"], 0
        page.screenshot(path=ARTIFACTS / f"{username}-home.png")
        entries = page.locator("[data-testid=main-nav] a[data-entry]").evaluate_all(
            "links => links.map(a => [a.dataset.entry, a.href])")
        if not entries:
            problems.append(f"{username}: the page shows no navigation")
        for entry, href in entries:
            response = page.goto(href)
            status = response.status if response else 0
            where = f"{username} → {entry} ({href})"
            page.screenshot(path=ARTIFACTS / f"{username}-{entry}.png")
            if status != 200:
                problems.append(f"{where}: answered {status}")
                continue
            if "Traceback (most recent call last)" in page.content():
                problems.append(f"{where}: shows a Django error page")
            main = page.locator("main, #content, #content-main").first
            if not main.count() or not main.inner_text().strip():
                problems.append(f"{where}: no main content")
            heading = page.locator("h1").first
            if not heading.count() or not heading.inner_text().strip():
                problems.append(f"{where}: no heading")
        return problems, len(entries)
    finally:
        context.close()


def test_make_run_starts_everything_serves_every_role_and_stops_cleanly(browser: Browser):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    data = Path(tempfile.mkdtemp(prefix="leadpool-first-run-"))
    started = time.monotonic()
    run = _Run(data, _free_port())
    timings: dict[str, float] = {}
    try:
        ready = run.wait_for(r"LeadPool CRM is ready at (\S+)", STARTUP_SECONDS)
        assert ready, f"bin/serve did not get ready:\n{run.output()[-4000:]}"
        assert ready.group(1) == run.url
        assert f"Sign in at {run.url}" in run.output(), "seed_demo names another URL"
        timings["ready"] = time.monotonic() - started

        # The production process layout, as real processes under the launcher.
        commands = [" ".join(p.cmdline()) for p in run.processes()]
        for what in ("bin/postgres -D", "redis-server", "runserver 127.0.0.1:",
                     "celery -A crm_site worker", "celery -A crm_site beat"):
            assert any(what in command for command in commands), f"no {what!r} in {commands}"

        problems, pages = [], 0
        for username in _roles():
            seen, opened = _visit_navigation(browser, run.url, username)
            problems += seen
            pages += opened
        timings["pages"] = time.monotonic() - started - timings["ready"]
        assert not problems, "\n".join(problems)
        assert pages >= 3 * len(_roles())

        # Beat sent the engine tick and the worker ran it; a task sent now comes back.
        assert run.wait_for(r"Task leads\.engine_tick\[[^\]]+\] succeeded",
                            max(5.0, BEAT_SECONDS - (time.monotonic() - started))), (
            f"no engine tick ran:\n{run.output()[-4000:]}")
        check = subprocess.run([sys.executable, "manage.py", "shell", "-c", ENGINE_CHECK],
                               cwd=ROOT, env=run.env, capture_output=True, text=True,
                               timeout=60)
        result = re.search(r"RESULT (.*)", check.stdout)
        assert result, check.stdout + check.stderr
        outcome = json.loads(result.group(1))
        assert outcome["health"] == "ok"
        assert outcome["moved"] > 0, "the engine routed or assigned no demo lead"
    finally:
        children = run.processes()
        stopping = time.monotonic()
        run.stop()
        timings["stop"] = time.monotonic() - stopping
        print(f"first run: ready {timings.get('ready', 0):.0f} s, pages "
              f"{timings.get('pages', 0):.0f} s, stop {timings['stop']:.1f} s")
        left = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        shutil.rmtree(data, ignore_errors=True)
    assert run.process.returncode == 0, run.output()[-3000:]
    assert "everything it started has stopped" in run.output()
    assert not left, f"processes left running: {[p.cmdline() for p in left]}"
