from django.core.management.base import BaseCommand, CommandError

from orgs.presets import STAGE_NAMES, apply_org_stage


class Command(BaseCommand):
    help = "Apply org-stage preset N (1-4): departments, positions and roles. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("stage", type=int, choices=sorted(STAGE_NAMES))

    def handle(self, *args, stage: int, **options):
        try:
            created = apply_org_stage(stage)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{STAGE_NAMES[stage]}"))
        for key, values in created.items():
            if isinstance(values, list):
                self.stdout.write(f"  {key}: {len(values)} new {', '.join(values)}".rstrip())
