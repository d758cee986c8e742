"""``manage.py run_rules [--pool CODE] [--dry-run] [--every SECONDS]``: run the rule engine.

Routing, assignment, the first-touch SLA, warnings and recycling, exactly as the Celery
workers run them, and prints what moved (or, with ``--dry-run``, what would move).

``--every`` keeps running, as beat would schedule it: the short tick every SECONDS and the
recycle sweep every five minutes. ``make run`` uses it when there is no Redis (no
Celery worker and beat), so that leads keep moving in the zero-setup demo too.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leads import circulation
from leads.models import LeadPool, RecycleRule


class Command(BaseCommand):
    help = ("Run routing, assignment, the first-touch SLA and recycling once and print what "
            "moved. --pool CODE limits it to one pool; --dry-run changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--pool", metavar="CODE", help="only this pool")
        parser.add_argument("--dry-run", action="store_true",
                            help="decide and report, write nothing")
        parser.add_argument("--every", type=int, metavar="SECONDS",
                            help="keep running: the tick every SECONDS, the sweep every 5 min")

    def handle(self, *args, pool=None, dry_run=False, every=None, **options):
        target = None
        if pool:
            target = LeadPool.objects.filter(code=pool).first()
            if target is None:
                raise CommandError(f"No pool with code {pool!r}.")
        if every:
            return self._loop(max(5, every), target)
        self._print(circulation.run_all(pool=target, dry_run=dry_run), target, dry_run)

    def _loop(self, every: int, target) -> None:
        import time

        from django.db import close_old_connections

        self.stdout.write(f"Running the rules every {every} s (Ctrl+C stops).")
        last_sweep = 0.0
        while True:
            started = time.monotonic()
            close_old_connections()
            try:
                report = circulation.tick(pool=target)
                if started - last_sweep >= 300:
                    report.merge(circulation.recycle_run(pool=target))
                    last_sweep = started
                if report.moved or report.warned:
                    self._print(report, target, False)
            except Exception as exc:  # a busy database now and then: try again next time
                self.stderr.write(f"run_rules: {exc.__class__.__name__}: {exc}")
            time.sleep(max(1.0, every - (time.monotonic() - started)))

    def _print(self, report, target, dry_run: bool) -> None:
        pools = {p.pk: p.code for p in LeadPool.objects.all()}
        rules = {r.pk: r.name for r in RecycleRule.objects.all()}
        users = dict(get_user_model().objects.filter(
            pk__in={user for _pool, user in report.assigned}).values_list("pk", "username"))
        write = self.stdout.write
        write(("Dry run: nothing was changed." if dry_run else "Rules ran.")
              + (f" Pool: {target.code}." if target else ""))
        write(f"routed: {sum(report.routed.values())}")
        for (source, to), count in sorted(report.routed.items()):
            write(f"  {pools.get(source)} -> {pools.get(to)}: {count}")
        write(f"assigned: {sum(report.assigned.values())}")
        for (pool_id, user_id), count in sorted(report.assigned.items()):
            write(f"  {pools.get(pool_id)} -> {users.get(user_id, user_id)}: {count}")
        waiting = {p: n for p, n in report.unassigned.items() if n}
        for pool_id, count in sorted(waiting.items()):
            write(f"  {pools.get(pool_id)}: {count} waiting, nobody eligible has room")
        write(f"reassigned (first-touch SLA): {sum(report.reassigned.values())}")
        for rule_id, count in sorted(report.reassigned.items()):
            write(f"  {rules.get(rule_id, rule_id)}: {count}")
        write(f"recycled: {sum(report.recycled.values())}"
              + (f" (to the dormant pool: {report.dormant})" if report.dormant else ""))
        for rule_id, count in sorted(report.recycled.items()):
            write(f"  {rules.get(rule_id, rule_id)}: {count}")
        write(f"warnings sent: {report.warned}")
        if report.paused or report.resumed:
            write(f"clocks paused (owner on leave): {report.paused}; resumed: {report.resumed}")
        if report.skipped_pools:
            write("busy (another run is assigning them): "
                  + ", ".join(pools.get(p, str(p)) for p in report.skipped_pools))
