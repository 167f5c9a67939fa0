"""Customer records from CSV: the one import used by the admin and `import_customers`.

The columns (a header row is required; order is free; only `account_number` and `name`
must be present): CSV_COLUMNS. Rows are matched to existing customers by
`account_number`, so importing a file again updates those customers.

A file is imported whole or not at all: unknown or repeated columns refuse the file; a row
repeating an account number or customer reference of an earlier row, or with a malformed
e-mail, phone number (E.164) or date, or a reference another customer already has, is
refused with its row number and the reason; one refused row means nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import resources

from portouts.models import Customer

CSV_COLUMNS = (
    "account_number",
    "name",
    "service_address",
    "city",
    "state",
    "zip",
    "contact_name",
    "contact_email",
    "contact_phone",
    "customer_reference",
    "notes",
    "portout_freeze_until",
)
REQUIRED_COLUMNS = ("account_number", "name")


class CustomerResource(resources.ModelResource):
    """CSV rows as Customer records (used by the admin's import with its preview, too)."""

    class Meta:
        model = Customer
        fields = CSV_COLUMNS
        import_id_fields = ("account_number",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        """Refuse a file whose columns are unknown, repeated or short of the required ones."""
        headers = [str(h or "").strip().lstrip("\ufeff") for h in (dataset.headers or [])]
        dataset.headers = headers
        self._first_row: dict[tuple[str, str], int] = {}
        problems = []
        if unknown := [h for h in headers if h not in CSV_COLUMNS]:
            problems.append(f"unknown column(s) {', '.join(repr(h) for h in unknown)}")
        if repeated := sorted({h for h in headers if headers.count(h) > 1}):
            problems.append(f"repeated column(s) {', '.join(repeated)}")
        if missing := [h for h in REQUIRED_COLUMNS if h not in headers]:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if problems:
            raise ValueError(
                f"The file has {'; '.join(problems)}. The columns are: {', '.join(CSV_COLUMNS)}."
            )

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a row repeating the account number or customer reference of an earlier row."""
        number = kwargs.get("row_number", 0)
        errors: dict[str, str] = {}
        for column in ("account_number", "customer_reference"):
            value = str(row.get(column) or "").strip()
            if not value:
                continue
            first = self._first_row.setdefault((column, value), number)
            if first != number:
                errors[column] = f"{value} is already on row {first} of this file."
        if errors:
            raise ValidationError(errors)


@dataclass
class ImportReport:
    """What an import did, or would do (`dry_run`): counts, and every error as a sentence."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _row_sentences(number: int, error: ValidationError) -> list[str]:
    try:
        by_field = error.message_dict
    except AttributeError:
        by_field = {NON_FIELD_ERRORS: error.messages}
    return [
        f"Row {number}: {'' if name == NON_FIELD_ERRORS else name + ': '}{message}"
        for name, messages in by_field.items()
        for message in messages
    ]


def customers_import(text: str, *, dry_run: bool = False) -> ImportReport:
    """Import customers from CSV text, all rows or none; `dry_run` only reports."""
    report = ImportReport()
    try:
        dataset = tablib.Dataset().load(text, format="csv")
    except Exception as exc:  # noqa: BLE001 - tablib raises several kinds for a bad file
        report.errors.append(f"The file is not a CSV file tablib can read ({exc}).")
        return report
    if not dataset.headers:
        report.errors.append("The file is empty: it needs a header row and customer rows.")
        return report
    result = CustomerResource().import_data(
        dataset, dry_run=dry_run, raise_errors=False, rollback_on_validation_errors=True
    )
    report.rows = result.total_rows
    if result.base_errors:
        report.errors = [str(e.error) for e in result.base_errors]
        return report
    for number, errors in result.row_errors():
        report.errors.extend(f"Row {number}: {e.error}" for e in errors)
    for invalid in result.invalid_rows:
        report.errors.extend(_row_sentences(invalid.number, invalid.error))
    report.new = result.totals["new"]
    report.updated = result.totals["update"]
    report.unchanged = result.totals["skip"]
    report.imported = not dry_run and report.ok
    return report
