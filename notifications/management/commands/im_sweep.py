"""Run the WeCom / DingTalk / Feishu delivery sweep now (what Celery beat runs every 30 s)."""

import json
import time

from django.core.management.base import BaseCommand

from notifications.channels.services import im_sweep


class Command(BaseCommand):
    help = "Deliver due reminders to WeCom, DingTalk and Feishu/Lark once (or --every N s)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0,
                            help="keep running, once every this many seconds")

    def handle(self, *args, every: float = 0, **options):
        while True:
            report = im_sweep()
            self.stdout.write(json.dumps(report.as_dict()))
            if not every:
                return
            time.sleep(every)
