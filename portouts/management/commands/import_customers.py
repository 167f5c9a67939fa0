"""`manage.py import_customers FILE.csv [--dry-run]`: customer records from CSV, all or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portouts.evidence.customers import customers_import


class Command(BaseCommand):
    help = "Import customer records from a CSV file (nothing is imported if a row is refused)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change; import nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        report = customers_import(text, dry_run=options["dry_run"])
        if not report.ok:
            for sentence in report.errors:
                self.stderr.write(sentence)
            raise CommandError(
                f"Nothing imported: {len(report.errors)} problem(s) in {path} (listed above)."
            )
        verb = "Imported" if report.imported else "Would import"
        self.stdout.write(
            f"{verb} {report.rows} row(s) from {path}: {report.new} new, "
            f"{report.updated} updated, {report.unchanged} unchanged."
        )
