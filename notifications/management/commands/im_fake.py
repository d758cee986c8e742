"""Run a local stand-in for WeCom, DingTalk or Feishu/Lark and print what it receives."""

import time

from django.core.management.base import BaseCommand

from notifications.channels.fake import DEFAULTS, FAKES


class Command(BaseCommand):
    help = ("Serve a fake WeCom, DingTalk or Feishu/Lark API on 127.0.0.1 that speaks the "
            "platform's documented requests and answers, and print every message it receives.")

    def add_arguments(self, parser):
        parser.add_argument("--platform", choices=sorted(FAKES), required=True)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--robot", action="append", default=[], metavar="KEY[:SECRET]",
                            help="a group robot the fake accepts (repeatable); default "
                                 "'fake-robot' with the platform's usual signing")

    def handle(self, *args, platform: str, port: int, host: str, robot: list[str],
               **options):
        robots = None
        if robot:
            robots = dict(([*item.split(":", 1), ""])[:2] for item in robot)
        fake = FAKES[platform](host=host, port=port, robots=robots,
                               out=lambda line: self.stdout.write(line))
        fake.start()
        defaults = DEFAULTS[platform]
        self.stdout.write(self.style.SUCCESS(f"Fake {platform} API on {fake.url}"))
        self.stdout.write("In admin → Messaging channels, add the channel with:")
        self.stdout.write(f"  API address: {fake.url}")
        self.stdout.write(f"  App ID:      {defaults['app_id']}")
        if defaults["agent_id"]:
            self.stdout.write(f"  Agent ID:    {defaults['agent_id']}")
        self.stdout.write(f"  Secret:      {defaults['secret']}")
        for key, secret in fake.robots.items():
            signed = f"   signing secret: {secret}" if secret else ""
            self.stdout.write(f"Group robot webhook: {fake.robot_webhook(key)}{signed}")
        self.stdout.write("Waiting for messages (Ctrl+C to stop)…")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            fake.stop()
