"""CSV reports: local exports of the cache, and Telnyx's own reports downloaded when ready.

A report is a `Report` row plus a file in Django's default storage. The file is written
completely to a temporary name first and only then saved under its final name, and the
row becomes "completed" only after that save: a worker killed half-way leaves a
"running" report (failed later by housekeeping) and never a half file offered for
download.

Services are named `<entity>_<action>` and take keyword arguments; Telnyx failures and
failed exports never raise out of them but are stored on the report as a sentence.

The package, by concern (callers import from `portouts.reports` only):

* `local`: local exports: `report_request_local` (records and queues),
  `report_run_local_export` (the Celery task's work), `report_retry` (any failed report).
* `telnyx`: Telnyx reports: `telnyx_report_create`, `telnyx_reports_poll` (beat),
  `telnyx_report_download`, `telnyx_report_list` (Telnyx's own list, live).
* `housekeeping`: `reports_expire` (beat: expiry, then `reports_fail_stalled` and the
  temporary files of killed workers).
* `filters`: the list's query string saved on a local export, validated again when it runs.
* `columns` and `csv_writer`: the CSV engine. The columns are those of Telnyx's own report
  (`CSV_COLUMNS`), each one's text made by the database (`columns`); on SQLite the database
  also builds each CSV line, on PostgreSQL COPY writes the CSV, elsewhere csv.writer writes
  the rows (`csv_writer.write_csv`); the bytes are the same.
* `storage`: files: a temporary name, then one rename into place; downloads.
* `lifecycle`: the row's states shared by both kinds (recorded with its expiry, completed,
  failed, deleted with its file).
* `selectors`: what the reports page lists, filters in words (`report_filters_text`),
  Telnyx's list beside our copies (`telnyx_rows`).
* `errors`: exceptions and every sentence a person reads about a failed report.

Settings (portal/settings.py): REPORT_RETENTION_DAYS, REPORT_TELNYX_TIMEOUT_MINUTES,
REPORT_STALE_MINUTES, read when a service runs.
"""

from __future__ import annotations

from portouts.reports.columns import (
    CSV_COLUMNS,
    FORMULA_SAFE_FIELDS,
    ExportColumn,
    export_columns,
    neutralize_formula,
)
from portouts.reports.csv_writer import CHUNK_SIZE, PROGRESS_EVERY, csv_line, write_csv
from portouts.reports.errors import InvalidFilters, ReportFileUnavailable, ReportNotRetryable
from portouts.reports.filters import (
    describe_list_filters,
    filter_errors,
    filtered_portouts,
    filters_from_query,
)
from portouts.reports.housekeeping import HousekeepingResult, reports_expire, reports_fail_stalled
from portouts.reports.lifecycle import report_delete
from portouts.reports.local import report_request_local, report_retry, report_run_local_export
from portouts.reports.selectors import (
    ReportList,
    TelnyxRow,
    report_filters_text,
    report_list,
    telnyx_rows,
)
from portouts.reports.storage import PARTIAL_DIR, ReportFile, report_file_open
from portouts.reports.telnyx import (
    TELNYX_REPORT_TYPE,
    PollResult,
    TelnyxReportList,
    describe_telnyx_filters,
    telnyx_filters,
    telnyx_report_create,
    telnyx_report_download,
    telnyx_report_list,
    telnyx_reports_poll,
)

__all__ = [
    "CHUNK_SIZE",
    "CSV_COLUMNS",
    "FORMULA_SAFE_FIELDS",
    "PARTIAL_DIR",
    "PROGRESS_EVERY",
    "TELNYX_REPORT_TYPE",
    "ExportColumn",
    "HousekeepingResult",
    "InvalidFilters",
    "PollResult",
    "ReportFile",
    "ReportFileUnavailable",
    "ReportList",
    "ReportNotRetryable",
    "TelnyxRow",
    "TelnyxReportList",
    "csv_line",
    "export_columns",
    "filter_errors",
    "describe_list_filters",
    "describe_telnyx_filters",
    "filtered_portouts",
    "filters_from_query",
    "neutralize_formula",
    "report_delete",
    "report_file_open",
    "report_filters_text",
    "report_list",
    "report_request_local",
    "report_retry",
    "report_run_local_export",
    "reports_expire",
    "reports_fail_stalled",
    "telnyx_filters",
    "telnyx_report_create",
    "telnyx_report_download",
    "telnyx_report_list",
    "telnyx_reports_poll",
    "telnyx_rows",
    "write_csv",
]
