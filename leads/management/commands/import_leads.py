from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm_site.lib.imports.reading import ImportFileError, read_table
from leads.imports.lead_kind import run_import
from leads.imports.lead_rows import guess_mapping
from leads.models import LeadPool
from leads.models_intake import ImportMapping


class Command(BaseCommand):
    help = ("Import leads from a CSV or XLSX file into a pool; prints accepted / merged / "
            "skipped / rejected counts. Re-running the same file adds nothing twice.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--pool", required=True, help="pool code, e.g. master")
        parser.add_argument("--channel", default="file_import", help="channel dictionary code")
        parser.add_argument("--mapping", help="name of a saved import mapping")
        parser.add_argument("--merge", action="store_true",
                            help="merge duplicates into the existing lead instead of skipping")
        parser.add_argument("--rejects", help="write rejected rows to this CSV file")

    def handle(self, *args, path, pool, channel, mapping=None, merge=False, rejects=None,
               **options):
        pool_obj = LeadPool.objects.filter(code=pool).first()
        if pool_obj is None:
            raise CommandError(f"No pool with code {pool!r}.")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            table = read_table(file.read_bytes(), file.name)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        name_template, empty = "", None
        if mapping:
            saved = ImportMapping.objects.filter(name=mapping).first()
            if saved is None:
                raise CommandError(f"No saved mapping named {mapping!r}.")
            columns, name_template = saved.mapping, saved.name_template
            empty = saved.empty_markers or None
        else:
            columns = guess_mapping(table.headers)
        counts = run_import(table=table, pool=pool_obj, channel=channel, mapping=columns,
                            actor=None, merge=merge, name_template=name_template,
                            empty_markers=empty)
        if counts.accepted:
            # Route and assign the newcomers as any arrival would be.
            from leads.circulation import schedule_arrivals

            schedule_arrivals([pool_obj.pk])
        self.stdout.write(
            f"rows: {counts.total}  accepted: {counts.accepted}  merged: {counts.merged}  "
            f"skipped: {counts.skipped}  rejected: {counts.rejected}")
        if rejects:
            import csv

            with open(rejects, "w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "reason"])
                writer.writerows([line, reason] for line, reason, _ in counts.rejects)
