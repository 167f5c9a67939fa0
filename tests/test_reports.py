"""Reports: local CSV exports, Telnyx reports, the reports page, downloads, failures, expiry."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from portouts import reports
from portouts.filters import PortOutFilter
from portouts.models import PhoneNumber, PortOut, Report
from portouts.reports import csv_writer, local
from portouts.reports.columns import ExportColumn, FormulaSafeText, IsoDateTimeText, JsonListText
from portouts.reports.csv_writer import CsvLine
from tests.fixtures_client import page_json
from tests.fixtures_reports import BASE_TIME

pytestmark = pytest.mark.django_db


def read_csv(report: Report) -> list[list[str]]:
    with default_storage.open(report.file.name, "rb") as f:
        return list(csv.reader(io.StringIO(f.read().decode("utf-8"))))


def expected_ids(query: str) -> list[str]:
    """The ids the port-out list shows for this query string, in its order."""
    qs = PortOutFilter(data=QueryDict(query), queryset=PortOut.objects.present()).qs
    return list(qs.values_list("id", flat=True))


def stored_report_files() -> list[str]:
    if not default_storage.exists("reports"):
        return []
    _dirs, files = default_storage.listdir("reports")
    return files


def partial_files() -> list[str]:
    folder = default_storage.path(reports.PARTIAL_DIR)
    return os.listdir(folder) if os.path.isdir(folder) else []


# -- local export -----------------------------------------------------------------------


def test_export_writes_exactly_the_filtered_list_in_telnyxs_columns(
    reviewer_client, make_portouts, eager_tasks, django_capture_on_commit_callbacks
):
    make_portouts(40)
    PhoneNumber.objects.create(
        number="+13125550000", customer_reference="CUST-7", synced_at=BASE_TIME
    )
    PortOut.objects.filter(pk="po-000006").update(vanished_at=timezone.now())  # not listed
    query = "status_in=pending&status_in=ported&o=-created&page=2"
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(reverse("portouts:report_create"), {"query": query})
    assert response.status_code == 302
    assert response["Location"] == reverse("portouts:reports")

    report = Report.objects.get()
    assert report.kind == Report.Kind.LOCAL
    assert report.filters == {"status_in": ["pending", "ported"], "o": ["-created"]}
    assert report.status == Report.Status.COMPLETED, report.error
    assert report.expires_at is not None
    assert abs(report.expires_at - report.created_at - timedelta(days=7)) < timedelta(seconds=1)

    rows = read_csv(report)
    header, body = rows[0], rows[1:]
    assert tuple(header) == reports.CSV_COLUMNS
    assert not {"raw", "synced_at", "vanished_at", "details_synced_at"} & set(header)
    ids = [row[header.index("id")] for row in body]
    assert ids == expected_ids(query)
    assert len(ids) == 12  # 40 rows: 7 pending + 6 ported, one vanished
    assert "po-000006" not in ids
    assert report.rows_done == report.rows_total == 12
    assert report.size == default_storage.size(report.file.name)

    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    first = PortOut.objects.get(pk="po-000000")
    cells = by_id["po-000000"]
    assert cells["phone_numbers"] == " ".join(first.phone_numbers)
    assert cells["phone_numbers"] == "+13125550000 +13125560000"
    assert cells["reason"] == "Line 1\nline 2"  # newlines survive CSV quoting
    assert cells["service_address"] == first.service_address
    assert cells["created_at"] == "2025-03-01T12:00:00.000Z"
    assert cells["rejection_code"] == "1002"
    assert cells["customer_reference"] == "CUST-7"  # its first number's, in the inventory
    assert by_id["po-000012"]["customer_reference"] == ""  # a number the inventory lacks
    assert by_id["po-000012"]["rejection_code"] == "1002"
    assert by_id["po-000005"]["rejection_code"] == ""


def test_export_follows_the_list_ordering(make_portouts, reviewer, eager_tasks):
    make_portouts(12)
    for query in ("o=carrier", "o=-created", ""):
        report = reports.report_request_local(user=reviewer, query=query)
        reports.report_run_local_export(report_id=report.pk)
        report.refresh_from_db()
        ids = [row[0] for row in read_csv(report)[1:]]
        assert ids == expected_ids(query)
    assert expected_ids("o=carrier") != expected_ids("o=-created")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's CSV lines stream so")
def test_export_streams_in_chunks_with_constant_queries(make_portouts, reviewer, monkeypatch):
    """5,000 rows come from one query fetched in chunks (never all at once); progress is
    written while rows stream."""
    make_portouts(5000)
    report = reports.report_request_local(user=reviewer, query="")
    fetch_sizes: list[int] = []

    original_chunked_cursor = connection.chunked_cursor

    def spy_chunked_cursor():
        cursor = original_chunked_cursor()
        fetchmany = cursor.fetchmany

        def spy_fetchmany(size):
            fetch_sizes.append(size)
            return fetchmany(size)

        cursor.fetchmany = spy_fetchmany
        return cursor

    monkeypatch.setattr(connection, "chunked_cursor", spy_chunked_cursor)
    progress_seen: list[int] = []
    monkeypatch.setattr(local, "write_csv", _recording_write_csv(reports.write_csv, progress_seen))
    with statements() as executed:
        reports.report_run_local_export(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED, report.error
    assert report.rows_done == 5000
    assert len(read_csv(report)) == 5001
    # 2000 + 2000 + 1000 rows, then the empty fetch that ends the stream.
    assert fetch_sizes == [reports.CHUNK_SIZE] * 4
    portout_selects = [q for q in executed if '"portouts_portout"' in q and "SELECT" in q.upper()]
    # One COUNT for the progress bar and one streamed SELECT, whatever the row count.
    assert len(portout_selects) == 2, portout_selects
    assert any("COUNT(" in q.upper() for q in portout_selects)
    # Progress was stored every PROGRESS_EVERY rows while streaming.
    assert progress_seen == [2000, 4000]
    assert len(executed) < 15


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_postgresql_export_copies_in_ranges_with_progress_between(
    make_portouts, reviewer, monkeypatch
):
    """5,000 rows come from three COPY statements of 2,000 rows, in the list's order, with
    progress stored between them; the filters run once (into the table of ordinals)."""
    make_portouts(5000)
    monkeypatch.setattr(csv_writer, "COPY_RANGE", 2000)
    report = reports.report_request_local(user=reviewer, query="o=-created")
    progress_seen: list[int] = []
    monkeypatch.setattr(local, "write_csv", _recording_write_csv(reports.write_csv, progress_seen))
    with statements() as executed:
        reports.report_run_local_export(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED, report.error
    assert report.rows_done == 5000
    rows = read_csv(report)
    assert [row[0] for row in rows[1:]] == expected_ids("o=-created")
    assert progress_seen == [2000, 4000]
    keys = [q for q in executed if q.startswith("CREATE TEMPORARY TABLE portouts_export_keys")]
    assert len(keys) == 1
    assert len(executed) < 20  # the COPY statements go through psycopg's copy(), not execute


def test_csv_writer_fallback_streams_through_an_iterator(make_portouts):
    """Backends without CSV lines in SQL (and fast=False) stream values through csv.writer."""
    make_portouts(2500)
    chunk_sizes: list[int | None] = []
    original_iterator = QuerySet.iterator

    def spy_iterator(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return original_iterator(self, chunk_size=chunk_size)

    progress: list[int] = []
    out = io.BytesIO()
    with mock.patch.object(QuerySet, "iterator", spy_iterator):
        done = reports.write_csv(
            PortOut.objects.present(), out, on_progress=progress.append, fast=False
        )
    assert done == 2500
    assert chunk_sizes == [reports.CHUNK_SIZE]
    assert progress == [2000]
    assert len(list(csv.reader(io.StringIO(out.getvalue().decode())))) == 2501


def _cell(value: object, name: str = "") -> str:
    """A model value as the export's cell, worked out in Python (the reference)."""
    if isinstance(value, str) and name not in reports.FORMULA_SAFE_FIELDS:
        value = reports.neutralize_formula(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _values(portout: PortOut) -> dict[str, object]:
    """The export's columns of a port-out as model values (the customer reference from
    the inventory)."""
    owner = PhoneNumber.objects.filter(number=portout.first_number).first()
    values = {name: getattr(portout, name, None) for name in reports.CSV_COLUMNS}
    values["customer_reference"] = owner.customer_reference if owner else None
    return values


def _awkward_portouts(make_portouts) -> None:
    """Rows whose cells need every CSV rule: separators, quotes, CR/LF, empties, NULLs,
    escaped JSON, non-ASCII, microseconds."""
    make_portouts(30)
    PortOut.objects.filter(pk="po-000000").update(
        service_address="12 Main St, Suite 4",
        reason='Said "no"\r\nthen\rcalled back\n',
        end_user_name="",
        authorized_name=" leading and trailing ",
        city="Zürich",
        phone_numbers=["+1,312", 'quote"d', "back\\slash", "é", "tab\there"],
        rejection_code=None,
        foc_date=None,
        created_at=BASE_TIME + timedelta(microseconds=500000),
        updated_at=BASE_TIME + timedelta(seconds=1, microseconds=1),
    )
    PortOut.objects.filter(pk="po-000004").update(
        phone_numbers=['https://x.test/a?b=1,2&c="3"', ""],
        pon="",
        zip='"',
        state=",",
        city="\r\n",
        spid="lone\rCR",
        support_key="lone\nLF",
    )
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(number="+13125550004", customer_reference='-1, "x"', synced_at=BASE_TIME),
            PhoneNumber(number="+13125550005", customer_reference="CUST-5", synced_at=BASE_TIME),
        ]
    )


