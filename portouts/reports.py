"""CSV reports: local exports of the cache, and Telnyx's own reports downloaded when ready.

A report is a `Report` row plus a file in Django's default storage. The file is written
completely to a temporary name first and only then saved under its final name, and the
row becomes "completed" only after that save: a worker killed half-way leaves a
"running" report (failed later by housekeeping) and never a half file offered for
download.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import NotSupportedError, connections, transaction
from django.db.models import Case, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone

from portouts.models import PortOut, Report
from portouts.telnyx import APIError, NotFoundError, PortoutReport, TelnyxClient, get_client

logger = logging.getLogger(__name__)

#: Rows fetched from the database per round trip while exporting.
CHUNK_SIZE = 2000
#: Progress (rows_done, heartbeat_at) is written to the report every this many rows.
PROGRESS_EVERY = 2000
#: Every column of the cache except `raw` (the API object the other columns come from).
EXPORT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in PortOut._meta.concrete_fields if f.name != "raw"
)
#: Query-string keys that are not filters (the list's page, rows per page).
NOT_FILTERS = frozenset({"page", "per_page"})
TELNYX_REPORT_TYPE = "export_portouts_csv"
LIST_SEPARATOR = ";"
PARTIAL_DIR = "reports/.partial"


class InvalidFilters(ValueError):
    """The saved filters no longer validate (a bad or hand-edited query string)."""


# Settings, read at call time ------------------------------------------------------------


def retention() -> timedelta:
    return timedelta(days=getattr(settings, "REPORT_RETENTION_DAYS", 7))


def telnyx_timeout() -> timedelta:
    return timedelta(minutes=getattr(settings, "REPORT_TELNYX_TIMEOUT_MINUTES", 30))


def stale_after() -> timedelta:
    return timedelta(minutes=getattr(settings, "REPORT_STALE_MINUTES", 10))


# Filters ---------------------------------------------------------------------------------


def filters_from_query(query: str) -> dict[str, list[str]]:
    """The list's query string as a dict of lists (empty values and paging dropped)."""
    data = QueryDict(query.lstrip("?"))
    filters: dict[str, list[str]] = {}
    for key in data:
        if key in NOT_FILTERS:
            continue
        values = [v for v in data.getlist(key) if v.strip()]
        if values:
            filters[key] = values
    return filters


def filter_labels(filters: Mapping[str, Any]) -> list[str]:
    """Filters as short "name = value" lines for the reports page."""
    labels = []
    for key, value in filters.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
        labels.append(f"{key} = {shown}")
    return labels


