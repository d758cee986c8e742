from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm_site.lib.imports.reading import ImportFileError, read_table
from crm_site.lib.imports.registry import all_kinds
from leads.imports.runner import import_table, resolve_mapping


class Command(BaseCommand):
    help = ("Import customers, contacts, opportunities, products or employees from a CSV or "
            "XLSX file; prints accepted / merged / rejected counts. Re-running the same file "
            "adds nothing twice. For the Maven CRM sample: --mapping maven, in the order "
            "products, employees (sales_teams.csv), customers (accounts.csv), opportunities "
            "(sales_pipeline.csv).")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(set(all_kinds()) - {"leads"}))
        parser.add_argument("path")
        parser.add_argument("--mapping", default="", help="name of a saved mapping, e.g. maven")
        parser.add_argument("--rejects", help="write rejected rows to this CSV file")

    def handle(self, *args, kind, path, mapping="", rejects=None, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            table = read_table(file.read_bytes(), file.name)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        try:
            columns = resolve_mapping(kind, table.headers, mapping)
        except LookupError as exc:
            raise CommandError(f"No saved mapping named {mapping!r} for {kind}.") from exc
        counts = import_table(kind, table=table, mapping=columns, mapping_name=mapping)
        line = (f"rows: {counts.total}  accepted: {counts.accepted}  merged: {counts.merged}  "
                f"skipped: {counts.skipped}  rejected: {counts.rejected}")
        if counts.created:
            line += "  also created: " + ", ".join(f"{k} {v}" for k, v in counts.created.items())
        self.stdout.write(line)
        for number, reason, _row in counts.rejects[:10]:
            self.stdout.write(f"  line {number}: {reason}")
        if rejects:
            import csv

            with open(rejects, "w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "reason"])
                writer.writerows([number, reason] for number, reason, _ in counts.rejects)