@pytest.mark.parametrize(
    "query", ["", "status_in=pending&status_in=ported&o=-created", "o=carrier"]
)
def test_csv_rows_equal_the_filtered_list_on_this_database(make_portouts, query):
    """Whichever backend runs the suite: the CSV the database writes parses back into
    exactly the filtered list, and is byte for byte what csv.writer writes."""
    _awkward_portouts(make_portouts)
    queryset = reports.filtered_portouts(reports.filters_from_query(query))
    fast, csv_writer = io.BytesIO(), io.BytesIO()
    assert reports.write_csv(queryset, fast) == queryset.count()
    assert reports.write_csv(queryset, csv_writer, fast=False) == queryset.count()
    assert fast.getvalue() == csv_writer.getvalue()

    rows = list(csv.reader(io.StringIO(fast.getvalue().decode("utf-8"), newline="")))
    names = reports.CSV_COLUMNS
    expected = [
        [_cell(value, name) for name, value in _values(portout).items()] for portout in queryset
    ]
    assert rows[0] == list(names)
    assert rows[1:] == expected
    assert [row[0] for row in rows[1:]] == expected_ids(query)


def test_export_has_telnyxs_columns_and_cells_for_port_outs_synced_from_the_sandbox(
    sandbox_settings, settings
):
    """Port-outs synced from the sandbox export as the sandbox's own report renders them
    (telnyx_sandbox.reports.render_csv, what export_portouts_csv serves): the same header
    and, row for row, the same cells. The one difference allowed is our formula guard,
    applied here to the sandbox's cells of the columns it guards."""
    from portouts import sync
    from portouts.telnyx import get_client
    from telnyx_sandbox.reports import CSV_COLUMNS, render_csv

    sandbox = sandbox_settings
    sandbox.state.create_portout(end_user_name='=HYPERLINK("x")', service_address='1 "A", B')
    settings.TELNYX_MAX_RETRIES = 0
    get_client.cache_clear()
    sync.run_full_sync(triggered_by="test")
    with sandbox.state.lock:
        theirs = render_csv(sorted(sandbox.state.portouts.values(), key=lambda po: po.id))
    ours = io.BytesIO()
    reports.write_csv(PortOut.objects.present().order_by("id"), ours)

    assert reports.CSV_COLUMNS == CSV_COLUMNS
    their_rows = list(csv.reader(io.StringIO(theirs.decode(), newline="")))
    our_rows = list(csv.reader(io.StringIO(ours.getvalue().decode(), newline="")))
    assert our_rows[0] == their_rows[0]
    assert len(our_rows) == len(their_rows) > 60
    guarded = [
        [
            cell if name in reports.FORMULA_SAFE_FIELDS else reports.neutralize_formula(cell)
            for name, cell in zip(CSV_COLUMNS, row, strict=True)
        ]
        for row in their_rows[1:]
    ]
    assert our_rows[1:] == guarded
    assert [row[7] for row in our_rows if row[7].startswith("'")] == ['\'=HYPERLINK("x")']
    assert sum(1 for row in our_rows[1:] if row[13]) > 50  # customer references filled in


