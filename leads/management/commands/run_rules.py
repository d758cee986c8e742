"""``manage.py run_rules [--pool CODE] [--dry-run]``: run the rule engine once.

Routing, assignment, the first-touch SLA, warnings and recycling, exactly as the Celery
workers run them, and prints what moved (or, with ``--dry-run``, what would move). Beat
schedules the same work (``leads.engine_tick``, ``leads.recycle_sweep``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leads.models import LeadPool, RecycleRule

from ...pools.runs import run_all


class Command(BaseCommand):
    help = ("Run routing, assignment, the first-touch SLA and recycling once and print what "
            "moved. --pool CODE limits it to one pool; --dry-run changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--pool", metavar="CODE", help="only this pool")
        parser.add_argument("--dry-run", action="store_true",
                            help="decide and report, write nothing")

    def handle(self, *args, pool=None, dry_run=False, **options):
        target = None
        if pool:
            target = LeadPool.objects.filter(code=pool).first()
            if target is None:
                raise CommandError(f"No pool with code {pool!r}.")
        self._print(run_all(pool=target, dry_run=dry_run), target, dry_run)

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