def _query_dict(filters: Mapping[str, Iterable[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in filters.items():
        data.setlist(key, [str(v) for v in values])
    return data


def filter_errors(filters: Mapping[str, Iterable[str]]) -> str:
    """The filters' validation errors as one plain sentence, or "" when they are valid."""
    from portouts.filters import PortOutFilter

    filterset = PortOutFilter(data=_query_dict(filters), queryset=PortOut.objects.none())
    if filterset.is_valid():
        return ""
    parts = []
    for name, errors in filterset.errors.items():
        field = filterset.form.fields.get(name)
        label = field.label if field is not None and field.label else name
        parts.append(f"{label}: {' '.join(str(e) for e in errors)}")
    return "; ".join(parts)


def filtered_portouts(filters: Mapping[str, Iterable[str]]) -> QuerySet[PortOut]:
    """Exactly what the port-out list shows for these filters, in the list's order."""
    from portouts.filters import PortOutFilter

    filterset = PortOutFilter(data=_query_dict(filters), queryset=PortOut.objects.present())
    if not filterset.is_valid():
        raise InvalidFilters(f"The filters are not valid ({filter_errors(filters)}).")
    return filterset.qs


# CSV writing -----------------------------------------------------------------------------


_FLAGS: dict[Any, str] = {False: "false", True: "true", None: ""}


def _join_json(text: str | None) -> str:
    """A JSON list (phone numbers, LSR links) as one cell: values joined with ";"."""
    if not text or text == "[]":
        return ""
    if text.startswith('["') and text.endswith('"]') and "\\" not in text:
        # A list of plain strings (no escapes): split it without decoding. Each string
        # brings exactly two quotes, so a mismatch means other values: decode instead.
        parts = text[2:-2].split('", "')
        if text.count('"') == 2 * len(parts):
            return LIST_SEPARATOR.join(parts)
    value = json.loads(text)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return "" if value is None else str(value)


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _flag(value: Any) -> str:
    return _FLAGS[value]


class IsoDateTimeText(Func):
    """A UTC datetime column as ISO 8601 text ("2025-03-01T12:00:00+00:00"), made by the
    database so that no value is parsed and formatted again in Python."""

    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite stores UTC datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return self.as_sql(
            compiler, connection, template="replace(%(expressions)s, ' ', 'T') || '+00:00'"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Like Python's isoformat(): six digits of microseconds when there are any
        # (PostgreSQL's own text drops trailing zeros: "12:00:00.5").
        sql, params = compiler.compile(self.source_expressions[0])
        utc = f"(({sql}) AT TIME ZONE 'UTC')"
        template = (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' "
            f"ELSE to_char({utc}, '.US') END || '+00:00'"
        )
        return template, tuple(params) * template.count(utc)


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text columns Telnyx itself formats (E.164 numbers start with "+"), left as they are.
FORMULA_SAFE_FIELDS = frozenset({"id", "first_number", "status", "country_code"})


def neutralize_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading apostrophe so it shows as
    text. End-user names, PONs and reasons come from the gaining carrier."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeText(Func):
    """The database's version of neutralize_formula, so SQL-built lines get it too."""

    output_field = TextField()

    def _guarded(self, compiler: Any, starts: str) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        c = f"({sql})"
        quote = "''''"  # SQL for the text "'"
        template = f"CASE WHEN {starts.format(c=c)} THEN {quote} || {c} ELSE {c} END"
        return template, tuple(params) * 3

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # One GLOB over a constant pattern: cheaper per row than substr() IN (...).
        return self._guarded(compiler, "{c} GLOB ('[-=+@' || char(9, 13) || ']*')")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._guarded(compiler, "substr({c}, 1, 1) IN ('=', '+', '-', '@', chr(9), chr(13))")


class JsonListText(Func):
    """A JSON list column as its values joined with ";", made by the database.

    PostgreSQL keeps the order explicitly (WITH ORDINALITY). SQLite splits the JSON text
    of a list of plain strings (no escapes: each value brings exactly two quotes, checked)
    with string functions, which keeps the order; anything else goes through json_each.
    """

    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        c = f"({sql})"
        quotes = f"(length({c}) - length(replace({c}, '\"', '')))"
        separators = f"((length({c}) - length(replace({c}, '\", \"', ''))) / 4)"
        template = (
            f"CASE WHEN {c} IS NULL OR {c} = '[]' THEN '' "
            f"WHEN substr({c}, 1, 2) = '[\"' AND substr({c}, -2) = '\"]' "
            f"AND instr({c}, char(92)) = 0 "
            f"AND {quotes} = 2 * ({separators} + 1) "
            f"THEN replace(substr({c}, 3, length({c}) - 4), '\", \"', '{LIST_SEPARATOR}') "
            f"WHEN json_type({c}) = 'array' "
            f"THEN (SELECT group_concat(value, '{LIST_SEPARATOR}') FROM json_each({c})) "
            f"ELSE json_extract({c}, '$') END"
        )
        return template, tuple(params) * template.count(c)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        c = f"({sql})::jsonb"
        template = (
            f"CASE jsonb_typeof({c}) WHEN 'array' THEN coalesce((SELECT string_agg(t.v, "
            f"'{LIST_SEPARATOR}' ORDER BY t.n) FROM jsonb_array_elements_text({c}) "
            f"WITH ORDINALITY AS t(v, n)), '') WHEN 'null' THEN '' ELSE {c} #>> '{{}}' END"
        )
        return template, tuple(params) * template.count(c)


#: Vendors where IsoDateTimeText and JsonListText have SQL; elsewhere Python converts.
SQL_TEXT_VENDORS = frozenset({"sqlite", "postgresql"})


@dataclass(frozen=True)
class ExportColumn:
    """One column of the export: what the query selects and how it becomes a cell."""

    #: What values_list selects for it.
    expression: Any
    #: Turns the selected value into the cell's value in Python (None: nothing to do).
    convert: Callable[[Any], Any] | None = None
    #: Its text can contain a comma, a quote or a line break (so it may need quoting);
    #: numbers, true/false and ISO datetimes never do.
    quotable: bool = True


def export_columns(fields: tuple[str, ...], *, vendor: str) -> list[ExportColumn]:
    """The columns of the export for this database.

    Django's per-value converters (JSON decoding, and on SQLite datetime parsing) cost
    more than the rest of the export, so the database hands over text ready to write:
    datetimes in ISO 8601, booleans as true/false, JSON lists joined with ";".
    """
    columns = []
    for name in fields:
        internal = PortOut._meta.get_field(name).get_internal_type()
        if internal == "JSONField" and vendor in SQL_TEXT_VENDORS:
            columns.append(ExportColumn(JsonListText(name)))
        elif internal == "JSONField":
            columns.append(ExportColumn(Cast(name, TextField()), convert=_join_json))
        elif internal == "DateTimeField" and vendor in SQL_TEXT_VENDORS:
            columns.append(ExportColumn(IsoDateTimeText(name), quotable=False))
        elif internal == "DateTimeField":
            columns.append(ExportColumn(name, convert=_when, quotable=False))
        elif internal == "BooleanField":
            flag = Case(When(**{name: True}, then=Value("true")), default=Value("false"))
            columns.append(ExportColumn(flag, quotable=False))
        elif internal in NUMBER_FIELDS:
            columns.append(ExportColumn(name, quotable=False))
        elif name in FORMULA_SAFE_FIELDS:
            columns.append(ExportColumn(name))
        elif vendor in SQL_TEXT_VENDORS:
            columns.append(ExportColumn(FormulaSafeText(name)))
        else:
            columns.append(ExportColumn(name, convert=neutralize_formula))
    return columns


NUMBER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallAutoField",
        "SmallIntegerField",
    }
)


class CsvLine(Func):
    """Columns as one CSV line, made by the database exactly as csv.writer writes it.

    csv.writer's defaults: a cell is quoted only when it contains a comma, a quote, CR
    or LF, quotes inside are doubled, NULL is an empty cell and the line ends with CRLF.
    Python then only joins lines and writes them, instead of formatting every cell.
    One format() call builds the line (NULL gives an empty string for %s): cheaper than
    a chain of ||. SQLite only: on PostgreSQL the same SQL measured slower than fetching
    the columns into csv.writer (bench/export_csv.py).
    """

    output_field = TextField()
    #: Whether the text {c} contains the character {char}.
    contains = {"sqlite": "instr({c}, {char})"}
    #: A GLOB pattern: the text holds a character that makes csv.writer quote a cell
    #: (comma, quote, LF, CR).
    any_special = {"sqlite": "('*[,\"' || char(10, 13) || ']*')"}
    backslash = {"sqlite": "char(92)"}
    crlf = {"sqlite": "char(13, 10)"}

    def __init__(self, columns: list[ExportColumn]) -> None:
        super().__init__(*(column.expression for column in columns))
        self.quotable = [column.quotable for column in columns]

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("CSV lines are made in SQL on SQLite only.")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        vendor = connection.vendor
        cells = []
        params: list[Any] = []
        for expression, quotable in zip(self.source_expressions, self.quotable, strict=True):
            sql, cell_params = compiler.compile(expression)
            if not quotable:
                cells.append(f"({sql})")
                params.extend(cell_params)
                continue
            cell, quoted_params = self._quoted(f"({sql})", list(cell_params), vendor)
            if isinstance(expression, JsonListText):
                # A list's text is dear to make, and the full check reads it six times.
                # Its JSON tells cheaply when it needs no quotes: without a backslash (no
                # escapes) no value holds a quote, CR or LF, so only a comma inside a
                # value (not a '", "' between values) can call for quotes.
                raw_sql, raw_params = compiler.compile(expression.source_expressions[0])
                raw = f"({raw_sql})"
                in_values = f"replace({raw}, '\", \"', '')"
                cell = (
                    f"CASE WHEN {self.contains[vendor].format(c=raw, char=self.backslash[vendor])} "
                    f"OR {self.contains[vendor].format(c=in_values, char="','")} "
                    f"THEN {cell} ELSE ({sql}) END"
                )
                quoted_params = [*raw_params, *raw_params, *quoted_params, *cell_params]
            cells.append(cell)
            params.extend(quoted_params)
        # "%%s": Django turns "%s" into a placeholder and "%%" into "%".
        template = ",".join(["%%s"] * len(cells))
        return f"format('{template}' || {self.crlf[vendor]}, {', '.join(cells)})", params

    def _needs_quotes(self, c: str, params: list[Any], vendor: str) -> tuple[str, list[Any]]:
        # One GLOB over a constant pattern reads the cell once, where an instr() per
        # special character would read (and, for a computed cell, compute) it four times.
        return f"{c} GLOB {self.any_special[vendor]}", params

    def _quoted(self, c: str, params: list[Any], vendor: str) -> tuple[str, list[Any]]:
        """The cell, quoted (quotes inside doubled) when it needs to be."""
        needs, needs_params = self._needs_quotes(c, params, vendor)
        sql = f"CASE WHEN {needs} THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE {c} END"
        return sql, needs_params + params + params


#: Vendors where the database writes the CSV lines (CsvLine).
CSV_LINE_VENDORS = frozenset({"sqlite"})


def _csv_line(values: Iterable[Any]) -> bytes:
    """One CSV line exactly as csv.writer writes it, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode("utf-8")


def write_csv(
    queryset: QuerySet[PortOut],
    out: BinaryIO,
    *,
    fields: tuple[str, ...] = EXPORT_FIELDS,
    on_progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
    fast: bool = True,
) -> int:
    """Write the queryset as UTF-8 CSV to a binary file, streaming; return the row count.

    The bytes are what csv.writer writes whichever way they are made. On SQLite,
    fetching some thirty Python values per row and formatting them caps the export, so
    the database builds each CSV line and Python only joins and writes them; other
    backends (PostgreSQL included, where that measured slower), or `fast=False`, stream
    the values into csv.writer. Memory stays flat whatever the size: rows come in
    chunks and go straight to the file. `on_progress(rows_done)` is called after every
    `every` rows.
    """
    out.write(_csv_line(fields))
    vendor = connections[queryset.db].vendor
    columns = export_columns(fields, vendor=vendor)
    if fast and vendor in CSV_LINE_VENDORS:
        return _write_lines(queryset, columns, out, on_progress=on_progress, every=every)
    return _write_with_csv_writer(queryset, columns, out, on_progress=on_progress, every=every)


def _write_lines(
    queryset: QuerySet[PortOut],
    columns: list[ExportColumn],
    out: BinaryIO,
    *,
    on_progress: Callable[[int], None] | None,
    every: int,
) -> int:
    """Lines made by the database (CsvLine), fetched in chunks, joined and written."""
    connection = connections[queryset.db]
    query = queryset.values_list(CsvLine(columns)).query
    try:
        sql, params = query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (e.g. an empty "in")
        return 0
    done = reported = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK_SIZE):
            # The line is the first column (DISTINCT adds the ORDER BY columns after it).
            out.write("".join([row[0] for row in batch]).encode("utf-8"))
            done += len(batch)
            if on_progress is not None and done - reported >= every:
                on_progress(done)
                reported = done
    return done


def _write_with_csv_writer(
    queryset: QuerySet[PortOut],
    columns: list[ExportColumn],
    out: BinaryIO,
    *,
    on_progress: Callable[[int], None] | None,
    every: int,
) -> int:
    """Rows as tuples from a chunked iterator, written by csv.writer (any backend)."""
    rows: Iterator[Any] = queryset.values_list(*(column.expression for column in columns)).iterator(
        chunk_size=CHUNK_SIZE
    )
    converters = [(i, column.convert) for i, column in enumerate(columns) if column.convert]
    if converters:

        def convert(row: tuple[Any, ...]) -> list[Any]:
            cells = list(row)
            for index, func in converters:
                cells[index] = func(cells[index])
            return cells

        rows = map(convert, rows)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text)
        done = 0
        while True:
            # csv.writer.writerows runs in C; the batches only make room for progress reports.
            batch = list(islice(rows, every))
            if not batch:
                return done
            writer.writerows(batch)
            done += len(batch)
            if on_progress is not None and len(batch) == every:
                on_progress(done)
    finally:
        text.flush()
        text.detach()  # `out` belongs to the caller and stays open


# Saving files ----------------------------------------------------------------------------


class _FinishedFile(File):  # type: ignore[type-arg]
    """A complete temporary file: FileSystemStorage moves it into place (one rename)."""

    def __init__(self, path: str, name: str) -> None:
        super().__init__(open(path, "rb"), name=name)  # noqa: SIM115 (closed by the caller)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def _partial_dir() -> str:
    """Where files are written before they are complete.

    With file-system storage this is a folder inside it, so the final move is a rename on
    the same file system; other storages get the system's temporary folder.
    """
    try:
        folder = default_storage.path(PARTIAL_DIR)
    except NotImplementedError:
        return tempfile.gettempdir()
    os.makedirs(folder, exist_ok=True)
    return folder


@contextmanager
def _partial_file(suffix: str) -> Iterator[str]:
    fd, path = tempfile.mkstemp(dir=_partial_dir(), prefix="report-", suffix=suffix)
    os.close(fd)
    try:
        yield path
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _save_complete(path: str, name: str) -> str:
    """Save a finished temporary file under its final name in storage; return that name."""
    content = _FinishedFile(path, name=os.path.basename(name))
    try:
        return default_storage.save(name, content)
    finally:
        content.close()


def _final_name(report: Report, prefix: str) -> str:
    return f"reports/{prefix}-{timezone.now():%Y%m%d-%H%M%S}-{report.pk.hex[:8]}.csv"


def delete_report(*, report: Report) -> None:
    """Delete a report and its file (exports hold personal data: never leave the file)."""
    _delete_file(report.file.name)
    report.delete()


def _delete_file(name: str | None) -> None:
    if name:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not delete report file %s", name, exc_info=True)


# Local exports ---------------------------------------------------------------------------


def request_local_report(*, user: Any, query: str) -> Report:
    """Record a local export of the list as filtered by `query` and queue it.

    Raises InvalidFilters so the person sees what is wrong at once instead of a failed
    report later.
    """
    filters = filters_from_query(query)
    errors = filter_errors(filters)
    if errors:
        raise InvalidFilters(f"The filters are not valid ({errors}).")
    report = Report.objects.create(
        kind=Report.Kind.LOCAL,
        filters=filters,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        expires_at=timezone.now() + retention(),
    )
    _queue_export(report)
    return report


def _queue_export(report: Report) -> None:
    from portouts.tasks import export_report_task

    report_id = str(report.pk)

    def queue() -> None:
        try:
            export_report_task.delay(report_id)
        except Exception as exc:  # broker unreachable: say so on the report, not as a 500
            logger.error("Could not queue export %s: %s", report_id, type(exc).__name__)
            Report.objects.filter(pk=report_id, status=Report.Status.QUEUED).update(
                status=Report.Status.FAILED,
                finished_at=timezone.now(),
                error="The export could not be queued (the task broker is unreachable); retry it.",
            )

    transaction.on_commit(queue)


def run_local_export(*, report_id: str | uuid.UUID) -> Report | None:
    """Export one queued report; any failure marks it failed with a plain reason.

    Returns None when the report is gone or no longer waiting (already completed,
    failed by housekeeping, or expired), so a redelivered task does nothing.
    """
    now = timezone.now()
    claimed = Report.objects.filter(
        pk=report_id,
        kind=Report.Kind.LOCAL,
        status__in=[Report.Status.QUEUED, Report.Status.RUNNING],
    ).update(
        status=Report.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        rows_done=0,
        rows_total=None,
        error="",
    )
    if not claimed:
        return None
    report = Report.objects.get(pk=report_id)
    try:
        _export(report)
    except Exception as exc:
        logger.exception("Report %s failed", report.pk)
        _fail(report, _reason(exc))
    report.refresh_from_db()
    return report


def _export(report: Report) -> None:
    queryset = filtered_portouts(report.filters)
    total = queryset.count()
    Report.objects.filter(pk=report.pk).update(rows_total=total)

    def progress(done: int) -> None:
        Report.objects.filter(pk=report.pk).update(rows_done=done, heartbeat_at=timezone.now())

    with _partial_file(".csv.part") as path:
        with open(path, "wb") as out:
            done = write_csv(queryset, out, on_progress=progress)
        size = os.path.getsize(path)
        progress(done)
        name = _save_complete(path, _final_name(report, "portouts"))
    _complete(report, name=name, size=size, rows=done)


def _complete(report: Report, *, name: str, size: int, rows: int) -> None:
    updated = Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING).update(
        status=Report.Status.COMPLETED,
        file=name,
        size=size,
        rows_done=rows,
        rows_total=rows,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        error="",
    )
    if not updated:
        # Failed (stalled) or deleted meanwhile: the file is nobody's.
        _delete_file(name)


def _fail(report: Report, reason: str) -> None:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def _reason(exc: BaseException) -> str:
    """A sentence a person can act on; never a secret (the client redacts its key)."""
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, InvalidFilters):
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The export took longer than the time limit and was stopped."
    if isinstance(exc, APIError):
        return str(exc)
    text = str(exc) or exc.__class__.__name__
    return f"The export failed: {text}"


def retry_report(*, report: Report, client: TelnyxClient | None = None) -> Report:
    """Start a failed report again (local: queue a new export; Telnyx: ask or poll again)."""
    if report.status != Report.Status.FAILED:
        raise ValueError("Only a failed report can be retried.")
    _delete_file(report.file.name)
    now = timezone.now()
    report.file = ""  # type: ignore[assignment]
    report.size = None
    report.rows_done = 0
    report.rows_total = None
    report.error = ""
    report.finished_at = None
    report.expires_at = now + retention()
    if report.kind == Report.Kind.LOCAL:
        report.status = Report.Status.QUEUED
        report.started_at = None
        report.save()
        _queue_export(report)
        return report
    if report.telnyx_report_id:
        # Telnyx already has the report: check it again, with a fresh time limit.
        report.status = Report.Status.RUNNING
        report.started_at = now
        report.heartbeat_at = now
        report.save()
        return report
    report.save()
    return _submit_telnyx_report(report, client=client)


# Telnyx reports --------------------------------------------------------------------------


def telnyx_filters(
    *,
    status_in: Iterable[str] = (),
    created_after: date | datetime | None = None,
    created_before: date | datetime | None = None,
    phone_numbers: Iterable[str] = (),
    end_user_name: str = "",
    customer_references: Iterable[str] = (),
) -> dict[str, Any]:
    """The filters of an `export_portouts_csv` report, in the API's names (empty ones left out)."""
    filters: dict[str, Any] = {}
    if statuses := [s for s in status_in if s]:
        filters["status__in"] = statuses
    if created_after is not None:
        filters["created_at__gt"] = _api_time(created_after)
    if created_before is not None:
        filters["created_at__lt"] = _api_time(created_before, end=True)
    if numbers := [n for n in phone_numbers if n]:
        filters["phone_numbers__overlaps"] = numbers
    if end_user_name.strip():
        filters["end_user_name"] = end_user_name.strip()
    if refs := [r for r in customer_references if r]:
        filters["customer_reference__in"] = refs
    return filters


def _api_time(value: date | datetime, *, end: bool = False) -> str:
    if not isinstance(value, datetime):
        # A day: from its start, or up to its end (the next day's start, exclusive).
        day = value + timedelta(days=1) if end else value
        value = datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_telnyx_report(
    *, user: Any, filters: Mapping[str, Any], client: TelnyxClient | None = None
) -> Report:
    """Ask Telnyx for an `export_portouts_csv` report and record it.

    A Telnyx error does not raise: the report is saved as failed with Telnyx's message
    in `error`, so the page can show it and the person can retry.
    """
    report = Report.objects.create(
        kind=Report.Kind.TELNYX,
        filters=dict(filters),
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        expires_at=timezone.now() + retention(),
    )
    return _submit_telnyx_report(report, client=client)


def _submit_telnyx_report(report: Report, *, client: TelnyxClient | None) -> Report:
    client = client or get_client()
    now = timezone.now()
    try:
        remote = client.create_report(filters=report.filters, report_type=TELNYX_REPORT_TYPE)
    except APIError as exc:
        report.status = Report.Status.FAILED
        report.error = f"Telnyx did not create the report: {exc}"
        report.finished_at = now
        report.save()
        return report
    report.telnyx_report_id = remote.id or ""
    report.status = Report.Status.RUNNING
    report.started_at = now
    report.heartbeat_at = now
    report.error = ""
    if not report.telnyx_report_id:
        report.status = Report.Status.FAILED
        report.error = "Telnyx accepted the report but returned no id to follow it by."
        report.finished_at = now
    report.save()
    return report


@dataclass
class PollResult:
    checked: int = 0
    completed: int = 0
    failed: int = 0
    pending: int = 0


def poll_telnyx_reports(
    *, client: TelnyxClient | None = None, now: datetime | None = None
) -> PollResult:
    """Check every pending Telnyx report; download finished ones, fail those too slow."""
    client = client or get_client()
    result = PollResult()
    pending = Report.objects.filter(kind=Report.Kind.TELNYX, status=Report.Status.RUNNING).exclude(
        telnyx_report_id=""
    )
    for report in pending:
        result.checked += 1
        outcome = _poll_one(report, client=client, now=now or timezone.now())
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _poll_one(report: Report, *, client: TelnyxClient, now: datetime) -> str:
    timed_out = report.started_at is not None and now - report.started_at > telnyx_timeout()
    try:
        remote = client.get_report(report.telnyx_report_id)
    except NotFoundError:
        _fail(report, "Telnyx no longer has this report.")
        return "failed"
    except APIError as exc:
        if timed_out:
            _fail(report, f"Telnyx could not be asked about the report in time: {exc}")
            return "failed"
        Report.objects.filter(pk=report.pk).update(error=f"Last check failed: {exc}")
        return "pending"
    if remote.is_completed and remote.document_id:
        return "completed" if download_telnyx_report(report, remote, client=client) else "failed"
    if timed_out:
        minutes = int(telnyx_timeout().total_seconds() // 60)
        _fail(report, f"Telnyx did not finish the report within {minutes} minutes.")
        return "failed"
    Report.objects.filter(pk=report.pk).update(heartbeat_at=now, error="")
    return "pending"


def download_telnyx_report(
    report: Report, remote: PortoutReport, *, client: TelnyxClient | None = None
) -> bool:
    """Stream a completed Telnyx report's document into storage; True when it is saved."""
    client = client or get_client()
    document_id = remote.document_id or ""
    Report.objects.filter(pk=report.pk).update(telnyx_document_id=document_id)
    try:
        with _partial_file(".csv.part") as path:
            with open(path, "wb") as out, client.stream_document(document_id) as chunks:
                for chunk in chunks:
                    out.write(chunk)
            size = os.path.getsize(path)
            rows = _count_csv_rows(path)
            name = _save_complete(path, _final_name(report, "telnyx"))
    except APIError as exc:
        _fail(report, f"Downloading the report from Telnyx failed: {exc}")
        return False
    _complete(report, name=name, size=size, rows=rows)
    return True


def _count_csv_rows(path: str) -> int:
    """Data rows of a CSV file (its header excluded), read as a stream."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        count = sum(1 for _ in csv.reader(f))
    return max(count - 1, 0)


@dataclass(frozen=True)
class TelnyxReportList:
    reports: list[PortoutReport]
    error: str = ""


def list_telnyx_reports(*, client: TelnyxClient | None = None, limit: int = 25) -> TelnyxReportList:
    """Telnyx's own report list, fetched live; a plain message when Telnyx cannot be reached."""
    try:
        client = client or get_client()
        page = client.list_reports_page(page_size=limit)
    except APIError as exc:
        return TelnyxReportList(reports=[], error=f"Telnyx's report list is unavailable: {exc}")
    return TelnyxReportList(reports=list(page.data))


# Housekeeping ----------------------------------------------------------------------------


@dataclass
class HousekeepingResult:
    expired: int = 0
    stalled: int = 0
    partials_removed: int = 0


def expire_reports(*, now: datetime | None = None) -> HousekeepingResult:
    """Delete reports (rows and files) past their expiry; fail exports that stopped."""
    now = now or timezone.now()
    result = HousekeepingResult()
    expired = Report.objects.filter(expires_at__lt=now).only("pk", "file")
    for report in expired.iterator(chunk_size=500):
        delete_report(report=report)
        result.expired += 1
    result.stalled = fail_stalled_exports(now=now)
    result.partials_removed = _remove_old_partials(now=now)
    return result


def fail_stalled_exports(*, now: datetime | None = None) -> int:
    """Mark failed the local exports that showed no progress for REPORT_STALE_MINUTES.

    Their worker died (killed, out of memory, machine restarted), or none ever took the
    task; the person can retry.
    """
    now = now or timezone.now()
    limit = stale_after()
    minutes = int(limit.total_seconds() // 60)
    stalled = Report.objects.filter(
        kind=Report.Kind.LOCAL, status=Report.Status.RUNNING, heartbeat_at__lt=now - limit
    ).update(
        status=Report.Status.FAILED,
        finished_at=now,
        error=(
            f"The export stopped making progress for {minutes} minutes "
            "(its worker was probably stopped); retry it."
        ),
    )
    # Queued but never picked up (the task message was lost): fail it, so it can be retried
    # and the reports page stops waiting for it.
    never_started = Report.objects.filter(
        kind=Report.Kind.LOCAL, status=Report.Status.QUEUED, created_at__lt=now - limit
    ).update(
        status=Report.Status.FAILED,
        finished_at=now,
        error=f"No worker started the export within {minutes} minutes; retry it.",
    )
    return stalled + never_started


def _remove_old_partials(*, now: datetime) -> int:
    """Delete temporary files left by killed workers (older than the stalled limit)."""
    try:
        folder = default_storage.path(PARTIAL_DIR)
    except NotImplementedError:
        return 0
    if not os.path.isdir(folder):
        return 0
    cutoff = (now - stale_after()).timestamp()
    removed = 0
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name.startswith("report-") and entry.stat().st_mtime < cutoff:
            os.unlink(entry.path)
            removed += 1
    return removed
