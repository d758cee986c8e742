"""``manage.py load_test``: the site under simulated reps and managers, then the invariants.

    python manage.py load_test --leads 100000 --users 200 --seconds 120

1. the demo (``seed_demo``) when the database has none, scaled up to ``--leads`` leads by
   set-based SQL (``crm_site.loadtest.scale``);
2. gunicorn (``--workers``) on 127.0.0.1:``--port`` with DEBUG off, and one Celery worker
   with beat embedded (the rule engine ticks every 30 s, reminders and sweeps run);
3. locust, headless, ``--users`` simulated reps and managers (``crm_site.loadtest.
   locustfile``) for ``--seconds``;
4. no lead with two owners, no cap passed, every move with its event
   (``crm_site.loadtest.invariants``); requests per second, p50/p95/p99 per page and the
   errors printed and written to ``--json``.

Exits non-zero when an invariant is broken or a request failed. It writes to the database
it is pointed at: use a scratch one (``DATABASE_URL``), never production.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import import_module
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from crm_site.loadtest import invariants
from crm_site.loadtest.scale import scale_leads
from leads.models import Lead

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"
BIN = Path(sys.executable).parent


class Command(BaseCommand):
    help = "Run the load test (gunicorn + Celery + locust) and check the invariants after it."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=100_000)
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--spawn-rate", type=float, default=20)
        parser.add_argument("--seconds", type=int, default=120)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--json", default="", help="write the figures to this file")

    def handle(self, *args, **options):
        if not Lead.objects.filter(external_id__startswith="demo-").exists():
            call_command("seed_demo", stdout=StringIO())
        started = time.monotonic()
        added = scale_leads(target=options["leads"])
        self.stdout.write(f"leads: {Lead.objects.count():,} ({added:,} added in "
                          f"{time.monotonic() - started:.1f} s)")
        baseline = invariants.loads()
        env = {**os.environ, "DEBUG": "false", "PYTHONUNBUFFERED": "1",
               "LOAD_SESSIONS": json.dumps(_sessions()),
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                        settings.SETTINGS_MODULE)}
        host = f"http://127.0.0.1:{options['port']}"
        with tempfile.TemporaryDirectory(prefix="leadpool-load-") as scratch:
            servers = [
                subprocess.Popen(
                    [str(BIN / "gunicorn"), "crm_site.wsgi", "--bind",
                     f"127.0.0.1:{options['port']}", "--workers", str(options["workers"]),
                     "--timeout", "30", "--log-level", "warning"],
                    env=env, cwd=settings.BASE_DIR),
                subprocess.Popen(
                    [str(BIN / "celery"), "-A", "crm_site", "worker", "--beat",
                     "--concurrency", "1", "--loglevel", "WARNING",
                     "--schedule", str(Path(scratch) / "beat-schedule")],
                    env=env, cwd=settings.BASE_DIR),
            ]
            try:
                _wait_for(f"{host}/health/")
                prefix = str(Path(scratch) / "locust")
                subprocess.run(
                    [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", host,
                     "-u", str(options["users"]), "-r", str(options["spawn_rate"]),
                     "-t", f"{options['seconds']}s", "--csv", prefix, "--only-summary",
                     "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                    env=env, cwd=settings.BASE_DIR, check=True, timeout=options["seconds"] + 120)
                pages, total = _read_stats(f"{prefix}_stats.csv")
            finally:
                for server in servers:
                    server.send_signal(signal.SIGTERM)
                for server in servers:
                    try:
                        server.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        server.kill()
        report = invariants.check(baseline)
        figures = {
            "leads": Lead.objects.count(), "users": options["users"],
            "seconds": options["seconds"], "gunicorn_workers": options["workers"],
            "load_rps": total["rps"], "load_p50_ms": total["p50"], "load_p95_ms": total["p95"],
            "load_p99_ms": total["p99"], "load_requests": total["requests"],
            "load_errors": total["failures"], "pages": pages,
            "invariants": {"two_owners": report.two_owners,
                           "over_pool_cap": len(report.over_pool_cap),
                           "over_overall_cap": len(report.over_overall_cap),
                           "over_daily_limit": len(report.over_daily_limit),
                           "moves_without_event": report.moves_without_event},
            "load_average": list(os.getloadavg()),
        }
        self._print(figures)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(figures, indent=2) + "\n")
        if not report.ok:
            raise CommandError(f"invariants broken: {report}")
        if total["failures"]:
            raise CommandError(f"{total['failures']} requests failed")

    def _print(self, figures: dict) -> None:
        self.stdout.write(f"{figures['load_requests']:,} requests, {figures['load_rps']:.1f}/s, "
                          f"{figures['load_errors']} errors; p50/p95/p99 "
                          f"{figures['load_p50_ms']}/{figures['load_p95_ms']}/"
                          f"{figures['load_p99_ms']} ms; load average "
                          + " ".join(f"{x:.1f}" for x in figures["load_average"]))
        self.stdout.write(f"{'page':<16}{'requests':>9}{'errors':>7}{'p50':>6}{'p95':>6}"
                          f"{'p99':>6}  ms")
        for name, row in sorted(figures["pages"].items()):
            self.stdout.write(f"{name:<16}{row['requests']:>9}{row['failures']:>7}"
                              f"{row['p50']:>6}{row['p95']:>6}{row['p99']:>6}")
        self.stdout.write(f"invariants: {figures['invariants']}")


def _sessions() -> dict[str, str]:
    """A signed-in session for each demo rep and manager (as the login form opens one).
    (The locustfile is not imported here: locust patches the standard library for gevent.)"""
    engine = import_module(settings.SESSION_ENGINE)
    found = {}
    for user in get_user_model().objects.filter(username__regex=r"^(rep|mgr)_",
                                                is_active=True):
        session = engine.SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        found[user.username] = session.session_key
    return found


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise CommandError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.5)


def _read_stats(path: str) -> tuple[dict, dict]:
    """Per page and overall: requests, failures, p50/p95/p99 (ms), requests per second."""
    pages, total = {}, {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            figures = {"requests": int(row["Request Count"]),
                       "failures": int(row["Failure Count"]),
                       "p50": _ms(row["50%"]), "p95": _ms(row["95%"]), "p99": _ms(row["99%"]),
                       "rps": round(float(row["Requests/s"]), 1)}
            if row["Name"] == "Aggregated":
                total = figures
            else:
                pages[row["Name"]] = figures
    return pages, total


def _ms(value: str) -> int:
    return int(float(value)) if value not in ("", "N/A") else 0
