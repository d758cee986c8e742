from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils import translation

from crm_site.lib.embedded import web_url
from orgs.demo import DEMO_PASSWORD, seed_demo_org


class Command(BaseCommand):
    help = "Load the demo company, teams and people (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = seed_demo_org()
        # Each app may add its own demo data in ``<app>/demo.py: seed_demo()``.
        for config in apps.get_app_configs():
            if config.name == "orgs":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            added = module.seed_demo()
            if isinstance(added, dict):
                added = ", ".join(f"{count} {what}" for what, count in added.items())
            with translation.override("en"):
                self.stdout.write(f"{config.verbose_name}: {added}")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Sign in at {web_url()}"))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        width = max(len(u) for u, _, _ in logins)
        for username, name, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {role:<18} {name}")
