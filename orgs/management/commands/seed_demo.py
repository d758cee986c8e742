import os
import time
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils import translation

from crm_site.lib.embedded import web_url
from orgs.demo import DEMO_PASSWORD, DemoReport, demo_logins


def demo_modules():
    """``(app config, module)`` of every installed app with a ``demo`` module, in the order
    of ``INSTALLED_APPS`` — the order of the apps' dependencies, so that each app's demo
    finds what the apps below it seeded."""
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        if hasattr(module, "seed_demo"):
            yield config, module


class Command(BaseCommand):
    help = ("Load the demo company and its history: people, leads, customers, opportunities, "
            "orders, contracts and payments (idempotent), and print the demo logins.")

    def add_arguments(self, parser):
        # The address ``make run`` serves on (HOST and PORT), for the URL printed at the end.
        parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1",
                            help="Host named in the sign-in URL printed at the end.")
        parser.add_argument("--port", default=os.environ.get("PORT") or "8000",
                            help="Port named in the sign-in URL printed at the end.")

    def handle(self, *args, **options):
        started = time.monotonic()
        for config, module in demo_modules():
            report = module.seed_demo()
            with translation.override("en"):
                label = str(config.verbose_name)
            line = report.line() if isinstance(report, DemoReport) else str(report)
            self.stdout.write(f"{label}: {line}")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready ({elapsed:.1f} s). Sign in at "
            f"{web_url(options['host'], options['port'])}"))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        logins = demo_logins()
        width = max(len(u) for u, _, _ in logins)
        for username, name, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {role:<18} {name}")
