"""``manage.py crm_bench``: performance benchmarks, one JSON report for all apps.

Each app may ship ``<app>/bench.py`` (and further ``<app>/bench_<topic>.py`` modules) with
``run(scale: str) -> list[dict]`` returning measurements ``{"name", "value", "unit"}``;
this command finds them, runs them in app order and reports. Every benchmark creates its
own scratch data and removes it again.

    python manage.py crm_bench --scale full --json /tmp/bench.json

``--scale small`` runs the same code on small sizes (the test suite does, so that the
benchmarks never rot); figures from it mean nothing. Needs PostgreSQL.
"""

from __future__ import annotations

import json
import pkgutil
import time
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils.module_loading import module_has_submodule

SCALES = ("small", "medium", "full")


def bench_modules(only: list[str] | None = None) -> list[tuple[str, object]]:
    """``(app label, module)`` of every ``bench`` and ``bench_*`` module of installed apps."""
    found = []
    for config in apps.get_app_configs():
        if only and config.label not in only:
            continue
        names = sorted(info.name for info in pkgutil.iter_modules(config.module.__path__)
                       if info.name.startswith("bench_"))
        if module_has_submodule(config.module, "bench"):
            names.insert(0, "bench")
        found += [(config.label, import_module(f"{config.name}.{name}")) for name in names]
    return found


class Command(BaseCommand):
    help = ("Benchmark imports and pages on scratch data; prints a JSON report. "
            "--scale small|medium|full (default full), --json PATH to keep the measurements.")

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="full")
        parser.add_argument("--json", dest="json_path", metavar="PATH",
                            help='write {"measurements": [...]} to PATH')
        parser.add_argument("--app", dest="apps", action="append", metavar="LABEL",
                            help="run only this app's benchmarks (repeatable)")

    def handle(self, *args, scale: str, json_path: str | None = None,
               apps: list[str] | None = None, **options):
        modules = bench_modules(apps)
        if not modules:
            raise CommandError("No app has a bench module" + (f" among {apps}." if apps else "."))
        measurements, seconds = [], {}
        # Production-like: no query logging (DEBUG), and the test client's host allowed.
        with override_settings(DEBUG=False,
                               ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            for label, module in modules:
                if options["verbosity"] > 0:
                    self.stderr.write(f"crm_bench: {label} at scale {scale} …")
                started = time.perf_counter()
                measurements += module.run(scale)
                name = module.__name__.rsplit(".", 1)[-1]
                key = label if name == "bench" else f"{label}.{name}"
                seconds[key] = round(time.perf_counter() - started, 1)
        report = {"scale": scale, "seconds": seconds, "measurements": measurements}
        self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        if json_path:
            Path(json_path).write_text(
                json.dumps({"measurements": measurements}, indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8")
