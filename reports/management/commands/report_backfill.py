from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reports.snapshots import snapshot_backfill


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from error


class Command(BaseCommand):
    help = ("Write the daily snapshots (one row per rep per day) for a range of past days "
            "from the event log, oldest first. Safe to rerun: each day is replaced.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")

    def handle(self, *args, start, end, verbosity=1, **options):
        first, last = _date(start), _date(end)
        if last < first:
            raise CommandError("--to is before --from.")
        progress = (lambda day: self.stdout.write(f"{day}")) if verbosity > 1 else None
        rows = snapshot_backfill(start=first, end=last, progress=progress)
        days = (last - first).days + 1
        self.stdout.write(self.style.SUCCESS(f"{days} days, {rows} rows written."))