def test_csv_quoting_is_csv_writers_minimal_quoting(make_portouts):
    """Quoted only when needed, quotes doubled, NULL and empty text as nothing, LF."""
    _awkward_portouts(make_portouts)
    out = io.BytesIO()
    reports.write_csv(PortOut.objects.filter(pk__in=["po-000000", "po-000004"]), out)
    data = out.getvalue()
    assert data.startswith(b"id,support_key,status,phone_numbers,")
    assert data.endswith(b"\n")
    assert data.count(b"\r\n") == 2  # one in a reason, one a city
    # Header and two rows; two LFs in po-000000's reason, one each in po-000004's reason
    # (from the fixture), city and support key.
    assert data.count(b"\n") == 3 + 2 + 3
    assert b',"lone\rCR",' in data
    assert b',"lone\nLF",' in data
    assert b'"+1,312 quote""d back\\slash \xc3\xa9 tab\there"' in data
    assert b',"12 Main St, Suite 4",' in data
    assert b',"Said ""no""\r\nthen\rcalled back\n",' in data
    assert b", leading and trailing ," in data
    assert b",Z\xc3\xbcrich," in data
    assert b',"https://x.test/a?b=1,2&c=""3"" ",' in data
    assert b',"""",' in data  # zip: a lone quote
    assert b',",",' in data  # state: a lone comma
    assert b',"\'\r\n",' in data  # city: starts with CR, so kept as text
    assert b',"\'-1, ""x""",' in data  # a customer reference that needs both
    assert b',"",' not in data  # empty text is an empty cell, never ""
    row = next(r for r in csv.reader(io.StringIO(data.decode(), newline="")) if r[0] == "po-000000")
    cells = dict(zip(reports.CSV_COLUMNS, row, strict=True))
    assert cells["created_at"] == "2025-03-01T12:00:00.500Z"
    assert cells["updated_at"] == "2025-03-01T12:00:01.000Z"  # truncated, as Telnyx does
    assert cells["foc_date"] == cells["rejection_code"] == cells["customer_reference"] == ""


def test_column_sql_binds_its_query_parameters_wherever_it_repeats_them(make_portouts):
    """A column expression holding query parameters (here Value()s) has them bound at
    every place the SQL uses it, on this database and in SQLite's CSV lines."""
    make_portouts(1)
    columns = [
        ExportColumn(FormulaSafeText(Concat(Value("=1+"), "pon", output_field=TextField()))),
        ExportColumn(JsonListText(Value('["+1,312", "x"]'))),
        ExportColumn(IsoDateTimeText(Value(BASE_TIME)), quotable=False),
    ]
    queryset = PortOut.objects.all()
    values = queryset.values_list(*(column.expression for column in columns)).get()
    assert values == ("'=1+PON00000", "+1,312 x", "2025-03-01T12:00:00.000Z")
    if connection.vendor == "sqlite":
        (line,) = queryset.values_list(CsvLine(columns)).get()
        assert line == '\'=1+PON00000,"+1,312 x",2025-03-01T12:00:00.000Z\n'


@pytest.mark.parametrize("fast", [True, False])
def test_a_filter_that_matches_nothing_writes_the_header_only(make_portouts, fast):
    make_portouts(3)
    out = io.BytesIO()
    assert reports.write_csv(PortOut.objects.filter(pk__in=[]), out, fast=fast) == 0
    assert out.getvalue() == (",".join(reports.CSV_COLUMNS) + "\n").encode()


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement run inside, server-side cursors included (PostgreSQL streams
    through one, which Django's query capture does not see)."""
    executed: list[str] = []

    def record(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield executed


def _recording_write_csv(write_csv, seen):
    def wrapper(queryset, out, **kwargs):
        on_progress = kwargs.pop("on_progress")

        def record(done):
            seen.append(done)
            on_progress(done)
            # The progress is on the record while the export is still running.
            row = Report.objects.values("rows_done", "status").get()
            assert row == {"rows_done": done, "status": Report.Status.RUNNING}

        return write_csv(queryset, out, on_progress=record, **kwargs)

    return wrapper


def test_invalid_filters_export_nothing_and_say_why(reviewer_client, make_portouts):
    make_portouts(3)
    response = reviewer_client.post(
        reverse("portouts:report_create"), {"query": "inserted_at_gte=yesterday"}, follow=True
    )
    assert not Report.objects.exists()
    text = response.content.decode()
    assert "Nothing was exported" in text
    assert "Created from" in text


def test_failing_export_is_marked_failed_and_retry_completes_it(
    reviewer_client, make_portouts, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    make_portouts(5)

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(local, "write_csv", broken)
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(reverse("portouts:report_create"), {"query": "status=pending"})
    report = Report.objects.get()
    assert report.status == Report.Status.FAILED
    assert report.error == "The export failed: No space left on device"
    assert not report.file
    assert stored_report_files() == []
    assert partial_files() == []

    page = reviewer_client.get(reverse("portouts:reports")).content.decode()
    assert "No space left on device" in page
    assert reverse("portouts:report_retry", args=[report.pk]) in page

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(reverse("portouts:report_retry", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED
    assert report.error == ""
    assert [row[0] for row in read_csv(report)[1:]] == expected_ids("status=pending")


def test_task_raising_is_recorded_on_the_report(make_portouts, reviewer, monkeypatch):
    """The Celery task itself records the reason (it does not raise into the worker)."""
    from portouts.tasks import export_report_task

    make_portouts(2)
    report = reports.report_request_local(user=reviewer, query="")
    monkeypatch.setattr(
        local, "filtered_portouts", mock.Mock(side_effect=RuntimeError("database went away"))
    )
    assert export_report_task.run(str(report.pk)) == Report.Status.FAILED
    report.refresh_from_db()
    assert report.error == "The export failed: database went away"


def test_worker_killed_mid_export_leaves_no_file_presented_as_complete(
    make_portouts, reviewer, monkeypatch
):
    """A worker dying (not an exception it can handle) leaves a running report, no file;
    housekeeping fails it once it shows no progress, and it can be retried."""
    make_portouts(2100)
    report = reports.report_request_local(user=reviewer, query="")

    class WorkerKilled(BaseException):
        pass

    def die_midway(done):
        raise WorkerKilled

    original = reports.write_csv
    monkeypatch.setattr(
        local, "write_csv", lambda qs, out, **kw: original(qs, out, on_progress=die_midway)
    )
    with pytest.raises(WorkerKilled):
        reports.report_run_local_export(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING
    assert not report.file
    assert stored_report_files() == []

    # Still within the limit: left alone.
    assert reports.reports_fail_stalled(now=timezone.now() + timedelta(minutes=5)) == 0
    result = reports.reports_expire(now=timezone.now() + timedelta(minutes=11))
    assert result.stalled == 1
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "stopped making progress for 10 minutes" in report.error
    # A redelivered task does not resurrect a report housekeeping has failed.
    monkeypatch.undo()
    assert reports.report_run_local_export(report_id=report.pk) is None

    reports.report_retry(report=report)
    reports.report_run_local_export(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED
    assert report.rows_done == 2100


def test_file_is_saved_under_its_final_name_only_when_complete(make_portouts, reviewer):
    make_portouts(3)
    report = reports.report_request_local(user=reviewer, query="")
    seen_during_write: list[list[str]] = []
    original = reports.write_csv

    def watching(qs, out, **kwargs):
        done = original(qs, out, **kwargs)
        seen_during_write.append(stored_report_files())
        assert len(partial_files()) == 1
        return done

    with mock.patch.object(local, "write_csv", watching):
        reports.report_run_local_export(report_id=report.pk)
    report.refresh_from_db()
    assert seen_during_write == [[]]
    assert stored_report_files() == [os.path.basename(report.file.name)]
    assert partial_files() == []


# -- the page, downloads, permissions -----------------------------------------------------


def test_reports_page_shows_each_state(reviewer_client, reviewer):
    now = timezone.now()
    Report.objects.create(kind="local", status="queued", requested_by=reviewer)
    Report.objects.create(
        kind="local", status="running", rows_done=500, rows_total=2000, started_at=now
    )
    done = Report.objects.create(kind="local", status="completed", rows_done=3, size=2048)
    done.file.save("x.csv", io.BytesIO(b"a\n1\n2\n3\n"), save=True)
    failed = Report.objects.create(kind="telnyx", status="failed", error="Telnyx said no.")
    response = reviewer_client.get(reverse("portouts:reports"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Waiting for a worker" in text
    assert '<progress class="progress" max="100" value="25"' in text
    assert "500 of 2,000 rows" in text
    assert reverse("portouts:report_download", args=[done.pk]) in text
    assert "2.0\xa0KB" in text
    assert "Telnyx said no." in text
    assert reverse("portouts:report_retry", args=[failed.pk]) in text
    assert 'hx-trigger="every 2s"' in text


def test_polling_stops_with_286_once_nothing_is_running(reviewer_client):
    report = Report.objects.create(kind="local", status="running", rows_done=1, rows_total=4)
    polled = reviewer_client.get(reverse("portouts:reports"), headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert b"hx-trigger" in polled.content
    assert b"<html" not in polled.content  # only the list fragment

    Report.objects.filter(pk=report.pk).update(status="failed", error="boom")
    polled = reviewer_client.get(reverse("portouts:reports"), headers={"HX-Request": "true"})
    assert polled.status_code == 286
    assert b"hx-trigger" not in polled.content
    assert b"boom" in polled.content


def test_viewer_sees_reports_but_may_not_request_or_retry(viewer_client):
    failed = Report.objects.create(kind="local", status="failed", error="x")
    page = viewer_client.get(reverse("portouts:reports"))
    assert page.status_code == 200
    assert reverse("portouts:report_retry", args=[failed.pk]).encode() not in page.content
    assert viewer_client.post(reverse("portouts:report_create"), {"query": ""}).status_code == 403
    assert viewer_client.post(reverse("portouts:telnyx_report_create"), {}).status_code == 403
    retry = viewer_client.post(reverse("portouts:report_retry", args=[failed.pk]))
    assert retry.status_code == 403
    assert Report.objects.count() == 1


def test_download_needs_sign_in_and_streams_the_file(client, viewer_client):
    report = Report.objects.create(kind="local", status="completed", rows_done=1)
    report.file.save("reports/r.csv", io.BytesIO(b"id\npo-1\n"), save=True)
    url = reverse("portouts:report_download", args=[report.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))

    response = viewer_client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == b"id\npo-1\n"
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]


def test_unfinished_or_missing_files_are_not_downloadable(viewer_client):
    running = Report.objects.create(kind="local", status="running")
    assert (
        viewer_client.get(reverse("portouts:report_download", args=[running.pk])).status_code == 404
    )
    gone = Report.objects.create(kind="local", status="completed", file="reports/missing.csv")
    assert viewer_client.get(reverse("portouts:report_download", args=[gone.pk])).status_code == 404


# -- expiry ---------------------------------------------------------------------------------


def test_expired_reports_and_their_files_are_deleted(settings):
    settings.REPORT_RETENTION_DAYS = 2
    old = Report.objects.create(
        kind="local", status="completed", expires_at=timezone.now() - timedelta(minutes=1)
    )
    old.file.save("reports/old.csv", io.BytesIO(b"x"), save=True)
    fresh = Report.objects.create(
        kind="local", status="completed", expires_at=timezone.now() + timedelta(days=1)
    )
    fresh.file.save("reports/fresh.csv", io.BytesIO(b"y"), save=True)
    old_name = old.file.name

    result = reports.reports_expire()
    assert result.expired == 1
    assert list(Report.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(old_name)
    assert default_storage.exists(fresh.file.name)


def test_retention_setting_sets_expiry(settings, reviewer):
    settings.REPORT_RETENTION_DAYS = 3
    report = reports.report_request_local(user=reviewer, query="")
    assert report.expires_at is not None
    assert abs(report.expires_at - (timezone.now() + timedelta(days=3))) < timedelta(seconds=5)


def test_beat_schedule_runs_report_tasks(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "portouts.tasks.poll_telnyx_reports_task" in tasks
    assert "portouts.tasks.expire_reports_task" in tasks
    from portal.celery import app

    app.loader.import_default_modules()
    assert {"portouts.tasks.poll_telnyx_reports_task", "portouts.tasks.expire_reports_task"} <= set(
        app.tasks
    )


# -- Telnyx reports (respx) -------------------------------------------------------------------


def telnyx_report_json(**overrides):
    data = {
        "id": "rep-1",
        "report_type": "export_portouts_csv",
        "status": "pending",
        "params": {"filters": {}},
        "document_id": None,
        "record_type": "portout_report",
        "created_at": "2025-03-01T12:00:00Z",
        "updated_at": "2025-03-01T12:00:00Z",
    }
    data.update(overrides)
    return data


def test_telnyx_report_is_requested_polled_and_downloaded(reviewer_client, telnyx_mock):
    created = telnyx_mock.post("/portouts/reports").respond(
        201, json={"data": telnyx_report_json()}
    )
    response = reviewer_client.post(
        reverse("portouts:telnyx_report_create"),
        {
            "statuses": ["pending", "authorized"],
            "created_after": "2025-01-01",
            "created_before": "2025-01-31",
            "phone_numbers": "+13125550100, +13125550101",
            "end_user_name": " Acme ",
            "customer_references": "ref-1, ref-2",
        },
        follow=True,
    )
    assert "Telnyx is building the report" in response.content.decode()
    import json

    sent = json.loads(created.calls.last.request.content)
    assert sent == {
        "report_type": "export_portouts_csv",
        "params": {
            "filters": {
                "status__in": ["pending", "authorized"],
                "created_at__gt": "2025-01-01T00:00:00Z",
                "created_at__lt": "2025-02-01T00:00:00Z",
                "phone_numbers__overlaps": ["+13125550100", "+13125550101"],
                "end_user_name": "Acme",
                "customer_reference__in": ["ref-1", "ref-2"],
            }
        },
    }
    report = Report.objects.get()
    assert (report.kind, report.status, report.telnyx_report_id) == ("telnyx", "running", "rep-1")

    status = telnyx_mock.get("/portouts/reports/rep-1")
    status.respond(200, json={"data": telnyx_report_json()})
    assert reports.telnyx_reports_poll().pending == 1
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING

    body = b"id,status\npo-1,pending\npo-2,authorized\n"
    status.respond(200, json={"data": telnyx_report_json(status="completed", document_id="doc-9")})
    telnyx_mock.get("/documents/doc-9/download").respond(
        200, content=body, headers={"Content-Type": "text/csv"}
    )
    assert reports.telnyx_reports_poll().completed == 1
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED
    assert report.telnyx_document_id == "doc-9"
    assert report.rows_done == 2
    assert report.size == len(body)
    download = reviewer_client.get(reverse("portouts:report_download", args=[report.pk]))
    assert b"".join(download.streaming_content) == body
    # Finished reports are not asked about again.
    assert reports.telnyx_reports_poll().checked == 0


@pytest.mark.parametrize(
    ("status", "errors", "expected"),
    [
        (
            422,
            [{"code": "10015", "detail": "end_user_name is too long"}],
            "end_user_name is too long",
        ),
        (500, [{"code": "10007", "title": "Unexpected error"}], "500"),
    ],
)
def test_telnyx_error_on_create_is_shown_plainly(
    reviewer_client, telnyx_mock, status, errors, expected
):
    telnyx_mock.post("/portouts/reports").respond(status, json={"errors": errors})
    response = reviewer_client.post(
        reverse("portouts:telnyx_report_create"), {"end_user_name": "x"}, follow=True
    )
    text = response.content.decode()
    report = Report.objects.get()
    assert report.status == Report.Status.FAILED
    assert report.error.startswith("Telnyx did not create the report:")
    assert expected in report.error
    assert expected in text
    assert "Traceback" not in text
    assert "KEY0123" not in report.error


def test_failed_telnyx_create_can_be_retried(reviewer_client, telnyx_mock):
    route = telnyx_mock.post("/portouts/reports")
    route.respond(500, json={"errors": [{"title": "Unexpected error"}]})
    reviewer_client.post(reverse("portouts:telnyx_report_create"), {})
    report = Report.objects.get()
    assert report.status == Report.Status.FAILED
    route.respond(201, json={"data": telnyx_report_json(id="rep-2")})
    reviewer_client.post(reverse("portouts:report_retry", args=[report.pk]))
    report.refresh_from_db()
    assert (report.status, report.telnyx_report_id, report.error) == ("running", "rep-2", "")


def test_invalid_telnyx_form_is_refused_before_calling_telnyx(reviewer_client, telnyx_mock):
    route = telnyx_mock.post("/portouts/reports")
    response = reviewer_client.post(
        reverse("portouts:telnyx_report_create"),
        {
            "phone_numbers": "555-0100",
            "created_after": "2025-02-01",
            "created_before": "2025-01-01",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Write complete numbers" in text and "555-0100" in text
    assert "This day is before “Created from” (2025-02-01)" in text
    assert not route.called
    assert not Report.objects.exists()


def test_telnyx_report_pending_too_long_is_failed(telnyx_mock, settings):
    settings.REPORT_TELNYX_TIMEOUT_MINUTES = 30
    telnyx_mock.get("/portouts/reports/rep-1").respond(200, json={"data": telnyx_report_json()})
    report = Report.objects.create(
        kind="telnyx", status="running", telnyx_report_id="rep-1", started_at=timezone.now()
    )
    assert reports.telnyx_reports_poll(now=timezone.now() + timedelta(minutes=29)).pending == 1
    assert reports.telnyx_reports_poll(now=timezone.now() + timedelta(minutes=31)).failed == 1
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert report.error == "Telnyx did not finish the report within 30 minutes."


def test_telnyx_download_error_fails_the_report_plainly(telnyx_mock):
    telnyx_mock.get("/portouts/reports/rep-1").respond(
        200, json={"data": telnyx_report_json(status="completed", document_id="doc-9")}
    )
    telnyx_mock.get("/documents/doc-9/download").respond(
        404, json={"errors": [{"code": "10005", "detail": "Document not found"}]}
    )
    report = Report.objects.create(
        kind="telnyx", status="running", telnyx_report_id="rep-1", started_at=timezone.now()
    )
    assert reports.telnyx_reports_poll().failed == 1
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert report.error.startswith("Downloading the report from Telnyx failed:")
    assert "Telnyx could not find this document (404)" in report.error  # one wording everywhere
    assert not report.file
    assert stored_report_files() == []


def test_transient_poll_error_keeps_the_report_pending(telnyx_mock):
    telnyx_mock.get("/portouts/reports/rep-1").mock(side_effect=httpx.ConnectError("refused"))
    report = Report.objects.create(
        kind="telnyx", status="running", telnyx_report_id="rep-1", started_at=timezone.now()
    )
    assert reports.telnyx_reports_poll().pending == 1
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING
    assert report.error.startswith("Last check failed:")


def test_telnyx_report_list_is_shown_live(viewer_client, telnyx_mock):
    telnyx_mock.get("/portouts/reports").respond(
        200,
        json=page_json(
            [telnyx_report_json(id="rep-77", status="completed", document_id="doc-77")],
            page=1,
            total_pages=1,
        ),
    )
    response = viewer_client.get(reverse("portouts:telnyx_reports"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "rep-77" in text and "completed" in text
    assert "Not requested here" in text  # no report of ours has that id
    # The page itself loads the list after rendering (it never waits for Telnyx).
    page = viewer_client.get(reverse("portouts:reports")).content.decode()
    assert reverse("portouts:telnyx_reports") in page


def test_telnyx_report_list_unreachable_gives_a_plain_message(viewer_client, telnyx_mock):
    telnyx_mock.get("/portouts/reports").mock(side_effect=httpx.ConnectError("refused"))
    response = viewer_client.get(reverse("portouts:telnyx_reports"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Telnyx&#x27;s report list is unavailable" in text
    assert "KEY0123" not in text


# -- end to end: a real Celery worker, the Telnyx sandbox ----------------------------------


@pytest.mark.worker
def test_real_worker_exports_the_filtered_list(
    restored_roles, celery_worker_process, make_portouts, reviewer_client
):
    make_portouts(250)
    query = "status_in=pending&status_in=authorized&carrier_name=acme&o=-created"
    response = reviewer_client.post(reverse("portouts:report_create"), {"query": query})
    assert response.status_code == 302
    report = Report.objects.get()

    celery_worker_process.wait_for(
        lambda: Report.objects.filter(pk=report.pk, status__in=["completed", "failed"]).exists()
    )
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED, report.error
    rows = read_csv(report)
    assert [row[0] for row in rows[1:]] == expected_ids(query)
    assert report.rows_done == len(rows) - 1 > 0

    download = reviewer_client.get(reverse("portouts:report_download", args=[report.pk]))
    with default_storage.open(report.file.name, "rb") as f:
        assert b"".join(download.streaming_content) == f.read()


@pytest.mark.worker
def test_telnyx_report_end_to_end_against_the_sandbox(
    restored_roles, sandbox_settings, celery_worker_process, reviewer_client
):
    """Create in Telnyx (sandbox) → the beat task polls on the worker → completed → the file
    stored equals the CSV the sandbox serves."""
    from portouts.tasks import poll_telnyx_reports_task

    sandbox = sandbox_settings
    sandbox.state.report_delay = 0.5
    response = reviewer_client.post(
        reverse("portouts:telnyx_report_create"), {"statuses": ["pending", "authorized"]}
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.Status.RUNNING, report.error
    remote = sandbox.state.reports[report.telnyx_report_id]
    assert remote.filters == {"status__in": ["pending", "authorized"]}

    def finished() -> bool:
        poll_telnyx_reports_task.delay()
        return Report.objects.filter(pk=report.pk, status__in=["completed", "failed"]).exists()

    celery_worker_process.wait_for(finished, timeout=30)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETED, report.error
    expected = sandbox.state.documents[report.telnyx_document_id].content
    with default_storage.open(report.file.name, "rb") as f:
        assert f.read() == expected
    assert report.rows_done == expected.count(b"\n") - 1
    assert report.size == len(expected)

    download = reviewer_client.get(reverse("portouts:report_download", args=[report.pk]))
    assert b"".join(download.streaming_content) == expected
    listing = reviewer_client.get(reverse("portouts:telnyx_reports")).content.decode()
    assert report.telnyx_report_id in listing


def test_telnyx_errors_from_the_sandbox_are_plain(sandbox_settings, reviewer_client, settings):
    settings.TELNYX_MAX_RETRIES = 0
    sandbox_settings.faults.queue("500")
    response = reviewer_client.post(
        reverse("portouts:telnyx_report_create"), {"end_user_name": "Acme"}, follow=True
    )
    report = Report.objects.get()
    assert report.status == Report.Status.FAILED
    assert "500" in report.error
    assert report.error in response.content.decode().replace("&#x27;", "'")


@pytest.mark.django_db
def test_cells_a_spreadsheet_would_run_as_formulas_are_exported_as_text(make_portouts):
    make_portouts(1)
    PortOut.objects.update(
        end_user_name='=HYPERLINK("http://evil.test","x")', pon="+1-800", reason="@SUM(A1)"
    )
    out = io.BytesIO()
    reports.write_csv(PortOut.objects.all(), out)
    header, row = list(csv.reader(io.StringIO(out.getvalue().decode())))
    cell = dict(zip(header, row, strict=True))
    assert cell["end_user_name"] == '\'=HYPERLINK("http://evil.test","x")'
    assert cell["pon"] == "'+1-800"
    assert cell["reason"] == "'@SUM(A1)"
    # Numbers Telnyx formats in E.164 keep their plus sign.
    assert cell["phone_numbers"].startswith("+")


@pytest.mark.django_db
def test_an_export_that_cannot_be_queued_fails_with_a_reason(
    reviewer, make_portouts, django_capture_on_commit_callbacks
):
    make_portouts(3)
    with (
        mock.patch(
            "portouts.tasks.export_report_task.delay", side_effect=ConnectionError("no broker")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = reports.report_request_local(user=reviewer, query="status=pending")
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "could not be queued" in report.error


@pytest.mark.django_db
def test_an_export_no_worker_ever_started_is_failed_by_housekeeping(reviewer, settings):
    settings.REPORT_STALE_MINUTES = 10
    report = Report.objects.create(kind=Report.Kind.LOCAL, requested_by=reviewer)
    Report.objects.filter(pk=report.pk).update(created_at=datetime.now(UTC) - timedelta(minutes=11))
    fresh = Report.objects.create(kind=Report.Kind.LOCAL, requested_by=reviewer)
    assert reports.reports_fail_stalled() == 1
    report.refresh_from_db()
    fresh.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "No worker started the export" in report.error
    assert fresh.status == Report.Status.QUEUED


@pytest.mark.django_db
def test_deleting_a_report_in_the_admin_deletes_its_file(admin_client_user, admin_user):
    report = Report.objects.create(
        kind=Report.Kind.LOCAL, status=Report.Status.COMPLETED, requested_by=admin_user
    )
    report.file.save("personal-data.csv", io.BytesIO(b"id\r\n1\r\n"))
    name = report.file.name
    assert default_storage.exists(name)
    response = admin_client_user.post(
        f"/admin/portouts/report/{report.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Report.objects.filter(pk=report.pk).exists()
    assert not default_storage.exists(name)
